// SqlTransport over ONE long-lived exec per pod (issue 9): a `sh` loop in the CrateDB container reads
// `<max-time> <json body>` lines from stdin and runs curl per line against localhost as `crate`; each answer is framed
// on stdout with a random per-session boundary token. Statements are sent one at a time. SQL travels on stdin only
// (never in argv, never logged). When the session cannot start because the container has no `sh`, the transport
// falls back to one exec per statement (shared/adapters/sql-exec.ts).
import { randomBytes } from 'node:crypto';
import { KubeApiError, SqlConnectionError, messageOf } from '../errors.js';
import type { ExecStream, KubernetesPort, SqlResponse, SqlTransport } from '../ports.js';
import { interpretSqlAnswer } from './sql-answer.js';
import { type ExecSqlTransportOptions, createExecSqlTransport, curlCommand, curlFailure } from './sql-exec.js';
import { DEFAULT_SQL_TIMEOUT_MS } from './sql-http.js';

/** The words of the loop's curl that sh fills per line: max time `$t`, boundary `$b`, `-k` or empty `$k`, URL `$u`. */
const LOOP_CURL_PARTS = {
  maxTimeSeconds: '"$t"',
  writeOut: '"\\n$b %{http_code} %{size_download}\\n"',
  insecure: ['$k'],
  url: '"$u"',
};
/** The loop's curl command line: `curlCommand` (sql-exec.ts) with the shell's words. */
const SESSION_CURL = shellLine(curlCommand(LOOP_CURL_PARTS), [
  LOOP_CURL_PARTS.maxTimeSeconds,
  LOOP_CURL_PARTS.writeOut,
  ...LOOP_CURL_PARTS.insecure,
  LOOP_CURL_PARTS.url,
]);

/**
 * The session's shell loop. Arguments: $1 boundary, $2 URL, $3 "-k" or "". Per statement it prints curl's stdout
 * (the body, then `\n<b> <http_code> <size_download>\n` from -w), then `<b> err\n<curl's stderr>\n<b> end <exit>\n`.
 * The `ready` line says the shell runs (before it, no statement was sent).
 */
export const SESSION_SCRIPT = [
  'b=$1; u=$2; k=$3',
  'echo "$b ready"',
  'while read -r t body; do',
  `  { e=$(printf '%s' "$body" | ${SESSION_CURL} 2>&1 >&3); c=$?; } 3>&1`,
  '  printf \'%s err\\n%s\\n%s end %s\\n\' "$b" "$e" "$b" "$c"',
  'done',
].join('\n');

