// The worker's Kubernetes connections: one per kubeconfig context named in an activity's input (cached), from
// the worker's kubeconfig (--kubeconfig, else $KUBECONFIG / ~/.kube/config); no context = the kubeconfig's
// current context, else the pod's service account (a worker Deployment serving its own cluster).
import os from 'node:os';
import { loadKubeConfig } from '../adapters/kubeconfig.js';
import { createKubernetesPort } from '../adapters/kube.js';
import { withPodCache } from '../adapters/pod-cache.js';
import { createSqlTransportFactory } from '../adapters/sql-factory.js';
import type { KubeConnector } from './activities.js';

export function kubeConnector(opts: { kubeconfig?: string; identity?: string } = {}): KubeConnector {
  const cache = new Map<string, ReturnType<KubeConnector>>();
  const identity = opts.identity ?? `${os.hostname()}`;
  return (kubeContext) => {
    const key = kubeContext ?? '';
    let hit = cache.get(key);
    if (!hit) {
      hit = (async () => {
        const { kc } = loadKubeConfig({
          ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
          ...(kubeContext ? { context: kubeContext } : {}),
        });
        // One shared pod watch per namespace while activities read it; stopped after 2 idle minutes.
        const kube = withPodCache(createKubernetesPort(kc, { reportingInstance: identity }));
        return { kube, sql: createSqlTransportFactory(kube) };
      })();
      // A failed load (unknown context) is not remembered: the kubeconfig may be fixed while the worker runs.
      hit.catch(() => cache.delete(key));
      cache.set(key, hit);
    }
    return hit;
  };
}
