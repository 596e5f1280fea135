// Restarts that move no data (issue 9 item 1): the per-pod relocation decision (pure, table-tested) and the engine
// on the fakes: auto -> min_availability NONE when every primary on the node has a STARTED replica elsewhere (0 file
// bytes copied, no primary ever unavailable), a 0-replica table forces primaries and is named, kubernetes_managed
// sets dc-util-min-availability=NONE for the drain and restores it (also after a crash), a dry run changes nothing.
import { describe, expect, it } from 'vitest';
import { decideRelocation, type ShardRow } from '../../../shared/relocation.js';
import { formatBytes } from '../../../shared/bytes.js';
import { planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { leaseName } from '../../../shared/lease.js';
import { LABEL_DC_UTIL_MIN_AVAILABILITY } from '../../../shared/relocation-run.js';
import { LABEL_MIN_AVAILABILITY_BEFORE } from '../../../shared/min-availability-label.js';
import { fastGate, world, writesOf } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const MB = 1_000_000;
const auto = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES' as const,
  allocation: 'primaries' as const,
  stallBreak: true,
  stallIdleSeconds: 30,
  relocation: 'auto' as const,
};

const row = (
  table: string,
  shard: number,
  primary: boolean,
  node: string | null,
  state = 'STARTED',
  size = 10 * MB,
  partition = '',
): ShardRow => ({
  schema: 'doc',
  table,
  partition,
  shard,
  primary,
  state,
  node,
  size,
});

describe('decideRelocation (pure)', () => {
  const oneReplica = [
    row('t', 0, true, 'a'),
    row('t', 0, false, 'b'),
    row('t', 1, true, 'b'),
    row('t', 1, false, 'a'),
    row('t', 2, true, 'a', 'STARTED', 5 * MB),
    row('t', 2, false, 'c', 'STARTED', 5 * MB),
  ];
  it.each([
    ['1 replica everywhere, GREEN', oneReplica, 'GREEN', 'none', []],
    ['a node with no primaries', [row('t', 0, true, 'b'), row('t', 0, false, 'a')], 'GREEN', 'none', []],
    ['no tables at all', [], 'GREEN', 'none', []],
    [
      'a 0-replica table',
      [...oneReplica, row('z', 0, true, 'a'), row('z', 1, true, 'b'), row('z', 3, true, 'a')],
      'GREEN',
      'primaries',
      ['doc.z has 0 replicas (shards 0, 3 primary on a)'],
    ],
    ['a 0-replica table whose shards are all elsewhere', [...oneReplica, row('z', 0, true, 'b')], 'GREEN', 'none', []],
    [
      'the replica is still recovering',
      [row('t', 0, true, 'a'), row('t', 0, false, 'b', 'INITIALIZING')],
      'GREEN',
      'primaries',
      ['doc.t shard 0: no STARTED replica on another node (replica INITIALIZING)'],
    ],
    [
      'the replica is unassigned',
      [row('t', 0, true, 'a'), row('t', 0, false, null, 'UNASSIGNED')],
      'GREEN',
      'primaries',
      ['doc.t shard 0: no STARTED replica on another node (replica UNASSIGNED)'],
    ],
    [
      'one of two replicas started elsewhere',
      [row('t', 0, true, 'a'), row('t', 0, false, null, 'UNASSIGNED'), row('t', 0, false, 'c')],
      'GREEN',
      'none',
      [],
    ],
    [
      'the primary relocates',
      [row('t', 0, true, 'a', 'RELOCATING'), row('t', 0, false, 'b')],
      'GREEN',
      'primaries',
      ['doc.t shard 0: its primary is RELOCATING'],
    ],
    ['the cluster is YELLOW', oneReplica, 'YELLOW', 'primaries', ['the cluster is YELLOW, not GREEN']],
    ['the health is unknown', oneReplica, null, 'primaries', ['the cluster health could not be read']],
    [
      'a partition with 0 replicas',
      [row('p', 0, true, 'a', 'STARTED', MB, '04732cpp6ks3ed1o60o30c1g')],
      'GREEN',
      'primaries',
      ['doc.p partition 04732cpp6ks3ed1o60o30c1g has 0 replicas (shard 0 primary on a)'],
    ],
  ] as const)('%s', (_name, shards, health, decision, blockers) => {
    const v = decideRelocation('auto', 'a', [...shards], health);
    expect(v.decision).toBe(decision);
    expect(v.blockers).toEqual(blockers);
  });

  it('counts the bytes each decision would copy off the node', () => {
    const v = decideRelocation(
      'auto',
      'a',
      [
        row('t', 0, true, 'a', 'STARTED', 7 * MB),
        row('t', 1, false, 'a', 'STARTED', 3 * MB),
        row('t', 1, true, 'b', 'STARTED', 3 * MB),
        row('t', 0, false, 'b', 'STARTED', 7 * MB),
      ],
      'GREEN',
    );
    expect(v.bytes).toEqual({ none: 0, primaries: 7 * MB, full: 10 * MB });
    expect(v.primaries).toBe(1);
    expect(v.summary).toMatch(/^none \(.*0 B to copy; primaries would copy 7\.0 MB\)$/);
  });

  it('takes primaries and full as asked, whatever the shards', () => {
    expect(decideRelocation('primaries', 'a', [row('t', 0, true, 'a')], 'GREEN')).toMatchObject({
      decision: 'primaries',
      blockers: [],
    });
    expect(decideRelocation('full', 'a', [row('t', 0, true, 'a')], 'GREEN')).toMatchObject({
      decision: 'full',
      bytes: { full: 10 * MB },
    });
  });

  it('formats bytes', () => {
    expect([formatBytes(0), formatBytes(999), formatBytes(1500), formatBytes(240 * MB), formatBytes(200e9)]).toEqual([
      '0 B',
      '999 B',
      '1.5 kB',
      '240 MB',
      '200 GB',
    ]);
  });
});

