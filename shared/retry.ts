// The engine's one retry loop: a counted number of tries, a predicate (from the error classification of
// shared/errors.ts) saying which failures are worth another try, and a hook between tries (a back-off, a re-read).

import type { EngineDeps } from './ports.js';

export interface RetryOptions {
  /** Tries in all, the first included (at least 1). */
  attempts: number;
  /** Whether this failure is worth another try (e.g. `isConflict`, or `anyFailure` for a best-effort cleanup). */
  retryable: (err: unknown) => boolean;
  /**
   * Runs after a failure that will be retried, before the next try (`attempt`: the 1-based try that failed): wait,
   * re-read what changed. An error it throws ends the retry with that error.
   */
  beforeRetry?: (err: unknown, attempt: number) => Promise<void>;
}

/**
 * Run `op` until it succeeds, it fails with an error that is not `retryable`, or `attempts` tries failed; the last
 * error is thrown as it is (the caller words it). `op` gets the 1-based number of its try.
 */
export async function retry<T>(op: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.attempts));
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (attempt >= attempts || !opts.retryable(err)) throw err;
      await opts.beforeRetry?.(err, attempt);
    }
  }
}

/** The pause between two tries of a clean-up step (restoring a setting or label the operation changed). */
export function cleanupPause(deps: Pick<EngineDeps, 'clock' | 'pollIntervalMs'>): Promise<void> {
  return deps.clock.delay(Math.max(100, deps.pollIntervalMs ?? 1000)).catch(() => {});
}
