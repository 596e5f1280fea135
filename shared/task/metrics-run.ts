// The run's metrics for both front ends (the runner in its Job, the plugin's --local): which Pushgateway / textfile
// (flags first, then env for CronJobs), and one Task executed with the engine's streams tapped. Dry runs, plan and
// health are not metered. Publishing never changes the outcome or the exit code.
// metrics-wiring.ts (prom-client) is loaded only when a run is metered: never at start-up (see ./index.ts).
import type { MeteredRun } from '../metrics-wiring.js';
import {
  DEFAULT_PUSH_JOB,
  ENV_METRICS_FILE,
  ENV_PUSHGATEWAY,
  ENV_PUSHGATEWAY_JOB,
  checkPushgatewayUrl,
  type Fetch,
} from '../metrics-push.js';
import { redactText } from '../log.js';
import type { EngineDeps, Logger } from '../ports.js';
import { executeTask, type EngineApi } from './engine.js';
import type { TaskOutcome } from './outcome.js';
import type { Task } from './task.js';

export interface MeteringContext {
  env: Record<string, string | undefined>;
  log: Logger;
  /** ms; default the engine's clock (deps.clock). */
  now?: () => number;
  signal?: AbortSignal;
  fetch?: Fetch;
  /** Passed to executeTask: errors that get their own message and exit code (the plugin's "cannot reach"). */
  classify?: (err: unknown) => { error: string; exitCode: number } | null;
}

/** A MeteredRun when the Task is metered and a destination is configured; else null. */
async function meteredRunFor(task: Task, ctx: MeteringContext & { now: () => number }): Promise<MeteredRun | null> {
  if (
    task.dryRun ||
    (task.operation !== 'rollout' && task.operation !== 'restart' && task.operation !== 'decommission')
  )
    return null;
  let pushgateway = task.options.metrics?.pushgateway;
  const fromEnv = ctx.env[ENV_PUSHGATEWAY]?.trim();
  if (!pushgateway && fromEnv) {
    const checked = checkPushgatewayUrl(fromEnv);
    if ('error' in checked)
      ctx.log.warn(`${ENV_PUSHGATEWAY}: ${checked.error.replace('--pushgateway ', '')}; no metrics are pushed`, {
        step: 'metrics',
      });
    else pushgateway = checked.url;
  }
  const metricsFile = task.options.metrics?.metricsFile ?? (ctx.env[ENV_METRICS_FILE]?.trim() || undefined);
  if (!pushgateway && !metricsFile) return null;
  const job = ctx.env[ENV_PUSHGATEWAY_JOB]?.trim() || DEFAULT_PUSH_JOB;
  if (!/^[A-Za-z0-9][-A-Za-z0-9_.]{0,252}$/.test(job)) {
    ctx.log.warn(`${ENV_PUSHGATEWAY_JOB} "${redactText(job)}" is not a valid job name; using ${DEFAULT_PUSH_JOB}`, {
      step: 'metrics',
    });
  }
  const { MeteredRun, clusterGuess } = await import('../metrics-wiring.js');
  return new MeteredRun({
    operation: task.operation,
    namespace: task.namespace,
    cluster: clusterGuess(task.target),
    log: ctx.log,
    now: ctx.now,
    pushgateway: pushgateway
      ? { url: pushgateway, job: /^[A-Za-z0-9][-A-Za-z0-9_.]{0,252}$/.test(job) ? job : DEFAULT_PUSH_JOB }
      : undefined,
    metricsFile,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
  });
}

/** executeTask, metered when configured: the result is pushed (also after a failure or SIGTERM) before returning. */
export async function executeMetered(
  engine: EngineApi,
  deps: EngineDeps,
  task: Task,
  ctx: MeteringContext,
): Promise<TaskOutcome> {
  const run = await meteredRunFor(task, { ...ctx, now: ctx.now ?? (() => deps.clock.now()) });
  const opts = ctx.classify ? { classify: ctx.classify } : {};
  if (!run) return executeTask(engine, deps, task, opts);
  const outcome = await executeTask(run.engine(engine), run.deps(deps), task, opts);
  await run.finish(outcome.result, { terminated: ctx.signal?.aborted === true, kind: outcome.kind });
  return outcome;
}
