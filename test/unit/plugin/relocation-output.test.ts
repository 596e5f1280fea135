// Text output of the relocation decision (issue 9 item 1): plan shows it per pod with the bytes it would copy and what
// forces a relocation; a rollout's result table shows what each pod got.
import { describe, expect, it } from 'vitest';
import { formatResult } from '../../../plugin/printers.js';
import { colors } from '../../../plugin/io.js';
import { planRollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from '../engine/helpers.js';

const auto = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES' as const,
  allocation: 'primaries' as const,
  stallBreak: true,
  stallIdleSeconds: 30,
  relocation: 'auto' as const,
};

describe('relocation in text output', () => {
  it('plan: RELOCATION and COPIES per pod, and the table that forces primaries', async () => {
    const w = await world({
      replicas: 3,
      tables: [
        { name: 'a', shards: 3, replicas: 1, shardBytes: 40_000_000 },
        { name: 'z', shards: 1, replicas: 0, shardBytes: 2_000_000_000 },
      ],
    });
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, options: auto });
    const text = formatResult({ kind: 'plan', result: plan }, colors(false));
    expect(text).toMatch(/POD\s+NODE\s+STRATEGY\s+RELOCATION\s+COPIES/);
    expect(text).toMatch(/crate-2\s+data-hot-2\s+manual\s+none\s+0 B \(primaries: 40\.0 MB\)/);
    expect(text).toMatch(/crate-0\s+data-hot-0\s+manual\s+primaries\s+2\.0 GB/);
    expect(text).toContain(
      'Relocation of crate-0: primaries because doc.z has 0 replicas (shard 0 primary on data-hot-0)',
    );
  });

  it('a single-pod restart says what it decided', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 3, replicas: 1 }] });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: 'crate',
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
      options: auto,
    });
    expect(formatResult({ kind: 'restart', result: { ...r, dryRun: true } }, colors(false))).toMatch(
      /^Relocation: none \(every one of the \d primaries on data-hot-1 has a STARTED replica/m,
    );
  });

  it('plan without a relocation mode keeps its old columns', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 3, replicas: 1 }] });
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(formatResult({ kind: 'plan', result: plan }, colors(false))).not.toContain('RELOCATION');
  });
});
