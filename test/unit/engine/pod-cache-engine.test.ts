// The engine over the shared pod watch (withPodCache, as the runner, the plugin and the Temporal worker wire it):
// same outcomes as over direct reads (every pod re-created once, no primary unavailable, allocation reset, Lease
// released), with the pods read from one list + watch instead of a GET per read. Also an abort mid-roll.
import { describe, expect, it } from 'vitest';
import { withPodCache } from '../../../shared/adapters/pod-cache.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { leaseName } from '../../../shared/lease.js';
import type { KubernetesPort } from '../../../shared/ports.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from './helpers.js';

const ALLOC = 'cluster.routing.allocation.enable';

/** The world's Kubernetes with every call the engine (through the cache) makes counted by method. */
function counting(w: World): { kube: KubernetesPort; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const kube = new Proxy(w.kube, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...a: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  return { kube, calls };
}

const recreations = (w: World, pod: string) => w.kube.podHistory.filter((p) => p.name === pod).length - 1;

describe('the engine over the shared pod watch', () => {
  for (const c of [
    { label: 'kubernetes_managed (dc_util), crate-operator', opts: { operator: true, preStop: 'dc_util' as const } },
    { label: 'manual, plain StatefulSet, SQL by exec', opts: { operator: false, preStop: 'none' as const } },
  ]) {
    it(`rolls ${c.label}: same outcome, pods read from one watch instead of GETs`, async () => {
      const w = await world({ replicas: 4, ...c.opts, tables: [{ name: 'a', shards: 4, replicas: 1 }] });
      const { kube, calls } = counting(w);
      const cached = withPodCache(kube);
      try {
        const r = await rollingRestart(w.deps({ kube: cached }), { cluster: w.clusterModel(), ...fastGate });
        expect(r.error).toBeNull();
        expect(r.success).toBe(true);
        for (const p of w.podNames()) expect(recreations(w, p)).toBe(1);
        expect(w.crate.violations).toEqual([]);
        expect(w.crate.setting(ALLOC)).toBeUndefined();
        expect(w.kube.leases.get(`${w.namespace}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity).toBeUndefined();
        expect(calls.watchPods).toBe(1);
        expect(calls.watchPod ?? 0).toBe(0);
        // A GET only for a read the watch could not answer yet (a re-created pod not yet delivered): a handful.
        expect(calls.getPod ?? 0).toBeLessThanOrEqual(4);
        expect(cached.stats.hits).toBeGreaterThan(40);
      } finally {
        cached.close();
      }
    });
  }

  it('a manual decommission through the cache deletes the pod with the UID it read, and the pod is re-created', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 3, replicas: 1 }] });
    const cached = withPodCache(w.kube);
    try {
      const before = w.podUid('crate-1');
      const r = await decommissionPod(w.deps({ kube: cached }), {
        podName: 'crate-1',
        namespace: w.namespace,
        cluster: w.clusterModel(),
        ...fastGate,
      });
      expect(r.error).toBeNull();
      expect(r.success).toBe(true);
      expect(r.oldUid).toBe(before);
      const deletes = w.kube.writes.filter((x) => x.verb === 'delete' && x.kind === 'Pod');
      expect(deletes.map((d) => (d.detail as { uid: string }).uid)).toEqual([before]);
      expect(w.crate.violations).toEqual([]);
    } finally {
      cached.close();
    }
  });

  it('an abort mid-roll stops the watch, and the safe stop (allocation reset, Lease released) still reads pods', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 'a', shards: 3, replicas: 1 }] });
    const ac = new AbortController();
    const cached = withPodCache(w.kube, { signal: ac.signal });
    // Abort once the first decommission was sent.
    void w.waitFor(() => w.crate.decommissions.length > 0).then(() => ac.abort(new Error('SIGTERM')));
    try {
      const r = await rollingRestart(w.deps({ kube: cached, signal: ac.signal }), {
        cluster: w.clusterModel(),
        ...fastGate,
      });
      expect(r.success).toBe(false);
      expect(w.kube.openPodWatches).toBe(0);
      expect(w.crate.setting(ALLOC)).toBeUndefined();
      expect(w.kube.leases.get(`${w.namespace}/${leaseName(w.clusterName)}`)?.spec?.holderIdentity).toBeUndefined();
    } finally {
      cached.close();
    }
  });
});
