// Restarts without relocation under kubernetes_managed (issue 9 item 1): a crash (SIGKILL) right after the tool set
// dc-util-min-availability=NONE; the resumed run of the same operation still sees a kubernetes_managed StatefulSet
// (the tool's own, marked NONE is intended, not rule 20's misconfiguration) and restores the label.
import { describe, expect, it } from 'vitest';
import { rollingRestart } from '../../../shared/rolling.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { leaseName } from '../../../shared/lease.js';
import { LABEL_DC_UTIL_MIN_AVAILABILITY } from '../../../shared/relocation-run.js';
import { LABEL_MIN_AVAILABILITY_BEFORE } from '../../../shared/min-availability-label.js';
import { Killer, killableDeps } from '../crash/harness.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const auto = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES' as const,
  allocation: 'primaries' as const,
  stallBreak: true,
  stallIdleSeconds: 30,
  relocation: 'auto' as const,
};
const stsLabels = (w: World) => w.kube.statefulSets.get(`${ns}/${w.statefulSetName}`)?.metadata?.labels ?? {};
const progressOf = (w: World) =>
  JSON.parse(
    w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)?.metadata?.annotations?.[
      'crate-decommission.crate.io/progress'
    ] ?? '{}',
  ) as { minAvailabilityLabels?: unknown };

describe('relocation auto, kubernetes_managed, crash', () => {
  it('a crash between the label set and its restore: the resumed run (same operation) restores it', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const killer = new Killer(null);
    const deps = killableDeps(w, killer, 'run-1');
    const patch = deps.kube.patchStatefulSetLabels.bind(deps.kube);
    deps.kube.patchStatefulSetLabels = async (n, name, labels) => {
      await patch(n, name, labels);
      if (labels[LABEL_DC_UTIL_MIN_AVAILABILITY] === 'NONE') killer.kill(); // SIGKILL right after the label is on
    };
    const first = rollingRestart(deps, {
      cluster: w.clusterModel(),
      ...fastGate,
      options: auto,
      operationId: 'op-crash',
    });
    void first.catch(() => {});
    await killer.whenKilled;
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBe('NONE');
    expect(progressOf(w).minAvailabilityLabels).toEqual({ [w.statefulSetName]: null });

    const deps2 = { ...w.deps(), holderIdentity: 'run-2' };
    const cluster = await analyzeCluster(deps2, { namespace: ns, kind: 'statefulset', name: w.statefulSetName });
    // The tool's own NONE (marked) is intended: still kubernetes_managed, not rule 20's misconfiguration.
    expect(cluster.statefulSets[0]!.detection.strategy).toBe('kubernetes_managed');
    const r = await rollingRestart(deps2, { cluster, ...fastGate, options: auto, operationId: 'op-crash' });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBeUndefined();
    expect(stsLabels(w)[LABEL_MIN_AVAILABILITY_BEFORE]).toBeUndefined();
    expect(progressOf(w).minAvailabilityLabels).toBeNull();
    expect(w.crate.violations).toEqual([]);
  });

  // The label write is a compare-and-set (issue 9): someone's change between the tool's read and its NONE is not
  // overwritten with a stale recorded value, so the restore puts back what they set, not what was there before.
  it('someone sets the label between our read and our NONE: the restore puts their value back', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util', tables: [{ name: 'a', shards: 6, replicas: 1 }] });
    const deps = w.deps();
    const patch = deps.kube.patchStatefulSetLabels.bind(deps.kube);
    let raced = false;
    deps.kube.patchStatefulSetLabels = async (n, name, labels, precondition) => {
      if (!raced && labels[LABEL_DC_UTIL_MIN_AVAILABILITY] === 'NONE') {
        raced = true;
        await patch(n, name, { [LABEL_DC_UTIL_MIN_AVAILABILITY]: 'FULL' });
      }
      return patch(n, name, labels, precondition);
    };
    const r = await rollingRestart(deps, { cluster: w.clusterModel(), ...fastGate, options: auto });
    expect(raced).toBe(true);
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(stsLabels(w)[LABEL_DC_UTIL_MIN_AVAILABILITY]).toBe('FULL');
    expect(stsLabels(w)[LABEL_MIN_AVAILABILITY_BEFORE]).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
  });
});
