// The real Connection: kubeconfig from kubectl's flags (shared/adapters), the plugin's port, and for --local the
// engine's ports. Which SQL transport --local takes is the endpoint's choice (runLocal makes `auto` mean exec);
// plan and health read over HTTP where the pod answers from here, else exec (read-only-sql.ts).
import os from 'node:os';
import type { EngineDeps } from '../shared/ports.js';
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
    async engineDeps(log, signal, opts = {}): Promise<EngineDeps> {
      const [{ createKubernetesPort }, { createSqlTransportFactory }, { systemClock }] = await Promise.all([
        import('../shared/adapters/kube.js'),
        import('../shared/adapters/sql-factory.js'),
        import('../shared/clock.js'),
      ]);
      const kube = createKubernetesPort(kc, { reportingInstance: identity });
      const factory = createSqlTransportFactory(kube);
      // plan/health from here: HTTP where the pod answers, else exec (only reads, so a retry is harmless).
      const sql = opts.readOnly ? (await import('./read-only-sql.js')).readOnlySqlFactory(factory, log) : factory;
      return { kube, sql, clock: systemClock, log, signal, holderIdentity: identity };
    },
  };
}
