// The runner killed (SIGKILL) in the middle of a pod: the Job's retry takes the Lease over (same operation id),
// follows the pod where the dead runner left it and finishes the roll. Each node decommissioned exactly once,
// each pod re-created exactly once. Manual strategy: killed while the node drains (DECOMMISSION sent, not sent
// again). dc_util strategy: killed while the pod is being deleted (dc_util draining in preStop; not deleted again).
// In both the drain is held until the retry has said it FOLLOWS the node/pod, so the retry deterministically
// meets the node still draining (and, with dc_util, the old pod still terminating); then it is released.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CDK_STATE,
  RUNNER_IMAGE,
  eventually,
  kubectlJson,
  leases,
  pluginOk,
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

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

async function runnerPods(namespace: string): Promise<any[]> {
  return (await kubectlJson(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])).items;
}

/**
 * A drain that cannot end before the Job's retry (~10 s backoff + runner start) reaches the pod. 12 shards, 1
 * replica: the simulator puts each new primary on the least-loaded node, so every node holds about 4 primaries,
 * which a PRIMARIES drain (the tool's default, and dc_util's flag here) must move. At 0.02 shards/s (a small
 * bucket: at most one token banked) the second primary cannot finish moving before ~50 s. The table is created
 * under the fast config (GREEN at once); the hold is set just before the rollout and lifted (FAST_SIM) once the
 * retry logged that it follows.
 */
const TABLES = [{ name: 'metrics', shards: 12, replicas: 1 }];
const HOLD_SIM = { relocationShardsPerSecond: 0.02, concurrentRecoveries: 1, exitDelayMs: 100 };

describe.concurrent.each([
  {
    strategy: 'manual',
    dcUtil: false,
    killAt: 'decommission-sent',
    prefix: 'e2e-resume-manual',
    // The Lease says decommission-sent just before the statement goes out: kill once the node drains.
    killWhen: 'the node drains',
    followed:
      /Resuming: node (\S+) is already decommissioning \(sent by an earlier run of operation \S+\); following it, not sending it again/,
  },
  {
    strategy: 'kubernetes_managed',
    dcUtil: true,
    killAt: 'deleting',
    prefix: 'e2e-resume-dcutil',
    // The Lease says deleting just before the DELETE: kill once the pod is terminating.
    killWhen: 'the pod is terminating',
    followed: /Resuming: pod (\S+) is already being deleted by an earlier run; following it/,
  },
])('runner killed mid-rollout ($strategy, at step $killAt)', ({ dcUtil, killAt, prefix, killWhen, followed }) => {
  it('the Job retry follows the draining node without decommissioning or deleting twice and finishes the roll', async () => {
    const s = await scenario(prefix, { dcUtil, tables: TABLES });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    await sim('POST', `/clusters/${s.cluster}/config`, HOLD_SIM);
    let held = true;
    // --relocation primaries: the kill must land while the node drains, which HOLD_SIM's slow relocation makes last;
    // a relocation-free drain (auto's none) moves nothing and ends at once.
    const run = pluginStart([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      '--relocation',
      'primaries',
      ...FAST_FLAGS,
    ]);
    try {
      const at = await eventually(
        `a pod at step ${killAt}`,
        async () => (await leases(s.namespace)).find((l) => l.progress?.current?.step === killAt),
        120_000,
        100,
      );
      const pod = at.progress!.current!.pod;
      const node = nodeOf(pod);
      const terminating = async () =>
        !!(await kubectlJson(['get', 'pod', pod, '-n', s.namespace])).metadata.deletionTimestamp;
      const draining = async () => !!(await simState(s.cluster)).nodes?.find((n) => n.name === node)?.decommission;
      await eventually(`${pod}: ${killWhen}`, dcUtil ? terminating : draining, 30_000, 100);
      const [runner] = (await runnerPods(s.namespace)).filter((p) => p.status?.phase === 'Running');
      expect(runner, 'a running runner pod').toBeDefined();
      const pid = Number(readFileSync(`${CDK_STATE}/pods/${runner.metadata.uid}/runner/pid`, 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      process.kill(pid, 'SIGKILL');

      // The retry must meet the node still draining (with dc_util: the old pod still terminating) and follow it.
      const who = await eventually(
        'the retried runner to follow',
        async () => followed.exec(run.output())?.[1],
        90_000,
        200,
      ).catch(() => undefined);
      const old = await kubectlJson(['get', 'pod', pod, '-n', s.namespace]).catch(() => null);
      const still = (await simState(s.cluster)).nodes?.find((n) => n.name === node)?.decommission;
      expect(who, `the retry followed ${dcUtil ? pod : node}:\n${run.output()}`).toBe(dcUtil ? pod : node);
      expect(still, `node ${node} still draining when the retry followed`).toBeTruthy();
      expect(old?.metadata?.uid, 'the old pod is still there when the retry follows it').toBe(s.uids.uids(pod)[0]);
      if (dcUtil) expect(old?.metadata?.deletionTimestamp, 'the old pod is still terminating').toBeTruthy();
      expect(s.uids.uids(pod), 'not re-created before the retry followed').toHaveLength(1);
      await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM);
      held = false;

      const r = await run.done;
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(0);
      const pods = await runnerPods(s.namespace);
      expect(pods.length, 'runner pods (the killed one and its retry)').toBe(2);
      // The plugin followed the retry's pod and the retry resumed the same operation.
      expect(out.match(/^runner pod \S+/gm)?.length, out).toBe(2);
      expect(out).toMatch(/Resuming rolling restart/);
      // The engine records DecommissionStarted right before it sends the DECOMMISSION (manual) or deletes the pod
      // (dc_util): one per pod, the followed pod's from the killed runner (reportingInstance = its hostname).
      const events = (await kubectlJson(['get', 'events', '-n', s.namespace])).items.filter(
        (e: any) => e.reason === 'DecommissionStarted',
      );
      const perPod = Object.fromEntries(
        s.pods.map((p) => [p, events.filter((e: any) => e.involvedObject?.name === p).length]),
      );
      expect(perPod, `DecommissionStarted (${dcUtil ? 'delete' : 'DECOMMISSION'}) per pod`).toEqual(
        Object.fromEntries(s.pods.map((p) => [p, 1])),
      );
      expect(
        events.find((e: any) => e.involvedObject?.name === pod)?.reportingInstance,
        'who started the followed pod',
      ).toBe(runner.metadata.name);
      expectRecreatedOnce(s);
      await expectClusterSafe(s);
      await expectDecommissionedOnce(s, s.pods.map(nodeOf));
      const job = (
        await kubectlJson(['get', 'jobs', '-n', s.namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])
      ).items[0];
      expect(job.status.failed).toBe(1);
    } finally {
      // Never leave a held drain behind a failed assertion (the plugin would wait for it).
      if (held) await sim('POST', `/clusters/${s.cluster}/config`, FAST_SIM).catch(() => undefined);
    }
  });
});
