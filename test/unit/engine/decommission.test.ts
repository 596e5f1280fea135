// decommissionPod and restartPod: both strategies end to end, transports, every error message,
// every exit path resetting allocation, dry run writing nothing.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { decommissionPod } from '../../../shared/decommission.js';
import { restartPod } from '../../../shared/restart.js';
import { SQL } from '../../../shared/cluster-sql.js';
import { LABEL_ROUTING_OWNER } from '../../../shared/operation.js';
import { leaseName } from '../../../shared/lease.js';
import { fastGate, world, writesOf } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';
/** What puts graceful_stop.* back when they were at CrateDB's defaults before: one RESET GLOBAL for the three. */
const RESTORED_DEFAULTS = [
  'RESET GLOBAL "cluster.graceful_stop.timeout", "cluster.graceful_stop.force", "cluster.graceful_stop.min_availability"',
];

function stsLabels(w: World): Record<string, string> {
  return w.kube.statefulSets.get(`${ns}/${w.statefulSetName}`)!.metadata!.labels!;
}

function engineCalls(w: World) {
  return w.sql.calls;
}

function leaseHolder(w: World): string | undefined {
  return w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity;
}

describe('manual strategy', () => {
  it('restarts a pod end to end: settings, DECOMMISSION by parameter through another node, delete at once, rejoin, RESET, health gate', async () => {
    const w = await world({ replicas: 3 });
    const oldUid = w.podUid('crate-1')!;
    const labelsSeen: (string | undefined)[] = [];
    const stop = await w.kube.watchPod(ns, 'crate-1', () => labelsSeen.push(stsLabels(w)[LABEL_ROUTING_OWNER]));
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    stop();
    expect(r).toMatchObject({ success: true, strategyUsed: 'manual', error: null, oldUid, skipped: false });
    expect(r.newUid).not.toBe(oldUid);
    expect(r.newUid).toBe(w.podUid('crate-1'));
    expect(r.decommission).toMatchObject({
      success: true,
      processExited: true,
      decommissionTimeout: 720,
      strategyUsed: 'manual',
    });
    expect(r.health).toMatchObject({ healthy: true, goodReadings: 3 });

    expect(writesOf(w)).toEqual([
      `SET GLOBAL TRANSIENT "${ALLOC}" = 'primaries'`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '720s'`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'PRIMARIES'`,
      'ALTER CLUSTER DECOMMISSION ?',
      `RESET GLOBAL "${ALLOC}"`,
      ...RESTORED_DEFAULTS,
    ]);
    const decommission = w.crate.writes.find((s) => s.stmt.startsWith('ALTER'))!;
    expect(decommission.args).toEqual(['data-hot-1']);
    // Sent and read through ANOTHER node than the one draining.
    expect(w.crate.writes.every((s) => s.node !== 'data-hot-1')).toBe(true);
    const deletes = w.kube.writes.filter((x) => x.kind === 'Pod');
    expect(deletes).toEqual([
      { verb: 'delete', kind: 'Pod', namespace: ns, name: 'crate-1', detail: { gracePeriodSeconds: 30, uid: oldUid } },
    ]);
    // Deleted before the container could restart in place.
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-1')).toHaveLength(2);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
    // Routing ownership label while we held the setting, removed after.
    expect(labelsSeen.some((l) => l?.startsWith('crate-decommission-'))).toBe(true);
    expect(stsLabels(w)[LABEL_ROUTING_OWNER]).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();

    const text = w.log.text();
    for (const line of [
      'INFO: Analyzing decommission strategy for pod crate-1',
      'INFO: Cluster config: has_prestop_hook=False, has_dc_util=False',
      'INFO: Using manual decommission for pod crate-1',
      'INFO: No dc_util configured - executing manual decommission via CrateDB API',
      `DEBUG: Executing manual decommission SQL 1/5: SET GLOBAL TRANSIENT "${ALLOC}" = 'primaries'`,
      'INFO: Manual decommission completed - CrateDB process has exited',
      'INFO: Pod crate-1 is ready for deletion and restart',
      'INFO: Manual decommission strategy completed for pod crate-1',
      'INFO: Decommission completed for pod crate-1 using manual strategy',
    ]) {
      expect(text).toContain(line);
    }
    // Three Normal Events for the pod, each a significant transition with what used to be seven (docs/observability.md).
    expect(w.kube.events.map((e) => `${e.involvedObject.kind} ${e.reason}`)).toEqual([
      'Pod DecommissionStarted',
      'Pod PodDeleted',
      'Pod PodRestarted',
    ]);
    const [started, deleted, restarted] = w.kube.events.map((e) => e.message);
    expect(started).toMatch(
      /^ALTER CLUSTER DECOMMISSION of node \S+ \(min_availability PRIMARIES, timeout \d+s\); cluster\.routing\.allocation\.enable = primaries until the node is back$/,
    );
    expect(deleted).toMatch(/^Pod deleted after node \S+ decommissioned$/);
    expect(restarted).toMatch(
      /^Re-created pod Ready \(uid \S+\) \d+\.\ds after the delete; node \S+ rejoined \d+\.\ds later; cluster\.routing\.allocation\.enable reset \(was primaries\); health gate passed: 3 consecutive good readings in \d+\.\ds; \d+\.\ds in all \(drain and delete \d+\.\ds\)$/,
    );
    // Every line names the pod and the step (the plugin renders progress per pod and step).
    const fieldsOf = (msg: string) => w.log.lines.find((l) => l.message.startsWith(msg))?.fields;
    expect(fieldsOf('Manual decommission completed')).toMatchObject({
      pod: 'crate-1',
      step: 'decommission',
      strategy: 'manual',
    });
    expect(fieldsOf('Pod crate-1 is ready for deletion')).toMatchObject({ pod: 'crate-1', step: 'delete' });
    expect(fieldsOf('Pod crate-1 is Ready again')).toMatchObject({ pod: 'crate-1', step: 'wait-ready' });
    expect(fieldsOf('Health gate passed')).toMatchObject({ pod: 'crate-1', step: 'health-gate' });
  });

  it('uses new_primaries only when asked, passes timeout and min_availability, force always true', async () => {
    const w = await world({ replicas: 3 });
    const r = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: { allocation: 'new_primaries', decommissionTimeout: 300, minAvailability: 'none' },
    });
    expect(r.success).toBe(true);
    expect(writesOf(w).slice(0, 4)).toEqual([
      `SET GLOBAL TRANSIENT "${ALLOC}" = 'new_primaries'`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '300s'`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true`,
      `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'NONE'`,
    ]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });

  it('sends DECOMMISSION through exec as crate when the HTTP user is not a superuser (crate-operator), and logs why', async () => {
    const w = await world({ replicas: 3, operator: true });
    const r = await restartPod(w.deps(), {
      podName: 'crate-data-hot-c1-0',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    const alter = w.crate.writes.find((s) => s.stmt.startsWith('ALTER'))!;
    expect(alter).toMatchObject({ via: 'exec', user: 'crate', args: ['data-hot-0'] });
    expect(alter.node).not.toBe('data-hot-0');
    expect(
      w.crate.writes.filter((s) => s.stmt.startsWith('SET')).every((s) => s.via === 'http' && s.user === 'system'),
    ).toBe(true);
    expect(w.kube.execs.some((e) => e.container === 'crate' && e.pod !== 'crate-data-hot-c1-0')).toBe(true);
    expect(w.log.text()).toMatch(
      /through exec into pod crate-data-hot-c1-\d container crate as crate: the HTTP user system is not a superuser/,
    );
    expect(w.crate.violations).toEqual([]);
  });

  it('falls back to exec when HTTP answers 4010 although the user was believed a superuser', async () => {
    const w = await world({ replicas: 3, operator: true });
    const cluster = w.clusterModel();
    cluster.sql.superuser = true;
    const r = await restartPod(w.deps(), { podName: 'crate-data-hot-c1-1', namespace: ns, cluster, ...fastGate });
    expect(r.success).toBe(true);
    const alters = w.crate.writes.filter((s) => s.stmt.startsWith('ALTER'));
    expect(alters).toHaveLength(1);
    expect(alters[0]).toMatchObject({ via: 'exec', user: 'crate' });
    expect(w.sql.calls.some((c) => c.kind === 'http' && c.stmt.startsWith('ALTER'))).toBe(true);
    expect(w.log.text()).toContain('The HTTP user system may not decommission');
  });

  it('asks sys.users when superuser is unknown and uses HTTP when the user is one (--sql-transport http)', async () => {
    const w = await world({ replicas: 3 });
    const cluster = w.clusterModel();
    cluster.sql.transport = 'http';
    const r = await restartPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster, ...fastGate });
    expect(r.success).toBe(true);
    expect(w.crate.statements.some((s) => s.stmt === SQL.superuser)).toBe(true);
    expect(w.crate.writes.find((s) => s.stmt.startsWith('ALTER'))).toMatchObject({ via: 'http' });
  });

  it('without credentials (transport auto) sends every statement through exec as crate, and does not ask sys.users', async () => {
    const w = await world({ replicas: 3 });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(w.sql.calls.length).toBeGreaterThan(0);
    expect(w.sql.calls.every((c) => c.kind === 'exec')).toBe(true);
    expect(w.crate.statements.some((s) => s.stmt === SQL.superuser)).toBe(false);
    expect(w.crate.writes.find((s) => s.stmt.startsWith('ALTER'))).toMatchObject({
      via: 'exec',
      user: 'crate',
      args: ['data-hot-1'],
    });
  });

  it('with crate-operator credentials (transport auto) reads over HTTP as system', async () => {
    const w = await world({ replicas: 3, operator: true });
    const r = await restartPod(w.deps(), {
      podName: 'crate-data-hot-c1-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
    });
    expect(r.success).toBe(true);
    expect(w.sql.calls.some((c) => c.kind === 'http' && c.stmt === SQL.nodes)).toBe(true);
    expect(w.sql.calls.some((c) => c.kind === 'exec' && c.stmt === SQL.nodes)).toBe(false);
  });

  it('--sql-transport exec sends everything through exec even with credentials', async () => {
    const w = await world({ replicas: 3, operator: true });
    const cluster = w.clusterModel();
    cluster.sql.transport = 'exec';
    const r = await restartPod(w.deps(), { podName: 'crate-data-hot-c1-2', namespace: ns, cluster, ...fastGate });
    expect(r.success).toBe(true);
    expect(w.sql.calls.every((c) => c.kind === 'exec')).toBe(true);
    expect(w.crate.writes.find((s) => s.stmt.startsWith('ALTER'))).toMatchObject({ via: 'exec', user: 'crate' });
  });

  it('falls back to a single-quoted node name when the parameter form is refused; quotes are doubled', async () => {
    expect(SQL.decommissionLiteral("it's")).toBe("ALTER CLUSTER DECOMMISSION 'it''s'");
    const w = await world({ replicas: 3, crate: { rejectParameterizedDecommission: true } });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    expect(writesOf(w)).toContain("ALTER CLUSTER DECOMMISSION 'data-hot-1'");
  });

  it('copes with a DECOMMISSION that answers only when the node stopped', async () => {
    const w = await world({ replicas: 3, crate: { decommissionBlocks: true } });
    const r = await restartPod(w.deps(), { podName: 'crate-2', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    expect(w.crate.decommissions).toHaveLength(1);
  });

  it('times out with the documented message and resets allocation (node still up at the timeout, drain impossible)', async () => {
    // Every node holds a copy of every shard: primaries cannot move, and the stop aborts at its timeout.
    const w = await world({
      replicas: 3,
      tables: [{ name: 't', shards: 3, replicas: 2 }],
      crate: { abortsStopOnTimeout: true },
    });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: { decommissionTimeout: 5 },
    });
    expect(r).toMatchObject({ success: false, errorKind: 'timeout', error: 'Manual decommission timed out after 65s' });
    expect(r.decommission).toMatchObject({
      success: false,
      strategyUsed: 'manual',
      processExited: false,
      error: 'Manual decommission timed out after 65s',
    });
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(writesOf(w).slice(-2)).toEqual([`RESET GLOBAL "${ALLOC}"`, ...RESTORED_DEFAULTS]);
    expect(stsLabels(w)[LABEL_ROUTING_OWNER]).toBeUndefined();
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([]);
    expect(leaseHolder(w)).toBeUndefined();
    expect(w.kube.events.some((e) => e.reason === 'DecommissionFailed' && e.type === 'Warning')).toBe(true);
  });

  it('"Failed to delete pod: Forbidden" after the drain; allocation reset, lock released', async () => {
    const w = await world({ replicas: 3 });
    w.kube.forbid('deletePod');
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({
      success: false,
      error: 'Failed to delete pod: Forbidden',
      errorKind: 'bad_input',
      strategyUsed: 'manual',
    });
    // Missing RBAC is bad input (exit 2: the Job's podFailurePolicy fails at once instead of retrying); the log says what to do.
    expect(w.log.text()).toMatch(/may not delete pods; grant it \(kubectl crate-decommission rbac install -n crate\)/);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('aborted mid-decommission: stops, resets allocation, releases the lock', async () => {
    const w = await world({ replicas: 3, crate: { stepMs: 20_000 } });
    const ac = new AbortController();
    void w.waitFor(() => w.crate.decommissions.length > 0).then(() => ac.abort(new Error('SIGTERM')));
    const r = await restartPod(w.deps({ signal: ac.signal }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
    });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/aborted: SIGTERM/i);
    expect(writesOf(w).slice(-2)).toEqual([`RESET GLOBAL "${ALLOC}"`, ...RESTORED_DEFAULTS]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('times out waiting for the re-created pod and still resets allocation', async () => {
    const w = await world({ replicas: 3 });
    w.joinDelayMs = 10_000_000;
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      podReadyTimeout: 20,
    });
    expect(r).toMatchObject({
      success: false,
      errorKind: 'timeout',
      error: 'Pod crate-1 was not Ready within 20s after it was re-created',
    });
    expect(r.decommission?.success).toBe(true);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('health gate after the pod names the failed checks when the cluster does not recover', async () => {
    const w = await world({ replicas: 3 });
    const cluster = w.clusterModel();
    cluster.expectedNodes = 4; // a node that never comes (the pre-flight would refuse: skipped here)
    const r = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster,
      ...fastGate,
      healthTimeout: 10,
      skipPreflight: true,
    });
    expect(r.success).toBe(false);
    expect(r.errorKind).toBe('timeout');
    expect(r.error).toBe(
      'Cluster did not become healthy within 10s after restarting pod crate-2: failed checks node_count_matches_replicas',
    );
    expect(r.health?.failedChecks).toEqual(['node_count_matches_replicas']);
    expect(w.kube.events.some((e) => e.reason === 'HealthGateBlocked')).toBe(true);
  });

  it('an unready pod whose node is not in the cluster is only deleted (nothing to drain)', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-2');
    w.kube.setReady(ns, 'crate-2', false);
    const oldUid = w.podUid('crate-2');
    // The cluster misses exactly that node: a degraded pre-flight that lets this pod (only) go on.
    const r = await restartPod(w.deps(), { podName: 'crate-2', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.preflight).toMatchObject({
      healthy: false,
      failedChecks: ['node_count_matches_replicas'],
      degraded: { pods: ['crate-2'] },
    });
    expect(w.crate.writes).toEqual([]);
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([
      { verb: 'delete', kind: 'Pod', namespace: ns, name: 'crate-2', detail: { gracePeriodSeconds: 30, uid: oldUid } },
    ]);
    expect(w.log.text()).toContain(
      'Node data-hot-2 of pod crate-2 is not in the cluster: nothing to drain, deleting the pod',
    );
  });

  it('a one-node cluster: settings and the decommission go through the only node', async () => {
    const w = await world({ replicas: 1, tables: [{ name: 't', shards: 2, replicas: 0 }] });
    // Nothing can move off a single node: min_availability NONE lets it stop at once.
    const r = await restartPod(w.deps(), {
      podName: 'crate-0',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: { minAvailability: 'NONE' },
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    // 4 SETs, the DECOMMISSION, the allocation RESET and one RESET of the three graceful_stop settings.
    expect(w.crate.writes.map((s) => s.node)).toEqual(Array(7).fill('data-hot-0'));
  });

  it('standalone decommissionPod holds allocation until the node is back, then resets it', async () => {
    const w = await world({ replicas: 3 });
    const r = await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster: w.clusterModel() });
    expect(r).toMatchObject({ success: true, strategyUsed: 'manual', processExited: true, error: null });
    expect(w.crate.node('data-hot-0')?.state).toBe('up');
    expect(writesOf(w).slice(-2)).toEqual([`RESET GLOBAL "${ALLOC}"`, ...RESTORED_DEFAULTS]);
    expect(leaseHolder(w)).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
  });
});

describe('kubernetes_managed strategy', () => {
  it('deletes with the detected grace period and a UID precondition, follows the pod by watch, gates health', async () => {
    const w = await world({ replicas: 3, operator: true, preStop: 'dc_util' });
    const pod = 'crate-data-hot-c1-2';
    const oldUid = w.podUid(pod)!;
    const cluster = w.clusterModel();
    expect(cluster.statefulSets[0]!.detection.deleteGracePeriodSeconds).toBe(1200);
    const r = await restartPod(w.deps(), { podName: pod, namespace: ns, cluster, ...fastGate });
    expect(r.error).toBeNull();
    expect(r).toMatchObject({ success: true, strategyUsed: 'kubernetes_managed', oldUid });
    expect(r.decommission).toMatchObject({ decommissionTimeout: 1080, processExited: true });
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([
      { verb: 'delete', kind: 'Pod', namespace: ns, name: pod, detail: { gracePeriodSeconds: 1200, uid: oldUid } },
    ]);
    // dc_util did the decommission; the engine sent no settings nor DECOMMISSION.
    expect(engineCalls(w).filter((c) => /^(SET|RESET|ALTER)/.test(c.stmt))).toEqual([]);
    expect(w.crate.decommissions.map((d) => d.node)).toEqual(['data-hot-2']);
    expect(w.crate.violations).toEqual([]);
    const text = w.log.text();
    for (const line of [
      `INFO: Analyzing decommission strategy for pod ${pod}`,
      'INFO: Cluster config: has_prestop_hook=True, has_dc_util=True',
      `INFO: Using Kubernetes-managed decommission for pod ${pod}`,
      'INFO: PreStop hook with dc_util will handle decommission automatically',
      `INFO: Will delete pod ${pod} with grace period 1200s for dc_util`,
      `INFO: Pod ${pod} has been deleted`,
      `INFO: Kubernetes-managed decommission completed for pod ${pod}`,
      `INFO: Decommission completed for pod ${pod} using kubernetes_managed strategy`,
    ]) {
      expect(text).toContain(line);
    }
  });

  it('"Failed to delete pod: Forbidden"', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    w.kube.forbid('deletePod');
    const r = await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster: w.clusterModel() });
    expect(r).toMatchObject({
      success: false,
      strategyUsed: 'kubernetes_managed',
      error: 'Failed to delete pod: Forbidden',
      errorKind: 'bad_input',
    });
    expect(leaseHolder(w)).toBeUndefined();
  });
});

