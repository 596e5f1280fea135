// Runs one operation command (rollout, restart, decommission, health, plan) once its flags are valid:
// connect, then either launch the runner Job and follow it (default) or run the engine here (--local).
import {
  executeMetered,
  EXIT_INTERRUPTED,
  ExitCode,
  errorLine,
  isUnreachable,
  unreachableError,
  LOCAL_STOP_SECONDS,
  resultViewOf,
  type ResultView,
} from '../shared/task/index.js';
import { colors, useColor, type CliContext, type Connection, type Writer } from './io.js';
import { buildJobForTask, checkJobPrerequisites, followJob, resolveTarget } from './job-mode.js';
import type { PluginKube } from '../shared/adapters/index.js';
import type { GlobalOptions } from './options.js';
import { formatResult, planDocument, printValue, resultNames } from './printers.js';
import { jsonProgress, listrProgress, plainProgress, type ProgressSink } from './progress.js';
import type { Task } from '../shared/task/index.js';

/** Where progress goes: stdout with -o text (listr2 on a TTY), stderr with -o json (raw lines) / -o yaml (plain). */
export function progressFor(ctx: CliContext, g: GlobalOptions): ProgressSink {
  const forHumans = g.output === 'text' || g.output === 'wide';
  const c = colors(useColor(g.color, forHumans ? ctx.stdout : ctx.stderr, ctx.env));
  const verbose = g.verbosity >= 4;
  if (g.output === 'json') return jsonProgress(ctx.stderr);
  if (!forHumans) return plainProgress(ctx.stderr, c, { verbose });
  if (ctx.stdout.isTTY && !ctx.env.CI && !verbose) return listrProgress(c);
  return plainProgress(ctx.stdout, c, { verbose });
}

export function printResult(ctx: CliContext, g: GlobalOptions, outcome: ResultView): void {
  const c = colors(useColor(g.color, ctx.stdout, ctx.env));
  // For people, the result goes to stdout and its error line to stderr (as kubectl's errors do); machines get
  // the whole document on stdout.
  const human = g.output === 'text' || g.output === 'wide';
  const r = outcome.result;
  printValue(ctx.stdout, r, g.output, () => formatResult(outcome, c, { noHeaders: g.noHeaders, omitError: true }), {
    jsonpath: g.jsonpath,
    names: () => resultNames(outcome),
    document: () => planDocument(outcome),
    wide: () => formatResult(outcome, c, { noHeaders: g.noHeaders, wide: true, omitError: true }),
  });
  if (human && r.success !== true && typeof r.error === 'string' && r.error !== '') {
    ctx.stderr.write(`${errorLine(new Error(r.error))}\n`);
  }
}

/** Objects printed instead of created (--dry-run): YAML unless -o json or -o jsonpath. */
export function printObjects(ctx: CliContext, g: GlobalOptions, value: unknown): void {
  const format = g.output === 'json' || g.output === 'jsonpath' ? g.output : 'yaml';
  printValue(ctx.stdout, value, format, () => '', { jsonpath: g.jsonpath });
}

function note(out: Writer, text: string): void {
  out.write(`${text}\n`);
}

/** A notice on stderr: a JSON line with -o json (stderr stays JSON lines), else text. */
function notice(ctx: CliContext, g: GlobalOptions, text: string, fields: Record<string, unknown> = {}): void {
  if (g.output === 'json')
    note(ctx.stderr, JSON.stringify({ ts: ctx.now().toISOString(), level: 'info', msg: text, ...fields }));
  else note(ctx.stderr, text);
}

/** plan and health only read: they run here by default and leave nothing behind (docs/cli.md "Where the work runs"). */
function isReadOnly(task: Pick<Task, 'operation'>): boolean {
  return task.operation === 'plan' || task.operation === 'health';
}

export interface RunMode {
  /** plan/health --job: run in a runner Job anyway, deleted as soon as its result is read. */
  job?: boolean;
}

/** A validated Task (namespace possibly still the default) -> exit code. */
export async function runOperation(
  ctx: CliContext,
  g: GlobalOptions,
  task: Task,
  mode: RunMode = {},
  connection?: Connection,
): Promise<number> {
  const conn = connection ?? (await ctx.connect(g.connect));
  const resolved: Task = { ...task, namespace: g.namespace ?? conn.namespace };
  if (isReadOnly(resolved) && !mode.job) return runLocal(ctx, g, conn, resolved);
  if (g.local) return runLocal(ctx, g, conn, resolved);
  return runAsJob(ctx, g, conn.kube, resolved);
}

