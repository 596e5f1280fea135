// What one running operation (decommission, restart, rolling restart) holds: the lock, the
// abort signal, the cluster SQL connection (reads and writes, through a node not being drained), and the allocation setting it owns and must reset on every exit.
import { randomBytes } from 'node:crypto';
import { ClusterSql, SQL } from './cluster-sql.js';
import { emitEvent, EventReason } from './events.js';
import {
  EngineError,
  KubeApiError,
  OperationFailedError,
  anyFailure,
  errorKindOf,
  messageOf,
  type ErrorKind,
} from './errors.js';
import { ClusterLease, type GracefulStopValues } from './lease.js';
import { withFields } from './log.js';
import type { EngineDeps } from './ports.js';
import { cleanupPause, retry } from './retry.js';
import type { CrateDBCluster } from './schemas.js';

import { refuseControllerRoll } from './controller-roll.js';
import { restoreMinAvailabilityLabels } from './relocation-run.js';
import {
  LABEL_ROUTING_OWNER,
  isOwnRoutingOwner,
  ownRoutingOwnerValue,
  refuseForeignRoutingOwner,
} from './routing-owner.js';

export { LABEL_ROUTING_OWNER };

export interface OperationContext {
  /** deps with `signal` = the caller's signal OR the lease being lost. */
  deps: EngineDeps;
  cluster: CrateDBCluster;
  signal: AbortSignal;
  lease: ClusterLease | null;
  operationId: string;
  dryRun: boolean;
  /** SQL to the cluster, reads and writes (SETs, DECOMMISSION), through a pod that is not being drained. */
  clusterSql: ClusterSql;
  /** The allocation value this operation set and has not reset (null = nothing to reset). */
  allocation: { value: string | null; labelledStatefulSets: string[]; heir?: string | null };
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
    allocation: { value: lease?.progress.allocationSet ?? null, labelledStatefulSets: [] },
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
    ctx.allocation.labelledStatefulSets = cluster.statefulSets.map((s) => s.name);
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
    await resetAllocation(ctx);
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

// ---------------------------------------------------------------- cluster.graceful_stop.*

/** CrateDB's defaults of cluster.graceful_stop.timeout, .force and .min_availability. */
export const GRACEFUL_STOP_DEFAULTS = { timeout: '2h', force: false, minAvailability: 'PRIMARIES' } as const;

/** CrateDB time value ('720s', '2h', '500ms', bare number = ms) in ms, or null. */
function timeValueMs(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(nanos|micros|ms|s|m|h|d)?$/.exec(v.trim().toLowerCase());
  if (!m) return null;
  const f = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  return Number(m[1]) * f;
}

type GracefulStopLeaf = 'timeout' | 'force' | 'min_availability';

/** Is the remembered value the CrateDB default (or unknown, which is treated as the default)? */
function isGracefulStopDefault(leaf: GracefulStopLeaf, before: GracefulStopValues): boolean {
  if (leaf === 'timeout')
    return before.timeout === null || timeValueMs(before.timeout) === timeValueMs(GRACEFUL_STOP_DEFAULTS.timeout);
  if (leaf === 'force') return before.force !== true;
  return (
    before.minAvailability === null || before.minAvailability.toUpperCase() === GRACEFUL_STOP_DEFAULTS.minAvailability
  );
}

function leafValue(leaf: GracefulStopLeaf, before: GracefulStopValues): string {
  if (leaf === 'timeout') return before.timeout ?? GRACEFUL_STOP_DEFAULTS.timeout;
  if (leaf === 'force') return String(before.force ?? GRACEFUL_STOP_DEFAULTS.force);
  return before.minAvailability ?? GRACEFUL_STOP_DEFAULTS.minAvailability;
}

export function describeGracefulStop(before: GracefulStopValues): string {
  return (['timeout', 'force', 'min_availability'] as const)
    .map((leaf) => `${leaf}=${leafValue(leaf, before)}${isGracefulStopDefault(leaf, before) ? ' (default)' : ''}`)
    .join(', ');
}

/** The statement that puts one graceful_stop setting back: RESET when it was the default, else SET TRANSIENT. */
function restoreStatement(leaf: GracefulStopLeaf, before: GracefulStopValues): string {
  if (isGracefulStopDefault(leaf, before)) return SQL.resetGracefulStop(leaf);
  if (leaf === 'force') return SQL.setGracefulStopForce(true);
  return SQL.restoreGracefulStop(leaf, leafValue(leaf, before));
}

function asTimeValue(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return `${v}ms`;
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

/**
 * Before the manual strategy first SETs cluster.graceful_stop.*: read their effective values and record them in
 * the Lease (before the SET, so that a crashed run's retry still restores them). Once per operation: a second pod,
 * or a resumed run, keeps what was recorded first (a new read would see this operation's own values).
 * Throws when the values cannot be read: nothing has been changed yet, and without them they could not be restored.
 */
export async function rememberGracefulStop(ctx: OperationContext): Promise<void> {
  if (ctx.gracefulStop.before) return;
  let res;
  try {
    res = await ctx.clusterSql.query(SQL.gracefulStopSettings, [], { signal: ctx.signal });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    throw new OperationFailedError(
      `Could not read cluster.graceful_stop.* before changing them (nothing was changed): ${messageOf(err)}`,
      { cause: err },
    );
  }
  const row = res.rows[0] ?? [];
  const force = row[1];
  const before: GracefulStopValues = {
    timeout: asTimeValue(row[0]),
    force:
      typeof force === 'boolean'
        ? force
        : typeof force === 'string' && /^(true|false)$/i.test(force)
          ? force.toLowerCase() === 'true'
          : null,
    minAvailability: typeof row[2] === 'string' && row[2] ? row[2] : null,
  };
  ctx.gracefulStop.before = before;
  await ctx.lease?.save({ gracefulStopBefore: before });
  ctx.deps.log.info(
    `Remembered cluster.graceful_stop.* before changing them: ${describeGracefulStop(before)}; they are restored at the end`,
  );
}

/**
 * Put cluster.graceful_stop.* back as they were before this operation set them: a value that was the CrateDB
 * default is RESET (clears both levels); any other value is SET back as TRANSIENT (sys.cluster shows only the
 * effective value, not its level). Runs on every exit path, ignoring the operation signal. Never throws.
 * True when nothing of this operation is left to restore.
 */
export async function restoreGracefulStop(ctx: OperationContext): Promise<boolean> {
  const before = ctx.gracefulStop.before;
  if (!before) return true;
  const { deps } = ctx;
  try {
    const heir = await ctx.lease?.gracefulStopHeir().catch(() => null);
    if (heir) {
      ctx.gracefulStop.heir = heir;
      deps.log.warn(
        `Lost the lock; restoring cluster.graceful_stop.* (${describeGracefulStop(before)}) is left to ${heir}, which took it over`,
      );
      return false;
    }
    const failed: string[] = [];
    for (const leaf of ['timeout', 'force', 'min_availability'] as const) {
      const stmt = restoreStatement(leaf, before);
      let lastError = '';
      let ok = false;
      try {
        await retry(() => ctx.clusterSql.query(stmt, [], { timeoutMs: 30_000 }), {
          attempts: 3,
          retryable: anyFailure,
          beforeRetry: () => cleanupPause(deps),
        });
        ok = true;
      } catch (err) {
        lastError = messageOf(err);
      }
      if (ok) {
        deps.log.info(
          isGracefulStopDefault(leaf, before)
            ? `Restored cluster.graceful_stop.${leaf} to the CrateDB default ${leafValue(leaf, before)} (${stmt})`
            : `Restored cluster.graceful_stop.${leaf} = ${leafValue(leaf, before)} as a transient setting (${stmt})`,
        );
      } else {
        failed.push(stmt);
        deps.log.error(
          `Could not restore cluster.graceful_stop.${leaf} (was ${leafValue(leaf, before)}): ${lastError}. Run ${stmt} on the cluster`,
        );
      }
    }
    if (failed.length) return false;
    ctx.gracefulStop.before = null;
    try {
      await ctx.lease?.save({ gracefulStopBefore: null });
    } catch {
      // the lock is released next; a stale record only causes one more (harmless) restore
    }
    return true;
  } catch (err) {
    deps.log.error(`Could not restore cluster.graceful_stop.* (${describeGracefulStop(before)}): ${messageOf(err)}`);
    return false;
  }
}

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
  deps.log.info(`Set cluster.routing.allocation.enable = ${value} while a node restarts`);
  await emitEvent(
    deps,
    { kind: 'StatefulSet', name: statefulSetName, namespace: cluster.namespace },
    EventReason.AllocationRestricted,
    `cluster.routing.allocation.enable = ${value}`,
  );
}

/**
 * RESET the allocation setting if this operation set it, and remove our owner label. Runs on
 * every exit path, so it ignores the (possibly aborted) operation signal. Never throws.
 */
export async function resetAllocation(ctx: OperationContext): Promise<boolean> {
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
    await emitEvent(
      deps,
      { kind: 'StatefulSet', name: sts, namespace: cluster.namespace },
      EventReason.AllocationReset,
      `cluster.routing.allocation.enable reset (was ${value})`,
    );
  }
  ctx.allocation.labelledStatefulSets = [];
  try {
    await ctx.lease?.save({ allocationSet: null });
  } catch {
    // the lock is released next; a stale allocationSet only causes one more (harmless) RESET
  }
  return true;
}

/** Programming errors are bugs and must surface; everything else becomes a result. */
export function isBug(err: unknown): boolean {
  return (
    err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError
  );
}

export interface Failure {
  error: string;
  errorKind: ErrorKind;
}

export function failureOf(err: unknown, signal?: AbortSignal): Failure {
  if (isBug(err)) throw err;
  if (err instanceof EngineError) return { error: err.message, errorKind: err.kind };
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof EngineError) return { error: reason.message, errorKind: reason.kind };
    return { error: `Operation aborted: ${messageOf(reason ?? err)}`, errorKind: 'failed' };
  }
  // Forbidden: the caller's RBAC lacks a verb; a retry cannot help (bad input, exit 2, the Job fails at once).
  if (err instanceof KubeApiError && err.statusCode === 403) {
    return {
      error: `Kubernetes API error: ${err.reason} (${err.message}); check the runner's RBAC (kubectl crate-decommission rbac install)`,
      errorKind: 'bad_input',
    };
  }
  if (err instanceof KubeApiError)
    return { error: `Kubernetes API error: ${err.reason} (${err.message})`, errorKind: 'failed' };
  return { error: messageOf(err), errorKind: errorKindOf(err) };
}
