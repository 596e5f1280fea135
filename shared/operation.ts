// What one running operation (decommission, restart, rolling restart) holds: the lock, the abort signal, the SQL
// reader, the log scope, and what it must put back on every exit (closeOperation: allocation.ts, graceful-stop.ts,
// the min-availability labels). Failures as results: failure.ts.
import { randomBytes } from 'node:crypto';
import { ClusterSql } from './cluster-sql.js';
import { messageOf, type ErrorKind } from './errors.js';
import { ClusterLease, type GracefulStopValues } from './lease.js';
import { withFields } from './log.js';
import type { EngineDeps } from './ports.js';
import type { CrateDBCluster } from './schemas.js';

import { resetAllocation } from './allocation.js';
import { failureOf, type Failure } from './failure.js';
import { describeGracefulStop, restoreGracefulStop } from './graceful-stop.js';
import { restoreMinAvailabilityLabels } from './relocation-run.js';
import { LABEL_ROUTING_OWNER, refuseForeignRoutingOwner } from './routing-owner.js';

export { LABEL_ROUTING_OWNER };

export interface OperationContext {
  /** deps with `signal` = the caller's signal OR the lease being lost. */
  deps: EngineDeps;
  cluster: CrateDBCluster;
  signal: AbortSignal;
  lease: ClusterLease | null;
  operationId: string;
  dryRun: boolean;
  clusterSql: ClusterSql;
  /**
   * The allocation value this operation set and has not reset (null = nothing to reset), and the StatefulSets it
   * labelled as the setting's owner: name -> the label value it wrote (null: unknown, a resumed run's possibly ours).
   */
  allocation: { value: string | null; labelled: Record<string, string | null>; heir?: string | null };
  /** cluster.graceful_stop.* as they were before this operation first set them (null = nothing to restore). */
  gracefulStop: { before: GracefulStopValues | null; heir?: string | null };
  /** dc-util-min-availability labels this operation set to NONE: StatefulSet -> value before (null = none); null = nothing to restore. */
  minAvailabilityLabels: { before: Record<string, string | null> | null; heir?: string | null };
  /** Fields added to every log line: the pod and step in progress (the plugin renders them). */
  scope: LogScope;
}

export interface LogScope {
  pod?: string;
  step?: string;
  strategy?: string;
}

/** Name the pod/step the following log lines are about. */
export function setScope(ctx: OperationContext, scope: LogScope): void {
  Object.assign(ctx.scope, scope);
}

export function clearScope(ctx: OperationContext): void {
  for (const k of Object.keys(ctx.scope) as (keyof LogScope)[]) delete ctx.scope[k];
}

/**
 * A fresh operation id (when the caller gives none). Unique even for two runs started in the same second:
 * a Lease held by the same operation id is taken over at once (resume), so a shared id would let two
 * live runs act on the cluster together.
 */
export function newOperationId(kind: string, target: string, now: number): string {
  return `${`${kind}-${target}-${Math.floor(now / 1000)}`.slice(0, 113)}-${randomBytes(3).toString('hex')}`;
}

