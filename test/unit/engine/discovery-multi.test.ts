// A crate-operator CrateDB with several StatefulSets (master + data-hot + data-cold): discovery,
// expected node count, per-StatefulSet strategy, and the restart order (data nodes first, the
// master-eligible nodes after them, the elected master last).
import { describe, expect, it } from 'vitest';
import { analyzeCluster } from '../../../shared/discovery.js';
import { checkClusterHealth } from '../../../shared/health.js';
import { planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { fastGate, world } from './helpers.js';

const ns = 'crate';
const HOT = 'crate-data-hot-c1';
const COLD = 'crate-data-cold-c1';
const MASTER = 'crate-master-c1';

/** data-hot: 3 pods with dc_util; data-cold: 2 pods without a hook (manual); master: 3 pods with dc_util. */
function multi(extra: Parameters<typeof world>[0] = {}) {
  return world({
    operator: true,
    replicas: 3,
    preStop: 'dc_util',
    nodeGroups: [
      { name: 'cold', replicas: 2, preStop: 'none' },
      { name: 'master', replicas: 3 },
    ],
    tables: [{ name: 't1', shards: 6, replicas: 1 }],
    ...extra,
  });
}

describe('discovery of a crate-operator cluster with several StatefulSets', () => {
  it('cratedb/<name>: every StatefulSet and pod, expectedNodes = sum of replicas, strategy per StatefulSet', async () => {
    const w = await multi();
    w.crate.masterName = 'master-1';
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'c1' });
    expect(c).toMatchObject({
      name: 'c1',
      crateDBName: 'c1',
      expectedNodes: 8,
      masterNode: 'master-1',
      health: 'GREEN',
    });
    expect(c.statefulSets.map((s) => [s.name, s.replicas, s.detection.strategy])).toEqual([
      [COLD, 2, 'manual'],
      [HOT, 3, 'kubernetes_managed'],
      [MASTER, 3, 'kubernetes_managed'],
    ]);
    expect(c.pods).toHaveLength(8);
    const byName = Object.fromEntries(c.pods.map((p) => [p.name, p]));
    expect(byName[`${COLD}-1`]).toMatchObject({
      statefulSetName: COLD,
      ordinal: 1,
      nodeName: 'data-cold-1',
      masterEligible: false,
      containerName: 'crate',
    });
    expect(byName[`${HOT}-2`]).toMatchObject({
      statefulSetName: HOT,
      ordinal: 2,
      nodeName: 'data-hot-2',
      masterEligible: false,
    });
    expect(byName[`${MASTER}-0`]).toMatchObject({
      statefulSetName: MASTER,
      nodeName: 'master-0',
      masterEligible: true,
      isMaster: false,
    });
    expect(byName[`${MASTER}-1`]).toMatchObject({ nodeName: 'master-1', masterEligible: true, isMaster: true });
    expect(c.sql.credentials).toMatchObject({ username: 'system', secretName: 'user-system-c1' });
    expect(w.kube.writes).toEqual([]);
  });

  it('sts/<one of them>: only its pods, but expectedNodes counts every StatefulSet of the cluster', async () => {
    const w = await multi();
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: HOT });
    expect(c).toMatchObject({ name: 'c1', crateDBName: 'c1', statefulSetName: HOT, expectedNodes: 8 });
    expect(c.statefulSets.map((s) => s.name)).toEqual([COLD, HOT, MASTER]);
    expect(c.pods.map((p) => p.name)).toEqual([`${HOT}-0`, `${HOT}-1`, `${HOT}-2`]);
    // The cluster's top-level fields describe the target StatefulSet, not the alphabetically first one.
    expect(c).toMatchObject({ hasDcUtil: true, hasPrestopHook: true });
    const health = await checkClusterHealth(w.deps(), { cluster: c, consecutive: 1, intervalSeconds: 0 });
    expect(health).toMatchObject({ healthy: true, nodeCount: 8, expectedNodes: 8 });
  });

  it('sts/<manual one>: the top-level fields and strategy come from that StatefulSet', async () => {
    const w = await multi();
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: COLD });
    expect(c).toMatchObject({ statefulSetName: COLD, hasDcUtil: false, hasPrestopHook: false, expectedNodes: 8 });
    expect(c.pods.map((p) => p.name)).toEqual([`${COLD}-0`, `${COLD}-1`]);
  });

  it('pod/<master pod>: the pods of its StatefulSet', async () => {
    const w = await multi();
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'pod', name: `${MASTER}-2` });
    expect(c).toMatchObject({ name: 'c1', statefulSetName: MASTER, expectedNodes: 8 });
    expect(c.pods.map((p) => p.name)).toEqual([`${MASTER}-0`, `${MASTER}-1`, `${MASTER}-2`]);
    expect(c.pods.every((p) => p.masterEligible)).toBe(true);
  });

  it('order: unready first, then the data nodes, then the master-eligible nodes, the elected master last', async () => {
    const w = await multi();
    w.crate.masterName = 'master-1';
    w.kube.setReady(ns, `${HOT}-0`, false);
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'c1' });
    const plan = await planRollingRestart(w.deps(), { cluster: c, ...fastGate });
    expect(plan.order.map((p) => p.podName)).toEqual([
      `${HOT}-0`,
      `${COLD}-1`,
      `${COLD}-0`,
      `${HOT}-2`,
      `${HOT}-1`,
      `${MASTER}-2`,
      `${MASTER}-0`,
      `${MASTER}-1`,
    ]);
    expect(plan.order.map((p) => p.strategy)).toEqual([
      'kubernetes_managed',
      'manual',
      'manual',
      'kubernetes_managed',
      'kubernetes_managed',
      'kubernetes_managed',
      'kubernetes_managed',
      'kubernetes_managed',
    ]);
    expect(plan.order[5]!.reason).toContain('master-eligible');
    expect(plan.order[7]!.reason).toContain('elected master');
    // grace period per StatefulSet: dc_util's rule for the managed ones, 30 s after a manual drain
    expect(plan.order.find((p) => p.statefulSetName === COLD)!.deleteGracePeriodSeconds).toBe(30);
    expect(plan.order.find((p) => p.statefulSetName === HOT)!.deleteGracePeriodSeconds).toBe(1200);
  });

  it('without a master group every node is master-eligible: plain order, the elected master last', async () => {
    const w = await world({ operator: true, replicas: 3, nodeGroups: [{ name: 'cold', replicas: 2 }] });
    w.crate.masterName = 'data-cold-0';
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'c1' });
    expect(c.expectedNodes).toBe(5);
    expect(c.pods.every((p) => p.masterEligible)).toBe(true);
    const plan = await planRollingRestart(w.deps(), { cluster: c, ...fastGate });
    expect(plan.order.at(-1)!.podName).toBe(`${COLD}-0`);
    expect(plan.order.map((p) => p.podName).slice(0, 4)).toEqual([`${COLD}-1`, `${HOT}-2`, `${HOT}-1`, `${HOT}-0`]);
  });

  it("a rolling restart of the whole CrateDB uses each StatefulSet's strategy and keeps the data available", async () => {
    const w = await multi();
    w.crate.masterName = 'master-1';
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'c1' });
    const r = await rollingRestart(w.deps(), { cluster: c, ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => [p.podName, p.strategyUsed])).toEqual(r.plan.order.map((p) => [p.podName, p.strategy]));
    // every pod re-created exactly once
    for (const pod of w.allPodNames()) expect(w.kube.podHistory.filter((p) => p.name === pod)).toHaveLength(2);
    // the manual ones were drained by the engine (by their own node name), the managed ones by dc_util
    const decommissioned = w.crate.writes
      .filter((s) => s.stmt.startsWith('ALTER CLUSTER DECOMMISSION'))
      .map((s) => s.args?.[0]);
    expect(decommissioned).toEqual(expect.arrayContaining(['data-cold-0', 'data-cold-1', 'data-hot-0', 'master-1']));
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting('cluster.routing.allocation.enable')).toBeUndefined();
    expect(r.allocationReset).toBe(true);
  });
});

describe('masterEligibleFromArgs', () => {
  it.each([
    [{ name: 'crate', args: ['-Cnode.name=master-0', '-Cnode.master=true', '-Cnode.data=false'] }, true],
    [{ name: 'crate', args: ['-Cnode.name=data-hot-0', '-Cnode.master=false', '-Cnode.data=true'] }, false],
    [{ name: 'crate', command: ['/bin/sh', '-c', 'exec crate -Cnode.name=x -Cnode.master=FALSE'] }, false],
    [{ name: 'crate', args: ['-Cnode.name=data-hot-0'] }, true],
  ])('%j -> %s', async (container, expected) => {
    const { masterEligibleFromArgs } = await import('../../../shared/detect/index.js');
    expect(masterEligibleFromArgs(container)).toBe(expected);
  });
});
