// Fake SqlTransportFactory over FakeKube + FakeCrateCluster: HTTP to a pod's node with the endpoint's credentials
// (password read from the Secret, as the real factory does), and exec through the REAL exec adapter
// (shared/adapters/sql-exec.ts) into the pod's CrateDB container, where a fake curl (`fakeCurl`, installed as the
// world's exec hook) reads the argv and stdin the adapter sends and answers as curl does: the body, then `-w`'s
// `\n<http_code>`, or a curl exit code and its stderr line. The exec session's shell loop (SESSION_SCRIPT) runs the same
// fake curl with the argv sh makes of the script's curl line (both adapters build it with `curlCommand`).
import {
  type ClosableSqlTransport,
  SESSION_SCRIPT,
  createExecSessionSqlTransport,
} from '../../../shared/adapters/sql-exec-session.js';
import { type ShellWord, splitCommands, tokenizeShell } from '../../../shared/detect/shell.js';
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import type { Clock, ExecResult, SqlTransport, SqlTransportFactory } from '../../../shared/ports.js';
import type { PodInfo, SqlEndpoint } from '../../../shared/schemas.js';
import type { FakeCrateCluster } from './crate.js';
import type { ExecCall, FakeExecSession, FakeKube } from './kube.js';

/** What a client of `scheme` sees from a port speaking the other one (null: they match). */
export function schemeMismatch(client: 'http' | 'https', served: 'http' | 'https'): string | null {
  if (client === served) return null;
  return client === 'http'
    ? 'Empty reply from server (plain HTTP to an HTTPS-only port)'
    : 'SSL routines::wrong version number (HTTPS to a plain-HTTP port)';
}

export interface TransportCall {
  kind: 'http' | 'exec';
  pod: string;
  stmt: string;
  args: unknown[];
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** The curl command line as parsed by the fake: what the options say, or the usage error curl prints. */
export interface CurlRequest {
  url: string;
  method: string;
  headers: string[];
  /** `--data-binary @-`: the body is stdin. */
  bodyFromStdin: boolean;
  writeOut: string | null;
  maxTimeSeconds: number | null;
  insecure: boolean;
  silent: boolean;
  showError: boolean;
}

/** Parse curl's argv (the options the exec adapter may send); an unknown option is curl's exit 2. */
export function parseCurlArgv(argv: string[]): CurlRequest | { exitCode: number; stderr: string } {
  if (argv[0] !== 'curl') return { exitCode: 127, stderr: `sh: ${argv[0] ?? ''}: not found` };
  const req: CurlRequest = {
    url: '',
    method: 'GET',
    headers: [],
    bodyFromStdin: false,
    writeOut: null,
    maxTimeSeconds: null,
    insecure: false,
    silent: false,
    showError: false,
  };
  const value = (i: number, opt: string): string | { exitCode: number; stderr: string } =>
    argv[i] ?? { exitCode: 2, stderr: `curl: option ${opt}: requires parameter` };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) {
      req.url = a;
      continue;
    }
    if (/^-[sSk]+$/.test(a)) {
      if (a.includes('s')) req.silent = true;
      if (a.includes('S')) req.showError = true;
      if (a.includes('k')) req.insecure = true;
      continue;
    }
    if (a === '--insecure') {
      req.insecure = true;
      continue;
    }
    if (!['--max-time', '-m', '-X', '--request', '-H', '--header', '--data-binary', '-w', '--write-out'].includes(a))
      return { exitCode: 2, stderr: `curl: option ${a}: is unknown` };
    const v = value(++i, a);
    if (typeof v !== 'string') return v;
    if (a === '--max-time' || a === '-m') {
      const n = Number(v);
      if (!Number.isFinite(n))
        return { exitCode: 2, stderr: `curl: option ${a}: expected a proper numerical parameter` };
      req.maxTimeSeconds = n;
    } else if (a === '-X' || a === '--request') req.method = v;
    else if (a === '-H' || a === '--header') req.headers.push(v);
    else if (a === '--data-binary') {
      if (v !== '@-')
        return { exitCode: 26, stderr: `curl: (26) Failed to open/read local data from file/application` };
      req.bodyFromStdin = true;
      if (req.method === 'GET') req.method = 'POST';
    } else req.writeOut = v;
  }
  if (!req.url) return { exitCode: 2, stderr: 'curl: no URL specified' };
  return req;
}

/** `-w` with curl's variables and backslash escapes expanded. */
function writeOut(format: string | null, status: number, body = ''): string {
  if (format === null) return '';
  return format
    .replace(/\\n/g, '\n')
    .replace(/%\{http_code\}/g, String(status).padStart(3, '0'))
    .replace(/%\{size_download\}/g, String(Buffer.byteLength(body, 'utf8')));
}

