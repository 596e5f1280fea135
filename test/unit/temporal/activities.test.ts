// The Temporal activities over the engine, on the in-memory fakes with @temporalio/testing's MockActivityEnvironment
// (no server): contracts, heartbeats carrying the engine's log lines, cancellation stopping safely, failure
// classification, and the kubeconfig context choosing the connection.
import { describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { createActivities, retryable } from '../../../shared/temporal/activities.js';
import type { ActivityProgress } from '../../../shared/temporal/contracts.js';
import { ClusterLease, leaseName } from '../../../shared/lease.js';
import { PodRestartResult } from '../../../shared/schemas.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from '../engine/helpers.js';

const ALLOC = 'cluster.routing.allocation.enable';

function activitiesOf(w: World, contexts: Array<string | undefined> = []) {
  return createActivities({
    connect: async (ctx) => {
      contexts.push(ctx);
      if (ctx === 'nowhere')
        throw new (await import('../../../shared/errors.js')).BadInputError(
          'context "nowhere" not found in the kubeconfig',
        );
      return { kube: w.kube, sql: w.sql };
    },
    clock: w.clock,
    keepAliveMs: 1000,
    pollIntervalMs: 1000,
    // As World.deps(): at 1000x a 60 s Lease would fence itself on a loaded machine's stalled event loop.
    leaseDurationSeconds: 600,
  });
}

function mockEnv() {
  const env = new MockActivityEnvironment({ attempt: 1 });
  const beats: ActivityProgress[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d as ActivityProgress));
  return { env, beats };
}

