// Stall break. CrateDB 6.4.3 (still on master) decrements a coordinating node's active-request counter once too
// often per retried read (retried after NodeNotConnectedException / ShardNotFoundException, which ordinary client
// reads hit whenever another node leaves or a replica recovers; observed on CrateDB 6.4.3). The counter goes negative,
// the graceful stop's exit check waits for exactly 0, and the node waits the whole cluster.graceful_stop.timeout
// although nothing runs on it. So: once the drain is done (no primary on the node, no shard relocating; all shards
// off it under FULL; nothing under NONE), the node refuses SQL (it is draining) and sys.jobs / sys.operations show
// no job coordinated by it and no job part on it for the idle period, the engine stops it itself. That evidence
// exists only with stats.enabled = true; without it the engine waits as before and says why.
import { SqlConnectionError, messageOf } from './errors.js';
import { emitEvent, EventReason } from './events.js';
import type { OperationContext } from './operation.js';
import type { SqlTransport } from './ports.js';
import { livePodInfo } from './cluster-sql.js';
import { describeActivity, nodeActivity, WAIT_SQL } from './wait-state.js';
import { abortReason, formatSeconds } from './wait.js';

/** Engine ms between two stall checks (CrateDB itself checks every 5 s). */
const STALL_CHECK_MS = 5_000;
/** No check before this: a healthy node exits about 10 s after its DECOMMISSION returned (observed on CrateDB 6.4.3). */
const STALL_FIRST_CHECK_MS = 10_000;

export interface StallTarget {
  podName: string;
  uid: string;
  nodeName: string;
  containerName: string;
  strategy: 'manual' | 'kubernetes_managed';
  /** Under manual: the min_availability this run set; under kubernetes_managed dc_util's (read from sys.cluster). */
  minAvailability?: string;
  idleSeconds: number;
  /** The graceful-stop timeout the node would otherwise wait for (for the log line). */
  timeoutSeconds: number;
}

export type StallOutcome = { broken: true; reason: string } | { broken: false; reason: string };

/** Does the node still answer SQL normally (so it is not draining)? Asked directly. */
async function nodeAnswersSql(ctx: OperationContext, podName: string, signal: AbortSignal): Promise<boolean> {
  const known = ctx.cluster.pods.find((p) => p.name === podName);
  const live = await ctx.deps.kube.getPod(ctx.cluster.namespace, podName);
  if (!known || !live) return false;
  const info = livePodInfo(live, known);
  const t: SqlTransport =
    ctx.clusterSql.defaultKind === 'exec'
      ? ctx.deps.sql.exec(ctx.cluster.namespace, info, ctx.cluster.sql)
      : ctx.deps.sql.http(ctx.cluster.namespace, info, ctx.cluster.sql);
  try {
    await t.query('SELECT 1', [], { timeoutMs: 10_000, signal });
    return true;
  } catch (err) {
    if (signal.aborted) throw err;
    return false;
  }
}

/**
 * Is the node's drain done for this min_availability? Returns why not (pending) or null when done, and the
 * min_availability it judged by (the target's, else the cluster's graceful_stop setting, which dc_util sets).
 */
async function drainPending(
  ctx: OperationContext,
  t: StallTarget,
  signal: AbortSignal,
): Promise<{ pending: string | null; min: string }> {
  const q = (stmt: string, args: unknown[] = []) => ctx.clusterSql.query(stmt, args, { signal, timeoutMs: 10_000 });
  let min = t.minAvailability?.toUpperCase();
  if (!min) {
    const r = await q(WAIT_SQL.minAvailability);
    min = String(r.rows[0]?.[0] ?? 'PRIMARIES').toUpperCase();
  }
  if (min === 'NONE') return { pending: null, min };
  const primaries = Number((await q(WAIT_SQL.primariesOnNode, [t.nodeName])).rows[0]?.[0] ?? 0);
  if (primaries > 0) return { pending: `${primaries} primaries still on node ${t.nodeName}`, min };
  if (min === 'FULL') {
    const all = Number((await q(WAIT_SQL.shardsOnNode, [t.nodeName])).rows[0]?.[0] ?? 0);
    if (all > 0) return { pending: `${all} shards still on node ${t.nodeName} (min_availability FULL)`, min };
  }
  const moving = await q(WAIT_SQL.movingShards);
  const relocating = moving.rows
    .filter((r) => String(r[2]) === 'RELOCATING')
    .reduce((n, r) => n + (Number(r[3]) || 0), 0);
  if (relocating > 0) return { pending: `${relocating} shards relocating`, min };
  return { pending: null, min };
}

