// Typed failures of the engine: each carries an ErrorKind (the exit codes they map to are the front ends', shared/task/exit.ts).

import { z } from 'zod';

/** What kind of failure happened; decides retries, exit codes and wording. The one definition (results, exit codes). */
export const ErrorKind = z.enum(['bad_input', 'refused', 'timeout', 'locked', 'transient', 'failed']);
export type ErrorKind = z.infer<typeof ErrorKind>;

/** Base class: an expected failure with a user-facing one-line message. */
export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadInputError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_input', message, options);
  }
}

export class TimeoutError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options);
  }
}

/** Another run holds the cluster's Lease. */
export class LockedError extends EngineError {
  constructor(
    message: string,
    readonly holder: string,
    options?: { cause?: unknown },
  ) {
    super('locked', message, options);
  }
}

export class OperationFailedError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('failed', message, options);
  }
}

/** An error answered by the Kubernetes API (status code and reason, e.g. 403 Forbidden, 409 Conflict). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

/** An error answered by CrateDB's SQL endpoint (JSON error or plain-text 401). */
export class CrateSqlError extends Error {
  constructor(
    readonly httpStatus: number,
    /** CrateDB's error code (e.g. 4010), or null for a plain-text answer. */
    readonly code: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CrateSqlError';
  }
}

/** The SQL endpoint could not be reached or the connection dropped (refused, reset, timeout). */
export class SqlConnectionError extends Error {
  constructor(
    message: string,
    readonly timedOut = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SqlConnectionError';
  }
}

/**
 * A refusal (kind `refused`) and a transient failure (kind `transient`) are results, not thrown classes: a pre-flight
 * that says no returns its refusal with the failed checks, and a failure worth another try is retried where it
 * happens (shared/retry.ts) with one of the predicates below.
 */

/** The Kubernetes API refused a write because the object changed since it was read (409 Conflict). */
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 409;
}

/** Every failure: for best-effort clean-ups (restoring a setting the operation changed), which try their hardest. */
export function anyFailure(): boolean {
  return true;
}

export function errorKindOf(err: unknown): ErrorKind {
  if (err instanceof EngineError) return err.kind;
  return 'failed';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  // Not an Error but carrying one's text: e.g. the websocket ErrorEvent an exec handshake rejects with
  // ("Unexpected server response: 403"), whose message is a prototype getter.
  if (typeof err === 'object' && err !== null) {
    const { message, error } = err as { message?: unknown; error?: unknown };
    if (typeof message === 'string' && message !== '') return message;
    if (error instanceof Error) return error.message;
  }
  return String(err);
}
