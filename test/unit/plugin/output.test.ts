// kubectl's output habits (issue 13): ages, -o wide|name|jsonpath, --no-headers, -o json|yaml on the commands that
// change things, YAML without anchors, errors only on stderr.
import { describe, expect, it } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import { runCli } from '../../../plugin/cli.js';
import { age, humanDuration, jsonPath, toPlainYaml } from '../../../plugin/output.js';
import { printValue } from '../../../plugin/printers.js';
import { CaptureWriter, FakePluginKube, installRunnerRbac, runnerPod, statefulSet, testContext } from './helpers.js';

const NS = 'crate';
const NOW = new Date(Date.UTC(2026, 0, 1)); // testContext().now()

describe('ages as kubectl prints them', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [119_000, '119s'],
    [125_000, '2m5s'],
    [300_000, '5m'],
    [12 * 60_000, '12m'],
    [(3 * 60 + 12) * 60_000, '3h12m'],
    [20 * 3_600_000, '20h'],
    [(3 * 24 + 4) * 3_600_000, '3d4h'],
    [40 * 86_400_000, '40d'],
    [(2 * 365 + 100) * 86_400_000, '2y100d'],
    [9 * 365 * 86_400_000, '9y'],
    [-500, '0s'],
    [-5000, '<invalid>'],
  ])('%i ms -> %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
  it('age of a timestamp', () => {
    expect(age('2025-12-31T23:55:00Z', NOW)).toBe('5m');
    expect(age(null, NOW)).toBe('-');
  });
});

describe('YAML without anchors or aliases', () => {
  it('a value used twice is written twice', () => {
    const shared = { name: 'x', ports: [4200] };
    const text = toPlainYaml({ a: shared, b: shared });
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text.match(/name: x/g)).toHaveLength(2);
    const out = new CaptureWriter();
    printValue(out, [shared, shared], 'yaml', () => '');
    expect(out.text).not.toMatch(/[&*]a\d/);
  });
});

describe('jsonpath (kubectl templates)', () => {
  const data = {
    kind: 'List',
    items: [
      { name: 'a', n: 1, tags: ['x', 'y'] },
      { name: 'b', n: 2, tags: [] },
    ],
    'dotted.key': 'v',
  };
  it.each([
    ['{.kind}', 'List'],
    ['.kind', 'List'],
    ['{.items[*].name}', 'a b'],
    ['{.items[0].name}', 'a'],
    ['{.items[-1].name}', 'b'],
    ['{.items[0:1].n}', '1'],
    ['{.items[0].tags}', '["x","y"]'],
    ["{['dotted.key']}", 'v'],
    ['{range .items[*]}{.name}:{.n}{"\\n"}{end}', 'a:1\nb:2\n'],
    ['{..name}', 'a b'],
    ['{.missing}', ''],
    ['name={.items[1].name}', 'name=b'],
  ])('%s', (template, expected) => {
    expect(jsonPath(template, data)).toBe(expected);
  });
});

function job(name: string, started: string, completed?: string): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: NS,
      labels: {
        'app.kubernetes.io/name': 'crate-decommission',
        'crate-decommission.crate.io/operation': 'rollout',
        'crate-decommission.crate.io/cluster': 'crate',
      },
    },
    status: {
      startTime: new Date(started),
      ...(completed ? { completionTime: new Date(completed), conditions: [{ type: 'Complete', status: 'True' }] } : {}),
    },
  } as unknown as V1Job;
}

function jobsCluster(): FakePluginKube {
  const kube = new FakePluginKube();
  kube.put(job('j-old', '2025-12-31T20:48:00Z', '2025-12-31T21:00:30Z'));
  kube.put(job('j-new', '2025-12-31T23:55:00Z'));
  return kube;
}

