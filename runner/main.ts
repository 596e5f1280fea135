// In-cluster entrypoint of the runner image: real I/O for runRunner (in-cluster config, stdout, termination log, SIGTERM).
import { writeFile } from 'node:fs/promises';
import { loadEngine } from '../plugin/engine.js';
import { runRunner, type RunnerConnection } from './run.js';

const terminate = new AbortController();
process.on('SIGTERM', () => terminate.abort(new Error('SIGTERM: stopping safely')));
process.on('SIGINT', () => terminate.abort(new Error('SIGINT: stopping safely')));

async function connect(opts: { namespace?: string }): Promise<RunnerConnection> {
  const [{ loadKubeConfig }, { createKubernetesPort }, { createSqlTransportFactory }, { systemClock }] = await Promise.all([
    import('../shared/adapters/kubeconfig.js'),
    import('../shared/adapters/kube.js'),
    import('../shared/adapters/sql-factory.js'),
    import('../shared/clock.js'),
  ]);
  const { kc, namespace } = loadKubeConfig({ inCluster: true, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
  const holder = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'crate-decommission-runner';
  return {
    namespace,
    async engineDeps(log, signal) {
      const kube = createKubernetesPort(kc);
      return { kube, sql: createSqlTransportFactory(kube), clock: systemClock, log, signal, holderIdentity: holder };
    },
  };
}

const code = await runRunner({
  argv: process.argv.slice(2),
  env: process.env,
  writeLine: (line) => void process.stdout.write(`${line}\n`),
  writeFile: (path, text) => writeFile(path, text, 'utf8'),
  connect,
  loadEngine,
  signal: terminate.signal,
  now: () => new Date(),
});
// Let stdout drain, then leave even if a watch or keep-alive socket is still open.
process.stdout.write('', () => process.exit(code));
