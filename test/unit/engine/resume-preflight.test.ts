// A resumed rollout and a refused pre-flight (issue 8 item 7): the refusal is ignored only when the crashed run's
// in-progress pod is in the order and is finished first. A pod in progress that discovery did not see (deleted, not
// yet re-created) is put first and waited for; one that cannot be finished (not a pod of the cluster to restart)
// leaves the refusal standing.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, leaseName, type OperationProgress } from '../../../shared/lease.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';

async function crashedRun(w: World, operationId: string, progress: Partial<OperationProgress>): Promise<void> {
  const at = new Date(w.clock.now());
  await w.kube.createLease(ns, {
    metadata: {
      name: leaseName(w.clusterName),
      annotations: {
        [ANNOTATION_OPERATION]: operationId,
        [ANNOTATION_PROGRESS]: JSON.stringify({
          operationId,
          done: {},
          current: null,
          allocationSet: null,
          ...progress,
        }),
      },
    },
    spec: { holderIdentity: 'job-pod-a', leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
  });
}

describe('resumed rollout with a refused pre-flight', () => {
  it('the in-progress pod was deleted and is not re-created yet (discovery missed it): it goes first, the others only after its gate', async () => {
    // The StatefulSet controller re-creates the pod only 200 s after the delete.
    const w = await world({ replicas: 3, kube: { recreateDelayMs: 200_000 } });
    const oldUid = w.podUid('crate-2')!;
    await w.kube.deletePod(ns, 'crate-2', { gracePeriodSeconds: 30, uid: oldUid });
    await w.waitFor(() => !w.kube.pods.has(`${ns}/crate-2`));
    await crashedRun(w, 'job-7', { current: { pod: 'crate-2', oldUid, nodeName: 'data-hot-2', step: 'deleting' } });
    // What discovery saw in the retried Job pod: crate-2 is not there.
    const cluster = w.clusterModel();
    cluster.pods = cluster.pods.filter((p) => p.name !== 'crate-2');
    const r = await rollingRestart(w.deps({ holderIdentity: 'job-pod-b' }), {
      cluster,
      ...fastGate,
      operationId: 'job-7',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => p.podName)).toEqual(['crate-2', 'crate-1', 'crate-0']);
    // crate-1 was touched only after crate-2 was back and its gate passed.
    const events = w.kube.events.map((e) => `${e.reason} ${e.involvedObject.name}`);
    expect(events.indexOf('PodRestarted crate-2')).toBeGreaterThan(-1);
    expect(events.indexOf('PodRestarted crate-2')).toBeLessThan(events.indexOf('DecommissionStarted crate-1'));
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-2')).toHaveLength(2);
    expect(w.crate.violations).toEqual([]);
  });

  it('an in-progress pod that cannot be finished (not a pod of the cluster) does not lift the refusal', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-1'); // unhealthy: 2 of 3 nodes, with every pod Ready (not degraded)
    await crashedRun(w, 'job-7b', {
      current: { pod: 'crate-9', oldUid: 'gone', nodeName: 'data-hot-9', step: 'deleted' },
    });
    const r = await rollingRestart(w.deps({ holderIdentity: 'job-pod-b' }), {
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-7b',
    });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(r.error).toContain('Pre-flight health check refused the rolling restart');
    expect(r.error).toContain('pod crate-9 the earlier run had in progress is not among the pods to restart');
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });
});
