// Decommission one CrateDB pod with the strategy its StatefulSet calls for: kubernetes_managed
// (delete with dc_util's grace period, dc_util drains in preStop) or manual (we drain with ALTER
// CLUSTER DECOMMISSION, wait for the process to exit, then delete the pod before it restarts in place).
import type { V1ContainerStateTerminated, V1Pod } from '@kubernetes/client-node';
import { SQL, livePodInfo } from './cluster-sql.js';
import { emitEvent, EventReason } from './events.js';
import {
  BadInputError,
  CrateSqlError,
  KubeApiError,
  OperationFailedError,
  SqlConnectionError,
  messageOf,
} from './errors.js';
import { inSinglePodOperation, newOperationId, setScope, type OperationContext } from './operation.js';
import { restrictAllocation } from './allocation.js';
import { unlistedPodInfo } from './discovery.js';
import { failureOf, isBug } from './failure.js';
import { rememberGracefulStop } from './graceful-stop.js';
import type { EngineDeps, SqlTransport } from './ports.js';
import {
  DecommissionInput,
  DecommissionResult,
  type DecommissionOptions,
  type PodInfo,
  type StatefulSetInfo,
  type Strategy,
} from './schemas.js';
import { FIRST_POLL_MS, abortReason, pollUntil, podReady, startHeartbeat, waitForPod } from './wait.js';
import type { PodProgress } from './lease.js';
import { singlePodPreflight } from './preflight.js';
import { heartbeatFor } from './wait-state.js';
import { nextManualStep, type ManualResumeState, type ManualStep, type RedrainReason } from './manual-resume.js';
import { watchStall, type StallTarget } from './stall.js';
import { podStrategyOf } from './detect/index.js';
import { refuseForeignRoutingOwner } from './routing-owner.js';
import { refuseControllerRoll } from './controller-roll.js';
import {
  LABEL_DC_UTIL_MIN_AVAILABILITY,
  fixedMinAvailability,
  labelForDrain,
  restoreMinAvailabilityLabels,
} from './relocation-run.js';

/** Grace period of the pod delete after the manual decommission (the process has already exited). */
export const MANUAL_DELETE_GRACE_SECONDS = 30;
/** Extra time on top of graceful_stop.timeout before the manual strategy gives up. */
export const MANUAL_TIMEOUT_MARGIN_SECONDS = 60;
/** Extra time on top of a delete's grace period for the pod object to disappear. */
const DELETE_MARGIN_SECONDS = 60;

const py = (b: boolean) => (b ? 'True' : 'False');

interface PodTarget {
  pod: V1Pod;
  info: PodInfo;
  sts: StatefulSetInfo;
}

/** Find the pod and its StatefulSet's detection; a failure result when it is not there. */
async function resolvePod(ctx: OperationContext, podName: string): Promise<PodTarget> {
  const { cluster, deps } = ctx;
  let pod = await deps.kube.getPod(cluster.namespace, podName);
  if (!pod && ctx.lease?.progress.current?.pod === podName) {
    // Resuming: the pod was deleted by the crashed run and is being re-created.
    deps.log.info(`Resuming: pod ${podName} is being re-created; waiting for it`);
    pod = await waitForPod(deps.kube, cluster.namespace, podName, (p) => p !== null, {
      timeoutMs: 300_000,
      signal: ctx.signal,
      clock: deps.clock,
      timeoutMessage: `Pod not found: ${podName}`,
      heartbeat: heartbeatFor(ctx, `pod ${podName} to be re-created`, { pod: podName }),
    });
  }
  if (!pod) throw new BadInputError(`Pod not found: ${podName}`);
  const ownerName = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet')?.name;
  const known = cluster.pods.find((p) => p.name === podName);
  const sts = cluster.statefulSets.find((s) => s.name === (known?.statefulSetName ?? ownerName));
  if (!sts)
    throw new BadInputError(`Pod ${cluster.namespace}/${podName} is not part of CrateDB cluster ${cluster.name}`);
  const base: PodInfo =
    known ??
    unlistedPodInfo(sts, podName, Number(podName.slice(podName.lastIndexOf('-') + 1)) || 0, {
      uid: pod.metadata?.uid ?? '',
      masterEligible: true,
    });
  if (!known) cluster.pods.push(base);
  // The pod's own spec decides the strategy (issue 8 item 3): under OnDelete it may predate the template.
  return { pod, info: livePodInfo(pod, base), sts: podStrategyOf(sts, pod, deps.log) };
}

function baseResult(
  podName: string,
  namespace: string,
  strategy: Strategy,
  startedAt: number,
  dryRun: boolean,
  decommissionTimeoutSeconds: number,
): DecommissionResult {
  return DecommissionResult.parse({
    podName,
    namespace,
    strategyUsed: strategy,
    success: false,
    duration: 0,
    startedAt: new Date(startedAt).toISOString(),
    decommissionTimeout: decommissionTimeoutSeconds,
    dryRun,
  });
}

/** The progress entry of this pod left by a crashed run of the same operation, if any. */
function resumeEntry(ctx: OperationContext, target: PodTarget): PodProgress | null {
  const current = ctx.lease?.progress.current;
  if (!current || current.pod !== target.info.name) return null;
  return current;
}

async function saveProgress(ctx: OperationContext, current: PodProgress | null): Promise<void> {
  await ctx.lease?.save({ current });
}

/**
 * Record a step that resumes exactly as the one before it without writing it now: it goes out with the next Lease
 * write (docs/engine.md, "Lock and resume": which steps are written when).
 */
function stageProgress(ctx: OperationContext, current: PodProgress): void {
  ctx.lease?.stage({ current });
}

