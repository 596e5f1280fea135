// A discrete-event clock for benchmarks and unit tests: engine time jumps to the next pending delay as soon as the
// process has nothing else to do (no pending setImmediate, microtasks drained), so a run costs only
// the CPU the engine and the fakes spend, never a timer's wall time, and a loaded machine cannot turn a scheduling
// stall into engine time. The fakes deliver watch events with setImmediate; the shim below counts pending immediates
// to know when the process is idle. Two ways to drive it: `run(work)` (the bench, the crash series) moves time only
// while `work` is pending; `{ autoAdvance: true }` (the World's default) moves it whenever the process is idle and a
// delay is pending, so a test needs no wrapper, and `until(cond)` resolves at the first idle point where cond holds,
// before any later delay fires.
import type { TestClock } from './fakes/clock.js';

interface Waiter {
  cond: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  deadline: number;
}

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

  /** Auto mode: time moves whenever the process is idle, without run(). */
  get autoAdvances(): boolean {
    return this.autoAdvance;
  }
  private readonly autoAdvance: boolean;
  private autoPumping = false;
  private stopped = false;
  private waiters = new Set<Waiter>();

  constructor(start = Date.parse('2026-01-01T00:00:00Z'), options: { autoAdvance?: boolean } = {}) {
    this.t = start;
    this.autoAdvance = options.autoAdvance ?? false;
    if (this.autoAdvance) installImmediateCounter();
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
      this.kick();
    });
  }

  /**
   * Resolve once cond() holds at an idle point of the process (checked before each delay fires, so no engine time
   * passes between cond turning true and the caller going on); reject after `realMs` of real time.
   */
  until(cond: () => boolean, realMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { cond, resolve, reject, deadline: performance.now() + realMs };
      this.waiters.add(waiter);
      // Without a pending delay the pump sleeps: something outside this clock must make cond true; poll for it.
      const poll = () => {
        if (!this.waiters.has(waiter)) return;
        if (this.settleWaiter(waiter)) return;
        setTimeout(poll, 1);
      };
      setTimeout(poll, 1);
      this.kick();
    });
  }

  /** Stop for good (the world is closed): no delay fires any more, pending ones never resolve. */
  stop(): void {
    this.stopped = true;
    this.heap = [];
    for (const w of this.waiters) w.reject(new Error('VirtualClock stopped'));
    this.waiters.clear();
  }

  /** Resolve (cond holds) or reject (real deadline passed) one waiter; true if it is settled. */
  private settleWaiter(w: Waiter): boolean {
    if (w.cond()) {
      this.waiters.delete(w);
      w.resolve();
      return true;
    }
    if (performance.now() > w.deadline) {
      this.waiters.delete(w);
      w.reject(new Error('VirtualClock.until timed out'));
      return true;
    }
    return false;
  }

  /** Auto mode: start the background pump if a delay is pending and it is not running. */
  private kick(): void {
    if (!this.autoAdvance || this.autoPumping || this.stopped || this.heap.length === 0) return;
    this.autoPumping = true;
    void this.pump().finally(() => {
      this.autoPumping = false;
      // a delay pushed while the pump was winding down
      this.kick();
    });
  }

  private async pump(): Promise<void> {
    for (;;) {
      await idle();
      if (this.stopped) return;
      let settled = false;
      for (const w of [...this.waiters]) if (this.settleWaiter(w)) settled = true;
      // A waiter went on: let it act (it may change the world) before time moves.
      if (settled) continue;
      const next = this.pop();
      if (!next) return;
      if (next.at > this.t) this.t = next.at;
      this.fired += 1;
      if (this.onTick && this.fired % this.sampleEvery === 0) this.onTick();
      next.resolve();
    }
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
    if (this.autoAdvance) return work;
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
