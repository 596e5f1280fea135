// Behaviour every PluginKube (the plugin's Kubernetes port, shared/adapters/plugin-kube.ts) must have, whether the
// in-memory fake (test/unit/plugin/helpers.ts) or the real adapter against a cluster. Call pluginKubeContract()
// inside a test file; it registers its own describe block.
import type { KubernetesObject, V1ConfigMap, V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApiError } from '../../shared/errors.js';
import type { JobSnapshot, PluginKube } from '../../shared/adapters/plugin-kube.js';

export interface PluginKubeFixtures {
  /** Namespace the scenarios work in (must exist). */
  namespace: string;
  /** A name unique to this run (DNS-1123). */
  uniqueName(prefix: string): string;
  /** Ms to wait for watch deliveries (default 5000). */
  timeoutMs?: number;
  cleanup?(): Promise<void>;
}

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

const LABEL = 'crate-decommission.test/contract';

export function pluginKubeContract(
  makePort: () => PluginKube | Promise<PluginKube>,
  makeFixtures: (port: PluginKube) => PluginKubeFixtures | Promise<PluginKubeFixtures>,
  label = 'PluginKube contract',
): void {
  describe(label, () => {
    let kube: PluginKube;
    let fx: PluginKubeFixtures;
    let timeoutMs = 5_000;
    const configMap = (
      name: string,
      data: Record<string, string>,
      labels: Record<string, string> = {},
    ): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: fx.namespace, labels },
      data,
    });
    const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.namespace, name });

    beforeAll(async () => {
      kube = await makePort();
      fx = await makeFixtures(kube);
      timeoutMs = fx.timeoutMs ?? timeoutMs;
    });
    afterAll(async () => {
      await fx?.cleanup?.();
    });

    it('get of an absent object is null; delete of an absent object is false', async () => {
      const name = fx.uniqueName('absent');
      expect(await kube.get(ref(name))).toBeNull();
      expect(await kube.delete(ref(name))).toBe(false);
    });

    it('create stores the object (with a resourceVersion); a second create is KubeApiError 409', async () => {
      const name = fx.uniqueName('cm');
      const created = await kube.create(configMap(name, { a: '1' }));
      expect(created.metadata?.resourceVersion).toBeTruthy();
      const read = await kube.get<V1ConfigMap>(ref(name));
      expect(read?.data).toEqual({ a: '1' });
      const err = await rejection(kube.create(configMap(name, { a: '2' })));
      expect(err).toBeInstanceOf(KubeApiError);
      expect((err as KubeApiError).statusCode).toBe(409);
      expect((await kube.get<V1ConfigMap>(ref(name)))?.data).toEqual({ a: '1' });
    });

    it('a dry-run create answers the object and stores nothing', async () => {
      const name = fx.uniqueName('dry');
      const answered = await kube.create(configMap(name, { a: '1' }), { dryRun: true });
      expect(answered.metadata?.name).toBe(name);
      expect(await kube.get(ref(name))).toBeNull();
    });

    it('replace with the current resourceVersion updates; with a stale one it is KubeApiError 409', async () => {
      const name = fx.uniqueName('rep');
      await kube.create(configMap(name, { v: '1' }));
      const current = (await kube.get<V1ConfigMap>(ref(name)))!;
      const staleRv = current.metadata!.resourceVersion!;
      await kube.replace({ ...current, data: { v: '2' } });
      expect((await kube.get<V1ConfigMap>(ref(name)))?.data).toEqual({ v: '2' });
      const stale: V1ConfigMap = {
        ...current,
        metadata: { ...current.metadata, resourceVersion: staleRv },
        data: { v: '3' },
      };
      const err = await rejection(kube.replace(stale));
      expect(err).toBeInstanceOf(KubeApiError);
      expect((err as KubeApiError).statusCode).toBe(409);
      expect((await kube.get<V1ConfigMap>(ref(name)))?.data).toEqual({ v: '2' });
    });

    it('list filters by kind, namespace and label selector', async () => {
      const tag = fx.uniqueName('sel');
      const a = fx.uniqueName('la');
      const b = fx.uniqueName('lb');
      await kube.create(configMap(a, {}, { [LABEL]: tag }));
      await kube.create(configMap(b, {}, { [LABEL]: 'other' }));
      const listed = await kube.list<KubernetesObject>('v1', 'ConfigMap', fx.namespace, `${LABEL}=${tag}`);
      expect(listed.map((o) => o.metadata?.name)).toEqual([a]);
      const all = await kube.list<KubernetesObject>('v1', 'ConfigMap', fx.namespace);
      expect(all.map((o) => o.metadata?.name)).toEqual(expect.arrayContaining([a, b]));
    });

    it('delete removes the object and answers true', async () => {
      const name = fx.uniqueName('del');
      await kube.create(configMap(name, {}));
      expect(await kube.delete(ref(name))).toBe(true);
      expect(await kube.get(ref(name))).toBeNull();
    });

    it('observeJob delivers the current snapshot first, then the deletion (job null)', async () => {
      const name = fx.uniqueName('job');
      const job: V1Job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name, namespace: fx.namespace },
        spec: {
          // Suspended: the Job exists, no pod is ever created.
          suspend: true,
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] },
          },
        },
      };
      await kube.create(job);
      const seen: JobSnapshot[] = [];
      const stop = await kube.observeJob(fx.namespace, name, (s) => seen.push(s));
      try {
        await eventually(() => seen.length > 0, timeoutMs, 'the first snapshot');
        expect(seen[0]!.job?.metadata?.name).toBe(name);
        expect(seen[0]!.pods).toEqual([]);
        expect(
          await kube.delete(
            { apiVersion: 'batch/v1', kind: 'Job', namespace: fx.namespace, name },
            { propagationPolicy: 'Background' },
          ),
        ).toBe(true);
        await eventually(() => seen.at(-1)?.job === null, timeoutMs, 'the deletion');
      } finally {
        stop();
      }
    });
  });
}