/** Wait until the pod with `oldUid` is gone (deleted, or replaced by a new uid). */
async function waitOldPodGone(
  ctx: OperationContext,
  podName: string,
  oldUid: string,
  timeoutSeconds: number,
  node?: string | null,
): Promise<V1Pod | null> {
  return waitForPod(ctx.deps.kube, ctx.cluster.namespace, podName, (p) => p === null || p.metadata?.uid !== oldUid, {
    timeoutMs: timeoutSeconds * 1000,
    signal: ctx.signal,
    clock: ctx.deps.clock,
    timeoutMessage: `Pod ${podName} was not deleted within ${timeoutSeconds}s`,
    heartbeat: heartbeatFor(
      ctx,
      node
        ? `pod ${podName} to terminate (dc_util drains node ${node} in its preStop hook)`
        : `pod ${podName} to terminate`,
      { pod: podName, uid: oldUid, node: node ?? null },
    ),
  });
}

/** Delete with a UID precondition; "Failed to delete pod: <reason>" on an API error. Absent = fine. */
async function deletePod(
  ctx: OperationContext,
  podName: string,
  uid: string,
  gracePeriodSeconds: number,
): Promise<void> {
  // The delete takes no signal: a run that lost its Lease (or was cancelled) during the progress
  // save just before must not delete a pod while another run may be restarting a different one.
  if (ctx.signal.aborted) throw abortReason(ctx.signal);
  try {
    await ctx.deps.kube.deletePod(ctx.cluster.namespace, podName, { gracePeriodSeconds, uid });
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 404) {
      ctx.deps.log.info(`Pod ${podName} is already gone`);
      return;
    }
    if (err instanceof KubeApiError && err.statusCode === 409) {
      ctx.deps.log.warn(`Pod ${podName} was already replaced (uid ${uid} is gone); not deleting the new pod`);
      return;
    }
    if (err instanceof KubeApiError && err.statusCode === 403) {
      // Missing RBAC is bad input (exit 2): a retry of the Job cannot help, so it fails at once.
      // The documented error text (docs/engine.md) stays the error; the log says what to do.
      ctx.deps.log.error(
        `${err.message}: this identity may not delete pods; grant it (kubectl crate-decommission rbac install -n ${ctx.cluster.namespace})`,
      );
      throw new BadInputError(`Failed to delete pod: ${err.reason}`, { cause: err });
    }
    if (err instanceof KubeApiError)
      throw new OperationFailedError(`Failed to delete pod: ${err.reason}`, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------- kubernetes_managed

async function kubernetesManaged(
  ctx: OperationContext,
  target: PodTarget,
  result: DecommissionResult,
  options: DecommissionOptions,
): Promise<void> {
  const { deps, cluster } = ctx;
  const { info, sts } = target;
  const deleteGracePeriodSeconds = sts.detection.deleteGracePeriodSeconds;
  deps.log.info(`Using Kubernetes-managed decommission for pod ${info.name}`);
  deps.log.info('PreStop hook with dc_util will handle decommission automatically');
  deps.log.info(`Will delete pod ${info.name} with grace period ${deleteGracePeriodSeconds}s for dc_util`, {
    effectiveDcUtilTimeoutSeconds: sts.detection.dcUtilTimeoutSeconds,
    terminationGracePeriodSeconds: sts.detection.terminationGracePeriodSeconds,
  });
  if (ctx.dryRun) {
    if (options.relocation && options.minAvailability === 'NONE') {
      deps.log.info(
        `Would set label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE on StatefulSet ${sts.name} (recorded in the Lease) so that dc_util drains node ${info.nodeName ?? '?'} without relocating, and restore it once the pod is gone`,
      );
    } else if (options.relocation) {
      deps.log.info(
        `dc_util drains node ${info.nodeName ?? '?'} with its own min_availability ${sts.detection.minAvailability}`,
      );
    }
    if (options.stallBreak)
      deps.log.info(stallPlanLine(info.nodeName, options, 'signal its CrateDB process (kill -TERM 1)'));
    return;
  }
  setScope(ctx, { step: 'delete' });
  const resume = resumeEntry(ctx, target);
  const oldUid = resume && resume.oldUid !== info.uid ? resume.oldUid : info.uid;
  result.oldUid = oldUid;
  if (resume && info.uid !== resume.oldUid) {
    deps.log.info(`Resuming: pod ${info.name} was already deleted and re-created by an earlier run`);
  } else if (resume && info.deleting) {
    deps.log.info(`Resuming: pod ${info.name} is already being deleted by an earlier run; following it`);
  } else {
    // crate-operator may have started its own restart since this operation began (it deletes pods on its own):
    // refuse (LockedError) before this delete, as restrictAllocation does for the manual strategy.
    // One read of each StatefulSet serves both checks and the label below.
    const read = await refuseForeignRoutingOwner(deps, cluster, `to delete pod ${info.name}`);
    await refuseControllerRoll(deps, cluster.namespace, sts.name, `to delete pod ${info.name}`, read.get(sts.name));
    // dc_util reads dc-util-min-availability in preStop: NONE for a drain without relocation, else its own value.
    await labelForDrain(ctx, sts.name, options, read.get(sts.name));
    await saveProgress(ctx, { pod: info.name, oldUid, nodeName: info.nodeName, step: 'deleting' });
    const how =
      options.relocation && options.minAvailability === 'NONE' ? ' with min_availability NONE (no relocation)' : '';
    await emitEvent(
      deps,
      { kind: 'Pod', name: info.name, namespace: cluster.namespace, uid: oldUid },
      EventReason.DecommissionStarted,
      `Deleting with grace period ${deleteGracePeriodSeconds}s; dc_util decommissions node ${info.nodeName ?? '?'} in preStop${how}`,
    );
    await deletePod(ctx, info.name, oldUid, deleteGracePeriodSeconds);
  }
  // dc_util drains; should the node stall after the drain (CrateDB 6.4.3's counter leak), the engine signals it.
  const stopStall = new AbortController();
  const stall =
    options.stallBreak && info.nodeName && info.uid === oldUid
      ? watchStall(
          ctx,
          {
            podName: info.name,
            uid: oldUid,
            nodeName: info.nodeName,
            containerName: info.containerName,
            strategy: 'kubernetes_managed',
            idleSeconds: options.stallIdleSeconds,
            timeoutSeconds: sts.detection.dcUtilTimeoutSeconds,
          },
          AbortSignal.any([ctx.signal, stopStall.signal]),
        ).catch(() => null)
      : null;
  try {
    await waitOldPodGone(ctx, info.name, oldUid, deleteGracePeriodSeconds + DELETE_MARGIN_SECONDS, info.nodeName);
  } finally {
    stopStall.abort(new Error('pod gone'));
    await stall;
  }
  result.processExited = true;
  deps.log.info(`Pod ${info.name} has been deleted`);
  // dc_util has read the label (its preStop is over): our NONE never outlives the pod it was decided for.
  await restoreMinAvailabilityLabels(ctx, [sts.name]);
  // Staged, not written: with the old pod gone a resume of 'deleting' decides as one of 'deleted' (re-created).
  stageProgress(ctx, { pod: info.name, oldUid, nodeName: info.nodeName, step: 'deleted' });
  await emitEvent(
    deps,
    { kind: 'Pod', name: info.name, namespace: cluster.namespace, uid: oldUid },
    EventReason.PodDeleted,
    `Pod deleted after dc_util decommissioned node ${info.nodeName ?? '?'}`,
  );
  deps.log.info(`Kubernetes-managed decommission completed for pod ${info.name}`);
}

// ---------------------------------------------------------------- manual

/** Choose the transport for ALTER CLUSTER DECOMMISSION: HTTP when the user may, else exec. */
async function decommissionTransport(
  ctx: OperationContext,
  target: PodTarget,
): Promise<{ transport: SqlTransport; via: 'http' | 'exec' }> {
  const { deps, cluster } = ctx;
  // Send through another node when there is one: the draining node stops answering.
  const others = cluster.pods.filter((p) => p.name !== target.info.name);
  const readKind = ctx.clusterSql.defaultKind;
  // Over exec every statement runs as crate, the superuser: no need to ask.
  let superuser = readKind === 'exec' ? true : cluster.sql.superuser;
  if (superuser === null) {
    try {
      const res = await ctx.clusterSql.query(SQL.superuser, [], { signal: ctx.signal });
      const v = res.rows[0]?.[0];
      superuser = typeof v === 'boolean' ? v : null;
    } catch (err) {
      deps.log.debug(`Could not tell whether the HTTP user is a superuser: ${messageOf(err)}`);
    }
  }
  const user = cluster.sql.credentials?.username ?? 'crate';
  if (superuser !== false) {
    const via =
      (await ctx.clusterSql.transportTo(ctx.clusterSql.currentPod ?? others[0]?.name ?? target.info.name)) ??
      (await ctx.clusterSql.transportTo(target.info.name));
    if (via) return { transport: via.transport, via: readKind };
  }
  for (const p of [...others, target.info]) {
    const t = await ctx.clusterSql.transportTo(p.name, 'exec');
    if (!t) continue;
    deps.log.info(
      `Sending ALTER CLUSTER DECOMMISSION through exec into pod ${p.name} container ${t.pod.containerName} as crate: the HTTP user ${user} is not a superuser, and only the superuser crate (trusted from localhost) may decommission`,
    );
    return { transport: t.transport, via: 'exec' };
  }
  throw new OperationFailedError(`No pod of cluster ${cluster.name} to exec into for ALTER CLUSTER DECOMMISSION`);
}

async function sendDecommission(
  ctx: OperationContext,
  target: PodTarget,
  nodeName: string,
  timeoutSeconds: number,
  index: string,
): Promise<void> {
  const { deps } = ctx;
  let chosen = await decommissionTransport(ctx, target);
  const send = async (stmt: string, args: unknown[]) => {
    deps.log.debug(
      `Executing manual decommission SQL ${index}: ${stmt}${args.length ? ` [${args.map((a) => JSON.stringify(a)).join(', ')}]` : ''} via ${chosen.transport.description}`,
    );
    try {
      await chosen.transport.query(stmt, args, { timeoutMs: (timeoutSeconds + 120) * 1000, signal: ctx.signal });
    } catch (err) {
      // The statement may answer only after the node stopped: a dropped connection is normal.
      if (err instanceof SqlConnectionError && !ctx.signal.aborted) {
        deps.log.debug(`Connection closed after ALTER CLUSTER DECOMMISSION (${err.message}); following the node`);
        return;
      }
      throw err;
    }
  };
  const attempt = async () => {
    try {
      await send(SQL.decommissionParam, [nodeName]);
    } catch (err) {
      if (
        err instanceof CrateSqlError &&
        err.httpStatus === 400 &&
        /param|parse|syntax|mismatch|\?/i.test(err.message) &&
        !/does not exist|unknown node/i.test(err.message)
      ) {
        deps.log.info(
          `This CrateDB does not take the node name as a parameter (${err.message}); sending it single-quoted`,
        );
        await send(SQL.decommissionLiteral(nodeName), []);
        return;
      }
      throw err;
    }
  };
  try {
    await attempt();
  } catch (err) {
    if (chosen.via === 'http' && err instanceof CrateSqlError && (err.code === 4010 || err.httpStatus === 401)) {
      const user = ctx.cluster.sql.credentials?.username ?? 'crate';
      deps.log.info(
        `The HTTP user ${user} may not decommission (${err.message}); using exec into the pod as crate instead`,
      );
      const others = ctx.cluster.pods.filter((p) => p.name !== target.info.name);
      let t = null;
      for (const p of [...others, target.info]) {
        t = await ctx.clusterSql.transportTo(p.name, 'exec');
        if (t) break;
      }
      if (!t) throw new OperationFailedError(`Manual decommission failed: ${err.message}`, { cause: err });
      chosen = { transport: t.transport, via: 'exec' };
      await attempt();
      return;
    }
    throw err;
  }
}

/** Is the node in sys.nodes (asked through another node)? Unknown (no node answers) counts as yes. */
async function nodeInCluster(ctx: OperationContext, nodeName: string): Promise<boolean> {
  try {
    const nodes = await ctx.clusterSql.nodes(ctx.signal);
    return nodes.some((n) => n.name === nodeName);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return true;
  }
}

/**
 * The CrateDB container as the kubelet reported it right before the DECOMMISSION: restartCount and the identity of
 * the running container and of the last terminated one. Exit detection compares these, never timestamps: the
 * kubelet's clock (finishedAt) and the engine's are two machines' clocks.
 */
interface ContainerSnapshot {
  restartCount: number;
  /** containerID of the running container (null when the kubelet did not report one). */
  containerId: string | null;
  /** Identity of lastState.terminated (null = none; undefined = not known, e.g. progress of an older version). */
  lastTerminated: string | null | undefined;
}

const timeText = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : null;

/** The identity of a terminated container state: its containerID, else its exit code, reason and times (as text, for equality only). */
function terminatedIdentity(t: V1ContainerStateTerminated | undefined): string | null {
  if (!t) return null;
  if (t.containerID) return t.containerID;
  return JSON.stringify([t.exitCode, t.reason ?? null, timeText(t.startedAt), timeText(t.finishedAt)]);
}

function containerSnapshot(p: V1Pod | null, containerName: string, fallbackRestartCount = 0): ContainerSnapshot {
  const cs = p?.status?.containerStatuses?.find((c) => c.name === containerName);
  if (!cs) return { restartCount: fallbackRestartCount, containerId: null, lastTerminated: undefined };
  return {
    restartCount: cs.restartCount ?? 0,
    containerId: cs.containerID ?? null,
    lastTerminated: terminatedIdentity(cs.lastState?.terminated),
  };
}

/** Has the CrateDB container of this pod (uid) exited since `before` (the snapshot taken right before the DECOMMISSION)? */
function processExited(p: V1Pod | null, info: PodInfo, before: ContainerSnapshot): boolean {
  if (!p || p.metadata?.uid !== info.uid) return true;
  const cs = p.status?.containerStatuses?.find((c) => c.name === info.containerName);
  if (!cs) return false;
  if (cs.state?.terminated) return true;
  if ((cs.restartCount ?? 0) > before.restartCount) return true;
  const last = terminatedIdentity(cs.lastState?.terminated);
  if (before.lastTerminated !== undefined && last !== null && last !== before.lastTerminated) return true;
  return !!before.containerId && !!cs.containerID && cs.containerID !== before.containerId;
}

/** Does the node answer SQL normally (so it is not draining)? Asked directly, as the HTTP user. */
async function nodeAnswers(ctx: OperationContext, podName: string): Promise<boolean> {
  try {
    const t = await ctx.clusterSql.transportTo(podName);
    if (!t) return false;
    await t.transport.query('SELECT 1', [], { timeoutMs: 10_000, signal: ctx.signal });
    return true;
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return false;
  }
}

/** Resolves once the CrateDB process of the pod exited (watch) or its node left sys.nodes (poll). */
async function waitProcessExit(
  ctx: OperationContext,
  target: PodTarget,
  nodeName: string,
  since: ContainerSnapshot,
  timeoutSeconds: number,
  stall: StallTarget | null = null,
): Promise<void> {
  const { deps, cluster } = ctx;
  const { info } = target;
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const exited = (p: V1Pod | null) => processExited(p, info, since);
  const message = `Manual decommission timed out after ${timeoutSeconds}s`;
  const heartbeat = heartbeatFor(
    ctx,
    `the CrateDB process of pod ${info.name} to exit (node ${nodeName} decommissioning)`,
    { pod: info.name, uid: info.uid, node: nodeName },
  );
  const byWatch = waitForPod(deps.kube, cluster.namespace, info.name, exited, {
    timeoutMs: timeoutSeconds * 1000,
    signal,
    clock: deps.clock,
    timeoutMessage: message,
    heartbeat,
  }).then(() => 'container exited' as const);
  const byPoll = pollUntil(
    async () => {
      try {
        const nodes = await ctx.clusterSql.nodes(signal);
        return nodes.some((n) => n.name === nodeName) ? undefined : ('node left the cluster' as const);
      } catch (err) {
        if (signal.aborted) throw err;
        return undefined;
      }
    },
    {
      intervalMs: deps.pollIntervalMs ?? 1000,
      timeoutMs: timeoutSeconds * 1000,
      signal,
      clock: deps.clock,
      timeoutMessage: message,
    },
  );
  // Stall break: a drained, idle node that does not exit is stopped (the caller deletes the pod as after an exit).
  const byStall = stall
    ? watchStall(ctx, stall, signal).then((o) =>
        o.broken
          ? ('stall broken' as const)
          : new Promise<never>((_r, reject) =>
              signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true }),
            ),
      )
    : null;
  try {
    const how = await Promise.race(byStall ? [byWatch, byPoll, byStall] : [byWatch, byPoll]);
    deps.log.debug(`CrateDB process of pod ${info.name} is gone: ${how}`);
  } finally {
    stop.abort(new Error('done'));
    await Promise.allSettled(byStall ? [byWatch, byPoll, byStall] : [byWatch, byPoll]);
  }
}

