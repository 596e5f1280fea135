// Exit codes of the plugin and the runner: results and errors mapped to ExitCode in one place.
import { ZodError } from 'zod';
import {
  EngineError,
  ExitCode,
  KubeApiError,
  exitCodeFor,
  messageOf,
  type ErrorKind,
  type ExitCodeValue,
} from '../shared/errors.js';

/** The process was interrupted: Ctrl-C detached from a Job (the Job goes on). */
export const EXIT_INTERRUPTED = 130;
/** The runner stopped on SIGTERM after resetting allocation and releasing the Lease (128 + 15). */
export const EXIT_TERMINATED = 143;

/**
 * Bad input found before touching a cluster (flags, names, files). Printed as ONE line:
 * `error: <what is wrong>. <what to do>` and exit 2.
 */
export class UsageError extends Error {
  constructor(
    readonly what: string,
    readonly todo: string = 'Run kubectl crate-decommission --help for usage',
  ) {
    super(`${stripDot(what)}. ${todo}`);
    this.name = 'UsageError';
  }
}

function stripDot(s: string): string {
  return s.trim().replace(/[.\s]+$/, '');
}

/** Exit code of a finished operation's result (DecommissionResult, PodRestartResult, RollingRestartResult, HealthCheckResult). */
export function exitCodeForResult(result: unknown): ExitCodeValue {
  if (result === null || typeof result !== 'object') return ExitCode.failed;
  const r = result as Record<string, unknown>;
  if (typeof r.success === 'boolean') {
    if (r.success) return ExitCode.ok;
    return exitCodeFor(asErrorKind(r.errorKind) ?? 'failed');
  }
  // A health check: an unhealthy cluster is what a pre-flight refuses.
  if (typeof r.healthy === 'boolean') {
    if (r.healthy) return ExitCode.ok;
    return r.error && !Array.isArray(r.failedChecks) ? ExitCode.failed : ExitCode.refused;
  }
  // A plan: read-only, a plan that could be built is a success.
  if (Array.isArray(r.order)) return ExitCode.ok;
  return ExitCode.failed;
}

function asErrorKind(v: unknown): ErrorKind | null {
  switch (v) {
    case 'bad_input':
    case 'refused':
    case 'timeout':
    case 'locked':
    case 'transient':
    case 'failed':
      return v;
    default:
      return null;
  }
}

/** Exit code of an error that ended a command. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.badInput;
  if (err instanceof ZodError) return ExitCode.badInput;
  if (err instanceof EngineError) return exitCodeFor(err.kind);
  return ExitCode.failed;
}

/** The one line printed for an error: `error: ...`, never a stack trace. */
export function errorLine(err: unknown): string {
  let text: string;
  if (err instanceof UsageError) text = err.message;
  else if (err instanceof ZodError) text = zodLine(err);
  else if (err instanceof KubeApiError) text = kubeLine(err);
  else text = messageOf(err);
  const oneLine = text.replace(/\s*\n\s*/g, ' ').trim();
  return `error: ${oneLine}`;
}

function zodLine(err: ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid input. Run kubectl crate-decommission --help for usage';
  const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}. Run kubectl crate-decommission --help for usage`;
}

function kubeLine(err: KubeApiError): string {
  if (err.statusCode === 401) return `${err.message}. Check your kubeconfig credentials (kubectl auth whoami)`;
  if (err.statusCode === 403) return `${err.message}. Ask for the permission or check --as/--context (kubectl auth can-i)`;
  return err.message;
}
