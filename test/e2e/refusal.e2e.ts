// Refusal: a RED table (a primary lost on purpose) makes the pre-flight refuse the rollout: exit 3, nothing
// deleted, no decommission, the allocation setting untouched.
import { afterAll, describe, expect, it } from 'vitest';
import {
  RUNNER_IMAGE,
  allocationSetting,
  decommissionsPerNode,
  eventually,
  invariants,
  plugin,
  pluginOk,
  sim,
  simState,
} from './harness.js';
import { FAST_FLAGS, expectRecreatedOnce, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

describe('refusal', () => {
  it('rollout with a RED table: exit 3, nothing deleted, allocation untouched', async () => {
    const s = await scenario('e2e-refuse', { dcUtil: true });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    await sim('POST', `/clusters/${s.cluster}/tables/doc.metrics/lose-primary`, {});
    await eventually('the table to be RED', async () => (await simState(s.cluster)).health === 'RED', 10_000);
    const r = await plugin(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(3);
    expect(out).toMatch(/all_tables_green/);
    expectRecreatedOnce(s, []);
    expect(await decommissionsPerNode(s.cluster)).toEqual({});
    expect(await allocationSetting(s.cluster)).toBeUndefined();
    const writes = ((await simState(s.cluster)).history ?? []).filter((e) => /^(SET|RESET) GLOBAL/.test(e.what));
    expect(writes).toEqual([]);
    const inv = await invariants(s.cluster);
    expect(inv.unintended, JSON.stringify(inv)).toBe(0);
  });
});
