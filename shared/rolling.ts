// Rolling restart of a CrateDB cluster (the seed's ClusterMaintenanceWorkflow): lock, pre-flight
// health gate, one pod at a time in a safe order, health gate after each, stop at the first
// failure; the allocation setting is reset and the lock released on every exit path.
import { livePodInfo } from './cluster-sql.js';
import { BadInputError } from './errors.js';
import { emitEvent, EventReason } from './events.js';
import {
  clearScope,
  closeOperation,
  newOperationId,
  openOperation,
  setScope,
  type CloseOutcome,
  type OperationContext,
} from './operation.js';
import { unlistedPodInfo } from './discovery.js';
import { failureOf } from './failure.js';
import { checkClusterHealth } from './health.js';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, leaseName, parseProgress } from './lease.js';
import { MANUAL_DELETE_GRACE_SECONDS, MANUAL_TIMEOUT_MARGIN_SECONDS } from './decommission.js';
import type { EngineDeps } from './ports.js';
import { runRestart } from './restart.js';
import { decidePreflight } from './preflight.js';
import {
  RollingRestartInput,
  RollingRestartPlan,
  RollingRestartResult,
  type CrateDBCluster,
  type HealthCheckResult,
  type PodInfo,
  type PodRestartResult,
  type RelocationVerdict,
} from './schemas.js';
import { readRelocation } from './relocation-run.js';
import { abortReason } from './wait.js';
import { byCodeUnits } from './order.js';

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
    if (a.statefulSetName !== b.statefulSetName) return byCodeUnits(a.statefulSetName, b.statefulSetName);
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

async function doneByOperation(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  operationId: string | undefined,
): Promise<Record<string, string>> {
  if (!operationId) return {};
  try {
    const lease = await deps.kube.getLease(cluster.namespace, leaseName(cluster.name));
    if (lease?.metadata?.annotations?.[ANNOTATION_OPERATION] !== operationId) return {};
    return parseProgress(lease.metadata.annotations[ANNOTATION_PROGRESS], operationId).done;
  } catch {
    return {};
  }
}

function buildPlan(
  cluster: CrateDBCluster,
  input: ParsedInput,
  preflight: HealthCheckResult | null,
  done: Record<string, string>,
  relocations: Map<string, RelocationVerdict> = new Map(),
): RollingRestartPlan {
  const wanted = input.pods ? cluster.pods.filter((p) => input.pods!.includes(p.name)) : cluster.pods;
  const masterNode = preflight?.masterNode ?? cluster.masterNode;
  const decision = decidePreflight(
    preflight,
    wanted.map((p) => p.name),
  );
  // Degraded: the unready pods whose node already left go first; the full gate must pass before the rest.
  const first = decision?.outcome === 'degraded' ? decision.pods : [];
  const ordered = [
    ...orderPods(
      wanted.filter((p) => first.includes(p.name)),
      masterNode,
    ),
    ...orderPods(
      wanted.filter((p) => !first.includes(p.name)),
      masterNode,
    ),
  ];
  const order = ordered.map((p, i) => {
    // Per pod: its own spec (issue 8 item 3); the StatefulSet's template only when the pod's is unknown.
    const d = p.detection ?? cluster.statefulSets.find((s) => s.name === p.statefulSetName)!.detection;
    const managed = d.strategy === 'kubernetes_managed';
    const deleteGracePeriodSeconds = managed ? d.deleteGracePeriodSeconds : MANUAL_DELETE_GRACE_SECONDS;
    const decommissionSeconds = managed
      ? deleteGracePeriodSeconds
      : input.options.decommissionTimeout + MANUAL_TIMEOUT_MARGIN_SECONDS + deleteGracePeriodSeconds;
    const why = [
      first.includes(p.name)
        ? 'unready, node not in the cluster: restarted first (degraded pre-flight)'
        : first.length > 0 && i === first.length
          ? `${p.ready ? '' : 'unready, '}only once the full health gate passes after ${first.join(', ')}`
          : !p.ready
            ? first.length > 0
              ? 'unready (node in the cluster): after the degraded pods'
              : 'unready: restarted first'
            : null,
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
      deleteGracePeriodSeconds,
      timeoutSeconds: decommissionSeconds + input.podReadyTimeout + input.healthTimeout,
      alreadyDone: p.name in done,
      ...(relocations.has(p.name) ? { relocation: relocations.get(p.name)! } : {}),
    };
  });
  return RollingRestartPlan.parse({
    cluster: cluster.name,
    namespace: cluster.namespace,
    order,
    preflight,
    preflightDecision: decision,
    totalTimeoutSeconds: order.reduce((n, p) => n + (p.alreadyDone ? 0 : p.timeoutSeconds), 0),
  });
}

