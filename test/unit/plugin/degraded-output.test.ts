// Text output of the degraded pre-flight (plan, single-pod restart): the decision is named, not hidden.
import { describe, expect, it } from 'vitest';
import { formatResult } from '../../../plugin/printers.js';
import { colors } from '../../../plugin/io.js';
import { planRollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from '../engine/helpers.js';

describe('degraded pre-flight in text output', () => {
  it('plan names the degraded decision and the pod that goes first', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 't1', shards: 3, replicas: 2 }] });
    w.crashLoop('crate-1');
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    const text = formatResult({ kind: 'plan', result: plan }, colors(false));
    expect(text).toContain('Pre-flight: ! degraded: YELLOW, 2/3 nodes');
    expect(text).toContain('preflight: degraded - only unready pod crate-1 may restart first (');
    expect(text).toContain('Pre-flight decision: degraded');
    expect(text).toMatch(/1\s+crate-1\s.*unready, node not in the cluster: restarted first \(degraded pre-flight\)/);
  });

  it('a single-pod restart let through by a degraded pre-flight shows it', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 't1', shards: 3, replicas: 2 }] });
    w.crashLoop('crate-1');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: 'crate',
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
    });
    const text = formatResult({ kind: 'restart', result: { ...r, dryRun: true } }, colors(false));
    expect(text).toContain('Pre-flight: ! degraded');
    expect(text).toContain('preflight: degraded - only unready pod crate-1 may restart first');
  });
});
