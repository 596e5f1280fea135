// --local end to end: the command line runs the real engine in-process against the in-memory cluster fakes.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { loadEngine } from '../../../shared/task/engine.js';
import { createWorld, type World, type WorldOptions } from '../../support/fakes/world.js';
import { FakePluginKube, testContext } from './helpers.js';

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()?.close();
});

async function localContext(options: WorldOptions) {
  const w = await createWorld({ namespace: 'crate', ...options });
  worlds.push(w);
  const ctx = testContext({ kube: new FakePluginKube(), namespace: 'crate' });
  ctx.loadEngine = async () => {
    ctx.engineLoads += 1;
    return loadEngine();
  };
  ctx.connect = async () => {
    ctx.connectCalls += 1;
    return {
      namespace: 'crate',
      kube: new FakePluginKube(),
      identity: 'tester@test',
      engineDeps: async (log, signal) => w.deps({ log, signal }),
    };
  };
  return { w, ctx };
}

const SLOW_OK = ['--pod-ready-timeout', '3000s', '--health-timeout', '3000s'];

describe('--local', () => {
  it('rolls a cluster with progress lines and the result, exit 0', async () => {
    const { w, ctx } = await localContext({
      replicas: 3,
      preStop: 'none',
      tables: [{ name: 't', shards: 3, replicas: 1 }],
    });
    const code = await runCli(
      ['rollout', `sts/${w.statefulSetName}`, '-n', 'crate', '--local', '--yes', ...SLOW_OK],
      ctx,
    );
    expect(ctx.err.text).toBe('');
    expect(code).toBe(0);
    expect(ctx.out.text).toMatch(/crate-2/);
    expect(ctx.out.text).toMatch(/rollout of crate\/.* completed/);
    expect(w.crate.violations).toEqual([]);
  });

  it('-o json prints the engine result; the JSON lines go to stderr', async () => {
    const { w, ctx } = await localContext({ replicas: 3, preStop: 'none' });
    const code = await runCli(['health', w.statefulSetName, '-n', 'crate', '--local', '-o', 'json'], ctx);
    expect(code).toBe(0);
    const result = JSON.parse(ctx.out.text) as Record<string, unknown>;
    expect(result).toMatchObject({ healthy: true, healthStatus: 'GREEN' });
    for (const l of ctx.err.lines) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('a missing StatefulSet is bad input (exit 2) from the engine; the error line goes to stderr', async () => {
    const { ctx } = await localContext({ replicas: 1, preStop: 'none' });
    expect(await runCli(['rollout', 'sts/nope', '-n', 'crate', '--local', '--yes'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/^error: StatefulSet not found: crate\/nope/m);
    expect(ctx.out.text).not.toMatch(/error/);
  });

  it('plan -o name lists the pods in order; -o wide adds the StatefulSet; --no-headers drops table headers', async () => {
    const { w, ctx } = await localContext({ replicas: 3, preStop: 'none' });
    expect(await runCli(['plan', w.statefulSetName, '-n', 'crate', '--local', '-o', 'name'], ctx), ctx.err.text).toBe(
      0,
    );
    expect(ctx.out.lines).toEqual([
      `pod/${w.statefulSetName}-2`,
      `pod/${w.statefulSetName}-1`,
      `pod/${w.statefulSetName}-0`,
    ]);
    const wide = (await localContext({ replicas: 3, preStop: 'none' })).ctx;
    expect(await runCli(['plan', w.statefulSetName, '-n', 'crate', '--local', '-o', 'wide'], wide)).toBe(0);
    expect(wide.out.text).toMatch(/#\s+POD\s+STATEFULSET\s+NODE/);
    const bare = (await localContext({ replicas: 3, preStop: 'none' })).ctx;
    expect(await runCli(['plan', w.statefulSetName, '-n', 'crate', '--local', '--no-headers'], bare)).toBe(0);
    expect(bare.out.text).not.toMatch(/#\s+POD/);
    expect(bare.out.text).toMatch(/^1\s+\S+-2\s/m);
  });

  it('health -o name prints the failed checks (none when healthy); -o jsonpath picks a field', async () => {
    const { w, ctx } = await localContext({ replicas: 3, preStop: 'none' });
    expect(await runCli(['health', w.statefulSetName, '-n', 'crate', '--local', '-o', 'name'], ctx)).toBe(0);
    expect(ctx.out.text).toBe('');
    const jp = (await localContext({ replicas: 3, preStop: 'none' })).ctx;
    expect(
      await runCli(['health', w.statefulSetName, '-n', 'crate', '--local', '-o', 'jsonpath={.healthStatus}'], jp),
    ).toBe(0);
    expect(jp.out.text).toBe('GREEN\n');
    const bare = (await localContext({ replicas: 3, preStop: 'none' })).ctx;
    expect(await runCli(['health', w.statefulSetName, '-n', 'crate', '--local', '--no-headers'], bare)).toBe(0);
    expect(bare.out.text).not.toMatch(/CHECK\s+OK/);
  });

  it('--dry-run changes nothing', async () => {
    const { w, ctx } = await localContext({ replicas: 3, preStop: 'none' });
    const before = w.kube.podHistory.length;
    expect(await runCli(['rollout', w.statefulSetName, '-n', 'crate', '--local', '--dry-run', ...SLOW_OK], ctx)).toBe(
      0,
    );
    expect(w.kube.podHistory.length).toBe(before);
    expect(w.crate.writes).toEqual([]);
  });
});
