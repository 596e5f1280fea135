// Kubernetes API requests per pod of a rolling restart on the fakes, by port method (issue 9 item 2: at most 12 per
// pod at 50 pods). Pins the three this test owns - Events, StatefulSet reads, StatefulSet label patches - exactly,
// per strategy; the Lease and the pod reads have their own tests (lease-progress, pod-cache-engine).
import { describe, expect, it } from 'vitest';
import { rollingRestart } from '../../../shared/rolling.js';
import { withPodCache } from '../../../shared/adapters/pod-cache.js';
import { VirtualClock, installImmediateCounter } from '../../support/virtual-clock.js';
import { World } from '../../support/fakes/world.js';
import { fastGate } from './helpers.js';
import { countingKube } from '../../support/fakes/counting-kube.js';

installImmediateCounter();
const PODS = 10;

describe('Kubernetes API requests per pod of a roll (fakes, 10 pods, shared pod watch)', () => {
  // Per pod: the pod's own Events and StatefulSet requests; once per roll: RolloutStarted/RolloutSucceeded and the
  // operation's own routing-owner check when it opens.
  it.each([
    {
      strategy: 'manual',
      world: { operator: true, preStop: 'none' as const },
      // DecommissionStarted (with the allocation), PodDeleted, PodRestarted; one StatefulSet read before the
      // allocation SET (routing owner, controller roll and the label's compare-and-set); the label set and removed,
      // each a compare-and-set (the removal on the value written: no read).
      perPod: { createEvent: 3, getStatefulSet: 1, patchStatefulSetLabels: 2 },
    },
    {
      strategy: 'kubernetes_managed',
      world: { operator: true, preStop: 'dc_util' as const },
      // DecommissionStarted, PodDeleted, PodRestarted; one StatefulSet read before the delete (routing owner and
      // controller roll); no label.
      perPod: { createEvent: 3, getStatefulSet: 1, patchStatefulSetLabels: 0 },
    },
  ])('$strategy: $perPod per pod', async ({ world: opts, perPod }) => {
    // On a virtual clock (as bench/engine.bench.ts): a loaded machine cannot stretch a wait past a minute (a
    // WaitingLong Event) or past a watch's renewal, so the counts are the same on every run.
    const clock = new VirtualClock();
    const w = new World({
      clock,
      replicas: PODS,
      ...opts,
      joinDelayMs: 0,
      kube: { startDelayMs: 0, recreateDelayMs: 0 },
      crate: { stepMs: 0, exitDelayMs: 0 },
      tables: [{ name: 't1', shards: PODS, replicas: 1 }],
    });
    await clock.run(w.start());
    const { kube: counted, counts } = countingKube(w.kube);
    const kube = withPodCache(counted);
    try {
      const r = await clock.run(rollingRestart(w.deps({ kube, clock }), { cluster: w.clusterModel(), ...fastGate }));
      expect(r.error).toBeNull();
      expect(r.pods.filter((p) => p.success)).toHaveLength(PODS);
      expect(w.crate.violations).toEqual([]);
      const got = (m: string) => counts.get(m) ?? 0;
      expect({
        createEvent: got('createEvent'),
        getStatefulSet: got('getStatefulSet'),
        patchStatefulSetLabels: got('patchStatefulSetLabels'),
      }).toEqual({
        createEvent: perPod.createEvent * PODS + 2, // + RolloutStarted, RolloutSucceeded
        getStatefulSet: perPod.getStatefulSet * PODS + 1, // + the operation's routing-owner check when it opens
        patchStatefulSetLabels: perPod.patchStatefulSetLabels * PODS,
      });
      expect(got('getPod')).toBe(0);
      expect(got('deletePod')).toBe(PODS);
    } finally {
      kube.close();
      w.close();
    }
  });
});
