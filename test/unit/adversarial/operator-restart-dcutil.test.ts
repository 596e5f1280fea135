// Adversarial pass (issue 8): crate-operator starts its own restart (label dc-util-routing-owner=operator-<ts>)
// in the middle of a rollout of dc_util pods. Its restart deletes pods one at a time on its own; a rollout that
// deletes its next pod anyway has two nodes down at once. The next pod must be refused (locked, exit 5) under the
// kubernetes_managed strategy as under the manual one (routing-owner.test.ts).
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../shared/task/exit.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { fastGate, world } from '../engine/helpers.js';

const ns = 'crate';
const LABEL = 'dc-util-routing-owner';

describe('crate-operator starts its restart in the middle of a dc_util rollout', () => {
  it('the next pod is not deleted: locked (exit 5), one pod restarted, the label stays', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    let value: string | null = null;
    // Right when the first pod passed its health gate (its Event), the operator labels the StatefulSet.
    const createEvent = w.kube.createEvent.bind(w.kube);
    w.kube.createEvent = async (namespace, event) => {
      if (value === null && event.reason === 'PodRestarted') {
        value = `operator-${Math.floor(w.clock.now() / 1000)}`;
        await w.kube.patchStatefulSetLabels(ns, 'crate', { [LABEL]: value });
      }
      return createEvent(namespace, event);
    };
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(value).not.toBeNull();
    expect(
      w.kube.writes.filter((x) => x.kind === 'Pod' && x.verb === 'delete').map((x) => x.name),
      'pods deleted',
    ).toHaveLength(1);
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(exitCodeFor(r.errorKind!)).toBe(5);
    expect(r.error).toContain(`${LABEL}=${value}`);
    expect(w.kube.statefulSets.get(`${ns}/crate`)?.metadata?.labels?.[LABEL]).toBe(value);
    expect(w.crate.violations).toEqual([]);
  });
});
