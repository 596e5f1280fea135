import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError, CrateSqlError, KubeApiError, SqlConnectionError } from '../../../shared/errors.js';
import { createExecSqlTransport } from '../../../shared/adapters/sql-exec.js';
import { createSqlTransportFactory } from '../../../shared/adapters/sql-factory.js';
import type { ExecResult, KubernetesPort } from '../../../shared/ports.js';
import { PodInfo, SqlEndpoint } from '../../../shared/schemas.js';

interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  opts?: { stdin?: string; timeoutMs?: number };
}

/** A KubernetesPort stub: only exec and readSecret are scripted; anything else is a test bug. */
function stubKube(
  exec: (call: ExecCall) => Promise<ExecResult> | ExecResult,
  secrets: Record<string, string> = {},
): KubernetesPort & {
  calls: ExecCall[];
  secretReads: string[];
  sessions: Omit<ExecCall, 'opts'>[];
} {
  const calls: ExecCall[] = [];
  const secretReads: string[] = [];
  const sessions: Omit<ExecCall, 'opts'>[] = [];
  const target = {
    calls,
    secretReads,
    sessions,
    exec: async (namespace: string, pod: string, container: string, command: string[], opts?: ExecCall['opts']) => {
      const call = { namespace, pod, container, command, opts };
      calls.push(call);
      return exec(call);
    },
    // A container without `sh`: the exec session exits 127 at once, the transport falls back to one exec per statement.
    openExec: (namespace: string, pod: string, container: string, command: string[]) => {
      sessions.push({ namespace, pod, container, command });
      return { write: () => {}, close: () => {}, done: Promise.resolve(127) };
    },
    readSecret: async (namespace: string, name: string, key: string) => {
      secretReads.push(`${namespace}/${name}/${key}`);
      return secrets[`${namespace}/${name}/${key}`] ?? null;
    },
  };
  return new Proxy(target, {
    get(t, prop) {
      if (prop in t) return t[prop as keyof typeof t];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected KubernetesPort.${String(prop)} in this test`);
    },
  }) as unknown as KubernetesPort & {
    calls: ExecCall[];
    secretReads: string[];
    sessions: Omit<ExecCall, 'opts'>[];
  };
}

const ok = (body: unknown, status = 200): ExecResult => ({
  exitCode: 0,
  stdout: `${JSON.stringify(body)}\n${status}`,
  stderr: '',
});

function execTransport(kube: KubernetesPort, scheme: 'http' | 'https' = 'http') {
  return createExecSqlTransport({ kube, namespace: 'crate', pod: 'crate-data-hot-x-1', container: 'crate', scheme });
}

describe('exec SQL transport', () => {
  it('runs curl in the CrateDB container with the SQL on stdin, never in argv', async () => {
    const kube = stubKube(() => ok({ cols: [], rows: [[]], rowcount: 1 }));
    const stmt = "ALTER CLUSTER DECOMMISSION 'it''s; $(rm -rf /)'";
    const result = await execTransport(kube).query(stmt, [], { timeoutMs: 720_000 });
    expect(result.rowcount).toBe(1);
    const call = kube.calls[0];
    expect(call).toMatchObject({ namespace: 'crate', pod: 'crate-data-hot-x-1', container: 'crate' });
    expect(call?.command.slice(0, 4)).toEqual(['curl', '-sS', '--max-time', '720']);
    expect(call?.command.at(-1)).toBe('http://localhost:4200/_sql');
    expect(call?.command).toContain('@-');
    expect(call?.command).not.toContain('-k');
    expect(call?.command.join(' ')).not.toContain('DECOMMISSION');
    expect(JSON.parse(call?.opts?.stdin ?? '')).toEqual({ stmt, args: [] });
    expect(call?.opts?.timeoutMs).toBeGreaterThan(720_000);
  });

  it('adds -k for https and describes itself without secrets', () => {
    const kube = stubKube(() => ok({ rows: [] }));
    const t = execTransport(kube, 'https');
    expect(t.description).toBe('exec crate/crate-data-hot-x-1:crate https://localhost:4200 as crate');
    void t.query('SELECT 1');
    expect(kube.calls[0]?.command).toContain('-k');
    expect(kube.calls[0]?.command.at(-1)).toBe('https://localhost:4200/_sql');
  });

  it('maps CrateDB JSON errors from the body and status line', async () => {
    const kube = stubKube(() => ok({ error: { message: 'Missing privilege', code: 4010 } }, 401));
    await expect(execTransport(kube).query('ALTER CLUSTER DECOMMISSION ?', ['x'])).rejects.toMatchObject({
      name: 'CrateSqlError',
      httpStatus: 401,
      code: 4010,
      message: 'Missing privilege',
    });
  });

  it('maps a plain-text 401 to an authentication error for crate', async () => {
    const kube = stubKube(() => ({
      exitCode: 0,
      stdout: 'trust authentication failed for user "crate"\n401',
      stderr: '',
    }));
    const err = await execTransport(kube)
      .query('SELECT 1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CrateSqlError);
    expect((err as Error).message).toBe(
      'authentication failed for user crate: trust authentication failed for user "crate"',
    );
  });

  it('keeps multi-line bodies intact (only the last line is the status)', async () => {
    const body = '{"cols":["a"],\n"rows":[["x\\ny"]],\n"rowcount":1}';
    const kube = stubKube(() => ({ exitCode: 0, stdout: `${body}\n200`, stderr: '' }));
    const result = await execTransport(kube).query('SELECT 1');
    expect(result.rows).toEqual([['x\ny']]);
  });

  const curlFailures: Array<[number, string, boolean, RegExp]> = [
    [7, 'curl: (7) Failed to connect to localhost port 4200: Connection refused', false, /cannot reach CrateDB/],
    [28, 'curl: (28) Operation timed out after 5001 milliseconds', true, /did not answer within/],
    [52, 'curl: (52) Empty reply from server', false, /dropped/],
    [56, 'curl: (56) Recv failure: Connection reset by peer', false, /dropped/],
    [127, 'sh: curl: not found', false, /curl is not available/],
    [35, 'curl: (35) TLS connect error', false, /exit code 35/],
  ];
  for (const [exitCode, stderr, timedOut, message] of curlFailures) {
    it(`maps curl exit code ${exitCode} to SqlConnectionError`, async () => {
      const kube = stubKube(() => ({ exitCode, stdout: '\n000', stderr }));
      const err = await execTransport(kube)
        .query('SELECT 1')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqlConnectionError);
      expect(err).toMatchObject({ timedOut });
      expect((err as Error).message).toMatch(message);
    });
  }

  it('maps exec failures (pod gone, RBAC, exec timeout) to SqlConnectionError keeping the cause', async () => {
    const forbidden = new KubeApiError(403, 'Forbidden', 'exec in pod crate/x: HTTP 403 Forbidden');
    const err = await execTransport(stubKube(() => Promise.reject(forbidden)))
      .query('SELECT 1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect((err as Error).cause).toBe(forbidden);
    expect((err as Error).message).toContain('403 Forbidden');

    const timeout = new KubeApiError(0, 'Timeout', 'exec timed out');
    const late = await execTransport(stubKube(() => Promise.reject(timeout)))
      .query('SELECT 1')
      .catch((e: unknown) => e);
    expect(late).toMatchObject({ name: 'SqlConnectionError', timedOut: true });
  });

  it('rejects garbage output', async () => {
    const kube = stubKube(() => ({ exitCode: 0, stdout: 'hello', stderr: '' }));
    await expect(execTransport(kube).query('SELECT 1')).rejects.toThrow(/unexpected curl output/);
  });

  it("gives up with the caller's abort reason", async () => {
    const kube = stubKube(() => new Promise<ExecResult>(() => undefined));
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const pending = execTransport(kube).query('SELECT 1', [], { signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('SqlTransportFactory', () => {
  let agent: MockAgent | undefined;
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
  });

  const pod = PodInfo.parse({
    name: 'crate-data-hot-x-0',
    uid: 'u1',
    statefulSetName: 'crate-data-hot-x',
    ordinal: 0,
    nodeName: 'data-hot-0',
    podIP: '10.0.0.5',
    ready: true,
    phase: 'Running',
    restartCount: 0,
    containerName: 'crate',
  });
  const endpoint = SqlEndpoint.parse({
    credentials: { username: 'system', secretName: 'user-system-x' },
  });
  const PASSWORD = 'hunter2-very-secret';

  it('http() talks to the pod IP with the Secret password, read once, and never shows it', async () => {
    agent = new MockAgent();
    agent.disableNetConnect();
    const auths: string[] = [];
    agent
      .get('http://10.0.0.5:4200')
      .intercept({ path: '/_sql', method: 'POST' })
      .reply((opts) => {
        auths.push(String((opts.headers as Record<string, string>).authorization));
        return { statusCode: 200, data: { cols: [], rows: [], rowcount: 0 } };
      })
      .times(2);
    const kube = stubKube(() => ok({}), { 'crate/user-system-x/password': PASSWORD });
    const factory = createSqlTransportFactory(kube, { dispatcher: agent });
    const t = factory.http('crate', pod, endpoint);
    expect(t.description).toBe('http://10.0.0.5:4200 as system');
    expect(factory.http('crate', pod, endpoint)).toBe(t); // one transport (and Agent) per endpoint
    await t.query('SELECT 1');
    await t.query('SELECT 2');
    expect(auths).toEqual([
      `Basic ${Buffer.from(`system:${PASSWORD}`).toString('base64')}`,
      `Basic ${Buffer.from(`system:${PASSWORD}`).toString('base64')}`,
    ]);
    expect(kube.secretReads).toEqual(['crate/user-system-x/password']);
  });

  it('http() reports a missing password Secret as bad input and retries the read next time', async () => {
    const kube = stubKube(() => ok({}));
    const factory = createSqlTransportFactory(kube);
    const t = factory.http('crate', pod, endpoint);
    await expect(t.query('SELECT 1')).rejects.toBeInstanceOf(BadInputError);
    await expect(t.query('SELECT 1')).rejects.toThrow(
      /Secret crate\/user-system-x or its key "password" does not exist/,
    );
    expect(kube.secretReads).toHaveLength(2);
  });

  it('http() for a pod without an IP fails as a connection error; IPv6 gets brackets', async () => {
    const factory = createSqlTransportFactory(stubKube(() => ok({})));
    const noIp = factory.http('crate', { ...pod, podIP: null }, endpoint);
    await expect(noIp.query('SELECT 1')).rejects.toBeInstanceOf(SqlConnectionError);
    expect(factory.http('crate', { ...pod, podIP: 'fd00::5' }, endpoint).description).toBe(
      'http://[fd00::5]:4200 as system',
    );
  });

  it('exec() uses the pod container and endpoint scheme/port', async () => {
    const kube = stubKube(() => ok({ rows: [[1]], cols: ['x'], rowcount: 1 }));
    const factory = createSqlTransportFactory(kube);
    const t = factory.exec(
      'crate',
      { ...pod, containerName: 'crate' },
      SqlEndpoint.parse({ scheme: 'https', port: 4201 }),
    );
    await t.query('SELECT 1');
    expect(kube.sessions[0]?.container).toBe('crate');
    expect(kube.sessions[0]?.command.at(-2)).toBe('https://localhost:4201/_sql');
    expect(kube.calls[0]?.container).toBe('crate');
    expect(kube.calls[0]?.command.at(-1)).toBe('https://localhost:4201/_sql');
    expect(t.description).not.toContain(PASSWORD);
  });
});
