// Adversarial pass (issue 8): the StatefulSet controller rolls a RollingUpdate StatefulSet on its own (its template
// changed in the middle of a rollout: `helm upgrade`, `kubectl apply`). It replaces pods without waiting for any
// drain; the rollout must not start another pod while that roll has pods to replace (locked, exit 5). OnDelete
// (crate-operator) and a finished staged roll (partition) go on.
import { describe, expect, it } from 'vitest';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { exitCodeFor } from '../../../shared/task/exit.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { refuseControllerRoll } from '../../../shared/controller-roll.js';
import type { EngineDeps } from '../../../shared/ports.js';
import { fastGate, world } from '../engine/helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';

/** Right when the first pod passed its health gate (its Event), change the StatefulSet as `edit` says. */
function afterFirstPod(w: World, sts: string, edit: (s: V1StatefulSet) => void): { fired: () => boolean } {
  let fired = false;
  const createEvent = w.kube.createEvent.bind(w.kube);
  w.kube.createEvent = async (namespace, event) => {
    if (!fired && event.reason === 'PodRestarted') {
      fired = true;
      edit(w.kube.statefulSets.get(`${ns}/${sts}`)!);
    }
    return createEvent(namespace, event);
  };
  return { fired: () => fired };
}

const rolling = (s: V1StatefulSet, updated: number) => {
  s.status = {
    ...(s.status ?? { replicas: 3 }),
    replicas: 3,
    currentRevision: 'crate-6d9f',
    updateRevision: 'crate-7c4b',
    updatedReplicas: updated,
  };
};
const deletes = (w: World) => w.kube.writes.filter((x) => x.kind === 'Pod' && x.verb === 'delete').map((x) => x.name);

describe('the StatefulSet controller rolls the StatefulSet in the middle of a rollout', () => {
  it.each([
    ['manual', {}],
    ['kubernetes_managed', { preStop: 'dc_util' as const }],
  ])('%s, RollingUpdate: the next pod is refused (locked, exit 5), no second pod touched', async (_s, opts) => {
    const w = await world({ replicas: 3, ...opts });
    expect(w.kube.statefulSets.get(`${ns}/crate`)!.spec!.updateStrategy!.type).toBe('RollingUpdate');
    const hook = afterFirstPod(w, 'crate', (s) => rolling(s, 0));
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(hook.fired()).toBe(true);
    expect(deletes(w), 'pods deleted by the rollout').toHaveLength(1);
    expect(w.crate.decommissions.length).toBeLessThanOrEqual(1);
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(exitCodeFor(r.errorKind!)).toBe(5);
    expect(r.error).toContain(
      'the StatefulSet controller is rolling it (RollingUpdate from revision crate-6d9f to crate-7c4b, 0 of 3 pods updated)',
    );
    expect(w.crate.setting('cluster.routing.allocation.enable')).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
  });

  it('OnDelete (crate-operator): differing revisions are what the rollout applies; it rolls every pod', async () => {
    const w = await world({ replicas: 3, operator: true });
    const sts = [...w.kube.statefulSets.values()][0]!;
    expect(sts.spec!.updateStrategy!.type).toBe('OnDelete');
    rolling(sts, 0);
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(deletes(w)).toHaveLength(3);
  });

  it('the decision: a staged roll that updated every pod from the partition up is finished', async () => {
    /** The roll refuseControllerRoll names for this StatefulSet (its refusal's message), or null when it goes on. */
    const controllerRollInProgress = async (sts: V1StatefulSet): Promise<string | null> => {
      const deps = { kube: { getStatefulSet: async () => sts } } as unknown as EngineDeps;
      return refuseControllerRoll(deps, ns, 'x', 'the next pod').then(
        () => null,
        (err: Error) => err.message,
      );
    };
    const s = (partition: number | undefined, updated: number, type = 'RollingUpdate'): V1StatefulSet => ({
      spec: {
        replicas: 3,
        selector: {},
        serviceName: 'x',
        template: {},
        updateStrategy: { type, ...(partition !== undefined ? { rollingUpdate: { partition } } : {}) },
      },
      status: { replicas: 3, currentRevision: 'a', updateRevision: 'b', updatedReplicas: updated },
    });
    expect(await controllerRollInProgress(s(undefined, 2))).toMatch(/2 of 3 pods updated/);
    expect(await controllerRollInProgress(s(2, 1))).toBeNull();
    expect(await controllerRollInProgress(s(2, 0))).toMatch(/0 of 1 pods updated, partition 2/);
    expect(await controllerRollInProgress(s(undefined, 0, 'OnDelete'))).toBeNull();
    expect(
      await controllerRollInProgress({
        ...s(undefined, 0),
        status: { replicas: 3, currentRevision: 'a', updateRevision: 'a' },
      }),
    ).toBeNull();
  });
});
