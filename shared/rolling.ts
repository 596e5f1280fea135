// Rolling restart of a CrateDB cluster (the seed's ClusterMaintenanceWorkflow): lock, pre-flight
// health gate, one pod at a time in a safe order, health gate after each, stop at the first
// failure; the allocation setting is reset and the lock released on every exit path.
import { livePodInfo } from './cluster-sql.js';
import { emitEvent, EventReason } from './events.js';
import { clearScope, failureOf, closeOperation, newOperationId, openOperation, setScope, type OperationContext } from './operation.js';
import { checkClusterHealth } from './health.js';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, leaseName } from './lease.js';
import { MANUAL_DELETE_GRACE_SECONDS, MANUAL_TIMEOUT_MARGIN_SECONDS } from './decommission.js';
import type { EngineDeps } from './ports.js';
import { runRestart } from './restart.js';
import {
  RollingRestartInput,
  RollingRestartPlan,
  RollingRestartResult,
  type CrateDBCluster,
  type HealthCheckResult,
  type PodInfo,
  type PodRestartResult,
} from './schemas.js';
import { abortReason } from './wait.js';

type ParsedInput = ReturnType<typeof RollingRestartInput.parse>;

/**
 * Unready pods first, then the nodes that cannot be master, then the master-eligible ones, the elected master
 * last; within each group StatefulSet by StatefulSet (by name), descending ordinal.
 */
export function orderPods(pods: PodInfo[], masterNode: string | null = null): PodInfo[] {
  const isMaster = (p: PodInfo) => p.isMaster || (masterNode !== null && p.nodeName === masterNode);
  const rank = (p: PodInfo) => (isMaster(p) ? 3 : !p.ready ? 0 : p.masterEligible === false ? 1 : 2);
  return [...pods].sort((a, b) => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (a.statefulSetName !== b.statefulSetName) return a.statefulSetName.localeCompare(b.statefulSetName);
    return b.ordinal - a.ordinal;
  });
}

/** Live pod state (readiness, uid) over discovery's snapshot. */
async function refreshPods(deps: EngineDeps, cluster: CrateDBCluster): Promise<void> {
  for (const p of cluster.pods) {
    const live = await deps.kube.getPod(cluster.namespace, p.name);
    if (live) Object.assign(p, livePodInfo(live, p));
    else p.ready = false;
  }
}

async function doneByOperation(deps: EngineDeps, cluster: CrateDBCluster, operationId: string | undefined): Promise<Record<string, string>> {
  if (!operationId) return {};
  try {
    const lease = await deps.kube.getLease(cluster.namespace, leaseName(cluster.name));
    if (lease?.metadata?.annotations?.[ANNOTATION_OPERATION] !== operationId) return {};
    const progress = JSON.parse(lease.metadata.annotations[ANNOTATION_PROGRESS] ?? '{}') as { done?: Record<string, string> };
    return progress.done ?? {};
  } catch {
    return {};
  }
}

function buildPlan(cluster: CrateDBCluster, input: ParsedInput, preflight: HealthCheckResult | null, done: Record<string, string>): RollingRestartPlan {
  const wanted = input.pods ? cluster.pods.filter((p) => input.pods!.includes(p.name)) : cluster.pods;
  const masterNode = preflight?.masterNode ?? cluster.masterNode;
  const order = orderPods(wanted, masterNode).map((p) => {
    const d = cluster.statefulSets.find((s) => s.name === p.statefulSetName)!.detection;
    const managed = d.strategy === 'kubernetes_managed';
    const grace = managed ? d.deleteGracePeriodSeconds : MANUAL_DELETE_GRACE_SECONDS;
    const decommissionSeconds = managed ? grace : input.options.decommissionTimeout + MANUAL_TIMEOUT_MARGIN_SECONDS + grace;
    const why = [
      !p.ready ? 'unready: restarted first' : null,
      p.isMaster || (masterNode !== null && p.nodeName === masterNode)
        ? 'elected master: restarted last'
        : p.ready && p.masterEligible !== false && wanted.some((o) => o.masterEligible === false)
          ? 'master-eligible: restarted after the data-only nodes'
          : null,
      d.reasons[d.reasons.length - 1] ?? d.strategy,
    ].filter(Boolean);
    return {
      podName: p.name,
      nodeName: p.nodeName,
      statefulSetName: p.statefulSetName,
      strategy: d.strategy,
      reason: why.join('; '),
      deleteGracePeriodSeconds: grace,
      timeoutSeconds: decommissionSeconds + input.podReadyTimeout + input.healthTimeout,
      alreadyDone: p.name in done,
    };
  });
  return RollingRestartPlan.parse({
    cluster: cluster.name,
    namespace: cluster.namespace,
    order,
    preflight,
    totalTimeoutSeconds: order.reduce((n, p) => n + (p.alreadyDone ? 0 : p.timeoutSeconds), 0),
  });
}

