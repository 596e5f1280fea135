// rollingRestart and planRollingRestart: order, pre-flight refusal, full rolls with no data
// unavailable, stop at first failure, every exit path resetting allocation and releasing the lock.
import { describe, expect, it } from 'vitest';
import { orderPods, planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import { leaseName } from '../../../shared/lease.js';
import { KubeApiError } from '../../../shared/errors.js';
import type { PodInfo } from '../../../shared/schemas.js';
import { fastGate, world, writesOf } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';

function leaseHolder(w: World): string | undefined {
  return w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity;
}

function recreations(w: World, pod: string): number {
  return w.kube.podHistory.filter((p) => p.name === pod).length - 1;
}

const pod = (name: string, ordinal: number, ready = true, isMaster = false): PodInfo => ({
  name,
  uid: `u-${name}`,
  statefulSetName: 'crate',
  ordinal,
  nodeName: `n-${ordinal}`,
  nodeId: null,
  podIP: null,
  ready,
  phase: 'Running',
  restartCount: 0,
  containerName: 'crate',
  isMaster,
  deleting: false,
});

describe('orderPods', () => {
  it('unready first, then descending ordinal, the elected master last', () => {
    const order = orderPods([
      pod('crate-0', 0),
      pod('crate-1', 1, true, true),
      pod('crate-2', 2),
      pod('crate-3', 3, false),
      pod('crate-4', 4),
    ]);
    expect(order.map((p) => p.name)).toEqual(['crate-3', 'crate-4', 'crate-2', 'crate-0', 'crate-1']);
    expect(orderPods([pod('crate-0', 0), pod('crate-1', 1)], 'n-1').map((p) => p.name)).toEqual(['crate-0', 'crate-1']);
  });
});

describe('rollingRestart', () => {
  it('rolls a dc_util (kubernetes_managed) crate-operator cluster with no primary ever unavailable', async () => {
    const w = await world({
      replicas: 4,
      operator: true,
      preStop: 'dc_util',
      tables: [
        { name: 'a', shards: 6, replicas: 1 },
        { name: 'b', shards: 4, replicas: 2 },
      ],
    });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => p.success)).toEqual([true, true, true, true]);
    for (const p of w.podNames()) expect(recreations(w, p)).toBe(1);
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.decommissions).toHaveLength(4);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
    expect(w.kube.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['RolloutStarted', 'RolloutSucceeded', 'PodRestarted']),
    );
  });

  it('resets the allocation dc_util left restricted when there is no postStart --reset-routing', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', dcUtilPostStart: false });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(w.log.text()).toContain(
      'dc_util left cluster.routing.allocation.enable = primaries after pod crate-2 rejoined',
    );
    expect(w.crate.violations).toEqual([]);
  });

  it('leaves a restricted allocation owned by crate-operator alone', async () => {
    // A stale label (3 h old): a live one refuses the restart at once (routing-owner.test.ts).
    const w = await world({
      replicas: 3,
      preStop: 'dc_util',
      dcUtilPostStart: false,
      stsLabels: { 'dc-util-routing-owner': 'operator-1767214800' },
    });
    w.crate.transient.set(ALLOC, 'primaries');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      healthTimeout: 10,
    });
    expect(r.success).toBe(false);
    expect(r.error).toContain('failed checks all_tables_green');
    expect(w.crate.setting(ALLOC)).toBe('primaries');
    expect(w.log.text()).toContain('owned by operator-1767214800');
  });

  it('rolls a manual crate-operator cluster through exec, master last, no unavailability, secrets never logged', async () => {
    const w = await world({ replicas: 3, operator: true });
    w.crate.masterName = 'data-hot-1';
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    expect(r.plan.order.map((p) => p.podName)).toEqual([
      'crate-data-hot-c1-2',
      'crate-data-hot-c1-0',
      'crate-data-hot-c1-1',
    ]);
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-data-hot-c1-2', 'crate-data-hot-c1-0', 'crate-data-hot-c1-1']);
    const alters = w.crate.writes.filter((s) => s.stmt.startsWith('ALTER'));
    expect(alters.map((a) => a.args[0])).toEqual(['data-hot-2', 'data-hot-0', 'data-hot-1']);
    expect(alters.every((a) => a.via === 'exec')).toBe(true);
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(writesOf(w).filter((s) => s.startsWith(`RESET GLOBAL "${ALLOC}"`))).toHaveLength(3);
    // graceful_stop.* restored after each pod (they were at their defaults): nothing of ours is left.
    // One RESET GLOBAL of the three settings per pod.
    expect(writesOf(w).filter((s) => s.startsWith('RESET GLOBAL "cluster.graceful_stop.'))).toEqual(
      Array(3).fill(
        'RESET GLOBAL "cluster.graceful_stop.timeout", "cluster.graceful_stop.force", "cluster.graceful_stop.min_availability"',
      ),
    );
    expect([...w.crate.transient.keys()]).toEqual([]);
    expect(r.allocationReset).toBe(true);
    expect(JSON.stringify(w.log.lines)).not.toContain('s3cr3t');
  });

  it('restarts unready pods first', async () => {
    const w = await world({ replicas: 3 });
    w.kube.setReady(ns, 'crate-0', false);
    w.crate.masterName = 'data-hot-2';
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(plan.order.map((p) => p.podName)).toEqual(['crate-0', 'crate-1', 'crate-2']);
    expect(plan.order[0]!.reason).toContain('unready');
    expect(plan.order[2]!.reason).toContain('elected master');
  });

  it('refuses when the pre-flight health gate fails, names the checks, and changes nothing', async () => {
    const w = await world({ replicas: 3 });
    const replica = w.crate.shards.find((c) => !c.primary)!;
    replica.state = 'UNASSIGNED';
    replica.node = null;
    w.crate.transient.set(ALLOC, 'none'); // keep it unassigned
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toContain('failed checks all_tables_green');
    expect(r.plan.preflight?.failedChecks).toEqual(['all_tables_green']);
    expect(r.pods).toEqual([]);
    expect(w.kube.writes.filter((x) => x.kind === 'Pod' || x.kind === 'StatefulSet')).toEqual([]);
    expect(w.crate.writes).toEqual([]);
    expect(leaseHolder(w)).toBeUndefined();
    // Nothing of this run is left behind (was false: the plugin then warned that allocation "may not have been reset").
    expect(r.allocationReset).toBe(true);
  });

  it('stops at the first failure and resets allocation', async () => {
    const w = await world({ replicas: 3 });
    w.kube.failNext('deletePod', new KubeApiError(403, 'Forbidden', 'forbidden'), 1);
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({
      success: false,
      errorKind: 'bad_input',
      error: 'Failed to restart crate-2: Failed to delete pod: Forbidden',
    });
    expect(r.pods).toHaveLength(1);
    expect(w.crate.decommissions).toHaveLength(1);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
    expect(w.kube.events.some((e) => e.reason === 'RolloutFailed')).toBe(true);
  });

  it('a timeout in the middle resets allocation and releases the lock', async () => {
    const w = await world({
      replicas: 3,
      tables: [{ name: 't', shards: 3, replicas: 2 }],
      crate: { abortsStopOnTimeout: true },
    });
    const r = await rollingRestart(w.deps(), {
      cluster: w.clusterModel(),
      ...fastGate,
      options: { decommissionTimeout: 5 },
    });
    expect(r).toMatchObject({
      success: false,
      errorKind: 'timeout',
      error: 'Failed to restart crate-2: Manual decommission timed out after 65s',
    });
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(leaseHolder(w)).toBeUndefined();
  });

  it('an abort (SIGTERM) mid-decommission resets allocation and releases the lock', async () => {
    const w = await world({ replicas: 3, crate: { stepMs: 20_000 } });
    const ac = new AbortController();
    void w.waitFor(() => w.crate.decommissions.length > 0).then(() => ac.abort(new Error('SIGTERM')));
    const r = await rollingRestart(w.deps({ signal: ac.signal }), { cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(false);
    expect(r.error).toMatch(/SIGTERM/);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(writesOf(w).slice(-2)).toEqual([
      `RESET GLOBAL "${ALLOC}"`,
      'RESET GLOBAL "cluster.graceful_stop.timeout", "cluster.graceful_stop.force", "cluster.graceful_stop.min_availability"',
    ]);
    expect([...w.crate.transient.keys()]).toEqual([]);
    expect(leaseHolder(w)).toBeUndefined();
    expect(r.allocationReset).toBe(true);
  });

  it('dry run: plan with order, strategies, timeouts and pre-flight; zero writes', async () => {
    const w = await world({ replicas: 3, operator: true, preStop: 'dc_util' });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true });
    expect(r).toMatchObject({ success: true, dryRun: true });
    expect(r.plan.preflight?.healthy).toBe(true);
    expect(r.plan.preflight?.checks.map((c) => c.name)).toEqual([
      'sql_reachable',
      'all_tables_green',
      'node_count_matches_replicas',
      'master_elected',
      'no_relocating_shards',
      'no_initializing_shards',
      'no_snapshot_running',
    ]);
    expect(r.plan.order).toHaveLength(3);
    expect(r.plan.order.at(-1)!.nodeName).toBe(w.crate.masterName);
    expect(r.plan.order.every((p) => p.strategy === 'kubernetes_managed' && p.deleteGracePeriodSeconds === 1200)).toBe(
      true,
    );
    expect(r.plan.order[0]!.timeoutSeconds).toBe(1200 + 3000 + 3000);
    expect(r.plan.totalTimeoutSeconds).toBe(3 * 7200);
    expect(w.kube.writes).toEqual([]);
    expect(w.kube.execs).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('restarts only the pods asked for; an unknown pod is bad input', async () => {
    const w = await world({ replicas: 3 });
    const bad = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, pods: ['crate-7'] });
    expect(bad).toMatchObject({ success: false, errorKind: 'bad_input' });
    expect(bad.error).toMatch(/^Pod not found: crate-7/);
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, pods: ['crate-0'] });
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-0']);
    expect(w.kube.podHistory).toHaveLength(4);
  });

  it('dry run of an unhealthy cluster says it would be refused', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-1');
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.plan.preflight?.failedChecks).toContain('node_count_matches_replicas');
    expect(w.kube.writes).toEqual([]);
  });
});

describe('JSON lines for the plugin', () => {
  it('a crate-operator roll logs parseable JSON lines with pod and step, and never the password', async () => {
    const { createLogger } = await import('../../../shared/log.js');
    const w = await world({ replicas: 3, operator: true });
    const lines: string[] = [];
    const log = createLogger({ format: 'json', level: 'debug', write: (l) => lines.push(l) });
    const r = await rollingRestart(w.deps({ log }), { cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      records.every((x) => typeof x.ts === 'string' && typeof x.msg === 'string' && typeof x.level === 'string'),
    ).toBe(true);
    const steps = new Set(records.filter((x) => x.pod === 'crate-data-hot-c1-1').map((x) => x.step));
    expect([...steps]).toEqual(
      expect.arrayContaining([
        'analyze',
        'decommission',
        'delete',
        'wait-ready',
        'rejoin',
        'allocation-reset',
        'health-gate',
      ]),
    );
    expect(records.some((x) => x.step === 'preflight')).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cr3t');
  });
});
