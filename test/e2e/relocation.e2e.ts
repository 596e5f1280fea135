// Restarts that move no data (issue 9 item 1) on the real control plane with the simulator's data volume
// (docs/test-cluster.md "Data volume": shard bytes per copy, a bytes-copied counter, operation-based recovery within
// the retention lease, promotion at node-left) and the invariant recorder as the judge of availability:
// - `rollout` (default --relocation auto) of a cluster whose every table has a replica copies 0 file bytes, never
//   leaves a primary unavailable, and a client writing throughout loses no acknowledged write; per strategy
//   (manual: the engine drains with min_availability NONE; kubernetes_managed: dc_util reads the label
//   dc-util-min-availability=NONE the engine set, and the label is gone again afterwards);
// - a table with 0 replicas makes auto relocate for the pods holding its shards, and `plan` says so.
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, kubectlJson, plugin, sim } from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectRecreatedOnce, nodeOf, scenario, type Scenario } from './scenario.js';
import { startTraffic } from './traffic.js';

const MB = 1024 * 1024;
const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

interface Copied {
  totalBytes: number;
  bytes: Record<'relocation' | 'replicaFileBased' | 'rebalance', number>;
  recoveries: Record<string, number>;
  operationBased: number;
  byNode: Record<string, { sentTotal: number; receivedTotal: number; sent: Record<string, number> }>;
}

/** Fast copies (64 MB at 40mb x 50 per node: well under a second each), exact active-request counters. */
const SIM = { relocationShardsPerSecond: 200, concurrentRecoveries: 4, copyScale: 50, leakRetriedReads: false };

const copied = (s: Scenario) => sim<Copied>('GET', `/clusters/${s.cluster}/copied`);

describe.concurrent.each([
  { strategy: 'manual', dcUtil: false, prefix: 'e2e-reloc-manual' },
  { strategy: 'kubernetes_managed', dcUtil: true, prefix: 'e2e-reloc-dcutil' },
])('rollout with --relocation auto ($strategy)', ({ strategy, dcUtil, prefix }) => {
  it('every table has a replica: 0 file bytes copied, no primary unavailable, no acknowledged write lost', async () => {
    const s = await scenario(prefix, {
      dcUtil,
      simConfig: SIM,
      tables: [{ name: 'metrics', shards: 6, replicas: 1, shardBytes: 64 * MB }],
    });
    made.push(s);
    const rbac = await plugin(['rbac', 'install', '-n', s.namespace]);
    expect(rbac.code, rbac.stdout + rbac.stderr).toBe(0);
    expect((await copied(s)).totalBytes, 'the first allocation copies nothing').toBe(0);

    const plan = await plugin(['plan', `sts/${s.sts}`, '-n', s.namespace, '-o', 'json']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    // plan -o json is a kubectl List with one RolloutPlan item (issue 13).
    const order = (
      JSON.parse(plan.stdout) as {
        items: { order: { podName: string; relocation?: { decision: string; bytes: { primaries: number } } }[] }[];
      }
    ).items[0]!.order;
    expect(
      order.map((p) => p.relocation?.decision),
      plan.stdout,
    ).toEqual(['none', 'none', 'none']);
    expect(
      order.every((p) => (p.relocation?.bytes.primaries ?? 0) > 0),
      'each node holds primaries that primaries would copy',
    ).toBe(true);

    const traffic = await startTraffic({ cluster: s.cluster });
    let r;
    let report;
    try {
      r = await plugin(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    } finally {
      report = await traffic.stop();
    }
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    for (const pod of s.pods)
      expect(out, `decision for ${pod}`).toMatch(
        new RegExp(`Relocation for pod ${pod} \\(node ${nodeOf(pod)}\\): none`),
      );

    const c = await copied(s);
    expect({ total: c.totalBytes, ...c.bytes }, JSON.stringify(c)).toEqual({
      total: 0,
      relocation: 0,
      replicaFileBased: 0,
      rebalance: 0,
    });
    expect(c.operationBased, 'the returning nodes recovered operation-based').toBeGreaterThan(0);

    const summary = JSON.stringify({ writes: report.writes, reads: report.reads, samples: report.samples });
    expect(report.acknowledged, summary).toBeGreaterThan(0);
    expect(await traffic.lost(), 'acknowledged writes not found after the rollout').toEqual([]);
    expect(report.writes.unavailable + report.writes.missing + report.writes.other, `writes: ${summary}`).toBe(0);
    expect(report.reads.unavailable + report.reads.missing + report.reads.other, `reads: ${summary}`).toBe(0);

    if (dcUtil) {
      expect(out).toMatch(/Set label dc-util-min-availability=NONE on StatefulSet/);
      const labels = (await kubectlJson(['get', 'sts', s.sts, '-n', s.namespace])).metadata?.labels ?? {};
      expect(labels['dc-util-min-availability'], 'label restored (it had none)').toBeUndefined();
      expect(labels['crate-decommission.crate.io/dc-util-min-availability-before']).toBeUndefined();
    }
    expect(out).toMatch(strategy === 'manual' ? /Using manual decommission/ : /Using Kubernetes-managed decommission/);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
  });
});

describe.concurrent('rollout with --relocation auto and a table with 0 replicas', () => {
  it('relocates for the pods holding its shards (the plan says so), none for the others, no primary unavailable', async () => {
    const s = await scenario('e2e-reloc-zero', {
      dcUtil: false,
      simConfig: SIM,
      tables: [
        { name: 'metrics', shards: 6, replicas: 1, shardBytes: 16 * MB },
        { name: 'solo', shards: 1, replicas: 0, shardBytes: 64 * MB },
      ],
    });
    made.push(s);
    const rbac = await plugin(['rbac', 'install', '-n', s.namespace]);
    expect(rbac.code, rbac.stdout + rbac.stderr).toBe(0);
    const state = await sim<{ shards: Array<{ table: string; primary: boolean; node_name?: string }> }>(
      'GET',
      `/clusters/${s.cluster}`,
    );
    const holder = state.shards.find((x) => (x.table === 'solo' || x.table.endsWith('.solo')) && x.primary)?.node_name;
    expect(holder, JSON.stringify(state.shards.slice(0, 3))).toBeTruthy();
    const holderPod = s.pods.find((p) => nodeOf(p) === holder)!;

    const plan = await plugin(['plan', `sts/${s.sts}`, '-n', s.namespace]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain(
      `Relocation of ${holderPod}: primaries because doc.solo has 0 replicas (shard 0 primary on ${holder})`,
    );
    for (const p of s.pods.filter((x) => x !== holderPod))
      expect(plan.stdout).toMatch(new RegExp(`${p}\\s+${nodeOf(p)}\\s+manual\\s+none\\s`));

    const r = await plugin([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      ...FAST_FLAGS,
      '-o',
      'json',
    ]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(
      new RegExp(`Relocation for pod ${holderPod} \\(node ${holder}\\): primaries \\(doc\\.solo has 0 replicas`),
    );
    const c = await copied(s);
    // The 0-replica shard was copied off its holder (a file copy); whichever pod holds it when its turn comes relocates.
    expect(c.bytes.relocation, JSON.stringify(c)).toBeGreaterThanOrEqual(64 * MB);
    expect(c.byNode[holder!]!.sent.relocation, JSON.stringify(c)).toBeGreaterThanOrEqual(64 * MB);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
  });
});
