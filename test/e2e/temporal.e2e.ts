// The Temporal front ends on the test cluster: a real Temporal dev server (`temporal server start-dev` from the CLI
// test/cluster/build-temporal built, 127.0.0.1, ephemeral port), a worker process on the host
// (`kubectl crate-decommission worker`, the test cluster's kubeconfig), and `rollout --temporal` rolling a 3-pod
// StatefulSet per strategy with the Job-mode e2e assertions (every pod re-created once, each node decommissioned
// once, no unavailable primary, allocation reset).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plugin } from './harness.js';
import {
  FAST_FLAGS,
  expectClusterSafe,
  expectDecommissionedOnce,
  expectRecreatedOnce,
  nodeOf,
  scenario,
  type Scenario,
} from './scenario.js';
import { startDevServer, startWorker, type DevServer, type WorkerProcess } from './temporal-env.js';

const made: Scenario[] = [];
let server: DevServer | null = null;
let worker: WorkerProcess | null = null;
let address = '';
const taskQueue = `e2e-${process.pid}`;
const workerLog = () => worker?.log() ?? '';

beforeAll(async () => {
  server = await startDevServer();
  address = server.address;
  worker = await startWorker(address, taskQueue);
}, 600_000);

afterAll(async () => {
  for (const s of made) await s.drop();
  worker?.child.kill('SIGTERM');
  server?.stop();
});

describe.concurrent.each([
  { strategy: 'kubernetes_managed', dcUtil: true, prefix: 'e2e-tmprl-dcutil' },
  { strategy: 'manual', dcUtil: false, prefix: 'e2e-tmprl-manual' },
])('rollout --temporal ($strategy)', ({ strategy, dcUtil, prefix }) => {
  it('the workflow rolls every pod once, no unavailable primary, allocation reset, exit 0, progress streamed back', async () => {
    const s = await scenario(prefix, { dcUtil });
    made.push(s);
    const r = await plugin(
      [
        'rollout',
        `sts/${s.sts}`,
        '-n',
        s.namespace,
        '--temporal',
        '--temporal-address',
        address,
        '--task-queue',
        taskQueue,
        '--yes',
        ...FAST_FLAGS,
      ],
      {
        timeoutMs: 300_000,
      },
    );
    const out = r.stdout + r.stderr;
    expect(r.code, `${out}\n--- worker ---\n${workerLog().slice(-4000)}`).toBe(0);
    expect(out).toMatch(/workflow crate-rollout-\S+ started on 127\.0\.0\.1:\d+/);
    // The engine's lines (from the heartbeats) and the per-pod outcomes (progress query) reached the plugin.
    for (const pod of s.pods)
      expect(out, `progress of ${pod}`).toMatch(new RegExp(`\\[${pod}\\] Pod ${pod} restarted`));
    expect(out).toMatch(strategy === 'manual' ? /manual decommission/i : /dc_util/);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, s.pods.map(nodeOf));
  }, 300_000);
});
