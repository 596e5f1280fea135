// How often the cluster Lease is written (issue 9 item 2): a progress save where a crash after it must resume
// differently than a crash before it, or before an irreversible action; everything else staged and written with the
// next write; renewals only ttl/3 after the LAST successful write. On the discrete-event clock, so the counts and
// times are exact (no real timer decides them).
import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { ANNOTATION_PROGRESS, ClusterLease, leaseName, type OperationProgress } from '../../../shared/lease.js';
import { CrateSqlError, KubeApiError } from '../../../shared/errors.js';
import { restartPod } from '../../../shared/restart.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { installImmediateCounter, VirtualClock } from '../../support/virtual-clock.js';
import { fastGate, world } from './helpers.js';
import type { World } from '../../support/fakes/world.js';

const ns = 'crate';

interface LeaseWrite {
  at: number;
  holder: string | undefined;
  progress: OperationProgress;
}

/** Every replaceLease the engine sends, with the engine time and the progress it carries. */
function recordWrites(w: World, clock: VirtualClock): LeaseWrite[] {
  const writes: LeaseWrite[] = [];
  const original = w.kube.replaceLease.bind(w.kube);
  w.kube.replaceLease = async (namespace: string, body: V1Lease) => {
    writes.push({
      at: clock.now(),
      holder: body.spec?.holderIdentity,
      progress: JSON.parse(body.metadata?.annotations?.[ANNOTATION_PROGRESS] ?? '{}') as OperationProgress,
    });
    return original(namespace, body);
  };
  return writes;
}

async function virtualWorld(clock: VirtualClock, opts: Parameters<typeof world>[0]): Promise<World> {
  installImmediateCounter();
  return clock.run(
    world({
      ...opts,
      clock,
      joinDelayMs: 0,
      kube: { startDelayMs: 0, recreateDelayMs: 0 },
      crate: { stepMs: 0, exitDelayMs: 0 },
    }),
  );
}

/** One write as the per-pod sequence shows it: the step of the current pod, or done:<n> once it is recorded done. */
function shape(p: OperationProgress): string {
  const flags = [p.allocationSet ? 'alloc' : '', p.gracefulStopBefore ? 'gs' : ''].filter(Boolean).join('+');
  const what = p.current ? `${p.current.pod}:${p.current.step}` : `done:${Object.keys(p.done).length}`;
  return flags ? `${what} [${flags}]` : what;
}

describe('Lease writes per pod of a roll (issue 9 item 2)', () => {
  const pods = 4;

  it('manual: 4 writes per pod (allocation with started and graceful_stop, decommission-sent, deleting, done with the allocation reset) and the release', async () => {
    const clock = new VirtualClock();
    const w = await virtualWorld(clock, {
      replicas: pods,
      preStop: 'none',
      tables: [{ name: 't1', shards: pods, replicas: 1 }],
    });
    const writes = recordWrites(w, clock);
    const deps = w.deps({ holderIdentity: 'writes', leaseDurationSeconds: 60 });
    const cluster = await clock.run(
      analyzeCluster({ ...deps, clock }, { namespace: ns, kind: 'statefulset', name: w.statefulSetName }),
    );
    expect(cluster.statefulSets[0]!.detection.strategy).toBe('manual');
    const r = await clock.run(rollingRestart({ ...deps, clock }, { cluster, operationId: 'op-writes' }));
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    // Acquire is a create; then 4 writes per pod and the release (holder cleared).
    expect(writes).toHaveLength(4 * pods + 1);
    expect(writes.at(-1)!.holder).toBeUndefined();
    const order = r.pods.map((p) => p.podName);
    expect(writes.slice(0, -1).map((x) => shape(x.progress))).toEqual(
      order.flatMap((pod, i) => [
        `${pod}:started [alloc+gs]`,
        `${pod}:decommission-sent [alloc+gs]`,
        `${pod}:deleting [alloc+gs]`,
        // Written before the graceful_stop restore (a lost Lease is noticed first); the restore's clear is staged.
        `done:${i + 1} [gs]`,
      ]),
    );
    expect(shape(writes.at(-1)!.progress)).toBe(`done:${pods}`);
  });

  it('kubernetes_managed: 2 writes per pod (deleting, done) and the release', async () => {
    const clock = new VirtualClock();
    const w = await virtualWorld(clock, {
      replicas: pods,
      preStop: 'dc_util',
      tables: [{ name: 't1', shards: pods, replicas: 1 }],
    });
    const writes = recordWrites(w, clock);
    const deps = w.deps({ holderIdentity: 'writes', leaseDurationSeconds: 60 });
    const cluster = await clock.run(
      analyzeCluster({ ...deps, clock }, { namespace: ns, kind: 'statefulset', name: w.statefulSetName }),
    );
    expect(cluster.statefulSets[0]!.detection.strategy).toBe('kubernetes_managed');
    const r = await clock.run(rollingRestart({ ...deps, clock }, { cluster, operationId: 'op-writes' }));
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(writes).toHaveLength(2 * pods + 1);
    const order = r.pods.map((p) => p.podName);
    expect(writes.slice(0, -1).map((x) => shape(x.progress))).toEqual(
      order.flatMap((pod, i) => [`${pod}:deleting`, `done:${i + 1}`]),
    );
  });
});

