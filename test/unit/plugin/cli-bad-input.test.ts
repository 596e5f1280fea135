// Every kind of bad input: exit 2, ONE line "error: <what>. <what to do>", no stack, nothing touched.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { testContext } from './helpers.js';

const BAD: Array<[string, string[], RegExp]> = [
  ['unknown command', ['rollut', 'sts/x'], /unknown command "rollut".*Did you mean kubectl crate-decommission rollout/],
  ['unknown command (far off)', ['frobnicate'], /unknown command/],
  ['unknown flag', ['rollout', 'sts/x', '--bogus'], /unknown flag --bogus/],
  ['extra positional', ['rollout', 'sts/a', 'sts/b'], /unknown command or argument "sts\/b"/],
  ['missing target', ['rollout'], /rollout needs the argument <target> \(statefulset\/<name>/],
  ['missing pod', ['restart'], /restart needs the argument <pod> \(a pod name, or pod\/<name>\)/],
  ['missing Job', ['jobs', 'cancel'], /jobs cancel needs the argument <job>/],
  ['invalid pod name (uppercase)', ['restart', 'Crate-0'], /invalid pod name "Crate-0"/],
  ['invalid pod name (underscore)', ['decommission', 'crate_0'], /invalid pod name "crate_0"/],
  ['invalid pod name (too long)', ['restart', 'a'.repeat(254)], /invalid pod name/],
  ['pod command given a StatefulSet', ['restart', 'sts/crate'], /takes a pod, not a statefulset/],
  ['invalid StatefulSet name', ['rollout', 'sts/Bad_Name'], /invalid StatefulSet name "Bad_Name"/],
  ['unknown target kind', ['rollout', 'deployment/crate'], /unknown target kind "deployment"/],
  ['empty target name', ['rollout', 'sts/'], /invalid StatefulSet name ""/],
  ['invalid namespace', ['rollout', 'sts/crate', '-n', 'Bad_NS'], /invalid namespace "Bad_NS"/],
  ['namespace too long', ['health', 'crate', '-n', 'a'.repeat(64)], /invalid namespace/],
  ['namespace with dot', ['rollout', 'crate', '--namespace', 'a.b'], /invalid namespace "a.b"/],
  ['namespace without value', ['rollout', 'crate', '-n'], /--namespace needs a value/],
  [
    'bad duration',
    ['rollout', 'crate', '--decommission-timeout', '12parsecs'],
    /invalid duration "12parsecs" for --decommission-timeout.*Go duration/,
  ],
  [
    'bad duration (deprecated --timeout: still ONE line, no warning)',
    ['rollout', 'crate', '--timeout', '12parsecs'],
    /invalid duration "12parsecs" for --timeout/,
  ],
  [
    'bad duration (negative)',
    ['decommission', 'crate-0', '--decommission-timeout=-5s'],
    /--decommission-timeout -5s is out of range/,
  ],
  [
    'bad duration (negative, looks like flags)',
    ['decommission', 'crate-0', '--decommission-timeout', '-5s'],
    /unknown/,
  ],
  [
    'bad duration (zero)',
    ['rollout', 'crate', '--pod-ready-timeout', '0s'],
    /--pod-ready-timeout 0s is out of range: it must be from 1s to 24h/,
  ],
  [
    'bad duration (unit only)',
    ['rollout', 'crate', '--health-timeout', 's'],
    /invalid duration "s" for --health-timeout/,
  ],
  [
    'bad request timeout',
    ['rollout', 'crate', '--request-timeout', 'soon'],
    /invalid duration "soon" for --request-timeout/,
  ],
  [
    'unknown output format',
    ['rollout', 'crate', '-o', 'xml'],
    /unknown output format "xml".*-o text, json, yaml or jsonpath=TEMPLATE/,
  ],
  ['unknown output format (attached)', ['jobs', 'list', '-oxml'], /unknown output format "xml".*wide, name/],
  ['bad color', ['rollout', 'crate', '--color', 'purple'], /unknown --color value "purple"/],
  [
    'bad min availability',
    ['rollout', 'crate', '--min-availability', 'SOME'],
    /invalid --min-availability "SOME".*NONE, PRIMARIES or FULL/,
  ],
  ['bad allocation', ['rollout', 'crate', '--allocation', 'all'], /invalid --allocation "all"/],
  [
    '--skip-preflight is for single pods only',
    ['rollout', 'crate', '--skip-preflight'],
    /unknown flag --skip-preflight/,
  ],
  [
    'unreadable file',
    ['plan', '-f', '/does/not/exist.yaml'],
    /cannot read file "\/does\/not\/exist.yaml": it does not exist.*readable YAML or JSON/,
  ],
  ['unparsable file', ['plan', '-f', 'broken.yaml'], /cannot parse broken.yaml/],
  ['file without StatefulSet', ['plan', '-f', 'service.yaml'], /no StatefulSet found in service.yaml/],
  ['plan with target and file', ['plan', 'sts/x', '-f', 'service.yaml'], /either a target or -f FILE/],
  ['plan without anything', ['plan'], /plan needs a target or -f FILE/],
  [
    'missing kubeconfig file',
    ['rollout', 'crate', '--kubeconfig', '/nope/kubeconfig'],
    /kubeconfig file "\/nope\/kubeconfig" does not exist/,
  ],
  ['as-group without as', ['rollout', 'crate', '--as-group', 'admins'], /--as-group needs --as/],
  [
    'flag given twice',
    ['rollout', 'crate', '--decommission-timeout', '1m', '--decommission-timeout', '2m'],
    /--decommission-timeout was given more than once/,
  ],
  ['jobs without subcommand', ['jobs'], /jobs needs a subcommand/],
  ['jobs unknown subcommand', ['jobs', 'nope'], /unknown command "nope".*jobs --help/],
  [
    'jobs typo suggests the subcommand with its parent',
    ['jobs', 'lst'],
    /unknown command "lst". Did you mean kubectl crate-decommission jobs list\?/,
  ],
  [
    'a typo far from every subcommand suggests none',
    ['jobs', 'frobnicate'],
    /^error: unknown command "frobnicate". Run kubectl crate-decommission jobs --help/,
  ],
  ['bare -v (kubectl: a level is needed)', ['-v'], /-v needs a level/],
  ['bad -v level', ['jobs', 'list', '-v=loud'], /invalid -v level "loud"/],
  ['-o wide where there is no table', ['rollout', 'crate', '-o', 'wide'], /-o wide is for commands with a table/],
  [
    '-o name where there is no table',
    ['rbac', 'install', '-n', 'crate', '--dry-run', '-oname'],
    /-o name is for commands with a table/,
  ],
  ['-o jsonpath without a template', ['jobs', 'list', '-o', 'jsonpath'], /-o jsonpath needs a template/],
  ['-o jsonpath with a broken template', ['jobs', 'list', '-o', 'jsonpath={.items[0}'], /missing \]/],
  ['-o jsonpath with a filter', ['jobs', 'list', '-o', 'jsonpath={.items[?(@.x)]}'], /filters .* are not supported/],
  [
    'duration out of range (too long)',
    ['rollout', 'crate', '--decommission-timeout', '99999999h'],
    /--decommission-timeout 99999999h is out of range: it must be from 1s to 24h/,
  ],
  [
    'duration out of range (zero)',
    ['rollout', 'crate', '--health-timeout', '0s'],
    /--health-timeout 0s is out of range: it must be from 1s to 24h/,
  ],
  [
    'request timeout out of range',
    ['jobs', 'list', '--request-timeout', '48h'],
    /--request-timeout 48h is out of range: it must be 0 or from 1ms to 24h/,
  ],
  [
    '--timeout and --decommission-timeout disagree',
    ['rollout', 'crate', '--timeout', '5m', '--decommission-timeout', '10m'],
    /--timeout and --decommission-timeout disagree/,
  ],
  ['invalid job name', ['jobs', 'attach', 'Job_1'], /invalid Job name "Job_1"/],
  ['bad grace period', ['jobs', 'cancel', 'j1', '--grace-period', '0'], /invalid --grace-period "0"/],
  ['schedule without --schedule', ['schedule', 'create', 'crate'], /schedule create needs --schedule/],
  ['bad cron', ['schedule', 'create', 'crate', '--schedule', 'every sunday'], /invalid --schedule "every sunday"/],
  [
    'bad time zone',
    ['schedule', 'update', 'crate', '--schedule', '0 3 * * 0', '--time-zone', 'not a zone'],
    /invalid --time-zone/,
  ],
  [
    'schedule a pod',
    ['schedule', 'create', 'pod/crate-0', '--schedule', '0 3 * * 0'],
    /takes a statefulset or cratedb, not a pod/,
  ],
  ['rbac without subcommand', ['rbac'], /rbac needs a subcommand/],
  ['rbac bad service account', ['rbac', 'install', '--service-account', 'Bad!'], /invalid --service-account/],
  ['bad image', ['rollout', 'crate', '--image', 'has spaces'], /invalid --image/],
];

