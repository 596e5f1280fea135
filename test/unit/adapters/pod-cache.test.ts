// The shared pod watch (shared/adapters/pod-cache.ts) over the in-memory Kubernetes (whose collection watch behaves
// like the real adapter's loop: a sync after every re-list) and over the real loop (watchPodsLoop) with a scripted
// API server: initial list, events, re-list after 410 Gone and a dropped watch, the read-your-own-delete rule, the
// fallback to GETs, and the stop on abort.
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { STATEFULSET_POD_SELECTOR, selectorMatches, withPodCache } from '../../../shared/adapters/pod-cache.js';
import { watchPodsLoop, type PodsWatchSource } from '../../../shared/adapters/pod-watch.js';
import type { KubernetesPort, PodsEvent } from '../../../shared/ports.js';
import { FakeKube } from '../../support/fakes/kube.js';
import { VirtualClock } from '../../support/virtual-clock.js';

const ns = 'crate';

function fakeKube(replicas = 3, clock?: VirtualClock): FakeKube {
  const kube = new FakeKube({ startDelayMs: 0, readyDelayMs: 0, recreateDelayMs: 0, restartDelayMs: 0, clock });
  kube.addStatefulSet({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'crate', namespace: ns, labels: { app: 'crate' } },
    spec: {
      replicas,
      serviceName: 'crate',
      selector: { matchLabels: { app: 'crate' } },
      template: {
        metadata: { labels: { app: 'crate' } },
        spec: { containers: [{ name: 'crate', image: 'crate:6.1.0' }] },
      },
    },
  });
  return kube;
}

/** Counts the calls that reach the API (the fake), by method. */
function counted(kube: FakeKube): { port: KubernetesPort; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const port = new Proxy(kube, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function' || typeof prop !== 'string') return v;
      return (...a: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        return (v as (...x: unknown[]) => unknown).apply(target, a);
      };
    },
  });
  return { port, calls };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const open: FakeKube[] = [];
afterEach(() => {
  for (const k of open.splice(0)) k.close();
});

