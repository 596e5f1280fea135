// SqlTransport over HTTP(S) with undici: POST /_sql to one CrateDB node, typed errors, one keep-alive Agent per transport.
import { Agent, type Dispatcher } from 'undici';
import { CrateSqlError, SqlConnectionError, messageOf } from '../errors.js';
import type { SqlResponse, SqlTransport } from '../ports.js';
import { interpretSqlAnswer } from './sql-answer.js';

export const DEFAULT_SQL_TIMEOUT_MS = 30_000;

/** A value known now, or resolved on first use (e.g. read from a Secret). */
type Lazy<T> = T | (() => Promise<T>);

export interface HttpSqlTransportOptions {
  /** Base URL of the node, e.g. "http://10.0.0.5:4200" (no path). */
  url: string;
  /** Basic-auth user; null/undefined sends no credentials (CrateDB trust then means `crate`). */
  username?: string | null;
  /** The user's password; null sends `user:` with an empty password. Never appears in messages. */
  password?: Lazy<string | null>;
  /** PEM CA bundle to verify the node's certificate against (https only). */
  ca?: Lazy<string | null>;
  /** Skip certificate verification entirely (explicit opt-in only). */
  insecureSkipTlsVerify?: boolean;
  /** Default per-request timeout (headers, body and overall), ms. */
  timeoutMs?: number;
  /** Injected dispatcher (tests: undici MockAgent). Default: a keep-alive Agent built on first use. */
  dispatcher?: Dispatcher;
}

/** Ways a request can fail below HTTP that mean "the node did not answer in time". */
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

export function createHttpSqlTransport(options: HttpSqlTransportOptions): SqlTransport {
  return new HttpSqlTransport(options);
}

class HttpSqlTransport implements SqlTransport {
  readonly description: string;
  private readonly origin: string;
  private readonly user: string;
  private dispatcher: Promise<Dispatcher> | null = null;

  constructor(private readonly options: HttpSqlTransportOptions) {
    const url = new URL(options.url);
    this.origin = url.origin;
    this.user = options.username ?? 'crate';
    this.description = `${this.origin} as ${options.username ?? 'crate (no credentials)'}`;
  }

  async query(
    stmt: string,
    args?: unknown[],
    opts?: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<SqlResponse> {
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
    const timeoutSignal = AbortSignal.timeout(timeoutMs);
    const signal = opts?.signal ? AbortSignal.any([opts.signal, timeoutSignal]) : timeoutSignal;
    opts?.signal?.throwIfAborted();

    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const authorization = await this.authorization();
    if (authorization) headers.authorization = authorization;
    const dispatcher = await this.getDispatcher();

    try {
      const response = await dispatcher.request({
        origin: this.origin,
        path: '/_sql',
        method: 'POST',
        headers,
        body: JSON.stringify(args === undefined ? { stmt } : { stmt, args }),
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = await response.body.text();
      return interpretSqlAnswer({ status: response.statusCode, body }, this.user);
    } catch (err) {
      if (err instanceof CrateSqlError) throw err;
      // The caller's own cancellation is not a connection problem: surface its reason unchanged.
      if (opts?.signal?.aborted) throw opts.signal.reason;
      throw connectionError(err, this.origin, timeoutMs, timeoutSignal.aborted);
    }
  }

  private async authorization(): Promise<string | null> {
    if (this.options.username == null) return null;
    const password = (await resolveLazy(this.options.password)) ?? '';
    return `Basic ${Buffer.from(`${this.options.username}:${password}`).toString('base64')}`;
  }

  private getDispatcher(): Promise<Dispatcher> {
    if (this.options.dispatcher) return Promise.resolve(this.options.dispatcher);
    this.dispatcher ??= this.buildAgent().catch((err: unknown) => {
      this.dispatcher = null; // let a later query retry (e.g. the CA Secret appears)
      throw err;
    });
    return this.dispatcher;
  }

  private async buildAgent(): Promise<Dispatcher> {
    const https = this.origin.startsWith('https:');
    const connect: Record<string, unknown> = {};
    if (https) {
      if (this.options.insecureSkipTlsVerify) {
        connect.rejectUnauthorized = false;
      } else {
        const ca = await resolveLazy(this.options.ca);
        if (ca) {
          connect.ca = ca;
          // Pods are reached by IP while their certificates name DNS names: verify the chain
          // against the given CA, not the host name.
          connect.checkServerIdentity = () => undefined;
        }
      }
    }
    return new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connect });
  }
}

async function resolveLazy<T>(value: Lazy<T> | undefined): Promise<T | undefined> {
  return typeof value === 'function' ? await (value as () => Promise<T>)() : value;
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function connectionError(err: unknown, where: string, timeoutMs: number, deadlinePassed: boolean): SqlConnectionError {
  const code = errorCode(err);
  const isTimeout =
    deadlinePassed ||
    (code !== undefined && TIMEOUT_CODES.has(code)) ||
    (err instanceof Error && err.name === 'TimeoutError');
  if (isTimeout) {
    return new SqlConnectionError(`CrateDB at ${where} did not answer within ${timeoutMs} ms`, true, { cause: err });
  }
  const detail = code && !messageOf(err).includes(code) ? `${code}: ${messageOf(err)}` : messageOf(err);
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') {
    return new SqlConnectionError(`connection to CrateDB at ${where} dropped (${detail})`, false, { cause: err });
  }
  if (code && /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|UNABLE_TO_VERIFY/.test(code)) {
    return new SqlConnectionError(
      `TLS verification of CrateDB at ${where} failed (${detail}): give the CA Secret, or skip verification explicitly`,
      false,
      { cause: err },
    );
  }
  return new SqlConnectionError(`cannot reach CrateDB at ${where} (${detail})`, false, { cause: err });
}
