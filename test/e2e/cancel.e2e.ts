// `jobs cancel` while a node drains: the runner gets SIGTERM (its pod deleted with a grace period), resets the
// allocation setting and releases the Lease before it exits; the following plugin exits non-zero. No data
// became unavailable and no pod was deleted by the cancelled run.
import { afterAll, describe, expect, it } from 'vitest';
import {
  RUNNER_IMAGE,
  allocationSetting,
  eventually,
  invariants,
  leases,
  plugin,
  pluginOk,
  pluginStart,
} from './harness.js';
import { FAST_FLAGS, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

describe('jobs cancel', () => {
  it('stops the runner safely mid-rollout: allocation reset, Lease released, non-zero exit', async () => {
    const s = await scenario('e2e-cancel', {
      dcUtil: false,
      simConfig: { exitDelayMs: 4000, relocationShardsPerSecond: 1, concurrentRecoveries: 1 },
    });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const run = pluginStart(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    const lease = await eventually(
      'a node to be decommissioning',
      async () => (await leases(s.namespace)).find((l) => l.progress?.current?.step === 'decommission-sent'),
      120_000,
      100,
    );
    expect(await allocationSetting(s.cluster)).toBe('primaries');
    const job = lease.operationId!;
    const cancel = await plugin(['jobs', 'cancel', job, '-n', s.namespace, '--yes', '--grace-period', '30']);
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);

    const r = await run.done;
    const out = r.stdout + r.stderr;
    expect(r.code, out).not.toBe(0);
    expect(out).toMatch(/runner stopped on SIGTERM after resetting allocation and releasing the lock/);
    expect(out).toMatch(/runner finished with exit code 143/);
    await eventually(
      'the allocation setting reset',
      async () => (await allocationSetting(s.cluster)) === undefined,
      30_000,
    );
    const after = await leases(s.namespace);
    expect(
      after.every((l) => !l.holder),
      JSON.stringify(after),
    ).toBe(true);
    const inv = await invariants(s.cluster);
    expect(inv, JSON.stringify(inv)).toMatchObject({ ok: true, unintended: 0 });
    // The cancelled run deleted no pod (the draining node's container restarts in place).
    for (const p of s.pods) expect(s.uids.uids(p), p).toHaveLength(1);
  });
});