const minAvailabilitySets = (w: World) => writesOf(w).filter((s) => s.includes('min_availability'));
const stsLabels = (w: World) => w.kube.statefulSets.get(`${ns}/${w.statefulSetName}`)?.metadata?.labels ?? {};
const progressOf = (w: World) =>
  JSON.parse(
    w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.metadata?.annotations?.[
      'crate-decommission.crate.io/progress'
    ] ?? '{}',
  ) as { minAvailabilityLabels?: unknown };

describe('rollingRestart with relocation auto (manual strategy)', () => {
  it('chooses none for every pod when every table has a replica: 0 file bytes copied, no primary unavailable, allocation reset', async () => {
    const w = await world({
      replicas: 3,
      tables: [
        { name: 'a', shards: 6, replicas: 1, shardBytes: 50 * MB },
        { name: 'b', shards: 3, replicas: 2 },
      ],
    });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => p.relocation?.decision)).toEqual(['none', 'none', 'none']);
    expect(r.pods.every((p) => (p.relocation?.bytes.primaries ?? 0) > 0)).toBe(true);
    expect(minAvailabilitySets(w).filter((s) => s.startsWith('SET'))).toEqual(
      Array(3).fill(`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'NONE'`),
    );
    expect(w.crate.copies.filter((c) => c.kind === 'file')).toEqual([]);
    expect(w.crate.fileBytesCopied()).toBe(0);
    // The node's copies came back operation-based.
    expect(w.crate.copies.filter((c) => c.kind === 'operations').length).toBeGreaterThan(0);
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting('cluster.routing.allocation.enable')).toBeUndefined();
    expect(w.crate.setting('cluster.graceful_stop.min_availability')).toBeUndefined();
    expect(w.log.text()).toMatch(
      /Relocation for pod crate-2 \(node data-hot-2\): none \(every one of the \d+ primaries on data-hot-2 has a STARTED replica/,
    );
  });

  it('the same roll with relocation primaries copies the primaries by file (the cost auto avoids)', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 6, replicas: 1, shardBytes: 50 * MB }] });
    const r = await rollingRestart(w.deps(), {
      cluster: w.clusterModel(),
      ...fastGate,
      options: { ...auto, relocation: 'primaries' },
    });
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => p.relocation?.decision)).toEqual(['primaries', 'primaries', 'primaries']);
    expect(w.crate.fileBytesCopied()).toBeGreaterThan(0);
    expect(w.crate.violations).toEqual([]);
  });

  it('a table with 0 replicas makes auto relocate for the pods holding its primaries, names it, and the plan says so', async () => {
    // 3 nodes; z has 2 shards with 0 replicas: primaries on data-hot-0 and data-hot-1 (createTable spreads them in order).
    const w = await world({
      replicas: 3,
      tables: [
        { name: 'a', shards: 6, replicas: 1 },
        { name: 'z', shards: 2, replicas: 0, shardBytes: 30 * MB },
      ],
    });
    const holders = new Set(w.crate.shards.filter((c) => c.table === 'z').map((c) => c.node));
    expect([...holders].sort()).toEqual(['data-hot-0', 'data-hot-1']);
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    const byPod = Object.fromEntries(plan.order.map((p) => [p.podName, p.relocation]));
    expect(byPod['crate-2']).toMatchObject({ decision: 'none', blockers: [] });
    expect(byPod['crate-1']).toMatchObject({
      decision: 'primaries',
      blockers: ['doc.z has 0 replicas (shard 1 primary on data-hot-1)'],
    });
    expect(byPod['crate-0']).toMatchObject({
      decision: 'primaries',
      blockers: ['doc.z has 0 replicas (shard 0 primary on data-hot-0)'],
    });
    expect(byPod['crate-1']!.bytes.primaries).toBeGreaterThanOrEqual(30 * MB);
    expect(w.log.text()).toContain('relocation primaries (doc.z has 0 replicas (shard 1 primary on data-hot-1)');
    expect(w.crate.writes).toEqual([]);

    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(r.error).toBeNull();
    const decided = Object.fromEntries(r.pods.map((p) => [p.podName, p.relocation?.decision]));
    expect(decided['crate-2']).toBe('none');
    // z's primary moves onto another node when its holder drains: a later pod may then hold it (decided anew).
    expect(r.pods.filter((p) => p.relocation?.decision === 'primaries').length).toBeGreaterThanOrEqual(1);
    for (const p of r.pods) {
      if (p.relocation?.decision === 'primaries')
        expect(p.relocation.blockers.join(' ')).toContain('doc.z has 0 replicas');
    }
    // The 0-replica table stayed available throughout (its primaries were relocated, not dropped).
    expect(w.crate.violations).toEqual([]);
  });

  it('a dry run decides and changes nothing', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, dryRun: true, options: auto });
    expect(r.success).toBe(true);
    expect(r.plan.order.map((p) => p.relocation?.decision)).toEqual(['none', 'none', 'none']);
    expect(w.crate.writes).toEqual([]);
    expect(w.kube.writes).toEqual([]);
  });

  it('restartPod decides too; decommissionPod takes auto as primaries (the node leaves for good)', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: auto,
    });
    expect(r.success).toBe(true);
    expect(r.relocation?.decision).toBe('none');
    expect(w.crate.fileBytesCopied()).toBe(0);
    const d = await decommissionPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      healthConsecutive: 3,
      healthIntervalSeconds: 2,
      options: auto,
    });
    expect(d.success).toBe(true);
    expect(
      minAvailabilitySets(w)
        .filter((s) => s.startsWith('SET'))
        .at(-1),
    ).toBe(`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = 'PRIMARIES'`);
    expect(w.log.text()).toContain('relocation auto does not apply to a decommission');
  });
});

