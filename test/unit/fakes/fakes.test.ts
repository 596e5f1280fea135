// The fakes keep the ports' contract: these tests pin the behaviour other tests rely on.
import { afterEach, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { CrateSqlError, KubeApiError } from '../../../shared/errors.js';
import { podIsReady } from '../../support/fakes/kube.js';
import { createWorld, type World } from '../../support/fakes/world.js';

let world: World | undefined;
afterEach(() => world?.close());

const ns = 'crate';

describe('FakeKube', () => {
  it('creates the StatefulSet pods, starts them, nodes join and pods turn Ready', async () => {
    world = await createWorld({ replicas: 3 });
    expect(world.podNames()).toEqual(['crate-0', 'crate-1', 'crate-2']);
    for (const p of world.podNames()) expect(podIsReady(await world.kube.getPod(ns, p))).toBe(true);
    expect([...world.crate.nodes.keys()].sort()).toEqual(['data-hot-0', 'data-hot-1', 'data-hot-2']);
    expect(world.crate.health()).toBe('GREEN');
    expect(world.kube.writes).toEqual([]);
  });

  it('watch delivers the current state, the deletion, and the re-created pod with a new uid', async () => {
    world = await createWorld({ replicas: 3 });
    const oldUid = world.podUid('crate-1')!;
    const seen: (V1Pod | null)[] = [];
    const stop = await world.kube.watchPod(ns, 'crate-1', (p) => seen.push(p));
    await world.kube.deletePod(ns, 'crate-1', { gracePeriodSeconds: 30, uid: oldUid });
    await world.waitFor(() => seen.some((p) => p && p.metadata!.uid !== oldUid && podIsReady(p)));
    stop();
    expect(seen[0]!.metadata!.uid).toBe(oldUid);
    expect(seen.some((p) => p?.metadata?.deletionTimestamp)).toBe(true);
    expect(seen).toContain(null);
    expect(world.kube.writes).toEqual([
      { verb: 'delete', kind: 'Pod', namespace: ns, name: 'crate-1', detail: { gracePeriodSeconds: 30, uid: oldUid } },
    ]);
  });

  it('rejects a delete with a stale uid (409) and an injected 403', async () => {
    world = await createWorld({ replicas: 2 });
    await expect(world.kube.deletePod(ns, 'crate-0', { gracePeriodSeconds: 30, uid: 'nope' })).rejects.toMatchObject({
      statusCode: 409,
    });
    world.kube.forbid('deletePod');
    const err = await world.kube
      .deletePod(ns, 'crate-0', { gracePeriodSeconds: 30, uid: world.podUid('crate-0')! })
      .catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err.statusCode).toBe(403);
    expect(err.reason).toBe('Forbidden');
    expect(world.kube.writes).toEqual([]);
  });

  it('restarts an exited container in place: restartCount+1, lastState.terminated exit 0, same uid', async () => {
    world = await createWorld({ replicas: 2 });
    const uid = world.podUid('crate-0');
    world.kube.containerExited(ns, 'crate-0', 'crate', 0);
    await world.waitFor(
      () => (world!.kube.pod(ns, 'crate-0')?.status?.containerStatuses?.[0]?.restartCount ?? 0) === 1,
    );
    const cs = world.kube.pod(ns, 'crate-0')!.status!.containerStatuses![0]!;
    expect(cs.lastState?.terminated?.exitCode).toBe(0);
    expect(world.podUid('crate-0')).toBe(uid);
  });

  it('leases: create 409 when it exists, replace with a stale resourceVersion 409', async () => {
    world = await createWorld({ replicas: 1, tables: [] });
    const created = await world.kube.createLease(ns, { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } });
    await expect(world.kube.createLease(ns, { metadata: { name: 'l' } })).rejects.toMatchObject({ statusCode: 409 });
    const replaced = await world.kube.replaceLease(ns, { ...created, spec: { holderIdentity: 'b' } });
    await expect(world.kube.replaceLease(ns, { ...created, spec: { holderIdentity: 'c' } })).rejects.toMatchObject({
      statusCode: 409,
    });
    expect(replaced.spec?.holderIdentity).toBe('b');
    expect(world.kube.writes.map((w) => w.verb)).toEqual(['create', 'replace']);
  });
});