/** What a dry run / plan says about the stall break. */
function stallPlanLine(nodeName: string | null, options: DecommissionOptions, action: string): string {
  return `Stall break: if node ${nodeName ?? '?'} has drained but does not exit, and sys.jobs/sys.operations show nothing on it for ${options.stallIdleSeconds}s (needs stats.enabled), would ${action} instead of waiting for the graceful-stop timeout (CrateDB 6.4.3's active-request counter leak); --no-stall-break waits`;
}

function snapshotFields(s: ContainerSnapshot): Pick<PodProgress, 'restartCount' | 'containerId' | 'lastTerminated'> {
  return {
    restartCount: s.restartCount,
    containerId: s.containerId,
    ...(s.lastTerminated !== undefined ? { lastTerminated: s.lastTerminated } : {}),
  };
}

/** The manual strategy's statements, in the order they are sent (the log numbers them 1/5 .. 5/5). */
interface ManualStatements {
  allocation: string;
  gracefulStopTimeout: string;
  gracefulStopForce: string;
  minAvailability: string;
  decommission: string;
}

const MANUAL_ORDER = [
  'allocation',
  'gracefulStopTimeout',
  'gracefulStopForce',
  'minAvailability',
  'decommission',
] as const satisfies readonly (keyof ManualStatements)[];

