// The I/O side of restarts without relocation (issue 9 item 1): read sys.shards and the health through another node
// right before a pod and decide (shared/relocation.ts); under kubernetes_managed, set dc_util's StatefulSet label
// `dc-util-min-availability=NONE` for the pod's drain and put the previous value back as soon as the pod is gone and
// on every exit path (recorded in the Lease first, like the allocation setting).
import type { V1StatefulSet } from '@kubernetes/client-node';
import { ClusterSql, worstHealth } from './cluster-sql.js';
import { emitEvent, EventReason } from './events.js';
import { anyFailure, isConflict, messageOf } from './errors.js';
import { cleanupPause, retry } from './retry.js';
import type { OperationContext } from './operation.js';
import { decideRelocation, minAvailabilityFor, type ShardRow } from './relocation.js';
import type { CrateDBCluster, DecommissionOptions, RelocationVerdict } from './schemas.js';
import type { EngineDeps } from './ports.js';
import { LABEL_DC_UTIL_MIN_AVAILABILITY, LABEL_MIN_AVAILABILITY_BEFORE, MARK_UNSET } from './min-availability-label.js';

export { LABEL_DC_UTIL_MIN_AVAILABILITY };
const UNSET = MARK_UNSET;

/** What min_availability the options mean without a per-pod decision (relocation primaries/full, or the legacy field). */
export function fixedMinAvailability(options: DecommissionOptions): DecommissionOptions {
  if (options.relocation === 'primaries') return { ...options, minAvailability: 'PRIMARIES' };
  if (options.relocation === 'full') return { ...options, minAvailability: 'FULL' };
  return options;
}

/** Read the shards and the health through a node other than the pod's, and decide. Never throws (but on abort). */
export async function readRelocation(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  mode: NonNullable<DecommissionOptions['relocation']>,
  podName: string,
  nodeName: string,
  signal?: AbortSignal,
): Promise<RelocationVerdict> {
  const reader = new ClusterSql(deps, cluster, [podName, nodeName]);
  let shards: ShardRow[] | null = null;
  let health: string | null = null;
  let why = '';
  try {
    shards = await reader.shards(signal);
    health = worstHealth(await reader.healthRows(signal));
  } catch (err) {
    if (signal?.aborted) throw err;
    why = messageOf(err);
  }
  if (shards === null) {
    const decision = mode === 'auto' ? 'primaries' : mode;
    return {
      mode,
      decision,
      blockers: mode === 'auto' ? [`sys.shards could not be read (${why})`] : [],
      primaries: 0,
      bytes: { none: 0, primaries: 0, full: 0 },
      summary: `${decision} (${mode === 'auto' ? `sys.shards could not be read: ${why}` : `as asked: --relocation ${mode}`}; bytes unknown)`,
    };
  }
  return decideRelocation(mode, nodeName, shards, health);
}

/**
 * The options for one pod of a restart: `relocation: auto` decided now (none -> min_availability NONE, else
 * PRIMARIES), primaries/full as asked; without `relocation` the options as given. Logs the decision.
 */
export async function relocationForPod(
  ctx: OperationContext,
  podName: string,
  options: DecommissionOptions,
): Promise<{ options: DecommissionOptions; verdict: RelocationVerdict | null }> {
  const mode = options.relocation;
  if (!mode) return { options, verdict: null };
  const { deps, cluster } = ctx;
  let nodeName = cluster.pods.find((p) => p.name === podName)?.nodeName ?? null;
  if (!nodeName) {
    const nodes = await ctx.clusterSql.nodes(ctx.signal).catch((err: unknown) => {
      if (ctx.signal.aborted) throw err;
      return [];
    });
    nodeName = nodes.find((n) => n.hostname === podName)?.name ?? null;
  }
  if (!nodeName) {
    // No node: nothing to drain (the pod is only deleted); auto relocates, which moves nothing either.
    const decision = mode === 'auto' ? 'primaries' : mode;
    const verdict: RelocationVerdict = {
      mode,
      decision,
      blockers: mode === 'auto' ? [`no CrateDB node is known for pod ${podName}`] : [],
      primaries: 0,
      bytes: { none: 0, primaries: 0, full: 0 },
      summary: `${decision} (no CrateDB node is known for pod ${podName})`,
    };
    return { options: { ...options, minAvailability: minAvailabilityFor(decision) }, verdict };
  }
  const verdict = await readRelocation(deps, cluster, mode, podName, nodeName, ctx.signal);
  deps.log.info(`Relocation for pod ${podName} (node ${nodeName}): ${verdict.summary}`, {
    relocation: verdict.decision,
    blockers: verdict.blockers,
    bytes: verdict.bytes,
  });
  return { options: { ...options, minAvailability: minAvailabilityFor(verdict.decision) }, verdict };
}