/** `Pod not found: ...` when a name of `pods` is not a pod of the cluster (matched exactly), else null. */
function unknownPods(cluster: CrateDBCluster, pods: string[] | undefined): string | null {
  const unknown = (pods ?? []).filter((name) => !cluster.pods.some((p) => p.name === name));
  return unknown.length
    ? `Pod not found: ${unknown.join(', ')} (not a pod of cluster ${cluster.namespace}/${cluster.name})`
    : null;
}

/**
 * Dry run of a rolling restart: order, strategies, timeouts and the pre-flight result; writes nothing. A name of
 * `pods` that is not a pod of the cluster is refused (BadInputError), as rollingRestart refuses it.
 */
export async function planRollingRestart(deps: EngineDeps, rawInput: RollingRestartInput): Promise<RollingRestartPlan> {
  const input = RollingRestartInput.parse(rawInput);
  const { cluster } = input;
  const unknown = unknownPods(cluster, input.pods);
  if (unknown) throw new BadInputError(unknown);
  await refreshPods(deps, cluster);
  const preflight = await checkClusterHealth(deps, {
    cluster,
    consecutive: input.healthConsecutive,
    intervalSeconds: input.healthIntervalSeconds,
    timeoutSeconds: 0,
    tolerateUnready: cluster.pods.map((p) => p.name),
  });
  // Per pod, the relocation it would get now (each is decided again right before the pod; the earlier pods'
  // restarts do not change which shards have replicas).
  const relocations = new Map<string, RelocationVerdict>();
  const mode = input.options.relocation;
  if (mode) {
    const wanted = input.pods ? cluster.pods.filter((p) => input.pods!.includes(p.name)) : cluster.pods;
    for (const p of wanted) {
      if (!p.nodeName) continue;
      relocations.set(p.name, await readRelocation(deps, cluster, mode, p.name, p.nodeName, deps.signal));
    }
  }
  const plan = buildPlan(
    cluster,
    input,
    preflight,
    await doneByOperation(deps, cluster, input.operationId),
    relocations,
  );
  for (const [i, p] of plan.order.entries()) {
    const reloc = p.relocation ? `, relocation ${p.relocation.summary}` : '';
    deps.log.info(
      `Plan ${i + 1}/${plan.order.length}: pod ${p.podName} (node ${p.nodeName ?? '?'}) ${p.strategy}, grace ${p.deleteGracePeriodSeconds}s, timeout ${p.timeoutSeconds}s${p.alreadyDone ? ', already done' : ''}${reloc} - ${p.reason}`,
    );
  }
  const decision = plan.preflightDecision!;
  if (decision.outcome === 'passed')
    deps.log.info(`Pre-flight health check passed (${preflight.checks.map((c) => c.name).join(', ')})`);
  else if (decision.outcome === 'degraded')
    deps.log.warn(`preflight: ${decision.message}`, {
      failedChecks: preflight.failedChecks,
      degradedPods: decision.pods,
    });
  else deps.log.info(`Pre-flight health check would refuse: ${decision.message}`);
  return plan;
}

/**
 * A resumed run's pod in progress that discovery did not list (the crashed run deleted it and the StatefulSet
 * controller has not re-created it yet) is still a pod of the cluster: add it, so that it goes first and is waited
 * for. Only when it belongs to a StatefulSet of the cluster (ordinal below its replicas) and is wanted.
 */
