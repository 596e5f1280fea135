// `plan` against the live cluster: strategy per pod, order (the elected master last), a healthy pre-flight,
// and nothing changed (no pod re-created, no Lease, no setting written).
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, kubectl, plugin, pluginOk, simState } from './harness.js';
import { expectRecreatedOnce, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

describe('plan', () => {
  it.each([
    { mode: '--job', dcUtil: true, extra: ['--job', '--image', RUNNER_IMAGE], strategy: 'kubernetes_managed' },
    { mode: '--local', dcUtil: false, extra: ['--local'], strategy: 'manual' },
    { mode: 'default (here, no Job)', dcUtil: true, extra: [], strategy: 'kubernetes_managed' },
  ])(
    'plan -o json ($mode, $strategy): order with the master last, pre-flight healthy, nothing changed',
    async ({ dcUtil, extra, strategy }) => {
      const s = await scenario(`e2e-plan-${extra.length === 0 ? 'default' : dcUtil ? 'dcutil' : 'manual'}`, { dcUtil });
      made.push(s);
      await pluginOk(['rbac', 'install', '-n', s.namespace]);
      const before = await simState(s.cluster);
      const r = await plugin(['plan', `sts/${s.sts}`, '-n', s.namespace, '-o', 'json', ...extra]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      // Always a kubectl List (issue 13): one RolloutPlan item, the engine's plan inside.
      const list = JSON.parse(r.stdout);
      expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'RolloutPlan' }] });
      const plan = list.items[0];
      expect(plan.order.map((p: any) => p.strategy)).toEqual([strategy, strategy, strategy]);
      expect(new Set(plan.order.map((p: any) => p.podName))).toEqual(new Set(s.pods));
      const master = before.nodes!.find((n: any) => n.name === (before as any).master_name);
      expect(master, 'the simulator elected a master').toBeDefined();
      expect(plan.order.at(-1).podName).toBe(master!.hostname);
      expect(plan.order.at(-1).nodeName).toBe(master!.name);
      expect(plan.preflight).toMatchObject({
        healthy: true,
        healthStatus: 'GREEN',
        failedChecks: [],
        nodeCount: 3,
        expectedNodes: 3,
      });

      // Nothing changed: pods, settings, decommissions, the Lease.
      expectRecreatedOnce(s, []);
      const after = await simState(s.cluster);
      const writes = (after.history ?? []).filter((e) => /^(SET|RESET) GLOBAL|^decommission/.test(e.what));
      expect(writes).toEqual([]);
      expect(after.transient).toEqual(before.transient);
      const lease = await kubectl(['get', 'lease', '-n', s.namespace, '-o', 'name']);
      expect(lease.stdout.trim()).toBe('');
      // A read-only command leaves no object behind: no Job (--job deletes its Job once the result is read).
      const jobs = await kubectl(['get', 'jobs', '-n', s.namespace, '-o', 'name']);
      expect(jobs.stdout.trim()).toBe('');
    },
  );
});