/** "n/5": the place of a statement in MANUAL_ORDER, as the log shows it. */
const manualIndex = (name: keyof ManualStatements) => `${MANUAL_ORDER.indexOf(name) + 1}/${MANUAL_ORDER.length}`;

function manualStatements(nodeName: string, options: DecommissionOptions): ManualStatements {
  return {
    allocation: SQL.setAllocation(options.allocation),
    gracefulStopTimeout: SQL.setGracefulStopTimeout(options.decommissionTimeout),
    gracefulStopForce: SQL.setGracefulStopForce(true),
    minAvailability: SQL.setMinAvailability(options.minAvailability),
    decommission: `${SQL.decommissionParam}  -- node ${nodeName}`,
  };
}

/** What the manual strategy works on for one pod, shared by its steps. */
interface ManualRun {
  ctx: OperationContext;
  target: PodTarget;
  options: DecommissionOptions;
  result: DecommissionResult;
  nodeName: string;
  /** The uid of the pod being decommissioned (the recorded one on resume). */
  oldUid: string;
  /** This pod's progress left by an earlier run, if any. */
  resume: PodProgress | null;
  timeoutSeconds: number;
}

async function manual(
  ctx: OperationContext,
  target: PodTarget,
  options: DecommissionOptions,
  result: DecommissionResult,
): Promise<void> {
  const { deps } = ctx;
  const { info, sts } = target;
  deps.log.info(`Using manual decommission for pod ${info.name}`);
  deps.log.info(
    sts.detection.hasDcUtil
      ? `dc_util will not decommission this pod (${sts.detection.reasons.join('; ')}) - executing manual decommission via CrateDB API`
      : 'No dc_util configured - executing manual decommission via CrateDB API',
  );
  let nodeName = info.nodeName;
  if (!nodeName && !ctx.dryRun) {
    const nodes = await ctx.clusterSql.nodes(ctx.signal).catch(() => []);
    nodeName = nodes.find((n) => n.hostname === info.name)?.name ?? null;
  }
  if (!nodeName)
    throw new OperationFailedError(
      `No CrateDB node name known for pod ${info.name} (not in sys.nodes, no -Cnode.name argument)`,
    );
  if (ctx.dryRun) return manualPlan(ctx, target, options, nodeName);
  ctx.clusterSql.avoid.add(info.name);
  ctx.clusterSql.avoid.add(nodeName);
  setScope(ctx, { step: 'decommission' });
  const resume = resumeEntry(ctx, target);
  const run: ManualRun = {
    ctx,
    target,
    options,
    result,
    nodeName,
    oldUid: resume ? resume.oldUid : info.uid,
    resume,
    timeoutSeconds: options.decommissionTimeout + MANUAL_TIMEOUT_MARGIN_SECONDS,
  };
  result.oldUid = run.oldUid;
  const step = await decideManualStep(run);
  if (step.kind === 'recorded-recreated') {
    deps.log.info(`Resuming: pod ${info.name} was already deleted and re-created by an earlier run`);
  } else if (step.kind === 'delete-only') {
    logRedrain(run, step.redrain);
    // An unready pod whose node is not in the cluster holds no shards the cluster relies on:
    // there is nothing to drain, so it is only deleted.
    deps.log.info(`Node ${nodeName} of pod ${info.name} is not in the cluster: nothing to drain, deleting the pod`);
    setScope(ctx, { step: 'delete' });
    await saveProgress(ctx, { pod: info.name, oldUid: run.oldUid, nodeName, step: 'deleting' });
    await deletePod(ctx, info.name, run.oldUid, MANUAL_DELETE_GRACE_SECONDS);
  } else if (step.kind === 'drain') {
    logRedrain(run, step.redrain);
    const sent = await sendDrain(run);
    await awaitExitThenDelete(run, sent.since, sent.sentAt);
  } else if (step.kind === 'follow-drain') {
    deps.log.info(
      `Resuming: node ${nodeName} is already decommissioning (sent by an earlier run of operation ${ctx.operationId}); following it, not sending it again`,
    );
    await awaitExitThenDelete(run, recordedSnapshot(run), run.resume?.sentAt);
  } else {
    // The earlier run decided to delete; it may have crashed before the call went out.
    setScope(ctx, { step: 'delete' });
    result.processExited = true;
    if (step.sendDelete) await deletePod(ctx, info.name, run.oldUid, MANUAL_DELETE_GRACE_SECONDS);
  }
  await recordDeleted(run);
}

