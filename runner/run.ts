// The in-cluster runner: one Task from argv (or env), the engine with in-cluster ports, JSON-line logs on stdout,
// a JSON result in the termination log, the shared exit codes; SIGTERM stops safely. Plain function over injected I/O.
import yargs, { type Argv } from 'yargs';
import type { EngineDeps, Logger } from '../shared/index.js';
import {
  errorOutcome,
  type EngineApi,
  executeMetered,
  EXIT_TERMINATED,
  ExitCode,
  UsageError,
  errorLine,
  buildTask,
  declareOperationOptions,
  type Operation,
  type Task,
  OPERATIONS,
  parseRunnerArgs,
  type ParsedRunnerArgs,
  VERSION,
  OUTCOME_FIELD,
} from '../shared/task/index.js';
import { fitTerminationMessage } from './termination.js';

const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

export interface RunnerConnection {
  /** The service account's namespace (fallback when --namespace is absent). */
  namespace: string;
  engineDeps(log: Logger, signal: AbortSignal): Promise<EngineDeps>;
}

export interface RunnerIO {
  argv: string[];
  env: Record<string, string | undefined>;
  /** One line of stdout (the JSON-line log the plugin renders). */
  writeLine(line: string): void;
  writeFile(path: string, text: string): Promise<void>;
  connect(opts: { namespace?: string }): Promise<RunnerConnection>;
  loadEngine(): Promise<EngineApi>;
  /** Aborted on SIGTERM. */
  signal: AbortSignal;
  now(): Date;
}

/** The runner's arguments: argv, else env CRATE_DECOMMISSION_ARGS (a JSON array, or words split on spaces). */
function runnerArgv(argv: string[], env: Record<string, string | undefined>): string[] {
  if (argv.length > 0) return argv;
  const raw = env.CRATE_DECOMMISSION_ARGS?.trim();
  if (!raw) return [];
  if (raw.startsWith('[')) {
    try {
      const v = JSON.parse(raw) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // fall through: reported as bad input below
    }
    throw new UsageError(
      'CRATE_DECOMMISSION_ARGS is not a JSON array of strings',
      'Set it to e.g. ["rollout","sts/crate","--namespace","crate"]',
    );
  }
  return raw.split(/\s+/);
}

/** The Job name: --operation-id, else env OPERATION_ID (downward API), else the pod name without its random suffix. */
function operationIdFrom(task: Task, env: Record<string, string | undefined>): string | undefined {
  if (task.operationId) return task.operationId;
  if (env.OPERATION_ID) return env.OPERATION_ID;
  const host = env.POD_NAME ?? env.HOSTNAME;
  const m = host ? /^(.+)-[a-z0-9]{5}$/.exec(host) : null;
  return m?.[1];
}

const RUNNER_USAGE =
  'crate-decommission-runner <operation> <target> --namespace NS [engine flags] [--dry-run] [--operation-id ID] [--log-level debug|info|warn|error]\n\n' +
  'The in-cluster runner of kubectl crate-decommission (the Job the plugin creates runs it). Arguments come from argv, else from ' +
  'env CRATE_DECOMMISSION_ARGS. Logs are JSON lines on stdout; the result goes to /dev/termination-log (or $CDK_TERMINATION_LOG). ' +
  '`<operation> --help` lists the engine flags of that operation.';

/** What `--help` / `--version` anywhere in the arguments ask for (they win over everything else, like yargs'). */
function runnerInfoRequest(args: string[]): 'help' | 'version' | null {
  const flags = args.slice(0, args.includes('--') ? args.indexOf('--') : args.length);
  if (flags.some((a) => a === '--help' || a === '-h')) return 'help';
  if (flags.includes('--version')) return 'version';
  return null;
}

/** The usage text: the runner's, or one operation's with its engine flags (`rollout --help`). */
async function runnerHelp(args: string[]): Promise<string> {
  let y: Argv = yargs()
    .scriptName('crate-decommission-runner')
    .usage(RUNNER_USAGE)
    .option('namespace', {
      alias: 'n',
      type: 'string',
      describe: "Namespace of the target (default: env POD_NAMESPACE, else the service account's)",
    })
    .option('dry-run', {
      type: 'string',
      describe: 'none|client|server (the bare flag = client): change nothing; discovery, plan, pre-flight only',
    })
    .option('log-level', { type: 'string', default: 'info', describe: 'debug|info|warn|error' })
    .help('help')
    .alias('help', 'h')
    .version('version', 'Show the version', VERSION)
    .epilog(
      'Exit codes: 0 success, 1 failed, 2 bad input, 3 refused (unhealthy), 4 timed out, 5 locked by another run, 143 stopped by SIGTERM.',
    )
    .wrap(120)
    .exitProcess(false)
    .fail(() => undefined);
  for (const d of OPERATIONS) {
    y = y.command(`${d.op} <${d.positional}>`, OPERATION_HELP[d.op], (b) =>
      declareOperationOptions(b.positional(d.positional, { type: 'string' }), d.op),
    ) as Argv;
  }
  let output = '';
  try {
    await y.parse(args, {}, (_err, _argv, out) => {
      output = out;
    });
  } catch {
    // help text is all we want
  }
  return output || (await y.getHelp());
}

