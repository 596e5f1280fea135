// SqlTransport that execs curl in the CrateDB container and POSTs to its localhost as `crate` (the only way to DECOMMISSION
// under crate-operator's host-based auth). The request body travels on stdin, so SQL never appears in argv.
import { KubeApiError, SqlConnectionError, messageOf } from '../errors.js';
import type { KubernetesPort, SqlResponse, SqlTransport } from '../ports.js';
import { interpretSqlAnswer } from './sql-answer.js';
import { DEFAULT_SQL_TIMEOUT_MS } from './sql-http.js';

export interface ExecSqlTransportOptions {
  kube: KubernetesPort;
  namespace: string;
  pod: string;
  /** The CrateDB container (never assume index 0: crate-operator puts a sidecar first). */
  container: string;
  scheme?: 'http' | 'https';
  port?: number;
  /** Default per-query timeout, ms (curl --max-time; the exec gets a margin on top). */
  timeoutMs?: number;
}

/** Extra time the exec itself gets beyond curl's own deadline (websocket set-up, process start). */
const EXEC_MARGIN_MS = 15_000;

export function createExecSqlTransport(options: ExecSqlTransportOptions): SqlTransport {
  return new ExecSqlTransport(options);
}

/** The parts of the curl command line that differ between its callers (values, or the session loop's shell words). */
export interface CurlCommandParts {
  /** --max-time, in seconds. */
  maxTimeSeconds: string;
  /** -w: what curl prints after the body (the HTTP status, for the caller to split off). */
  writeOut: string;
  /** `['-k']` for HTTPS (CrateDB's certificate is self-signed), `[]` for HTTP. */
  insecure: string[];
  url: string;
}

/**
 * The curl command line of both exec transports (one exec per statement here, the shell loop of
 * sql-exec-session.ts); the JSON body is read from stdin (`--data-binary @-`).
 */
export function curlCommand(parts: CurlCommandParts): string[] {
  return [
    'curl',
    '-sS',
    '--max-time',
    parts.maxTimeSeconds,
    '-X',
    'POST',
    '-H',
    'Content-Type: application/json',
    '-H',
    'Accept: application/json',
    '--data-binary',
    '@-',
    '-w',
    parts.writeOut,
    ...parts.insecure,
    parts.url,
  ];
}

class ExecSqlTransport implements SqlTransport {
  readonly description: string;
  private readonly url: string;
  private readonly where: string;

  constructor(private readonly options: ExecSqlTransportOptions) {
    const scheme = options.scheme ?? 'http';
    this.url = `${scheme}://localhost:${options.port ?? 4200}/_sql`;
    this.where = `pod ${options.namespace}/${options.pod} (container ${options.container})`;
    this.description = `exec ${options.namespace}/${options.pod}:${options.container} ${scheme}://localhost:${options.port ?? 4200} as crate`;
  }

  async query(
    stmt: string,
    args?: unknown[],
    opts?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<SqlResponse> {
    opts?.signal?.throwIfAborted();
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
    const maxTimeSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    const command = curlCommand({
      maxTimeSeconds: String(maxTimeSeconds),
      writeOut: '\n%{http_code}',
      insecure: this.url.startsWith('https:') ? ['-k'] : [],
      url: this.url,
    });
    const stdin = JSON.stringify(args === undefined ? { stmt } : { stmt, args });

    const run = this.options.kube
      .exec(this.options.namespace, this.options.pod, this.options.container, command, {
        stdin,
        timeoutMs: maxTimeSeconds * 1000 + EXEC_MARGIN_MS,
      })
      .catch((err: unknown) => {
        const timedOut = err instanceof KubeApiError && err.reason === 'Timeout';
        throw new SqlConnectionError(`cannot run curl in ${this.where}: ${messageOf(err)}`, timedOut, { cause: err });
      });
    const result = await abortable(run, opts?.signal);
    return this.interpret(result.exitCode, result.stdout, result.stderr, maxTimeSeconds);
  }

  private interpret(exitCode: number, stdout: string, stderr: string, maxTimeSeconds: number): SqlResponse {
    if (exitCode !== 0) throw curlFailure(exitCode, stderr, this.url, this.where, maxTimeSeconds);
    const cut = stdout.lastIndexOf('\n');
    const status = Number.parseInt(stdout.slice(cut + 1).trim(), 10);
    if (cut < 0 || !Number.isFinite(status) || status === 0) {
      throw new SqlConnectionError(
        `unexpected curl output from ${this.where}: ${JSON.stringify(stdout.slice(-200))}`,
        false,
      );
    }
    return interpretSqlAnswer({ status, body: stdout.slice(0, cut) }, 'crate');
  }
}

/** The SqlConnectionError for curl's non-zero exit code (shared with the exec session, sql-exec-session.ts). */
export function curlFailure(
  exitCode: number,
  stderr: string,
  url: string,
  where: string,
  maxTimeSeconds: number,
): SqlConnectionError {
  const curlSays = stderr.trim() || `curl exit code ${exitCode}`;
  const at = `CrateDB at ${url.replace('/_sql', '')} in ${where}`;
  switch (exitCode) {
    case 7:
      return new SqlConnectionError(`cannot reach ${at} (${curlSays})`, false);
    case 28:
      return new SqlConnectionError(`${at} did not answer within ${maxTimeSeconds} s (${curlSays})`, true);
    case 52:
    case 55:
    case 56:
      return new SqlConnectionError(`connection to ${at} dropped (${curlSays})`, false);
    case 126:
    case 127:
      return new SqlConnectionError(`curl is not available in ${where} (${curlSays})`, false);
    default:
      return new SqlConnectionError(`curl failed talking to ${at} (exit code ${exitCode}: ${curlSays})`, false);
  }
}

/** Settle with the caller's abort reason as soon as the signal fires (the exec finishes by its own deadline). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