/** The dry run of the manual strategy: what it would send and wait for. */
async function manualPlan(
  ctx: OperationContext,
  target: PodTarget,
  options: DecommissionOptions,
  nodeName: string,
): Promise<void> {
  const { deps } = ctx;
  const { info } = target;
  if (!info.ready && !(await nodeInCluster(ctx, nodeName))) {
    deps.log.info(
      `Node ${nodeName} of pod ${info.name} is not in the cluster: nothing to drain; would only delete pod ${info.name} with grace period ${MANUAL_DELETE_GRACE_SECONDS}s`,
    );
    return;
  }
  deps.log.info(
    `Would first read the current cluster.graceful_stop.* values (${SQL.gracefulStopSettings}) and restore them at the end`,
  );
  const statements = manualStatements(nodeName, options);
  for (const name of MANUAL_ORDER)
    deps.log.info(`Would execute manual decommission SQL ${manualIndex(name)}: ${statements[name]}`);
  deps.log.info(
    `Would wait up to ${options.decommissionTimeout + MANUAL_TIMEOUT_MARGIN_SECONDS}s for the CrateDB process to exit, then delete pod ${info.name} with grace period ${MANUAL_DELETE_GRACE_SECONDS}s`,
  );
  if (options.stallBreak)
    deps.log.info(
      stallPlanLine(
        nodeName,
        options,
        `delete pod ${info.name} (grace ${MANUAL_DELETE_GRACE_SECONDS}s) without waiting for the exit`,
      ),
    );
}