/**
 * Watch a draining node until it is stalled, then stop it: manual -> resolve (the caller deletes the pod with
 * grace 30 as after an exit); kubernetes_managed -> signal its CrateDB process (SIGTERM to the container's pid 1,
 * what dc_util waits for) and resolve. Resolves { broken: false } when stats.enabled is false (no evidence: the
 * caller waits as before). Runs until `signal` aborts (rejects with its reason); check errors only delay it.
 */
export async function watchStall(ctx: OperationContext, t: StallTarget, signal: AbortSignal): Promise<StallOutcome> {
  const { deps } = ctx;
  const everyMs = Math.max(deps.pollIntervalMs ?? 1000, STALL_CHECK_MS);
  let idleSince: number | null = null;
  let lastWhy = '';
  let judgedMin = t.minAvailability?.toUpperCase() ?? 'PRIMARIES';
  await deps.clock.delay(Math.max(0, STALL_FIRST_CHECK_MS - everyMs), signal);
  for (;;) {
    await deps.clock.delay(everyMs, signal);
    if (signal.aborted) throw abortReason(signal);
    let why: string | null;
    try {
      const activity = await nodeActivity(ctx, t.nodeName, signal);
      if (!activity.statsEnabled) {
        const reason = `stall break not possible for node ${t.nodeName}: stats.enabled is false, so sys.jobs and sys.operations stay empty and give no evidence that the node is idle; waiting for it to exit (up to the ${formatSeconds(t.timeoutSeconds)} graceful-stop timeout) as before`;
        deps.log.info(reason, { stall: { node: t.nodeName, statsEnabled: false } });
        return { broken: false, reason };
      }
      const busy = activity.jobs.length > 0 || activity.operations.length > 0;
      if (busy) why = describeActivity(t.nodeName, activity);
      else {
        const drain = await drainPending(ctx, t, signal);
        why = drain.pending;
        judgedMin = drain.min;
      }
      if (why === null && (await nodeAnswersSql(ctx, t.podName, signal)))
        why = `node ${t.nodeName} still answers SQL (not draining)`;
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      why = `could not read the node's state (${err instanceof SqlConnectionError ? err.message : messageOf(err)})`;
    }
    const now = deps.clock.now();
    if (why !== null) {
      if (why !== lastWhy) deps.log.debug(`Stall check for node ${t.nodeName}: not idle: ${why}`);
      lastWhy = why;
      idleSince = null;
      continue;
    }
    idleSince ??= now;
    const idleForSeconds = (now - idleSince) / 1000;
    if (idleForSeconds < t.idleSeconds) continue;
    const evidence = `the drain is done (${judgedMin === 'NONE' ? 'min_availability NONE: nothing must move' : judgedMin === 'FULL' ? 'no shard on it, none relocating' : 'no primary on it, no shard relocating'}), it refuses SQL (draining) and sys.jobs / sys.operations showed no job coordinated by it and no job part on it for ${formatSeconds(idleForSeconds)}`;
    const cause =
      "yet it has not exited: CrateDB 6.4.3's active-request counter leaks on retried reads (it goes negative, and the graceful stop waits for exactly 0)";
    const action =
      t.strategy === 'manual'
        ? `deleting pod ${t.podName} (grace period 30s) as after its exit`
        : `signalling its CrateDB process (kill -TERM 1 in container ${t.containerName}, the exit dc_util waits for)`;
    const reason = `Stall break: node ${t.nodeName}: ${evidence}, ${cause}, so it would wait until the ${formatSeconds(t.timeoutSeconds)} graceful-stop timeout; ${action} (--no-stall-break waits instead)`;
    deps.log.warn(reason, {
      stall: { node: t.nodeName, idleSeconds: Math.round(idleForSeconds), strategy: t.strategy },
    });
    await emitEvent(
      deps,
      { kind: 'Pod', name: t.podName, namespace: ctx.cluster.namespace, uid: t.uid },
      EventReason.StallBroken,
      reason,
      { type: 'Warning' },
    );
    if (t.strategy === 'kubernetes_managed') {
      try {
        const res = await deps.kube.exec(
          ctx.cluster.namespace,
          t.podName,
          t.containerName,
          ['sh', '-c', 'kill -TERM 1'],
          { timeoutMs: 30_000 },
        );
        if (res.exitCode !== 0)
          deps.log.warn(`Stall break: kill -TERM 1 in pod ${t.podName} exited ${res.exitCode}: ${res.stderr.trim()}`);
      } catch (err) {
        deps.log.warn(
          `Stall break: could not signal the CrateDB process of pod ${t.podName}: ${messageOf(err)}; waiting for dc_util as before`,
        );
        return { broken: false, reason: messageOf(err) };
      }
    }
    return { broken: true, reason };
  }
}
