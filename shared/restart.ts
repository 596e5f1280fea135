// Restart one CrateDB pod safely: decommission (either strategy), wait for the re-created pod to
// be Ready and its node back in the cluster, reset the allocation setting, then the health gate.
import { seconds, waitPodBack, runDecommission } from './decommission.js';
import { emitEvent, EventReason } from './events.js';
import { checkClusterHealth } from './health.js';
import { SQL } from './cluster-sql.js';
import { messageOf } from './errors.js';
import {
  LABEL_ROUTING_OWNER,
  clearScope,
  inSinglePodOperation,
  newOperationId,
  setScope,
  type OperationContext,
} from './operation.js';
import { resetAllocation } from './allocation.js';
import { failureOf } from './failure.js';
import { restoreGracefulStop } from './graceful-stop.js';
import type { EngineDeps } from './ports.js';
import { singlePodPreflight } from './preflight.js';
import { relocationForPod } from './relocation-run.js';
import { PodRestartInput, PodRestartResult, type DecommissionOptions, type Strategy } from './schemas.js';

export interface RestartSteps {
  podReadyTimeout: number;
  healthTimeout: number;
  healthConsecutive: number;
  healthIntervalSeconds: number;
  options: DecommissionOptions;
  /**
   * Degraded roll: other unready pods whose node is not in the cluster and that are still to be restarted.
   * The health gate after this pod tolerates exactly their absence (see HealthCheckInput.tolerateUnready).
   */
  tolerateUnready?: string[];
}

function emptyResult(
  podName: string,
  namespace: string,
  startedAt: number,
  strategy: Strategy = 'unknown',
): PodRestartResult {
  return PodRestartResult.parse({
    podName,
    namespace,
    success: false,
    strategyUsed: strategy,
    duration: 0,
    startedAt: new Date(startedAt).toISOString(),
  });
}

/**
 * dc_util restricts allocation in preStop and only its postStart `--reset-routing` undoes it. Without
 * that hook (or when it failed) the setting stays restricted and replicas never recover, so once
 * the node is back we reset it - unless another owner (crate-operator's label) holds it.
 */
async function resetLeftoverDcUtilAllocation(ctx: OperationContext, podName: string): Promise<void> {
  const { deps, cluster } = ctx;
  let value: string | null;
  try {
    const res = await ctx.clusterSql.query(SQL.allocationSetting, [], { signal: ctx.signal });
    const v = res.rows[0]?.[0];
    value = v === null || v === undefined ? null : String(v).toLowerCase();
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    deps.log.warn(`Could not read cluster.routing.allocation.enable: ${messageOf(err)}`);
    return;
  }
  if (value === null || value === 'all') return;
  const stsName = cluster.pods.find((p) => p.name === podName)?.statefulSetName ?? cluster.statefulSetName;
  const live = await deps.kube.getStatefulSet(cluster.namespace, stsName);
  const owner = live?.metadata?.labels?.[LABEL_ROUTING_OWNER];
  if (owner && !owner.startsWith('crate-decommission-')) {
    deps.log.warn(
      `cluster.routing.allocation.enable is ${value} after pod ${podName} rejoined; it is owned by ${owner} (label ${LABEL_ROUTING_OWNER}), leaving it`,
    );
    return;
  }
  deps.log.warn(
    `dc_util left cluster.routing.allocation.enable = ${value} after pod ${podName} rejoined (no postStart --reset-routing?); resetting it`,
  );
  await ctx.clusterSql.query(SQL.resetAllocation, [], { signal: ctx.signal });
  await emitEvent(
    deps,
    { kind: 'StatefulSet', name: stsName, namespace: cluster.namespace },
    EventReason.AllocationReset,
    `cluster.routing.allocation.enable reset after dc_util left it ${value}`,
  );
}

/** The StatefulSet of a pod of the cluster. */
function stsOf(ctx: OperationContext, podName: string): string {
  return ctx.cluster.pods.find((p) => p.name === podName)?.statefulSetName ?? ctx.cluster.statefulSetName;
}