/** The container snapshot the earlier run recorded in the Lease before its DECOMMISSION. */
function recordedSnapshot(run: ManualRun): ContainerSnapshot {
  const r = run.resume;
  return {
    restartCount: r?.restartCount ?? run.target.info.restartCount,
    containerId: r?.containerId ?? null,
    lastTerminated: r?.lastTerminated,
  };
}

/** Ask the cluster what nextManualStep needs until it returns a step to execute. */
async function decideManualStep(run: ManualRun): Promise<Exclude<ManualStep, { kind: 'observe' }>> {
  const { ctx, target, resume } = run;
  const state: ManualResumeState = {
    progress: resume ? { step: resume.step, oldUid: resume.oldUid } : null,
    pod: { uid: target.info.uid, deleting: target.info.deleting },
    exitedSinceRecorded: !!resume && processExited(target.pod, target.info, recordedSnapshot(run)),
  };
  for (;;) {
    const step = nextManualStep(state);
    if (step.kind !== 'observe') return step;
    if (step.what === 'nodeAnswers') state.nodeAnswers = await nodeAnswers(ctx, target.info.name);
    else state.nodeInCluster = await nodeInCluster(ctx, run.nodeName);
  }
}

function logRedrain(run: ManualRun, reason: RedrainReason | null): void {
  const { nodeName } = run;
  const pod = run.target.info.name;
  const text: Record<RedrainReason, string> = {
    'restarted-in-place': `Resuming: node ${nodeName} exited after the earlier run's decommission but restarted in place and answers SQL again; decommissioning it again before the pod is deleted`,
    'not-draining': `Resuming: node ${nodeName} is not draining although an earlier run meant to decommission it; sending the decommission`,
    'restarted-before-delete': `Resuming: pod ${pod} was not deleted by the earlier run and its node ${nodeName} answers SQL again (restarted in place); decommissioning it again before the pod is deleted`,
  };
  if (reason) run.ctx.deps.log.info(text[reason]);
}

/** Record the start, set allocation and graceful_stop, send ALTER CLUSTER DECOMMISSION; the snapshot taken before it. */
async function sendDrain(run: ManualRun): Promise<{ since: ContainerSnapshot; sentAt: number }> {
  const { ctx, target, options, nodeName, oldUid } = run;
  const { deps, cluster } = ctx;
  const { info, sts } = target;
  const sql = manualStatements(nodeName, options);
  // 'started' resumes as no record at all (a drain from the start): staged, it goes out with the allocation save.
  stageProgress(ctx, { pod: info.name, oldUid, nodeName, step: 'started' });
  // Read what the graceful_stop SETs below replace, so every exit path restores them (staged as well).
  await rememberGracefulStop(ctx);
  deps.log.debug(`Executing manual decommission SQL ${manualIndex('allocation')}: ${sql.allocation}`);
  // One Lease write before the first SET: allocationSet, with the staged 'started' and gracefulStopBefore.
  await restrictAllocation(ctx, sts.name, options.allocation);
  for (const name of ['gracefulStopTimeout', 'gracefulStopForce', 'minAvailability'] as const) {
    deps.log.debug(`Executing manual decommission SQL ${manualIndex(name)}: ${sql[name]}`);
    await ctx.clusterSql.query(sql[name], [], { signal: ctx.signal });
  }
  // The snapshot exit detection compares against, taken right before the DECOMMISSION (and kept for a resume).
  const since = containerSnapshot(
    await deps.kube.getPod(cluster.namespace, info.name).catch(() => target.pod),
    info.containerName,
    info.restartCount,
  );
  /** Engine clock ms when the DECOMMISSION was sent (for people reading the Lease; never compared with the kubelet's times). */
  const sentAt = deps.clock.now();
  await saveProgress(ctx, {
    pod: info.name,
    oldUid,
    nodeName,
    step: 'decommission-sent',
    ...snapshotFields(since),
    sentAt,
  });
  await emitEvent(
    deps,
    { kind: 'Pod', name: info.name, namespace: cluster.namespace, uid: oldUid },
    EventReason.DecommissionStarted,
    `ALTER CLUSTER DECOMMISSION of node ${nodeName} (min_availability ${options.minAvailability}, timeout ${options.decommissionTimeout}s); cluster.routing.allocation.enable = ${options.allocation} until the node is back`,
  );
  // The statement returns once the shards have moved (real data: minutes): that is a wait too.
  const stopBeat = startHeartbeat(
    heartbeatFor(ctx, `ALTER CLUSTER DECOMMISSION of node ${nodeName} to return (its shards moving off)`, {
      pod: info.name,
      uid: oldUid,
      node: nodeName,
    }),
    {
      clock: deps.clock,
      timeoutMs: (options.decommissionTimeout + 120) * 1000,
      signal: ctx.signal,
    },
  );
  try {
    await sendDecommission(ctx, target, nodeName, options.decommissionTimeout, manualIndex('decommission'));
  } finally {
    stopBeat();
  }
  return { since, sentAt };
}

/** Wait for the drained process to exit (or its stall to be broken), then delete the pod before it restarts in place. */
async function awaitExitThenDelete(
  run: ManualRun,
  since: ContainerSnapshot,
  sentAt: number | undefined,
): Promise<void> {
  const { ctx, target, options, nodeName, oldUid } = run;
  const { deps } = ctx;
  const { info } = target;
  const stall: StallTarget | null = options.stallBreak
    ? {
        podName: info.name,
        uid: oldUid,
        nodeName,
        containerName: info.containerName,
        strategy: 'manual',
        minAvailability: options.minAvailability,
        idleSeconds: options.stallIdleSeconds,
        timeoutSeconds: options.decommissionTimeout,
      }
    : null;
  await waitProcessExit(ctx, target, nodeName, since, run.timeoutSeconds, stall);
  run.result.processExited = true;
  deps.log.info('Manual decommission completed - CrateDB process has exited');
  setScope(ctx, { step: 'delete' });
  deps.log.info(`Pod ${info.name} is ready for deletion and restart`);
  await saveProgress(ctx, {
    pod: info.name,
    oldUid,
    nodeName,
    step: 'deleting',
    ...snapshotFields(since),
    ...(sentAt !== undefined ? { sentAt } : {}),
  });
  await deletePod(ctx, info.name, oldUid, MANUAL_DELETE_GRACE_SECONDS);
}