// ---------------------------------------------------------------- dc-util-min-availability (kubernetes_managed)

/**
 * Before deleting a pod dc_util drains: the label as this pod's decision needs it. NONE (decided `none`): set it (our
 * mark beside it), recording the previous value in the Lease BEFORE the patch, so a crashed run's retry restores it.
 * Anything else: make sure no NONE of ours is left on the StatefulSet. No-op without a per-pod decision.
 */
export async function labelForDrain(
  ctx: OperationContext,
  statefulSetName: string,
  options: DecommissionOptions,
  live?: V1StatefulSet | null,
): Promise<void> {
  if (!options.relocation) return;
  if (options.minAvailability !== 'NONE') {
    await restoreMinAvailabilityLabels(ctx, [statefulSetName]);
    return;
  }
  const { deps, cluster } = ctx;
  // `live`: the StatefulSet as the caller just read it; undefined: read it here.
  let sts = live !== undefined ? live : await deps.kube.getStatefulSet(cluster.namespace, statefulSetName);
  let before: string | null;
  for (let attempt = 1; ; attempt++) {
    const labels = sts?.metadata?.labels ?? {};
    const recorded = ctx.minAvailabilityLabels.before?.[statefulSetName];
    if (
      labels[LABEL_MIN_AVAILABILITY_BEFORE] !== undefined &&
      labels[LABEL_DC_UTIL_MIN_AVAILABILITY] === 'NONE' &&
      recorded !== undefined
    )
      return; // already ours
    before =
      labels[LABEL_MIN_AVAILABILITY_BEFORE] !== undefined
        ? fromMark(labels[LABEL_MIN_AVAILABILITY_BEFORE])
        : (labels[LABEL_DC_UTIL_MIN_AVAILABILITY] ?? null);
    // Record first: a crash right after the patch must still lead to the restore.
    ctx.minAvailabilityLabels.before = { ...(ctx.minAvailabilityLabels.before ?? {}), [statefulSetName]: before };
    await ctx.lease?.save({ minAvailabilityLabels: ctx.minAvailabilityLabels.before });
    // A compare-and-set on the read's resourceVersion: a label someone changed after that read is not overwritten
    // with a stale `before` recorded (the restore would put the old value back); on 409 read, record and try again.
    const resourceVersion = sts?.metadata?.resourceVersion;
    try {
      await deps.kube.patchStatefulSetLabels(
        cluster.namespace,
        statefulSetName,
        { [LABEL_DC_UTIL_MIN_AVAILABILITY]: 'NONE', [LABEL_MIN_AVAILABILITY_BEFORE]: before ?? UNSET },
        resourceVersion ? { resourceVersion } : undefined,
      );
      break;
    } catch (err) {
      if (!isConflict(err) || attempt >= 3) throw err;
      sts = await deps.kube.getStatefulSet(cluster.namespace, statefulSetName);
    }
  }
  deps.log.info(
    `Set label ${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE on StatefulSet ${cluster.namespace}/${statefulSetName} for a drain without relocation (it was ${before ?? 'unset'}; restored once the pod is gone)`,
  );
  await emitEvent(
    deps,
    { kind: 'StatefulSet', name: statefulSetName, namespace: cluster.namespace },
    EventReason.MinAvailabilityLabelSet,
    `${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE for a restart without relocation (was ${before ?? 'unset'})`,
  );
}

const fromMark = (v: string | undefined): string | null => (v === undefined || v === UNSET ? null : v);

/**
 * Put the recorded labels back (all, or only `only`): the previous value, or no label; our mark removed. A label
 * someone changed since (not NONE any more, or our mark gone) is left as it is, and said so. Never throws on the exit
 * path; true when nothing of this run is left to restore (of those asked).
 */
