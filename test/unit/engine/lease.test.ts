// The cluster Lease: one writer, renewal, expired takeover, release, and crash-safe resume of
// the same operation (no second DECOMMISSION, done pods skipped, a deleting pod followed).
import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import {
  ANNOTATION_OPERATION,
  ANNOTATION_PROGRESS,
  ClusterLease,
  leaseName,
  type OperationProgress,
} from '../../../shared/lease.js';
import { KubeApiError, LockedError, OperationFailedError } from '../../../shared/errors.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { newOperationId } from '../../../shared/operation.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';

function lease(w: World): V1Lease | undefined {
  return w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`);
}

async function plantLease(
  w: World,
  holder: string,
  operationId: string,
  ageMs: number,
  progress?: Partial<OperationProgress>,
): Promise<void> {
  const at = new Date(w.clock.now() - ageMs);
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
    spec: { holderIdentity: holder, leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
  });
  w.kube.writes.length = 0;
}

describe('ClusterLease', () => {
  it('a second run fails with LockedError naming the holder as soon as it sees the holder renew, and writes nothing', async () => {
    const w = await world({ replicas: 3 });
    const holder = await ClusterLease.acquire(w.deps({ holderIdentity: 'runner-a@host' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-a',
      leaseDurationSeconds: 600,
    });
    const cluster = w.clusterModel();
    const err = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-b',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err.holder).toBe(holder.holder);
    expect(err.message).toContain('is locked by runner-a@host-');
    expect(err.message).toContain('(operation op-a, Lease crate-decommission-crate renewed while this run watched it)');
    w.kube.writes.length = 0;
    for (const r of [
      await rollingRestart(w.deps(), { cluster, ...fastGate, operationId: 'op-b' }),
      await restartPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster, operationId: 'op-b' }),
      await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster, operationId: 'op-b' }),
    ]) {
      expect(r).toMatchObject({ success: false, errorKind: 'locked' });
      expect(r.error).toContain('runner-a@host');
    }
    // Only the holder's own renewals were written.
    expect(
      w.kube.writes.every(
        (x) =>
          x.kind === 'Lease' && x.verb === 'replace' && (x.detail as V1Lease).spec?.holderIdentity === holder.holder,
      ),
    ).toBe(true);
    expect(w.crate.writes).toEqual([]);
    expect(holder.lost.aborted).toBe(false);
    await holder.release();
  });

  it('two runs racing for a free Lease: exactly one wins', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const results = await Promise.allSettled([
      ClusterLease.acquire(w.deps({ holderIdentity: 'a' }), { namespace: ns, clusterName: 'x', operationId: 'op-a' }),
      ClusterLease.acquire(w.deps({ holderIdentity: 'b' }), { namespace: ns, clusterName: 'x', operationId: 'op-b' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(LockedError);
    for (const r of results) if (r.status === 'fulfilled') await r.value.release();
  });

  it('takes over an expired Lease by a replace with its resourceVersion', async () => {
    const w = await world({ replicas: 1, tables: [] });
    await plantLease(w, 'crashed-runner', 'op-old', 3_700_000);
    const l = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-new',
    });
    expect(w.kube.writes.map((x) => `${x.verb} ${x.kind}`)).toEqual(['replace Lease']);
    expect(lease(w)!.spec).toMatchObject({ holderIdentity: l.holder, leaseTransitions: 1 });
    expect(l.holder).toMatch(/^test-runner-[0-9a-f]{8}$/);
    expect(lease(w)!.metadata!.annotations![ANNOTATION_OPERATION]).toBe('op-new');
    expect(l.resumed).toBe(false);
    await l.release();
    expect(lease(w)!.spec!.holderIdentity).toBeUndefined();
  });

  it('renews every ttl/3 while running, records progress, stops renewing once released', async () => {
    const w = await world({ replicas: 1, tables: [] });
    // TTL 300 s (300 ms real): a shorter one would fence itself whenever a loaded machine stalls the renewal timer.
    const l = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op',
      leaseDurationSeconds: 300,
    });
    const firstRenew = new Date(lease(w)!.spec!.renewTime!).getTime();
    await w.waitFor(() => w.kube.writes.filter((x) => x.verb === 'replace').length >= 3); // every 100 s of engine time
    expect(w.clock.now() - firstRenew).toBeGreaterThanOrEqual(300_000);
    expect(new Date(lease(w)!.spec!.renewTime!).getTime()).toBeGreaterThan(firstRenew);
    await l.save({ current: { pod: 'crate-0', oldUid: 'u1', nodeName: 'data-hot-0', step: 'decommission-sent' } });
    expect(JSON.parse(lease(w)!.metadata!.annotations![ANNOTATION_PROGRESS]!).current).toMatchObject({
      pod: 'crate-0',
      step: 'decommission-sent',
    });
    await l.release();
    const after = w.kube.writes.length;
    await w.clock.delay(40_000); // 40 s of engine time
    expect(w.kube.writes.length).toBe(after);
    expect(lease(w)!.spec!.holderIdentity).toBeUndefined();
  });

  it('a Lease lost to another holder aborts the operation', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const l = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op',
      leaseDurationSeconds: 300,
    });
    const current = lease(w)!;
    await w.kube.replaceLease(ns, { ...current, spec: { ...current.spec, holderIdentity: 'thief' } });
    await w.waitFor(() => l.lost.aborted);
    expect(l.lost.reason).toBeInstanceOf(LockedError);
    await l.release();
    expect(lease(w)!.spec!.holderIdentity).toBe('thief');
  });

  it('an expired Lease of another operation that left allocation restricted: the new run resets it', async () => {
    const w = await world({ replicas: 3 });
    w.crate.transient.set(ALLOC, 'primaries');
    await plantLease(w, 'crashed', 'op-old', 3_700_000, { allocationSet: 'primaries' });
    const r = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-new',
    });
    expect(r.success).toBe(true);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });
});

describe('resume after a crash (same operation id, e.g. a Job retry)', () => {
  it('manual: a node already draining is followed, not decommissioned again; done pods are skipped', async () => {
    const w = await world({ replicas: 3 });
    // The crashed run: restarted crate-2, then sent the decommission of data-hot-1 and died.
    const doneUid = w.podUid('crate-2')!;
    const oldUid = w.podUid('crate-1')!;
    const run = (stmt: string, args: unknown[] = []) =>
      w.crate.query('data-hot-0', { user: 'crate', password: null }, 'http', stmt, args);
    await run(`SET GLOBAL TRANSIENT "${ALLOC}" = 'primaries'`);
    await run(`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '720s'`);
    await run(`SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true`);
    await run('ALTER CLUSTER DECOMMISSION ?', ['data-hot-1']);
    await plantLease(w, 'job-pod-a', 'job-1', 0, {
      done: { 'crate-2': doneUid },
      current: {
        pod: 'crate-1',
        oldUid,
        nodeName: 'data-hot-1',
        step: 'decommission-sent',
        restartCount: 0,
        sentAt: w.clock.now(),
      },
      allocationSet: 'primaries',
    });

    const r = await rollingRestart(w.deps({ holderIdentity: 'job-pod-b' }), {
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-1',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(r.pods.map((p) => [p.podName, p.skipped])).toEqual([
      ['crate-1', false],
      ['crate-2', true],
      ['crate-0', false],
    ]);
    const alters = w.crate.writes.filter((s) => s.stmt.startsWith('ALTER'));
    expect(alters.map((a) => a.args[0])).toEqual(['data-hot-1', 'data-hot-0']);
    expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-1')).toHaveLength(1);
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-2')).toHaveLength(1);
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-1')).toHaveLength(2);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(w.crate.violations).toEqual([]);
    expect(w.log.text()).toContain('Resuming: node data-hot-1 is already decommissioning');
    expect(lease(w)!.spec!.holderIdentity).toBeUndefined();
  });

  it('manual: progress says the decommission was sent but the node is not draining (crash before it left): sent once', async () => {
    const w = await world({ replicas: 3 });
    const oldUid = w.podUid('crate-1')!;
    await plantLease(w, 'job-pod-a', 'job-4', 0, {
      current: {
        pod: 'crate-1',
        oldUid,
        nodeName: 'data-hot-1',
        step: 'decommission-sent',
        restartCount: 0,
        sentAt: w.clock.now(),
      },
      allocationSet: 'primaries',
    });
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-4',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(w.crate.writes.filter((s) => s.stmt.startsWith('ALTER')).map((a) => a.args[0])).toEqual(['data-hot-1']);
    expect(w.log.text()).toContain('Resuming: node data-hot-1 is not draining');
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });

  it('manual: the drained node exited, restarted in place and rejoined before the retry: decommissioned again, not deleted while a full member', async () => {
    const w = await world({ replicas: 3 });
    const oldUid = w.podUid('crate-1')!;
    const sentAt = w.clock.now();
    await w.crate.query('data-hot-0', { user: 'crate', password: null }, 'http', 'ALTER CLUSTER DECOMMISSION ?', [
      'data-hot-1',
    ]);
    // The crashed run never deleted the pod: the container restarted in place and its node is back.
    await w.waitFor(
      () =>
        (w.kube.pods.get(`${ns}/crate-1`)?.status?.containerStatuses?.find((c) => c.name === 'crate')?.restartCount ??
          0) > 0,
    );
    await w.waitFor(() => w.crate.node('data-hot-1')?.state === 'up');
    await plantLease(w, 'job-pod-a', 'job-6', 0, {
      current: { pod: 'crate-1', oldUid, nodeName: 'data-hot-1', step: 'decommission-sent', restartCount: 0, sentAt },
      allocationSet: 'primaries',
    });
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-6',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    const decommissions = w.crate.decommissions.filter((d) => d.node === 'data-hot-1');
    expect(decommissions).toHaveLength(2);
    const del = w.kube.writes.find((x) => x.kind === 'Pod' && x.verb === 'delete')!;
    expect(del).toMatchObject({ name: 'crate-1', detail: { gracePeriodSeconds: 30, uid: oldUid } });
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });

  it('manual: progress says deleting but the crashed run never sent the delete: it is sent now', async () => {
    // The exited container must not restart in place before the retry (that case is decommissioned again, see above).
    const w = await world({ replicas: 3, kube: { restartDelayMs: 3_600_000 } });
    const oldUid = w.podUid('crate-0')!;
    await w.crate.query('data-hot-1', { user: 'crate', password: null }, 'http', 'ALTER CLUSTER DECOMMISSION ?', [
      'data-hot-0',
    ]);
    await w.waitFor(() => w.crate.node('data-hot-0')?.state === 'down');
    await plantLease(w, 'job-pod-a', 'job-5', 0, {
      current: { pod: 'crate-0', oldUid, nodeName: 'data-hot-0', step: 'deleting', restartCount: 0, sentAt: 0 },
    });
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      podName: 'crate-0',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-5',
    });
    expect(r.success).toBe(true);
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([
      { verb: 'delete', kind: 'Pod', namespace: ns, name: 'crate-0', detail: { gracePeriodSeconds: 30, uid: oldUid } },
    ]);
    expect(w.crate.writes.filter((s) => s.stmt.startsWith('ALTER'))).toHaveLength(1);
  });

  it('kubernetes_managed: a pod already deleting is followed, not deleted again', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    const oldUid = w.podUid('crate-2')!;
    await w.kube.deletePod(ns, 'crate-2', { gracePeriodSeconds: 780, uid: oldUid });
    await plantLease(w, 'job-pod-a', 'job-2', 0, {
      current: { pod: 'crate-2', oldUid, nodeName: 'data-hot-2', step: 'deleting' },
    });
    const r = await rollingRestart(w.deps({ holderIdentity: 'job-pod-b' }), {
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-2',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(w.kube.writes.filter((x) => x.kind === 'Pod' && x.name === 'crate-2')).toEqual([]);
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-2')).toHaveLength(2);
    expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-2')).toHaveLength(1);
    expect(w.crate.violations).toEqual([]);
  });

  it('a finished operation re-run with the same id restarts nothing (a Job pod started twice)', async () => {
    const w = await world({ replicas: 3 });
    const first = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, operationId: 'job-3' });
    expect(first.success).toBe(true);
    const created = w.kube.podHistory.length;
    const again = await rollingRestart(w.deps({ holderIdentity: 'job-pod-2' }), {
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-3',
    });
    expect(again.success).toBe(true);
    expect(again.pods.every((p) => p.skipped)).toBe(true);
    expect(w.kube.podHistory.length).toBe(created);
    expect(again.plan.order.every((p) => p.alreadyDone)).toBe(true);
  });
});

describe('a Lease lost during a progress save', () => {
  it.each([
    ['manual', {}],
    ['kubernetes_managed', { preStop: 'dc_util' as const }],
  ])('%s: the pod is not deleted by a run that no longer holds the lock', async (_strategy, opts) => {
    const w = await world({ replicas: 3, ...opts });
    const original = w.kube.replaceLease.bind(w.kube);
    let stolen = false;
    w.kube.replaceLease = async (namespace, body) => {
      const progress = body.metadata?.annotations?.[ANNOTATION_PROGRESS] ?? '';
      if (!stolen && progress.includes('"step":"deleting"')) {
        // Another run took the Lease over (e.g. it expired while this run could not renew it).
        stolen = true;
        const current = lease(w)!;
        await original(namespace, { ...current, spec: { ...current.spec, holderIdentity: 'other-run' } });
      }
      return original(namespace, body);
    };
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-lost',
    });
    expect(stolen).toBe(true);
    expect(r.success).toBe(false);
    expect(r.errorKind).toBe('locked');
    expect(w.kube.writes.filter((x) => x.kind === 'Pod' && x.verb === 'delete')).toEqual([]);
  });
});

describe('operation ids made up by the engine', () => {
  it('two runs started in the same second get different ids (a shared id would take over the live Lease at once)', () => {
    const now = Date.UTC(2026, 0, 1);
    const a = newOperationId('restart', 'crate-1', now);
    const b = newOperationId('restart', 'crate-1', now);
    expect(a).not.toBe(b);
    expect(a.startsWith(`restart-crate-1-${now / 1000}-`)).toBe(true);
    expect(newOperationId('rollout', 'x'.repeat(300), now).length).toBeLessThanOrEqual(120);
  });
});

describe('allocation after the Lease was lost', () => {
  it('the run that lost the Lease leaves the RESET to the new holder that took over its allocation setting', async () => {
    const w = await world({ replicas: 3 });
    const original = w.kube.replaceLease.bind(w.kube);
    let stolen = false;
    w.kube.replaceLease = async (namespace, body) => {
      const progress = body.metadata?.annotations?.[ANNOTATION_PROGRESS] ?? '';
      if (!stolen && progress.includes('"step":"decommission-sent"')) {
        // The same operation's retried Job pod took the Lease over; it carries allocationSet and resets it at its end.
        stolen = true;
        const current = lease(w)!;
        await original(namespace, { ...current, spec: { ...current.spec, holderIdentity: 'job-pod-b' } });
      }
      return original(namespace, body);
    };
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-a' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-x',
    });
    expect(stolen).toBe(true);
    expect(r).toMatchObject({ success: false, errorKind: 'locked' });
    expect(w.crate.writes.map((s) => s.stmt)).not.toContain('RESET GLOBAL "cluster.routing.allocation.enable"');
    expect(w.crate.setting(ALLOC)).toBe('primaries');
    expect(w.log.text()).toContain('left to job-pod-b');
  });

  it('a Lease lost to a holder that does not carry the setting (deleted and re-created): the RESET is still sent', async () => {
    const w = await world({ replicas: 3 });
    const original = w.kube.replaceLease.bind(w.kube);
    let stolen = false;
    w.kube.replaceLease = async (namespace, body) => {
      const progress = body.metadata?.annotations?.[ANNOTATION_PROGRESS] ?? '';
      if (!stolen && progress.includes('"step":"decommission-sent"')) {
        stolen = true;
        const current = lease(w)!;
        const annotations = {
          ...current.metadata!.annotations!,
          [ANNOTATION_PROGRESS]: JSON.stringify({ operationId: 'other', done: {}, current: null, allocationSet: null }),
        };
        await original(namespace, {
          ...current,
          metadata: { ...current.metadata, annotations },
          spec: { ...current.spec, holderIdentity: 'someone' },
        });
      }
      return original(namespace, body);
    };
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-a' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-y',
    });
    expect(stolen).toBe(true);
    expect(r.success).toBe(false);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });
});

/** deps whose wall clock is `skewMs` off (another host); its monotonic clock runs like the world's. */
function skewed(w: World, skewMs: number, holderIdentity: string) {
  return w.deps({
    holderIdentity,
    clock: {
      now: () => w.clock.now() + skewMs,
      monotonic: () => w.clock.now(),
      delay: (ms, s) => w.clock.delay(ms, s),
    },
  });
}

describe("Lease expiry on the observer's own clock (issue 8 item 9)", () => {
  it.each([
    ['one TTL + 1 s ahead', 601_000],
    ['1 h ahead', 3_600_000],
    ['1 h behind', -3_600_000],
  ])('a run whose wall clock is %s does not take over a Lease that is being renewed', async (_how, skew) => {
    const w = await world({ replicas: 1, tables: [] });
    // TTL 600 s (600 ms real at 1000x): a loaded machine must not stall the holder's renewals past it.
    const a = await ClusterLease.acquire(w.deps({ holderIdentity: 'run-a' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-a',
      leaseDurationSeconds: 600,
    });
    const err = await ClusterLease.acquire(skewed(w, skew, 'run-b'), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-b',
    }).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(lease(w)!.spec!.holderIdentity).toBe(a.holder);
    expect(a.lost.aborted).toBe(false);
    await a.release();
  });

  it.each([
    ['its renewTime in the future (its clock was ahead)', 3_600_000],
    ['its renewTime long past', -3_600_000],
  ])(
    "a crashed run's Lease with %s is taken over after one TTL without change as seen by this run, not before",
    async (_how, offset) => {
      const w = await world({ replicas: 1, tables: [] });
      const at = new Date(w.clock.now() + offset);
      await w.kube.createLease(ns, {
        metadata: { name: leaseName(w.clusterName), annotations: { [ANNOTATION_OPERATION]: 'op-crashed' } },
        spec: { holderIdentity: 'crashed-run', leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
      });
      const started = w.clock.now();
      const l = await ClusterLease.acquire(w.deps({ holderIdentity: 'run-b' }), {
        namespace: ns,
        clusterName: w.clusterName,
        operationId: 'op-b',
      });
      expect(w.clock.now() - started).toBeGreaterThanOrEqual(60_000);
      expect(lease(w)!.spec!.holderIdentity).toBe(l.holder);
      expect(w.log.text()).toContain(
        'Took over expired lock crate/crate-decommission-crate from crashed-run (not renewed for 60s as seen by this run)',
      );
      await l.release();
    },
  );
});

describe('holder identity, self-fencing, writes that give up (issue 8 item 10)', () => {
  it('the holder is unique per run: two runs of one user on one machine get different identities', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const a = await ClusterLease.acquire(w.deps({ holderIdentity: 'alice@laptop' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-a',
    });
    await a.release();
    const b = await ClusterLease.acquire(w.deps({ holderIdentity: 'alice@laptop' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-b',
    });
    expect(a.holder).toMatch(/^alice@laptop-[0-9a-f]{8}$/);
    expect(b.holder).toMatch(/^alice@laptop-[0-9a-f]{8}$/);
    expect(a.holder).not.toBe(b.holder);
    await b.release();
  });

  it('a run that cannot renew fences itself at 2/3 of the TTL, before another run (same user@host) can take the Lease over', async () => {
    const w = await world({ replicas: 1, tables: [] });
    let paused = false;
    // Run A's view of the API server: its Lease writes time out while paused (the same objects otherwise).
    const kubeA = new Proxy(w.kube, {
      get(target, prop) {
        if (prop === 'replaceLease') {
          return async (namespace: string, body: V1Lease) => {
            if (paused) throw new KubeApiError(0, 'Timeout', 'connect ETIMEDOUT');
            return target.replaceLease(namespace, body);
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const a = await ClusterLease.acquire(w.deps({ kube: kubeA, holderIdentity: 'alice@laptop' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-a',
      leaseDurationSeconds: 300,
    });
    const pausedAt = w.clock.now();
    paused = true;
    let fencedAt = 0;
    a.lost.addEventListener('abort', () => (fencedAt = w.clock.now()));
    const b = await ClusterLease.acquire(w.deps({ holderIdentity: 'alice@laptop' }), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-b',
      leaseDurationSeconds: 300,
    });
    const takenAt = w.clock.now();
    expect(a.lost.aborted).toBe(true);
    expect(a.lost.reason).toBeInstanceOf(OperationFailedError);
    expect((a.lost.reason as Error).message).toMatch(
      /^No renewal of lock crate\/crate-decommission-crate succeeded for \d+s \(67% of its 300s TTL\); stopping/,
    );
    // Fenced after ~200 s without renewal, and before the other run took over (>= 300 s after the last renewal).
    expect(fencedAt - pausedAt).toBeGreaterThanOrEqual(100_000);
    expect(fencedAt).toBeLessThan(takenAt);
    expect(lease(w)!.spec!.holderIdentity).toBe(b.holder);
    // A write of the fenced run fails instead of resolving.
    await expect(a.save({ allocationSet: null })).rejects.toThrow(/No renewal of lock/);
    paused = false;
    await a.release();
    expect(lease(w)!.spec!.holderIdentity).toBe(b.holder);
    await b.release();
  });

  it('a progress write that gives up after its retries throws', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const l = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op',
      leaseDurationSeconds: 600,
    });
    // Conflicts although this run still holds it (someone keeps touching the object): 3 tries, then give up.
    const original = w.kube.replaceLease.bind(w.kube);
    w.kube.replaceLease = async (namespace, body) => {
      const current = lease(w)!;
      await original(namespace, {
        ...current,
        metadata: { ...current.metadata, labels: { touched: String(Math.random()) } },
      });
      return original(namespace, body);
    };
    await expect(l.save({ allocationSet: 'primaries' })).rejects.toThrow(
      /Could not update lock crate\/crate-decommission-crate: it kept changing/,
    );
    w.kube.replaceLease = original;
    await l.release();
  });

  it('renewals failing during a drain abort the operation: no pod deleted, allocation reset, exit 1', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 't', shards: 3, replicas: 2 }] });
    const original = w.crate.query.bind(w.crate);
    w.crate.query = async (node, login, via, stmt, args) => {
      // From the DECOMMISSION on, the API server does not answer the runner's Lease writes.
      if (stmt.startsWith('ALTER CLUSTER DECOMMISSION'))
        w.kube.failNext(
          'replaceLease',
          new KubeApiError(503, 'ServiceUnavailable', 'etcdserver: request timed out'),
          Infinity,
        );
      return original(node, login, via, stmt, args);
    };
    // A drain that cannot finish (every node holds a copy of every shard): it would wait for the graceful-stop
    // timeout (3000 s), long after the Lease (600 s) could no longer be renewed.
    const r = await restartPod(w.deps({ leaseDurationSeconds: 600 }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: { decommissionTimeout: 3000 },
    });
    expect(r).toMatchObject({ success: false, errorKind: 'failed' });
    expect(r.error).toMatch(/No renewal of lock .* succeeded/);
    expect(w.kube.writes.filter((x) => x.kind === 'Pod')).toEqual([]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
    expect(r.allocationReset).toBe(true);
  });
});
