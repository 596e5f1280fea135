// SQL transport choice (SqlEndpoint.transport: auto|http|exec) and the endpoint override of discovery.
import { describe, expect, it } from 'vitest';
import { chooseSqlTransport } from '../../../shared/cluster-sql.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { SqlEndpoint } from '../../../shared/schemas.js';
import { world } from './helpers.js';

const ns = 'crate';

describe('chooseSqlTransport', () => {
  it('auto: exec without credentials, http with them; explicit modes win', () => {
    expect(chooseSqlTransport(SqlEndpoint.parse({})).kind).toBe('exec');
    expect(chooseSqlTransport(SqlEndpoint.parse({})).reason).toMatch(/no SQL credentials.*localhost.*--sql-user/);
    const creds = { username: 'admin', secretName: 's', passwordKey: 'pw' };
    expect(chooseSqlTransport(SqlEndpoint.parse({ credentials: creds }))).toMatchObject({ kind: 'http' });
    expect(chooseSqlTransport(SqlEndpoint.parse({ credentials: creds })).reason).toContain('user admin');
    expect(chooseSqlTransport(SqlEndpoint.parse({ transport: 'http' })).kind).toBe('http');
    expect(chooseSqlTransport(SqlEndpoint.parse({ transport: 'exec', credentials: creds })).kind).toBe('exec');
  });
});

describe('analyzeCluster with an SQL override', () => {
  it('an override keeps what discovery found for the fields it does not name (bug: partial() filled defaults in)', async () => {
    const w = await world({ replicas: 3, operator: true });
    const c = await analyzeCluster(w.deps(), {
      namespace: ns,
      kind: 'cratedb',
      name: 'c1',
      sql: { transport: 'exec' },
    });
    expect(c.sql.transport).toBe('exec');
    expect(c.sql.credentials).toEqual({ username: 'system', secretName: 'user-system-c1', passwordKey: 'password' });
    expect(c.sql.superuser).toBe(false);
  });

  it('other credentials make superuser unknown again; the log names the transport and why', async () => {
    const w = await world({ replicas: 3, operator: true });
    const c = await analyzeCluster(w.deps(), {
      namespace: ns,
      kind: 'cratedb',
      name: 'c1',
      sql: { credentials: { username: 'admin', secretName: 'admin-pw', passwordKey: 'password' } },
    });
    expect(c.sql.credentials?.username).toBe('admin');
    expect(c.sql.superuser).toBeNull();
    expect(w.log.text()).toMatch(/SQL transport: http \(credentials are known \(user admin/);
  });

  it('a plain StatefulSet without credentials reads through exec and says so', async () => {
    const w = await world({ replicas: 3 });
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(c.pods.map((p) => p.nodeName)).toEqual(['data-hot-0', 'data-hot-1', 'data-hot-2']);
    expect(w.sql.calls.length).toBeGreaterThan(0);
    expect(w.sql.calls.every((x) => x.kind === 'exec')).toBe(true);
    expect(w.log.text()).toMatch(/SQL transport: exec \(no SQL credentials are known/);
  });
});