/**
 * The fake curl in a CrateDB container: POSTs stdin to the local node as `crate` (trusted from localhost) and prints
 * what curl prints. Connection failures are curl's exit codes: 7 (nothing listening), 52/35 (the other scheme), 60 (a
 * self-signed certificate without -k), 28 (--max-time passed).
 */
export async function fakeCurl(
  call: ExecCall,
  crate: FakeCrateCluster,
  clock: Clock,
  node: () => { name: string; state: string } | undefined,
): Promise<ExecResult> {
  const req = parseCurlArgv(call.command);
  if ('exitCode' in req) return { exitCode: req.exitCode, stdout: '', stderr: req.stderr };
  const fail = (exitCode: number, message: string): ExecResult => ({
    exitCode,
    stdout: '',
    stderr: req.showError || !req.silent ? `curl: (${exitCode}) ${message}` : '',
  });
  const m = /^(https?):\/\/(localhost|127\.0\.0\.1):(\d+)(\/.*)?$/.exec(req.url);
  if (!m) return fail(6, `Could not resolve host: ${req.url}`);
  const scheme = m[1] as 'http' | 'https';
  const local = node();
  if (Number(m[3]) !== 4200 || !local || local.state === 'down')
    return fail(7, `Failed to connect to localhost port ${m[3]} after 0 ms: Couldn't connect to server`);
  const mismatch = schemeMismatch(scheme, crate.options.httpScheme);
  if (mismatch) return fail(scheme === 'http' ? 52 : 35, mismatch);
  if (scheme === 'https' && !req.insecure)
    return fail(60, 'SSL certificate problem: self-signed certificate in certificate chain');
  if (m[4] !== '/_sql' || req.method !== 'POST' || !req.bodyFromStdin) {
    return {
      exitCode: 0,
      stdout: `{"error":{"message":"not found","code":4040}}${writeOut(req.writeOut, 404, '{"error":{"message":"not found","code":4040}}')}`,
      stderr: '',
    };
  }
  let body: { stmt?: unknown; args?: unknown[] };
  try {
    body = JSON.parse(call.stdin ?? '') as typeof body;
  } catch {
    const text = JSON.stringify({ error: { message: 'Failed to parse source', code: 4000 } });
    return { exitCode: 0, stdout: `${text}${writeOut(req.writeOut, 400, text)}`, stderr: '' };
  }
  const answer = (async (): Promise<ExecResult> => {
    try {
      const res = await crate.query(
        local.name,
        { user: 'crate', password: null },
        'exec',
        String(body.stmt),
        body.args ?? [],
      );
      const text = JSON.stringify(res);
      return { exitCode: 0, stdout: `${text}${writeOut(req.writeOut, 200, text)}`, stderr: '' };
    } catch (err) {
      if (err instanceof CrateSqlError) {
        const text =
          err.code === null ? err.message : JSON.stringify({ error: { message: err.message, code: err.code } });
        return { exitCode: 0, stdout: `${text}${writeOut(req.writeOut, err.httpStatus, text)}`, stderr: '' };
      }
      if (err instanceof SqlConnectionError) return fail(52, 'Empty reply from server');
      throw err;
    }
  })();
  if (req.maxTimeSeconds === null) return answer;
  const ac = new AbortController();
  const limitMs = req.maxTimeSeconds * 1000;
  const timedOut = clock.delay(limitMs, ac.signal).then(
    () => fail(28, `Operation timed out after ${limitMs} milliseconds with 0 bytes received`),
    () => new Promise<never>(() => {}),
  );
  try {
    return await Promise.race([answer, timedOut]);
  } finally {
    ac.abort();
  }
}

/**
 * The words of the curl command in a script's `$(...)` capture, as sh reads them (the production shell reader of
 * shared/detect/shell.ts: quotes removed, `$var` kept, redirections dropped); null when it runs no curl.
 */
export function scriptCurl(script: string): ShellWord[] | null {
  for (const token of tokenizeShell(script)) {
    const open = token.kind === 'word' ? token.text.indexOf('$(') : -1;
    if (token.kind !== 'word' || open < 0) continue;
    const inner = token.text.slice(open + 2, token.text.lastIndexOf(')'));
    const curl = splitCommands(tokenizeShell(inner)).find((c) => c.words[0]?.text === 'curl');
    if (curl) return curl.words;
  }
  return null;
}

/** The argv of `words` with `$name` expanded from `vars`; an unquoted word that expands to nothing is no word. */
export function expandWords(words: ShellWord[], vars: Record<string, string>): string[] {
  return words.flatMap((w) => {
    const text = w.text.replace(/\$(\w+)/g, (_, name: string) => vars[name] ?? '');
    return text === '' && !w.quoted ? [] : [text];
  });
}

