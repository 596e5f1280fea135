// `rbac install|uninstall`: the runner's ServiceAccount, Role and RoleBinding (or ClusterRole variant), from plugin/objects.ts.
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError } from '../shared/task/index.js';
import { buildRbac, rbacObjects } from './objects.js';
import type { PluginKube, WriteOptions } from '../shared/adapters/index.js';

export function rbacFor(namespace: string, clusterWide: boolean, serviceAccountName?: string): KubernetesObject[] {
  return rbacObjects(
    buildRbac({ namespace, clusterWide, ...(serviceAccountName ? { serviceAccountName } : {}) }),
  ) as KubernetesObject[];
}

function ref(o: KubernetesObject) {
  return {
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    name: o.metadata?.name ?? '',
    ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
  };
}

/** kubectl-style `kind/name` (lowercase kind). */
function shortName(o: KubernetesObject): string {
  const group = (o.apiVersion ?? '').includes('/') ? `.${(o.apiVersion ?? '').split('/')[0]}` : '';
  return `${(o.kind ?? '').toLowerCase()}${group}/${o.metadata?.name ?? ''}`;
}

/** Create each object, or replace it when it exists (idempotent, like kubectl apply). Returns kubectl-style lines. */
export async function applyObjects(
  kube: PluginKube,
  objects: KubernetesObject[],
  opts: WriteOptions = {},
): Promise<string[]> {
  const lines: string[] = [];
  const suffix = opts.dryRun ? ' (server dry run)' : '';
  for (const obj of objects) {
    try {
      await kube.create(obj, opts);
      lines.push(`${shortName(obj)} created${suffix}`);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.statusCode !== 409) throw err;
      const current = await kube.get(ref(obj));
      const next = {
        ...obj,
        metadata: { ...obj.metadata, resourceVersion: current?.metadata?.resourceVersion },
      } as KubernetesObject;
      if (obj.kind === 'ServiceAccount') {
        // Keep what the token controller and users added (secrets, imagePullSecrets): only labels change.
        await kube.replace(
          {
            ...current,
            metadata: { ...current?.metadata, labels: { ...current?.metadata?.labels, ...obj.metadata?.labels } },
          } as KubernetesObject,
          opts,
        );
      } else {
        await kube.replace(next, opts);
      }
      lines.push(`${shortName(obj)} configured${suffix}`);
    }
  }
  return lines;
}

/** Delete the objects in reverse order. Returns kubectl-style lines. */
export async function deleteObjects(
  kube: PluginKube,
  objects: KubernetesObject[],
  opts: WriteOptions = {},
): Promise<string[]> {
  const lines: string[] = [];
  for (const obj of [...objects].reverse()) {
    const existed = await kube.delete(ref(obj), opts);
    lines.push(
      `${shortName(obj)} ${existed ? 'deleted' : 'not found'}${opts.dryRun && existed ? ' (server dry run)' : ''}`,
    );
  }
  return lines;
}
