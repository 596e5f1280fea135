// The Temporal parts of the e2e suite: a real dev server (`temporal server start-dev` from the CLI that
// test/cluster/build-temporal built, 127.0.0.1, ephemeral port) and `kubectl crate-decommission worker` processes on
// the host with the test cluster's kubeconfig (killable one by one: SIGKILL = a crashed worker).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { KUBECONFIG, REPO, pluginSpawn } from './harness.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });

export interface DevServer {
  address: string;
  stop(): void;
}

/** The built Temporal CLI (waits for a build in progress; builds when absent). */
export function temporalCli(): string {
  return execFileSync(`${REPO}/test/cluster/build-temporal`, [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop()!;
}

export async function startDevServer(): Promise<DevServer> {
  const cli = temporalCli();
  const port = await freePort();
  const server: ChildProcess = spawn(
    cli,
    ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'],
    {
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  server.on('error', () => undefined);
  await until('the Temporal dev server', () => listening(port), 60_000);
  return { address: `127.0.0.1:${port}`, stop: () => void server.kill('SIGTERM') };
}

export interface WorkerProcess {
  child: ChildProcess;
  log(): string;
  /** Resolves once the process exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `kubectl crate-decommission worker` on the host; resolves once it polls its task queue. */
export async function startWorker(address: string, taskQueue: string): Promise<WorkerProcess> {
  const child = pluginSpawn([
    'worker',
    '--temporal-address',
    address,
    '--task-queue',
    taskQueue,
    '--kubeconfig',
    KUBECONFIG,
  ]);
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  child.on('error', () => undefined);
  await until(
    `the worker on ${taskQueue} to poll`,
    () => /polling task queue/.test(log) || child.exitCode !== null,
    60_000,
  );
  if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}):\n${log}`);
  return { child, log: () => log, exited };
}
