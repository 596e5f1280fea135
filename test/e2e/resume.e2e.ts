// The runner killed (SIGKILL) in the middle of a pod: the Job's retry takes the Lease over (same operation id),
// follows the pod where the dead runner left it and finishes the roll. Each node decommissioned exactly once,
// each pod re-created exactly once. Manual strategy: killed while the node drains (DECOMMISSION sent, not sent
// again). dc_util strategy: killed while the pod is being deleted (dc_util draining in preStop; not deleted again).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CDK_STATE, RUNNER_IMAGE, eventually, kubectlJson, leases, pluginOk, pluginStart } from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectDecommissionedOnce, expectRecreatedOnce, nodeOf, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

async function runnerPods(namespace: string): Promise<any[]> {
  return (await kubectlJson(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])).items;
}

describe.concurrent.each([
  { strategy: 'manual', dcUtil: false, killAt: 'decommission-sent', prefix: 'e2e-resume-manual' },
  { strategy: 'kubernetes_managed', dcUtil: true, killAt: 'deleting', prefix: 'e2e-resume-dcutil' },
])('runner killed mid-rollout ($strategy, at step $killAt)', ({ dcUtil, killAt, prefix }) => {
  it('the Job retry resumes without decommissioning a node twice and finishes the roll', async () => {
    // Slow enough drains and exits that the kill lands while the pod is at that step.
    const s = await scenario(prefix, {
      dcUtil,
      simConfig: { exitDelayMs: 4000, relocationShardsPerSecond: 1, concurrentRecoveries: 1 },
    });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const run = pluginStart(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);

    const at = await eventually(
      `a pod at step ${killAt}`,
      async () => (await leases(s.namespace)).find((l) => l.progress?.current?.step === killAt),
      120_000,
      100,
    );
    const [runner] = (await runnerPods(s.namespace)).filter((p) => p.status?.phase === 'Running');
    expect(runner, 'a running runner pod').toBeDefined();
    const pid = Number(readFileSync(`${CDK_STATE}/pods/${runner.metadata.uid}/runner/pid`, 'utf8').trim());
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');

    const r = await run.done;
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    const pods = await runnerPods(s.namespace);
    expect(pods.length, 'runner pods (the killed one and its retry)').toBe(2);
    expect(out).toContain(at.progress!.current!.pod);
    // The plugin followed the retry's pod and the retry resumed the same operation.
    expect(out.match(/^runner pod \S+/gm)?.length, out).toBe(2);
    expect(out).toMatch(/Resuming rolling restart/);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, s.pods.map(nodeOf));
    const job = (await kubectlJson(['get', 'jobs', '-n', s.namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])).items[0];
    expect(job.status.failed).toBe(1);
  });
});
