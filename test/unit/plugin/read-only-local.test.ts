// Read-only `plan` and `health` leave no objects behind (issue 8 item 17): they run in this process by default
// (no Job, no Lease); `--job` runs them in a Job that is deleted as soon as its result is read.
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCli } from '../../../plugin/cli.js';
import { loadEngine } from '../../../shared/task/engine.js';
import { createWorld, type World } from '../../support/fakes/world.js';
import { FakePluginKube, installRunnerRbac, statefulSet, testContext } from './helpers.js';

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()?.close();
});

async function context() {
  const w = await createWorld({ namespace: 'crate', replicas: 3, preStop: 'none' });
  worlds.push(w);
  const kube = new FakePluginKube();
  kube.put(statefulSet('crate', w.statefulSetName, 3));
  installRunnerRbac(kube, 'crate');
  const ctx = testContext({ kube, namespace: 'crate' });
  const depsOpts: Array<{ readOnly?: boolean } | undefined> = [];
  ctx.loadEngine = async () => {
    ctx.engineLoads += 1;
    return loadEngine();
  };
  ctx.connect = async () => {
    ctx.connectCalls += 1;
    return {
      namespace: 'crate',
      kube,
      identity: 'tester@test',
      engineDeps: async (log, signal, opts) => (depsOpts.push(opts), w.deps({ log, signal })),
    };
  };
  return { w, kube, ctx, depsOpts };
}

describe('plan and health run here by default', () => {
  it.each([['health'], ['plan']])('%s: no Job, no write, read-only SQL', async (command) => {
    const { w, kube, ctx, depsOpts } = await context();
    const code = await runCli([command, `sts/${w.statefulSetName}`, '-n', 'crate', '-o', 'json'], ctx);
    expect(code, ctx.err.text).toBe(0);
    expect(ctx.engineLoads).toBe(1);
    expect(kube.writes).toEqual([]);
    expect(w.kube.writes).toEqual([]);
    expect(w.crate.writes).toEqual([]);
    expect(depsOpts).toEqual([{ readOnly: true }]);
    const result = JSON.parse(ctx.out.text) as Record<string, any>;
    expect(command === 'health' ? result.healthy : result.items[0].order).toBeTruthy();
  });

  it('a live plan -o json|yaml is a kubectl List too (issue 13): one RolloutPlan item, the plan inside', async () => {
    for (const format of ['json', 'yaml']) {
      const { w, ctx } = await context();
      expect(await runCli(['plan', `sts/${w.statefulSetName}`, '-n', 'crate', '-o', format], ctx), ctx.err.text).toBe(
        0,
      );
      const doc = (format === 'json' ? JSON.parse(ctx.out.text) : parseYaml(ctx.out.text)) as Record<string, any>;
      expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'List' });
      expect(doc.items).toHaveLength(1);
      expect(doc.items[0]).toMatchObject({ kind: 'RolloutPlan', cluster: expect.any(String), namespace: 'crate' });
      expect(doc.items[0].order.length).toBeGreaterThan(0);
      expect(doc.items[0].statefulSets.map((s: any) => s.name)).toEqual([w.statefulSetName]);
    }
  });

  it('--job with --local is refused (exit 2)', async () => {
    const { ctx } = await context();
    expect(await runCli(['health', 'crate', '-n', 'crate', '--job', '--local'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/--job and --local/);
    expect(ctx.connectCalls).toBe(0);
  });

  it('plan --job creates the Job and deletes it once its result is read', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate', 3));
    installRunnerRbac(kube, 'crate');
    const ctx = testContext({ kube });
    const name = 'crate-decommission-plan-crate-abcde';
    kube.logs.set(`crate/${name}-p1`, { lines: [] });
    const run = runCli(['plan', 'sts/crate', '-n', 'crate', '--job', '-o', 'json'], ctx);
    await new Promise((r) => setTimeout(r, 20));
    expect(kube.writes).toEqual([`create Job crate/${name}`]);
    const { runnerPod } = await import('./helpers.js');
    kube.put(
      runnerPod('crate', name, `${name}-p1`, { terminated: { exitCode: 0, message: JSON.stringify({ order: [] }) } }),
    );
    expect(await run).toBe(0);
    expect(await kube.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: 'crate', name })).toBeNull();
    expect(ctx.err.text).toContain(`job.batch/${name} deleted`);
  });

  it('plan --job --dry-run prints the Job (with its short TTL) and creates nothing', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate', 3));
    installRunnerRbac(kube, 'crate');
    const ctx = testContext({ kube });
    expect(await runCli(['plan', 'sts/crate', '-n', 'crate', '--job', '--dry-run', '-o', 'json'], ctx)).toBe(0);
    expect(JSON.parse(ctx.out.text).spec.ttlSecondsAfterFinished).toBe(300);
    expect(kube.writes).toEqual([]);
  });
});
