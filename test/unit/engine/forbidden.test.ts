// A Forbidden answer of the API server is bad input (exit 2): the caller's RBAC lacks a verb and a retry of the
// runner Job cannot help, so its podFailurePolicy fails the Job at once. Other API errors stay `failed`.
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../shared/errors.js';
import { ExitCode, exitCodeFor } from '../../../shared/task/exit.js';
import { failureOf } from '../../../shared/failure.js';

describe('failureOf(KubeApiError)', () => {
  it('403 Forbidden -> bad_input with a hint at the runner RBAC', () => {
    const f = failureOf(
      new KubeApiError(403, 'Forbidden', 'patch statefulset crate/x: forbidden (HTTP 403 Forbidden)'),
    );
    expect(f.errorKind).toBe('bad_input');
    expect(exitCodeFor(f.errorKind)).toBe(ExitCode.badInput);
    expect(f.error).toMatch(/Forbidden .*check the runner's RBAC \(kubectl crate-decommission rbac install\)/);
  });

  it('other API errors stay failed (retriable)', () => {
    expect(failureOf(new KubeApiError(500, 'InternalError', 'x')).errorKind).toBe('failed');
    expect(failureOf(new KubeApiError(0, 'ConnectionFailed', 'x')).errorKind).toBe('failed');
  });
});
