// A discrete-event clock for benchmarks: engine time jumps to the next pending delay as soon as the
// process has nothing else to do (no pending setImmediate, microtasks drained), so a run costs only
// the CPU the engine and the fakes spend, never a timer's wall time. The fakes deliver watch events
// with setImmediate; the shim below counts pending immediates to know when the process is idle.
import type { TestClock } from './fakes/clock.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  cancelled: boolean;
}

const realSetImmediate = globalThis.setImmediate;
let pendingImmediates = 0;
let shimInstalled = false;

/** Count pending setImmediate callbacks (install once, before any fake is created). */
export function installImmediateCounter(): void {
  if (shimInstalled) return;
  shimInstalled = true;
  const counted = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
    pendingImmediates += 1;
    return realSetImmediate(() => {
      pendingImmediates -= 1;
      fn(...args);
    });
  }) as unknown as typeof setImmediate;
  globalThis.setImmediate = Object.assign(counted, {
    __promisify__: (setImmediate as unknown as { __promisify__: unknown }).__promisify__,
  }) as typeof setImmediate;
}

const turn = () => new Promise<void>((r) => realSetImmediate(r));

/** True once no other setImmediate callback is pending (all watch deliveries and their microtasks ran). */
async function idle(): Promise<void> {
  for (;;) {
    await turn();
    if (pendingImmediates === 0) return;
  }
}

export class VirtualClock implements TestClock {
  /** Not a real-time scale: engine time only moves when the process is idle. */
  readonly factor = Number.POSITIVE_INFINITY;
  private t: number;
  private seq = 0;
  private heap: Timer[] = [];
  /** Delays fired so far (each one is a point where the engine or a fake waited for time). */
  fired = 0;
  private pumping = false;
  private stopPump = false;
  /** Called every `sampleEvery` fired timers (heap sampling). */
  onTick?: () => void;
  sampleEvery = 25;

  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  delay(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: ++this.seq,
        cancelled: false,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        timer.cancelled = true;
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.push(timer);
    });
  }

  /** Pending (not cancelled) delays. */
  pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /**
   * Drive engine time until `work` settles: whenever the process is idle, fire the earliest delay.
   * With no delay pending the pump waits 1 ms of real time (something outside this clock is due).
   */
  async run<T>(work: Promise<T>): Promise<T> {
    if (this.pumping) throw new Error('VirtualClock.run is not re-entrant');
    this.pumping = true;
    this.stopPump = false;
    let settled = false;
    const done = work.finally(() => {
      settled = true;
    });
    done.catch(() => {});
    try {
      while (!settled && !this.stopPump) {
        await idle();
        if (settled) break;
        const next = this.pop();
        if (!next) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        if (next.at > this.t) this.t = next.at;
        this.fired += 1;
        if (this.onTick && this.fired % this.sampleEvery === 0) this.onTick();
        next.resolve();
      }
    } finally {
      this.pumping = false;
    }
    return done;
  }

  private push(timer: Timer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p]!, h[i]!)) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    while (h.length) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && less(h[l]!, h[m]!)) m = l;
          if (r < h.length && less(h[r]!, h[m]!)) m = r;
          if (m === i) break;
          [h[m], h[i]] = [h[i]!, h[m]!];
          i = m;
        }
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }
}

function less(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
