// Colours (--color, NO_COLOR, TTY), confirmation, and kubectl's flags reaching the cluster factory.
import { afterEach, describe, expect, it } from 'vitest';
import { loadEngine } from '../../../shared/task/engine.js';
import { createWorld, type World } from '../../support/fakes/world.js';
import { colors, useColor } from '../../../plugin/io.js';
import type { KubeConnectOptions } from '../../../plugin/options.js';
import { runCli } from '../../../plugin/cli.js';
import { CaptureWriter, FakePluginKube, installRunnerRbac, statefulSet, testContext } from './helpers.js';

describe('--color', () => {
  const tty = new CaptureWriter(true);
  const pipe = new CaptureWriter(false);
  it.each([
    ['auto', tty, {}, true],
    ['auto', pipe, {}, false],
    ['auto', tty, { NO_COLOR: '1' }, false],
    ['auto', tty, { NO_COLOR: '' }, true],
    ['always', pipe, { NO_COLOR: '1' }, true],
    ['never', tty, {}, false],
  ] as const)('%s on tty=%s env=%j -> %s', (mode, out, env, expected) => {
    expect(useColor(mode, out, env)).toBe(expected);
  });
  it('colours only when enabled', () => {
    expect(colors(false).red('x')).toBe('x');
    expect(colors(true).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
});

const TARGET = { server: 'https://10.0.0.1:6443', context: 'prod-admin', cluster: 'prod-eu' };

/** A FakePluginKube cluster and a simulated CrateDB world behind the engine (as `plan` reads it). */
async function worldContext() {
  const w = await createWorld({ namespace: 'crate', replicas: 3, preStop: 'none' });
  worlds.push(w);
  const kube = new FakePluginKube();
  kube.put(statefulSet('crate', w.statefulSetName, 3));
  installRunnerRbac(kube, 'crate');
  const ctx = testContext({ kube, namespace: 'crate' });
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
      target: TARGET,
      engineDeps: async (log, signal) => w.deps({ log, signal }),
    };
  };
  return { w, kube, ctx };
}

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()?.close();
});