function adoptInProgressPod(ctx: OperationContext, input: ParsedInput, podName: string, nodeName: string | null): void {
  const { cluster, deps } = ctx;
  if (cluster.pods.some((p) => p.name === podName)) return;
  if (input.pods && !input.pods.includes(podName)) return;
  const cut = podName.lastIndexOf('-');
  const ordinal = Number(podName.slice(cut + 1));
  const sts = cluster.statefulSets.find((s) => s.name === podName.slice(0, cut));
  if (!sts || !Number.isInteger(ordinal) || ordinal < 0 || ordinal >= sts.replicas) return;
  deps.log.info(
    `Resuming: pod ${podName}, which the earlier run had in progress, is not there yet (deleted, being re-created); it goes first and is waited for`,
  );
  cluster.pods.push(unlistedPodInfo(sts, podName, ordinal, { nodeName }));
}

type Outcome = { success: boolean; error?: string; errorKind?: RollingRestartResult['errorKind'] };

const rolloutTarget = (cluster: CrateDBCluster) => ({
  kind: 'StatefulSet' as const,
  name: cluster.statefulSetName,
  namespace: cluster.namespace,
});

/** Roll the whole cluster (or input.pods) one pod at a time. Throws only bugs. */
export async function rollingRestart(deps: EngineDeps, rawInput: RollingRestartInput): Promise<RollingRestartResult> {
  const input = RollingRestartInput.parse(rawInput);
  const { cluster } = input;
  const started = deps.clock.now();
  const operationId = input.operationId ?? newOperationId('rollout', cluster.name, started);
  const pods: PodRestartResult[] = [];
  const result = (
    fields: Partial<RollingRestartResult> & { plan: RollingRestartPlan; success: boolean; allocationReset: boolean },
  ): RollingRestartResult =>
    RollingRestartResult.parse({
      cluster: cluster.name,
      namespace: cluster.namespace,
      operationId,
      dryRun: input.dryRun,
      duration: Math.max(0, (deps.clock.now() - started) / 1000),
      pods,
      ...fields,
    });

  const unknown = unknownPods(cluster, input.pods);
  if (unknown) {
    const error = unknown;
    deps.log.error(error);
    // Nothing was set: no restriction of this run is left behind.
    return result({
      plan: buildPlan(cluster, input, null, {}),
      success: false,
      allocationReset: true,
      error,
      errorKind: 'bad_input',
    });
  }
  if (input.dryRun) return result(await dryRunFields(deps, input, operationId));

  let ctx: OperationContext;
  try {
    ctx = await openOperation(deps, cluster, { operationId, dryRun: false });
  } catch (err) {
    const f = failureOf(err);
    deps.log.error(f.error);
    return result({ plan: buildPlan(cluster, input, null, {}), success: false, allocationReset: true, ...f });
  }

  let plan = buildPlan(cluster, input, null, ctx.lease?.progress.done ?? {});
  let outcome: Outcome = { success: false };
  let closed: CloseOutcome;
  try {
    const pre = await rolloutPreflight(ctx, input);
    plan = pre.plan;
    // Refused before anything was set (the finally block still closes the operation).
    if (pre.refusal !== null)
      return result({ plan, success: false, allocationReset: true, error: pre.refusal, errorKind: 'refused' });
    outcome = await restartInOrder(ctx, input, rolloutOrder(ctx, plan), pre.degradedPods, pods);
  } catch (err) {
    outcome = { success: false, ...failureOf(err, ctx.signal) };
  } finally {
    clearScope(ctx);
    setScope(ctx, { step: 'finish' });
    closed = await closeOperation(ctx);
    if (closed.problem)
      outcome = {
        ...outcome,
        success: false,
        error: `${outcome.error ? `${outcome.error}; ` : ''}${closed.problem}`,
        errorKind: outcome.errorKind ?? 'failed',
      };
  }
  await announceRolloutEnd(deps, cluster, pods, outcome);
  return result({
    plan,
    success: outcome.success,
    allocationReset: closed.allocationReset,
    gracefulStopRestored: closed.gracefulStopRestored,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
  });
}