describe('rollingRestart with relocation auto (kubernetes_managed)', () => {
  it('dc_util drains with the label NONE the tool set, then the label is restored (it had none) and the Lease record cleared', async () => {
    const w = await world({
      replicas: 3,
      preStop: 'dc_util',
      tables: [{ name: 'a', shards: 6, replicas: 1, shardBytes: 20 * MB }],
    });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => [p.strategyUsed, p.relocation?.decision])).toEqual(
      Array(3).fill(['kubernetes_managed', 'none']),
    );
    expect(w.dcUtilRuns.map((d) => d.minAvailability)).toEqual(['NONE', 'NONE', 'NONE']);
    expect(w.crate.fileBytesCopied()).toBe(0);
    expect(w.crate.violations).toEqual([]);
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBeUndefined();
    expect(stsLabels(w)[LABEL_MIN_AVAILABILITY_BEFORE]).toBeUndefined();
    expect(progressOf(w).minAvailabilityLabels).toBeNull();
    expect(w.kube.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['MinAvailabilityLabelSet', 'MinAvailabilityLabelRestored']),
    );
  });

  it('puts a previous label value back, and leaves the label alone for a pod that must relocate', async () => {
    const w = await world({
      replicas: 3,
      preStop: 'dc_util',
      stsLabels: { [LABEL_DC_UTIL_MIN_AVAILABILITY]: 'PRIMARIES' },
      tables: [
        { name: 'a', shards: 6, replicas: 1 },
        { name: 'z', shards: 1, replicas: 0 },
      ],
    });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(r.error).toBeNull();
    const runs = Object.fromEntries(w.dcUtilRuns.map((d) => [d.pod, d.minAvailability]));
    for (const p of r.pods) expect(runs[p.podName]).toBe(p.relocation?.decision === 'none' ? 'NONE' : 'PRIMARIES');
    expect(r.pods.some((p) => p.relocation?.decision === 'primaries')).toBe(true);
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBe('PRIMARIES');
    expect(stsLabels(w)[LABEL_MIN_AVAILABILITY_BEFORE]).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
  });

  it('a failure after the label was set restores it on the way out', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const deps = w.deps();
    const del = deps.kube.deletePod.bind(deps.kube);
    let calls = 0;
    deps.kube = Object.create(deps.kube, {
      deletePod: {
        value: async (...a: Parameters<typeof del>) =>
          ++calls === 1 ? Promise.reject(new Error('boom: delete failed')) : del(...a),
      },
    }) as typeof deps.kube;
    const r = await rollingRestart(deps, { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(r.success).toBe(false);
    expect(r.error).toContain('boom');
    expect(w.kube.writes.some((x) => JSON.stringify(x).includes('"NONE"'))).toBe(true);
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBeUndefined();
    expect(stsLabels(w)[LABEL_MIN_AVAILABILITY_BEFORE]).toBeUndefined();
  });

  it('a dry run says it would set the label and sets nothing', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const r = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
      options: auto,
    });
    expect(r.success).toBe(true);
    expect(r.relocation?.decision).toBe('none');
    expect(w.log.text()).toContain(`Would set label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE on StatefulSet crate`);
    expect(w.kube.writes).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });
});
