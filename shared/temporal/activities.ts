// The engine's activities as Temporal activities: analyzeCluster, checkClusterHealth, planRollingRestart,
// decommissionPod and restartPod, with the engine's zod schemas (+ kubeContext) as input and its results (plain
// JSON) as output. Every activity heartbeats the engine's log lines (see progress-log.ts); cancellation aborts the
// engine's signal, so it stops the way SIGTERM stops the runner (allocation reset, Lease released); a failure is an
// ApplicationFailure whose type is the engine's errorKind: bad_input, refused, locked and timeout are
// non-retryable, transient and API/SQL connection failures retryable (see classify()).
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { z } from 'zod';
import { analyzeCluster } from '../discovery.js';
import { checkClusterHealth } from '../health.js';
import { decommissionPod } from '../decommission.js';
import { restartPod } from '../restart.js';
import { planRollingRestart } from '../rolling.js';
import { livePodInfo } from '../cluster-sql.js';
import { EngineError, KubeApiError, SqlConnectionError, messageOf, type ErrorKind } from '../errors.js';
import { systemClock } from '../clock.js';
import type { Clock, EngineDeps, KubernetesPort, LogLevel, SqlTransportFactory } from '../ports.js';
import type { CrateDBCluster } from '../schemas.js';
import {
  AnalyzeActivityInput,
  DecommissionActivityInput,
  HealthActivityInput,
  PlanActivityInput,
  RestartActivityInput,
  type ActivityProgress,
  type CrateActivities,
} from './contracts.js';
import { heartbeatLogger } from './progress-log.js';

/** The Kubernetes and SQL ports of one kubeconfig context (undefined: the worker's default). */
export type KubeConnector = (
  kubeContext: string | undefined,
) => Promise<{ kube: KubernetesPort; sql: SqlTransportFactory }>;

export interface ActivityEnv {
  connect: KubeConnector;
  clock?: Clock;
  /** Engine log level of the heartbeat lines and the worker's log (default info). */
  logLevel?: LogLevel;
  /** The worker's log: each engine line, with workflowId/activity fields. */
  write?: (line: string) => void;
  /** Keep-alive heartbeat interval, ms (default 5000). */
  keepAliveMs?: number;
  pollIntervalMs?: number;
  /** TTL of the cluster Lease, s (default 60; see EngineDeps.leaseDurationSeconds). */
  leaseDurationSeconds?: number;
  /** Worker identity, part of the Lease holder. */
  identity?: string;
}

/** Retryable SQL/API failures: no answer, dropped connections, 5xx, 429. */
const TRANSIENT_MESSAGE =
  /Kubernetes API error: (InternalError|ServiceUnavailable|Timeout|TooManyRequests|ConnectionFailed|ServerTimeout|BadGateway|GatewayTimeout)\b|No CrateDB node of cluster .* answered SQL|cannot reach CrateDB|did not answer within|connection to .* dropped/;

/** Is an engine failure (errorKind + message) worth a retry? */
export function retryable(kind: ErrorKind | null | undefined, message: string): boolean {
  if (kind === 'transient') return true;
  if (kind === 'failed') return TRANSIENT_MESSAGE.test(message);
  return false;
}

/** A failure as a Temporal ApplicationFailure: type = errorKind, details = [the engine's result] when there is one. */
function failureFor(kind: ErrorKind, message: string, result?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: kind,
    nonRetryable: !retryable(kind, message),
    details: result === undefined ? [] : [result],
  });
}

/** A thrown error (analyzeCluster's BadInputError, KubeApiError, ...) as a classified failure. */
function classifyThrown(err: unknown): Error {
  if (err instanceof ApplicationFailure || err instanceof CancelledFailure) return err;
  if (err instanceof EngineError) return failureFor(err.kind, err.message);
  if (err instanceof KubeApiError) {
    const message = `Kubernetes API error: ${err.reason} (${err.message})`;
    if (err.statusCode === 0 || err.statusCode === 429 || err.statusCode >= 500)
      return failureFor('transient', message);
    // 401/403 (RBAC, credentials), 404 (no such object), 422: a retry cannot help.
    return failureFor(
      err.statusCode === 401 || err.statusCode === 403 || err.statusCode === 404 ? 'bad_input' : 'failed',
      message,
    );
  }
  if (err instanceof SqlConnectionError) return failureFor('transient', err.message);
  if (
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof RangeError ||
    err instanceof SyntaxError
  )
    return err;
  return failureFor('failed', messageOf(err));
}

