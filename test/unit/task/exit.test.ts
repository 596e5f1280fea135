// Exit codes in one place: results and errors -> ExitCode; the one-line error text.
import { describe, expect, it } from 'vitest';
import { ZodError, z } from 'zod';
import {
  EXIT_INTERRUPTED,
  EXIT_TERMINATED,
  UsageError,
  errorLine,
  exitCodeForError,
  exitCodeForResult,
  ExitCode,
} from '../../../shared/task/exit.js';
import type { ResultView } from '../../../shared/task/outcome.js';
import {
  BadInputError,
  KubeApiError,
  LockedError,
  OperationFailedError,
  RefusedError,
  TimeoutError,
  TransientError,
} from '../../../shared/errors.js';

describe('exitCodeForResult', () => {
  it.each([
    ['success', { kind: 'rollout', result: { success: true } }, 0],
    ['failed without kind', { kind: 'restart', result: { success: false, error: 'x' } }, 1],
    ['failed', { kind: 'decommission', result: { success: false, errorKind: 'failed' } }, 1],
    ['transient', { kind: 'rollout', result: { success: false, errorKind: 'transient' } }, 1],
    ['bad input', { kind: 'failed', result: { success: false, errorKind: 'bad_input' } }, 2],
    ['refused', { kind: 'restart', result: { success: false, errorKind: 'refused' } }, 3],
    ['timeout', { kind: 'rollout', result: { success: false, errorKind: 'timeout' } }, 4],
    ['locked', { kind: 'failed', result: { success: false, errorKind: 'locked' } }, 5],
    ['unknown kind', { kind: 'failed', result: { success: false, errorKind: 'weird' } }, 1],
    ['healthy', { kind: 'health', result: { healthy: true, failedChecks: [] } }, 0],
    ['unhealthy', { kind: 'health', result: { healthy: false, failedChecks: ['all_tables_green'] } }, 3],
    ['plan', { kind: 'plan', result: { order: [], cluster: 'c' } }, 0],
    ['nothing', { kind: 'failed', result: {} }, 1],
    ['garbage', { kind: 'rollout', result: { success: 'x' } }, 1],
    ['a health reading that failed', { kind: 'health', result: { healthy: false, error: 'no answer' } }, 1],
  ] as Array<[string, ResultView, number]>)('%s -> %i', (_n, outcome, code) => {
    expect(exitCodeForResult(outcome)).toBe(code);
  });
});

describe('exitCodeForError', () => {
  it.each([
    ['usage', new UsageError('bad', 'fix it'), 2],
    [
      'zod',
      (() => {
        try {
          z.string().parse(1);
        } catch (e) {
          return e;
        }
      })() as ZodError,
      2,
    ],
    ['bad input', new BadInputError('x'), 2],
    ['refused', new RefusedError('x', ['c']), 3],
    ['timeout', new TimeoutError('x'), 4],
    ['locked', new LockedError('x', 'someone'), 5],
    ['transient', new TransientError('x'), 1],
    ['failed', new OperationFailedError('x'), 1],
    ['kube 403', new KubeApiError(403, 'Forbidden', 'create jobs: forbidden'), 1],
    ['bug', new TypeError('undefined is not a function'), 1],
  ])('%s -> %i', (_n, err, code) => {
    expect(exitCodeForError(err)).toBe(code);
  });

  it('the documented codes', () => {
    expect(ExitCode).toEqual({ ok: 0, failed: 1, badInput: 2, refused: 3, timeout: 4, locked: 5, unreachable: 6 });
    expect(EXIT_INTERRUPTED).toBe(130);
    expect(EXIT_TERMINATED).toBe(143);
  });
});

describe('errorLine', () => {
  it('is one line starting with error:', () => {
    expect(errorLine(new UsageError('invalid thing "x".', 'Do this'))).toBe('error: invalid thing "x". Do this');
    expect(errorLine(new Error('two\n  lines'))).toBe('error: two lines');
  });
  it('adds what to do for 401/403', () => {
    expect(errorLine(new KubeApiError(403, 'Forbidden', 'create jobs.batch: forbidden'))).toMatch(
      /^error: create jobs.batch: forbidden\. Ask for the permission/,
    );
  });
});

describe('cannot reach the cluster (exit 6)', () => {
  it('a failure below HTTP is exit 6; an HTTP answer is not', async () => {
    const { ClusterUnreachableError, isUnreachable, unreachableError } = await import('../../../shared/task/exit.js');
    const target = { server: 'https://10.0.0.1:6443', context: 'prod', cluster: 'prod-cluster' };
    const refused = new KubeApiError(0, 'ConnectionFailed', 'list Job: fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(isUnreachable(refused)).toBe(true);
    expect(exitCodeForError(refused)).toBe(6);
    const e = unreachableError(refused, target);
    expect(e).toBeInstanceOf(ClusterUnreachableError);
    expect(errorLine(e)).toBe(
      'error: cannot reach the Kubernetes API server https://10.0.0.1:6443 (context "prod", cluster "prod-cluster"): connection refused. Check that the cluster is running and that the server address and port are right',
    );
    expect(exitCodeForError(e)).toBe(6);
    expect(
      unreachableError(
        new KubeApiError(0, 'ConnectionFailed', 'x', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND api.example'), { code: 'ENOTFOUND' }),
        }),
        target,
      ).problem,
    ).toBe('host not found');
    expect(
      unreachableError(new KubeApiError(0, 'ConnectionFailed', 'x: unable to verify the first certificate'), target)
        .problem,
    ).toMatch(/TLS certificate/);
    expect(
      unreachableError(new KubeApiError(0, 'Timeout', 'x: the Kubernetes API did not answer in time'), target).problem,
    ).toBe('no answer in time');
    expect(isUnreachable(new KubeApiError(403, 'Forbidden', 'no'))).toBe(false);
    expect(exitCodeForError(new KubeApiError(500, 'InternalError', 'boom'))).toBe(1);
  });
});
