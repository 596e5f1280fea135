// The runner's argument grammar (`<operation> <target> --namespace NS [engine flags]`): runnerArgsFor writes a Task
// as the runner argv (the Job's and the CronJob's args), parseRunnerArgs reads it back (the runner parses its argv with
// it, the plugin the args of a scheduled CronJob: schedule update).
import yargs, { type Argv } from 'yargs';
import type { LogLevel } from '../ports.js';
import { UsageError } from './exit.js';
import { normalizeDryRunArgs, parseDryRun } from './flag-values.js';
import { declareOperationOptions, type RawOperationArgs } from './operation-flags.js';
import { parseTarget } from './target.js';
import { DEFAULT_TASK_OPTIONS, type Operation, type SqlOptions, type Target, type Task } from './task.js';

export interface ParsedRunnerArgs {
  operation: Operation;
  target: Target;
  namespace: string | undefined;
  dryRun: boolean;
  logLevel: LogLevel;
  raw: RawOperationArgs;
}

export const OPERATIONS: Array<{
  op: Operation;
  positional: string;
  bareKind: Target['kind'];
  allowed?: Target['kind'][];
}> = [
  { op: 'rollout', positional: 'target', bareKind: 'statefulset' },
  { op: 'restart', positional: 'pod', bareKind: 'pod', allowed: ['pod'] },
  { op: 'decommission', positional: 'pod', bareKind: 'pod', allowed: ['pod'] },
  { op: 'health', positional: 'target', bareKind: 'statefulset' },
  { op: 'plan', positional: 'target', bareKind: 'statefulset' },
];

/** Parse the runner argv with the operation declarations the plugin uses too. Bad input -> UsageError. */
export function parseRunnerArgs(args: string[]): ParsedRunnerArgs {
  let selected: ParsedRunnerArgs | null = null;
  let failure: string | null = null;
  let usage: UsageError | null = null;
  let y: Argv = yargs()
    .scriptName('crate-decommission-runner')
    .option('namespace', { alias: 'n', type: 'string' })
    // As the plugin reads it: none|client|server, the bare flag = client (a server dry run of the engine is its dry run).
    .option('dry-run', { type: 'string' })
    .option('log-level', { type: 'string', default: 'info' })
    // Boolean negation off, as in the plugin: `--no-stall-break` is a flag of its own (task.ts); with it on,
    // yargs would hand it over as stall-break=false, an unknown flag under .strict().
    .parserConfiguration({ 'duplicate-arguments-array': true, 'boolean-negation': false })
    .strict()
    .demandCommand(1, 'an operation is needed (rollout, restart, decommission, health, plan)')
    .help(false)
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      if (err instanceof UsageError) usage ??= err;
      else failure ??= msg ?? err?.message ?? 'invalid arguments';
    });
  for (const d of OPERATIONS) {
    y = y.command(
      `${d.op} <${d.positional}>`,
      d.op,
      (b) => declareOperationOptions(b.positional(d.positional, { type: 'string' }), d.op),
      (argv) => {
        const a = argv as Record<string, unknown>;
        const level = String(a['log-level'] ?? 'info');
        if (!['debug', 'info', 'warn', 'error'].includes(level)) {
          throw new UsageError(`invalid --log-level "${level}"`, 'Use debug, info, warn or error');
        }
        selected = {
          operation: d.op,
          target: parseTarget(String(a[d.positional] ?? ''), d.bareKind, d.allowed),
          namespace: typeof a.namespace === 'string' ? a.namespace : undefined,
          dryRun: parseDryRun(a['dry-run']) !== 'none',
          logLevel: level as LogLevel,
          raw: a as RawOperationArgs,
        };
      },
    ) as Argv;
  }
  try {
    y.parseSync(normalizeDryRunArgs(args), {}, () => undefined);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    failure ??= err instanceof Error ? err.message : String(err);
  }
  if (usage) throw usage;
  if (failure !== null)
    throw new UsageError(
      String(failure).split('\n')[0] ?? 'invalid arguments',
      'The runner takes: <operation> <target> --namespace <ns> [engine flags]',
    );
  if (!selected)
    throw new UsageError(
      'no operation given',
      'The runner takes: <operation> <target> --namespace <ns> [engine flags]',
    );
  return selected;
}

/** The --sql-* flags that carry SqlOptions into the runner. */
function sqlArgsFor(sql: SqlOptions | undefined): string[] {
  if (!sql) return [];
  const args = ['--sql-transport', sql.transport];
  if (sql.user && sql.passwordSecret)
    args.push('--sql-user', sql.user, '--sql-password-secret', `${sql.passwordSecret.name}:${sql.passwordSecret.key}`);
  if (sql.scheme) args.push('--sql-scheme', sql.scheme);
  if (sql.caSecret) args.push('--sql-ca-secret', `${sql.caSecret.name}:${sql.caSecret.key}`);
  if (sql.insecure) args.push('--sql-insecure');
  return args;
}

/** The runner argv carrying a Task into the Job (parsed back by the runner with the same declarations). */
export function runnerArgsFor(task: Task): string[] {
  const o = task.options;
  const args = [task.operation, `${task.target.kind}/${task.target.name}`, '--namespace', task.namespace];
  if (task.operation !== 'health') {
    args.push(
      '--decommission-timeout',
      `${o.decommissionTimeout}s`,
      '--min-availability',
      o.minAvailability,
      '--allocation',
      o.allocation,
    );
    if (o.relocation) args.push('--relocation', o.relocation);
  }
  if (task.operation !== 'health' && task.operation !== 'decommission')
    args.push('--pod-ready-timeout', `${o.podReadyTimeout}s`);
  args.push('--health-timeout', `${o.healthTimeout}s`);
  args.push(...sqlArgsFor(o.sql));
  if (o.skipPreflight && (task.operation === 'restart' || task.operation === 'decommission'))
    args.push('--skip-preflight');
  if (o.heartbeatSeconds !== DEFAULT_TASK_OPTIONS.heartbeatSeconds) args.push('--heartbeat', `${o.heartbeatSeconds}s`);
  if (task.operation !== 'health') {
    if (o.noStallBreak) args.push('--no-stall-break');
    if (o.stallIdleSeconds !== DEFAULT_TASK_OPTIONS.stallIdleSeconds)
      args.push('--stall-idle', `${o.stallIdleSeconds}s`);
  }
  if (task.operation === 'rollout' || task.operation === 'restart' || task.operation === 'decommission') {
    if (o.metrics?.pushgateway) args.push('--pushgateway', o.metrics.pushgateway);
    if (o.metrics?.metricsFile) args.push('--metrics-file', o.metrics.metricsFile);
  }
  if (task.dryRun && task.operation !== 'plan') args.push('--dry-run');
  if (task.operationId) args.push('--operation-id', task.operationId);
  return args;
}
