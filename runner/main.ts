// In-cluster entrypoint of the runner image: real I/O for runRunner (in-cluster config, stdout, termination log, SIGTERM).
import { writeFile } from 'node:fs/promises';
// The adapters are imported statically, not with import(): the runner is one bundle (nothing to load later), and
// esbuild cannot tree-shake a dynamically imported module, so import() kept everything shared/adapters/index.ts
// exports for the plugin (plugin-kube.ts, YAML) and with it client-node's index: its ~60 generated API classes and
// ~900 models (issue 9 item 2, runner peak RSS; scripts/build-options.mjs).
import {
  loadKubeConfig,
  createKubernetesPort,
  createSqlTransportFactory,
  systemClock,
  withPodCache,
} from '../shared/adapters/index.js';
import { loadEngine, Interrupts, RUNNER_STOP_SECONDS } from '../shared/task/index.js';
import { runRunner, type RunnerConnection } from './run.js';

// SIGTERM (jobs cancel, eviction, deadline): the engine stops safely (allocation reset, Lease released); if that takes
// longer than RUNNER_STOP_SECONDS (below the 60 s grace period of `jobs cancel`), or on a second signal, it exits 143.
const terminate = new Interrupts(
  {
    graceMs: RUNNER_STOP_SECONDS * 1000,
    forcedMessage: (sig) =>
      JSON.stringify({
        ts: new Date().toISOString(),
        level: 'error',
        msg: `runner stopped by ${sig} before the safe stop finished (${RUNNER_STOP_SECONDS}s); a restricted allocation is reset by the next run once the Lease expires`,
        step: 'runner',
      }),
  },
  {
    exit: (code) => process.exit(code),
    write: (t) => void process.stdout.write(t),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
  },
);
process.on('SIGTERM', () => terminate.receive('SIGTERM'));
process.on('SIGINT', () => terminate.receive('SIGINT'));

async function connect(opts: { namespace?: string }): Promise<RunnerConnection> {
  const { kc, namespace } = loadKubeConfig({
    inCluster: true,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
  });
  const holder = process.env.POD_NAME ?? process.env.HOSTNAME ?? 'crate-decommission-runner';
  return {
    namespace,
    async engineDeps(log, signal) {
      // Pods are read from one shared watch of the namespace (shared/adapters/pod-cache.ts), not a GET each.
      const kube = withPodCache(createKubernetesPort(kc), { signal, onError: (m) => log.warn(m) });
      return {
        kube,
        sql: createSqlTransportFactory(kube, { signal }),
        clock: systemClock,
        log,
        signal,
        holderIdentity: holder,
      };
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