describe('bad input', () => {
  it.each(BAD)('%s -> exit 2, one line, nothing touched', async (_name, args, message) => {
    const ctx = testContext({
      files: {
        'broken.yaml': 'a: [1, 2\nb: }',
        'service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x}\n',
      },
    });
    const code = await runCli(args, ctx);
    expect(code).toBe(2);
    expect(ctx.out.text).toBe('');
    const lines = ctx.err.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: [^\n]+\. [A-Z][^\n]+$/);
    expect(lines[0]).toMatch(message);
    expect(ctx.err.text).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
    expect(ctx.connectCalls).toBe(0);
    expect(ctx.engineLoads).toBe(0);
  });
});

describe('good input needs no cluster when it need not', () => {
  it('--help prints usage starting with kubectl crate-decommission', async () => {
    const ctx = testContext();
    expect(await runCli(['--help'], ctx)).toBe(0);
    expect(ctx.out.text.startsWith('kubectl crate-decommission')).toBe(true);
    // kubectl's layout: the command names in a Commands section (not the full usage line of each).
    const commands = ctx.out.text.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
    for (const cmd of [
      'rollout',
      'restart',
      'decommission',
      'plan',
      'health',
      'schedule',
      'rbac',
      'jobs',
      'version',
      'completion',
    ]) {
      expect(commands).toMatch(new RegExp(`^  ${cmd} +\\S`, 'm'));
    }
    expect(ctx.connectCalls).toBe(0);
  });

  it('rollout --help lists the global kubectl flags and the engine flags', async () => {
    const ctx = testContext();
    expect(await runCli(['rollout', '--help'], ctx)).toBe(0);
    expect(ctx.out.text.startsWith('kubectl crate-decommission rollout <target>')).toBe(true);
    for (const flag of [
      '--kubeconfig',
      '--context',
      '--cluster',
      '--user',
      '--namespace',
      '--as',
      '--as-group',
      '--request-timeout',
      '--insecure-skip-tls-verify',
      '--output',
      '--dry-run',
      '--yes',
      '--color',
      '--local',
      '--image',
      '--decommission-timeout',
      '--min-availability',
      '--allocation',
      '--pod-ready-timeout',
      '--health-timeout',
    ]) {
      expect(ctx.out.text).toContain(flag);
    }
  });

  it('completion prints the kubectl completion helper', async () => {
    const ctx = testContext();
    expect(await runCli(['completion'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('exec kubectl-crate_decommission __complete "$@"');
  });

  it('__complete answers in kubectl protocol', async () => {
    const ctx = testContext();
    expect(await runCli(['__complete', 'ro'], ctx)).toBe(0);
    expect(ctx.out.lines).toContain('rollout');
    expect(ctx.out.lines.at(-1)).toBe(':4');
  });

  it.each([
    [['ro'], ['rollout']],
    [
      [''],
      ['rollout', 'restart', 'decommission', 'plan', 'health', 'schedule', 'rbac', 'jobs', 'version', 'completion'],
    ],
    [
      ['jobs', ''],
      ['list', 'attach', 'cancel'],
    ],
    [['rollout', 'sts/x', '--de'], ['--decommission-timeout']],
    [['rollout', 'sts/x', '--ti'], []],
    [['jobs', 'cancel', 'j', '--gr'], ['--grace-period']],
    [
      ['rollout', 'x', '-o', ''],
      ['text', 'json', 'yaml', 'wide', 'name', 'jsonpath='],
    ],
    [
      ['schedule', 'create', 'x', '--s'],
      [
        '--schedule',
        '--suspend',
        '--sql-transport',
        '--sql-user',
        '--sql-password-secret',
        '--sql-scheme',
        '--sql-ca-secret',
        '--sql-insecure',
      ],
    ],
    [['restart', 'crate-0', '--sk'], ['--skip-preflight']],
    [['rollout', 'crate', '--sk'], []],
    [
      ['health', 'crate', '--sql-transport', ''],
      ['auto', 'http', 'exec'],
    ],
  ])('__complete %j', async (words, expected) => {
    const ctx = testContext();
    expect(await runCli(['__complete', ...words], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual([...expected, ':4']);
  });

  it('rbac install --dry-run -o yaml with -n prints the objects offline', async () => {
    const ctx = testContext();
    expect(await runCli(['rbac', 'install', '-n', 'crate', '--dry-run', '-o', 'yaml'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: ServiceAccount');
    expect(ctx.out.text).toContain('kind: Role\n');
    expect(ctx.out.text).toContain('kind: RoleBinding');
    expect(ctx.connectCalls).toBe(0);
  });

  it('rbac install --cluster-wide --dry-run prints the ClusterRole variant', async () => {
    const ctx = testContext();
    expect(await runCli(['rbac', 'install', '-n', 'crate', '--cluster-wide', '--dry-run', '-o', 'yaml'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: ClusterRole\n');
    expect(ctx.out.text).toContain('kind: ClusterRoleBinding');
  });

  it('--version prints the version', async () => {
    const ctx = testContext();
    expect(await runCli(['--version'], ctx)).toBe(0);
    expect(ctx.out.text.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
