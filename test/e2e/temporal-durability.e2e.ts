// Temporal durability on the test cluster (issue 11): a worker killed (SIGKILL) in the middle of a pod and a new
// worker finishing the workflow without decommissioning a node twice; a cancelled workflow stopping safely (what
// "safely" means: docs/temporal.md, "Cancel"). Real dev server, real worker processes, `rollout --temporal`.
// Manual strategy, drain held (as in resume.e2e.ts) so the kill and the cancel deterministically meet a draining node.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { connectClient } from '../../shared/temporal/client.js';
import {
  allocationSetting,
  decommissionsPerNode,
  flattenSettings,
  eventually,
  invariants,
  kubectlJson,
  leases,
  pluginStart,
  sim,
  simState,
} from './harness.js';
import {
  FAST_FLAGS,
  FAST_SIM,
  expectClusterSafe,
  expectDecommissionedOnce,
  expectRecreatedOnce,
  nodeOf,
  scenario,
  type Scenario,
} from './scenario.js';
import { startDevServer, startWorker, type DevServer, type WorkerProcess } from './temporal-env.js';

const made: Scenario[] = [];
const workers: WorkerProcess[] = [];
let server: DevServer | null = null;

beforeAll(async () => {
  server = await startDevServer();
}, 600_000);

afterAll(async () => {
  for (const s of made) await s.drop();
  for (const w of workers) w.child.kill('SIGTERM');
  server?.stop();
});

/** 12 primaries over 3 nodes at 0.02 shards/s: a PRIMARIES drain that cannot end before it is released (resume.e2e.ts). */
const TABLES = [{ name: 'metrics', shards: 12, replicas: 1 }];
const HOLD_SIM = { relocationShardsPerSecond: 0.02, concurrentRecoveries: 1, exitDelayMs: 100 };
const FOLLOWED =
  /Resuming: node (\S+) is already decommissioning \(sent by an earlier run of operation \S+\); following it, not sending it again/;

async function worker(taskQueue: string): Promise<WorkerProcess> {
  const w = await startWorker(server!.address, taskQueue);
  workers.push(w);
  return w;
}

/** Wait for the rollout's pod at decommission-sent with its node draining; returns the pod, node and workflow id. */
async function drainingPod(
  s: Scenario,
  output: () => string,
): Promise<{ pod: string; node: string; workflowId: string }> {
  const at = await eventually(
    'a pod at step decommission-sent',
    async () => (await leases(s.namespace)).find((l) => l.progress?.current?.step === 'decommission-sent'),
    120_000,
    100,
  );
  const pod = at.progress!.current!.pod;
  const node = nodeOf(pod);
  await eventually(
    `node ${node} draining`,
    async () => !!(await simState(s.cluster)).nodes?.find((n) => n.name === node)?.decommission,
    30_000,
    100,
  );
  const workflowId = /workflow (crate-rollout-\S+) started/.exec(output())?.[1];
  expect(workflowId, output()).toBeDefined();
  expect(at.operationId, 'the Lease operation id is the workflow id').toBe(workflowId);
  return { pod, node, workflowId: workflowId! };
}

async function decommissionStartedPerPod(s: Scenario): Promise<Record<string, number>> {
  const events = (await kubectlJson(['get', 'events', '-n', s.namespace])).items.filter(
    (e: any) => e.reason === 'DecommissionStarted',
  );
  return Object.fromEntries(s.pods.map((p) => [p, events.filter((e: any) => e.involvedObject?.name === p).length]));
}