/** Words as one sh command line: `shellWords` as written, other words single-quoted where sh would read them apart. */
function shellLine(words: string[], shellWords: string[]): string {
  return words
    .map((w) => (shellWords.includes(w) || /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** Extra time a statement gets beyond curl's own deadline before the session is declared dead. */
const SESSION_MARGIN_MS = 15_000;
/** A session left idle this long is closed (the next statement opens a new one). */
const DEFAULT_SESSION_IDLE_MS = 60_000;
/** How long the shell may take to print `ready`. */
const START_TIMEOUT_MS = 30_000;

export interface ExecSessionSqlTransportOptions extends ExecSqlTransportOptions {
  idleMs?: number;
}

export interface ClosableSqlTransport extends SqlTransport {
  /** Close the session (idempotent); a statement in flight fails with SqlConnectionError. */
  close(): void;
}

export function createExecSessionSqlTransport(options: ExecSessionSqlTransportOptions): ClosableSqlTransport {
  return new ExecSessionSqlTransport(options);
}

interface Pending {
  resolve(text: string): void;
  reject(err: unknown): void;
}

/** One running shell loop. */
class Session {
  private buffer = '';
  private pending: Pending | null = null;
  private readyWaiter: Pending | null = null;
  private isReady = false;
  ended = false;
  endError: unknown = null;
  private readonly stream: ExecStream;
  private readonly endMarker: RegExp;

  constructor(
    kube: KubernetesPort,
    o: ExecSqlTransportOptions,
    readonly boundary: string,
    url: string,
  ) {
    this.endMarker = new RegExp(`${boundary} end (\\d+)\\n`);
    const command = ['sh', '-c', SESSION_SCRIPT, 'sh', boundary, url, url.startsWith('https:') ? '-k' : ''];
    this.stream = kube.openExec(o.namespace, o.pod, o.container, command, {
      stdout: (chunk) => this.onStdout(chunk),
      // The loop sends curl's stderr inside the stdout frame; the shell's own stderr is not needed.
      stderr: () => {},
    });
    this.stream.done.then(
      (code) => this.onEnd(new KubeApiError(0, 'SessionEnded', `the exec session exited with code ${code}`), code),
      (err: unknown) => this.onEnd(err, null),
    );
  }

  exitCode: number | null = null;

  get ready(): boolean {
    return this.isReady;
  }

  waitReady(): Promise<string> {
    if (this.isReady) return Promise.resolve('');
    if (this.ended) return Promise.reject(this.endError);
    return new Promise((resolve, reject) => (this.readyWaiter = { resolve, reject }));
  }

  /** Send one line; resolves with the statement's frame (everything before the end marker's line, and the exit). */
  send(line: string): Promise<string> {
    if (this.ended) return Promise.reject(this.endError);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.stream.write(line);
    });
  }

  close(): void {
    this.stream.close();
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    if (!this.isReady) {
      const ready = `${this.boundary} ready\n`;
      const at = this.buffer.indexOf(ready);
      if (at < 0) return;
      this.buffer = this.buffer.slice(at + ready.length);
      this.isReady = true;
      const w = this.readyWaiter;
      this.readyWaiter = null;
      w?.resolve('');
    }
    const m = this.endMarker.exec(this.buffer);
    if (!m || !this.pending) return;
    const frame = this.buffer.slice(0, m.index) + `${this.boundary} end ${m[1]}`;
    this.buffer = this.buffer.slice(m.index + m[0].length);
    const p = this.pending;
    this.pending = null;
    p.resolve(frame);
  }

  private onEnd(err: unknown, code: number | null): void {
    if (this.ended) return;
    this.ended = true;
    this.exitCode = code;
    this.endError = err;
    const waiters = [this.readyWaiter, this.pending];
    this.readyWaiter = null;
    this.pending = null;
    for (const w of waiters) w?.reject(err);
  }
}

class ExecSessionSqlTransport implements ClosableSqlTransport {
  private readonly sessionDescription: string;
  private readonly url: string;
  private readonly where: string;
  private session: Session | null = null;
  /** Statements run one at a time: each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private fallback: SqlTransport | null = null;
  private closed = false;

  constructor(private readonly options: ExecSessionSqlTransportOptions) {
    const scheme = options.scheme ?? 'http';
    this.url = `${scheme}://localhost:${options.port ?? 4200}/_sql`;
    this.where = `pod ${options.namespace}/${options.pod} (container ${options.container})`;
    this.sessionDescription = `exec session ${options.namespace}/${options.pod}:${options.container} ${scheme}://localhost:${options.port ?? 4200} as crate`;
  }

  /** Where and as whom; the per-statement exec's own once the transport fell back to it. */
  get description(): string {
    return this.fallback?.description ?? this.sessionDescription;
  }

  query(stmt: string, args?: unknown[], opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<SqlResponse> {
    const run = this.queue.then(() => this.run(stmt, args, opts));
    this.queue = run.catch(() => {});
    return run;
  }

  close(): void {
    this.closed = true;
    this.endSession();
  }

  private endSession(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const s = this.session;
    this.session = null;
    s?.close();
  }

  private async run(
    stmt: string,
    args: unknown[] | undefined,
    opts: { timeoutMs?: number; signal?: AbortSignal } | undefined,
  ): Promise<SqlResponse> {
    opts?.signal?.throwIfAborted();
    if (this.fallback) return this.fallback.query(stmt, args, opts);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const timeoutMs = opts?.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_SQL_TIMEOUT_MS;
    const maxTimeSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    try {
      const session = await this.guard(this.readySession(), opts?.signal, START_TIMEOUT_MS, 'did not start');
      if (session === 'fallback') return await this.fallback!.query(stmt, args, opts);
      const body = JSON.stringify(args === undefined ? { stmt } : { stmt, args });
      const frame = await this.guard(
        session.send(`${maxTimeSeconds} ${body}\n`),
        opts?.signal,
        maxTimeSeconds * 1000 + SESSION_MARGIN_MS,
        'did not answer',
      );
      return this.interpret(session, frame, maxTimeSeconds);
    } finally {
      if (this.session?.ended) this.session = null;
      if (this.session && !this.closed) this.armIdle();
    }
  }

  private armIdle(): void {
    this.idleTimer = setTimeout(() => this.endSession(), this.options.idleMs ?? DEFAULT_SESSION_IDLE_MS);
    this.idleTimer.unref?.();
  }

  /** The open session, or a new one once its shell runs; 'fallback' when the container has no `sh`. */
  private async readySession(): Promise<Session | 'fallback'> {
    if (this.session?.ended) this.session = null;
    if (!this.session) {
      this.closed = false;
      this.session = new Session(this.options.kube, this.options, randomBytes(16).toString('hex'), this.url);
    }
    const session = this.session;
    try {
      await session.waitReady();
      return session;
    } catch (err) {
      if (this.session === session) this.session = null;
      // The shell never ran, so no statement was sent: one exec per statement is safe (and the only way left).
      if (noShell(err, session.exitCode)) {
        this.fallback = createExecSqlTransport(this.options);
        return 'fallback';
      }
      throw new SqlConnectionError(`cannot start an exec session in ${this.where}: ${messageOf(err)}`, false, {
        cause: err,
      });
    }
  }

  /**
   * Settle with the caller's abort reason, or a timeout, whichever first; either ends the session (the statement's
   * outcome is unknown). A session that died answers SqlConnectionError.
   */
  private guard<T>(promise: Promise<T>, signal: AbortSignal | undefined, limitMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        this.endSession();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        cleanup();
        this.endSession();
        reject(new SqlConnectionError(`the exec session in ${this.where} ${what} within ${limitMs} ms`, true));
      }, limitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (err: unknown) => {
          cleanup();
          if (err instanceof SqlConnectionError) return reject(err);
          reject(
            new SqlConnectionError(
              `the exec session in ${this.where} ended during the statement (its outcome is unknown): ${messageOf(err)}`,
              false,
              { cause: err },
            ),
          );
        },
      );
    });
  }

  private interpret(session: Session, frame: string, maxTimeSeconds: number): SqlResponse {
    const b = session.boundary;
    const endAt = frame.lastIndexOf(`${b} end `);
    const exitCode = Number.parseInt(frame.slice(endAt + b.length + 5), 10);
    const errAt = frame.lastIndexOf(`${b} err\n`, endAt);
    if (endAt < 0 || errAt < 0 || !Number.isFinite(exitCode)) throw this.garbled(frame);
    const stderr = frame.slice(errAt + b.length + 5, endAt).replace(/\n$/, '');
    const stdout = frame.slice(0, errAt);
    if (exitCode !== 0) throw curlFailure(exitCode, stderr, this.url, this.where, maxTimeSeconds);
    const m = new RegExp(`\\n${b} (\\d{3}) (\\d+)\\n$`).exec(stdout);
    if (!m) throw this.garbled(frame);
    const status = Number(m[1]);
    const body = stdout.slice(0, m.index);
    if (status === 0 || Buffer.byteLength(body, 'utf8') !== Number(m[2])) throw this.garbled(frame);
    return interpretSqlAnswer({ status, body }, 'crate');
  }

  private garbled(frame: string): SqlConnectionError {
    // Only the frame's length: the answer may echo parts of the statement.
    return new SqlConnectionError(
      `unexpected output from the exec session in ${this.where} (${frame.length} chars)`,
      false,
    );
  }
}

/** The session's exec failed because `sh` is not in the container (exit 126/127, or the runtime's "not found"). */
function noShell(err: unknown, exitCode: number | null): boolean {
  if (exitCode === 126 || exitCode === 127) return true;
  return /executable file not found|no such file or directory/i.test(messageOf(err));
}
