// The real KubernetesPort against an undici MockAgent standing in for the API server (client-node fetches through
// undici's global dispatcher when the cluster needs no TLS material of its own).
import { ApiException, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { MockAgent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../shared/errors.js';
import { createKubernetesPort, exitCodeFromStatus, toKubeApiError } from '../../../shared/adapters/kube.js';
import type { KubernetesPort } from '../../../shared/ports.js';

const API = 'https://kube.test:6443';

let agent: MockAgent;
let previous: Dispatcher;
let port: KubernetesPort;

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: API, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'test-token' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'u' }],
    currentContext: 'test',
  });
  return kc;
}

beforeEach(() => {
  previous = getGlobalDispatcher();
  agent = new MockAgent();
  agent.disableNetConnect();
  setGlobalDispatcher(agent);
  port = createKubernetesPort(kubeConfig(), {
    reportingInstance: 'test-runner',
    watch: { initialBackoffMs: 5, minHealthyWatchMs: 0 },
  });
});
afterEach(async () => {
  setGlobalDispatcher(previous);
  await agent.close();
});

const api = () => agent.get(API);
const json = { headers: { 'content-type': 'application/json' } };

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

function podJson(uid: string, rv: string, phase = 'Running') {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'data-hot-0',
      namespace: 'crate',
      uid,
      resourceVersion: rv,
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    status: { phase },
  };
}

