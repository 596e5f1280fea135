// Issue 8 item 6: crate-operator's dc-util-routing-owner=operator-<ts> label. While a foreign owner label younger than
// 2 h is on a StatefulSet of the cluster the tool refuses (locked, exit 5, naming the owner and its age); it never
// removes or overwrites a label it did not write.
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../shared/task/exit.js';
import { restartPod } from '../../../shared/restart.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { parseRoutingOwner, isLiveForeignOwner } from '../../../shared/routing-owner.js';
import { leaseName } from '../../../shared/lease.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from './helpers.js';

const ns = 'crate';
const LABEL = 'dc-util-routing-owner';
const ALLOC = 'cluster.routing.allocation.enable';
const stsLabel = (w: World, sts = 'crate') => w.kube.statefulSets.get(`${ns}/${sts}`)?.metadata?.labels?.[LABEL];
const operatorLabel = (w: World, agoSeconds: number) => `operator-${Math.floor(w.clock.now() / 1000) - agoSeconds}`;
const lease = (w: World) => w.kube.leases.get(`${ns}/${leaseName('crate')}`);

describe('a live crate-operator routing owner refuses the operation', () => {
  it('restartPod: locked (exit 5), names the owner and its age, writes nothing', async () => {
    const w = await world({ replicas: 3 });
    const value = operatorLabel(w, 600);
    await w.kube.patchStatefulSetLabels(ns, 'crate', { [LABEL]: value });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(exitCodeFor(r.errorKind)).toBe(5);
    expect(r.error).toMatch(
      new RegExp(
        `locked by operator: StatefulSet crate has label ${LABEL}=${value} \\(\\d+m old, younger than 2h\\), so crate-operator owns cluster.routing.allocation.enable`,
      ),
    );
    expect(w.crate.writes).toEqual([]);
    expect(w.crate.decommissions).toEqual([]);
    expect(lease(w)).toBeUndefined();
    expect(stsLabel(w)).toBe(value);
  });

  it('rollingRestart and decommissionPod too; a label written on a clock ahead of ours (in the future) counts as live', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    const value = operatorLabel(w, -300);
    await w.kube.patchStatefulSetLabels(ns, 'crate', { [LABEL]: value });
    const rolled = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(rolled).toMatchObject({ success: false, errorKind: 'locked' });
    expect(rolled.error).toMatch(/[45]m in the future \(its writer's clock is ahead\)/);
    const d = await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster: w.clusterModel() });
    expect(d).toMatchObject({ success: false, errorKind: 'locked' });
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([]);
    expect(stsLabel(w)).toBe(value);
  });

  it('a stale label (more than 2 h) does not refuse, is never overwritten and stays after the restart', async () => {
    const w = await world({ replicas: 3 });
    const value = operatorLabel(w, 3 * 3600);
    await w.kube.patchStatefulSetLabels(ns, 'crate', { [LABEL]: value });
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(stsLabel(w)).toBe(value);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(w.log.text()).toContain(`stale label ${LABEL}=${value}`);
  });

  it('crate-operator starts its restart in the middle of a rollout: the next pod is refused, its label stays', async () => {
    const w = await world({ replicas: 3 });
    let value: string | null = null;
    // After the first pod is done (its allocation reset), the operator labels the StatefulSet.
    void w
      .waitFor(() => w.crate.writes.some((s) => s.stmt.startsWith('RESET GLOBAL "cluster.routing.allocation.enable"')))
      .then(() => {
        value = operatorLabel(w, 0);
        void w.kube.patchStatefulSetLabels(ns, 'crate', { [LABEL]: value });
      });
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(w.crate.decommissions).toHaveLength(1);
    expect(stsLabel(w)).toBe(value);
    expect(w.crate.violations).toEqual([]);
  });

  it('parses owner and age as dc_util does (only <owner>-<unix seconds>; 2 h either way)', () => {
    const now = 1_767_225_600_000;
    expect(parseRoutingOwner('s', 'operator-1767225000', now)).toEqual({
      statefulSet: 's',
      value: 'operator-1767225000',
      owner: 'operator',
      ageSeconds: 600,
    });
    expect(isLiveForeignOwner(parseRoutingOwner('s', 'operator-1767225000', now))).toBe(true);
    expect(isLiveForeignOwner(parseRoutingOwner('s', 'operator-1767218399', now))).toBe(false);
    expect(isLiveForeignOwner(parseRoutingOwner('s', 'crate-decommission-1767225000', now))).toBe(false);
    expect(parseRoutingOwner('s', 'operator', now).ageSeconds).toBeNull();
  });

  // The label writes are compare-and-sets (issue 9): a label crate-operator writes between this tool's read and its
  // write is never overwritten or removed. The race is forced: the operator's label lands right before our patch.
  const operatorLabelsFirst = (w: World, when: (labels: Record<string, string | null>) => boolean) => {
    const patch = w.kube.patchStatefulSetLabels.bind(w.kube);
    let value: string | null = null;
    w.kube.patchStatefulSetLabels = async (namespace, name, labels, precondition) => {
      if (value === null && when(labels)) {
        value = operatorLabel(w, 0);
        await patch(namespace, name, { [LABEL]: value });
      }
      return patch(namespace, name, labels, precondition);
    };
    return () => value;
  };

  it('crate-operator labels between our check and our label: the label is not overwritten, the restart is refused before any SET', async () => {
    const w = await world({ replicas: 3 });
    const operators = operatorLabelsFirst(w, (labels) => /^crate-decommission-/.test(String(labels[LABEL])));
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(operators()).toMatch(/^operator-/);
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(stsLabel(w)).toBe(operators());
    expect(w.crate.writes.filter((x) => x.stmt.includes(ALLOC))).toEqual([]);
    expect(w.crate.decommissions).toEqual([]);
  });

  it('crate-operator labels while our label is being removed: its label stays (and the allocation is reset)', async () => {
    const w = await world({ replicas: 3 });
    const operators = operatorLabelsFirst(w, (labels) => labels[LABEL] === null);
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(operators()).toMatch(/^operator-/);
    expect(stsLabel(w)).toBe(operators());
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(w.log.text()).toContain(`Leaving label ${LABEL}=${operators()}`);
  });
});
