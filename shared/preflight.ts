// The pre-flight health gate, one for every operation: the named checks of the health gate (HEALTH_CHECKS) read once
// before anything changes, and one decision (decidePreflight: passed, degraded, refused) that the rolling restart
// (for the pods it restarts) and the single-pod operations (restartPod, decommissionPod on their own, for that pod)
// both take. What differs: a single-pod operation may be skipped (--skip-preflight), a resumed one that already
// started on its pod is not refused, and the wording of the refusal names the one pod.
import { emitEvent, EventReason } from './events.js';
import { checkClusterHealth } from './health.js';
import type { Failure } from './failure.js';
import { setScope, type OperationContext } from './operation.js';
import type { HealthCheckResult, PreflightDecision } from './schemas.js';

export interface PreflightOptions {
  /** Skip the gate (dangerous: a decommission of a pod in a RED cluster may make data unavailable). */
  skip: boolean;
  consecutive: number;
  intervalSeconds: number;
}

export interface PreflightOutcome {
  /** The gate's reading; null when skipped or not applicable. */
  preflight: HealthCheckResult | null;
  /** Set when the operation must not go on (errorKind `refused`). */
  refusal: Failure | null;
  /**
   * Degraded pre-flight that let this (unready, node not in the cluster) pod go on: the OTHER such pods,
   * whose absence the health gate after the restart may tolerate. Empty otherwise.
   */
  tolerateUnready: string[];
}

/**
 * Run the pre-flight gate for `podName`. A resumed operation already in the middle of (or done with)
 * this pod is not refused: the earlier run changed the cluster, and finishing is what makes it healthy.
 * A pod that does not exist is left to the decommission (`Pod not found`, bad input).
 */
export async function singlePodPreflight(
  ctx: OperationContext,
  podName: string,
  verb: 'restart' | 'decommission',
  opts: PreflightOptions,
): Promise<PreflightOutcome> {
  const { deps, cluster } = ctx;
  setScope(ctx, { pod: podName, step: 'preflight' });
  if (opts.skip) {
    deps.log.warn(
      `Pre-flight health check SKIPPED for the ${verb} of pod ${cluster.namespace}/${podName} (skipPreflight): the cluster's health was not checked`,
    );
    return { preflight: null, refusal: null, tolerateUnready: [] };
  }
  const progress = ctx.lease?.progress;
  const resumedHere =
    !!ctx.lease?.resumed &&
    (progress?.current?.pod === podName || (progress?.done[podName] ?? undefined) !== undefined);
  if (!resumedHere) {
    // A pod that is not there, or not of this cluster, is bad input: the decommission says so.
    const pod = await deps.kube.getPod(cluster.namespace, podName);
    const owner = pod?.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet')?.name;
    const known = cluster.pods.find((p) => p.name === podName)?.statefulSetName ?? owner;
    if (!pod || !cluster.statefulSets.some((s) => s.name === known))
      return { preflight: null, refusal: null, tolerateUnready: [] };
  }

  const preflight = await checkClusterHealth(deps, {
    cluster,
    consecutive: opts.consecutive,
    intervalSeconds: opts.intervalSeconds,
    timeoutSeconds: 0,
    // ECK-style: a failure explained by unready pods whose node already left lets exactly those pods go on.
    tolerateUnready: cluster.pods.map((p) => p.name),
  });
  if (preflight.healthy) {
    deps.log.info(`Pre-flight health check passed (${preflight.checks.map((c) => c.name).join(', ')})`);
    return { preflight, refusal: null, tolerateUnready: [] };
  }
  const failed = preflight.failedChecks.join(', ');
  const details = preflight.checks
    .filter((c) => !c.ok)
    .map((c) => c.message)
    .join('; ');
  const degraded = preflight.degraded;
  // The one gate decision, for this pod: degraded = its node is one of those unready pods explain.
  if (decidePreflight(preflight, [podName])?.outcome === 'degraded' && degraded) {
    // Its node is not in the cluster: deleting the pod cannot make any data less available.
    deps.log.warn(`preflight: ${degraded.message}; the ${verb} of pod ${podName} may go on`, {
      failedChecks: preflight.failedChecks,
      degradedPods: degraded.pods,
    });
    if (!ctx.dryRun) {
      await emitEvent(
        deps,
        { kind: 'Pod', name: podName, namespace: cluster.namespace },
        EventReason.PreflightDegraded,
        `preflight: ${degraded.message}`,
        { type: 'Warning' },
      );
    }
    return { preflight, refusal: null, tolerateUnready: degraded.pods.filter((p) => p !== podName) };
  }
  if (resumedHere) {
    deps.log.warn(
      `Cluster not healthy yet (${failed}); finishing the ${verb} of pod ${podName} the earlier run had started`,
    );
    return { preflight, refusal: null, tolerateUnready: degraded?.pods.filter((p) => p !== podName) ?? [] };
  }
  const why = degraded
    ? `; preflight: ${degraded.message}, and pod ${podName} is not one of them`
    : notExplained(preflight);
  const error = ctx.dryRun
    ? `Pre-flight health check would refuse the ${verb} of pod ${cluster.namespace}/${podName}: failed checks ${failed} (${details})${why}`
    : `Pre-flight health check refused the ${verb} of pod ${cluster.namespace}/${podName}: failed checks ${failed} (${details})${why}; nothing was changed`;
  deps.log.error(error);
  if (!ctx.dryRun) {
    await emitEvent(
      deps,
      { kind: 'Pod', name: podName, namespace: cluster.namespace },
      EventReason.HealthGateBlocked,
      error,
      { type: 'Warning' },
    );
  }
  return { preflight, refusal: { error, errorKind: 'refused' }, tolerateUnready: [] };
}

