// `rollout --temporal`: start clusterMaintenanceWorkflow on a Temporal server and follow it with the same progress
// and exit codes as Job mode (the engine's log lines come from the activities' heartbeats). Ctrl-C detaches: the
// workflow goes on. --dry-run prints the workflow start instead of starting it. Loaded only with --temporal.
import {
  ErrorKind,
  EXIT_INTERRUPTED,
  ExitCode,
  UsageError,
  errorLine,
  exitCodeFor,
  sqlEndpointOverride,
  type Task,
  type ResultView,
} from '../shared/task/index.js';
import type { ClusterMaintenanceInput, ClusterMaintenanceResult } from '../shared/temporal/index.js';
import type { CliContext } from './io.js';
import type { GlobalOptions } from './options.js';
import { printResult, progressFor } from './run-operation.js';
import { printValue } from './printers.js';
import { parseTemporalOptions, temporalUnavailable, temporalUnreachableLine } from './temporal-options.js';

/** Workflow ids: `crate-rollout-<namespace>-<name>-<unix s>-<suffix>` (also the Lease operation id). */
function rolloutWorkflowId(task: Task, now: Date, suffix: string): string {
  return `crate-rollout-${task.namespace}-${task.target.name}-${Math.floor(now.getTime() / 1000)}-${suffix}`;
}

function workflowInputFor(
  task: Task,
  kubeContext: string | undefined,
  raw: Record<string, unknown>,
): ClusterMaintenanceInput {
  const o = task.options;
  const sql = sqlEndpointOverride(o.sql);
  const hb = raw['heartbeat-timeout'];
  return {
    target: { namespace: task.namespace, kind: task.target.kind, name: task.target.name, ...(sql ? { sql } : {}) },
    ...(kubeContext ? { kubeContext } : {}),
    podReadyTimeout: o.podReadyTimeout,
    healthTimeout: o.healthTimeout,
    options: {
      decommissionTimeout: o.decommissionTimeout,
      minAvailability: o.minAvailability,
      ...(o.relocation ? { relocation: o.relocation } : {}),
      allocation: o.allocation,
    },
    ...(typeof hb === 'number' ? { heartbeatTimeoutSeconds: hb } : {}),
  };
}

/**
 * The workflow's result in the Job mode's shape (the engine's RollingRestartResult: the same summary table and the
 * same `-o json` document): the pods the workflow worked on with the engine's result each, the workflow's duration.
 * A pod that failed or was cancelled before the engine returned a result gets a minimal one saying so.
 */
function jobModeResult(r: ClusterMaintenanceResult, durationSeconds: number | undefined): Record<string, unknown> {
  const pods = r.pods
    .filter((o) => o.status !== 'pending')
    .map((o) => {
      if (o.result)
        return o.status === 'cancelled'
          ? {
              ...o.result,
              success: false,
              error: o.result.error ?? 'cancelled: stopped safely',
              errorKind: o.result.errorKind ?? 'failed',
            }
          : o.result;
      const error =
        o.status === 'cancelled' || o.status === 'running'
          ? 'cancelled: stopped safely (allocation reset, lock released)'
          : (o.error ?? o.status);
      return {
        podName: o.podName,
        namespace: r.namespace,
        success: false,
        strategyUsed: 'unknown',
        duration: 0,
        error,
        errorKind: o.errorKind ?? 'failed',
        skipped: false,
      };
    });
  return {
    cluster: r.cluster,
    namespace: r.namespace,
    operationId: r.operationId,
    success: r.success,
    dryRun: r.dryRun,
    duration: durationSeconds ?? pods.reduce((n, p) => n + (typeof p.duration === 'number' ? p.duration : 0), 0),
    error: r.error,
    errorKind: r.errorKind,
    plan: r.plan,
    pods,
    allocationReset: pods.every((p) => (p as { allocationReset?: boolean }).allocationReset !== false),
  };
}

