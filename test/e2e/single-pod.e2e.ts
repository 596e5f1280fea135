// Single-pod operations through the runner Job: `decommission` (manual strategy: DECOMMISSION through exec,
// then delete) and `restart` (dc_util preStop).
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, eventually, kubectlJson, plugin, pluginOk } from './harness.js';
import {
  FAST_FLAGS,
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

async function podReady(ns: string, pod: string, notUid: string): Promise<boolean> {
  const p = await kubectlJson(['get', 'pod', pod, '-n', ns]);
  return p.metadata.uid !== notUid && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
}

describe('single pod', () => {
  it('decommission <pod> (manual): the node drains through exec, the pod is re-created once, exit 0', async () => {
    const s = await scenario('e2e-decom', { dcUtil: false });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const pod = s.pods[1]!;
    const oldUid = (await kubectlJson(['get', 'pod', pod, '-n', s.namespace])).metadata.uid;
    const r = await plugin([
      'decommission',
      pod,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      '--timeout',
      '120s',
      '--health-timeout',
      '120s',
    ]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(new RegExp(`\\[${pod}\\] `));
    await eventually(`${pod} back and Ready`, () => podReady(s.namespace, pod, oldUid), 60_000);
    expectRecreatedOnce(s, [pod]);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, [nodeOf(pod)]);
  });

  it('restart <pod> (dc_util preStop): re-created once, back in the cluster, health gate, exit 0', async () => {
    const s = await scenario('e2e-restart', { dcUtil: true });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const pod = s.pods[0]!;
    const r = await plugin(['restart', pod, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toMatch(new RegExp(`\\[${pod}\\] `));
    expectRecreatedOnce(s, [pod]);
    await expectClusterSafe(s);
    await expectDecommissionedOnce(s, [nodeOf(pod)]);
  });
});
