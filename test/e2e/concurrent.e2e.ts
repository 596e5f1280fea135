// Two runs against one cluster at once: the second fails with the lock exit code (5) naming the holder, the
// first rolls the cluster.
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, eventually, leases, pluginOk, pluginStart } from './harness.js';
import {
  FAST_FLAGS,
  expectClusterSafe,
  expectDecommissionedOnce,
  expectRecreatedOnce,
  nodeOf,
  scenario,
  type Scenario,
} from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

describe('two concurrent runs', () => {
  it('one fails with exit 5 naming the holder, the other succeeds', async () => {
    const s = await scenario('e2e-lock', { dcUtil: true });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const args = ['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS];
    const first = pluginStart(args);
    const lease = await eventually(
      'the first run to hold the Lease',
      async () => (await leases(s.namespace)).find((l) => l.holder),
      60_000,
      200,
    );
    const second = pluginStart(args);
    const [r1, r2] = await Promise.all([first.done, second.done]);
    const out1 = r1.stdout + r1.stderr;
    const out2 = r2.stdout + r2.stderr;
    expect(r2.code, out2).toBe(5);
    expect(out2).toContain(`locked by ${lease.holder}`);
    expect(r1.code, out1).toBe(0);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, s.pods.map(nodeOf));
  });
});