describe.concurrent('rollout --temporal, durability (manual strategy, drain held)', () => {
  it('worker SIGKILLed mid-pod: a new worker resumes the pod (follows the draining node), every node decommissioned once, allocation reset', async () => {
    const s = await scenario('e2e-tmprl-kill', { dcUtil: false, tables: TABLES });
    made.push(s);
    const taskQueue = `e2e-kill-${process.pid}`;
    const w1 = await worker(taskQueue);
    await sim('POST', `/clusters/${s.cluster}/config`, HOLD_SIM);
    let held = true;
    const run = pluginStart([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--temporal',
      '--temporal-address',
      server!.address,
      '--task-queue',
      taskQueue,
      '--heartbeat-timeout',
      '15',
      '--yes',
      '--relocation',
      'primaries',
      ...FAST_FLAGS,
    ]); // primaries: the worker is killed while HOLD_SIM's slow relocation drains the node
    try {
      const { pod, node, workflowId } = await drainingPod(s, run.output);
      w1.child.kill('SIGKILL');
      expect((await w1.exited).signal).toBe('SIGKILL');
      const w2 = await worker(taskQueue);
      // The retried restartPod (after the 15 s heartbeat timeout) runs on the new worker and follows the node.
      const who = await eventually(
        'the new worker to follow the draining node',
        async () => FOLLOWED.exec(w2.log())?.[1],
        120_000,
        200,
      ).catch(() => undefined);
      const still = (await simState(s.cluster)).nodes?.find((n) => n.name === node)?.decommission;
      expect(who, `the new worker followed ${node}:\n${w2.log().slice(-4000)}`).toBe(node);
      expect(still, `node ${node} still draining when the new worker followed it`).toBeTruthy();
      expect(s.uids.uids(pod), `${pod} not re-created before the new worker followed`).toHaveLength(1);
      await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM);
      held = false;

      const r = await run.done;
      const out = r.stdout + r.stderr;
      expect(r.code, `${out}\n--- new worker ---\n${w2.log().slice(-4000)}`).toBe(0);
      for (const p of s.pods) expect(out, `progress of ${p}`).toMatch(new RegExp(`Pod ${p} restarted`));
      // The simulator's history and the engine's Events: one DECOMMISSION per node, one per pod.
      await expectDecommissionedOnce(s, s.pods.map(nodeOf));
      expect(await decommissionStartedPerPod(s), 'DecommissionStarted per pod').toEqual(
        Object.fromEntries(s.pods.map((p) => [p, 1])),
      );
      expectRecreatedOnce(s);
      await expectClusterSafe(s);
      const after = await leases(s.namespace);
      expect(
        after.every((l) => !l.holder),
        JSON.stringify(after),
      ).toBe(true);
      // The workflow's history: the killed pod's restartPod completed on its 2nd (or later) attempt, on the new worker.
      const c = await connectClient({ address: server!.address });
      try {
        const history = await c.workflow.getHandle(workflowId).fetchHistory();
        const events = history.events ?? [];
        const scheduled = events.find((e) => {
          const a = e.activityTaskScheduledEventAttributes;
          if (a?.activityType?.name !== 'restartPod') return false;
          const input = defaultPayloadConverter.fromPayload(a.input!.payloads![0]!) as { podName: string };
          return input.podName === pod;
        });
        expect(scheduled, `restartPod ${pod} scheduled`).toBeDefined();
        const started = events.find(
          (e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled!.eventId),
        );
        expect(
          started?.activityTaskStartedEventAttributes?.attempt,
          'attempt of the resumed restartPod',
        ).toBeGreaterThanOrEqual(2);
        expect(started?.activityTaskStartedEventAttributes?.identity).toBe(`${w2.child.pid}@${os.hostname()}`);
      } finally {
        await c.connection.close();
      }
    } finally {
      if (held) await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM).catch(() => undefined);
    }
  }, 420_000);

  it('workflow cancelled mid-drain: Cancelled only after the safe stop (allocation reset, Lease released, no pod deleted), exit 1 as Job mode after jobs cancel', async () => {
    const s = await scenario('e2e-tmprl-cancel', { dcUtil: false, tables: TABLES });
    made.push(s);
    const taskQueue = `e2e-cancel-${process.pid}`;
    await worker(taskQueue);
    await sim('POST', `/clusters/${s.cluster}/config`, HOLD_SIM);
    try {
      const run = pluginStart([
        'rollout',
        `sts/${s.sts}`,
        '-n',
        s.namespace,
        '--temporal',
        '--temporal-address',
        server!.address,
        '--task-queue',
        taskQueue,
        '--yes',
        ...FAST_FLAGS,
      ]);
      const { pod, node, workflowId } = await drainingPod(s, run.output);
      expect(await allocationSetting(s.cluster)).toBe('primaries');
      const c = await connectClient({ address: server!.address });
      let status: string;
      try {
        await c.workflow.getHandle(workflowId).cancel();
        const r = await run.done;
        const out = r.stdout + r.stderr;
        // Read at once, not eventually: the workflow is Cancelled only after the activity stopped safely.
        const allocation = await allocationSetting(s.cluster);
        const lease = await leases(s.namespace);
        status = (await c.workflow.getHandle(workflowId).describe()).status.name;
        expect(r.code, out).toBe(1);
        expect(out).toMatch(/error: the workflow was cancelled; it stopped safely \(allocation reset, lock released\)/);
        expect(out).toMatch(new RegExp(`Pod ${pod}: cancelled, stopped safely`));
        expect(allocation, 'allocation reset when the workflow ended').toBeUndefined();
        expect(
          lease.every((l) => !l.holder),
          `Lease released when the workflow ended: ${JSON.stringify(lease)}`,
        ).toBe(true);
        const progress = await c.workflow
          .getHandle(workflowId)
          .query<{ phase: string; pods: Array<{ podName: string; status: string }> }>('progress');
        expect(progress.phase).toBe('cancelled');
        expect(progress.pods.find((p) => p.podName === pod)?.status).toBe('cancelled');
        expect(progress.pods.filter((p) => p.podName !== pod).map((p) => p.status)).toEqual(
          progress.pods.filter((p) => p.podName !== pod).map(() => 'pending'),
        );
      } finally {
        await c.connection.close();
      }
      expect(status).toBe('CANCELLED');
      // No pod deleted by the cancelled run, no other node decommissioned, graceful_stop restored.
      for (const p of s.pods) expect(s.uids.uids(p), p).toHaveLength(1);
      expect(await decommissionsPerNode(s.cluster)).toEqual({ [node]: 1 });
      const state = await simState(s.cluster);
      const left = Object.keys({ ...flattenSettings(state.transient), ...flattenSettings(state.persistent) }).filter(
        (k) => k.startsWith('cluster.graceful_stop.'),
      );
      expect(left, 'cluster.graceful_stop.* restored').toEqual([]);
      // The DECOMMISSION already sent cannot be taken back: the node finishes its drain, exits, and its container
      // restarts in place (same pod). No primary became unavailable meanwhile.
      await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM);
      await eventually(
        `cluster ${s.cluster} GREEN with 3 nodes again`,
        async () => {
          const st = await simState(s.cluster);
          return (
            st.health === 'GREEN' && (st.nodes ?? []).length === 3 && !(st.nodes ?? []).some((n) => n.decommission)
          );
        },
        180_000,
        500,
      );
      const inv = await invariants(s.cluster);
      expect(inv, JSON.stringify(inv)).toMatchObject({ ok: true, unintended: 0 });
      expect(s.uids.uids(pod), `${pod} still the same pod`).toHaveLength(1);
    } finally {
      await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM).catch(() => undefined);
    }
  }, 420_000);
});
