// shared/retry.ts: the engine's one retry loop (the Lease's conflict retries, the clean-ups' best-effort tries).
import { describe, expect, it } from 'vitest';
import { KubeApiError, anyFailure, isConflict } from '../../../shared/errors.js';
import { retry } from '../../../shared/retry.js';

const conflict = () => new KubeApiError(409, 'Conflict', 'the object has been modified');

describe('retry', () => {
  it('returns the first success and tries no more', async () => {
    const tries: number[] = [];
    const r = await retry(
      async (n) => {
        tries.push(n);
        if (n < 2) throw conflict();
        return 'done';
      },
      { attempts: 5, retryable: isConflict },
    );
    expect(r).toBe('done');
    expect(tries).toEqual([1, 2]);
  });

  it('gives up after `attempts` tries with the last error, running beforeRetry between tries only', async () => {
    const between: number[] = [];
    let n = 0;
    const err = await retry(
      async () => {
        n += 1;
        throw new Error(`try ${n}`);
      },
      {
        attempts: 3,
        retryable: anyFailure,
        beforeRetry: async (_e, attempt) => {
          between.push(attempt);
        },
      },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('try 3');
    expect(between).toEqual([1, 2]);
  });

  it('stops at once on a failure that is not retryable', async () => {
    let n = 0;
    const forbidden = new KubeApiError(403, 'Forbidden', 'leases is forbidden');
    await expect(
      retry(
        async () => {
          n += 1;
          throw forbidden;
        },
        { attempts: 3, retryable: isConflict },
      ),
    ).rejects.toBe(forbidden);
    expect(n).toBe(1);
  });

  it('ends with the error beforeRetry throws (e.g. the Lease was lost while re-reading it)', async () => {
    let n = 0;
    const lost = new Error('lost the lock');
    await expect(
      retry(
        async () => {
          n += 1;
          throw conflict();
        },
        {
          attempts: 3,
          retryable: isConflict,
          beforeRetry: async () => {
            throw lost;
          },
        },
      ),
    ).rejects.toBe(lost);
    expect(n).toBe(1);
  });

  it('tries at least once', async () => {
    let n = 0;
    await expect(
      retry(
        async () => {
          n += 1;
          throw conflict();
        },
        { attempts: 0, retryable: isConflict },
      ),
    ).rejects.toBeInstanceOf(KubeApiError);
    expect(n).toBe(1);
  });
});

describe('error classification', () => {
  it('isConflict is a 409 from the Kubernetes API, nothing else', () => {
    expect(isConflict(conflict())).toBe(true);
    expect(isConflict(new KubeApiError(404, 'NotFound', 'x'))).toBe(false);
    expect(isConflict(new Error('409'))).toBe(false);
  });
});