const OPERATION_HELP: Record<Operation, string> = {
  rollout: 'Restart every pod of a cluster, one at a time',
  restart: 'Restart one pod (decommission, re-create, health gate)',
  decommission: 'Drain one node and stop it; Kubernetes re-creates the pod',
  health: "The health gate's named checks, once",
  plan: 'Read-only: discovery, strategy per pod, order, timeouts, pre-flight',
};

/** Run the task; returns the exit code after writing the termination message. */
export async function runRunner(io: RunnerIO): Promise<number> {
  const terminationLog = io.env.CDK_TERMINATION_LOG || DEFAULT_TERMINATION_LOG;
  const fallbackLog = (msg: string, fields: Record<string, unknown> = {}) =>
    io.writeLine(JSON.stringify({ ts: io.now().toISOString(), level: 'error', msg, ...fields }));
  const finish = async (record: Record<string, unknown>, exitCode: number): Promise<number> => {
    try {
      await io.writeFile(terminationLog, fitTerminationMessage({ ...record, exitCode }));
    } catch (err) {
      fallbackLog(`cannot write the result to ${terminationLog}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return exitCode;
  };

  // --help / --version: print and exit 0; no result is written (nothing ran).
  const info = io.argv.length > 0 ? runnerInfoRequest(io.argv) : null;
  if (info === 'version') {
    io.writeLine(VERSION);
    return ExitCode.ok;
  }
  if (info === 'help') {
    for (const line of (await runnerHelp(io.argv)).trimEnd().split('\n')) io.writeLine(line);
    return ExitCode.ok;
  }

  let parsed: ParsedRunnerArgs;
  let task: Task;
  try {
    parsed = parseRunnerArgs(runnerArgv(io.argv, io.env));
    task = buildTask({
      operation: parsed.operation,
      namespace: parsed.namespace ?? io.env.POD_NAMESPACE ?? 'default',
      target: parsed.target,
      dryRun: parsed.dryRun,
      raw: parsed.raw,
    });
  } catch (err) {
    const line = errorLine(err);
    fallbackLog(line.replace(/^error: /, ''), { errorKind: 'bad_input' });
    return finish(
      { [OUTCOME_FIELD]: 'failed', success: false, error: line.replace(/^error: /, ''), errorKind: 'bad_input' },
      ExitCode.badInput,
    );
  }

  const operationId = operationIdFrom(task, io.env);
  if (operationId) task = { ...task, operationId };

  let engine: EngineApi;
  let deps: EngineDeps;
  let log: Logger;
  try {
    engine = await io.loadEngine();
    log = engine.createLogger({ format: 'json', level: parsed.logLevel, write: (l) => io.writeLine(l) });
    const conn = await io.connect(parsed.namespace ? { namespace: parsed.namespace } : {});
    if (!parsed.namespace && !io.env.POD_NAMESPACE) task = { ...task, namespace: conn.namespace };
    deps = await conn.engineDeps(log, io.signal);
  } catch (err) {
    const outcome = errorOutcome(task, err);
    fallbackLog(String(outcome.result.error), { errorKind: outcome.result.errorKind });
    return finish(
      { [OUTCOME_FIELD]: outcome.kind, ...outcome.result, operationId: task.operationId ?? null },
      outcome.exitCode,
    );
  }

  log.info(`runner starting ${task.operation} of ${task.target.kind}/${task.target.name} in ${task.namespace}`, {
    step: 'runner',
    operation: task.operation,
    operationId: task.operationId ?? null,
    dryRun: task.dryRun,
  });
  // Metrics (--pushgateway / --metrics-file, or env for CronJobs) are pushed on every phase change and at the end.
  const outcome = await executeMetered(engine, deps, task, { env: io.env, log, signal: io.signal });
  let exitCode = outcome.exitCode;
  if (io.signal.aborted && exitCode !== ExitCode.ok) {
    // Stopped by SIGTERM (cancel, eviction, deadline): the engine reset allocation and released the Lease.
    exitCode = EXIT_TERMINATED;
    log.warn('runner stopped on SIGTERM after resetting allocation and releasing the lock', { step: 'runner' });
  }
  // The full result (plan, health reports) goes to the log; the termination message carries a summary.
  log.info(`runner finished with exit code ${exitCode}`, { step: 'runner', exitCode, result: outcome.result });
  return finish(
    {
      operation: task.operation,
      namespace: task.namespace,
      target: `${task.target.kind}/${task.target.name}`,
      operationId: task.operationId ?? null,
      ...(io.signal.aborted ? { terminated: true } : {}),
      [OUTCOME_FIELD]: outcome.kind,
      ...outcome.result,
    },
    exitCode,
  );
}
