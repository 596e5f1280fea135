import { MockAgent, errors as undiciErrors } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import { createHttpSqlTransport } from '../../../shared/adapters/sql-http.js';

const ORIGIN = 'http://10.0.0.5:4200';
const PASSWORD = 's3cr3t-pa55';

let agent: MockAgent;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});
afterEach(async () => {
  await agent.close();
});

function transport(extra: Partial<Parameters<typeof createHttpSqlTransport>[0]> = {}) {
  return createHttpSqlTransport({ url: ORIGIN, username: 'system', password: PASSWORD, dispatcher: agent, ...extra });
}

function mockSql() {
  return agent.get(ORIGIN).intercept({ path: '/_sql', method: 'POST' });
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('HTTP SQL transport', () => {
  it('POSTs stmt and args with basic auth and parses the result', async () => {
    let seenBody = '';
    let seenAuth = '';
    mockSql().reply((opts) => {
      seenBody = String(opts.body);
      seenAuth = String((opts.headers as Record<string, string>).authorization);
      return { statusCode: 200, data: { cols: ['name'], rows: [['data-hot-0']], rowcount: 1, duration: 1.5 } };
    });
    const result = await transport().query('SELECT name FROM sys.nodes WHERE name = ?', ['data-hot-0']);
    expect(result).toEqual({ cols: ['name'], rows: [['data-hot-0']], rowcount: 1, duration: 1.5 });
    expect(JSON.parse(seenBody)).toEqual({ stmt: 'SELECT name FROM sys.nodes WHERE name = ?', args: ['data-hot-0'] });
    expect(seenAuth).toBe(`Basic ${Buffer.from(`system:${PASSWORD}`).toString('base64')}`);
  });

  it('omits args when none are given and sends no auth without a user', async () => {
    let headers: Record<string, string> = {};
    let body = '';
    mockSql().reply((opts) => {
      headers = opts.headers as Record<string, string>;
      body = String(opts.body);
      return { statusCode: 200, data: { cols: [], rows: [[]], rowcount: 1 } };
    });
    const t = createHttpSqlTransport({ url: ORIGIN, dispatcher: agent });
    await t.query('SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = \'primaries\'');
    expect(headers.authorization).toBeUndefined();
    expect(JSON.parse(body)).toEqual({
      stmt: 'SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = \'primaries\'',
    });
    expect(t.description).toBe('http://10.0.0.5:4200 as crate (no credentials)');
  });

  it('resolves a lazy password once per query and never shows it', async () => {
    mockSql().reply(200, { cols: [], rows: [], rowcount: 0 });
    const t = transport({ password: async () => PASSWORD });
    await t.query('SELECT 1');
    expect(t.description).toBe('http://10.0.0.5:4200 as system');
    expect(t.description).not.toContain(PASSWORD);
  });

  const jsonErrors: Array<[string, number, number, string]> = [
    ['400 4000 syntax', 400, 4000, "line 1:1: mismatched input 'SELEC'"],
    ['401 4010 JSON (missing privilege)', 401, 4010, 'Missing privilege for user system'],
    ['404 4041 unknown relation', 404, 4041, "Relation 'nope' unknown"],
    ['500 5000 internal', 500, 5000, 'NullPointerException'],
    ['503 5032 node not connected', 503, 5032, 'Node is not connected'],
  ];
  for (const [label, status, code, message] of jsonErrors) {
    it(`maps a JSON error: ${label}`, async () => {
      mockSql().reply(status, { error: { message, code } });
      const err = await caught(transport().query('SELECT 1'));
      expect(err).toBeInstanceOf(CrateSqlError);
      expect(err).toMatchObject({ httpStatus: status, code, message });
      expect(String((err as Error).message)).not.toContain(PASSWORD);
    });
  }

  it('maps a plain-text 401 (failed login) to an authentication error naming the user', async () => {
    mockSql().reply(401, 'trust authentication failed for user "system"', {
      headers: { 'www-authenticate': 'Basic realm="CrateDB"', 'content-type': 'text/plain' },
    });
    const err = await caught(transport().query('SELECT 1'));
    expect(err).toBeInstanceOf(CrateSqlError);
    expect(err).toMatchObject({ httpStatus: 401, code: null });
    expect((err as Error).message).toBe(
      'authentication failed for user system: trust authentication failed for user "system"',
    );
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  it('maps a non-JSON 500 (e.g. a proxy page) to a CrateSqlError with a body excerpt', async () => {
    mockSql().reply(502, '<html>bad gateway</html>');
    const err = await caught(transport().query('SELECT 1'));
    expect(err).toMatchObject({ httpStatus: 502, code: null, message: 'HTTP 502: <html>bad gateway</html>' });
  });

  it('maps connection refused to SqlConnectionError', async () => {
    mockSql().replyWithError(Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:4200'), { code: 'ECONNREFUSED' }));
    const err = await caught(transport().query('SELECT 1'));
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect(err).toMatchObject({ timedOut: false });
    expect((err as Error).message).toContain('cannot reach CrateDB at http://10.0.0.5:4200');
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('maps a certificate failure to SqlConnectionError saying what to do', async () => {
    agent
      .get('https://10.0.0.5:4200')
      .intercept({ path: '/_sql', method: 'POST' })
      .replyWithError(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));
    const t = createHttpSqlTransport({
      url: 'https://10.0.0.5:4200',
      username: 'system',
      password: PASSWORD,
      dispatcher: agent,
    });
    const err = await caught(t.query('SELECT 1'));
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect((err as Error).message).toMatch(/TLS verification of CrateDB at https:\/\/10.0.0.5:4200 failed .*CA Secret/);
  });

  it('maps a dropped connection to SqlConnectionError (not timed out)', async () => {
    mockSql().replyWithError(new undiciErrors.SocketError('other side closed'));
    const err = await caught(transport().query('ALTER CLUSTER DECOMMISSION ?', ['data-hot-1']));
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect(err).toMatchObject({ timedOut: false });
    expect((err as Error).message).toContain('dropped');
  });

  it('maps a headers timeout to SqlConnectionError with timedOut', async () => {
    mockSql().replyWithError(new undiciErrors.HeadersTimeoutError());
    const err = await caught(transport().query('SELECT 1', [], { timeoutMs: 1234 }));
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect(err).toMatchObject({ timedOut: true });
    expect((err as Error).message).toContain('did not answer within 1234 ms');
  });

  it('enforces the per-request deadline with an AbortSignal', async () => {
    mockSql().reply(200, { cols: [], rows: [], rowcount: 0 }).delay(2_000);
    const started = Date.now();
    const err = await caught(transport().query('SELECT 1', [], { timeoutMs: 50 }));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect(err).toMatchObject({ timedOut: true });
  });

  it("rethrows the caller's abort reason instead of a connection error", async () => {
    mockSql().reply(200, { cols: [], rows: [], rowcount: 0 }).delay(2_000);
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    setTimeout(() => controller.abort(reason), 20);
    const err = await caught(transport().query('SELECT 1', [], { signal: controller.signal, timeoutMs: 5_000 }));
    expect(err).toBe(reason);
  });

  it('lets a failing lazy password (e.g. missing Secret) surface unchanged', async () => {
    const failure = new Error('Secret user-system-x has no key password');
    const err = await caught(transport({ password: async () => Promise.reject(failure) }).query('SELECT 1'));
    expect(err).toBe(failure);
  });
});
