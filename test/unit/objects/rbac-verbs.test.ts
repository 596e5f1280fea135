// Least privilege, measured instead of copied: the runner's RBAC (runnerPolicyRules) must grant exactly what the code
// really calls. Two recordings:
//  1. a recording Kubernetes port: which KubernetesPort methods the engine and its SQL factory call during a
//     representative set of unit scenarios (both strategies, rollout, restart, decommission, exec transport,
//     crate-operator discovery, health, plan, a Lease takeover, Events);
//  2. the real adapter (shared/adapters/kube.ts) over a recording mock API server: which HTTP requests each of those
//     methods sends, turned into (API group, resource, verb) the way the API server's authorizer reads a request.
// The union over the called methods is what the Role must grant, no more, no less.
import { KubeConfig } from '@kubernetes/client-node';
import { MockAgent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1PolicyRule } from '@kubernetes/client-node';
import { runnerPolicyRules } from '../../../plugin/objects.js';
import { createKubernetesPort } from '../../../shared/adapters/kube.js';
import { withPodCache } from '../../../shared/adapters/pod-cache.js';
import type { KubernetesPort } from '../../../shared/ports.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { checkClusterHealth } from '../../../shared/health.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { restartPod } from '../../../shared/restart.js';
import { planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { ANNOTATION_OPERATION, ClusterLease, leaseName } from '../../../shared/lease.js';
import { fastGate, world } from '../engine/helpers.js';
import { type World } from '../../support/fakes/world.js';

type Method = keyof KubernetesPort;
const PORT_METHODS: Method[] = [
  'getPod',
  'listPods',
  'watchPod',
  'watchPods',
  'deletePod',
  'getStatefulSet',
  'listStatefulSets',
  'patchStatefulSetLabels',
  'getCrateDB',
  'readSecret',
  'exec',
  'openExec',
  'getLease',
  'createLease',
  'replaceLease',
  'deleteLease',
  'createEvent',
];

/** Record every port method called on this world's Kubernetes (by the engine and by the SQL factory alike). */
function recordPort(w: World, into: Set<Method>): void {
  const kube = w.kube as unknown as Record<Method, (...args: unknown[]) => unknown>;
  for (const m of PORT_METHODS) {
    const original = kube[m].bind(w.kube);
    kube[m] = (...args: unknown[]) => {
      into.add(m);
      return original(...args);
    };
  }
}

const ns = 'crate';

/** The representative scenarios: what a runner does in the field. */
async function calledMethods(): Promise<Set<Method>> {
  const called = new Set<Method>();
  const run = async (opts: Parameters<typeof world>[0], act: (w: World) => Promise<unknown>) => {
    const w = await world(opts);
    recordPort(w, called);
    await act(w);
  };
  // Discovery of a crate-operator cluster (CrateDB resource, system user Secret), then a rollout through exec.
  await run({ replicas: 3, operator: true }, async (w) => {
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: w.statefulSetName });
    expect((await rollingRestart(w.deps(), { cluster, ...fastGate })).success).toBe(true);
  });
  // A rollout named by its crate-operator CrateDB resource (rollout cratedb/NAME).
  await run({ replicas: 2, operator: true }, async (w) => {
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: w.clusterName });
    expect(cluster.statefulSets.map((s) => s.name)).toEqual([w.statefulSetName]);
  });
  // dc_util (kubernetes_managed): rollout with the routing-owner label, a plan, a health check.
  await run({ replicas: 3, preStop: 'dc_util' }, async (w) => {
    expect((await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate })).success).toBe(true);
    await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true });
    await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
  });
  // A rollout over the shared pod watch, as the runner wires it (withPodCache: watchPods instead of GETs).
  await run({ replicas: 3 }, async (w) => {
    const kube = withPodCache(w.kube);
    expect((await rollingRestart(w.deps({ kube }), { cluster: w.clusterModel(), ...fastGate })).success).toBe(true);
    kube.close();
  });
  // manual: restart and decommission one pod.
  await run({ replicas: 3 }, async (w) => {
    expect(
      (await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate }))
        .success,
    ).toBe(true);
    expect(
      (await decommissionPod(w.deps(), { podName: 'crate-2', namespace: ns, cluster: w.clusterModel() })).success,
    ).toBe(true);
  });
  // A CrateDB image without `sh`: the exec session cannot start, one exec per statement instead.
  await run({ replicas: 3 }, async (w) => {
    w.kube.hooks.execSession = (session) => session.exit(127);
    await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
  });
  // An expired Lease of a crashed run is taken over (replace with its resourceVersion), then released.
  const w = await world({ replicas: 1, tables: [] });
  const at = new Date(w.clock.now() - 3_700_000);
  await w.kube.createLease(ns, {
    metadata: { name: leaseName(w.clusterName), annotations: { [ANNOTATION_OPERATION]: 'op-old' } },
    spec: { holderIdentity: 'crashed-run', leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
  });
  recordPort(w, called);
  const l = await ClusterLease.acquire(w.deps(), { namespace: ns, clusterName: w.clusterName, operationId: 'op-new' });
  await l.release();
  expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity).toBeUndefined();
  return called;
}