/** env.run, typed by the activity. */
function call<I, R>(env: MockActivityEnvironment, fn: (input: I) => Promise<R>, input: I): Promise<R> {
  return env.run(fn as (input: unknown) => Promise<R>, input) as Promise<R>;
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

const holder = (w: World) => w.kube.leases.get(`crate/${leaseName(w.clusterName)}`)?.spec?.holderIdentity;

describe('Temporal activities', () => {
  it('restartPod restarts the pod through the engine; its heartbeats carry the engine log lines in order', async () => {
    const w = await world({ replicas: 3, operator: true, preStop: 'dc_util' });
    const contexts: Array<string | undefined> = [];
    const a = activitiesOf(w, contexts);
    const { env, beats } = mockEnv();
    const pod = w.podNames()[1]!;
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: w.statefulSetName,
      kubeContext: 'prod-eu',
    });
    beats.length = 0;
    const r = await call(env, a.restartPod, {
      podName: pod,
      namespace: 'crate',
      cluster: JSON.parse(JSON.stringify(cluster)),
      ...fastGate,
      operationId: 'wf-1',
      kubeContext: 'prod-eu',
    });
    expect(PodRestartResult.parse(r)).toEqual(r);
    expect(r).toMatchObject({ success: true, podName: pod, strategyUsed: 'kubernetes_managed' });
    expect(r.newUid).not.toBe(r.oldUid);
    expect(contexts).toEqual(['prod-eu', 'prod-eu']);
    // Every line is numbered once; the last heartbeat holds the last lines, each a JSON line as the runner logs it.
    const last = beats[beats.length - 1]!;
    expect(last.seq).toBeGreaterThan(5);
    const recs = last.lines.map(
      (l) => JSON.parse(l) as { msg: string; level: string; activity: string; workflowId: string },
    );
    expect(recs.every((x) => x.activity === 'restartPod' && typeof x.msg === 'string')).toBe(true);
    expect(last.lines.join('\n')).toContain(`Will delete pod ${pod} with grace period`);
    expect(last.lines.join('\n')).toContain(`Health gate passed after pod ${pod}`);
    const seqs = beats.map((b) => b.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(holder(w)).toBeUndefined();
  });

  it('a retried attempt continues the line numbering of the attempt before it', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w);
    const env = new MockActivityEnvironment({
      attempt: 2,
      heartbeatDetails: { seq: 40, lines: [], pod: null, step: null, at: '' },
    });
    const beats: ActivityProgress[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d as ActivityProgress));
    await call(env, a.analyzeCluster, { namespace: 'crate', kind: 'statefulset' as const, name: 'crate' });
    expect(beats[beats.length - 1]!.seq).toBeGreaterThan(40);
    expect(beats[beats.length - 1]!.lines.join('\n')).toMatch(/attempt 2/);
  });

  it('bad input is a non-retryable bad_input failure, before any connection', async () => {
    const w = await world({ replicas: 3 });
    const contexts: Array<string | undefined> = [];
    const a = activitiesOf(w, contexts);
    const { env } = mockEnv();
    const err = await failureOf(
      call(env, a.analyzeCluster, { namespace: 'Not_A_Namespace', kind: 'statefulset' as const, name: 'crate' }),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'bad_input', nonRetryable: true });
    expect((err as Error).message).toMatch(/^invalid analyzeCluster input: namespace: /);
    expect(contexts).toEqual([]);
    const unknown = await failureOf(
      call(env, a.analyzeCluster, {
        namespace: 'crate',
        kind: 'statefulset' as const,
        name: 'crate',
        kubeContext: 'nowhere',
      }),
    );
    expect(unknown).toMatchObject({
      type: 'bad_input',
      nonRetryable: true,
      message: 'context "nowhere" not found in the kubeconfig',
    });
    const missing = await failureOf(
      call(env, a.analyzeCluster, { namespace: 'crate', kind: 'statefulset' as const, name: 'nope' }),
    );
    expect(missing).toMatchObject({ type: 'bad_input', nonRetryable: true });
  });

  it('planRollingRestart refuses a name of pods that is not a pod of the cluster (bad_input), as rollingRestart does', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w, []);
    const { env } = mockEnv();
    const input = { cluster: w.clusterModel(), healthConsecutive: 1, healthIntervalSeconds: 0 };
    const err = await failureOf(call(env, a.planRollingRestart, { ...input, pods: ['crate-1', 'crate-9'] }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      type: 'bad_input',
      nonRetryable: true,
      message: 'Pod not found: crate-9 (not a pod of cluster crate/crate)',
    });
    // The same input without the typo plans only the named pod.
    const plan = await call(env, a.planRollingRestart, { ...input, pods: ['crate-1'] });
    expect(plan.order.map((p) => p.podName)).toEqual(['crate-1']);
    expect(w.crate.writes).toEqual([]);
  });

  it('locked: another live operation holds the Lease -> non-retryable, the engine result in the details', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    // A live holder: it renews its Lease (a Lease nobody renews is taken over after one TTL, docs/engine.md).
    const other = await ClusterLease.acquire(w.deps({ holderIdentity: 'someone-else' }), {
      namespace: 'crate',
      clusterName: w.clusterName,
      operationId: 'job-other',
      leaseDurationSeconds: 600,
    });
    const err = await failureOf(
      call(env, a.restartPod, { podName: 'crate-0', namespace: 'crate', cluster, ...fastGate, operationId: 'wf-2' }),
    );
    await other.release();
    expect(err).toMatchObject({ type: 'locked', nonRetryable: true });
    expect((err as Error).message).toMatch(/is locked by someone-else/);
    expect((err as ApplicationFailure).details?.[0]).toMatchObject({
      success: false,
      errorKind: 'locked',
      podName: 'crate-0',
    });
    expect(w.crate.decommissions).toHaveLength(0);
  });

  it('refused: an unhealthy (RED) cluster -> non-retryable refused, nothing changed', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 't', shards: 3, replicas: 0 }] });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    w.crate.stopNode(w.nodeName('crate-0'));
    const err = await failureOf(
      call(env, a.restartPod, { podName: 'crate-1', namespace: 'crate', cluster, ...fastGate, operationId: 'wf-3' }),
    );
    expect(err).toMatchObject({ type: 'refused', nonRetryable: true });
    expect(w.crate.writes).toHaveLength(0);
  });

  it('cancellation mid-decommission stops safely: allocation reset, Lease released, CancelledFailure', async () => {
    const w = await world({ replicas: 3, crate: { stepMs: 20_000 } });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    void w.waitFor(() => w.crate.decommissions.length > 0).then(() => env.cancel());
    const err = await failureOf(
      call(env, a.restartPod, { podName: 'crate-2', namespace: 'crate', cluster, ...fastGate, operationId: 'wf-4' }),
    );
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect([...w.crate.transient.keys()]).toEqual([]);
    expect(holder(w)).toBeUndefined();
  });

  it('checkClusterHealth reads the live pods, not the snapshot it was given', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    const stale = JSON.parse(JSON.stringify(cluster)) as typeof cluster;
    for (const p of stale.pods) Object.assign(p, { uid: 'old', podIP: '10.0.0.250', ready: false });
    const h = await call(env, a.checkClusterHealth, { cluster: stale, consecutive: 1, intervalSeconds: 1 });
    expect(h.healthy).toBe(true);
  });

  it('an input with a field since removed (avoidNodes, from an older workflow) is accepted and the field ignored', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    const old = { cluster, consecutive: 1, intervalSeconds: 1, avoidNodes: ['data-hot-0'] };
    const h = await call(env, a.checkClusterHealth, old as Parameters<typeof a.checkClusterHealth>[0]);
    expect(h).toMatchObject({ healthy: true, failedChecks: [] });
  });

  it('a restartPod input with options.force (since removed, an older workflow sent true) restarts the pod', async () => {
    const w = await world({ replicas: 3 });
    const a = activitiesOf(w);
    const { env } = mockEnv();
    const cluster = await call(env, a.analyzeCluster, {
      namespace: 'crate',
      kind: 'statefulset' as const,
      name: 'crate',
    });
    const old = { podName: 'crate-1', namespace: 'crate', cluster, ...fastGate, options: { force: true } };
    const r = await call(env, a.restartPod, old as Parameters<typeof a.restartPod>[0]);
    expect(r).toMatchObject({ success: true, podName: 'crate-1', strategyUsed: 'manual' });
    expect(w.crate.statements.map((x) => x.stmt)).toContain(
      'SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true',
    );
  });
});

describe('retryable (failure classification from errorKind)', () => {
  it.each([
    ['bad_input', 'Pod not found: x', false],
    ['refused', 'Pre-flight health check refused ...', false],
    ['locked', 'Cluster crate/x is locked by y', false],
    ['timeout', 'Manual decommission timed out after 780s', false],
    ['transient', 'anything', true],
    ['failed', 'Kubernetes API error: ServiceUnavailable (the server is currently unable to handle the request)', true],
    ['failed', 'Kubernetes API error: ConnectionFailed (connect ECONNREFUSED)', true],
    ['failed', 'No CrateDB node of cluster crate/x answered SQL (crate-0: cannot reach CrateDB)', true],
    ['failed', 'Kubernetes API error: Conflict (uid precondition)', false],
    ['failed', 'Operation aborted: SIGTERM', false],
  ] as const)('%s: %s -> %s', (kind, message, expected) => {
    expect(retryable(kind, message)).toBe(expected);
  });
});