describe('jobs list', () => {
  it('shows ages and durations like kubectl, not timestamps', async () => {
    const ctx = testContext({ kube: jobsCluster() });
    expect(await runCli(['jobs', 'list', '-n', NS], ctx)).toBe(0);
    const [header, ...rows] = ctx.out.lines;
    expect(header).toMatch(/^NAMESPACE\s+NAME\s+OPERATION\s+CLUSTER\s+STATUS\s+DURATION\s+AGE$/);
    expect(rows[0]).toMatch(/^crate\s+j-new\s+rollout\s+crate\s+\S+\s+5m\s+5m$/);
    expect(rows[1]).toMatch(/^crate\s+j-old\s+rollout\s+crate\s+Complete\s+12m\s+3h12m$/);
    expect(ctx.out.text).not.toMatch(/\d{4}-\d\d-\d\dT/);
  });

  it('-o wide adds the timestamps, --no-headers drops the header, -o name prints job.batch/<name>', async () => {
    const wide = testContext({ kube: jobsCluster() });
    expect(await runCli(['jobs', 'list', '-n', NS, '-o', 'wide'], wide)).toBe(0);
    expect(wide.out.lines[0]).toMatch(/AGE\s+STARTED\s+COMPLETED$/);
    expect(wide.out.lines[2]).toContain('2025-12-31T21:00:30.000Z');
    const bare = testContext({ kube: jobsCluster() });
    expect(await runCli(['jobs', 'list', '-n', NS, '--no-headers'], bare)).toBe(0);
    expect(bare.out.lines).toHaveLength(2);
    expect(bare.out.lines[0]).toMatch(/^crate\s+j-new/);
    const names = testContext({ kube: jobsCluster() });
    expect(await runCli(['jobs', 'list', '-n', NS, '-oname'], names)).toBe(0);
    expect(names.out.text).toBe('job.batch/j-new\njob.batch/j-old\n');
  });

  it('-o jsonpath on the rows', async () => {
    const ctx = testContext({ kube: jobsCluster() });
    expect(
      await runCli(['jobs', 'list', '-n', NS, '-o', 'jsonpath={range [*]}{.name} {.status}{"\\n"}{end}'], ctx),
      ctx.err.text,
    ).toBe(0);
    expect(ctx.out.lines[1]).toBe('j-old Complete');
  });
});

describe('-o json|yaml on the commands that change things', () => {
  it('rbac install -o json prints the objects as a List (stdout), nothing else', async () => {
    const kube = new FakePluginKube();
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS, '-o', 'json'], ctx)).toBe(0);
    const list = JSON.parse(ctx.out.text) as { kind: string; items: Array<{ kind: string }> };
    expect(list.kind).toBe('List');
    expect(list.items.map((i) => i.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
    expect(kube.writes).toHaveLength(3);
  });

  it('rbac uninstall -o yaml prints what was deleted', async () => {
    const kube = new FakePluginKube();
    installRunnerRbac(kube, NS);
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'uninstall', '-n', NS, '--yes', '-o', 'yaml'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: List');
    expect(ctx.out.text).toMatch(
      /object: serviceaccount\/crate-decommission\n\s+namespace: crate\n\s+action: deleted|object: serviceaccount\/crate-decommission\n\s+action: deleted/,
    );
  });

  it('schedule create -o json prints the CronJob created', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate', 3));
    installRunnerRbac(kube, NS);
    const ctx = testContext({ kube });
    expect(
      await runCli(['schedule', 'create', 'crate', '-n', NS, '--schedule', '0 3 * * 0', '-o', 'json'], ctx),
      ctx.err.text,
    ).toBe(0);
    const list = JSON.parse(ctx.out.text) as { items: Array<{ kind: string; metadata: { name: string } }> };
    expect(list.items[0]).toMatchObject({ kind: 'CronJob', metadata: { name: 'crate-decommission-crate' } });
    const del = testContext({ kube });
    expect(await runCli(['schedule', 'delete', 'crate', '-n', NS, '-o', 'json'], del), del.err.text).toBe(0);
    expect(JSON.parse(del.out.text).items).toEqual([
      { object: 'cronjob.batch/crate-decommission-crate', namespace: NS, action: 'deleted' },
    ]);
  });

  it('jobs cancel -o json prints what was deleted', async () => {
    const kube = jobsCluster();
    kube.put(runnerPod(NS, 'j-new', 'j-new-abcde', { running: true }));
    const ctx = testContext({ kube });
    expect(await runCli(['jobs', 'cancel', 'j-new', '-n', NS, '--yes', '-o', 'json'], ctx), ctx.err.text).toBe(0);
    expect(JSON.parse(ctx.out.text).items).toEqual([
      { object: 'pod/j-new-abcde', namespace: NS, action: 'deleted' },
      { object: 'job.batch/j-new', namespace: NS, action: 'deleted' },
    ]);
  });
});

describe('errors go to stderr only', () => {
  it.each([
    [['rollout', 'crate', '-o', 'json', '--decommission-timeout', 'x']],
    [['jobs', 'attach', 'Bad_Name', '-o', 'json']],
    [['frobnicate']],
  ])('%j', async (args) => {
    const ctx = testContext();
    expect(await runCli(args, ctx)).toBe(2);
    expect(ctx.out.text).toBe('');
    expect(ctx.err.text).toMatch(/^error: /);
  });
});
