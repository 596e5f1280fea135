// Behaviour every KubernetesPort must have, whether in-memory fake or the real adapter against a cluster.
// Call kubePortContract() inside a test file; it registers its own describe block.
import type { V1Lease, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../shared/errors.js';
import type { KubernetesPort, PodsEvent } from '../../shared/ports.js';

export interface KubePortFixtures {
  /** Namespace the scenarios work in (must exist). */
  namespace: string;
  /**
   * Create a pod that exists now (running or not) and return its name and UID. Deleting it may
   * or may not re-create it under a new UID (a StatefulSet does).
   */
  createPod(hint: string): Promise<{ name: string; uid: string }>;
  /** Create a StatefulSet with no pods (replicas 0), settled (its controller has written its status); its name. */
  createStatefulSet(hint: string): Promise<string>;
  /** A name unique to this run, for Leases and absent objects (DNS-1123). */
  uniqueName(prefix: string): string;
  /** Ms to wait for watch deliveries (default 5000; a real cluster may need more). */
  timeoutMs?: number;
  /** Remove what the scenarios created. */
  cleanup?(): Promise<void>;
}

/** Wait until `predicate` holds, polling; fails with `what` after `timeoutMs`. */
async function eventually(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function leaseFor(name: string, holder: string): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'crate-decommission' } },
    spec: { holderIdentity: holder, leaseDurationSeconds: 60, acquireTime: new Date(), renewTime: new Date() },
  };
}