describe('withPodCache over the in-memory Kubernetes', () => {
  it('answers getPod from ONE list + watch per namespace, never a GET per read', async () => {
    const kube = fakeKube();
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-2')?.status?.phase === 'Running');
    const { port, calls } = counted(kube);
    const cache = withPodCache(port);
    for (let i = 0; i < 20; i++) {
      for (const name of ['crate-0', 'crate-1', 'crate-2']) {
        const pod = await cache.getPod(ns, name);
        expect(pod?.metadata?.uid).toBe(kube.pod(ns, name)?.metadata?.uid);
      }
    }
    expect(calls).toEqual({ watchPods: 1 });
    expect(cache.stats).toMatchObject({ starts: 1, hits: 60, misses: 0 });
    // A pod the cache does not hold is read from the API server (absent: null).
    expect(await cache.getPod(ns, 'crate-9')).toBeNull();
    expect(calls).toEqual({ watchPods: 1, getPod: 1 });
    cache.close();
    expect(kube.openPodWatches).toBe(0);
  });

  it('follows events: readiness, deletion, re-creation, for getPod and watchPod alike', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-0')?.status?.conditions?.[0]?.status === 'True');
    const { port, calls } = counted(kube);
    const cache = withPodCache(port);
    const seen: string[] = [];
    const stop = await cache.watchPod(ns, 'crate-0', (p) =>
      seen.push(
        p
          ? `${p.metadata?.uid}:${p.status?.conditions?.[0]?.status}${p.metadata?.deletionTimestamp ? ':terminating' : ''}`
          : 'gone',
      ),
    );
    const uid = kube.pod(ns, 'crate-0')!.metadata!.uid!;
    expect(seen).toEqual([`${uid}:True`]);
    kube.setReady(ns, 'crate-0', false);
    await until(() => seen.length === 2);
    expect(seen[1]).toBe(`${uid}:False`);
    expect((await cache.getPod(ns, 'crate-0'))?.status?.conditions?.[0]?.status).toBe('False');

    await kube.deletePod(ns, 'crate-0', { gracePeriodSeconds: 0, uid });
    await until(() => seen.some((s) => s !== 'gone' && !s.startsWith(uid)));
    expect(seen).toContain(`${uid}:False:terminating`);
    expect(seen).toContain('gone');
    const newUid = kube.pod(ns, 'crate-0')!.metadata!.uid!;
    expect(newUid).not.toBe(uid);
    await until(() => seen.at(-1) === `${newUid}:True`);
    expect((await cache.getPod(ns, 'crate-0'))?.metadata?.uid).toBe(newUid);
    stop();
    // No watch per pod, no GET: the one collection watch carried it all.
    expect(calls).toEqual({ watchPods: 1 });
    cache.close();
  });

  it('after a dropped watch or 410 Gone the re-list brings the changes it missed (sync)', async () => {
    const kube = fakeKube(2);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-1')?.status?.conditions?.[0]?.status === 'True');
    const cache = withPodCache(kube);
    const oldUid = (await cache.getPod(ns, 'crate-1'))!.metadata!.uid!;
    const seen: Array<string | null> = [];
    const stop = await cache.watchPod(ns, 'crate-1', (p) => seen.push(p?.metadata?.uid ?? null));
    const quietSeen: Array<string | null> = [];
    const stopQuiet = await cache.watchPod(ns, 'crate-0', (p) => quietSeen.push(p?.metadata?.uid ?? null));

    kube.pausePodWatches(ns); // the watch is down: nothing reaches the cache
    await kube.deletePod(ns, 'crate-1', { gracePeriodSeconds: 0, uid: oldUid });
    await until(() => !!kube.pod(ns, 'crate-1') && kube.pod(ns, 'crate-1')!.metadata!.uid !== oldUid);
    const newUid = kube.pod(ns, 'crate-1')!.metadata!.uid!;
    await tick();
    expect((await cache.getPod(ns, 'crate-1'))?.metadata?.uid).toBe(oldUid); // stale while down (not our write)
    expect(seen).toEqual([oldUid]);

    kube.resumePodWatches(ns); // the loop re-lists
    await until(() => seen.at(-1) === newUid);
    expect((await cache.getPod(ns, 'crate-1'))?.metadata?.uid).toBe(newUid);
    // The re-list delivers only what changed: crate-0 (untouched) got nothing new.
    expect(quietSeen).toHaveLength(1);
    stop();
    stopQuiet();
    cache.close();
  });

  it('read-your-own-delete: right after deletePod a read never shows the deleted uid as if nothing happened', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-0')?.status?.conditions?.[0]?.status === 'True');
    const { port, calls } = counted(kube);
    const cache = withPodCache(port, { freshWaitMs: 200 });
    const uid = (await cache.getPod(ns, 'crate-0'))!.metadata!.uid!;
    // A long grace period: the pod stays terminating.
    kube.hooks.preStop = () => new Promise(() => {});
    kube.statefulSets.get(`${ns}/crate`)!.spec!.template.spec!.containers[0]!.lifecycle = {
      preStop: { exec: { command: ['x'] } },
    };

    // 1. The watch delivers the delete a moment later: the read waits for it (no GET).
    await cache.deletePod(ns, 'crate-0', { gracePeriodSeconds: 600, uid });
    const after = await cache.getPod(ns, 'crate-0');
    expect(after?.metadata?.uid).toBe(uid);
    expect(after?.metadata?.deletionTimestamp).toBeTruthy();
    expect(cache.stats.freshWaits).toBe(1);
    expect(cache.stats.freshGets).toBe(0);
    expect(calls.getPod ?? 0).toBe(0);
    cache.close();
  });

  it('read-your-own-delete: when the watch lags past the bound, the read GETs the API server', async () => {
    // The fake's time moves only inside clock.run(): the pod starts, then stands still in Terminating (its 600 s
    // grace never ends) while the cache's real-time bound (50 ms) runs out.
    const clock = new VirtualClock();
    const kube = fakeKube(1, clock);
    open.push(kube);
    await clock.run(until(() => kube.pod(ns, 'crate-0')?.status?.conditions?.[0]?.status === 'True'));
    const { port, calls } = counted(kube);
    const cache = withPodCache(port, { freshWaitMs: 50 });
    const uid = (await cache.getPod(ns, 'crate-0'))!.metadata!.uid!;
    kube.hooks.preStop = () => new Promise(() => {});
    const pod = kube.pods.get(`${ns}/crate-0`)!;
    pod.spec!.containers[0]!.lifecycle = { preStop: { exec: { command: ['x'] } } };
    kube.pausePodWatches(ns);
    await cache.deletePod(ns, 'crate-0', { gracePeriodSeconds: 600, uid });
    const seen: V1Pod[] = [];
    const stop = await cache.watchPod(ns, 'crate-0', (p) => p && seen.push(p));
    const after = await cache.getPod(ns, 'crate-0');
    expect(after?.metadata?.deletionTimestamp).toBeTruthy();
    // watchPod's first state obeys the same rule.
    expect(seen[0]?.metadata?.deletionTimestamp).toBeTruthy();
    expect(calls.getPod).toBe(2);
    expect(cache.stats.freshGets).toBe(2);
    stop();
    cache.close();
  });

  it('the UID precondition stays the API server’s: a stale uid is a 409, not a cache answer', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-0')?.status?.phase === 'Running');
    const cache = withPodCache(kube);
    await cache.getPod(ns, 'crate-0');
    await expect(cache.deletePod(ns, 'crate-0', { gracePeriodSeconds: 0, uid: 'not-the-uid' })).rejects.toMatchObject({
      statusCode: 409,
    });
    cache.close();
  });

  it('stops on abort: the watch ends, reads go to the API server, an open watchPod is handed over', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-0')?.status?.conditions?.[0]?.status === 'True');
    const { port, calls } = counted(kube);
    const ac = new AbortController();
    const cache = withPodCache(port, { signal: ac.signal });
    const seen: string[] = [];
    const stop = await cache.watchPod(ns, 'crate-0', (p) => seen.push(p?.status?.conditions?.[0]?.status ?? 'gone'));
    expect(kube.openPodWatches).toBe(1);
    ac.abort(new Error('SIGTERM'));
    await tick();
    expect(kube.openPodWatches).toBe(0);
    expect(await cache.getPod(ns, 'crate-0')).not.toBeNull();
    expect(calls.getPod).toBe(1);
    await until(() => (calls.watchPod ?? 0) === 1);
    kube.setReady(ns, 'crate-0', false);
    await until(() => seen.at(-1) === 'False');
    stop();
  });

  it('falls back to GETs when the namespace cannot be watched, and tries again later', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    await until(() => kube.pod(ns, 'crate-0')?.status?.phase === 'Running');
    const errors: string[] = [];
    let now = 0;
    const { port, calls } = counted(kube);
    const cache = withPodCache(port, { onError: (m) => errors.push(m), now: () => now, retryMs: 1000 });
    kube.failNext('watchPods', new Error('forbidden'));
    expect(await cache.getPod(ns, 'crate-0')).not.toBeNull();
    expect(await cache.getPod(ns, 'crate-0')).not.toBeNull();
    expect(calls).toEqual({ watchPods: 1, getPod: 2 });
    expect(errors[0]).toMatch(/cannot watch the pods of namespace crate .*forbidden.*reading them one by one/);
    now = 2000;
    expect(await cache.getPod(ns, 'crate-0')).not.toBeNull();
    expect(calls).toEqual({ watchPods: 2, getPod: 2 });
    cache.close();
  });

  it('a pod outside the selector (no StatefulSet label) is read and watched on its own', async () => {
    const kube = fakeKube(1);
    open.push(kube);
    const loose: V1Pod = {
      metadata: { name: 'loose', namespace: ns, uid: 'loose-1', resourceVersion: '1', labels: { app: 'x' } },
      status: { phase: 'Running' },
    };
    kube.pods.set(`${ns}/loose`, loose);
    const { port, calls } = counted(kube);
    const cache = withPodCache(port);
    expect((await cache.getPod(ns, 'loose'))?.metadata?.uid).toBe('loose-1');
    const seen: Array<string | null> = [];
    const stop = await cache.watchPod(ns, 'loose', (p) => seen.push(p?.metadata?.uid ?? null));
    await until(() => seen.length === 1);
    expect(calls.watchPod).toBe(1);
    stop();
    cache.close();
  });
});

