// restartPod and decommissionPod called on their own run the same pre-flight gate as a rolling restart:
// an unhealthy cluster is refused (errorKind refused, exit 3) with nothing changed, unless skipPreflight.
import { describe, expect, it } from 'vitest';
import { decommissionPod } from '../../../shared/decommission.js';
import { restartPod } from '../../../shared/restart.js';
import { exitCodeFor, ExitCode } from '../../../shared/task/exit.js';
import { leaseName } from '../../../shared/lease.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';

/** One replica unassigned and kept so: the cluster is not GREEN. */
function makeUnhealthy(w: World): void {
  const replica = w.crate.shards.find((c) => !c.primary)!;
  replica.state = 'UNASSIGNED';
  replica.node = null;
  w.crate.transient.set(ALLOC, 'none');
}

function changes(w: World) {
  return {
    kube: w.kube.writes.filter((x) => x.kind === 'Pod' || x.kind === 'StatefulSet'),
    sql: w.crate.writes,
  };
}

const ops = [
  [
    'restartPod',
    (w: World, extra: Record<string, unknown> = {}) =>
      restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate, ...extra }),
  ],
  [
    'decommissionPod',
    (w: World, extra: Record<string, unknown> = {}) =>
      decommissionPod(w.deps(), {
        podName: 'crate-1',
        namespace: ns,
        cluster: w.clusterModel(),
        healthConsecutive: 3,
        healthIntervalSeconds: 2,
        ...extra,
      }),
  ],
] as const;

describe.each(ops)('%s pre-flight gate', (name, run) => {
  it('refuses an unhealthy cluster: errorKind refused (exit 3), the failed checks named, nothing changed', async () => {
    const w = await world({ replicas: 3 });
    makeUnhealthy(w);
    const r = await run(w);
    expect(r).toMatchObject({ success: false, errorKind: 'refused', podName: 'crate-1', strategyUsed: 'manual' });
    expect(exitCodeFor(r.errorKind!)).toBe(ExitCode.refused);
    expect(r.error).toMatch(
      new RegExp(
        `^Pre-flight health check refused the ${name === 'restartPod' ? 'restart' : 'decommission'} of pod crate/crate-1: failed checks all_tables_green`,
      ),
    );
    expect(r.preflight).toMatchObject({ healthy: false, failedChecks: ['all_tables_green'] });
    expect(changes(w)).toEqual({ kube: [], sql: [] });
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-1')).toHaveLength(1);
    expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity).toBeUndefined();
    expect(w.kube.events.map((e) => e.reason)).toEqual(['HealthGateBlocked']);
  });

  it('dry run reports the pre-flight result and that it would refuse, writing nothing', async () => {
    const w = await world({ replicas: 3 });
    makeUnhealthy(w);
    const r = await run(w, { dryRun: true });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toMatch(/^Pre-flight health check would refuse/);
    expect(r.preflight?.failedChecks).toEqual(['all_tables_green']);
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.events).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('dry run of a healthy cluster reports the passed pre-flight', async () => {
    const w = await world({ replicas: 3 });
    const r = await run(w, { dryRun: true });
    expect(r.success).toBe(true);
    expect(r.preflight?.healthy).toBe(true);
    expect(r.preflight?.checks.map((c) => c.name)).toEqual([
      'sql_reachable',
      'all_tables_green',
      'node_count_matches_replicas',
      'master_elected',
      'no_relocating_shards',
      'no_initializing_shards',
      'no_snapshot_running',
    ]);
    expect(w.kube.writes).toEqual([]);
  });

  it('skipPreflight goes on regardless and says so', async () => {
    const w = await world({ replicas: 3 });
    makeUnhealthy(w);
    const r = await run(w, { skipPreflight: true, dryRun: true });
    expect(r.success).toBe(true);
    expect(r.preflight).toBeNull();
    expect(w.log.text()).toContain('Pre-flight health check SKIPPED');
  });

  it('a healthy cluster passes and the result carries the reading', async () => {
    const w = await world({ replicas: 3 });
    const r = await run(w);
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.preflight).toMatchObject({ healthy: true, goodReadings: 3 });
    expect(w.crate.violations).toEqual([]);
  });
});

describe('pre-flight of a pod that is not there', () => {
  it('is bad input (Pod not found), not a refusal', async () => {
    const w = await world({ replicas: 3 });
    makeUnhealthy(w);
    const r = await restartPod(w.deps(), { podName: 'crate-9', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'bad_input', error: 'Pod not found: crate-9' });
  });
});

describe('pre-flight of a resumed operation', () => {
  it('a re-run of the same operation that already restarted the pod is not refused while the cluster recovers', async () => {
    const { ANNOTATION_OPERATION, ANNOTATION_PROGRESS } = await import('../../../shared/lease.js');
    const w = await world({ replicas: 3 });
    makeUnhealthy(w);
    const at = new Date(w.clock.now() - 5_000);
    const uid = w.podUid('crate-1')!;
    await w.kube.createLease(ns, {
      metadata: {
        name: leaseName(w.clusterName),
        annotations: {
          [ANNOTATION_OPERATION]: 'op-1',
          [ANNOTATION_PROGRESS]: JSON.stringify({
            operationId: 'op-1',
            done: { 'crate-1': uid },
            current: null,
            allocationSet: null,
          }),
        },
      },
      spec: { holderIdentity: 'crashed-runner', leaseDurationSeconds: 3600, acquireTime: at, renewTime: at },
    });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-1',
    });
    expect(r).toMatchObject({ success: true, skipped: true, errorKind: null });
    expect(r.preflight?.healthy).toBe(false);
    expect(w.log.text()).toContain('Cluster not healthy yet (all_tables_green); finishing the restart of pod crate-1');
    // a different operation is refused
    const other = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-2',
    });
    expect(other).toMatchObject({ success: false, errorKind: 'refused' });
  });
});