// ---- 2. the real adapter's HTTP requests per port method ----

const API = 'https://kube.rbac:6443';

/** What the API server's authorizer reads from a request (k8s.io/apiserver RequestInfo): group, resource, verb. */
export function authorizationOf(method: string, path: string): { key: string; verb: string } | null {
  const url = new URL(path, API);
  const parts = url.pathname.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (parts[0] === 'api') {
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    group = parts[1]!;
    rest = parts.slice(3);
  } else return null;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  if (!resource) return null;
  const key = `${group}/${resource}${sub ? `/${sub}` : ''}`;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const verb =
    method === 'GET'
      ? watch
        ? 'watch'
        : name
          ? 'get'
          : 'list'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'PATCH'
            ? 'patch'
            : method === 'DELETE'
              ? name
                ? 'delete'
                : 'deletecollection'
              : method.toLowerCase();
  return { key, verb };
}

const json = (statusCode: number, data: object | string) => ({
  statusCode,
  data,
  responseOptions: { headers: { 'content-type': 'application/json' } },
});
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: ns, uid: 'u', resourceVersion: '5' },
  status: { phase: 'Running' },
};
const LEASE = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'l', namespace: ns, resourceVersion: '5' },
  spec: {},
};

/** Call one method of the real adapter; answer every request with a plausible object and record it. */
async function httpAccessOf(
  port: KubernetesPort,
  m: Method,
  seen: Array<{ method: string; path: string }>,
): Promise<void> {
  const calls: Record<Exclude<Method, 'exec' | 'openExec'>, () => Promise<unknown>> = {
    getPod: () => port.getPod(ns, 'p'),
    listPods: () => port.listPods(ns, 'app=crate'),
    watchPod: async () => {
      const stop = await port.watchPod(ns, 'p', () => undefined);
      for (let i = 0; i < 200 && !seen.some((r) => /[?&]watch=(true|1)/.test(r.path)); i++)
        await new Promise((r) => setTimeout(r, 10));
      stop();
    },
    watchPods: async () => {
      const stop = await port.watchPods(ns, 'statefulset.kubernetes.io/pod-name', () => undefined);
      for (let i = 0; i < 200 && !seen.some((r) => /[?&]watch=(true|1)/.test(r.path)); i++)
        await new Promise((r) => setTimeout(r, 10));
      stop();
    },
    deletePod: () => port.deletePod(ns, 'p', { gracePeriodSeconds: 1, uid: 'u' }),
    getStatefulSet: () => port.getStatefulSet(ns, 's'),
    listStatefulSets: () => port.listStatefulSets(ns),
    patchStatefulSetLabels: () => port.patchStatefulSetLabels(ns, 's', { a: 'b' }),
    getCrateDB: () => port.getCrateDB(ns, 'c'),
    readSecret: () => port.readSecret(ns, 's', 'k'),
    getLease: () => port.getLease(ns, 'l'),
    createLease: () => port.createLease(ns, LEASE),
    replaceLease: () => port.replaceLease(ns, LEASE),
    deleteLease: () => port.deleteLease(ns, 'l'),
    createEvent: () =>
      port.createEvent(ns, {
        involvedObject: { kind: 'Pod', name: 'p', namespace: ns },
        type: 'Normal',
        reason: 'Test',
        message: 'm',
        action: 'Test',
      }),
  };
  seen.length = 0;
  if (m === 'exec' || m === 'openExec') return;
  try {
    await calls[m]();
  } catch {
    // the answer may not fit; the request is what counts
  }
}