/** Dry run of a rolling restart: order, strategies, timeouts and the pre-flight result; writes nothing. */
export async function planRollingRestart(deps: EngineDeps, rawInput: RollingRestartInput): Promise<RollingRestartPlan> {
  const input = RollingRestartInput.parse(rawInput);
  const { cluster } = input;
  await refreshPods(deps, cluster);
  const preflight = await checkClusterHealth(deps, {
    cluster,
    consecutive: input.healthConsecutive,
    intervalSeconds: input.healthIntervalSeconds,
    timeoutSeconds: 0,
  });
  const plan = buildPlan(cluster, input, preflight, await doneByOperation(deps, cluster, input.operationId));
  for (const [i, p] of plan.order.entries()) {
    deps.log.info(`Plan ${i + 1}/${plan.order.length}: pod ${p.podName} (node ${p.nodeName ?? '?'}) ${p.strategy}, grace ${p.deleteGracePeriodSeconds}s, timeout ${p.timeoutSeconds}s${p.alreadyDone ? ', already done' : ''} - ${p.reason}`);
  }
  deps.log.info(
    preflight.healthy
      ? `Pre-flight health check passed (${preflight.checks.map((c) => c.name).join(', ')})`
      : `Pre-flight health check would refuse: failed checks ${preflight.failedChecks.join(', ')}`,
  );
  return plan;
}