/** Wait for the old pod to be gone, record it as deleted and say so. */
async function recordDeleted(run: ManualRun): Promise<void> {
  const { ctx, target, nodeName, oldUid } = run;
  const { deps, cluster } = ctx;
  const { info } = target;
  await waitOldPodGone(ctx, info.name, oldUid, MANUAL_DELETE_GRACE_SECONDS + DELETE_MARGIN_SECONDS);
  run.result.processExited = true;
  // Staged, not written: with the old pod gone a resume of 'deleting' decides as one of 'deleted' (re-created).
  stageProgress(ctx, { pod: info.name, oldUid, nodeName, step: 'deleted' });
  await emitEvent(
    deps,
    { kind: 'Pod', name: info.name, namespace: cluster.namespace, uid: oldUid },
    EventReason.PodDeleted,
    `Pod deleted after node ${nodeName} decommissioned`,
  );
  deps.log.info(`Manual decommission strategy completed for pod ${info.name}`);
}

/**
 * The decommission part shared by decommissionPod and restartPod (inside an open operation).
 * Returns a result; throws only bugs.
 */
export async function runDecommission(
  ctx: OperationContext,
  podName: string,
  options: DecommissionOptions,
): Promise<DecommissionResult> {
  const { deps, cluster } = ctx;
  const started = deps.clock.now();
  let result = baseResult(podName, cluster.namespace, 'unknown', started, ctx.dryRun, options.decommissionTimeout);
  try {
    setScope(ctx, { pod: podName, step: 'analyze' });
    deps.log.info(`Analyzing decommission strategy for pod ${podName}`);
    const target = await resolvePod(ctx, podName);
    const d = target.sts.detection;
    setScope(ctx, { strategy: d.strategy });
    result = baseResult(
      podName,
      cluster.namespace,
      d.strategy,
      started,
      ctx.dryRun,
      d.strategy === 'kubernetes_managed' ? d.dcUtilTimeoutSeconds : options.decommissionTimeout,
    );
    result.oldUid = target.info.uid;
    deps.log.info(`Cluster config: has_prestop_hook=${py(d.hasPrestopHook)}, has_dc_util=${py(d.hasDcUtil)}`, {
      strategy: d.strategy,
      reasons: d.reasons,
    });
    if (d.strategy === 'unknown') {
      throw new BadInputError(
        `Cannot decommission pod ${podName}: ${d.reasons.join('; ') || 'no CrateDB container found'}`,
      );
    }
    if (d.strategy === 'kubernetes_managed') await kubernetesManaged(ctx, target, result, options);
    else await manual(ctx, target, options, result);
    result.success = true;
    deps.log.info(
      ctx.dryRun
        ? `Dry run: decommission of pod ${podName} would use the ${d.strategy} strategy; nothing was changed`
        : `Decommission completed for pod ${podName} using ${d.strategy} strategy`,
    );
  } catch (err) {
    const f = failureOf(err, ctx.signal);
    result.error = f.error;
    result.errorKind = f.errorKind;
    deps.log.error(`Decommission of pod ${podName} failed: ${f.error}`);
    if (!ctx.dryRun && !(err instanceof BadInputError)) {
      await emitEvent(
        deps,
        { kind: 'Pod', name: podName, namespace: cluster.namespace },
        EventReason.DecommissionFailed,
        f.error,
        { type: 'Warning' },
      );
    }
  }
  const completed = deps.clock.now();
  result.completedAt = new Date(completed).toISOString();
  result.duration = Math.max(0, (completed - started) / 1000);
  return result;
}

/** When a pod came back (engine clock ms) and as which node: for the Event that reports it. */
export interface PodBack {
  pod: V1Pod;
  readyAt: number;
  rejoinedAt: number;
  node: string;
}

/**
 * Wait for the re-created pod to be Ready and its node back in sys.nodes. `event: false` (restartPod, whose
 * PodRestarted Event reports both): no NodeRejoined Event.
 */
export async function waitPodBack(
  ctx: OperationContext,
  podName: string,
  oldUid: string | null,
  timeoutSeconds: number,
  opts: { event?: boolean; since?: number } = {},
): Promise<PodBack> {
  const { deps, cluster } = ctx;
  const since = opts.since ?? deps.clock.now();
  setScope(ctx, { pod: podName, step: 'wait-ready' });
  const pod = await waitForPod(
    deps.kube,
    cluster.namespace,
    podName,
    (p) => !!p && p.metadata?.uid !== oldUid && !p.metadata?.deletionTimestamp && podReady(p),
    {
      timeoutMs: timeoutSeconds * 1000,
      signal: ctx.signal,
      clock: deps.clock,
      timeoutMessage: `Pod ${podName} was not Ready within ${timeoutSeconds}s after it was re-created`,
      heartbeat: heartbeatFor(ctx, `re-created pod ${podName} to be Ready`, { pod: podName, shards: false }),
    },
  );
  const newUid = pod!.metadata!.uid!;
  const readyAt = deps.clock.now();
  deps.log.info(`Pod ${podName} is Ready again (uid ${newUid})`);
  const known = cluster.pods.find((p) => p.name === podName);
  if (known) Object.assign(known, livePodInfo(pod!, known));
  ctx.clusterSql.avoid.delete(podName);
  if (known?.nodeName) ctx.clusterSql.avoid.delete(known.nodeName);
  setScope(ctx, { step: 'rejoin' });
  const node = await pollUntil(
    async () => {
      const nodes = await ctx.clusterSql.nodes(ctx.signal).catch((err: unknown) => {
        if (ctx.signal.aborted) throw err;
        return [];
      });
      return nodes.find((n) => n.hostname === podName);
    },
    {
      // The node usually joins within moments of its pod's Ready: look again soon, then every pollIntervalMs.
      intervalMs: deps.pollIntervalMs ?? 1000,
      firstIntervalMs: FIRST_POLL_MS,
      timeoutMs: timeoutSeconds * 1000,
      signal: ctx.signal,
      clock: deps.clock,
      timeoutMessage: `Node of pod ${podName} did not rejoin the cluster within ${timeoutSeconds}s`,
      heartbeat: heartbeatFor(ctx, `the node of pod ${podName} to rejoin the cluster`, { pod: podName, shards: false }),
    },
  );
  if (known) {
    known.nodeName = node.name;
    known.nodeId = node.id;
  }
  const rejoinedAt = deps.clock.now();
  deps.log.info(`Node ${node.name} rejoined the cluster`);
  if (opts.event !== false)
    await emitEvent(
      deps,
      { kind: 'Pod', name: podName, namespace: cluster.namespace, uid: newUid },
      EventReason.NodeRejoined,
      `Re-created pod Ready (uid ${newUid}) ${seconds(readyAt - since)} after the delete; node ${node.name} rejoined the cluster ${seconds(rejoinedAt - readyAt)} later`,
    );
  return { pod: pod!, readyAt, rejoinedAt, node: node.name };
}

