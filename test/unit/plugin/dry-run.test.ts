// kubectl's --dry-run forms (issue 8 item 14): none|client|server, the bare flag = client, anything else refused
// with exit 2 before the cluster is touched. `server` sends every write with dryRun=All: admission runs, nothing
// persists.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { parseGlobalOptions } from '../../../plugin/options.js';
import { normalizeDryRunArgs } from '../../../shared/task/flag-values.js';
import { FakePluginKube, installRunnerRbac, statefulSet, testContext } from './helpers.js';

const NS = 'crate';

function cluster(): FakePluginKube {
  const kube = new FakePluginKube();
  kube.put(statefulSet(NS, 'crate', 3));
  installRunnerRbac(kube, NS);
  return kube;
}

describe('--dry-run values', () => {
  it.each([
    [undefined, 'none'],
    ['none', 'none'],
    ['client', 'client'],
    ['server', 'server'],
  ])('%j -> %s', (value, mode) => {
    const g = parseGlobalOptions(value === undefined ? {} : { 'dry-run': value });
    expect(g.dryRunMode).toBe(mode);
    expect(g.dryRun).toBe(mode !== 'none');
  });

  it('the bare flag is client; a value needs "="', () => {
    expect(normalizeDryRunArgs(['rollout', '--dry-run', 'sts/x'])).toEqual(['rollout', '--dry-run=client', 'sts/x']);
    expect(normalizeDryRunArgs(['rollout', 'sts/x', '--dry-run=server'])).toEqual([
      'rollout',
      'sts/x',
      '--dry-run=server',
    ]);
    // After `--` nothing is a flag.
    expect(normalizeDryRunArgs(['rollout', '--', '--dry-run'])).toEqual(['rollout', '--', '--dry-run']);
    expect(() => normalizeDryRunArgs(['rollout', 'sts/x', '--dry-run', 'server'])).toThrow(/--dry-run=server/);
  });

  it.each(['1', 'yes', 'true', 'false', '0', 'Client', '', 'all'])(
    '--dry-run=%s is refused: exit 2, one line, nothing touched',
    async (v) => {
      const kube = cluster();
      const ctx = testContext({ kube });
      expect(await runCli(['rollout', 'sts/crate', '-n', NS, `--dry-run=${v}`], ctx)).toBe(2);
      expect(ctx.err.lines).toHaveLength(1);
      expect(ctx.err.lines[0]).toMatch(
        /^error: invalid --dry-run value "[^"]*"[^.]*\. Use --dry-run=none, --dry-run=client or --dry-run=server/,
      );
      expect(ctx.connectCalls).toBe(0);
      expect(kube.writes).toEqual([]);
    },
  );

  it("--dry-run=true names kubectl's deprecation: use client", async () => {
    const ctx = testContext({ kube: cluster() });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run=true'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/boolean.*--dry-run=client/);
  });

  it('--dry-run given twice with different values is refused', async () => {
    const ctx = testContext({ kube: cluster() });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run=client', '--dry-run=none'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/--dry-run was given more than once/);
  });

  it('--dry-run server (no "=") is refused, not read as a target', async () => {
    const ctx = testContext({ kube: cluster() });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run', 'server'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(/--dry-run=server/);
    expect(ctx.connectCalls).toBe(0);
  });
});

describe('rollout (Job mode)', () => {
  it.each([['--dry-run'], ['--dry-run=client']])('%s prints the Job and creates nothing', async (flag) => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, flag, '-o', 'yaml'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: Job');
    expect(kube.writes).toEqual([]);
    expect(kube.dryRunWrites).toEqual([]);
  });

  it('--dry-run=server sends the Job with dryRun=All and persists nothing', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run=server', '-o', 'yaml'], ctx)).toBe(0);
    expect(kube.dryRunWrites).toEqual([`create Job ${NS}/crate-decommission-rollout-crate-abcde`]);
    expect(kube.writes).toEqual([]);
    expect(await kube.list('batch/v1', 'Job', NS)).toEqual([]);
    expect(ctx.out.text).toContain('kind: Job');
    expect(ctx.err.text).toContain('job.batch/crate-decommission-rollout-crate-abcde created (server dry run)');
  });

  it('--dry-run=none is a real run (asks, then creates the Job)', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    let asked = 0;
    ctx.confirm = async () => {
      asked++;
      return false;
    };
    await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run=none'], ctx);
    expect(asked).toBe(1);
  });
});

