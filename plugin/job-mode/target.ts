// What a Task's target is in the cluster, checked before a Job is created: its cluster name, how many pods the
// operation may touch and their delete grace periods (for the Job's deadline). Not found -> BadInputError (exit 2).
import type { V1Pod, V1StatefulSet, KubernetesObject } from '@kubernetes/client-node';
import { BadInputError, type Task } from '../../shared/task/index.js';
import type { PluginKube } from '../../shared/adapters/index.js';

/** What the Task's target resolved to in the cluster. */
export interface ResolvedTarget {
  /** Cluster name for labels and the Job name (StatefulSet or CrateDB name). */
  cluster: string;
  /** Pods the operation may touch (for the Job's deadline). */
  pods: number;
  /**
   * Delete grace periods of the pods dc_util drains (kubernetes_managed by their own spec), longest first: the
   * Job's deadline budgets each pod by its own strategy's worst case.
   */
  deleteGraceSeconds?: number[];
}

/** The engine's detection, loaded when a target is resolved: the plugin's entry never imports the engine statically. */
function loadDetection(): Promise<typeof import('../../shared/index.js')> {
  return import('../../shared/index.js');
}

function withGraces(target: ResolvedTarget, graces: number[]): ResolvedTarget {
  return graces.length > 0 ? { ...target, deleteGraceSeconds: graces } : target;
}

/**
 * The delete grace period of every pod of these StatefulSets that dc_util drains, judged on the pod's own spec
 * (the template for replicas without a pod yet), longest first. Best effort: a list that fails budgets by the
 * templates alone.
 */
async function deleteGracesOf(kube: PluginKube, namespace: string, statefulSets: V1StatefulSet[]): Promise<number[]> {
  const { detectPodStrategy, detectStrategy } = await loadDetection();
  const graces: number[] = [];
  for (const sts of statefulSets) {
    const template = detectStrategy(sts);
    const replicas = sts.spec?.replicas ?? 1;
    const selector = Object.entries(sts.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let pods: V1Pod[] = [];
    if (selector) {
      try {
        pods = await kube.list<V1Pod>('v1', 'Pod', namespace, selector);
      } catch {
        pods = [];
      }
    }
    const own = pods.filter((p) =>
      p.metadata?.ownerReferences?.some((o) => o.kind === 'StatefulSet' && o.name === sts.metadata?.name),
    );
    for (const pod of own) {
      const d = detectPodStrategy(sts, pod);
      if (d.strategy === 'kubernetes_managed') graces.push(d.deleteGracePeriodSeconds);
    }
    if (template.strategy === 'kubernetes_managed') {
      for (let i = own.length; i < replicas; i++) graces.push(template.deleteGracePeriodSeconds);
    }
  }
  return graces.sort((a, b) => b - a);
}

/** Check that the target exists and find its cluster. Not found -> BadInputError (exit 2). */
export async function resolveTarget(kube: PluginKube, task: Task): Promise<ResolvedTarget> {
  const { namespace } = task;
  const { kind, name } = task.target;
  switch (kind) {
    case 'statefulset': {
      const sts = await kube.get<V1StatefulSet>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name });
      if (!sts) {
        throw new BadInputError(
          `StatefulSet ${namespace}/${name} not found. Check the name and namespace: kubectl get statefulsets -n ${namespace}`,
        );
      }
      return withGraces(
        { cluster: name, pods: task.operation === 'rollout' ? (sts.spec?.replicas ?? 1) : 1 },
        await deleteGracesOf(kube, namespace, [sts]),
      );
    }
    case 'cratedb': {
      const cr = await kube.get<{ spec?: { nodes?: { data?: Array<{ replicas?: number }> } } } & KubernetesObject>({
        apiVersion: 'cloud.crate.io/v1',
        kind: 'CrateDB',
        namespace,
        name,
      });
      if (!cr) {
        throw new BadInputError(
          `CrateDB ${namespace}/${name} not found. Check the name and namespace: kubectl get cratedbs -n ${namespace}`,
        );
      }
      const pods = (cr.spec?.nodes?.data ?? []).reduce((sum, d) => sum + (d.replicas ?? 0), 0);
      // crate-operator's StatefulSets carry an owner reference to the CrateDB.
      let owned: V1StatefulSet[] = [];
      try {
        owned = (await kube.list<V1StatefulSet>('apps/v1', 'StatefulSet', namespace)).filter((s) =>
          s.metadata?.ownerReferences?.some((o) => o.kind === 'CrateDB' && o.name === name),
        );
      } catch {
        owned = [];
      }
      return withGraces(
        { cluster: name, pods: task.operation === 'rollout' ? Math.max(1, pods) : 1 },
        await deleteGracesOf(kube, namespace, owned),
      );
    }
    case 'pod': {
      const pod = await kube.get<V1Pod>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
      if (!pod)
        throw new BadInputError(
          `pod ${namespace}/${name} not found. Check the name and namespace: kubectl get pods -n ${namespace}`,
        );
      const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet');
      if (!owner) {
        throw new BadInputError(
          `pod ${namespace}/${name} is not managed by a StatefulSet. Pass a CrateDB pod of a StatefulSet`,
        );
      }
      const sts = await kube.get<V1StatefulSet>({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        namespace,
        name: owner.name,
      });
      if (task.operation === 'rollout') {
        return withGraces(
          { cluster: owner.name, pods: sts?.spec?.replicas ?? 1 },
          sts ? await deleteGracesOf(kube, namespace, [sts]) : [],
        );
      }
      const d = sts ? (await loadDetection()).detectPodStrategy(sts, pod) : null;
      return withGraces(
        { cluster: owner.name, pods: 1 },
        d?.strategy === 'kubernetes_managed' ? [d.deleteGracePeriodSeconds] : [],
      );
    }
  }
}