describe('FakeCrateCluster', () => {
  it('refuses DECOMMISSION over HTTP as a non-superuser (401, 4010) and accepts it via exec', async () => {
    world = await createWorld({ replicas: 3, operator: true });
    const cluster = world.clusterModel();
    const pod = cluster.pods[0]!;
    const http = world.sql.http(ns, pod, cluster.sql);
    const err = await http.query('ALTER CLUSTER DECOMMISSION ?', ['data-hot-2']).catch((e) => e);
    expect(err).toBeInstanceOf(CrateSqlError);
    expect(err.code).toBe(4010);
    expect(err.httpStatus).toBe(401);
    const exec = world.sql.exec(ns, pod, cluster.sql);
    await exec.query('ALTER CLUSTER DECOMMISSION ?', ['data-hot-2']);
    expect(world.kube.execs).toHaveLength(1);
    await world.waitFor(() => world!.crate.node('data-hot-2')?.state === 'down');
    // The container exited 0 and restarts in place since the pod was not deleted.
    await world.waitFor(
      () => world!.kube.pod(ns, 'crate-data-hot-c1-2')?.status?.containerStatuses?.[1]?.restartCount === 1,
    );
    expect(
      world.kube.pod(ns, 'crate-data-hot-c1-2')!.status!.containerStatuses![1]!.lastState?.terminated?.exitCode,
    ).toBe(0);
    expect(world.crate.violations).toEqual([]);
  });

  it('a draining node refuses new SQL; other nodes answer; the node exits 0 once its primaries moved', async () => {
    world = await createWorld({ replicas: 3, crate: { stepMs: 5000 } });
    const cluster = world.clusterModel();
    const [p0, p1] = cluster.pods;
    await world.sql.http(ns, p0!, cluster.sql).query('ALTER CLUSTER DECOMMISSION ?', ['data-hot-1']);
    const err = await world.sql
      .http(ns, p1!, cluster.sql)
      .query('SELECT 1')
      .catch((e) => e);
    expect(err).toBeInstanceOf(CrateSqlError);
    expect(err.httpStatus).toBe(500);
    await world.sql.http(ns, p0!, cluster.sql).query('SELECT 1');
    await world.waitFor(() => world!.crate.node('data-hot-1')?.state === 'down');
    expect(world.kube.pod(ns, 'crate-1')!.status!.containerStatuses![0]!.state?.terminated?.exitCode).toBe(0);
    expect(world.crate.violations).toEqual([]);
  });

  it('a preStop hook longer than the grace period is cut short (SIGKILL) and the node leaves', async () => {
    world = await createWorld({ replicas: 3, preStop: 'dc_util', crate: { stepMs: 60_000 } });
    const uid = world.podUid('crate-0')!;
    await world.kube.deletePod(ns, 'crate-0', { gracePeriodSeconds: 30, uid });
    await world.waitFor(() => world!.podUid('crate-0') !== uid);
    expect(world.crate.decommissions.map((d) => d.node)).toEqual(['data-hot-0']);
    expect(world.crate.node('data-hot-0')?.state).not.toBe('draining');
  });

  it('a wrong password gets a plain 401', async () => {
    world = await createWorld({ replicas: 2, operator: true });
    world.kube.addSecret(ns, 'user-system-c1', { password: 'wrong' });
    const cluster = world.clusterModel();
    const err = await world.sql
      .http(ns, cluster.pods[0]!, cluster.sql)
      .query('SELECT 1')
      .catch((e) => e);
    expect(err).toMatchObject({ httpStatus: 401, code: null });
  });

  it('killing a node holding the only copy records a violation (RED)', async () => {
    world = await createWorld({ replicas: 3, tables: [{ name: 'solo', shards: 3, replicas: 0 }] });
    world.crate.stopNode('data-hot-0');
    expect(world.crate.health()).toBe('RED');
    expect(world.crate.violations.length).toBeGreaterThan(0);
  });
});