describe('confirmation', () => {
  it('answering no changes nothing (exit 0, "nothing changed")', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate'));
    installRunnerRbac(kube, 'crate');
    const ctx = testContext({ kube });
    const questions: string[] = [];
    ctx.confirm = async (q) => {
      questions.push(q);
      return false;
    };
    expect(await runCli(['rollout', 'sts/crate', '-n', 'crate'], ctx)).toBe(0);
    expect(questions).toHaveLength(1);
    expect(questions[0]!.split('\n').at(-1)).toBe('Restart every pod of statefulset/crate in crate, one at a time?');
    expect(ctx.err.text).toContain('aborted: nothing changed');
    expect(kube.writes).toEqual([]);
  });

  it('a rollout prompt names the context, cluster, server and namespace, and the pods in restart order (the elected master last)', async () => {
    const { w, kube, ctx } = await worldContext();
    const questions: string[] = [];
    ctx.confirm = async (q) => {
      questions.push(q);
      return false;
    };
    // No -n: the namespace is the context's, named as such (never "the current namespace").
    expect(await runCli(['rollout', `sts/${w.statefulSetName}`], ctx), ctx.err.text).toBe(0);
    expect(questions).toHaveLength(1);
    const [where, pods, question] = questions[0]!.split('\n');
    expect(where).toBe('context prod-admin, cluster prod-eu (https://10.0.0.1:6443), namespace crate');
    // The order `plan` shows for the same cluster.
    const planCtx = (await worldContextFrom(w, kube)).ctx;
    expect(await runCli(['plan', `sts/${w.statefulSetName}`, '-o', 'json'], planCtx), planCtx.err.text).toBe(0);
    const order = (JSON.parse(planCtx.out.text).items[0].order as Array<{ podName: string }>).map((p) => p.podName);
    expect(order).toHaveLength(3);
    expect(pods).toBe(`pods in this order: 1. ${order[0]}  2. ${order[1]}  3. ${order[2]} (elected master)`);
    expect(question).toBe(`Restart every pod of statefulset/${w.statefulSetName} in crate, one at a time?`);
    expect(questions[0]).not.toContain('the current namespace');
    // The analysis only read: nothing written to the cluster or to CrateDB, no Job, no Lease.
    expect(kube.writes).toEqual([]);
    expect(w.kube.writes).toEqual([]);
    expect(w.crate.writes).toEqual([]);
    expect(ctx.err.text).toContain('aborted: nothing changed');
  });

  it('restart and decommission name the pod, context, cluster and namespace', async () => {
    for (const command of ['restart', 'decommission']) {
      const { w, kube, ctx } = await worldContext();
      const questions: string[] = [];
      ctx.confirm = async (q) => {
        questions.push(q);
        return false;
      };
      const pod = `${w.statefulSetName}-1`;
      expect(await runCli([command, pod, '-n', 'crate'], ctx)).toBe(0);
      expect(questions[0]!.split('\n')).toEqual([
        'context prod-admin, cluster prod-eu (https://10.0.0.1:6443), namespace crate',
        `pod: ${pod}`,
        `${command === 'restart' ? 'Restart' : 'Decommission'} pod ${pod} in crate?`,
      ]);
      expect(kube.writes).toEqual([]);
    }
  });

  it('when the order cannot be read from here, the prompt says so and names no guessed order', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate'));
    installRunnerRbac(kube, 'crate');
    const ctx = testContext({ kube }); // loadEngine throws: the analysis cannot run
    const questions: string[] = [];
    ctx.confirm = async (q) => {
      questions.push(q);
      return false;
    };
    expect(await runCli(['rollout', 'sts/crate', '-n', 'crate'], ctx)).toBe(0);
    expect(questions[0]!.split('\n')[1]).toMatch(
      /^pods: the runner decides the order; it could not be read from here: /,
    );
  });

  it('answering yes runs on the same connection (the kubeconfig is loaded once)', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate'));
    const ctx = testContext({ kube });
    ctx.confirm = async () => true;
    await runCli(['rollout', 'sts/crate', '-n', 'crate'], ctx);
    expect(ctx.connectCalls).toBe(1);
  });

  it('without a terminal to ask on, nothing is analysed for a prompt', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate'));
    const ctx = testContext({ kube });
    ctx.canConfirm = () => false;
    ctx.confirm = async () => {
      throw new Error('asked');
    };
    expect(await runCli(['rollout', 'sts/crate', '-n', 'crate'], ctx)).toBe(2); // the runner's RBAC is missing
    expect(ctx.engineLoads).toBe(0);
  });

  it('--yes does not ask', async () => {
    const ctx = testContext({ kube: new FakePluginKube() });
    ctx.confirm = async () => {
      throw new Error('asked');
    };
    expect(await runCli(['rollout', 'sts/crate', '-n', 'crate', '--yes'], ctx)).toBe(2); // not found, but not asked
  });
});

async function worldContextFrom(w: World, kube: FakePluginKube) {
  const ctx = testContext({ kube, namespace: 'crate' });
  ctx.loadEngine = async () => loadEngine();
  ctx.connect = async () => ({
    namespace: 'crate',
    kube,
    identity: 'tester@test',
    target: TARGET,
    engineDeps: async (log, signal) => w.deps({ log, signal }),
  });
  return { ctx };
}

describe('kubectl flags reach the cluster factory', () => {
  it('maps every global flag', async () => {
    const seen: KubeConnectOptions[] = [];
    const ctx = testContext();
    ctx.connect = async (opts) => {
      seen.push(opts);
      throw new Error('stop here');
    };
    const code = await runCli(
      [
        'jobs',
        'list',
        '--context',
        'prod',
        '--cluster',
        'c1',
        '--user',
        'u1',
        '-n',
        'crate',
        '--as',
        'alice',
        '--as-group',
        'g1',
        '--as-group',
        'g2',
        '--request-timeout',
        '45s',
        '--insecure-skip-tls-verify',
      ],
      ctx,
    );
    expect(code).toBe(1);
    expect(seen).toEqual([
      {
        context: 'prod',
        cluster: 'c1',
        user: 'u1',
        namespace: 'crate',
        as: 'alice',
        asGroups: ['g1', 'g2'],
        requestTimeout: '45s',
        insecureSkipTlsVerify: true,
      },
    ]);
    expect(ctx.err.text).toBe('error: stop here\n');
  });
});