describe('renewal timer (issue 9 item 2)', () => {
  it('a progress save restarts the renewal interval; self-fencing counts from the last successful write', async () => {
    const clock = new VirtualClock();
    const w = await virtualWorld(clock, { replicas: 1, tables: [] });
    const writes = recordWrites(w, clock);
    const t0 = clock.now();
    const at = (ms: number) => clock.run(clock.delay(t0 + ms - clock.now()));
    // TTL 60 s: renewal every 20 s, retry after a failure every 5 s, self-fencing after 40 s without a write.
    const l = await clock.run(
      ClusterLease.acquire(w.deps({ holderIdentity: 'timer' }), {
        namespace: ns,
        clusterName: w.clusterName,
        operationId: 'op-timer',
        leaseDurationSeconds: 60,
      }),
    );
    await at(15_000);
    await clock.run(l.save({ allocationSet: 'primaries' }));
    await at(38_000);
    // The save at 15 s renewed the Lease: no renewal at 20 s, the next one 20 s after the save.
    expect(writes.map((x) => x.at - t0)).toEqual([15_000, 35_000]);
    await at(54_000);
    expect(writes.map((x) => x.at - t0)).toEqual([15_000, 35_000]);
    await clock.run(l.save({ allocationSet: null }));
    expect(writes.map((x) => x.at - t0)).toEqual([15_000, 35_000, 54_000]);
    // From now on every write fails: the last successful one (the save at 54 s) is what self-fencing counts from.
    w.kube.replaceLease = () => Promise.reject(new KubeApiError(500, 'InternalError', 'etcdserver: request timed out'));
    await at(93_000);
    expect(l.lost.aborted).toBe(false);
    await at(97_000);
    expect(l.lost.aborted).toBe(true);
    expect(String((l.lost.reason as Error).message)).toContain('No renewal of lock');
    await clock.run(l.release());
  });
});

describe('fewer writes, the same takeover safety: a Lease lost to a retry of the operation is noticed before the graceful_stop restore', () => {
  /** A retried Job pod of the same operation takes the Lease over (it carries the recorded values and restores them). */
  async function takeOver(w: World): Promise<void> {
    const key = `${ns}/${leaseName(w.clusterName)}`;
    const current = w.kube.leases.get(key)!;
    await w.kube.replaceLease(ns, { ...current, spec: { ...current.spec, holderIdentity: 'job-pod-b' } });
  }
  const restoresGracefulStop = (stmt: string) =>
    /graceful_stop/.test(stmt) && /^\s*(RESET|SET GLOBAL TRANSIENT)/i.test(stmt) && !/^\s*SELECT/i.test(stmt);

  it('after the pod: taken over while the allocation is RESET, the done write notices it; graceful_stop is left to the heir', async () => {
    const w = await world({ replicas: 3 });
    const original = w.crate.query.bind(w.crate);
    let stolenAt = -1;
    w.crate.query = async (node, login, via, stmt, args) => {
      if (stolenAt < 0 && stmt.startsWith('RESET GLOBAL "cluster.routing.allocation.enable"')) {
        await takeOver(w);
        stolenAt = w.crate.writes.length;
      }
      return original(node, login, via, stmt, args);
    };
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-a' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-t',
    });
    expect(stolenAt).toBeGreaterThan(0);
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(
      w.crate.writes
        .slice(stolenAt + 1)
        .map((x) => x.stmt)
        .filter(restoresGracefulStop),
    ).toEqual([]);
    expect(w.log.text()).toContain('restoring cluster.graceful_stop.*');
    expect(w.log.text()).toContain('is left to job-pod-b');
  });

  it('on the exit path: a failed drain RESETs the allocation, writes that at once, and leaves graceful_stop to the heir', async () => {
    const w = await world({ replicas: 3 });
    const original = w.crate.query.bind(w.crate);
    let stolenAt = -1;
    w.crate.query = async (node, login, via, stmt, args) => {
      if (stolenAt < 0 && stmt.startsWith('ALTER CLUSTER DECOMMISSION')) {
        await takeOver(w);
        stolenAt = w.crate.writes.length;
        throw new CrateSqlError(500, 5000, 'SQLActionException[boom]');
      }
      return original(node, login, via, stmt, args);
    };
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-a' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-t',
    });
    expect(stolenAt).toBeGreaterThan(0);
    expect(r.success).toBe(false);
    expect(
      w.crate.writes
        .slice(stolenAt)
        .map((x) => x.stmt)
        .filter(restoresGracefulStop),
    ).toEqual([]);
    expect(w.log.text()).toContain('is left to job-pod-b');
  });
});