describe('errors and dry run', () => {
  it('"Pod not found: <pod>" with strategy unknown', async () => {
    const w = await world({ replicas: 2 });
    const r = await decommissionPod(w.deps(), { podName: 'crate-9', namespace: ns, cluster: w.clusterModel() });
    expect(r).toMatchObject({
      success: false,
      error: 'Pod not found: crate-9',
      strategyUsed: 'unknown',
      errorKind: 'bad_input',
    });
    const rr = await restartPod(w.deps(), { podName: 'crate-9', namespace: ns, cluster: w.clusterModel() });
    expect(rr).toMatchObject({ success: false, error: 'Pod not found: crate-9', strategyUsed: 'unknown' });
    expect(w.kube.writes.filter((x) => x.kind !== 'Lease')).toEqual([]);
  });

  it.each([
    ['manual', { replicas: 3 }],
    ['kubernetes_managed', { replicas: 3, preStop: 'dc_util' as const }],
    ['manual under crate-operator', { replicas: 3, operator: true }],
  ])('dry run (%s) describes and writes nothing', async (_name, opts) => {
    const w = await world(opts);
    const pod = w.podNames()[1]!;
    const d = await decommissionPod(w.deps(), { podName: pod, namespace: ns, cluster: w.clusterModel(), dryRun: true });
    const r = await restartPod(w.deps(), { podName: pod, namespace: ns, cluster: w.clusterModel(), dryRun: true });
    expect(d).toMatchObject({ success: true, dryRun: true });
    expect(r.success).toBe(true);
    // The pre-flight is reported; it only reads (through exec when no HTTP credentials are known).
    expect(d.preflight).toMatchObject({ healthy: true });
    expect(r.preflight).toMatchObject({ healthy: true });
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.execs.every((e) => !/SET GLOBAL|RESET GLOBAL|DECOMMISSION/i.test(JSON.stringify(e)))).toBe(true);
    expect(w.crate.writes).toEqual([]);
    expect(w.kube.events).toEqual([]);
    expect(w.log.text()).toMatch(/Would (execute manual decommission SQL 5\/5|wait)|Will delete pod/);
  });

  it('a pod of another cluster is bad input', async () => {
    const w = await world({ replicas: 2 });
    const cluster = w.clusterModel();
    cluster.statefulSets[0]!.name = 'other';
    cluster.pods = [];
    const r = await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster });
    expect(r).toMatchObject({ success: false, errorKind: 'bad_input' });
    expect(r.error).toContain('is not part of CrateDB cluster');
  });
});

describe('watch, not sleep', () => {
  it('notices the process exit by watch and deletes before the in-place restart', async () => {
    // The kubelet restarts the container 30 s (engine time) after it exited; CrateDB is polled
    // only every 10 min: only a watch notices the exit in time.
    const w = await world({ replicas: 3, kube: { restartDelayMs: 30_000 } });
    const seen: V1Pod[] = [];
    const oldUid = w.podUid('crate-1');
    const stop = await w.kube.watchPod(ns, 'crate-1', (p) => p && seen.push(p));
    const r = await restartPod(w.deps({ pollIntervalMs: 600_000 }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
    });
    stop();
    expect(r.success).toBe(true);
    const old = seen.filter((p) => p.metadata?.uid === oldUid);
    expect(old.every((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) === 0)).toBe(true);
  });
});
