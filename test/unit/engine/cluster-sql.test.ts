// The read path's pod lookups: remembered briefly instead of a GET pod per statement, forgotten on failure.
import { describe, expect, it } from 'vitest';
import { ClusterSql, LIVE_POD_TTL_MS } from '../../../shared/cluster-sql.js';
import { analyzeCluster } from '../../../shared/discovery.js';
import type { Clock, KubernetesPort, SqlTransportFactory } from '../../../shared/ports.js';
import { CrateSqlError } from '../../../shared/errors.js';
import { world } from './helpers.js';

function countingGets(kube: KubernetesPort): { kube: KubernetesPort; gets: string[] } {
  const gets: string[] = [];
  const counted = new Proxy(kube, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'getPod') {
        return (ns: string, name: string) => {
          gets.push(name);
          return target.getPod(ns, name);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { kube: counted, gets };
}

/** A clock that only moves when the test says so: the TTL must not depend on how loaded the machine is. */
function frozenClock(base: Clock): Clock & { advance(ms: number): void } {
  let now = base.now();
  return { now: () => now, delay: (ms, signal) => base.delay(ms, signal), advance: (ms) => (now += ms) };
}

describe('ClusterSql pod lookups', () => {
  it('ten statements in a row cost one GET pod; the next one after the TTL reads the pod again', async () => {
    const w = await world({ replicas: 3 });
    const cluster = await analyzeCluster(w.deps(), { namespace: 'crate', kind: 'statefulset', name: 'crate' });
    const { kube, gets } = countingGets(w.kube);
    const clock = frozenClock(w.clock);
    const reader = new ClusterSql({ ...w.deps(), kube, clock }, cluster);
    for (let i = 0; i < 10; i++) expect((await reader.nodes()).length).toBe(3);
    expect(gets).toHaveLength(1);
    clock.advance(LIVE_POD_TTL_MS + 1);
    await reader.nodes();
    expect(gets).toHaveLength(2);
  });

  it('a pod that stops answering is forgotten at once: asked again, it is looked up again, even within the TTL', async () => {
    const w = await world({ replicas: 3 });
    const cluster = await analyzeCluster(w.deps(), { namespace: 'crate', kind: 'statefulset', name: 'crate' });
    const { kube, gets } = countingGets(w.kube);
    const clock = frozenClock(w.clock);
    const reader = new ClusterSql({ ...w.deps(), kube, clock }, cluster);
    await reader.nodes();
    const first = cluster.pods.find((p) => p.name === reader.currentPod)!;
    w.crate.stopNode(first.nodeName!);
    await reader.nodes();
    expect(reader.currentPod).not.toBe(first.name);
    const lookupsOfFirst = gets.filter((g) => g === first.name).length;
    // Only `first` can answer now: it must be looked up afresh, not taken from the remembered lookup.
    w.crate.joinNode(first.nodeName!, first.name);
    for (const p of cluster.pods) if (p.name !== first.name) w.crate.stopNode(p.nodeName!);
    await reader.nodes();
    expect(reader.currentPod).toBe(first.name);
    expect(gets.filter((g) => g === first.name).length).toBe(lookupsOfFirst + 1);
  });
});

describe('ClusterSql.runningSnapshots on a CrateDB that cannot answer it', () => {
  const failing = (err: Error): SqlTransportFactory => {
    const transport = { description: 'stub', query: async () => Promise.reject(err) };
    return { http: () => transport, exec: () => transport };
  };

  it('a parse error (4000, a version without ILIKE) or an unknown table is "unreadable", not a failure', async () => {
    const w = await world({ replicas: 3 });
    const cluster = await analyzeCluster(w.deps(), { namespace: 'crate', kind: 'statefulset', name: 'crate' });
    for (const err of [
      new CrateSqlError(400, 4000, "SQLParseException[line 1:41: no viable alternative at input 'ILIKE']"),
      new CrateSqlError(404, 4041, 'RelationUnknown[sys.jobs]'),
    ]) {
      const reader = new ClusterSql({ ...w.deps(), sql: failing(err) }, cluster);
      expect(await reader.runningSnapshots()).toEqual({ unreadable: err.message });
    }
  });

  it('any other error still fails the reading', async () => {
    const w = await world({ replicas: 3 });
    const cluster = await analyzeCluster(w.deps(), { namespace: 'crate', kind: 'statefulset', name: 'crate' });
    const reader = new ClusterSql(
      { ...w.deps(), sql: failing(new CrateSqlError(401, 4010, 'UnauthorizedException')) },
      cluster,
    );
    await expect(reader.runningSnapshots()).rejects.toThrow('UnauthorizedException');
  });
});

describe('ClusterSql avoid list (the node being decommissioned, the node whose relocation is read)', () => {
  it('never reads through an avoided pod or node while another pod answers', async () => {
    const w = await world({ replicas: 3 });
    const cluster = await analyzeCluster(w.deps(), { namespace: 'crate', kind: 'statefulset', name: 'crate' });
    const before = w.crate.statements.length;
    const reader = new ClusterSql(w.deps(), cluster, ['data-hot-0', 'crate-1']);
    for (let i = 0; i < 3; i++) expect((await reader.nodes()).length).toBe(3);
    expect(new Set(w.crate.statements.slice(before).map((s) => s.node))).toEqual(new Set(['data-hot-2']));
  });
});
