// Fake SqlTransportFactory over FakeKube + FakeCrateCluster: HTTP to a pod's node with the
// endpoint's credentials (password read from the Secret, as the real factory does), and exec
// into the pod's CrateDB container posting to localhost:4200 as `crate` (through kube.exec).
import { CrateSqlError, KubeApiError, SqlConnectionError } from '../../../shared/errors.js';
import type { SqlResponse, SqlTransport, SqlTransportFactory } from '../../../shared/ports.js';
import type { PodInfo, SqlEndpoint } from '../../../shared/schemas.js';
import type { FakeCrateCluster } from './crate.js';
import type { ExecCall, FakeKube } from './kube.js';

/** The curl the exec transport runs for an endpoint scheme (https adds -k: self-signed certificates). */
export function execSqlCommand(scheme: 'http' | 'https'): string[] {
  return scheme === 'http'
    ? EXEC_SQL_COMMAND
    : EXEC_SQL_COMMAND.map((w) => (w === 'http://localhost:4200/_sql' ? 'https://localhost:4200/_sql' : w)).concat(
        '-k',
      );
}

/** What a client of `scheme` sees from a port speaking the other one (null: they match). */
export function schemeMismatch(client: 'http' | 'https', served: 'http' | 'https'): string | null {
  if (client === served) return null;
  return client === 'http'
    ? 'Empty reply from server (plain HTTP to an HTTPS-only port)'
    : 'SSL routines::wrong version number (HTTPS to a plain-HTTP port)';
}

export const EXEC_SQL_COMMAND = [
  'curl',
  '-sS',
  '--max-time',
  '3600',
  '-w',
  '\\n%{http_code}',
  '-H',
  'Content-Type: application/json',
  '-X',
  'POST',
  'http://localhost:4200/_sql',
  '--data-binary',
  '@-',
];

export interface TransportCall {
  kind: 'http' | 'exec';
  pod: string;
  stmt: string;
  args: unknown[];
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

export class FakeSqlFactory implements SqlTransportFactory {
  readonly calls: TransportCall[] = [];

  constructor(
    private readonly kube: FakeKube,
    private readonly crate: FakeCrateCluster,
  ) {}

  /** The exec handler to install as kube.hooks.exec: runs the posted SQL as `crate` from localhost. */
  readonly execHandler = async (call: ExecCall) => {
    const scheme =
      call.command.join(' ') === EXEC_SQL_COMMAND.join(' ')
        ? 'http'
        : call.command.join(' ') === execSqlCommand('https').join(' ')
          ? 'https'
          : null;
    if (scheme === null) return { exitCode: 127, stdout: '', stderr: `unknown command ${call.command[0]}` };
    const body = JSON.parse(call.stdin ?? '{}') as { stmt: string; args?: unknown[] };
    const node = this.crate.nodeByHostname(call.pod);
    if (!node || node.state === 'down')
      return {
        exitCode: 7,
        stdout: '',
        stderr: 'curl: (7) Failed to connect to localhost port 4200: Connection refused',
      };
    const mismatch = schemeMismatch(scheme, this.crate.options.httpScheme);
    if (mismatch)
      return {
        exitCode: scheme === 'http' ? 52 : 35,
        stdout: '',
        stderr: `curl: (${scheme === 'http' ? 52 : 35}) ${mismatch}`,
      };
    try {
      const res = await this.crate.query(
        node.name,
        { user: 'crate', password: null },
        'exec',
        body.stmt,
        body.args ?? [],
      );
      return { exitCode: 0, stdout: `${JSON.stringify(res)}\n200`, stderr: '' };
    } catch (err) {
      if (err instanceof CrateSqlError) {
        const text =
          err.code === null ? err.message : JSON.stringify({ error: { message: err.message, code: err.code } });
        return { exitCode: 0, stdout: `${text}\n${err.httpStatus}`, stderr: '' };
      }
      if (err instanceof SqlConnectionError) return { exitCode: 52, stdout: '', stderr: `curl: (52) ${err.message}` };
      throw err;
    }
  };

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

  exec(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport {
    const command = execSqlCommand(endpoint.scheme);
    return {
      description: `exec ${pod.name}/${pod.containerName} -> ${endpoint.scheme}://localhost:4200 as crate`,
      query: async (stmt, args = [], opts) => {
        if (opts?.signal?.aborted) throw abortError(opts.signal);
        this.calls.push({ kind: 'exec', pod: pod.name, stmt, args });
        let res;
        try {
          res = await this.kube.exec(namespace, pod.name, pod.containerName, command, {
            stdin: JSON.stringify({ stmt, args }),
            ...(opts?.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          });
        } catch (err) {
          if (err instanceof KubeApiError && err.statusCode !== 403)
            throw new SqlConnectionError(`exec into ${pod.name} failed: ${err.message}`);
          throw err;
        }
        if (res.exitCode !== 0)
          throw new SqlConnectionError(`exec into ${pod.name}: ${res.stderr.trim() || `exit code ${res.exitCode}`}`);
        const cut = res.stdout.lastIndexOf('\n');
        const body = res.stdout.slice(0, cut);
        const status = Number(res.stdout.slice(cut + 1));
        if (status === 200) return JSON.parse(body) as SqlResponse;
        try {
          const e = JSON.parse(body) as { error: { message: string; code: number } };
          throw new CrateSqlError(status, e.error.code, e.error.message);
        } catch (err) {
          if (err instanceof CrateSqlError) throw err;
          throw new CrateSqlError(status, null, body);
        }
      },
    };
  }
}
