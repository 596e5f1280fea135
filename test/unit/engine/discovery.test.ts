// analyzeCluster: from a StatefulSet, a CrateDB resource or a pod to a CrateDBCluster.
import { describe, expect, it } from 'vitest';
import { analyzeCluster } from '../../../shared/discovery.js';
import { BadInputError } from '../../../shared/errors.js';
import { world } from './helpers.js';

const ns = 'crate';

describe('analyzeCluster', () => {
  it('from a StatefulSet: pods by selector, node names by hostname, master, health, manual strategy', async () => {
    const w = await world({ replicas: 3 });
    w.crate.masterName = 'data-hot-1';
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(c).toMatchObject({
      name: 'crate',
      namespace: ns,
      crateDBName: null,
      statefulSetName: 'crate',
      expectedNodes: 3,
      health: 'GREEN',
      masterNode: 'data-hot-1',
      hasPrestopHook: false,
      hasDcUtil: false,
    });
    expect(c.pods.map((p) => [p.name, p.nodeName, p.ordinal, p.ready, p.isMaster, p.containerName])).toEqual([
      ['crate-0', 'data-hot-0', 0, true, false, 'crate'],
      ['crate-1', 'data-hot-1', 1, true, true, 'crate'],
      ['crate-2', 'data-hot-2', 2, true, false, 'crate'],
    ]);
    expect(c.pods[0]!.uid).toBe(w.podUid('crate-0'));
    expect(c.pods[0]!.nodeId).toBe(w.crate.node('data-hot-0')!.id);
    expect(c.statefulSets[0]!.detection.strategy).toBe('manual');
    expect(c.sql).toMatchObject({ scheme: 'http', port: 4200, credentials: null, superuser: null });
    expect(w.kube.writes).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('from a crate-operator CrateDB: the crate container (not the first), system user Secret, not a superuser, dc_util', async () => {
    const w = await world({ replicas: 3, operator: true, preStop: 'dc_util' });
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'c1' });
    expect(c).toMatchObject({
      name: 'c1',
      crateDBName: 'c1',
      statefulSetName: 'crate-data-hot-c1',
      hasDcUtil: true,
      dcUtilTimeout: 1080,
      expectedNodes: 3,
    });
    expect(c.pods.every((p) => p.containerName === 'crate')).toBe(true);
    expect(c.pods.map((p) => p.nodeName)).toEqual(['data-hot-0', 'data-hot-1', 'data-hot-2']);
    expect(c.sql.credentials).toEqual({ username: 'system', secretName: 'user-system-c1', passwordKey: 'password' });
    expect(c.sql.superuser).toBe(false);
    expect(c.statefulSets[0]!.detection).toMatchObject({
      strategy: 'kubernetes_managed',
      deleteGracePeriodSeconds: 1200,
    });
  });

  it('from a pod: its owner StatefulSet; a crate-operator StatefulSet names its cluster', async () => {
    const w = await world({ replicas: 2, operator: true });
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'pod', name: 'crate-data-hot-c1-1' });
    expect(c).toMatchObject({ name: 'c1', crateDBName: 'c1', statefulSetName: 'crate-data-hot-c1' });
    expect(c.pods).toHaveLength(2);
  });

  it('applies an SQL endpoint override', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const c = await analyzeCluster(w.deps(), {
      namespace: ns,
      kind: 'statefulset',
      name: 'crate',
      sql: { scheme: 'https', insecureSkipTlsVerify: true },
    });
    expect(c.sql).toMatchObject({ scheme: 'https', insecureSkipTlsVerify: true, port: 4200 });
  });

  it('falls back to -Cnode.name when SQL is unreachable, and says so', async () => {
    const w = await world({ replicas: 2 });
    w.crate.stopNode('data-hot-0');
    w.crate.stopNode('data-hot-1');
    const c = await analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'crate' });
    expect(c.pods.map((p) => p.nodeName)).toEqual(['data-hot-0', 'data-hot-1']);
    expect(c.health).toBe('UNKNOWN');
    expect(w.log.text()).toContain('Could not read sys.nodes of cluster crate/crate');
  });

  it('bad input: "Pod not found: <pod>", "StatefulSet not found: <ns>/<name>", CrateDB not found', async () => {
    const w = await world({ replicas: 1, tables: [] });
    await expect(analyzeCluster(w.deps(), { namespace: ns, kind: 'pod', name: 'nope-0' })).rejects.toThrow(
      new BadInputError('Pod not found: nope-0'),
    );
    await expect(analyzeCluster(w.deps(), { namespace: ns, kind: 'statefulset', name: 'nope' })).rejects.toThrow(
      'StatefulSet not found: crate/nope',
    );
    const err = await analyzeCluster(w.deps(), { namespace: ns, kind: 'cratedb', name: 'nope' }).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err.message).toMatch(/^CrateDB not found: crate\/nope/);
  });
});