/** Live readiness, uid and IP of every pod: the cluster in the input is a snapshot from analyzeCluster. */
async function refreshPods(kube: KubernetesPort, cluster: CrateDBCluster): Promise<void> {
  for (const p of cluster.pods) {
    const live = await kube.getPod(cluster.namespace, p.name);
    if (live) Object.assign(p, livePodInfo(live, p));
    else p.ready = false;
  }
}

function badInput(name: string, error: z.ZodError): ApplicationFailure {
  const issue = error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : 'input';
  return failureFor('bad_input', `invalid ${name} input: ${where}: ${issue?.message ?? 'invalid'}`);
}

export function createActivities(env: ActivityEnv): CrateActivities {
  const clock = env.clock ?? systemClock;

  async function run<S extends z.ZodTypeAny, T>(
    name: string,
    schema: S,
    raw: unknown,
    work: (deps: EngineDeps, input: z.infer<S>) => Promise<T>,
    failed?: (result: T) => { kind: ErrorKind; error: string } | null,
  ): Promise<T> {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw badInput(name, parsed.error);
    const input = parsed.data as z.infer<S> & { kubeContext?: string };
    const ctx = Context.current();
    const info = ctx.info;
    const workflowId = info.workflowExecution?.workflowId ?? info.activityId;
    const previous = info.heartbeatDetails as ActivityProgress | undefined;
    const hb = heartbeatLogger({
      heartbeat: (d) => ctx.heartbeat(d),
      clock,
      level: env.logLevel ?? 'info',
      keepAliveMs: env.keepAliveMs ?? 5000,
      startSeq: typeof previous?.seq === 'number' ? previous.seq : 0,
      fields: { workflowId, activity: name, attempt: info.attempt },
      ...(env.write ? { write: env.write } : {}),
    });
    try {
      const { kube, sql } = await env.connect(input.kubeContext);
      const deps: EngineDeps = {
        kube,
        sql,
        clock,
        log: hb.logger,
        signal: ctx.cancellationSignal,
        holderIdentity: `temporal ${env.identity ?? `${process.pid}`} (workflow ${workflowId}, attempt ${info.attempt})`,
        ...(env.pollIntervalMs ? { pollIntervalMs: env.pollIntervalMs } : {}),
        ...(env.leaseDurationSeconds ? { leaseDurationSeconds: env.leaseDurationSeconds } : {}),
      };
      if (info.attempt > 1)
        hb.logger.info(
          `${name}: attempt ${info.attempt} (an earlier attempt failed or its worker stopped heartbeating); resuming`,
        );
      const result = await work(deps, input);
      if (ctx.cancellationSignal.aborted) {
        // The engine stopped safely (allocation reset, Lease released) and returned: report the cancellation.
        hb.logger.warn(`${name} cancelled: stopped safely (allocation reset, lock released)`);
        throw new CancelledFailure(messageOf(ctx.cancellationSignal.reason ?? 'cancelled'), [result]);
      }
      const f = failed?.(result);
      if (f) throw failureFor(f.kind, f.error, result);
      return result;
    } catch (err) {
      if (ctx.cancellationSignal.aborted && !(err instanceof CancelledFailure)) {
        throw new CancelledFailure(messageOf(ctx.cancellationSignal.reason ?? err));
      }
      throw classifyThrown(err);
    } finally {
      hb.stop();
    }
  }

  const outcome = (r: { success: boolean; error: string | null; errorKind: ErrorKind | null }) =>
    r.success ? null : { kind: r.errorKind ?? 'failed', error: r.error ?? 'failed' };

  return {
    analyzeCluster: (raw) =>
      run('analyzeCluster', AnalyzeActivityInput, raw, (deps, { kubeContext: _k, ...input }) =>
        analyzeCluster(deps, input),
      ),
    checkClusterHealth: (raw) =>
      run('checkClusterHealth', HealthActivityInput, raw, async (deps, { kubeContext: _k, ...input }) => {
        await refreshPods(deps.kube, input.cluster);
        return checkClusterHealth(deps, input);
      }),
    planRollingRestart: (raw) =>
      run('planRollingRestart', PlanActivityInput, raw, (deps, { kubeContext: _k, ...input }) =>
        planRollingRestart(deps, { ...input, dryRun: true }),
      ),
    decommissionPod: (raw) =>
      run(
        'decommissionPod',
        DecommissionActivityInput,
        raw,
        async (deps, { kubeContext: _k, ...input }) => {
          await refreshPods(deps.kube, input.cluster);
          return decommissionPod(deps, input);
        },
        outcome,
      ),
    restartPod: (raw) =>
      run(
        'restartPod',
        RestartActivityInput,
        raw,
        async (deps, { kubeContext: _k, ...input }) => {
          await refreshPods(deps.kube, input.cluster);
          return restartPod(deps, input);
        },
        outcome,
      ),
  };
}
