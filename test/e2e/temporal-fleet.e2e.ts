// fleetMaintenanceWorkflow on the test cluster (issue 11): two clusters with concurrency 1 roll one after the other
// (non-overlapping windows in the fleet's history and in the pods' re-creation times); a failing cluster stops the
// fleet with onFailure=stop and does not with onFailure=continue. Plus the worker Deployment manifest against the
// real API server (--dry-run=server). Real dev server, a real worker process, the engine on real pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, eventually, kubectl, kubectlJson, sim, simState, decommissionsPerNode } from './harness.js';
import {
  expectClusterSafe,
  expectDecommissionedOnce,
  expectRecreatedOnce,
  nodeOf,
  scenario,
  type Scenario,
} from './scenario.js';
import { startDevServer, startWorker, type DevServer, type WorkerProcess } from './temporal-env.js';
import { connectClient, startFleetMaintenance, workflowEnd } from '../../shared/temporal/client.js';
import type {
  ClusterMaintenanceInput,
  FleetMaintenanceInput,
  FleetMaintenanceResult,
} from '../../shared/temporal/contracts.js';

const made: Scenario[] = [];
let server: DevServer | null = null;
let worker: WorkerProcess | null = null;
const taskQueue = `e2e-fleet-${process.pid}`;

beforeAll(async () => {
  server = await startDevServer();
  worker = await startWorker(server.address, taskQueue);
}, 600_000);

afterAll(async () => {
  for (const s of made) await s.drop();
  worker?.child.kill('SIGTERM');
  server?.stop();
});

const clusterInput = (s: Scenario): ClusterMaintenanceInput => ({
  target: { namespace: s.namespace, kind: 'statefulset', name: s.sts },
  podReadyTimeout: 120,
  healthTimeout: 120,
  options: { decommissionTimeout: 120 },
});

