// clusterMaintenanceWorkflow: the ClusterMaintenanceWorkflow of docs/temporal.md on the engine's activities. Deterministic, no
// I/O: analyze, plan (pre-flight and the engine's order), then one restartPod activity per pod in that order with
// the health gate between pods, stopping at the first failure. The Lease is the engine's: each restartPod takes it
// with the workflow's operation id (so a retried attempt on another worker takes it over at once and resumes the
// pod where the dead worker left it, never decommissioning a node twice) and releases it when the pod is done.
import {
  ActivityCancellationType,
  ApplicationFailure,
  defineQuery,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
  ActivityFailure,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { HealthCheckResult, PodRestartResult, RollingRestartPlan } from '../../schemas.js';
import type {
  ClusterMaintenanceInput,
  ClusterMaintenanceResult,
  ClusterProgress,
  CrateActivities,
} from '../contracts.js';

export const clusterProgressQuery = defineQuery<ClusterProgress>('progress');

/** Pod ready timeout (docs/temporal.md): dc_util timeout + 300 s. */
const POD_READY_MARGIN_SECONDS = 300;
/** The design's start-to-close timeout of a restart_pod activity (docs/temporal.md), the floor of ours. */
const MIN_POD_ACTIVITY_SECONDS = 30 * 60;

const NON_RETRYABLE = ['bad_input', 'refused', 'locked', 'timeout'];

function activities(input: ClusterMaintenanceInput, startToCloseSeconds: number) {
  const options: ActivityOptions = {
    startToCloseTimeout: `${startToCloseSeconds}s`,
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 60}s`,
    // Cancelling the workflow waits until the activity stopped safely (allocation reset, Lease released).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '5s',
      backoffCoefficient: 2,
      maximumInterval: '60s',
      maximumAttempts: input.maximumAttempts ?? 5,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
  return proxyActivities<CrateActivities>(options);
}

/** The engine's failure inside an ActivityFailure: message, errorKind, the engine's result (details[0]). */
function failureInfo(err: unknown): { error: string; errorKind: string; result: unknown } {
  let f: unknown = err;
  if (f instanceof ActivityFailure && f.cause) f = f.cause;
  if (f instanceof ApplicationFailure)
    return { error: f.message, errorKind: f.type ?? 'failed', result: f.details?.[0] ?? null };
  return { error: f instanceof Error ? f.message : String(f), errorKind: 'failed', result: null };
}

export async function clusterMaintenanceWorkflow(input: ClusterMaintenanceInput): Promise<ClusterMaintenanceResult> {
  const info = workflowInfo();
  const operationId = input.operationId ?? info.workflowId;
  const kubeContext = input.kubeContext;
  const ctxField = kubeContext ? { kubeContext } : {};
  const progress: ClusterProgress = {
    phase: 'analyzing',
    cluster: input.target.name,
    namespace: input.target.namespace,
    kubeContext: kubeContext ?? null,
    operationId,
    order: [],
    current: null,
    pods: [],
    error: null,
  };
  setHandler(clusterProgressQuery, () => progress);
  let plan: RollingRestartPlan | null = null;
  const result = (
    success: boolean,
    error: string | null = null,
    errorKind: string | null = null,
  ): ClusterMaintenanceResult => ({
    cluster: progress.cluster,
    namespace: progress.namespace,
    kubeContext: kubeContext ?? null,
    operationId,
    success,
    dryRun: input.dryRun === true,
    error,
    errorKind,
    plan,
    pods: progress.pods,
  });
  /** A failed cluster fails the workflow (Temporal shows it Failed); the full result rides in the failure's details. */
  const fail = (error: string, errorKind: string): never => {
    progress.phase = 'failed';
    progress.error = error;
    progress.current = null;
    throw ApplicationFailure.create({
      message: error,
      type: errorKind,
      nonRetryable: true,
      details: [result(false, error, errorKind)],
    });
  };

  const short = activities(input, 300);
  const gate = {
    healthTimeout: input.healthTimeout ?? 900,
    healthConsecutive: input.healthConsecutive ?? 3,
    healthIntervalSeconds: input.healthIntervalSeconds ?? 2,
  };
  try {
    let cluster;
    try {
      cluster = await short.analyzeCluster({ ...input.target, ...ctxField });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const f = failureInfo(err);
      return fail(f.error, f.errorKind);
    }
    progress.cluster = cluster.name;
    progress.namespace = cluster.namespace;
    const podReadyTimeout = input.podReadyTimeout ?? cluster.dcUtilTimeout + POD_READY_MARGIN_SECONDS;
    const options = {
      decommissionTimeout: 720,
      minAvailability: 'PRIMARIES' as const,
      allocation: 'primaries' as const,
      ...input.options,
    };

    progress.phase = 'planning';
    try {
      plan = await short.planRollingRestart({
        cluster,
        dryRun: true,
        podReadyTimeout,
        ...gate,
        options,
        operationId,
        ...(input.pods ? { pods: input.pods } : {}),
        ...ctxField,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      const f = failureInfo(err);
      return fail(f.error, f.errorKind);
    }
    progress.order = plan.order.map((p) => p.podName);
    progress.pods = plan.order.map((p) => ({
      podName: p.podName,
      status: 'pending',
      result: null,
      error: null,
      errorKind: null,
    }));
    const decision = plan.preflightDecision;
    if (decision?.outcome === 'refused') {
      const verb = input.dryRun ? 'would refuse' : 'refused';
      return fail(
        `Pre-flight health check ${verb} the rolling restart of ${cluster.namespace}/${cluster.name}: ${decision.message}`,
        'refused',
      );
    }
    if (input.dryRun) {
      progress.phase = 'succeeded';
      return result(true);
    }
    const degraded = decision?.outcome === 'degraded' ? decision.pods : [];

    progress.phase = 'restarting';
    let lastHealth: HealthCheckResult | null = null;
    for (const [i, planned] of plan.order.entries()) {
      const outcome = progress.pods[i]!;
      progress.current = planned.podName;
      if (planned.alreadyDone) {
        // An earlier run of this operation restarted it (the plan read the Lease's progress).
        outcome.status = 'skipped';
        lastHealth = null;
        continue;
      }
      const tolerateUnready = degraded.filter(
        (p) => p !== planned.podName && progress.pods.some((o) => o.podName === p && o.status === 'pending'),
      );
      if (i > 0 && !(lastHealth?.healthy === true || (lastHealth?.degraded && tolerateUnready.length > 0))) {
        // The health gate between pods: the last pod's own gate did not pass cleanly (skipped, degraded): wait for
        // the cluster to recover before the next pod, like the engine's rolling restart does.
        progress.phase = 'health-gate';
        const health = await short.checkClusterHealth({
          cluster,
          consecutive: gate.healthConsecutive,
          intervalSeconds: gate.healthIntervalSeconds,
          timeoutSeconds: gate.healthTimeout,
          tolerateUnready,
          ...ctxField,
        });
        progress.phase = 'restarting';
        if (!health.healthy && !health.degraded) {
          outcome.status = 'failed';
          outcome.error = `Cluster did not become healthy within ${gate.healthTimeout}s before pod ${planned.podName}: failed checks ${health.failedChecks.join(', ')}`;
          outcome.errorKind = 'timeout';
          return fail(outcome.error, 'timeout');
        }
      }
      outcome.status = 'running';
      const podActivity = activities(
        input,
        Math.max(MIN_POD_ACTIVITY_SECONDS, planned.timeoutSeconds + POD_READY_MARGIN_SECONDS),
      );
      let r: PodRestartResult;
      try {
        r = await podActivity.restartPod({
          podName: planned.podName,
          namespace: cluster.namespace,
          cluster,
          podReadyTimeout,
          ...gate,
          options,
          operationId,
          ...ctxField,
        });
      } catch (err) {
        if (isCancellation(err)) {
          outcome.status = 'cancelled';
          throw err;
        }
        const f = failureInfo(err);
        outcome.status = 'failed';
        outcome.result = (f.result as PodRestartResult | null) ?? null;
        outcome.error = f.error;
        outcome.errorKind = f.errorKind;
        return fail(`Failed to restart ${planned.podName}: ${f.error}`, f.errorKind);
      }
      outcome.result = r;
      outcome.status = r.skipped ? 'skipped' : 'restarted';
      lastHealth = r.health;
    }
    progress.current = null;
    progress.phase = 'succeeded';
    return result(true);
  } catch (err) {
    if (isCancellation(err)) {
      progress.phase = 'cancelled';
      progress.current = null;
      for (const o of progress.pods) if (o.status === 'running') o.status = 'cancelled';
    }
    throw err;
  }
}