describe('rbac', () => {
  it('install --dry-run=server sends each object with dryRun=All and creates nothing', async () => {
    const kube = new FakePluginKube();
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS, '--dry-run=server'], ctx)).toBe(0);
    expect(kube.writes).toEqual([]);
    expect(kube.objects.size).toBe(0);
    expect(kube.dryRunWrites.map((w) => w.split(' ')[1])).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
    expect(ctx.out.lines).toEqual([
      'serviceaccount/crate-decommission created (server dry run)',
      'role.rbac.authorization.k8s.io/crate-decommission created (server dry run)',
      'rolebinding.rbac.authorization.k8s.io/crate-decommission created (server dry run)',
    ]);
  });

  it('install --dry-run=server over an existing install replaces with dryRun=All and changes nothing', async () => {
    const kube = new FakePluginKube();
    await runCli(['rbac', 'install', '-n', NS], testContext({ kube }));
    const before = JSON.stringify([...kube.objects.values()]);
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS, '--dry-run=server'], ctx)).toBe(0);
    expect(JSON.stringify([...kube.objects.values()])).toBe(before);
    expect(ctx.out.lines.every((l) => l.endsWith('configured (server dry run)'))).toBe(true);
  });

  it.each(['1', 'yes'])('install --dry-run=%s creates nothing (exit 2)', async (v) => {
    const kube = new FakePluginKube();
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS, `--dry-run=${v}`], ctx)).toBe(2);
    expect(kube.objects.size).toBe(0);
    expect(ctx.connectCalls).toBe(0);
  });

  it('uninstall --dry-run=server deletes nothing', async () => {
    const kube = new FakePluginKube();
    await runCli(['rbac', 'install', '-n', NS], testContext({ kube }));
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'uninstall', '-n', NS, '--dry-run=server'], ctx)).toBe(0);
    expect(kube.objects.size).toBe(3);
    expect(ctx.out.lines.every((l) => l.endsWith('deleted (server dry run)'))).toBe(true);
  });
});

describe('schedule and jobs', () => {
  it('schedule create --dry-run=server persists no CronJob', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(
      await runCli(['schedule', 'create', 'sts/crate', '-n', NS, '--schedule', '0 3 * * 0', '--dry-run=server'], ctx),
    ).toBe(0);
    expect(await kube.list('batch/v1', 'CronJob', NS)).toEqual([]);
    expect(kube.dryRunWrites).toEqual([`create CronJob ${NS}/crate-decommission-crate`]);
    expect(ctx.out.text).toContain('kind: CronJob');
  });

  it('schedule create --dry-run=client contacts nothing it could change', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(
      await runCli(['schedule', 'create', 'sts/crate', '-n', NS, '--schedule', '0 3 * * 0', '--dry-run=client'], ctx),
    ).toBe(0);
    expect(kube.writes).toEqual([]);
    expect(kube.dryRunWrites).toEqual([]);
  });

  it('schedule delete --dry-run=server deletes nothing', async () => {
    const kube = cluster();
    await runCli(['schedule', 'create', 'sts/crate', '-n', NS, '--schedule', '0 3 * * 0'], testContext({ kube }));
    const ctx = testContext({ kube });
    expect(await runCli(['schedule', 'delete', 'sts/crate', '-n', NS, '--dry-run=server'], ctx)).toBe(0);
    expect(await kube.list('batch/v1', 'CronJob', NS)).toHaveLength(1);
    expect(ctx.out.text).toContain('cronjob.batch/crate-decommission-crate deleted (server dry run)');
  });

  it('jobs cancel --dry-run=server deletes nothing', async () => {
    const kube = cluster();
    kube.put({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j1', namespace: NS } });
    const ctx = testContext({ kube });
    expect(await runCli(['jobs', 'cancel', 'j1', '-n', NS, '--dry-run=server'], ctx)).toBe(0);
    expect(await kube.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name: 'j1' })).not.toBeNull();
    expect(ctx.out.text).toContain('job.batch/j1 deleted (server dry run)');
  });
});
