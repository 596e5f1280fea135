// The simulator's bytes-copied counter on the test cluster (issue 9): a restart that drains with
// min_availability PRIMARIES (today's restart; `--relocation primaries` once the CLI has that flag) relocates
// every primary of the node - a full file copy, observed on CrateDB 6.4.3 - so a table with data copies
// file bytes: exactly the node's primaries' bytes, sent by that node, under `relocation`.
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, eventually, plugin, pluginOk, sim, simState } from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectRecreatedOnce, nodeOf, scenario, type Scenario } from './scenario.js';

const MB = 1024 * 1024;
const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

interface Copied {
  totalBytes: number;
  bytes: Record<'relocation' | 'replicaFileBased' | 'rebalance', number>;
  recoveries: Record<string, number>;
  byNode: Record<string, { sentTotal: number; receivedTotal: number; sent: Record<string, number> }>;
}

describe('bytes copied (simulator data volume)', () => {
  it('restart with PRIMARIES relocates the primaries of a table with data: file bytes > 0, counted per node', async () => {
    const s = await scenario('e2e-copied', {
      dcUtil: false,
      // 64 MB per copy, copied at 40mb x 50 per node: the whole relocation takes well under a second
      simConfig: { relocationShardsPerSecond: 200, concurrentRecoveries: 4, copyScale: 50 },
      tables: [{ name: 'metrics', shards: 6, replicas: 1, shardBytes: 64 * MB }],
    });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const pod = s.pods[1]!;
    const node = nodeOf(pod);
    const state = await sim<{ shards: Array<{ primary: boolean; node_name?: string; routing_state: string }> }>(
      'GET',
      `/clusters/${s.cluster}`,
    );
    const primaries = state.shards.filter(
      (r) => r.primary && r.node_name === node && r.routing_state === 'STARTED',
    ).length;
    expect(primaries, `primaries on ${node}`).toBeGreaterThan(0);
    expect(
      (await sim<Copied>('GET', `/clusters/${s.cluster}/copied`)).totalBytes,
      'the first allocation copies nothing',
    ).toBe(0);

    const help = await plugin(['restart', '--help']);
    const flags = /--relocation\b/.test(help.stdout + help.stderr) ? ['--relocation', 'primaries'] : [];
    const r = await plugin(['restart', pod, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS, ...flags]);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const copied = await sim<Copied>('GET', `/clusters/${s.cluster}/copied`);
    expect(copied.bytes.relocation, JSON.stringify(copied)).toBe(primaries * 64 * MB);
    expect(copied.recoveries.relocation).toBe(primaries);
    expect(copied.byNode[node]!.sent.relocation).toBe(primaries * 64 * MB);
    // back with allocation `all`: the balancer copies about as much back onto the returning node (measured on CrateDB 6.4.3)
    const back = await eventually(
      'the balancer to move copies back',
      async () => {
        const c = await sim<Copied>('GET', `/clusters/${s.cluster}/copied`);
        return c.bytes.rebalance > 0 && (await simState(s.cluster)).health === 'GREEN' ? c : false;
      },
      60_000,
      500,
    );
    expect(back.byNode[node]!.receivedTotal).toBeGreaterThan(0);
    expectRecreatedOnce(s, [pod]);
    await expectClusterSafe(s);
  });
});