export async function runRolloutWithTemporal(
  ctx: CliContext,
  g: GlobalOptions,
  task: Task,
  raw: Record<string, unknown>,
): Promise<number> {
  const t = parseTemporalOptions(raw, ctx.env);
  const hb = raw['heartbeat-timeout'];
  if (hb !== undefined && (typeof hb !== 'number' || !Number.isInteger(hb) || hb < 5)) {
    throw new UsageError(
      '--heartbeat-timeout must be a whole number of seconds, at least 5',
      'Pass e.g. --heartbeat-timeout 60',
    );
  }
  if (g.local)
    throw new UsageError(
      '--temporal and --local exclude each other',
      'The Temporal worker runs the engine; drop --local',
    );
  const workerContext =
    typeof raw['worker-context'] === 'string' && raw['worker-context'] !== ''
      ? raw['worker-context']
      : g.connect.context;
  // The namespace: -n, else the context's (kubeconfig only; no API call).
  const conn = await ctx.connect(g.connect);
  const resolved: Task = { ...task, namespace: g.namespace ?? conn.namespace };
  const input = workflowInputFor(resolved, workerContext, raw);
  const workflowId = rolloutWorkflowId(resolved, ctx.now(), ctx.randomSuffix());
  input.operationId = workflowId;
  if (g.dryRun) {
    const start = {
      workflowType: 'clusterMaintenanceWorkflow',
      workflowId,
      taskQueue: t.taskQueue,
      namespace: t.namespace,
      address: t.address,
      args: [input],
    };
    printValue(ctx.stdout, start, g.output === 'json' ? 'json' : 'yaml', () => '');
    return ExitCode.ok;
  }
  let client: typeof import('../shared/temporal/index.js');
  try {
    client = await import('../shared/temporal/index.js');
  } catch (err) {
    throw temporalUnavailable(err);
  }
  let c: Awaited<ReturnType<typeof client.connectClient>>;
  try {
    c = await client.connectClient({ address: t.address, namespace: t.namespace });
  } catch (err) {
    ctx.stderr.write(`${temporalUnreachableLine(t.address, t.namespace, err)}\n`);
    return ExitCode.unreachable;
  }
  try {
    const handle = await client.startClusterMaintenance(c, { taskQueue: t.taskQueue, workflowId, input });
    const notice = `workflow ${workflowId} started on ${t.address} (namespace ${t.namespace}, task queue ${t.taskQueue}; Ctrl-C detaches, the workflow goes on)`;
    ctx.stderr.write(
      g.output === 'json'
        ? `${JSON.stringify({ ts: ctx.now().toISOString(), level: 'info', msg: notice, workflowId })}\n`
        : `${notice}\n`,
    );
    const progress = progressFor(ctx, g);
    const end = await client.followClusterMaintenance(handle, {
      line: (l) => progress.line(l),
      signal: ctx.signal,
      now: () => ctx.now(),
    });
    await progress.close(end.status === 'succeeded');
    if (end.status === 'detached') {
      ctx.stderr.write(
        `detached from workflow ${workflowId}; it goes on. Follow it: temporal workflow show -w ${workflowId} --follow; stop it safely: temporal workflow cancel -w ${workflowId}\n`,
      );
      return EXIT_INTERRUPTED;
    }
    // The workflow's payload is not typed by Temporal: a cluster's result (with its pods) is shown as a rollout's,
    // anything else as a failure record.
    const payload = end.result && typeof end.result === 'object' ? (end.result as Record<string, unknown>) : null;
    const shown: ResultView | null =
      payload && Array.isArray(payload.pods)
        ? {
            kind: 'rollout',
            result: jobModeResult(payload as unknown as ClusterMaintenanceResult, end.durationSeconds),
          }
        : payload
          ? { kind: 'failed', result: payload }
          : null;
    if (end.status === 'succeeded') {
      printResult(ctx, g, shown ?? { kind: 'failed', result: { success: true } });
      return ExitCode.ok;
    }
    // A cancelled workflow stopped safely: a failed run, as Job mode after `jobs cancel` (its runner's SIGTERM).
    const error =
      end.status === 'cancelled'
        ? 'the workflow was cancelled; it stopped safely (allocation reset, lock released)'
        : end.error;
    // As Job mode: with a result, printResult writes its error line (for people; machines read the document);
    // without one, machines still get a document and everyone one error line.
    if (shown) printResult(ctx, g, { ...shown, result: { ...shown.result, error } });
    else {
      if (g.output !== 'text' && g.output !== 'wide')
        printResult(ctx, g, {
          kind: 'failed',
          result: { workflowId, namespace: resolved.namespace, success: false, error, status: end.status },
        });
      ctx.stderr.write(`${errorLine(new Error(error))}\n`);
    }
    if (end.status === 'cancelled') return ExitCode.failed;
    if (end.status === 'failed') return exitCodeFor(ErrorKind.safeParse(end.errorKind).data ?? 'failed');
    return end.status === 'timed_out' ? ExitCode.timeout : ExitCode.failed;
  } finally {
    await c.connection.close();
  }
}