/**
 * --local, and plan/health by default: the engine in this process, through the API server. Ctrl-C stops it safely.
 * A mutating operation's SQL goes through exec (localTask); the read-only ones read over HTTP where the pod answers
 * from here and fall back to exec per pod (plugin/read-only-sql.ts).
 */
async function runLocal(ctx: CliContext, g: GlobalOptions, conn: Connection, task: Task): Promise<number> {
  const engine = await ctx.loadEngine();
  const progress = progressFor(ctx, g);
  const log = engine.createLogger({ format: 'json', level: 'debug', write: (line) => progress.line(line) });
  const readOnly = isReadOnly(task);
  const deps = await conn.engineDeps(log, ctx.signal, { readOnly });
  const withId: Task = readOnly
    ? { ...task, dryRun: true }
    : localTask({ ...task, dryRun: task.dryRun || g.dryRun }, log);
  // Ctrl-C/SIGTERM: the engine stops safely (allocation reset, graceful_stop restored, Lease released) within
  // LOCAL_STOP_SECONDS; past that, or on a second signal, the process exits and says what may be left.
  const restore = ctx.interruptPolicy?.({
    graceMs: LOCAL_STOP_SECONDS * 1000,
    forcedMessage: (sig) =>
      `error: stopped by ${sig} before the safe stop finished (${LOCAL_STOP_SECONDS}s). The allocation setting may still be restricted: ` +
      `the next run on this cluster resets it once the Lease crate-decommission-<cluster> in ${task.namespace} expires, or run ` +
      `RESET GLOBAL "cluster.routing.allocation.enable" in CrateDB`,
  });
  let outcome;
  try {
    outcome = await executeMetered(engine, deps, withId, {
      env: ctx.env,
      log,
      signal: ctx.signal,
      // No answer from the API server: exit 6 and a line naming the server and context.
      classify: (err) =>
        isUnreachable(err) && conn.target
          ? { error: unreachableError(err, conn.target).message, exitCode: ExitCode.unreachable }
          : null,
    });
  } finally {
    restore?.();
  }
  if (ctx.signal.aborted)
    log.warn(
      `stopped safely after ${ctx.signal.reason instanceof Error ? ctx.signal.reason.message : 'a signal'}: allocation reset and Lease released`,
      { step: 'finish' },
    );
  await progress.close(outcome.exitCode === ExitCode.ok);
  printResult(ctx, g, outcome);
  // Stopped by Ctrl-C/SIGTERM: 130 (main.ts makes it 143 for SIGTERM), whatever the aborted operation returned.
  if (ctx.signal.aborted && outcome.exitCode !== ExitCode.ok) return EXIT_INTERRUPTED;
  return outcome.exitCode;
}

/**
 * --local: pod IPs are usually not reachable from a workstation, so `--sql-transport auto` means exec here
 * (through the API server); an explicit `--sql-transport http` is honoured.
 */
export function localTask(task: Task, log: { info(msg: string): void }): Task {
  const sql = task.options.sql ?? { transport: 'auto' as const, insecure: false };
  if (sql.transport !== 'auto') return task;
  log.info(
    '--local: SQL goes through exec into the CrateDB containers (pod IPs are usually not reachable from here); --sql-transport http sends it over HTTP from this machine',
  );
  return { ...task, options: { ...task.options, sql: { ...sql, transport: 'exec' } } };
}

/**
 * Default mode: create the runner Job and follow it. --dry-run=client prints the Job instead of creating it;
 * --dry-run=server sends it with dryRun=All and prints what the API server answered.
 */
