// The real Connection: kubeconfig from kubectl's flags (shared/adapters), the plugin's port, and for --local the
// engine's ports. Which SQL transport --local takes is the endpoint's choice (runLocal makes `auto` mean exec);
// plan and health read over HTTP where the pod answers from here, else exec (read-only-sql.ts).
import os from 'node:os';
import type { EngineDeps } from '../shared/index.js';
import type { Connection } from './io.js';
import type { KubeConnectOptions } from './options.js';
import { createPluginKube, type PluginKube } from '../shared/adapters/index.js';
import { isUnreachable, unreachableError, type ApiServerTarget } from '../shared/task/index.js';

/** Every failure below HTTP becomes ONE error naming the server and context, with what to check (exit 6). */
export function withUnreachable(kube: PluginKube, target: ApiServerTarget): PluginKube {
  const wrap =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      try {
        return await fn(...a);
      } catch (err) {
        throw isUnreachable(err) ? unreachableError(err, target) : err;
      }
    };
  return {
    get: wrap(kube.get.bind(kube)) as PluginKube['get'],
    list: wrap(kube.list.bind(kube)) as PluginKube['list'],
    create: wrap(kube.create.bind(kube)) as PluginKube['create'],
    replace: wrap(kube.replace.bind(kube)) as PluginKube['replace'],
    delete: wrap(kube.delete.bind(kube)),
    canI: wrap(kube.canI.bind(kube)),
    observeJob: wrap(kube.observeJob.bind(kube)),
    streamLogs: wrap(kube.streamLogs.bind(kube)),
  };
}

export async function connectToCluster(opts: KubeConnectOptions): Promise<Connection> {
  const { loadKubeConfig } = await import('../shared/adapters/index.js');
  const { kc, namespace } = loadKubeConfig(opts);
  const identity = `${os.userInfo().username}@${os.hostname()}`;
  const target: ApiServerTarget = {
    server: kc.getCurrentCluster()?.server ?? '?',
    context: kc.getCurrentContext(),
    cluster: kc.getCurrentCluster()?.name ?? '?',
  };
  return {
    namespace,
    kube: withUnreachable(createPluginKube(kc), target),
    identity,
    target,
    async engineDeps(log, signal, opts = {}): Promise<EngineDeps> {
      const { createKubernetesPort, createSqlTransportFactory, systemClock, withPodCache } =
        await import('../shared/adapters/index.js');
      // Pods are read from one shared watch of the namespace (shared/adapters/pod-cache.ts), not a GET each.
      const kube = withPodCache(createKubernetesPort(kc, { reportingInstance: identity }), {
        signal,
        onError: (m) => log.warn(m),
      });
      // Exec sessions (one per pod) end with the run's signal, else after a minute idle.
      const factory = createSqlTransportFactory(kube, { signal });
      // plan/health from here: HTTP where the pod answers, else exec (only reads, so a retry is harmless).
      const sql = opts.readOnly ? (await import('./read-only-sql.js')).readOnlySqlFactory(factory, log) : factory;
      return { kube, sql, clock: systemClock, log, signal, holderIdentity: identity };
    },
  };
}