/** Engine ms as seconds for an Event's message: `12.3s`. */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/**
 * Decommission one pod (top level: takes the cluster's lock). Under the manual strategy the
 * allocation setting is held until the node is back, then reset (on every exit path).
 */
export async function decommissionPod(deps: EngineDeps, rawInput: DecommissionInput): Promise<DecommissionResult> {
  const input = DecommissionInput.parse(rawInput);
  const started = deps.clock.now();
  const operationId = input.operationId ?? newOperationId('decommission', input.podName, started);
  return inSinglePodOperation(
    deps,
    input.cluster,
    { operationId, dryRun: input.dryRun },
    `Decommission of pod ${input.podName}`,
    (f) => ({
      ...baseResult(
        input.podName,
        input.namespace,
        'unknown',
        started,
        input.dryRun,
        input.options.decommissionTimeout,
      ),
      ...f,
      completedAt: new Date(deps.clock.now()).toISOString(),
    }),
    (ctx) => decommissionInOperation(ctx, input, started),
  );
}

async function decommissionInOperation(
  ctx: OperationContext,
  input: ReturnType<typeof DecommissionInput.parse>,
  started: number,
): Promise<DecommissionResult> {
  const { deps } = ctx;
  const strategyOf = () => {
    const known = input.cluster.pods.find((p) => p.name === input.podName);
    return input.cluster.statefulSets.find((s) => s.name === known?.statefulSetName)?.detection.strategy ?? 'unknown';
  };
  const base = (strategy: Strategy) =>
    baseResult(input.podName, input.namespace, strategy, started, input.dryRun, input.options.decommissionTimeout);
  const finished = (r: DecommissionResult): DecommissionResult => {
    const now = deps.clock.now();
    return { ...r, completedAt: new Date(now).toISOString(), duration: Math.max(0, (now - started) / 1000) };
  };
  let result: DecommissionResult | null = null;
  try {
    const doneUid = ctx.lease?.resumed ? ctx.lease.progress.done[input.podName] : undefined;
    if (doneUid !== undefined) {
      // A retry (same operation id) after this pod was decommissioned: never a second time.
      deps.log.info(
        `Pod ${input.podName} was already decommissioned by operation ${ctx.operationId} (uid ${doneUid}); skipping`,
      );
      if (ctx.allocation.value) await waitBackBeforeReset(ctx, input.podName, doneUid || null);
      return finished({ ...base(strategyOf()), success: true, skipped: true, oldUid: doneUid || null });
    }
    const gate = await singlePodPreflight(ctx, input.podName, 'decommission', {
      skip: input.skipPreflight,
      consecutive: input.healthConsecutive,
      intervalSeconds: input.healthIntervalSeconds,
    });
    if (gate.refusal) return finished({ ...base(strategyOf()), ...gate.refusal, preflight: gate.preflight });
    result = {
      ...(await runDecommission(ctx, input.podName, decommissionOptions(ctx, input.options))),
      preflight: gate.preflight,
    };
    if (result.success && !input.dryRun && ctx.lease) {
      // Done: a retry of this operation (a Job retry after this save) must not decommission the node again.
      // Recorded at once, before the wait below: the drain is what must never happen twice.
      await ctx.lease.save({
        current: null,
        done: { ...ctx.lease.progress.done, [input.podName]: result.oldUid ?? '' },
      });
    }
    if (result.success && !input.dryRun && ctx.allocation.value)
      await waitBackBeforeReset(ctx, input.podName, result.oldUid);
    return result;
  } catch (err) {
    const f = failureOf(err, ctx.signal);
    deps.log.error(`Decommission of pod ${input.podName} failed: ${f.error}`);
    return finished({ ...(result ?? base(strategyOf())), success: false, ...f });
  }
}

/**
 * decommissionPod takes the node out for good: its data must move, so `relocation: auto` means `primaries` there
 * (the plugin refuses `decommission --relocation auto` as a usage error; this is for other callers of the engine).
 */
function decommissionOptions(ctx: OperationContext, options: DecommissionOptions): DecommissionOptions {
  if (options.relocation === 'auto') {
    ctx.deps.log.warn(
      'relocation auto does not apply to a decommission (the node leaves for good, its data must move): using primaries',
    );
    return fixedMinAvailability({ ...options, relocation: 'primaries' });
  }
  return fixedMinAvailability(options);
}

/** Standalone manual decommission: reset allocation only once the node is back, so its shards recover on it (CrateDB's documented behaviour). */
async function waitBackBeforeReset(ctx: OperationContext, podName: string, oldUid: string | null): Promise<void> {
  try {
    await waitPodBack(ctx, podName, oldUid, 600);
  } catch (err) {
    if (isBug(err)) throw err;
    ctx.deps.log.warn(`Pod ${podName} is not back yet (${messageOf(err)}); resetting the allocation setting anyway`);
  }
}
