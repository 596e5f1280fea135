// kubectl's habits (issue 13): usage without arguments, `help <command>`, `version`, attached short flags, -v=N,
// compact help that fits 80 columns, the renamed --decommission-timeout, Go durations with bounds.
import { describe, expect, it } from 'vitest';
import { commandTree, normalizeArgs, runCli } from '../../../plugin/cli.js';
import { findCommand, type CommandSpec } from '../../../plugin/spec.js';
import { DEFAULT_IMAGE } from '../../../plugin/objects.js';
import { VERSION } from '../../../shared/task/version.js';
import { FakePluginKube, installRunnerRbac, statefulSet, testContext } from './helpers.js';

const NS = 'crate';

function everyCommand(node: CommandSpec = commandTree()): CommandSpec[] {
  return [node, ...node.children.filter((c) => !c.hidden).flatMap((c) => everyCommand(c))];
}

describe('no arguments, help, version', () => {
  it('no arguments prints the root usage on stdout and exits 0 (as kubectl does)', async () => {
    const ctx = testContext();
    expect(await runCli([], ctx)).toBe(0);
    expect(ctx.out.text.split('\n')[0]).toBe('kubectl crate-decommission <command> [flags]');
    expect(ctx.out.text).toContain('Commands:');
    expect(ctx.err.text).toBe('');
  });

  it('help rollout is rollout --help (and -h), also for subcommands', async () => {
    const texts: string[] = [];
    for (const args of [
      ['help', 'rollout'],
      ['rollout', '--help'],
      ['rollout', '-h'],
      ['rollout', 'sts/x', '-n', 'crate', '--help'],
    ]) {
      const ctx = testContext();
      expect(await runCli(args, ctx)).toBe(0);
      texts.push(ctx.out.text);
    }
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]!.split('\n')[0]).toBe('kubectl crate-decommission rollout <target> [flags]');
    const sub = testContext();
    expect(await runCli(['help', 'jobs', 'cancel'], sub)).toBe(0);
    expect(sub.out.text.split('\n')[0]).toBe('kubectl crate-decommission jobs cancel <job> [flags]');
  });

  it('every help text fits 80 columns, examples are whole commands on their own line, exit codes include 6 and 130', async () => {
    for (const node of everyCommand()) {
      const ctx = testContext();
      expect(await runCli([...node.path, '--help'], ctx)).toBe(0);
      const lines = ctx.out.text.split('\n');
      for (const l of lines) expect(l.length, `${node.path.join(' ')}: "${l}"`).toBeLessThanOrEqual(80);
      // Each example whole: on one line, or broken between words with shell continuations.
      const joined = ctx.out.text.replace(/ \\\n {4}/g, ' ');
      for (const [cmd] of node.examples) expect(joined.split('\n')).toContain(`  ${cmd}`);
      expect(ctx.out.text).toMatch(/6 cannot reach the cluster/);
      expect(ctx.out.text).toMatch(/130 Ctrl-C/);
      expect(ctx.out.text).not.toContain('docs/cli.md');
    }
  });

  it('a command help lists its own flags grouped, the global ones in one compact list', async () => {
    const ctx = testContext();
    await runCli(['rollout', '--help'], ctx);
    expect(ctx.out.text).toMatch(/^Engine flags:$/m);
    expect(ctx.out.text).toMatch(/^SQL flags:$/m);
    expect(ctx.out.text).toMatch(/^Global flags/m);
    expect(ctx.out.text).not.toMatch(/^Kubernetes flags:$/m);
  });

  it('version prints plugin, engine, Node, build commit and the runner image; -o json the same as JSON', async () => {
    const text = testContext();
    expect(await runCli(['version'], text)).toBe(0);
    expect(text.out.text).toContain(`Plugin version:  ${VERSION}`);
    expect(text.out.text).toContain(`Node version:    ${process.version}`);
    expect(text.out.text).toContain(`Runner image:    ${DEFAULT_IMAGE}`);
    const json = testContext();
    expect(await runCli(['version', '-o', 'json', '--image', 'registry.example/runner:1'], json)).toBe(0);
    const info = JSON.parse(json.out.text) as Record<string, unknown>;
    expect(info).toMatchObject({
      plugin: VERSION,
      engine: VERSION,
      node: process.version,
      runnerImage: 'registry.example/runner:1',
      runnerImageSource: 'flag',
    });
    expect(typeof info.commit).toBe('string');
    const env = testContext();
    env.env.CRATE_DECOMMISSION_IMAGE = 'mirror.example/cd:2';
    expect(await runCli(['version', '-ojson'], env)).toBe(0);
    expect(JSON.parse(env.out.text)).toMatchObject({ runnerImage: 'mirror.example/cd:2', runnerImageSource: 'env' });
    expect(json.connectCalls + text.connectCalls).toBe(0);
  });

  it('--version still prints the bare version', async () => {
    const ctx = testContext();
    expect(await runCli(['--version'], ctx)).toBe(0);
    expect(ctx.out.text).toBe(`${VERSION}\n`);
  });
});

