// The read-only commands' SQL from this machine: HTTP when the pod answers, else exec (plugin/read-only-sql.ts).
import { describe, expect, it } from 'vitest';
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import type { SqlTransport, SqlTransportFactory } from '../../../shared/ports.js';
import { HTTP_PROBE_TIMEOUT_MS, readOnlySqlFactory } from '../../../plugin/read-only-sql.js';

const pod = { name: 'crate-0' } as never;
const endpoint = {} as never;

function factory(httpFails: () => Error | null) {
  const calls: Array<{ via: 'http' | 'exec'; stmt: string; timeoutMs: number | undefined }> = [];
  const transport = (via: 'http' | 'exec'): SqlTransport => ({
    description: via,
    async query(stmt, _args, opts) {
      calls.push({ via, stmt, timeoutMs: opts?.timeoutMs });
      const err = via === 'http' ? httpFails() : null;
      if (err) throw err;
      return { cols: [], rows: [[via]], rowcount: 1 } as never;
    },
  });
  const inner: SqlTransportFactory = { http: () => transport('http'), exec: () => transport('exec') };
  return { inner, calls };
}

describe('readOnlySqlFactory', () => {
  it('an unreachable pod IP: the read goes through exec, and so do the later ones', async () => {
    const { inner, calls } = factory(
      () => new SqlConnectionError('cannot reach CrateDB at http://10.0.0.5:4200 (ETIMEDOUT)'),
    );
    const logs: string[] = [];
    const t = readOnlySqlFactory(inner, { info: (m: string) => void logs.push(m) }).http('crate', pod, endpoint);
    expect((await t.query('SELECT 1')).rows).toEqual([['exec']]);
    expect((await t.query('SELECT 2')).rows).toEqual([['exec']]);
    expect(calls.map((c) => `${c.via} ${c.stmt}`)).toEqual(['http SELECT 1', 'exec SELECT 1', 'exec SELECT 2']);
    expect(calls[0]?.timeoutMs).toBe(HTTP_PROBE_TIMEOUT_MS);
    expect(t.description).toBe('exec');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/crate\/crate-0 is not reachable over HTTP from here.*exec/);
  });

  it('a reachable pod stays on HTTP', async () => {
    const { inner, calls } = factory(() => null);
    const t = readOnlySqlFactory(inner, { info: () => undefined }).http('crate', pod, endpoint);
    await t.query('SELECT 1');
    await t.query('SELECT 2', [], { timeoutMs: 30_000 });
    expect(calls.map((c) => c.via)).toEqual(['http', 'http']);
    expect(calls[1]?.timeoutMs).toBe(30_000);
  });

  it('a SQL error is an answer, not a reason to switch', async () => {
    const { inner, calls } = factory(() => new CrateSqlError(401, 4011, 'permission denied'));
    const t = readOnlySqlFactory(inner, { info: () => undefined }).http('crate', pod, endpoint);
    await expect(t.query('SELECT 1')).rejects.toBeInstanceOf(CrateSqlError);
    expect(calls.map((c) => c.via)).toEqual(['http']);
  });
});