describe('selectorMatches', () => {
  it('reads equality-based selectors and says null for set-based ones', () => {
    const labels = { [STATEFULSET_POD_SELECTOR]: 'crate-0', app: 'crate' };
    expect(selectorMatches(labels, STATEFULSET_POD_SELECTOR)).toBe(true);
    expect(selectorMatches({ app: 'crate' }, STATEFULSET_POD_SELECTOR)).toBe(false);
    expect(selectorMatches(labels, 'app=crate,!gone')).toBe(true);
    expect(selectorMatches(labels, 'app==crate')).toBe(true);
    expect(selectorMatches(labels, 'app!=crate')).toBe(false);
    expect(selectorMatches(labels, 'app in (crate)')).toBeNull();
  });
});

describe('watchPodsLoop (the real adapter loop) feeds the cache', () => {
  it('sync from the list, events, and a new sync after a 410 ERROR event', async () => {
    const pod = (name: string, uid: string, rv: string): V1Pod => ({
      metadata: { name, uid, resourceVersion: rv, labels: { [STATEFULSET_POD_SELECTOR]: name } },
    });
    const lists = [
      { pods: [pod('a-0', 'u1', '10'), pod('a-1', 'u2', '11')], resourceVersion: '20' },
      { pods: [pod('a-0', 'u3', '40')], resourceVersion: '50' },
    ];
    const watches: Array<{ rv: string; onEvent: (t: string, o: unknown) => void }> = [];
    const source: PodsWatchSource = {
      list: async () => lists.shift()!,
      watch: async (rv, onEvent) => {
        watches.push({ rv, onEvent });
        return { abort() {} };
      },
    };
    const port = {
      watchPods: (_ns: string, _sel: string, h: (e: PodsEvent) => void) =>
        watchPodsLoop(source, h, { initialBackoffMs: 1, maxBackoffMs: 5, minHealthyWatchMs: 0 }),
      getPod: async () => {
        throw new Error('no GET expected');
      },
    } as unknown as KubernetesPort;
    const cache = withPodCache(port);
    expect((await cache.getPod(ns, 'a-1'))?.metadata?.uid).toBe('u2');
    expect(watches[0]!.rv).toBe('20');
    watches[0]!.onEvent('MODIFIED', { ...pod('a-0', 'u1', '21'), status: { phase: 'Failed' } });
    expect((await cache.getPod(ns, 'a-0'))?.status?.phase).toBe('Failed');
    watches[0]!.onEvent('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await until(() => watches.length === 2);
    expect(watches[1]!.rv).toBe('50');
    expect((await cache.getPod(ns, 'a-0'))?.metadata?.uid).toBe('u3');
    // a-1 vanished while the watch was gone: the re-list's sync removed it. A name the watch has shown is a
    // StatefulSet pod's: absent now means gone, no GET needed (a name it never showed would be a GET).
    expect(await cache.getPod(ns, 'a-1')).toBeNull();
    await expect(cache.getPod(ns, 'other-0')).rejects.toThrow('no GET expected');
    cache.close();
  });
});