export function kubePortContract(
  makePort: () => KubernetesPort | Promise<KubernetesPort>,
  makeFixtures: (port: KubernetesPort) => KubePortFixtures | Promise<KubePortFixtures>,
  label = 'KubernetesPort contract',
): void {
  describe(label, () => {
    let port: KubernetesPort;
    let fx: KubePortFixtures;
    let timeoutMs = 5_000;

    beforeAll(async () => {
      port = await makePort();
      fx = await makeFixtures(port);
      timeoutMs = fx.timeoutMs ?? timeoutMs;
    });
    afterAll(async () => {
      await fx?.cleanup?.();
    });

    describe('absent objects', () => {
      it('get* return null on 404', async () => {
        const absent = fx.uniqueName('absent');
        expect(await port.getPod(fx.namespace, absent)).toBeNull();
        expect(await port.getStatefulSet(fx.namespace, absent)).toBeNull();
        expect(await port.getLease(fx.namespace, absent)).toBeNull();
        expect(await port.getCrateDB(fx.namespace, absent)).toBeNull();
        expect(await port.readSecret(fx.namespace, absent, 'password')).toBeNull();
      });

      it('deleting an absent pod is a 404 KubeApiError', async () => {
        const err = await rejection(
          port.deletePod(fx.namespace, fx.uniqueName('absent'), { gracePeriodSeconds: 0, uid: 'x' }),
        );
        expect(err).toBeInstanceOf(KubeApiError);
        expect(err).toMatchObject({ statusCode: 404 });
      });
    });

    describe('pods', () => {
      it('getPod returns the pod with its UID', async () => {
        const { name, uid } = await fx.createPod('get');
        const pod = await port.getPod(fx.namespace, name);
        expect(pod?.metadata?.name).toBe(name);
        expect(pod?.metadata?.uid).toBe(uid);
      });

      it('deletePod with a stale UID precondition is 409 and leaves the pod alone', async () => {
        const { name, uid } = await fx.createPod('uid');
        const err = await rejection(port.deletePod(fx.namespace, name, { gracePeriodSeconds: 0, uid: `${uid}-stale` }));
        expect(err).toBeInstanceOf(KubeApiError);
        expect(err).toMatchObject({ statusCode: 409 });
        const pod = await port.getPod(fx.namespace, name);
        expect(pod?.metadata?.uid).toBe(uid);
        expect(pod?.metadata?.deletionTimestamp).toBeFalsy();
      });

      it('watchPod first delivers the current state', async () => {
        const { name, uid } = await fx.createPod('watch');
        const seen: Array<V1Pod | null> = [];
        const stop = await port.watchPod(fx.namespace, name, (p) => seen.push(p));
        try {
          await eventually(() => seen.length > 0, timeoutMs, 'the first delivery');
          expect(seen[0]?.metadata?.uid).toBe(uid);
        } finally {
          stop();
        }
      });

      it('watchPod on an absent pod first delivers null', async () => {
        const seen: Array<V1Pod | null> = [];
        const stop = await port.watchPod(fx.namespace, fx.uniqueName('absent'), (p) => seen.push(p));
        try {
          await eventually(() => seen.length > 0, timeoutMs, 'the first delivery');
          expect(seen[0]).toBeNull();
        } finally {
          stop();
        }
      });

      it('watchPod sees a deletion with the right UID (terminating, gone, or re-created)', async () => {
        const { name, uid } = await fx.createPod('delete');
        const seen: Array<V1Pod | null> = [];
        const stop = await port.watchPod(fx.namespace, name, (p) => seen.push(p));
        try {
          await eventually(() => seen.length > 0, timeoutMs, 'the first delivery');
          await port.deletePod(fx.namespace, name, { gracePeriodSeconds: 0, uid });
          const deleted = (p: V1Pod | null) => p === null || !!p.metadata?.deletionTimestamp || p.metadata?.uid !== uid;
          await eventually(() => seen.slice(1).some(deleted), timeoutMs, 'the deletion to be delivered');
        } finally {
          stop();
        }
      });

      it('watchPods delivers the list as sync before it resolves, then the changes (the pod cache rests on it)', async () => {
        const { name, uid } = await fx.createPod('coll');
        const events: PodsEvent[] = [];
        const stop = await port.watchPods(fx.namespace, '', (e) => events.push(e));
        try {
          expect(events[0]?.type).toBe('sync');
          const first = events[0] as Extract<PodsEvent, { type: 'sync' }>;
          expect(first.pods.find((p) => p.metadata?.name === name)?.metadata?.uid).toBe(uid);
          await port.deletePod(fx.namespace, name, { gracePeriodSeconds: 0, uid });
          const aboutIt = (e: PodsEvent) =>
            e.type !== 'sync' &&
            e.pod.metadata?.uid === uid &&
            (e.type === 'delete' || !!e.pod.metadata?.deletionTimestamp);
          await eventually(() => events.slice(1).some(aboutIt), timeoutMs, 'the deletion to be delivered');
        } finally {
          stop();
        }
      });

      it('stopping a watch stops deliveries', async () => {
        const { name, uid } = await fx.createPod('stop');
        const seen: Array<V1Pod | null> = [];
        const stop = await port.watchPod(fx.namespace, name, (p) => seen.push(p));
        await eventually(() => seen.length > 0, timeoutMs, 'the first delivery');
        stop();
        const count = seen.length;
        await port.deletePod(fx.namespace, name, { gracePeriodSeconds: 0, uid });
        await new Promise((r) => setTimeout(r, 200));
        expect(seen.length).toBe(count);
      });
    });

    describe('StatefulSet labels', () => {
      const labelsOf = async (name: string) => (await port.getStatefulSet(fx.namespace, name))?.metadata?.labels ?? {};

      it('a merge patch sets and removes (null) labels', async () => {
        const name = await fx.createStatefulSet('labels');
        await port.patchStatefulSetLabels(fx.namespace, name, {
          'dc-util-routing-owner': 'crate-decommission-1',
          x: 'y',
        });
        expect(await labelsOf(name)).toMatchObject({ 'dc-util-routing-owner': 'crate-decommission-1', x: 'y' });
        await port.patchStatefulSetLabels(fx.namespace, name, { x: null });
        expect(await labelsOf(name)).not.toHaveProperty('x');
        expect(await labelsOf(name)).toMatchObject({ 'dc-util-routing-owner': 'crate-decommission-1' });
      });

      it('a resourceVersion precondition writes when unchanged, and is 409 (nothing written) when stale', async () => {
        const name = await fx.createStatefulSet('labels-rv');
        const read = await port.getStatefulSet(fx.namespace, name);
        const rv = read!.metadata!.resourceVersion!;
        await port.patchStatefulSetLabels(fx.namespace, name, { owner: 'a' }, { resourceVersion: rv });
        expect(await labelsOf(name)).toMatchObject({ owner: 'a' });
        // rv is stale now (our own write moved it on): a second writer holding it loses.
        const stale = await rejection(
          port.patchStatefulSetLabels(fx.namespace, name, { owner: 'b' }, { resourceVersion: rv }),
        );
        expect(stale).toBeInstanceOf(KubeApiError);
        expect(stale).toMatchObject({ statusCode: 409 });
        expect(await labelsOf(name)).toMatchObject({ owner: 'a' });
      });

      it('a labels precondition removes only while the label holds the value, else 409 and nothing written', async () => {
        const name = await fx.createStatefulSet('labels-cas');
        await port.patchStatefulSetLabels(fx.namespace, name, { owner: 'operator-1', keep: 'k' });
        const wrong = await rejection(
          port.patchStatefulSetLabels(
            fx.namespace,
            name,
            { owner: null },
            { labels: { owner: 'crate-decommission-1' } },
          ),
        );
        expect(wrong).toBeInstanceOf(KubeApiError);
        expect(wrong, String(wrong)).toMatchObject({ statusCode: 409 });
        expect(await labelsOf(name)).toMatchObject({ owner: 'operator-1', keep: 'k' });
        // A label that is absent does not hold any value either.
        const absent = await rejection(
          port.patchStatefulSetLabels(fx.namespace, name, { gone: null }, { labels: { gone: 'v' } }),
        );
        expect(absent, String(absent)).toMatchObject({ statusCode: 409 });
        await port.patchStatefulSetLabels(fx.namespace, name, { owner: null }, { labels: { owner: 'operator-1' } });
        expect(await labelsOf(name)).not.toHaveProperty('owner');
        expect(await labelsOf(name)).toMatchObject({ keep: 'k' });
        await port.patchStatefulSetLabels(fx.namespace, name, { keep: 'k2' }, { labels: { keep: 'k' } });
        expect(await labelsOf(name)).toMatchObject({ keep: 'k2' });
      });
    });

    describe('Leases', () => {
      it('create, 409 when held, replace with the current resourceVersion, 409 when stale, delete', async () => {
        const name = fx.uniqueName('lease');
        const created = await port.createLease(fx.namespace, leaseFor(name, 'holder-a'));
        expect(created.metadata?.name).toBe(name);
        expect(created.metadata?.resourceVersion).toBeTruthy();
        expect(created.spec?.holderIdentity).toBe('holder-a');

        const held = await rejection(port.createLease(fx.namespace, leaseFor(name, 'holder-b')));
        expect(held).toBeInstanceOf(KubeApiError);
        expect(held).toMatchObject({ statusCode: 409 });

        const current = await port.getLease(fx.namespace, name);
        expect(current?.spec?.holderIdentity).toBe('holder-a');
        const renewed = await port.replaceLease(fx.namespace, {
          ...current!,
          spec: { ...current!.spec, renewTime: new Date() },
        });
        expect(renewed.metadata?.resourceVersion).toBeTruthy();
        expect(renewed.metadata?.resourceVersion).not.toBe(created.metadata?.resourceVersion);

        // A second writer still holding the first version loses.
        const stale = await rejection(
          port.replaceLease(fx.namespace, { ...created, spec: { ...created.spec, holderIdentity: 'holder-b' } }),
        );
        expect(stale).toBeInstanceOf(KubeApiError);
        expect(stale).toMatchObject({ statusCode: 409 });
        expect((await port.getLease(fx.namespace, name))?.spec?.holderIdentity).toBe('holder-a');

        await port.deleteLease(fx.namespace, name);
        expect(await port.getLease(fx.namespace, name)).toBeNull();
      });
    });

    describe('Events', () => {
      it('createEvent accepts an event about a pod', async () => {
        const { name, uid } = await fx.createPod('event');
        await port.createEvent(fx.namespace, {
          involvedObject: { kind: 'Pod', name, namespace: fx.namespace, uid },
          type: 'Normal',
          reason: 'ContractCheck',
          message: `contract check on ${name}`,
          action: 'Check',
        });
      });
    });
  });
}