export async function restoreMinAvailabilityLabels(ctx: OperationContext, only?: string[]): Promise<boolean> {
  const record = ctx.minAvailabilityLabels.before;
  if (!record) return true;
  const { deps, cluster } = ctx;
  const names = Object.keys(record).filter((n) => !only || only.includes(n));
  if (names.length === 0) return true;
  try {
    const heir = await ctx.lease?.minAvailabilityLabelHeir().catch(() => null);
    if (heir) {
      ctx.minAvailabilityLabels.heir = heir;
      deps.log.warn(
        `Lost the lock; restoring label ${LABEL_DC_UTIL_MIN_AVAILABILITY} on ${names.join(', ')} is left to ${heir}, which took it over`,
      );
      return false;
    }
  } catch {
    // fall through: try to restore
  }
  const left: Record<string, string | null> = { ...record };
  // One StatefulSet's label back to what it was; done when it is gone or the mark is not ours (any more).
  const restoreOne = async (name: string, before: string | null): Promise<void> => {
    const live = await deps.kube.getStatefulSet(cluster.namespace, name);
    const labels = live?.metadata?.labels ?? {};
    if (!live) return;
    if (labels[LABEL_MIN_AVAILABILITY_BEFORE] === undefined) {
      // Not ours (any more): someone removed our mark; never overwrite what they did.
      if (labels[LABEL_DC_UTIL_MIN_AVAILABILITY] === 'NONE')
        deps.log.warn(
          `StatefulSet ${cluster.namespace}/${name} has ${LABEL_DC_UTIL_MIN_AVAILABILITY}=NONE without this tool's mark: leaving it`,
        );
      return;
    }
    // A compare-and-set on the two labels as just read (a change since is a 409; the retry below reads again).
    const current = labels[LABEL_DC_UTIL_MIN_AVAILABILITY];
    const expected: Record<string, string> = { [LABEL_MIN_AVAILABILITY_BEFORE]: labels[LABEL_MIN_AVAILABILITY_BEFORE] };
    if (current !== undefined) expected[LABEL_DC_UTIL_MIN_AVAILABILITY] = current;
    await deps.kube.patchStatefulSetLabels(
      cluster.namespace,
      name,
      {
        // (A label the patch removes must be among the expected ones: none to remove when it is gone already.)
        ...(before !== null || current !== undefined ? { [LABEL_DC_UTIL_MIN_AVAILABILITY]: before } : {}),
        [LABEL_MIN_AVAILABILITY_BEFORE]: null,
      },
      { labels: expected },
    );
    deps.log.info(
      `Restored label ${LABEL_DC_UTIL_MIN_AVAILABILITY} on StatefulSet ${cluster.namespace}/${name} (${before === null ? 'removed: it had none' : `= ${before}`})`,
    );
    await emitEvent(
      deps,
      { kind: 'StatefulSet', name, namespace: cluster.namespace },
      EventReason.MinAvailabilityLabelRestored,
      `${LABEL_DC_UTIL_MIN_AVAILABILITY} ${before === null ? 'removed' : `= ${before}`} (was NONE for a restart without relocation)`,
    );
  };
  for (const name of names) {
    const before = record[name] ?? null;
    let ok = false;
    try {
      await retry(() => restoreOne(name, before), {
        attempts: 3,
        retryable: anyFailure,
        beforeRetry: () => cleanupPause(deps),
      });
      ok = true;
    } catch (err) {
      deps.log.error(
        `Could not restore label ${LABEL_DC_UTIL_MIN_AVAILABILITY} on StatefulSet ${cluster.namespace}/${name} (was ${before ?? 'unset'}): ${messageOf(err)}. Run kubectl label sts ${name} -n ${cluster.namespace} ${before === null ? `${LABEL_DC_UTIL_MIN_AVAILABILITY}-` : `${LABEL_DC_UTIL_MIN_AVAILABILITY}=${before} --overwrite`} ${LABEL_MIN_AVAILABILITY_BEFORE}-`,
      );
    }
    if (ok) delete left[name];
  }
  const remaining = Object.keys(left).length > 0 ? left : null;
  const changed = remaining === null ? record !== null : Object.keys(remaining).length !== Object.keys(record).length;
  ctx.minAvailabilityLabels.before = remaining;
  // Staged: written with the next save (the pod's 'done') or the release; a stale record only causes one more
  // (harmless) restore, which leaves a label without this tool's mark alone.
  if (changed) ctx.lease?.stage({ minAvailabilityLabels: remaining });
  return names.every((n) => !(remaining && n in remaining));
}
