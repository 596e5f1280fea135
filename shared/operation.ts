// What one running operation (decommission, restart, rolling restart) holds: the lock, the
// abort signal, the SQL reader, and the allocation setting it owns and must reset on every exit.
import { randomBytes } from 'node:crypto';
import { ClusterSql, SQL } from './cluster-sql.js';
import { emitEvent, EventReason } from './events.js';
import { EngineError, KubeApiError, errorKindOf, messageOf, type ErrorKind } from './errors.js';
import { ClusterLease } from './lease.js';
import { withFields } from './log.js';
import type { EngineDeps } from './ports.js';
import type { CrateDBCluster } from './schemas.js';

export const LABEL_ROUTING_OWNER = 'dc-util-routing-owner';

export interface OperationContext {
  /** deps with `signal` = the caller's signal OR the lease being lost. */
  deps: EngineDeps;
  cluster: CrateDBCluster;
  signal: AbortSignal;
  lease: ClusterLease | null;
  operationId: string;
  dryRun: boolean;
  reader: ClusterSql;
  /** The allocation value this operation set and has not reset (null = nothing to reset). */
  allocation: { value: string | null; labelledStatefulSets: string[] };
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
  const lease = opts.dryRun
    ? null
    : await ClusterLease.acquire(deps, { namespace: cluster.namespace, clusterName: cluster.name, operationId: opts.operationId });
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
    reader: new ClusterSql(scoped, cluster),
    allocation: { value: lease?.progress.allocationSet ?? null, labelledStatefulSets: [] },
    scope,
  };
  if (ctx.allocation.value) {
    deps.log.info(`Resuming operation ${opts.operationId}: it had set cluster.routing.allocation.enable=${ctx.allocation.value}; it will be reset`);
    ctx.allocation.labelledStatefulSets = cluster.statefulSets.map((s) => s.name);
  }
  return ctx;
}

/** Reset allocation if we set it, then release the lock. Never throws. */
export async function closeOperation(ctx: OperationContext): Promise<boolean> {
  let reset = false;
  try {
    reset = await resetAllocation(ctx);
  } finally {
    await ctx.lease?.release();
  }
  return reset;
}

/** Restrict allocation for a node restart and label the StatefulSet as the setting's owner. */
export async function restrictAllocation(ctx: OperationContext, statefulSetName: string, value: string): Promise<void> {
  const { deps, cluster } = ctx;
  const owner = `crate-decommission-${Math.floor(deps.clock.now() / 1000)}`;
  try {
    await deps.kube.patchStatefulSetLabels(cluster.namespace, statefulSetName, { [LABEL_ROUTING_OWNER]: owner });
    if (!ctx.allocation.labelledStatefulSets.includes(statefulSetName)) ctx.allocation.labelledStatefulSets.push(statefulSetName);
  } catch (err) {
    deps.log.warn(`Could not label StatefulSet ${cluster.namespace}/${statefulSetName} ${LABEL_ROUTING_OWNER}=${owner}: ${messageOf(err)}`);
  }
  // Remember before sending: a crash right after the SET must still lead to a RESET.
  ctx.allocation.value = value;
  await ctx.lease?.save({ allocationSet: value });
  await ctx.reader.query(SQL.setAllocation(value), [], { signal: ctx.signal });
  deps.log.info(`Set cluster.routing.allocation.enable = ${value} while a node restarts`);
  await emitEvent(deps, { kind: 'StatefulSet', name: statefulSetName, namespace: cluster.namespace }, EventReason.AllocationRestricted, `cluster.routing.allocation.enable = ${value}`);
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
    deps.log.warn(`Lost the lock; cluster.routing.allocation.enable=${value} is left to ${heir}, which took it over and resets it at its end`);
    return false;
  }
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await ctx.reader.query(SQL.resetAllocation, [], { timeoutMs: 30_000 });
      ctx.allocation.value = null;
      break;
    } catch (err) {
      lastError = messageOf(err);
      await deps.clock.delay(Math.max(100, deps.pollIntervalMs ?? 1000)).catch(() => {});
    }
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
      await deps.kube.patchStatefulSetLabels(cluster.namespace, sts, { [LABEL_ROUTING_OWNER]: null });
    } catch (err) {
      deps.log.warn(`Could not remove label ${LABEL_ROUTING_OWNER} from StatefulSet ${cluster.namespace}/${sts}: ${messageOf(err)}`);
    }
    await emitEvent(deps, { kind: 'StatefulSet', name: sts, namespace: cluster.namespace }, EventReason.AllocationReset, `cluster.routing.allocation.enable reset (was ${value})`);
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
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError;
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
    return { error: `Kubernetes API error: ${err.reason} (${err.message}); check the runner's RBAC (kubectl crate-decommission rbac install)`, errorKind: 'bad_input' };
  }
  if (err instanceof KubeApiError) return { error: `Kubernetes API error: ${err.reason} (${err.message})`, errorKind: 'failed' };
  return { error: messageOf(err), errorKind: errorKindOf(err) };
}