/** A dry run: the plan, and a refusal when its pre-flight would refuse. */
async function dryRunFields(
  deps: EngineDeps,
  input: ParsedInput,
  operationId: string,
): Promise<Partial<RollingRestartResult> & { plan: RollingRestartPlan; success: boolean; allocationReset: boolean }> {
  const plan = await planRollingRestart(deps, { ...input, operationId });
  const refused = plan.preflightDecision?.outcome === 'refused';
  return {
    plan,
    success: !refused,
    allocationReset: true,
    ...(refused
      ? {
          error: `Pre-flight health check would refuse: ${plan.preflightDecision!.message}`,
          errorKind: 'refused' as const,
        }
      : {}),
  };
}

/**
 * The rollout's pre-flight: refuse an unhealthy cluster. A resumed run in the middle of a pod finishes that pod first
 * (its own gate follows); one between pods may find the cluster still recovering, so it waits like the gate after a
 * pod does. Returns the plan, the degraded pods (those that may restart before the full gate passes) and the
 * refusal's error (null: go on).
 */
async function rolloutPreflight(
  ctx: OperationContext,
  input: ParsedInput,
): Promise<{ plan: RollingRestartPlan; degradedPods: string[]; refusal: string | null }> {
  const { deps, cluster } = ctx;
  await refreshPods(ctx.deps, cluster);
  const resumed = !!ctx.lease?.resumed;
  deps.log.info(
    `${resumed ? 'Resuming' : 'Starting'} rolling restart of cluster ${cluster.namespace}/${cluster.name} (operation ${ctx.operationId})`,
  );
  const current = resumed ? (ctx.lease?.progress.current ?? null) : null;
  if (current) adoptInProgressPod(ctx, input, current.pod, current.nodeName);
  // The refusal of an unhealthy cluster is ignored only when the pod the earlier run was in the middle of is
  // restarted first (it is what the cluster is missing); otherwise another node would go while that one is out.
  const wantedNames = input.pods ?? cluster.pods.map((p) => p.name);
  const midPod = !!current && cluster.pods.some((p) => p.name === current.pod) && wantedNames.includes(current.pod);
  setScope(ctx, { step: 'preflight' });
  const preflight = await checkClusterHealth(ctx.deps, {
    cluster,
    consecutive: input.healthConsecutive,
    intervalSeconds: input.healthIntervalSeconds,
    timeoutSeconds: resumed && !midPod ? input.healthTimeout : 0,
    // ECK-style degraded pre-flight: unready pods whose node already left may explain the failure.
    tolerateUnready: cluster.pods.map((p) => p.name),
  });
  const plan = buildPlan(cluster, input, preflight, ctx.lease?.progress.done ?? {});
  const decision = plan.preflightDecision!;
  if (decision.outcome === 'refused' && !midPod) {
    const why = current
      ? `; the pod ${current.pod} the earlier run had in progress is not among the pods to restart, so it cannot be finished first`
      : '';
    const error = `Pre-flight health check refused the rolling restart of ${cluster.namespace}/${cluster.name}: ${decision.message}${why}`;
    deps.log.error(error);
    await emitEvent(ctx.deps, rolloutTarget(cluster), EventReason.HealthGateBlocked, error, {
      type: 'Warning',
      action: 'Rollout',
    });
    return { plan, degradedPods: [], refusal: error };
  }
  // Degraded: only these pods may restart before the full health gate passes.
  const degradedPods = decision.outcome === 'degraded' ? decision.pods : [];
  if (degradedPods.length > 0) {
    deps.log.warn(`preflight: ${decision.message}`, { failedChecks: preflight.failedChecks, degradedPods });
    await emitEvent(ctx.deps, rolloutTarget(cluster), EventReason.PreflightDegraded, `preflight: ${decision.message}`, {
      type: 'Warning',
      action: 'Rollout',
    });
  } else if (!preflight.healthy) {
    deps.log.warn(
      `Cluster not healthy yet (${preflight.failedChecks.join(', ')}); finishing the pod the earlier run was restarting first`,
    );
  }
  return { plan, degradedPods, refusal: null };
}

/** The plan's order, with the pod a resumed run was in the middle of moved first. */
function rolloutOrder(ctx: OperationContext, plan: RollingRestartPlan): string[] {
  const inProgress = ctx.lease?.progress.current?.pod;
  const order = plan.order.map((p) => p.podName);
  if (inProgress && order.includes(inProgress)) order.unshift(...order.splice(order.indexOf(inProgress), 1));
  return order;
}

