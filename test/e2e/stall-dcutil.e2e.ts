// Issue 7 item 3 under kubernetes_managed (dc_util in preStop): the node of the first pod the engine
// deletes gets its active-request counter leaked (as CrateDB 6.4.3's retried reads do)
// while dc_util drains it, so it would wait the whole graceful-stop timeout and dc_util with it. The engine
// sees the drain done, the node refusing SQL and nothing on it in sys.jobs / sys.operations for --stall-idle, and
// signals the CrateDB process in the crate container (`kill -TERM 1`: with the process kubelet's PID namespace per
// container, pid 1 is CrateDB, the exit dc_util waits for). dc_util returns, the pod terminates, the rollout goes on.
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, eventually, kubectlJson, leases, pluginOk, pluginStart, sim, simState } from './harness.js';
import {
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

describe('a leaked active-request counter under kubernetes_managed (dc_util in preStop)', () => {
  it('the stall break signals the CrateDB process (kill -TERM 1) and the rollout ends far inside the graceful-stop timeout', async () => {
    const s = await scenario('e2e-stall-dcutil', { dcUtil: true, simConfig: { ...FAST_SIM, leakRetriedReads: false } });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const started = Date.now();
    const run = pluginStart([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      '--pod-ready-timeout',
      '120s',
      '--health-timeout',
      '120s',
      '--stall-idle',
      '10s',
      '--yes',
    ]);
    const ended = run.done.then((r) => {
      throw new Error(`the rollout ended (exit ${r.code}) before a pod was being deleted:\n${r.stdout}${r.stderr}`);
    });
    // The Lease says `deleting` just before the engine deletes the pod; dc_util then drains the node in preStop.
    const at = await Promise.race([
      eventually(
        'the first pod to be deleted',
        async () => (await leases(s.namespace)).find((l) => l.progress?.current?.step === 'deleting'),
        120_000,
        100,
      ),
      ended,
    ]);
    ended.catch(() => undefined);
    const pod = at.progress!.current!.pod;
    const node = nodeOf(pod);
    const leak = await sim<{ activeRequests: number }>('POST', `/clusters/${s.cluster}/nodes/${node}/leak`, {
      count: 5,
    });
    expect(leak.activeRequests).toBeLessThan(0);
    const r = await run.done;
    const took = (Date.now() - started) / 1000;
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(took, `rollout took ${took} s:\n${out}`).toBeLessThan(240);
    const reached = ((await simState(s.cluster)).history ?? []).filter((h) =>
      /graceful_stop\.timeout \S+ reached/.test(h.what),
    );
    expect(reached, 'no node waited for the graceful-stop timeout').toEqual([]);
    const broken = (await kubectlJson(['get', 'events', '-n', s.namespace])).items.filter(
      (e: any) => e.reason === 'StallBroken',
    );
    expect(
      broken.map((e: any) => e.involvedObject?.name),
      'one StallBroken Event, for the leaked pod',
    ).toEqual([pod]);
    expect(out).toMatch(
      // (The evidence's wording is not pinned here: under --relocation auto dc_util may drain with min_availability
      // NONE, and the line then still says "no primary on it": see issue 7's closing note.)
      new RegExp(
        `Stall break: node ${node}: the drain is done \\(.*\\), it refuses SQL \\(draining\\).*active-request counter leaks on retried reads.*the \\S+ graceful-stop timeout; signalling its CrateDB process \\(kill -TERM 1 in container crate, the exit dc_util waits for\\)`,
      ),
    );
    expect(out).not.toMatch(/Stall break: kill -TERM 1 in pod \S+ exited|could not signal the CrateDB process/);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, s.pods.map(nodeOf));
    process.stderr.write(`stall-dcutil: rollout ${took.toFixed(0)} s, ${pod} broken out by kill -TERM 1\n`);
  }, 300_000);
});
