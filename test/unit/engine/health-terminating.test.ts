// Issue 8 item 5: a terminating pod of ANY StatefulSet of the namespace is left out of node_count_matches_replicas,
// not only the target StatefulSet's: its node is on its way out, so a second node must not be drained meanwhile.
import { describe, expect, it } from 'vitest';
import { analyzeCluster } from '../../../shared/discovery.js';
import { checkClusterHealth } from '../../../shared/health.js';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from './helpers.js';

const ns = 'crate';

describe('health gate: terminating pods of other StatefulSets', () => {
  it('a terminating pod of another node group (crate-data-cold-...) does not count, so the pre-flight refuses', async () => {
    const w = await world({ replicas: 3, operator: true, nodeGroups: [{ name: 'cold', replicas: 2 }] });
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate-data-hot-c1' });
    expect(cluster.expectedNodes).toBe(5);
    expect(cluster.pods.every((p) => p.statefulSetName === 'crate-data-hot-c1')).toBe(true);
    // Someone else deletes crate-data-cold-c1-1; its node still answers while it drains.
    w.kube.pods.get(`${ns}/crate-data-cold-c1-1`)!.metadata!.deletionTimestamp = new Date(w.clock.now());
    const h = await checkClusterHealth(w.deps(), { cluster, consecutive: 1, intervalSeconds: 1, timeoutSeconds: 0 });
    expect(h.healthy).toBe(false);
    expect(h.failedChecks).toEqual(['node_count_matches_replicas']);
    expect(h.checks.find((c) => c.name === 'node_count_matches_replicas')!.message).toBe(
      '4 nodes in the cluster, 5 expected (not counted: data-cold-1, pod crate-data-cold-c1-1 is terminating)',
    );
    const r = await restartPod(w.deps(), { podName: 'crate-data-hot-c1-2', namespace: ns, cluster, ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused' });
    expect(w.crate.decommissions).toEqual([]);
  });

  it('a terminating master pod does not count either; once it is gone and back the gate passes', async () => {
    const w = await world({ replicas: 2, operator: true, nodeGroups: [{ name: 'master', replicas: 3 }] });
    const cluster = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate-data-hot-c1' });
    const pod = w.kube.pods.get(`${ns}/crate-master-c1-0`)!;
    pod.metadata!.deletionTimestamp = new Date(w.clock.now());
    const h = await checkClusterHealth(w.deps(), { cluster, consecutive: 1, intervalSeconds: 1, timeoutSeconds: 0 });
    expect(h.failedChecks).toContain('node_count_matches_replicas');
    delete pod.metadata!.deletionTimestamp;
    const again = await checkClusterHealth(w.deps(), {
      cluster,
      consecutive: 1,
      intervalSeconds: 1,
      timeoutSeconds: 0,
    });
    expect(again.healthy).toBe(true);
  });
});
