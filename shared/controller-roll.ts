// Another actor that deletes pods on its own: the StatefulSet controller rolling a RollingUpdate StatefulSet after
// its template changed (a `kubectl apply` / `helm upgrade` in the middle of a rollout). It replaces pods one by
// one without waiting for any drain, so a pod this tool restarts at the same time makes two nodes down.
// Rule: before each pod it starts (never for a pod it only follows), refuse (LockedError, exit 5) while such a roll
// still has pods to replace. OnDelete StatefulSets (crate-operator's) never roll on their own: a revision
// difference there is what the rollout itself applies. A staged roll (partition) that has updated every pod from
// the partition up is finished as far as the controller goes.
import type { V1StatefulSet } from '@kubernetes/client-node';
import { LockedError, messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';

/** A sentence naming the roll when the controller still has pods of this StatefulSet to replace, else null. */
function controllerRollInProgress(sts: V1StatefulSet): string | null {
  const type = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (type !== 'RollingUpdate') return null;
  const current = sts.status?.currentRevision;
  const update = sts.status?.updateRevision;
  if (!current || !update || current === update) return null;
  const replicas = sts.spec?.replicas ?? 1;
  const partition = Math.max(0, Math.min(replicas, sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0));
  const updated = sts.status?.updatedReplicas ?? 0;
  if (updated >= replicas - partition) return null;
  return `the StatefulSet controller is rolling it (RollingUpdate from revision ${current} to ${update}, ${updated} of ${replicas - partition} pods updated${partition ? `, partition ${partition}` : ''})`;
}

/**
 * Throws LockedError while the StatefulSet controller replaces pods of `statefulSet` on its own. `live`: the
 * StatefulSet as the caller just read it (no read of its own); undefined: read it.
 */
export async function refuseControllerRoll(
  deps: EngineDeps,
  namespace: string,
  statefulSet: string,
  what: string,
  live?: V1StatefulSet | null,
): Promise<void> {
  let sts: V1StatefulSet | null;
  try {
    sts = live !== undefined ? live : await deps.kube.getStatefulSet(namespace, statefulSet);
  } catch (err) {
    if (deps.signal?.aborted) throw err;
    deps.log.warn(
      `Could not read StatefulSet ${namespace}/${statefulSet} to check for a roll by its controller: ${messageOf(err)}`,
    );
    return;
  }
  const roll = sts ? controllerRollInProgress(sts) : null;
  if (roll) {
    throw new LockedError(
      `StatefulSet ${namespace}/${statefulSet}: ${roll}; refusing ${what} until it has finished (two nodes would be down at once)`,
      'statefulset-controller',
    );
  }
}
