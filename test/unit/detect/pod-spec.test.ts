// Issue 8 item 3: under updateStrategy OnDelete running pods keep their old spec. The strategy is detected per pod
// from the pod's own crate container and grace period; the StatefulSet gives only what dc_util reads from it.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { detectPodStrategy } from '../../../shared/detect/index.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { restartPod } from '../../../shared/restart.js';
import { planRollingRestart } from '../../../shared/rolling.js';
import { fastGate, world } from '../engine/helpers.js';
import { crateContainer, SQL_EXPORTER, statefulSet } from './builders.js';

const DC = ['./dc_util-linux-amd64', '-min-availability', 'PRIMARIES', '-timeout', '720s'];

function podOf(sts: V1StatefulSet, ordinal: number, spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name: `${sts.metadata!.name}-${ordinal}` },
    spec: { ...sts.spec!.template.spec!, ...spec } as V1Pod['spec'],
  };
}

describe('detectPodStrategy: the pod wins over the template', () => {
  it('template gained a dc_util preStop after the pod was created: the pod (no hook) is manual, and it says so', () => {
    const sts = statefulSet({ preStop: DC, grace: 1200 });
    const old = podOf(sts, 1, { containers: [SQL_EXPORTER, crateContainer()], terminationGracePeriodSeconds: 1200 });
    const d = detectPodStrategy(sts, old);
    expect(d.strategy).toBe('manual');
    expect(d.templateDisagrees).toBe(true);
    expect(d.reasons.at(-1)).toBe(
      "pod crate-data-hot-6a0c7a1e-1 and the StatefulSet template disagree (the pod keeps the spec it was created with): the template says kubernetes_managed (dc_util timeout 1080s, delete grace 1200s, min_availability PRIMARIES), the pod's own spec says manual; acting on the pod",
    );
  });

  it('template lost its hook: the old pod still runs dc_util and is kubernetes_managed', () => {
    const sts = statefulSet({ grace: 1200 });
    const old = podOf(sts, 0, { containers: [SQL_EXPORTER, crateContainer(DC)] });
    const d = detectPodStrategy(sts, old);
    expect(d).toMatchObject({
      strategy: 'kubernetes_managed',
      dcUtilTimeoutSeconds: 1080,
      deleteGracePeriodSeconds: 1200,
      templateDisagrees: true,
    });
  });

  it("dc_util reads the template grace (timeout), the delete keeps the pod's own longer grace", () => {
    // Template now 300 s (dc_util: max(300-120, 360) = 360 s); the pod was created with 7230 s.
    const sts = statefulSet({ preStop: DC, grace: 300 });
    const old = podOf(sts, 2, { terminationGracePeriodSeconds: 7230 });
    const d = detectPodStrategy(sts, old);
    expect(d).toMatchObject({
      strategy: 'kubernetes_managed',
      dcUtilTimeoutSeconds: 360,
      deleteGracePeriodSeconds: 7230,
      podTerminationGracePeriodSeconds: 7230,
      terminationGracePeriodSeconds: 300,
    });
    expect(d.templateDisagrees).toBe(true);
    expect(d.reasons.at(-1)).toContain('delete grace 420s');
  });

  it('the same spec: no disagreement, no extra reason', () => {
    const sts = statefulSet({ preStop: DC, grace: 1200 });
    const d = detectPodStrategy(sts, podOf(sts, 0));
    expect(d.templateDisagrees).toBe(false);
    expect(d.reasons.join('\n')).not.toContain('template');
  });

  it('labels and replicas still come from the StatefulSet (dc-util-disabled on it disables the pod too)', () => {
    const sts = statefulSet({ preStop: DC, grace: 1200, labels: { 'dc-util-disabled': 'true' } });
    expect(detectPodStrategy(sts, podOf(sts, 0)).strategy).toBe('manual');
  });
});

describe('the engine acts on the pod (OnDelete, template changed after the pods were created)', () => {
  const ns = 'crate';
  const addHookToTemplate = (w: Awaited<ReturnType<typeof world>>) => {
    const sts = w.kube.statefulSets.get(`${ns}/crate`)!;
    const c = sts.spec!.template.spec!.containers.find((x) => x.name === 'crate')!;
    c.lifecycle = {
      preStop: {
        exec: { command: ['/bin/sh', '-c', `${w.dcUtilCommand} -hostname "crate-data-hot-w-\${HOSTNAME##*-}"`] },
      },
    };
    sts.spec!.updateStrategy = { type: 'OnDelete' };
  };

  it('plan and restart: the old pod without a hook is decommissioned by the engine, never deleted undrained', async () => {
    const w = await world({ replicas: 3, preStop: 'none' });
    addHookToTemplate(w);
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(cluster.statefulSets[0]!.detection.strategy).toBe('kubernetes_managed');
    expect(cluster.pods.map((p) => p.detection?.strategy)).toEqual(['manual', 'manual', 'manual']);
    expect(w.log.text()).toMatch(
      /WARN: Pod crate\/crate-1: pod crate-1 and the StatefulSet template disagree .* acting on the pod/,
    );

    const plan = await planRollingRestart(w.deps(), { cluster, ...fastGate });
    expect(plan.order.map((p) => p.strategy)).toEqual(['manual', 'manual', 'manual']);
    expect(plan.order[0]!.reason).toContain('the StatefulSet template disagree');

    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster, ...fastGate });
    expect(r.error).toBeNull();
    expect(r.strategyUsed).toBe('manual');
    expect(w.crate.writes.filter((s) => s.stmt.startsWith('ALTER CLUSTER DECOMMISSION')).map((s) => s.args[0])).toEqual(
      ['data-hot-1'],
    );
    expect(w.crate.violations).toEqual([]);
  });
});