/** Restart the pods in order, one at a time (each result pushed to `pods`); stop at the first failure. */
async function restartInOrder(
  ctx: OperationContext,
  input: ParsedInput,
  order: string[],
  degradedPods: string[],
  pods: PodRestartResult[],
): Promise<Outcome> {
  const { deps, cluster } = ctx;
  const inProgress = ctx.lease?.progress.current?.pod;
  let gateOwed = degradedPods.length > 0;
  await emitEvent(
    ctx.deps,
    rolloutTarget(cluster),
    EventReason.RolloutStarted,
    `Rolling restart of ${order.length} pods: ${order.join(', ')}`,
    { action: 'Rollout' },
  );
  for (const [i, podName] of order.entries()) {
    if (ctx.signal.aborted) throw abortReason(ctx.signal);
    if (gateOwed && !degradedPods.includes(podName) && podName !== inProgress) {
      gateOwed = false;
      const blocked = await gateBeforeReadyPods(ctx, input, degradedPods, pods[pods.length - 1]);
      if (blocked) return blocked;
    }
    deps.log.info(`Restarting pod ${i + 1}/${order.length}: ${podName}`);
    // The gate after a degraded pod tolerates the absence of the degraded pods still to come (only them).
    const tolerateUnready = degradedPods.filter((p) => p !== podName && !pods.some((r) => r.podName === p));
    const r = await runRestart(ctx, podName, { ...input, tolerateUnready });
    pods.push(r);
    if (!r.success) {
      const error = `Failed to restart ${podName}: ${r.error ?? 'unknown error'}`;
      return { success: false, error, errorKind: r.errorKind ?? 'failed' };
    }
  }
  return pods.length === order.length && pods.every((p) => p.success) ? { success: true } : { success: false };
}

/**
 * Before the first pod that is not one of the degraded ones, the full gate must have passed. It did when the last
 * pod's own gate passed (without tolerating anything); otherwise (e.g. a pod an earlier run had done was skipped) it
 * runs here, with its normal timeout. Returns the failure when it does not pass, else null.
 */
async function gateBeforeReadyPods(
  ctx: OperationContext,
  input: ParsedInput,
  degradedPods: string[],
  last: PodRestartResult | undefined,
): Promise<Outcome | null> {
  if (last?.health?.healthy) return null;
  const { deps, cluster } = ctx;
  clearScope(ctx);
  setScope(ctx, { step: 'health-gate' });
  const gate = await checkClusterHealth(ctx.deps, {
    cluster,
    consecutive: input.healthConsecutive,
    intervalSeconds: input.healthIntervalSeconds,
    timeoutSeconds: input.healthTimeout,
  });
  if (gate.healthy) return null;
  const error = `Cluster did not become healthy within ${input.healthTimeout}s after restarting the unready pods ${degradedPods.join(', ')}: failed checks ${gate.failedChecks.join(', ')}; no Ready pod was restarted`;
  deps.log.error(error);
  await emitEvent(ctx.deps, rolloutTarget(cluster), EventReason.HealthGateBlocked, error, {
    type: 'Warning',
    action: 'Rollout',
  });
  return { success: false, error, errorKind: 'timeout' };
}

/** The rollout's closing Event and log line. */
async function announceRolloutEnd(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  pods: PodRestartResult[],
  outcome: Outcome,
): Promise<void> {
  const reason = outcome.success ? EventReason.RolloutSucceeded : EventReason.RolloutFailed;
  const message = outcome.success
    ? `Restarted ${pods.filter((p) => !p.skipped).length} pods (${pods.filter((p) => p.skipped).length} already done)`
    : (outcome.error ?? 'failed');
  await emitEvent(deps, rolloutTarget(cluster), reason, message, {
    type: outcome.success ? 'Normal' : 'Warning',
    action: 'Rollout',
  });
  if (outcome.success) deps.log.info(`Rolling restart of cluster ${cluster.namespace}/${cluster.name} succeeded`);
  else deps.log.error(`Rolling restart of cluster ${cluster.namespace}/${cluster.name} failed: ${outcome.error}`);
}
