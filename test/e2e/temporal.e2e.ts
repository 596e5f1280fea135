// The Temporal front ends on the test cluster: a real Temporal dev server (`temporal server start-dev` from the CLI
// test/cluster/build-temporal built, 127.0.0.1, ephemeral port), a worker process on the host
// (`kubectl crate-decommission worker`, the test cluster's kubeconfig), and `rollout --temporal` rolling a 3-pod
// StatefulSet per strategy with the Job-mode e2e assertions (every pod re-created once, each node decommissioned
// once, no unavailable primary, allocation reset).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECONFIG, REPO, pluginSpawn, plugin } from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectDecommissionedOnce, expectRecreatedOnce, nodeOf, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
let server: ChildProcess | null = null;
let worker: ChildProcess | null = null;
let address = '';
const taskQueue = `e2e-${process.pid}`;
let workerLog = '';

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

async function until(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
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

beforeAll(async () => {
  const cli = execFileSync(`${REPO}/test/cluster/build-temporal`, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const port = await freePort();
  server = spawn(cli, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'ignore'] });
  address = `127.0.0.1:${port}`;
  await until('the Temporal dev server', () => listening(port), 60_000);
  worker = pluginSpawn(['worker', '--temporal-address', address, '--task-queue', taskQueue, '--kubeconfig', KUBECONFIG]);
  worker.stdout!.on('data', (d: Buffer) => (workerLog += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (workerLog += d.toString()));
  await until('the worker to poll', () => /polling task queue/.test(workerLog), 60_000);
}, 600_000);

afterAll(async () => {
  for (const s of made) await s.drop();
  worker?.kill('SIGTERM');
  server?.kill('SIGTERM');
});

describe.concurrent.each([
  { strategy: 'kubernetes_managed', dcUtil: true, prefix: 'e2e-tmprl-dcutil' },
  { strategy: 'manual', dcUtil: false, prefix: 'e2e-tmprl-manual' },
])('rollout --temporal ($strategy)', ({ strategy, dcUtil, prefix }) => {
  it('the workflow rolls every pod once, no unavailable primary, allocation reset, exit 0, progress streamed back', async () => {
    const s = await scenario(prefix, { dcUtil });
    made.push(s);
    const r = await plugin(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--temporal', '--temporal-address', address, '--task-queue', taskQueue, '--yes', ...FAST_FLAGS], {
      timeoutMs: 300_000,
    });
    const out = r.stdout + r.stderr;
    expect(r.code, `${out}\n--- worker ---\n${workerLog.slice(-4000)}`).toBe(0);
    expect(out).toMatch(/workflow crate-rollout-\S+ started on 127\.0\.0\.1:\d+/);
    // The engine's lines (from the heartbeats) and the per-pod outcomes (progress query) reached the plugin.
    for (const pod of s.pods) expect(out, `progress of ${pod}`).toMatch(new RegExp(`\\[${pod}\\] Pod ${pod} restarted`));
    expect(out).toMatch(strategy === 'manual' ? /manual decommission/i : /dc_util/);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, s.pods.map(nodeOf));
  }, 300_000);
});
