// ECK-style degraded pre-flight: a cluster whose only failures are explained by unready pods whose CrateDB
// node is not in the cluster (a crash loop after a bad config) lets exactly those pods restart first; the
// full health gate must pass before any Ready pod is touched. RED (a missing primary) always refuses.
import { describe, expect, it } from 'vitest';
import { decommissionPod } from '../../../shared/decommission.js';
import { leaseName } from '../../../shared/lease.js';
import { restartPod } from '../../../shared/restart.js';
import { planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { ExitCode, exitCodeFor } from '../../../shared/task/exit.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';
/** Every shard on every node of a 3-node cluster: one node out leaves the tables YELLOW, never RED. */
const yellowWhenOneNodeIsOut = [{ name: 't1', shards: 3, replicas: 2 }];

function leaseHolder(w: World): string | undefined {
  return w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity;
}

function recreations(w: World, pod: string): number {
  return w.kube.podHistory.filter((p) => p.name === pod).length - 1;
}

function podWrites(w: World) {
  return w.kube.writes.filter((x) => x.kind === 'Pod' || x.kind === 'StatefulSet');
}

/** A 3-pod cluster whose crate-1 crash-loops: unready, node data-hot-1 not in sys.nodes, tables YELLOW. */
async function crashLooping(
  opts: {
    recreated?: 'healthy' | 'crashes';
    replicas?: number;
    tables?: { name: string; shards: number; replicas: number }[];
  } = {},
): Promise<World> {
  const w = await world({ replicas: opts.replicas ?? 3, tables: opts.tables ?? yellowWhenOneNodeIsOut });
  w.crashLoop('crate-1', opts.recreated ? { recreated: opts.recreated } : {});
  expect(w.crate.node('data-hot-1')?.state).toBe('down');
  return w;
}

describe('degraded pre-flight: rolling restart', () => {
  it('rolls a cluster with a crash-looping pod: the unready pod first, then the gate passes and the others follow', async () => {
    const w = await crashLooping();
    expect(w.crate.health()).toBe('YELLOW');
    // (every shard on every node: a Ready node's primaries cannot move, so its drain ends at graceful_stop.timeout)
    const r = await rollingRestart(w.deps(), {
      cluster: w.clusterModel(),
      ...fastGate,
      options: { decommissionTimeout: 60 },
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.plan.preflight).toMatchObject({
      healthy: false,
      healthStatus: 'YELLOW',
      failedChecks: expect.arrayContaining(['all_tables_green', 'node_count_matches_replicas']),
      degraded: { pods: ['crate-1'] },
    });
    expect(r.plan.preflightDecision).toMatchObject({ outcome: 'degraded', pods: ['crate-1'] });
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-1', 'crate-2', 'crate-0']);
    // The unready pod's own gate is the full one (nothing tolerated) and passed before crate-2 was touched.
    expect(r.pods[0]!.health).toMatchObject({ healthy: true });
    const events = w.kube.events.map((e) => `${e.reason} ${e.involvedObject.name}`);
    expect(events.indexOf('PodRestarted crate-1')).toBeGreaterThan(-1);
    expect(events.indexOf('PodRestarted crate-1')).toBeLessThan(events.indexOf('DecommissionStarted crate-2'));
    for (const p of w.podNames()) expect(recreations(w, p)).toBe(1);
    // Its node was not in the cluster: only deleted, never decommissioned.
    expect(w.crate.decommissions.map((d) => d.node)).toEqual(['data-hot-2', 'data-hot-0']);
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.health()).toBe('GREEN');
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(r.allocationReset).toBe(true);
    expect(leaseHolder(w)).toBeUndefined();
    expect(w.log.text()).toMatch(
      /WARN: preflight: degraded - only unready pod crate-1 may restart first \(.*node_count_matches_replicas: 2\/3 explained by unready pod crate-1/,
    );
    expect(w.kube.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['PreflightDegraded', 'RolloutSucceeded']),
    );
  });

  it('two crash-looping pods: each restarts first, the gate between them tolerates only the one still to come', async () => {
    const w = await world({ replicas: 4, tables: [{ name: 't1', shards: 4, replicas: 3 }] });
    w.crashLoop('crate-1');
    w.crashLoop('crate-3');
    const r = await rollingRestart(w.deps(), {
      cluster: w.clusterModel(),
      ...fastGate,
      options: { decommissionTimeout: 60 },
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.plan.preflightDecision).toMatchObject({ outcome: 'degraded', pods: ['crate-1', 'crate-3'] });
    expect(r.plan.preflightDecision!.message).toContain(
      'node_count_matches_replicas: 2/4 explained by unready pods crate-1, crate-3',
    );
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-3', 'crate-1', 'crate-2', 'crate-0']);
    // After crate-3: still degraded by crate-1 (tolerated); after crate-1: the full gate.
    expect(r.pods[0]!.health).toMatchObject({ healthy: false, degraded: { pods: ['crate-1'] } });
    expect(r.pods[1]!.health).toMatchObject({ healthy: true });
    expect(w.crate.violations).toEqual([]);
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('a RED table refuses (a missing primary is never explained), nothing written', async () => {
    const w = await crashLooping({ tables: [...yellowWhenOneNodeIsOut, { name: 'solo', shards: 3, replicas: 0 }] });
    expect(w.crate.health()).toBe('RED');
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused', pods: [] });
    expect(exitCodeFor(r.errorKind)).toBe(ExitCode.refused);
    expect(r.error).toMatch(
      /^Pre-flight health check refused the rolling restart of crate\/crate: failed checks all_tables_green, node_count_matches_replicas/,
    );
    expect(r.error).toContain('not explained by unready pods: health is RED');
    expect(r.plan.preflightDecision?.outcome).toBe('refused');
    expect(r.plan.preflight?.degraded ?? null).toBeNull();
    // The reason is a field of the gate's result (issue 12 item 4), not recovered from the error text.
    expect(r.plan.preflight?.notExplainedByUnready).toBe(
      'health is RED (a missing primary is never explained by unready pods)',
    );
    expect(podWrites(w)).toEqual([]);
    expect(w.crate.writes).toEqual([]);
    expect(recreations(w, 'crate-1')).toBe(0);
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('an unready pod that does not come back healthy stops the roll before any Ready pod (allocation reset, lock released)', async () => {
    const w = await crashLooping({ recreated: 'crashes' });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, podReadyTimeout: 60 });
    expect(r.success).toBe(false);
    expect(r.errorKind).toBe('timeout');
    expect(r.error).toBe('Failed to restart crate-1: Pod crate-1 was not Ready within 60s after it was re-created');
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-1']);
    expect(recreations(w, 'crate-1')).toBe(1);
    expect(recreations(w, 'crate-0')).toBe(0);
    expect(recreations(w, 'crate-2')).toBe(0);
    expect(podWrites(w).every((x) => x.name === 'crate-1')).toBe(true);
    expect(w.crate.writes.filter((s) => /DECOMMISSION|SET GLOBAL/i.test(s.stmt))).toEqual([]);
    expect(w.crate.violations).toEqual([]);
    expect(r.allocationReset).toBe(true);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('an unready pod that comes back but leaves the cluster unhealthy stops at its gate, before any Ready pod', async () => {
    const w = await crashLooping();
    // Its replicas never recover: allocation is held at none by someone else.
    w.crate.transient.set(ALLOC, 'none');
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, healthTimeout: 30 });
    expect(r).toMatchObject({ success: false, errorKind: 'timeout' });
    expect(r.error).toBe(
      'Failed to restart crate-1: Cluster did not become healthy within 30s after restarting pod crate-1: failed checks all_tables_green',
    );
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-1']);
    expect(recreations(w, 'crate-0') + recreations(w, 'crate-2')).toBe(0);
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('refuses when a degraded pod is left out of `pods` while Ready pods are to restart', async () => {
    const w = await crashLooping();
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, pods: ['crate-2'] });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toContain('but crate-1 is not among the pods to restart');
    expect(podWrites(w)).toEqual([]);
  });

  it('plan and dry run report the degraded decision and write nothing', async () => {
    const w = await crashLooping();
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(plan.preflightDecision).toMatchObject({ outcome: 'degraded', pods: ['crate-1'] });
    expect(plan.preflightDecision!.message).toMatch(/^degraded - only unready pod crate-1 may restart first \(/);
    expect(plan.order.map((p) => p.podName)).toEqual(['crate-1', 'crate-2', 'crate-0']);
    expect(plan.order[0]!.reason).toContain('unready, node not in the cluster: restarted first (degraded pre-flight)');
    expect(plan.order[1]!.reason).toContain('only once the full health gate passes after crate-1');
    const dry = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true });
    expect(dry).toMatchObject({ success: true, errorKind: null, dryRun: true });
    expect(dry.plan.preflightDecision?.outcome).toBe('degraded');
    expect(w.log.text()).toContain('WARN: preflight: degraded - only unready pod crate-1 may restart first');
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.events).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('plan of a RED cluster says it would refuse', async () => {
    const w = await crashLooping({ tables: [{ name: 'solo', shards: 3, replicas: 0 }] });
    const dry = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true });
    expect(dry).toMatchObject({ success: false, errorKind: 'refused' });
    expect(dry.error).toMatch(/^Pre-flight health check would refuse: failed checks all_tables_green/);
    expect(dry.plan.preflightDecision?.outcome).toBe('refused');
    expect(w.kube.writes).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });
});

describe('degraded pre-flight: single pod', () => {
  it('restart of the unready pod is allowed; its gate afterwards is the full one', async () => {
    const w = await crashLooping();
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.preflight).toMatchObject({ healthy: false, degraded: { pods: ['crate-1'] } });
    expect(r.health).toMatchObject({ healthy: true });
    expect(recreations(w, 'crate-1')).toBe(1);
    expect(w.crate.writes).toEqual([]);
    expect(w.crate.health()).toBe('GREEN');
    expect(w.log.text()).toContain('WARN: preflight: degraded - only unready pod crate-1 may restart first');
    expect(w.kube.events.map((e) => e.reason)).toContain('PreflightDegraded');
    expect(leaseHolder(w)).toBeUndefined();
  });

  it.each([
    [
      'restartPod',
      (w: World, extra: Record<string, unknown> = {}) =>
        restartPod(w.deps(), { podName: 'crate-2', namespace: ns, cluster: w.clusterModel(), ...fastGate, ...extra }),
    ],
    [
      'decommissionPod',
      (w: World, extra: Record<string, unknown> = {}) =>
        decommissionPod(w.deps(), { podName: 'crate-2', namespace: ns, cluster: w.clusterModel(), ...extra }),
    ],
  ] as const)('%s of a Ready pod in a degraded cluster is refused, nothing changed', async (_name, run) => {
    const w = await crashLooping();
    const r = await run(w);
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toMatch(
      /^Pre-flight health check refused the (restart|decommission) of pod crate\/crate-2: failed checks /,
    );
    expect(r.error).toContain('preflight: degraded - only unready pod crate-1 may restart first');
    expect(r.error).toContain('and pod crate-2 is not one of them; nothing was changed');
    expect(podWrites(w)).toEqual([]);
    expect(w.crate.writes).toEqual([]);
    expect(w.kube.events.map((e) => e.reason)).toEqual(['HealthGateBlocked']);
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('decommission of the unready pod is allowed (only deleted: nothing to drain)', async () => {
    const w = await crashLooping();
    const r = await decommissionPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel() });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.preflight?.degraded?.pods).toEqual(['crate-1']);
    expect(w.crate.writes).toEqual([]);
    expect(w.log.text()).toContain(
      'Node data-hot-1 of pod crate-1 is not in the cluster: nothing to drain, deleting the pod',
    );
  });

  it('a RED cluster refuses even the unready pod', async () => {
    const w = await crashLooping({ tables: [{ name: 'solo', shards: 3, replicas: 0 }] });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toContain('not explained by unready pods: health is RED');
    expect(podWrites(w)).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('dry run reports the same decision and writes nothing', async () => {
    const w = await crashLooping();
    const ok = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
    });
    expect(ok).toMatchObject({ success: true, errorKind: null });
    expect(ok.preflight?.degraded?.pods).toEqual(['crate-1']);
    expect(w.log.text()).toContain('would only delete pod crate-1');
    const refused = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
    });
    expect(refused).toMatchObject({ success: false, errorKind: 'refused' });
    expect(refused.error).toMatch(
      /^Pre-flight health check would refuse the restart of pod crate\/crate-2: .*and pod crate-2 is not one of them$/,
    );
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.events).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });
});