/** Restart one pod inside an open operation (used by restartPod and rollingRestart). Throws only bugs. */
export async function runRestart(
  ctx: OperationContext,
  podName: string,
  steps: RestartSteps,
): Promise<PodRestartResult> {
  const { deps, cluster } = ctx;
  const started = deps.clock.now();
  const result = emptyResult(podName, cluster.namespace, started);
  const finish = () => {
    const now = deps.clock.now();
    result.completedAt = new Date(now).toISOString();
    result.duration = Math.max(0, (now - started) / 1000);
    return result;
  };

  clearScope(ctx);
  setScope(ctx, { pod: podName, step: 'restart' });
  const done = ctx.lease?.progress.done[podName];
  if (done) {
    const sts = cluster.statefulSets.find(
      (s) => s.name === cluster.pods.find((p) => p.name === podName)?.statefulSetName,
    );
    result.strategyUsed = sts?.detection.strategy ?? 'unknown';
    result.success = true;
    result.skipped = true;
    result.newUid = done;
    deps.log.info(`Pod ${podName} was already restarted by operation ${ctx.operationId} (uid ${done}); skipping`);
    await emitEvent(
      deps,
      { kind: 'Pod', name: podName, namespace: cluster.namespace },
      EventReason.PodRestartSkipped,
      `Already restarted by operation ${ctx.operationId}`,
    );
    return finish();
  }

  // Right before the pod: what its drain moves (issue 9 item 1; --relocation auto decides from sys.shards now).
  let options: typeof steps.options;
  try {
    const chosen = await relocationForPod(ctx, podName, steps.options);
    options = chosen.options;
    if (chosen.verdict) result.relocation = chosen.verdict;
  } catch (err) {
    const f = failureOf(err, ctx.signal);
    result.error = f.error;
    result.errorKind = f.errorKind;
    return finish();
  }
  const decommission = await runDecommission(ctx, podName, options);
  result.decommission = decommission;
  result.strategyUsed = decommission.strategyUsed;
  result.oldUid = decommission.oldUid;
  if (!decommission.success) {
    result.error = decommission.error;
    result.errorKind = decommission.errorKind;
    return finish();
  }
  if (ctx.dryRun) {
    deps.log.info(
      `Dry run: would wait up to ${steps.podReadyTimeout}s for pod ${podName} to be re-created and Ready, then run the health gate (${steps.healthConsecutive} readings ${steps.healthIntervalSeconds}s apart, up to ${steps.healthTimeout}s)`,
    );
    result.success = true;
    return finish();
  }

  try {
    const deletedAt = deps.clock.now();
    const back = await waitPodBack(ctx, podName, decommission.oldUid, steps.podReadyTimeout, { event: false });
    result.newUid = back.pod.metadata?.uid ?? null;
    // The node is back: its shards may recover on it now. The reset is reported in this pod's PodRestarted (or, when
    // the gate fails, in an AllocationReset of its own); on the other exit paths closeOperation's reset reports it.
    setScope(ctx, { step: 'allocation-reset' });
    const restricted = ctx.allocation.value;
    const reset = (await resetAllocation(ctx, { event: false })) ? restricted : null;
    const gateStarted = deps.clock.now();
    if (decommission.strategyUsed === 'kubernetes_managed') await resetLeftoverDcUtilAllocation(ctx, podName);
    // Done, in one write with the allocation reset staged above. Before the graceful_stop restore: a Lease lost
    // meanwhile to a retry of this operation is noticed by this write, and the restore is then left to it.
    if (ctx.lease) {
      await ctx.lease.save({ done: { ...ctx.lease.progress.done, [podName]: result.newUid ?? '' }, current: null });
    }
    // The drain is over: put cluster.graceful_stop.* back (the next manual pod of a rollout reads and sets them anew).
    // A crash before it leaves them recorded: the resumed run keeps the record and restores them after its next pod.
    await restoreGracefulStop(ctx);
    setScope(ctx, { step: 'health-gate' });
    const health = await checkClusterHealth(ctx.deps, {
      cluster,
      consecutive: steps.healthConsecutive,
      intervalSeconds: steps.healthIntervalSeconds,
      timeoutSeconds: steps.healthTimeout,
      tolerateUnready: steps.tolerateUnready ?? [],
    });
    result.health = health;
    if (!health.healthy && !health.degraded) {
      result.error = `Cluster did not become healthy within ${steps.healthTimeout}s after restarting pod ${podName}: failed checks ${health.failedChecks.join(', ')}`;
      result.errorKind = 'timeout';
      deps.log.error(result.error);
      if (reset)
        await emitEvent(
          deps,
          { kind: 'StatefulSet', name: stsOf(ctx, podName), namespace: cluster.namespace },
          EventReason.AllocationReset,
          `cluster.routing.allocation.enable reset (was ${reset}) once node ${back.node} rejoined`,
        );
      await emitEvent(
        deps,
        { kind: 'Pod', name: podName, namespace: cluster.namespace, uid: result.newUid },
        EventReason.HealthGateBlocked,
        result.error,
        { type: 'Warning' },
      );
      return finish();
    }
    const note = health.degraded ? ` (still ${health.degraded.message})` : '';
    deps.log.info(`Health gate passed after pod ${podName}: ${health.goodReadings} consecutive good readings${note}`);
    const now = deps.clock.now();
    // One Event for the pod's way back (it replaces PodReady, NodeRejoined, AllocationReset and HealthGatePassed).
    await emitEvent(
      deps,
      { kind: 'Pod', name: podName, namespace: cluster.namespace, uid: result.newUid },
      EventReason.PodRestarted,
      `Re-created pod Ready (uid ${result.newUid ?? '?'}) ${seconds(back.readyAt - deletedAt)} after the delete; node ${back.node} rejoined ${seconds(back.rejoinedAt - back.readyAt)} later${reset ? `; cluster.routing.allocation.enable reset (was ${reset})` : ''}; health gate passed: ${health.goodReadings} consecutive good readings${note} in ${seconds(now - gateStarted)}; ${seconds(now - started)} in all (drain and delete ${seconds(deletedAt - started)})`,
    );
    result.success = true;
  } catch (err) {
    const f = failureOf(err, ctx.signal);
    result.error = f.error;
    result.errorKind = f.errorKind;
    deps.log.error(`Restart of pod ${podName} failed: ${f.error}`);
  }
  return finish();
}