describe('runner RBAC = the verbs the code calls', () => {
  let previous: Dispatcher;
  let agent: MockAgent;
  const seen: Array<{ method: string; path: string }> = [];
  let port: KubernetesPort;
  let kc: KubeConfig;
  /** false: an API server without events.k8s.io/v1, where the adapter falls back to core/v1 Events. */
  let eventsV1Served = true;

  beforeAll(() => {
    previous = getGlobalDispatcher();
    agent = new MockAgent();
    agent.disableNetConnect();
    setGlobalDispatcher(agent);
    agent
      .get(API)
      .intercept({ path: () => true, method: () => true })
      .reply<object>((opts) => {
        seen.push({ method: opts.method, path: opts.path });
        const url = new URL(opts.path, API);
        if (url.searchParams.get('watch')) return json(200, '');
        if (url.pathname.startsWith('/apis/events.k8s.io/') && !eventsV1Served) {
          return json(404, {
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            reason: 'NotFound',
            code: 404,
            message: 'the server could not find the requested resource',
          });
        }
        if (url.pathname.includes('/leases')) return json(200, LEASE);
        if (url.pathname.endsWith('/pods'))
          return json(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '5' }, items: [POD] });
        if (url.pathname.includes('/secrets/'))
          return json(200, { apiVersion: 'v1', kind: 'Secret', data: { k: 'dg==' } });
        if (url.pathname.endsWith('/statefulsets')) return json(200, { kind: 'StatefulSetList', items: [] });
        return json(200, POD);
      })
      .persist();
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: API, skipTLSVerify: false }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    port = createKubernetesPort(kc, {
      reportingInstance: 'rbac',
      watch: { initialBackoffMs: 5, maxBackoffMs: 50, minHealthyWatchMs: 0 },
    });
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    await agent.close();
  });

  it('grants exactly the union of what the called port methods send', async () => {
    const called = await calledMethods();
    const needed: Record<string, Set<string>> = {};
    const add = (key: string, verb: string) => (needed[key] ??= new Set()).add(verb);
    const perMethod: Record<string, string[]> = {};
    for (const m of [...called].sort()) {
      if (m === 'exec' || m === 'openExec') {
        // A websocket (not undici), so not recorded here: the upgrade is a GET, and the API server authorizes an exec
        // as `create` on pods/exec (and `get` for websocket clients on older servers).
        add('/pods/exec', 'create');
        add('/pods/exec', 'get');
        perMethod[m] = ['/pods/exec create', '/pods/exec get'];
        continue;
      }
      await httpAccessOf(port, m, seen);
      if (m === 'createEvent') {
        // The same call on an API server without events.k8s.io/v1 (a fresh adapter: it remembers the fallback).
        const requests = [...seen];
        eventsV1Served = false;
        await httpAccessOf(createKubernetesPort(kc, { reportingInstance: 'rbac' }), m, seen);
        eventsV1Served = true;
        seen.unshift(...requests);
      }
      const access = seen.map((r) => authorizationOf(r.method, r.path)).filter((a) => a !== null);
      expect(access.length, `${m} sent no request`).toBeGreaterThan(0);
      perMethod[m] = [...new Set(access.map((a) => `${a.key} ${a.verb}`))];
      for (const a of access) add(a.key, a.verb);
    }
    const granted = grants(runnerPolicyRules());
    const want = Object.fromEntries(Object.entries(needed).map(([k, v]) => [k, [...v].sort()]));
    expect(granted, `called: ${JSON.stringify(perMethod)}`).toEqual(want);
    // The scenarios are representative: they call every method of the port but deleteLease, which only tests use
    // (a run releases its Lease by an update), hence no `delete` on leases.
    expect(PORT_METHODS.filter((m) => !called.has(m))).toEqual(['deleteLease']);
  }, 120_000);
});

function grants(rules: V1PolicyRule[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        const key = `${g}/${res}`;
        out[key] ??= new Set();
        for (const v of r.verbs) out[key].add(v);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}
