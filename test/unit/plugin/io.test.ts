// Colours (--color, NO_COLOR, TTY), confirmation, and kubectl's flags reaching the cluster factory.
import { describe, expect, it } from 'vitest';
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
    expect(questions).toEqual(['Restart every pod of statefulset/crate in crate, one at a time?']);
    expect(ctx.err.text).toContain('aborted: nothing changed');
    expect(ctx.connectCalls).toBe(0);
    expect(kube.writes).toEqual([]);
  });

  it('--yes does not ask', async () => {
    const ctx = testContext({ kube: new FakePluginKube() });
    ctx.confirm = async () => {
      throw new Error('asked');
    };
    expect(await runCli(['rollout', 'sts/crate', '-n', 'crate', '--yes'], ctx)).toBe(2); // not found, but not asked
  });
});

describe('kubectl flags reach the cluster factory', () => {
  it('maps every global flag', async () => {
    const seen: KubeConnectOptions[] = [];
    const ctx = testContext();
    ctx.connect = async (opts) => {
      seen.push(opts);
      throw new Error('stop here');
    };
    const code = await runCli(
      ['jobs', 'list', '--context', 'prod', '--cluster', 'c1', '--user', 'u1', '-n', 'crate', '--as', 'alice', '--as-group', 'g1', '--as-group', 'g2', '--request-timeout', '45s', '--insecure-skip-tls-verify'],
      ctx,
    );
    expect(code).toBe(1);
    expect(seen).toEqual([{ context: 'prod', cluster: 'c1', user: 'u1', namespace: 'crate', as: 'alice', asGroups: ['g1', 'g2'], requestTimeout: '45s', insecureSkipTlsVerify: true }]);
    expect(ctx.err.text).toBe('error: stop here\n');
  });
});
