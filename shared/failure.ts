// An error turned into a result's failure (message and error kind); programming errors are rethrown.
import { EngineError, KubeApiError, errorKindOf, messageOf, type ErrorKind } from './errors.js';

/** Programming errors are bugs and must surface; everything else becomes a result. */
export function isBug(err: unknown): boolean {
  return (
    err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError
  );
}

export interface Failure {
  error: string;
  errorKind: ErrorKind;
}

export function failureOf(err: unknown, signal?: AbortSignal): Failure {
  if (isBug(err)) throw err;
  if (err instanceof EngineError) return { error: err.message, errorKind: err.kind };
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof EngineError) return { error: reason.message, errorKind: reason.kind };
    return { error: `Operation aborted: ${messageOf(reason ?? err)}`, errorKind: 'failed' };
  }
  // Forbidden: the caller's RBAC lacks a verb; a retry cannot help (bad input, exit 2, the Job fails at once).
  if (err instanceof KubeApiError && err.statusCode === 403) {
    return {
      error: `Kubernetes API error: ${err.reason} (${err.message}); check the runner's RBAC (kubectl crate-decommission rbac install)`,
      errorKind: 'bad_input',
    };
  }
  if (err instanceof KubeApiError)
    return { error: `Kubernetes API error: ${err.reason} (${err.message})`, errorKind: 'failed' };
  return { error: messageOf(err), errorKind: errorKindOf(err) };
}
