// A scaled clock for tests: engine time runs `factor` times faster than real time, so a
// 720 s graceful-stop timeout takes 720 ms at factor 1000. `advance` jumps engine time.
import type { Clock } from '../../../shared/ports.js';

export interface TestClock extends Clock {
  /** Engine milliseconds per real millisecond. */
  readonly factor: number;
  /** Move engine time forward without waiting (pending delays are not shortened). */
  advance(ms: number): void;
}

export function scaledClock(factor = 1000, start = Date.parse('2026-01-01T00:00:00Z')): TestClock {
  const realStart = performance.now();
  let skew = 0;
  const now = () => start + Math.round((performance.now() - realStart) * factor) + skew;
  return {
    factor,
    now,
    advance(ms: number) {
      skew += ms;
    },
    delay(ms: number, signal?: AbortSignal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        // Resolve only once engine time really advanced by `ms` (timers may fire a bit early).
        const target = now() + ms;
        let timer: ReturnType<typeof setTimeout>;
        const arm = () => {
          const left = target - now();
          if (left <= 0) {
            signal?.removeEventListener('abort', onAbort);
            resolve();
            return;
          }
          timer = setTimeout(arm, Math.max(0, left / factor));
        };
        timer = setTimeout(arm, Math.max(0, ms / factor));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