describe('KubernetesPort over client-node', () => {
  it('getPod returns the pod, and null on 404', async () => {
    api()
      .intercept({ path: '/api/v1/namespaces/crate/pods/data-hot-0', method: 'GET' })
      .reply(200, podJson('u1', '5'), json);
    api()
      .intercept({ path: '/api/v1/namespaces/crate/pods/gone', method: 'GET' })
      .reply(404, status(404, 'NotFound', 'pods "gone" not found'), json);
    const pod = await port.getPod('crate', 'data-hot-0');
    expect(pod?.metadata?.uid).toBe('u1');
    expect(await port.getPod('crate', 'gone')).toBeNull();
  });

  it('getPod maps 403 to KubeApiError with the Status reason and message', async () => {
    api()
      .intercept({ path: '/api/v1/namespaces/crate/pods/data-hot-0', method: 'GET' })
      .reply(
        403,
        status(403, 'Forbidden', 'pods "data-hot-0" is forbidden: User "x" cannot get resource "pods"'),
        json,
      );
    const err = await port.getPod('crate', 'data-hot-0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
    expect((err as Error).message).toContain('get pod crate/data-hot-0: pods "data-hot-0" is forbidden');
  });

  it('deletePod sends the grace period and UID precondition; a changed UID is 409 Conflict', async () => {
    let body: unknown;
    let query = '';
    api()
      .intercept({ path: (p) => p.startsWith('/api/v1/namespaces/crate/pods/data-hot-0'), method: 'DELETE' })
      .reply((opts) => {
        body = JSON.parse(String(opts.body));
        query = opts.path;
        return { statusCode: 200, data: podJson('u1', '6'), responseOptions: json };
      });
    await port.deletePod('crate', 'data-hot-0', { gracePeriodSeconds: 30, uid: 'u1' });
    expect(body).toEqual({ gracePeriodSeconds: 30, preconditions: { uid: 'u1' } });
    expect(query).toContain('gracePeriodSeconds=30');

    api()
      .intercept({ path: (p) => p.startsWith('/api/v1/namespaces/crate/pods/data-hot-0'), method: 'DELETE' })
      .reply(
        409,
        status(409, 'Conflict', 'Precondition failed: UID in precondition: u1, UID in object meta: u2'),
        json,
      );
    const err = await port
      .deletePod('crate', 'data-hot-0', { gracePeriodSeconds: 30, uid: 'u1' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 409, reason: 'Conflict' });
  });

  it('patchStatefulSetLabels sends a JSON merge patch where null removes', async () => {
    let contentType = '';
    let body: unknown;
    api()
      .intercept({ path: '/apis/apps/v1/namespaces/crate/statefulsets/crate-data-hot-x', method: 'PATCH' })
      .reply((opts) => {
        contentType = String(
          (opts.headers as Record<string, string>)['Content-Type'] ??
            (opts.headers as Record<string, string>)['content-type'],
        );
        body = JSON.parse(String(opts.body));
        return { statusCode: 200, data: { metadata: { name: 'crate-data-hot-x' } }, responseOptions: json };
      });
    await port.patchStatefulSetLabels('crate', 'crate-data-hot-x', { 'dc-util-routing-owner': 'cdk-1', old: null });
    expect(contentType).toBe('application/merge-patch+json');
    expect(body).toEqual({ metadata: { labels: { 'dc-util-routing-owner': 'cdk-1', old: null } } });
  });

  it('readSecret decodes one key; null when the Secret or key is absent', async () => {
    api()
      .intercept({ path: '/api/v1/namespaces/crate/secrets/user-system-x', method: 'GET' })
      .reply(
        200,
        { metadata: { name: 'user-system-x' }, data: { password: Buffer.from('pa55').toString('base64') } },
        json,
      )
      .times(2);
    api()
      .intercept({ path: '/api/v1/namespaces/crate/secrets/none', method: 'GET' })
      .reply(404, status(404, 'NotFound', 'secrets "none" not found'), json);
    expect(await port.readSecret('crate', 'user-system-x', 'password')).toBe('pa55');
    expect(await port.readSecret('crate', 'user-system-x', 'other')).toBeNull();
    expect(await port.readSecret('crate', 'none', 'password')).toBeNull();
  });

  it('getCrateDB reads cratedbs.cloud.crate.io/v1, null on 404 (also when the CRD is missing)', async () => {
    api()
      .intercept({ path: '/apis/cloud.crate.io/v1/namespaces/crate/cratedbs/my-cluster', method: 'GET' })
      .reply(200, { kind: 'CrateDB', metadata: { name: 'my-cluster' }, spec: { nodes: {} } }, json);
    api()
      .intercept({ path: '/apis/cloud.crate.io/v1/namespaces/crate/cratedbs/absent', method: 'GET' })
      .reply(404, '404 page not found', { headers: { 'content-type': 'text/plain' } });
    expect(await port.getCrateDB('crate', 'my-cluster')).toMatchObject({ kind: 'CrateDB' });
    expect(await port.getCrateDB('crate', 'absent')).toBeNull();
  });

  it('Leases: create 409 AlreadyExists, replace sends resourceVersion and maps 409 Conflict', async () => {
    api()
      .intercept({ path: '/apis/coordination.k8s.io/v1/namespaces/crate/leases', method: 'POST' })
      .reply(
        409,
        status(409, 'AlreadyExists', 'leases.coordination.k8s.io "crate-decommission-x" already exists'),
        json,
      );
    const lease = {
      metadata: { name: 'crate-decommission-x', resourceVersion: '7' },
      spec: {
        holderIdentity: 'me',
        acquireTime: new Date('2026-01-01T00:00:00.518Z'),
        renewTime: new Date('2026-01-01T00:00:01Z'),
      },
    };
    const created = await port.createLease('crate', lease).catch((e: unknown) => e);
    expect(created).toMatchObject({ statusCode: 409, reason: 'AlreadyExists' });

    let sent: { metadata?: { resourceVersion?: string } } = {};
    api()
      .intercept({ path: '/apis/coordination.k8s.io/v1/namespaces/crate/leases/crate-decommission-x', method: 'PUT' })
      .reply((opts) => {
        sent = JSON.parse(String(opts.body)) as typeof sent;
        return {
          statusCode: 409,
          data: status(409, 'Conflict', 'the object has been modified'),
          responseOptions: json,
        };
      });
    const replaced = await port.replaceLease('crate', lease).catch((e: unknown) => e);
    expect(sent.metadata?.resourceVersion).toBe('7');
    // MicroTime on the wire: the API server rejects millisecond timestamps in Leases.
    expect((sent as { spec?: { acquireTime?: string } }).spec?.acquireTime).toBe('2026-01-01T00:00:00.518000Z');
    expect(replaced).toMatchObject({ statusCode: 409, reason: 'Conflict' });

    await expect(port.replaceLease('crate', { metadata: { name: 'x' } })).rejects.toThrow(/resourceVersion/);
  });

  it('createEvent posts an events.k8s.io/v1 Event, falling back to core/v1 when that API is absent', async () => {
    let eventBody: Record<string, unknown> = {};
    api()
      .intercept({ path: '/apis/events.k8s.io/v1/namespaces/crate/events', method: 'POST' })
      .reply((opts) => {
        eventBody = JSON.parse(String(opts.body)) as Record<string, unknown>;
        return { statusCode: 201, data: eventBody, responseOptions: json };
      });
    const input = {
      involvedObject: { kind: 'Pod' as const, name: 'data-hot-0', namespace: 'crate', uid: 'u1' },
      type: 'Normal' as const,
      reason: 'DecommissionStarted',
      message: 'decommissioning data-hot-0',
      action: 'Decommission',
    };
    await port.createEvent('crate', input);
    expect(eventBody).toMatchObject({
      reportingController: 'crate-decommission',
      reportingInstance: 'test-runner',
      reason: 'DecommissionStarted',
      note: 'decommissioning data-hot-0',
      regarding: { kind: 'Pod', name: 'data-hot-0', apiVersion: 'v1', uid: 'u1' },
    });
    expect((eventBody.metadata as { name: string }).name).toMatch(/^data-hot-0\.[0-9a-f]+$/);
    expect(String(eventBody.eventTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    api()
      .intercept({ path: '/apis/events.k8s.io/v1/namespaces/crate/events', method: 'POST' })
      .reply(404, status(404, 'NotFound', 'the server could not find the requested resource'), json);
    let coreBody: Record<string, unknown> = {};
    api()
      .intercept({ path: '/api/v1/namespaces/crate/events', method: 'POST' })
      .reply((opts) => {
        coreBody = JSON.parse(String(opts.body)) as Record<string, unknown>;
        return { statusCode: 201, data: coreBody, responseOptions: json };
      });
    await port.createEvent('crate', input);
    expect(coreBody).toMatchObject({
      reason: 'DecommissionStarted',
      message: 'decommissioning data-hot-0',
      involvedObject: { kind: 'Pod', name: 'data-hot-0' },
      source: { component: 'crate-decommission' },
    });
  });

  it('watchPod (real Watch) delivers the current state, events, and re-lists after a 410 ERROR event', async () => {
    const listPath = (p: string) => p.startsWith('/api/v1/namespaces/crate/pods?') && !p.includes('watch=true');
    const watchPath = (p: string) => p.startsWith('/api/v1/namespaces/crate/pods?') && p.includes('watch=true');
    const listed: string[] = [];
    api()
      .intercept({ path: listPath, method: 'GET' })
      .reply((opts) => {
        listed.push(opts.path);
        return {
          statusCode: 200,
          data: {
            kind: 'PodList',
            metadata: { resourceVersion: listed.length === 1 ? '100' : '300' },
            items: [podJson(listed.length === 1 ? 'u1' : 'u2', '1')],
          },
          responseOptions: json,
        };
      })
      .times(2);
    const watched: string[] = [];
    const firstStream =
      JSON.stringify({ type: 'MODIFIED', object: podJson('u1', '101', 'Terminating') }) +
      '\n' +
      JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version: 100 (250)') }) +
      '\n';
    api()
      .intercept({ path: watchPath, method: 'GET' })
      .reply((opts) => {
        watched.push(opts.path);
        return { statusCode: 200, data: watched.length === 1 ? firstStream : '', responseOptions: json };
      })
      .persist();

    const seen: string[] = [];
    const stop = await port.watchPod('crate', 'data-hot-0', (p) =>
      seen.push(p ? `${p.metadata?.uid}:${p.status?.phase}:${String(p.metadata?.creationTimestamp)}` : 'null'),
    );
    const deadline = Date.now() + 3_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stop();

    // The API server's JSON as it is (no client-node model classes): times stay RFC 3339 strings, in the list and in
    // the watch events alike.
    const t = '2026-01-01T00:00:00Z';
    expect(seen.slice(0, 3)).toEqual([`u1:Running:${t}`, `u1:Terminating:${t}`, `u2:Running:${t}`]);
    expect(listed[0]).toContain('fieldSelector=metadata.name%3Ddata-hot-0');
    expect(watched[0]).toContain('resourceVersion=100');
    expect(watched[0]).toContain('fieldSelector=metadata.name%3Ddata-hot-0');
  });
});

describe('toKubeApiError', () => {
  it('takes status, reason and message from an ApiException Status body (string or object)', () => {
    const body = JSON.stringify(status(409, 'Conflict', 'Operation cannot be fulfilled'));
    const err = toKubeApiError(new ApiException(409, 'Unknown API Status Code!', body, {}), 'replace lease crate/l');
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 409, reason: 'Conflict' });
    expect(err.message).toBe('replace lease crate/l: Operation cannot be fulfilled (HTTP 409 Conflict)');

    const fromObject = toKubeApiError(new ApiException(422, 'x', status(422, 'Invalid', 'bad label'), {}), 'label');
    expect(fromObject).toMatchObject({ statusCode: 422, reason: 'Invalid' });
  });

  it('falls back to the standard reason without a body (401)', () => {
    const err = toKubeApiError(new ApiException(401, 'Unauthorized', undefined, {}), 'get pod a/b');
    expect(err).toMatchObject({ statusCode: 401, reason: 'Unauthorized' });
  });

  it('maps the websocket ErrorEvent a forbidden exec handshake rejects with (not "[object Object]")', () => {
    // client-node's Exec rejects with isomorphic-ws' ErrorEvent: message is a prototype getter, error the Error.
    class ErrorEvent {
      readonly type = 'error';
      constructor(private readonly err: Error) {}
      get message(): string {
        return this.err.message;
      }
      get error(): Error {
        return this.err;
      }
    }
    const err = toKubeApiError(
      new ErrorEvent(new Error('Unexpected server response: 403')),
      'exec in pod crate/x (container crate)',
    );
    expect(err).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
    expect(err.message).toBe('exec in pod crate/x (container crate): HTTP 403 Forbidden');
  });

  it('maps watch HTTP errors, websocket handshake errors and network failures', () => {
    expect(toKubeApiError(Object.assign(new Error('Gone'), { statusCode: 410 }), 'watch')).toMatchObject({
      statusCode: 410,
      reason: 'Expired',
    });
    expect(toKubeApiError(new Error('Unexpected server response: 403'), 'exec')).toMatchObject({
      statusCode: 403,
      reason: 'Forbidden',
    });
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }),
    });
    const mapped = toKubeApiError(refused, 'get pod a/b');
    expect(mapped).toMatchObject({ statusCode: 0, reason: 'ConnectionFailed' });
    expect(mapped.message).toContain('ECONNREFUSED');
    expect(toKubeApiError(new DOMException('timed out', 'TimeoutError'), 'x')).toMatchObject({
      statusCode: 0,
      reason: 'Timeout',
    });
    const same = new KubeApiError(404, 'NotFound', 'x');
    expect(toKubeApiError(same, 'y')).toBe(same);
  });
});

describe('exitCodeFromStatus', () => {
  it('reads Success as 0 and NonZeroExitCode from its ExitCode cause', () => {
    expect(exitCodeFromStatus({ status: 'Success' }, 'exec')).toBe(0);
    const nonZero: V1Status = {
      status: 'Failure',
      reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [curl], exit code 7',
      details: { causes: [{ reason: 'ExitCode', message: '7' }] },
    };
    expect(exitCodeFromStatus(nonZero, 'exec')).toBe(7);
  });

  it('throws for a failure without an exit code (e.g. executable not found)', () => {
    const failure: V1Status = {
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message:
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found',
    };
    expect(() => exitCodeFromStatus(failure, 'exec in pod crate/x')).toThrow(KubeApiError);
    expect(() => exitCodeFromStatus(failure, 'exec in pod crate/x')).toThrow(/executable file not found/);
  });
});
