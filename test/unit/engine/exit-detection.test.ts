// Manual strategy: the CrateDB process exit is decided from restartCount and the terminated container's identity
// relative to a snapshot taken right before the DECOMMISSION, never by comparing the kubelet's clock with the
// engine's (issue 8 item 4).
import { describe, expect, it } from 'vitest';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';

/** crate-1 restarted in place once before (an OOM kill), recorded by a kubelet whose clock is `skewMs` off the engine's. */
function restartedInPlaceBefore(w: World, skewMs: number): void {
  const pod = w.kube.pods.get(`${ns}/crate-1`)!;
  const cs = pod.status!.containerStatuses!.find((c) => c.name === 'crate')!;
  const at = w.clock.now() + skewMs;
  cs.restartCount = 1;
  cs.lastState = {
    terminated: {
      exitCode: 137,
      reason: 'OOMKilled',
      startedAt: new Date(at - 3_600_000),
      finishedAt: new Date(at - 5_000),
      containerID: 'containerd://old-crate-1',
    },
  };
}

/** Record, at each pod delete, whether the pod's node was still in the cluster. */
function watchDeletes(w: World): { pod: string; nodeState: string | undefined }[] {
  const seen: { pod: string; nodeState: string | undefined }[] = [];
  const original = w.kube.deletePod.bind(w.kube);
  w.kube.deletePod = async (namespace, name, opts) => {
    seen.push({ pod: name, nodeState: w.crate.node(w.nodeName(name))?.state });
    return original(namespace, name, opts);
  };
  return seen;
}

describe('process-exit detection (manual strategy)', () => {
  it.each([
    ['ahead', 10 * 60_000],
    ['behind', -10 * 60_000],
    ['in step', 0],
  ])(
    'a pod that restarted in place before, kubelet clock %s: deleted only after its node exited',
    async (_how, skew) => {
      // Slow drain: the node takes a while to leave, so a premature "exit" would delete it mid-drain.
      const w = await world({ replicas: 3, tables: [{ name: 't1', shards: 6, replicas: 1 }] });
      restartedInPlaceBefore(w, skew);
      const deletes = watchDeletes(w);
      const r = await restartPod(w.deps(), {
        podName: 'crate-1',
        namespace: ns,
        cluster: w.clusterModel(),
        ...fastGate,
      });
      expect(r.error).toBeNull();
      expect(r.success).toBe(true);
      expect(deletes).toEqual([{ pod: 'crate-1', nodeState: 'down' }]);
      expect(w.crate.violations).toEqual([]);
    },
  );
});