/** `; not explained by unready pods: <why>` when the gate said why unready pods do not explain it, else ''. */
function notExplained(preflight: HealthCheckResult): string {
  return preflight.notExplainedByUnready ? `; not explained by unready pods: ${preflight.notExplainedByUnready}` : '';
}

/** `failed checks <names> (<messages>)` of an unhealthy reading. */
function failedSummary(preflight: HealthCheckResult): string {
  return `failed checks ${preflight.failedChecks.join(', ')} (${preflight.checks
    .filter((c) => !c.ok)
    .map((c) => c.message)
    .join('; ')})`;
}

/**
 * The pre-flight's decision for the pods to restart (`wanted`). Degraded (ECK style): every failed check is
 * explained by unready pods whose node is not in the cluster; those (of `wanted`) restart first, and the full
 * gate must pass before any other pod. Refused when such a pod is left out while Ready pods are to restart.
 */
export function decidePreflight(preflight: HealthCheckResult | null, wanted: string[]): PreflightDecision | null {
  if (!preflight) return null;
  if (preflight.healthy)
    return { outcome: 'passed', pods: [], message: `passed (${preflight.checks.map((c) => c.name).join(', ')})` };
  const failed = failedSummary(preflight);
  const d = preflight.degraded;
  if (!d) return { outcome: 'refused', pods: [], message: `${failed}${notExplained(preflight)}` };
  const first = d.pods.filter((p) => wanted.includes(p));
  const left = d.pods.filter((p) => !wanted.includes(p));
  const others = wanted.filter((p) => !d.pods.includes(p));
  if (first.length === 0 || (left.length > 0 && others.length > 0)) {
    const are = left.length === 1 ? 'is' : 'are';
    return {
      outcome: 'refused',
      pods: [],
      message: `${failed}; preflight: ${d.message}, but ${left.join(', ')} ${are} not among the pods to restart and no Ready pod may restart while ${left.length === 1 ? 'it is' : 'they are'} out of the cluster`,
    };
  }
  return { outcome: 'degraded', pods: first, message: d.message };
}
