// A Temporal worker serving the engine's activities and workflows on one task queue. It runs from the npm install
// or an image with node_modules (the Temporal core bridge is a native module: not in the single binary). Workflow
// code comes prebuilt (dist/lib/temporal/workflows.js, `npm run build`) when present; else it is bundled at start-up
// from shared/temporal/workflows (webpack, ~5-10 s).
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { LogLevel } from '../ports.js';
import { createActivities, type KubeConnector } from './activities.js';
import { kubeConnector } from './kube-connector.js';

export interface TemporalWorkerOptions {
  address: string;
  namespace?: string;
  taskQueue: string;
  /** The worker's kubeconfig (default $KUBECONFIG / ~/.kube/config, else in-cluster). */
  kubeconfig?: string;
  identity?: string;
  logLevel?: LogLevel;
  /** One log line (engine JSON lines and the worker's own). */
  write(line: string): void;
  /** Aborted on SIGTERM / Ctrl-C: the worker shuts down (running activities are cancelled and stop safely). */
  signal: AbortSignal;
  maxConcurrentActivities?: number;
  /** Seconds running activities get to stop safely on shutdown before they are abandoned (default 5; then they are cancelled and stop safely). */
  shutdownGraceSeconds?: number;
  /** Prebuilt workflow bundle (bundleWorkflowCode output); default: found next to this module, else bundled now. */
  workflowBundlePath?: string;
  keepAliveMs?: number;
  pollIntervalMs?: number;
  /** Tests: the Kubernetes connections. */
  connect?: KubeConnector;
  /** Called once the worker polls its task queue. */
  onReady?: () => void;
}

/** Where a prebuilt workflow bundle is: $CDK_TEMPORAL_WORKFLOW_BUNDLE, else dist/lib/temporal/workflows.js near this module. */
export function findWorkflowBundle(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CDK_TEMPORAL_WORKFLOW_BUNDLE) return env.CDK_TEMPORAL_WORKFLOW_BUNDLE;
  for (const rel of ['../temporal/workflows.js', './temporal/workflows.js']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return null;
}

/** The workflow sources, for bundling at start-up (running from the repository / npm install). */
export function workflowsSourcePath(): string {
  for (const rel of [
    './workflows/index.ts',
    '../../shared/temporal/workflows/index.ts',
    '../shared/temporal/workflows/index.ts',
  ]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(
    'no prebuilt workflow bundle (dist/lib/temporal/workflows.js) and no workflow sources (shared/temporal/workflows) found; run npm run build',
  );
}

let runtimeInstalled = false;

/** The Temporal frontend did not answer the worker's connection (the command prints one line, exit 6). */
export class TemporalConnectError extends Error {
  constructor(
    readonly address: string,
    options: { cause: unknown },
  ) {
    super(`cannot connect to the Temporal server ${address}`, options);
    this.name = 'TemporalConnectError';
  }
}

export async function runTemporalWorker(o: TemporalWorkerOptions): Promise<void> {
  const write = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) =>
    o.write(JSON.stringify({ ts: new Date().toISOString(), level, msg, component: 'temporal-worker', ...fields }));
  if (!runtimeInstalled) {
    // The SDK's own logs (warnings and up unless --log-level debug) as JSON lines in the same log.
    const sdkLevel = o.logLevel === 'debug' ? 'DEBUG' : 'WARN';
    Runtime.install({
      logger: new DefaultLogger(sdkLevel, (entry) => {
        const level =
          entry.level === 'TRACE' || entry.level === 'DEBUG' ? 'debug' : (entry.level.toLowerCase() as LogLevel);
        write(level, entry.message, { sdk: true, ...(entry.meta ?? {}) });
      }),
    });
    runtimeInstalled = true;
  }
  const identity = o.identity ?? `${process.pid}@${os.hostname()}`;
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: o.address });
  } catch (err) {
    throw new TemporalConnectError(o.address, { cause: err });
  }
  try {
    const bundle = o.workflowBundlePath ?? findWorkflowBundle();
    const activities = createActivities({
      connect: o.connect ?? kubeConnector({ ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}), identity }),
      identity,
      logLevel: o.logLevel ?? 'info',
      write: (line) => o.write(line),
      ...(o.keepAliveMs ? { keepAliveMs: o.keepAliveMs } : {}),
      ...(o.pollIntervalMs ? { pollIntervalMs: o.pollIntervalMs } : {}),
    });
    if (!bundle)
      write(
        'info',
        'no prebuilt workflow bundle (dist/lib/temporal/workflows.js): bundling the workflow code now (webpack, ~5-10 s)',
      );
    const worker = await Worker.create({
      connection,
      namespace: o.namespace ?? 'default',
      taskQueue: o.taskQueue,
      identity,
      activities,
      ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: workflowsSourcePath() }),
      ...(o.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities } : {}),
      // Heartbeats reach the server at most every second: `rollout --temporal` follows the engine's lines live.
      maxHeartbeatThrottleInterval: '1s',
      defaultHeartbeatThrottleInterval: '1s',
      shutdownGraceTime: `${o.shutdownGraceSeconds ?? 5}s`,
    });
    const stop = () => {
      write(
        'info',
        'stopping: running activities are cancelled and stop safely (allocation reset, lock released); their workflows retry them on another worker',
      );
      worker.shutdown();
    };
    if (o.signal.aborted) stop();
    else o.signal.addEventListener('abort', stop, { once: true });
    write(
      'info',
      `worker ${identity} polling task queue ${o.taskQueue} on ${o.address} (namespace ${o.namespace ?? 'default'})`,
      { taskQueue: o.taskQueue },
    );
    o.onReady?.();
    try {
      await worker.run();
    } finally {
      o.signal.removeEventListener('abort', stop);
    }
    write('info', 'worker stopped');
  } finally {
    await connection.close();
  }
}
