import { describe, expect, it } from 'vitest';
import { countByWho, keyOf, requestsOf, who, type AuditEvent } from '../../../bench/audit-log.js';
import { USER_AGENT } from '../../../shared/adapters/kube.js';

const ids = { runnerUser: 'system:serviceaccount:ns1:crate-decommission', pluginUser: 'kubernetes-admin' };
const ev = (o: Partial<AuditEvent> & { auditID: string }): AuditEvent => ({
  stage: 'ResponseComplete',
  verb: 'get',
  requestReceivedTimestamp: '2026-12-02T06:00:01.000000Z',
  ...o,
});
const line = (o: Partial<AuditEvent> & { auditID: string }) => JSON.stringify(ev(o));

describe('bench audit log counting', () => {
  it('names the runner by its ServiceAccount and the plugin by its user outside kubectl', () => {
    expect(who(ev({ auditID: 'a', user: { username: ids.runnerUser } }), ids)).toBe('runner');
    expect(
      who(
        ev({ auditID: 'b', user: { username: 'kubernetes-admin' }, userAgent: 'kubernetes-client-javascript/1' }),
        ids,
      ),
    ).toBe('plugin');
    expect(
      who(
        ev({ auditID: 'c', user: { username: 'kubernetes-admin' }, userAgent: 'kubectl/v1.37.2 (linux/amd64)' }),
        ids,
      ),
    ).toBe('other');
    expect(
      who(ev({ auditID: 'k', user: { username: 'kubernetes-admin' }, userAgent: 'cdk-kubelet/cdk-node-1' }), ids),
    ).toBe('other');
    expect(who(ev({ auditID: 'w', user: { username: 'kubernetes-admin' } }), ids)).toBe('plugin');
    // The port's own user agent (shared/adapters/kube.ts USER_AGENT): the plugin's requests through it.
    expect(who(ev({ auditID: 'p', user: { username: 'kubernetes-admin' }, userAgent: USER_AGENT }), ids)).toBe(
      'plugin',
    );
    expect(who(ev({ auditID: 'u', user: { username: 'kubernetes-admin' }, userAgent: 'undici' }), ids)).toBe('plugin');
    expect(who(ev({ auditID: 'd', user: { username: 'system:serviceaccount:ns2:crate-decommission' } }), ids)).toBe(
      'other',
    );
    expect(who(ev({ auditID: 'e', user: { username: 'system:node:cdk-node-1' } }), ids)).toBe('other');
  });

  it('keys by verb and resource/subresource, non-resource requests by path', () => {
    expect(keyOf(ev({ auditID: 'a', verb: 'create', objectRef: { resource: 'pods', subresource: 'exec' } }))).toBe(
      'create pods/exec',
    );
    expect(keyOf(ev({ auditID: 'b', verb: 'get', requestURI: '/api/v1?timeout=32s' }))).toBe('get /api/v1');
  });

  it('counts one request per auditID inside the window, skipping broken lines', () => {
    const lines = [
      line({
        auditID: '1',
        stage: 'ResponseStarted',
        verb: 'watch',
        objectRef: { resource: 'pods' },
        user: { username: ids.runnerUser },
      }),
      line({
        auditID: '1',
        stage: 'ResponseComplete',
        verb: 'watch',
        objectRef: { resource: 'pods' },
        user: { username: ids.runnerUser },
      }),
      line({ auditID: '2', objectRef: { resource: 'pods' }, user: { username: ids.runnerUser } }),
      line({
        auditID: '3',
        objectRef: { resource: 'pods' },
        user: { username: ids.runnerUser },
        requestReceivedTimestamp: '2026-12-02T05:00:00Z',
      }),
      '{"auditID": "4", "stage": "Resp',
      '',
      line({ auditID: '5', verb: 'create', objectRef: { resource: 'jobs' }, user: { username: 'kubernetes-admin' } }),
      line({
        auditID: '6',
        verb: 'update',
        objectRef: { resource: 'pods', subresource: 'status' },
        user: { username: 'system:node:n' },
      }),
    ];
    const events = requestsOf(lines, Date.parse('2026-12-02T06:00:00Z'), Date.parse('2026-12-02T06:00:02Z'));
    expect(events.map((e) => e.auditID)).toEqual(['1', '2', '5', '6']);
    const c = countByWho(events, ids);
    expect(c.runner).toEqual({ total: 2, byKey: { 'watch pods': 1, 'get pods': 1 } });
    expect(c.plugin).toEqual({ total: 1, byKey: { 'create jobs': 1 } });
    expect(c.other).toEqual({ total: 1, byKey: { 'update pods/status': 1 } });
  });
});
