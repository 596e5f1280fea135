// The real Connection: kubeconfig from kubectl's flags (shared/adapters), the plugin's port, and for --local the
// engine's ports with every SQL request going through the API server (exec into the pod; pod IPs are not reachable here).
import os from 'node:os';
import type { EngineDeps, SqlTransportFactory } from '../shared/ports.js';
import type { Connection } from './io.js';
import type { KubeConnectOptions } from './options.js';
import { createPluginKube } from './kube.js';

export async function connectToCluster(opts: KubeConnectOptions): Promise<Connection> {
  const { loadKubeConfig } = await import('../shared/adapters/kubeconfig.js');
  const { kc, namespace } = loadKubeConfig(opts);
  const identity = `${os.userInfo().username}@${os.hostname()}`;
  return {
    namespace,
    kube: createPluginKube(kc),
    identity,
    async engineDeps(log, signal): Promise<EngineDeps> {
      const [{ createKubernetesPort }, { createSqlTransportFactory }, { systemClock }] = await Promise.all([
        import('../shared/adapters/kube.js'),
        import('../shared/adapters/sql-factory.js'),
        import('../shared/clock.js'),
      ]);
      const kube = createKubernetesPort(kc, { reportingInstance: identity });
      return { kube, sql: execOnly(createSqlTransportFactory(kube)), clock: systemClock, log, signal, holderIdentity: identity };
    },
  };
}

/** --local: "HTTP" requests go through exec as well (localhost:4200 inside the pod), the only path from a workstation. */
export function execOnly(factory: SqlTransportFactory): SqlTransportFactory {
  return { http: (ns, pod, endpoint) => factory.exec(ns, pod, endpoint), exec: (ns, pod, endpoint) => factory.exec(ns, pod, endpoint) };
}
