// cluster.routing.allocation.enable as one operation owns it: restricted for a node restart with the StatefulSet
// labelled as the setting's owner (dc-util-routing-owner), reset and unlabelled on every exit path.
import { SQL } from './cluster-sql.js';
import { refuseControllerRoll } from './controller-roll.js';
import { emitEvent, EventReason } from './events.js';
import { anyFailure, messageOf } from './errors.js';
import type { OperationContext } from './operation.js';
import { cleanupPause, retry } from './retry.js';
import {
  LABEL_ROUTING_OWNER,
  isOwnRoutingOwner,
  ownRoutingOwnerValue,
  refuseForeignRoutingOwner,
} from './routing-owner.js';

/** Restrict allocation for a node restart and label the StatefulSet as the setting's owner. */
export async function restrictAllocation(ctx: OperationContext, statefulSetName: string, value: string): Promise<void> {
  const { deps, cluster } = ctx;
  const owner = ownRoutingOwnerValue(deps.clock.now());
  // crate-operator may have started its own restart since this operation began: refuse (LockedError) before the SET.
  await refuseForeignRoutingOwner(deps, cluster, 'to restrict allocation');
  // The StatefulSet controller may be replacing pods on its own (RollingUpdate after a template change): refuse too.
  await refuseControllerRoll(deps, cluster.namespace, statefulSetName, 'to restrict allocation');
  try {
    const current = (await deps.kube.getStatefulSet(cluster.namespace, statefulSetName))?.metadata?.labels?.[
      LABEL_ROUTING_OWNER
    ];
    if (current && !isOwnRoutingOwner(current)) {
      // A stale foreign label (a live one refused above): never overwritten, so never removed by us either.
      deps.log.warn(
        `StatefulSet ${cluster.namespace}/${statefulSetName} keeps its stale label ${LABEL_ROUTING_OWNER}=${current} (not written by this tool); not labelling it`,
      );
    } else {
      await deps.kube.patchStatefulSetLabels(cluster.namespace, statefulSetName, { [LABEL_ROUTING_OWNER]: owner });
      if (!ctx.allocation.labelledStatefulSets.includes(statefulSetName))
        ctx.allocation.labelledStatefulSets.push(statefulSetName);
    }
  } catch (err) {
    deps.log.warn(
      `Could not label StatefulSet ${cluster.namespace}/${statefulSetName} ${LABEL_ROUTING_OWNER}=${owner}: ${messageOf(err)}`,
    );
  }
  // Remember before sending: a crash right after the SET must still lead to a RESET.
  ctx.allocation.value = value;
  await ctx.lease?.save({ allocationSet: value });
  await ctx.clusterSql.query(SQL.setAllocation(value), [], { signal: ctx.signal });
  // No Event of its own: the pod's DecommissionStarted, sent right after, says it (docs/observability.md).
  deps.log.info(`Set cluster.routing.allocation.enable = ${value} while a node restarts`);
}

/**
 * RESET the allocation setting if this operation set it, and remove our owner label. Runs on
 * every exit path, so it ignores the (possibly aborted) operation signal. Never throws. `event: false` (a restarted
 * pod's own reset, which its PodRestarted Event reports): no AllocationReset Event.
 */
export async function resetAllocation(ctx: OperationContext, opts: { event?: boolean } = {}): Promise<boolean> {
  const value = ctx.allocation.value;
  if (!value) return false;
  const { deps, cluster } = ctx;
  // Lost the Lease to a run that took the setting over with it (acquire carries allocationSet): that run
  // resets it at its end; a RESET from here would lift the restriction it may rely on right now.
  const heir = await ctx.lease?.allocationHeir().catch(() => null);
  if (heir) {
    ctx.allocation.heir = heir;
    deps.log.warn(
      `Lost the lock; cluster.routing.allocation.enable=${value} is left to ${heir}, which took it over and resets it at its end`,
    );
    return false;
  }
  let lastError = '';
  try {
    await retry(() => ctx.clusterSql.query(SQL.resetAllocation, [], { timeoutMs: 30_000 }), {
      attempts: 5,
      retryable: anyFailure,
      beforeRetry: () => cleanupPause(deps),
    });
    ctx.allocation.value = null;
  } catch (err) {
    lastError = messageOf(err);
  }
  if (ctx.allocation.value) {
    deps.log.error(
      `Could not reset cluster.routing.allocation.enable (still ${value}): ${lastError}. Run RESET GLOBAL "cluster.routing.allocation.enable" on the cluster`,
    );
    return false;
  }
  deps.log.info(`Reset cluster.routing.allocation.enable (was ${value})`);
  for (const sts of ctx.allocation.labelledStatefulSets) {
    try {
      // Only a label this tool wrote is removed (a resumed run labels every StatefulSet as possibly ours).
      const current = (await deps.kube.getStatefulSet(cluster.namespace, sts))?.metadata?.labels?.[LABEL_ROUTING_OWNER];
      if (current && !isOwnRoutingOwner(current))
        deps.log.warn(
          `Leaving label ${LABEL_ROUTING_OWNER}=${current} on StatefulSet ${cluster.namespace}/${sts}: this tool did not write it`,
        );
      else if (current) await deps.kube.patchStatefulSetLabels(cluster.namespace, sts, { [LABEL_ROUTING_OWNER]: null });
    } catch (err) {
      deps.log.warn(
        `Could not remove label ${LABEL_ROUTING_OWNER} from StatefulSet ${cluster.namespace}/${sts}: ${messageOf(err)}`,
      );
    }
    if (opts.event !== false)
      await emitEvent(
        deps,
        { kind: 'StatefulSet', name: sts, namespace: cluster.namespace },
        EventReason.AllocationReset,
        `cluster.routing.allocation.enable reset (was ${value})`,
      );
  }
  ctx.allocation.labelledStatefulSets = [];
  // Staged: written with the next save (a rollout's 'done') or the release; a stale allocationSet only causes one
  // more (harmless) RESET.
  ctx.lease?.stage({ allocationSet: null });
  return true;
}
