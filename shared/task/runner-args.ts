// The runner's argument grammar (`<operation> <target> --namespace NS [engine flags]`): the runner parses its argv
// with it, the plugin reads back the args of a scheduled CronJob with it (schedule update). runnerArgsFor (task.ts)
// writes what parseRunnerArgs reads.
import yargs, { type Argv } from 'yargs';
import type { LogLevel } from '../ports.js';
import { UsageError } from './exit.js';
import { normalizeDryRunArgs, parseDryRun } from './flag-values.js';
import { declareOperationOptions, parseTarget, type Operation, type RawOperationArgs, type Target } from './task.js';

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