async function runFleet(id: string, input: FleetMaintenanceInput) {
  const c = await connectClient({ address: server!.address });
  try {
    const handle = await startFleetMaintenance(c, { taskQueue, workflowId: id, input });
    const end = await workflowEnd(handle);
    const history = await handle.fetchHistory();
    return { end, history };
  } finally {
    await c.connection.close();
  }
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

async function podCreations(s: Scenario): Promise<number[]> {
  const pods = (await kubectlJson(['get', 'pods', '-n', s.namespace, '-l', `cdk-test/sts=${s.sts}`])).items;
  return pods.map((p: any) => Date.parse(p.metadata.creationTimestamp));
}

describe.concurrent('fleetMaintenanceWorkflow on the test cluster', () => {
  it('two clusters, maxConcurrent 1: the second starts only after the first finished; each rolled once, safely', async () => {
    const [a, b] = await Promise.all([
      scenario('e2e-fleet-a', { dcUtil: true, replicas: 2 }),
      scenario('e2e-fleet-b', { dcUtil: false, replicas: 2 }),
    ]);
    made.push(a!, b!);
    const started = Date.now();
    const { end, history } = await runFleet(`e2e-fleet-seq-${process.pid}`, {
      clusters: [clusterInput(a!), clusterInput(b!)],
      maxConcurrent: 1,
    });
    expect(end.status, `${JSON.stringify(end).slice(0, 3000)}\n--- worker ---\n${worker!.log().slice(-3000)}`).toBe(
      'succeeded',
    );
    const result = (end as { result: FleetMaintenanceResult }).result;
    expect(result.clusters.map((c) => c.status)).toEqual(['succeeded', 'succeeded']);
    // Windows from the fleet's history: [child started, child completed].
    const events = history.events ?? [];
    const window = (i: number) => {
      const id = `e2e-fleet-seq-${process.pid}/${i}-`;
      const s = events.find((e) =>
        e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId?.startsWith(id),
      );
      const d = events.find((e) =>
        e.childWorkflowExecutionCompletedEventAttributes?.workflowExecution?.workflowId?.startsWith(id),
      );
      expect(s, `child ${i} started`).toBeDefined();
      expect(d, `child ${i} completed`).toBeDefined();
      return { from: ms(s!.eventTime), to: ms(d!.eventTime) };
    };
    const w0 = window(0);
    const w1 = window(1);
    expect(w0.from).toBeGreaterThanOrEqual(started - 1000);
    expect(w0.to, `child 0 ${JSON.stringify(w0)} ends before child 1 ${JSON.stringify(w1)} starts`).toBeLessThanOrEqual(
      w1.from,
    );
    // The pods agree (creationTimestamp has 1 s resolution): A's re-created pods are older than B's window, B's newer.
    const ca = await podCreations(a!);
    const cb = await podCreations(b!);
    expect(Math.max(...ca), 'A re-created within its window').toBeLessThanOrEqual(w0.to);
    expect(Math.min(...cb), 'B re-created after A finished').toBeGreaterThanOrEqual(Math.floor(w1.from / 1000) * 1000);
    for (const s of [a!, b!]) {
      expectRecreatedOnce(s);
      await expectClusterSafe(s);
      await expectDecommissionedOnce(s, s.pods.map(nodeOf));
    }
  }, 420_000);

  it('a failing cluster (RED table: refused) stops the fleet with onFailure=stop; with onFailure=continue the next cluster rolls', async () => {
    const [red, good] = await Promise.all([
      scenario('e2e-fleet-red', { dcUtil: true, replicas: 2 }),
      scenario('e2e-fleet-good', { dcUtil: true, replicas: 2 }),
    ]);
    made.push(red!, good!);
    await sim('POST', `/clusters/${red!.cluster}/tables/doc.metrics/lose-primary`, {});
    await eventually('the table to be RED', async () => (await simState(red!.cluster)).health === 'RED', 10_000);
    const clusters = [clusterInput(red!), clusterInput(good!)];

    const stop = await runFleet(`e2e-fleet-stop-${process.pid}`, { clusters, maxConcurrent: 1, onFailure: 'stop' });
    expect(stop.end.status, JSON.stringify(stop.end).slice(0, 3000)).toBe('failed');
    const stopped = (stop.end as { result: FleetMaintenanceResult }).result;
    expect(stopped.clusters.map((c) => [c.status, c.errorKind])).toEqual([
      ['failed', 'refused'],
      ['skipped', null],
    ]);
    expect(stopped.error).toMatch(/1 of 2 clusters failed .*refused.*; 1 not started \(onFailure=stop\)/);
    expect(
      (stop.history.events ?? []).filter((e) => e.childWorkflowExecutionStartedEventAttributes).length,
      'children started',
    ).toBe(1);
    // Nothing touched on either cluster.
    expectRecreatedOnce(red!, []);
    expectRecreatedOnce(good!, []);
    expect(await decommissionsPerNode(red!.cluster)).toEqual({});
    expect(await decommissionsPerNode(good!.cluster)).toEqual({});

    const cont = await runFleet(`e2e-fleet-continue-${process.pid}`, {
      clusters,
      maxConcurrent: 1,
      onFailure: 'continue',
    });
    expect(cont.end.status, JSON.stringify(cont.end).slice(0, 3000)).toBe('failed');
    const continued = (cont.end as { result: FleetMaintenanceResult }).result;
    expect(continued.clusters.map((c) => c.status)).toEqual(['failed', 'succeeded']);
    expect(continued.error).toMatch(/^1 of 2 clusters failed/);
    expect(continued.error).not.toMatch(/not started/);
    expectRecreatedOnce(red!, []);
    expect(await decommissionsPerNode(red!.cluster)).toEqual({});
    expectRecreatedOnce(good!);
    await expectClusterSafe(good!);
    await expectDecommissionedOnce(good!, good!.pods.map(nodeOf));
  }, 420_000);

  it('manifests/temporal/worker-deployment.yaml is accepted by the real API server (--dry-run=server)', async () => {
    const ns = `e2e-tmprl-manifest-${process.pid}`;
    await kubectl(['create', 'namespace', ns]);
    try {
      const r = await kubectl([
        'apply',
        '--dry-run=server',
        '-n',
        ns,
        '-f',
        `${REPO}/manifests/temporal/`,
        '-o',
        'name',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/deployment\.apps\/crate-decommission-temporal-worker/);
    } finally {
      await kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  });
});