/** Roll the whole cluster (or input.pods) one pod at a time. Throws only bugs. */
export async function rollingRestart(deps: EngineDeps, rawInput: RollingRestartInput): Promise<RollingRestartResult> {
  const input = RollingRestartInput.parse(rawInput);
  const { cluster } = input;
  const started = deps.clock.now();
  const operationId = input.operationId ?? newOperationId('rollout', cluster.name, started);
  const pods: PodRestartResult[] = [];
  const result = (fields: Partial<RollingRestartResult> & { plan: RollingRestartPlan; success: boolean; allocationReset: boolean }): RollingRestartResult =>
    RollingRestartResult.parse({
      cluster: cluster.name,
      namespace: cluster.namespace,
      operationId,
      dryRun: input.dryRun,
      duration: Math.max(0, (deps.clock.now() - started) / 1000),
      pods,
      ...fields,
    });

  const unknown = (input.pods ?? []).filter((name) => !cluster.pods.some((p) => p.name === name));
  if (unknown.length > 0) {
    const error = `Pod not found: ${unknown.join(', ')} (not a pod of cluster ${cluster.namespace}/${cluster.name})`;
    deps.log.error(error);
    // Nothing was set: no restriction of this run is left behind.
    return result({ plan: buildPlan(cluster, input, null, {}), success: false, allocationReset: true, error, errorKind: 'bad_input' });
  }

  if (input.dryRun) {
    const plan = await planRollingRestart(deps, { ...input, operationId });
    const refused = plan.preflight && !plan.preflight.healthy;
    return result({
      plan,
      success: !refused,
      allocationReset: true,
      ...(refused ? { error: `Pre-flight health check would refuse: failed checks ${plan.preflight!.failedChecks.join(', ')}`, errorKind: 'refused' as const } : {}),
    });
  }

  let ctx: OperationContext;
  try {
    ctx = await openOperation(deps, cluster, { operationId, dryRun: false });
  } catch (err) {
    const f = failureOf(err);
    deps.log.error(f.error);
    return result({ plan: buildPlan(cluster, input, null, {}), success: false, allocationReset: true, ...f });
  }

  let plan = buildPlan(cluster, input, null, ctx.lease?.progress.done ?? {});
  let outcome: { success: boolean; error?: string; errorKind?: RollingRestartResult['errorKind'] } = { success: false };
  const stsTarget = { kind: 'StatefulSet' as const, name: cluster.statefulSetName, namespace: cluster.namespace };
  try {
    await refreshPods(ctx.deps, cluster);
    const resumed = !!ctx.lease?.resumed;
    deps.log.info(`${resumed ? 'Resuming' : 'Starting'} rolling restart of cluster ${cluster.namespace}/${cluster.name} (operation ${operationId})`);
    // Pre-flight: refuse an unhealthy cluster. A resumed run in the middle of a pod finishes that
    // pod first (its own gate follows); one between pods may find the cluster still recovering,
    // so it waits like the gate after a pod does.
    const midPod = resumed && !!ctx.lease?.progress.current;
    setScope(ctx, { step: 'preflight' });
    const preflight = await checkClusterHealth(ctx.deps, {
      cluster,
      consecutive: input.healthConsecutive,
      intervalSeconds: input.healthIntervalSeconds,
      timeoutSeconds: resumed && !midPod ? input.healthTimeout : 0,
    });
    plan = buildPlan(cluster, input, preflight, ctx.lease?.progress.done ?? {});
    if (!preflight.healthy && !midPod) {
      const error = `Pre-flight health check refused the rolling restart of ${cluster.namespace}/${cluster.name}: failed checks ${preflight.failedChecks.join(', ')} (${preflight.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')})`;
      deps.log.error(error);
      await emitEvent(ctx.deps, stsTarget, EventReason.HealthGateBlocked, error, { type: 'Warning', action: 'Rollout' });
      outcome = { success: false, error, errorKind: 'refused' };
      // Refused before anything was set (the finally block still closes the operation).
      return result({ plan, success: false, allocationReset: true, error, errorKind: 'refused' });
    }
    if (!preflight.healthy) deps.log.warn(`Cluster not healthy yet (${preflight.failedChecks.join(', ')}); finishing the pod the earlier run was restarting first`);
    // A resumed run finishes the pod it was in the middle of before any other.
    const inProgress = ctx.lease?.progress.current?.pod;
    const order = plan.order.map((p) => p.podName);
    if (inProgress && order.includes(inProgress)) order.unshift(...order.splice(order.indexOf(inProgress), 1));
    await emitEvent(ctx.deps, stsTarget, EventReason.RolloutStarted, `Rolling restart of ${order.length} pods: ${order.join(', ')}`, { action: 'Rollout' });
    for (const [i, podName] of order.entries()) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      deps.log.info(`Restarting pod ${i + 1}/${order.length}: ${podName}`);
      const r = await runRestart(ctx, podName, input);
      pods.push(r);
      if (!r.success) {
        const error = `Failed to restart ${podName}: ${r.error ?? 'unknown error'}`;
        outcome = { success: false, error, errorKind: r.errorKind ?? 'failed' };
        break;
      }
    }
    if (pods.length === order.length && pods.every((p) => p.success)) outcome = { success: true };
  } catch (err) {
    const f = failureOf(err, ctx.signal);
    outcome = { success: false, ...f };
  } finally {
    clearScope(ctx);
    setScope(ctx, { step: 'finish' });
    const hadAllocation = ctx.allocation.value !== null;
    const reset = await closeOperation(ctx);
    if (hadAllocation && !reset) outcome = { ...outcome, success: false, error: `${outcome.error ? `${outcome.error}; ` : ''}allocation setting could not be reset` };
  }
  const reason = outcome.success ? EventReason.RolloutSucceeded : EventReason.RolloutFailed;
  const message = outcome.success ? `Restarted ${pods.filter((p) => !p.skipped).length} pods (${pods.filter((p) => p.skipped).length} already done)` : outcome.error ?? 'failed';
  await emitEvent(deps, stsTarget, reason, message, { type: outcome.success ? 'Normal' : 'Warning', action: 'Rollout' });
  if (outcome.success) deps.log.info(`Rolling restart of cluster ${cluster.namespace}/${cluster.name} succeeded`);
  else deps.log.error(`Rolling restart of cluster ${cluster.namespace}/${cluster.name} failed: ${outcome.error}`);
  return result({
    plan,
    success: outcome.success,
    allocationReset: ctx.allocation.value === null,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
  });
}