describe("kubectl's flag spellings", () => {
  it.each([
    [['-oyaml'], ['-o', 'yaml']],
    [['-ojson'], ['-o', 'json']],
    [['-o=json'], ['-o', 'json']],
    [['-ncrate'], ['-n', 'crate']],
    [['-n=crate'], ['-n', 'crate']],
    [['-fsts.yaml'], ['-f', 'sts.yaml']],
    [['-f=-'], ['-f', '-']],
    [['-ojsonpath={.items[*].name}'], ['-o', 'jsonpath={.items[*].name}']],
    [['-v=4'], ['--v=4']],
    [['-v4'], ['--v=4']],
    [['-v', '4'], ['--v=4']],
    [['--v=6'], ['--v=6']],
    [['--version'], ['--version']],
    [['-y'], ['-y']],
    [['-A'], ['-A']],
    [
      ['--', '-oyaml'],
      ['--', '-oyaml'],
    ],
  ])('%j -> %j', (input, output) => {
    expect(normalizeArgs(input)).toEqual(output);
  });

  it('-oyaml, -ojson, -ncrate, -o=json work on real commands', async () => {
    for (const [args, check] of [
      [
        ['rbac', 'install', '-ncrate', '--dry-run', '-oyaml'],
        (t: string) => t.includes('kind: ServiceAccount') && t.includes('namespace: crate'),
      ],
      [['rbac', 'install', '-ncrate', '--dry-run', '-ojson'], (t: string) => JSON.parse(t).kind === 'List'],
      [['rbac', 'install', '-n=crate', '--dry-run', '-o=json'], (t: string) => JSON.parse(t).items.length === 3],
    ] as const) {
      const ctx = testContext();
      expect(await runCli([...args], ctx), ctx.err.text).toBe(0);
      expect(check(ctx.out.text)).toBe(true);
    }
  });

  it('-v=N is accepted as kubectl verbosity anywhere (not the version)', async () => {
    const ctx = testContext();
    expect(await runCli(['rbac', 'install', '-n', 'crate', '--dry-run', '-v=4'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: Role');
    const ctx2 = testContext();
    expect(await runCli(['-v', '2', 'version'], ctx2)).toBe(0);
    expect(ctx2.out.text).toContain('Plugin version');
  });
});

describe('--decommission-timeout (was --timeout)', () => {
  function cluster(): FakePluginKube {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate', 3));
    installRunnerRbac(kube, NS);
    return kube;
  }
  const runnerArgs = (yaml: string) =>
    (/args:\n((?:\s+- .+\n)+)/.exec(yaml)?.[1] ?? '').split('\n').map((l) => l.trim().replace(/^- /, ''));

  it('the Job gets --decommission-timeout; no warning for the new name', async () => {
    const ctx = testContext({ kube: cluster() });
    expect(
      await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run', '--decommission-timeout', '20m'], ctx),
      ctx.err.text,
    ).toBe(0);
    const args = runnerArgs(ctx.out.text);
    expect(args).toContain('--decommission-timeout');
    expect(args[args.indexOf('--decommission-timeout') + 1]).toBe('1200s');
    expect(args).not.toContain('--timeout');
    expect(ctx.err.text).not.toContain('deprecated');
  });

  it('--timeout still works and warns on stderr that it is deprecated', async () => {
    const ctx = testContext({ kube: cluster() });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run', '--timeout', '15m'], ctx)).toBe(0);
    const args = runnerArgs(ctx.out.text);
    expect(args[args.indexOf('--decommission-timeout') + 1]).toBe('900s');
    expect(ctx.err.lines).toEqual([
      expect.stringMatching(/^warning: --timeout is deprecated: .*--decommission-timeout/),
    ]);
    expect(ctx.out.text).not.toContain('deprecated');
  });

  it('help shows --decommission-timeout and hides --timeout', async () => {
    const ctx = testContext();
    await runCli(['decommission', '--help'], ctx);
    expect(ctx.out.text).toContain('--decommission-timeout DURATION');
    expect(ctx.out.text).not.toMatch(/^\s+--timeout/m);
  });

  it.each([
    ['500ms', '1s'],
    ['1h30m', '5400s'],
    ['90', '90s'],
  ])('Go duration %s is accepted (%s)', async (text, expected) => {
    const ctx = testContext({ kube: cluster() });
    expect(
      await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run', '--health-timeout', text], ctx),
      ctx.err.text,
    ).toBe(0);
    const args = runnerArgs(ctx.out.text);
    expect(args[args.indexOf('--health-timeout') + 1]).toBe(expected);
  });
});

describe('the command tree is the parser', () => {
  it('finds commands through flags and their values', () => {
    const root = commandTree();
    expect(findCommand(root, ['-n', 'crate', 'jobs', '-o', 'json', 'list']).node.path).toEqual(['jobs', 'list']);
    expect(findCommand(root, ['rollout', 'sts/x']).rest).toEqual(['sts/x']);
  });
});
