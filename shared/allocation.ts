// cluster.routing.allocation.enable as one operation owns it: restricted for a node restart with the StatefulSet
// labelled as the setting's owner (dc-util-routing-owner), reset and unlabelled on every exit path.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { SQL } from './cluster-sql.js';
import { refuseControllerRoll } from './controller-roll.js';
import { emitEvent, EventReason } from './events.js';
import { anyFailure, isConflict, messageOf } from './errors.js';
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
  // crate-operator may have started its own restart since this operation began: refuse (LockedError) before the SET.
  // One read of each StatefulSet serves this check, the next one and the label's compare-and-set.
  const read = await refuseForeignRoutingOwner(deps, cluster, 'to restrict allocation');
  // The StatefulSet controller may be replacing pods on its own (RollingUpdate after a template change): refuse too.
  await refuseControllerRoll(
    deps,
    cluster.namespace,
    statefulSetName,
    'to restrict allocation',
    read.get(statefulSetName),
  );
  await labelAsOwner(ctx, statefulSetName, read.get(statefulSetName));
  // Remember before sending: a crash right after the SET must still lead to a RESET.
  ctx.allocation.value = value;
  await ctx.lease?.save({ allocationSet: value });
  await ctx.clusterSql.query(SQL.setAllocation(value), [], { signal: ctx.signal });
  // No Event of its own: the pod's DecommissionStarted, sent right after, says it (docs/observability.md).
  deps.log.info(`Set cluster.routing.allocation.enable = ${value} while a node restarts`);
}

/**
 * Label the StatefulSet `dc-util-routing-owner=crate-decommission-<now>`: a compare-and-set on the resourceVersion
 * of `live` (the StatefulSet as just read; undefined: read it), so a label crate-operator writes after that read is
 * never overwritten: on a 409 it is read and judged again (LockedError when another owner's label is live now). A
 * stale foreign label is left alone. A failure to label is a warning (the setting is still reset at the end).
 */
async function labelAsOwner(ctx: OperationContext, statefulSetName: string, live: V1StatefulSet | null | undefined) {
  const { deps, cluster } = ctx;
  const owner = ownRoutingOwnerValue(deps.clock.now());
  for (let attempt = 1; ; attempt++) {
    try {
      live = live !== undefined ? live : await deps.kube.getStatefulSet(cluster.namespace, statefulSetName);
      const current = live?.metadata?.labels?.[LABEL_ROUTING_OWNER];
      if (current && !isOwnRoutingOwner(current)) {
        // A stale foreign label (a live one is refused): never overwritten, so never removed by us either.
        deps.log.warn(
          `StatefulSet ${cluster.namespace}/${statefulSetName} keeps its stale label ${LABEL_ROUTING_OWNER}=${current} (not written by this tool); not labelling it`,
        );
        return;
      }
      const resourceVersion = live?.metadata?.resourceVersion;
      await deps.kube.patchStatefulSetLabels(
        cluster.namespace,
        statefulSetName,
        { [LABEL_ROUTING_OWNER]: owner },
        resourceVersion ? { resourceVersion } : undefined,
      );
      ctx.allocation.labelled[statefulSetName] = owner;
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 3) {
        deps.log.warn(
          `Could not label StatefulSet ${cluster.namespace}/${statefulSetName} ${LABEL_ROUTING_OWNER}=${owner}: ${messageOf(err)}`,
        );
        return;
      }
    }
    // Changed since the read (another owner's label, or only the controller's status): read and judge it again.
    live = (await refuseForeignRoutingOwner(deps, cluster, 'to restrict allocation')).get(statefulSetName);
  }
}

/**
 * Remove our routing-owner label: a compare-and-set on its value (the one this run wrote, else the one read now), so
 * a label another owner wrote in between is never removed. Never throws.
 */
async function removeOwnerLabel(ctx: OperationContext, sts: string, written: string | null): Promise<void> {
  const { deps, cluster } = ctx;
  let current: string | null | undefined = written ?? undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      if (current === undefined)
        current =
          (await deps.kube.getStatefulSet(cluster.namespace, sts))?.metadata?.labels?.[LABEL_ROUTING_OWNER] ?? null;
      if (!current) return;
      if (!isOwnRoutingOwner(current)) {
        deps.log.warn(
          `Leaving label ${LABEL_ROUTING_OWNER}=${current} on StatefulSet ${cluster.namespace}/${sts}: this tool did not write it`,
        );
        return;
      }
      await deps.kube.patchStatefulSetLabels(
        cluster.namespace,
        sts,
        { [LABEL_ROUTING_OWNER]: null },
        { labels: { [LABEL_ROUTING_OWNER]: current } },
      );
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 3) {
        deps.log.warn(
          `Could not remove label ${LABEL_ROUTING_OWNER} from StatefulSet ${cluster.namespace}/${sts}: ${messageOf(err)}`,
        );
        return;
      }
      current = undefined; // not the value we wrote (any more): read what it is
    }
  }
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
  for (const [sts, written] of Object.entries(ctx.allocation.labelled)) {
    // Only a label this tool wrote is removed (a resumed run labels every StatefulSet as possibly ours).
    await removeOwnerLabel(ctx, sts, written);
    if (opts.event !== false)
      await emitEvent(
        deps,
        { kind: 'StatefulSet', name: sts, namespace: cluster.namespace },
        EventReason.AllocationReset,
        `cluster.routing.allocation.enable reset (was ${value})`,
      );
  }
  ctx.allocation.labelled = {};
  // Staged: written with the next save (a rollout's 'done') or the release; a stale allocationSet only causes one
  // more (harmless) RESET.
  ctx.lease?.stage({ allocationSet: null });
  return true;
}