async function runAsJob(ctx: CliContext, g: GlobalOptions, kube: PluginKube, task: Task): Promise<number> {
  const target = await resolveTarget(kube, task);
  const warnings = await checkJobPrerequisites(kube, task.namespace);
  for (const w of warnings) notice(ctx, g, `warning: ${w}`);
  const readOnly = isReadOnly(task);
  // --dry-run here means "print the Job"; the Job itself is the real run (use `plan` for a read-only run).
  // A read-only Job is deleted as soon as its result is read; its short TTL is the backstop if this process dies.
  const job = buildJobForTask({ ...task, dryRun: false }, target, {
    image: g.image,
    suffix: ctx.randomSuffix(),
    ...(readOnly ? { ttlSecondsAfterFinished: READ_ONLY_JOB_TTL_SECONDS } : {}),
  });
  if (g.dryRunMode === 'client') {
    printObjects(ctx, g, job);
    return ExitCode.ok;
  }
  if (g.dryRunMode === 'server') {
    // Admission and validation run on the API server; nothing persists and no runner starts.
    const answered = await kube.create(job, { dryRun: true });
    notice(ctx, g, `job.batch/${answered.metadata?.name ?? job.metadata?.name ?? ''} created (server dry run)`, {
      dryRun: 'server',
    });
    printObjects(ctx, g, answered);
    return ExitCode.ok;
  }
  const jobName = job.metadata?.name ?? '';
  // Ctrl-C while the create is in flight: the Job may exist already; say where to look.
  ctx.onForcedExit?.(
    () =>
      `interrupted while creating job ${jobName}; if it was created it goes on: kubectl crate-decommission jobs attach ${jobName} -n ${task.namespace}`,
  );
  const created = await kube.create(job);
  const name = created.metadata?.name ?? jobName;
  if (!readOnly) {
    notice(ctx, g, `job.batch/${name} created in ${task.namespace} (Ctrl-C detaches; the Job goes on)`, {
      job: name,
      namespace: task.namespace,
    });
    return attach(ctx, g, kube, task.namespace, name);
  }
  notice(ctx, g, `job.batch/${name} created in ${task.namespace} (read-only; deleted once its result is read)`, {
    job: name,
    namespace: task.namespace,
  });
  try {
    return await attach(ctx, g, kube, task.namespace, name, { readOnly: true });
  } finally {
    // Nothing to resume for a read: the Job goes at once, also after Ctrl-C (Background: its pods follow).
    await kube
      .delete(
        { apiVersion: 'batch/v1', kind: 'Job', namespace: task.namespace, name },
        { propagationPolicy: 'Background' },
      )
      .then(
        () => notice(ctx, g, `job.batch/${name} deleted`, { job: name }),
        (err: unknown) =>
          notice(
            ctx,
            g,
            `warning: could not delete job.batch/${name} (${err instanceof Error ? err.message : String(err)}); it expires ${READ_ONLY_JOB_TTL_SECONDS}s after it finished`,
            { job: name },
          ),
      );
  }
}

/** ttlSecondsAfterFinished of a plan/health Job: the backstop when the plugin could not delete it. */
const READ_ONLY_JOB_TTL_SECONDS = 300;

/** Follow a runner Job to its end (or Ctrl-C), print its result, and return the runner's exit code. */
export async function attach(
  ctx: CliContext,
  g: GlobalOptions,
  kube: PluginKube,
  namespace: string,
  jobName: string,
  opts: { readOnly?: boolean } = {},
): Promise<number> {
  const detachText = opts.readOnly
    ? `stopped following job ${jobName}; it is deleted now (a read-only run leaves nothing behind)`
    : `detached from job ${jobName}; it goes on. Re-attach: kubectl crate-decommission jobs attach ${jobName} -n ${namespace}`;
  const cancelText = opts.readOnly
    ? `Run it again: the command changes nothing`
    : `Stop it safely: kubectl crate-decommission jobs cancel ${jobName} -n ${namespace}`;
  // Should the process have to leave before followJob returns (a hanging API call), it still says how to re-attach.
  ctx.onForcedExit?.(() =>
    g.output === 'json'
      ? JSON.stringify({ ts: ctx.now().toISOString(), level: 'info', msg: detachText, job: jobName })
      : `${detachText}\n${cancelText}`,
  );
  if (ctx.signal.aborted) {
    notice(ctx, g, detachText, { job: jobName });
    notice(ctx, g, cancelText, { job: jobName });
    return EXIT_INTERRUPTED;
  }
  const progress = progressFor(ctx, g);
  const outcome = await followJob({ kube, namespace, jobName, progress, signal: ctx.signal });
  // A detach is not a failure of the pod being worked on: the Job goes on.
  await progress.close(outcome.detached || outcome.exitCode === ExitCode.ok);
  if (outcome.detached) {
    notice(ctx, g, detachText, { job: jobName });
    notice(ctx, g, cancelText, { job: jobName });
    return outcome.exitCode;
  }
  if (outcome.result) printResult(ctx, g, resultViewOf(outcome.result));
  else if (g.output !== 'text' && g.output !== 'wide') {
    // Machines get a result document even when the runner could not write one.
    printResult(ctx, g, {
      kind: 'failed',
      result: {
        job: jobName,
        namespace,
        success: outcome.exitCode === ExitCode.ok,
        error: outcome.failure,
        exitCode: outcome.exitCode,
      },
    });
  }
  if (outcome.failure) note(ctx.stderr, errorLine(new Error(outcome.failure)));
  return outcome.exitCode;
}
