// Exit codes of the plugin and the runner: the engine's error kinds, results and errors mapped to ExitCode in one place.
import { ZodError } from 'zod';
import { EngineError, ErrorKind, KubeApiError, messageOf } from '../errors.js';
import type { ResultView } from './outcome.js';

/** Exit codes shared by the plugin and the runner (documented in the README). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  refused: 3,
  timeout: 4,
  locked: 5,
  /** The plugin could not reach the Kubernetes API server (nothing was changed). */
  unreachable: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(kind: ErrorKind | null | undefined): ExitCodeValue {
  switch (kind) {
    case null:
    case undefined:
      return ExitCode.ok;
    case 'bad_input':
      return ExitCode.badInput;
    case 'refused':
      return ExitCode.refused;
    case 'timeout':
      return ExitCode.timeout;
    case 'locked':
      return ExitCode.locked;
    case 'transient':
    case 'failed':
      return ExitCode.failed;
  }
}

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

/** Exit code of a finished Task's outcome, by its kind (a live TaskResult, or a ResultView read from the wire). */
export function exitCodeForResult(outcome: ResultView): ExitCodeValue {
  const r = outcome.result;
  switch (outcome.kind) {
    case 'rollout':
    case 'restart':
    case 'decommission':
    case 'failed':
      if (r.success === true) return ExitCode.ok;
      return exitCodeFor(asErrorKind(r.errorKind) ?? 'failed');
    // A health check: an unhealthy cluster is what a pre-flight refuses.
    case 'health':
      if (r.healthy === true) return ExitCode.ok;
      return r.error && !Array.isArray(r.failedChecks) ? ExitCode.failed : ExitCode.refused;
    // A plan: read-only, a plan that could be built is a success.
    case 'plan':
      return ExitCode.ok;
  }
}

function asErrorKind(v: unknown): ErrorKind | null {
  const kind = ErrorKind.safeParse(v);
  return kind.success ? kind.data : null;
}

/** Where the plugin talks to: named in "cannot reach" messages. */
export interface ApiServerTarget {
  server: string;
  context: string;
  cluster: string;
}

/** The Kubernetes API server could not be reached (refused, unknown host, TLS, no answer): exit 6. */
export class ClusterUnreachableError extends Error {
  constructor(
    readonly target: ApiServerTarget,
    readonly problem: string,
    readonly todo: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot reach the Kubernetes API server ${target.server} (context "${target.context}", cluster "${target.cluster}"): ${problem}. ${todo}`,
      options,
    );
    this.name = 'ClusterUnreachableError';
  }
}

const CONNECTION_CODES: Array<[RegExp, string, string]> = [
  [
    /ECONNREFUSED/,
    'connection refused',
    'Check that the cluster is running and that the server address and port are right',
  ],
  [/ENOTFOUND|EAI_AGAIN/, 'host not found', 'Check the server name in the kubeconfig, DNS and VPN'],
  [
    /EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL/,
    'network unreachable',
    'Check the network, VPN and firewall on the way to the server',
  ],
  [
    /ECONNRESET|UND_ERR_SOCKET|EPIPE/,
    'the connection was reset',
    'Check proxies or load balancers in front of the API server',
  ],
  [
    /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|EPROTO|ssl|certificate/i,
    'its TLS certificate is not trusted or the TLS handshake failed',
    "Check the cluster's certificate-authority in the kubeconfig (or, for a test cluster only, --insecure-skip-tls-verify)",
  ],
  [/bad port/, 'its port is one that fetch refuses to connect to', 'Check the port of the server in the kubeconfig'],
  [
    /Invalid URL|ERR_INVALID_URL|ERR_INVALID_ARG/,
    'the server address is not a valid URL',
    'Fix the server of that cluster in the kubeconfig (https://host:port)',
  ],
  [
    /TimeoutError|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|did not answer in time|timed out/i,
    'no answer in time',
    'Check that the server is reachable from here (kubectl cluster-info), or raise --request-timeout',
  ],
];

/** Is this a failure below HTTP (no answer from the API server at all)? */
export function isUnreachable(err: unknown): boolean {
  return (
    err instanceof ClusterUnreachableError ||
    (err instanceof KubeApiError &&
      err.statusCode === 0 &&
      (err.reason === 'ConnectionFailed' || err.reason === 'Timeout'))
  );
}

/** The user-facing error for a failure below HTTP: names the server and context, says what to check. */
export function unreachableError(err: unknown, target: ApiServerTarget): ClusterUnreachableError {
  if (err instanceof ClusterUnreachableError) return err;
  const text: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const x = e as { code?: unknown; name?: unknown; message?: unknown; reason?: unknown; cause?: unknown };
    text.push(String(x.code ?? ''), String(x.name ?? ''), String(x.reason ?? ''), String(x.message ?? ''));
    e = x.cause;
  }
  const all = text.join(' ');
  const hit = CONNECTION_CODES.find(([re]) => re.test(all));
  const [problem, todo] = hit
    ? [hit[1], hit[2]]
    : ['the connection failed', `Check the server and your network (kubectl --context ${target.context} cluster-info)`];
  return new ClusterUnreachableError(target, problem, todo, { cause: err });
}

/** Exit code of an error that ended a command. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof UsageError) return ExitCode.badInput;
  if (isUnreachable(err)) return ExitCode.unreachable;
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
  if (err.statusCode === 403)
    return `${err.message}. Ask for the permission or check --as/--context (kubectl auth can-i)`;
  return err.message;
}
