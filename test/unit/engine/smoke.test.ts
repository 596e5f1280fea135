import { describe, expect, it } from 'vitest';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from './helpers.js';

describe('smoke', () => {
  it('manual restart', async () => {
    const w = await world({ replicas: 3 });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: 'crate', cluster: w.clusterModel(), ...fastGate });
    console.log(w.log.text());
    console.log(w.crate.writes.map((s) => `${s.via} ${s.user} ${s.stmt} ${JSON.stringify(s.args)}`).join('\n'));
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
  });
  it('managed restart', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', operator: true });
    const r = await restartPod(w.deps(), { podName: 'crate-data-hot-c1-1', namespace: 'crate', cluster: w.clusterModel(), ...fastGate });
    console.log(w.log.text());
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
  });
});