/** Restart one pod (top level: takes the cluster's lock; resets allocation on every exit path). */
export async function restartPod(deps: EngineDeps, rawInput: PodRestartInput): Promise<PodRestartResult> {
  const input = PodRestartInput.parse(rawInput);
  const started = deps.clock.now();
  const operationId = input.operationId ?? newOperationId('restart', input.podName, started);
  return inSinglePodOperation(
    deps,
    input.cluster,
    { operationId, dryRun: input.dryRun },
    `Restart of pod ${input.podName}`,
    (f) => ({
      ...emptyResult(input.podName, input.namespace, started),
      ...f,
      completedAt: new Date(deps.clock.now()).toISOString(),
    }),
    (ctx) => restartInOperation(ctx, input, started),
  );
}

async function restartInOperation(
  ctx: OperationContext,
  input: ReturnType<typeof PodRestartInput.parse>,
  started: number,
): Promise<PodRestartResult> {
  const { deps } = ctx;
  {
    const gate = await singlePodPreflight(ctx, input.podName, 'restart', {
      skip: input.skipPreflight,
      consecutive: input.healthConsecutive,
      intervalSeconds: input.healthIntervalSeconds,
    });
    if (gate.refusal) {
      const strategy =
        input.cluster.statefulSets.find(
          (s) => s.name === input.cluster.pods.find((p) => p.name === input.podName)?.statefulSetName,
        )?.detection.strategy ?? 'unknown';
      const now = deps.clock.now();
      return {
        ...emptyResult(input.podName, input.namespace, started, strategy),
        ...gate.refusal,
        preflight: gate.preflight,
        completedAt: new Date(now).toISOString(),
        duration: Math.max(0, (now - started) / 1000),
      };
    }
    return {
      ...(await runRestart(ctx, input.podName, { ...input, tolerateUnready: gate.tolerateUnready })),
      preflight: gate.preflight,
    };
  }
}