function combineSignals(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal {
  const signals = [a, b].filter((s): s is AbortSignal => !!s);
  if (signals.length === 0) return new AbortController().signal;
  if (signals.length === 1) return signals[0]!;
  return AbortSignal.any(signals);
}

/** Take the lock (unless dry run) and build the context. Throws LockedError. */
export async function openOperation(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  opts: { operationId: string; dryRun: boolean },
): Promise<OperationContext> {
  // crate-operator's own restart owns the allocation setting (a foreign dc-util-routing-owner label younger than 2 h):
  // refuse before anything is written (exit 5). A dry run only says it would refuse.
  if (!opts.dryRun) await refuseForeignRoutingOwner(deps, cluster);
  else
    await refuseForeignRoutingOwner(deps, cluster).catch((err: unknown) =>
      deps.log.warn(`Would refuse: ${messageOf(err)}`),
    );
  const lease = opts.dryRun
    ? null
    : await ClusterLease.acquire(deps, {
        namespace: cluster.namespace,
        clusterName: cluster.name,
        operationId: opts.operationId,
      });
  const signal = combineSignals(deps.signal, lease?.lost);
  const scope: LogScope = {};
  const scoped: EngineDeps = { ...deps, signal, log: withFields(deps.log, () => ({ ...scope })) };
  const ctx: OperationContext = {
    deps: scoped,
    cluster,
    signal,
    lease,
    operationId: opts.operationId,
    dryRun: opts.dryRun,
    clusterSql: new ClusterSql(scoped, cluster),
    allocation: { value: lease?.progress.allocationSet ?? null, labelled: {} },
    gracefulStop: { before: lease?.progress.gracefulStopBefore ?? null },
    minAvailabilityLabels: { before: lease?.progress.minAvailabilityLabels ?? null },
    scope,
  };
  if (ctx.gracefulStop.before) {
    deps.log.info(
      `Resuming operation ${opts.operationId}: it had changed cluster.graceful_stop.* (before: ${describeGracefulStop(ctx.gracefulStop.before)}); they will be restored`,
    );
  }
  if (ctx.minAvailabilityLabels.before) {
    deps.log.info(
      `Resuming operation ${opts.operationId}: it had set label dc-util-min-availability=NONE on ${Object.keys(ctx.minAvailabilityLabels.before).join(', ')}; it will be restored`,
    );
  }
  if (ctx.allocation.value) {
    deps.log.info(
      `Resuming operation ${opts.operationId}: it had set cluster.routing.allocation.enable=${ctx.allocation.value}; it will be reset`,
    );
    ctx.allocation.labelled = Object.fromEntries(cluster.statefulSets.map((s) => [s.name, null]));
  }
  return ctx;
}

/** What closeOperation left behind: each false is a failure of the operation (success false, exit code 1). */
export interface CloseOutcome {
  /** No allocation restriction of this run is left (nothing was set, or it was reset). */
  allocationReset: boolean;
  /** No cluster.graceful_stop.* change of this run is left (nothing was changed, or it was restored). */
  gracefulStopRestored: boolean;
  /** What is left and what to do about it, one clause each ('' when nothing). */
  problem: string;
}

/** Reset allocation and restore cluster.graceful_stop.* if we set them, then release the lock. Never throws. */
export async function closeOperation(ctx: OperationContext): Promise<CloseOutcome> {
  try {
    // A RESET on this exit path is written at once (its record is only staged): a Lease lost meanwhile is noticed
    // before the graceful_stop and label restores below, which are then left to the run that took it over.
    if (await resetAllocation(ctx)) await ctx.lease?.save({}).catch(() => {});
  } catch (err) {
    ctx.deps.log.error(`Could not reset cluster.routing.allocation.enable: ${messageOf(err)}`);
  } finally {
    try {
      await restoreGracefulStop(ctx);
    } finally {
      try {
        await restoreMinAvailabilityLabels(ctx);
      } catch (err) {
        ctx.deps.log.error(`Could not restore label dc-util-min-availability: ${messageOf(err)}`);
      } finally {
        await ctx.lease?.release();
      }
    }
  }
  return closeOutcome(ctx);
}

/** The outcome of closeOperation from what the context still holds. */
function closeOutcome(ctx: OperationContext): CloseOutcome {
  const problems: string[] = [];
  const left = ctx.allocation.value;
  if (left) {
    problems.push(
      ctx.allocation.heir
        ? `cluster.routing.allocation.enable=${left} is left to ${ctx.allocation.heir}, which took the lock over`
        : `allocation setting could not be reset (cluster.routing.allocation.enable is still ${left}; run RESET GLOBAL "cluster.routing.allocation.enable")`,
    );
  }
  const gs = ctx.gracefulStop.before;
  if (gs) {
    problems.push(
      ctx.gracefulStop.heir
        ? `restoring cluster.graceful_stop.* (${describeGracefulStop(gs)}) is left to ${ctx.gracefulStop.heir}, which took the lock over`
        : `cluster.graceful_stop.* could not be restored (they were ${describeGracefulStop(gs)}; see the log for the statements to run)`,
    );
  }
  const labels = ctx.minAvailabilityLabels.before;
  if (labels) {
    const names = Object.keys(labels).join(', ');
    problems.push(
      ctx.minAvailabilityLabels.heir
        ? `restoring label dc-util-min-availability on ${names} is left to ${ctx.minAvailabilityLabels.heir}, which took the lock over`
        : `label dc-util-min-availability=NONE could not be restored on ${names} (see the log for the kubectl label command to run)`,
    );
  }
  return { allocationReset: !left, gracefulStopRestored: !gs, problem: problems.join('; ') };
}

/**
 * Fold closeOperation's outcome into a single-pod result: anything left behind makes it a failure (exit 1),
 * with the reason appended to the error.
 */
export function withCloseOutcome<
  T extends {
    success: boolean;
    error: string | null;
    errorKind: ErrorKind | null;
    allocationReset?: boolean | undefined;
    gracefulStopRestored?: boolean | undefined;
  },
>(result: T, outcome: CloseOutcome): T {
  const r = { ...result, allocationReset: outcome.allocationReset, gracefulStopRestored: outcome.gracefulStopRestored };
  if (!outcome.problem) return r;
  return {
    ...r,
    success: false,
    error: r.error ? `${r.error}; ${outcome.problem}` : outcome.problem,
    errorKind: r.errorKind ?? 'failed',
  };
}

/**
 * A single-pod operation at top level (decommission, restart): open it (the lock), run `body`, close it on every
 * exit. A failure to open is `openFailed`'s result; what closing left behind (logged as `what`: problem) makes the
 * result a failure (exit 1), as for rollingRestart.
 */
export async function inSinglePodOperation<R extends Parameters<typeof withCloseOutcome>[0]>(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  opts: { operationId: string; dryRun: boolean },
  what: string,
  openFailed: (f: Failure) => R,
  body: (ctx: OperationContext) => Promise<R>,
): Promise<R> {
  let ctx: OperationContext;
  try {
    ctx = await openOperation(deps, cluster, opts);
  } catch (err) {
    const f = failureOf(err);
    deps.log.error(f.error);
    return openFailed(f);
  }
  let result: R;
  let closed: CloseOutcome;
  try {
    result = await body(ctx);
  } finally {
    closed = await closeOperation(ctx);
  }
  if (closed.problem) deps.log.error(`${what}: ${closed.problem}`);
  return withCloseOutcome(result, closed);
}