/**
 * The session's shell loop (SESSION_SCRIPT) in a fake CrateDB container: prints `<b> ready`, then for each stdin line
 * `<max-time> <body>` runs `curl` (the fake, with the argv sh makes of the script's curl line: `scriptCurl`) and prints
 * the script's frame. One line at a time, as `sh` does. A command other than the script is `sh`'s exit 127 (no shell in
 * the image).
 */
export function fakeShellSession(session: FakeExecSession, runCurl: (call: ExecCall) => Promise<ExecResult>): void {
  const cmd = session.call.command;
  const curl = cmd[0] === 'sh' && cmd[1] === '-c' && cmd[2] === SESSION_SCRIPT ? scriptCurl(cmd[2]) : null;
  if (!curl || cmd.length !== 7) {
    session.exit(127);
    return;
  }
  const [b, url, k] = [cmd[4]!, cmd[5]!, cmd[6]!];
  session.stdout(`${b} ready\n`);
  let buffered = '';
  let queue = Promise.resolve();
  session.onStdin((text) => {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      queue = queue.then(async () => {
        if (session.ended) return;
        const sp = line.indexOf(' ');
        const argv = expandWords(curl, { t: line.slice(0, sp), b, u: url, k });
        try {
          const r = await runCurl({ ...session.call, command: argv, stdin: line.slice(sp + 1) });
          session.stdout(`${r.stdout}${b} err\n${r.stderr}\n${b} end ${r.exitCode}\n`);
        } catch (err) {
          // A failure of the fake world itself (a test's injected error): the exec breaks, as a dropped exec would.
          session.drop(err instanceof Error ? err.message : String(err));
        }
      });
    }
  });
}

export class FakeSqlFactory implements SqlTransportFactory {
  readonly calls: TransportCall[] = [];
  private readonly execTransports = new Map<string, ClosableSqlTransport>();

  constructor(
    private readonly kube: FakeKube,
    private readonly crate: FakeCrateCluster,
  ) {}

  /** The exec handler to install as kube.hooks.exec: the container's curl, answering from the pod's node. */
  readonly execHandler = (call: ExecCall): Promise<ExecResult> =>
    fakeCurl(call, this.crate, this.kube.clock, () => this.crate.nodeByHostname(call.pod));

  /** The session handler to install as kube.hooks.execSession: the container's `sh` loop over the fake curl. */
  readonly sessionHandler = (session: FakeExecSession): void => fakeShellSession(session, this.execHandler);

  /** Close every exec session (as the real factory's close()). */
  close(): void {
    for (const t of this.execTransports.values()) t.close();
    this.execTransports.clear();
  }

  http(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport {
    const user = endpoint.credentials?.username ?? 'crate';
    return {
      description: `${endpoint.scheme}://${pod.podIP ?? pod.name}:${endpoint.port} as ${user}`,
      query: async (stmt, args = [], opts) => {
        if (opts?.signal?.aborted) throw abortError(opts.signal);
        this.calls.push({ kind: 'http', pod: pod.name, stmt, args });
        const current = await this.kube.getPod(namespace, pod.name);
        const running = current?.status?.containerStatuses?.find((c) => c.name === pod.containerName)?.state?.running;
        if (!current || !running)
          throw new SqlConnectionError(`connect ECONNREFUSED ${pod.podIP ?? pod.name}:${endpoint.port}`);
        const node = this.crate.nodeByHostname(pod.name);
        if (!node) throw new SqlConnectionError(`connect ECONNREFUSED ${pod.podIP ?? pod.name}:${endpoint.port}`);
        const mismatch = schemeMismatch(endpoint.scheme, this.crate.options.httpScheme);
        if (mismatch)
          throw new SqlConnectionError(`${endpoint.scheme}://${pod.podIP ?? pod.name}:${endpoint.port}: ${mismatch}`);
        const password = endpoint.credentials
          ? await this.kube.readSecret(namespace, endpoint.credentials.secretName, endpoint.credentials.passwordKey)
          : null;
        return this.crate.query(node.name, { user, password }, 'http', stmt, args);
      },
    };
  }

  /** The real exec session adapter (one per pod uid, as shared/adapters/sql-factory.ts keeps it) over the fake kube. */
  exec(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport {
    const key = JSON.stringify([namespace, pod.name, pod.uid, pod.containerName, endpoint.scheme, endpoint.port]);
    let real = this.execTransports.get(key);
    if (!real) {
      real = createExecSessionSqlTransport({
        kube: this.kube,
        namespace,
        pod: pod.name,
        container: pod.containerName,
        scheme: endpoint.scheme,
        port: endpoint.port,
      });
      this.execTransports.set(key, real);
    }
    const session = real;
    return {
      get description() {
        return session.description;
      },
      query: (stmt, args, opts) => {
        if (opts?.signal?.aborted) return Promise.reject(abortError(opts.signal));
        this.calls.push({ kind: 'exec', pod: pod.name, stmt, args: args ?? [] });
        return session.query(stmt, args, opts);
      },
    };
  }
}
