// checkClusterHealth: named checks, consecutive readings, failing over to the next pod, waiting for recovery.
import { describe, expect, it } from 'vitest';
import { checkClusterHealth } from '../../../shared/health.js';
import { SQL } from '../../../shared/cluster-sql.js';
import type { SqlTransport, SqlTransportFactory } from '../../../shared/ports.js';
import { world } from './helpers.js';

const ns = 'crate';
const ALL = [
  'sql_reachable',
  'all_tables_green',
  'node_count_matches_replicas',
  'master_elected',
  'no_relocating_shards',
  'no_initializing_shards',
  'no_snapshot_running',
];

describe('checkClusterHealth', () => {
  it('healthy after 3 consecutive good readings, every check named', async () => {
    const w = await world({ replicas: 3 });
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r).toMatchObject({
      healthy: true,
      healthStatus: 'GREEN',
      failedChecks: [],
      nodeCount: 3,
      expectedNodes: 3,
      goodReadings: 3,
      masterNode: w.crate.masterName,
      error: null,
    });
    expect(r.checks.map((c) => c.name)).toEqual(ALL);
    expect(w.crate.statements.filter((s) => s.stmt === SQL.health)).toHaveLength(3);
    const times = w.crate.statements.filter((s) => s.stmt === SQL.health).map((s) => s.at);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(4000); // 2 s apart
  });

  it("good readings are intervalSeconds apart start to start: the reading's own statements do not add to the spacing", async () => {
    const w = await world({ replicas: 3 });
    const deps = w.deps();
    // Every statement takes 100 ms of engine time (a reading is several statements).
    const slow = (t: SqlTransport): SqlTransport => ({
      description: t.description,
      query: async (stmt, args, opts) => {
        await w.clock.delay(100);
        return t.query(stmt, args, opts);
      },
    });
    const sql: SqlTransportFactory = {
      http: (...a) => slow(deps.sql.http(...a)),
      exec: (...a) => slow(deps.sql.exec(...a)),
    };
    const r = await checkClusterHealth({ ...deps, sql }, { cluster: w.clusterModel() });
    expect(r.healthy).toBe(true);
    const times = w.crate.statements.filter((s) => s.stmt === SQL.health).map((s) => s.at);
    expect(times).toHaveLength(3);
    // 2 s apart exactly (was 2 s plus the reading's 500 ms).
    expect([times[1]! - times[0]!, times[2]! - times[1]!]).toEqual([2000, 2000]);
  });

  it('takes as many readings as asked', async () => {
    const w = await world({ replicas: 3 });
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel(), consecutive: 5, intervalSeconds: 1 });
    expect(r.goodReadings).toBe(5);
    expect(w.crate.statements.filter((s) => s.stmt === SQL.health)).toHaveLength(5);
  });

  it('fails over to the next pod on a connection error and names the failed check', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-0');
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r.healthy).toBe(false);
    expect(r.failedChecks).toContain('node_count_matches_replicas');
    expect(r.failedChecks).not.toContain('sql_reachable');
    expect(r.checks[0]!.message).toBe('answered by pod crate-1');
    expect(r.checks.find((c) => c.name === 'node_count_matches_replicas')!.message).toBe(
      '2 nodes in the cluster, 3 expected',
    );
    expect(r.error).toMatch(/^Cluster crate\/crate is not healthy: failed checks .*node_count_matches_replicas/);
    expect(r.goodReadings).toBe(0);
  });

  it('reports sql_reachable when no node answers', async () => {
    const w = await world({ replicas: 2 });
    w.crate.stopNode('data-hot-0');
    w.crate.stopNode('data-hot-1');
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r).toMatchObject({ healthy: false, healthStatus: 'UNKNOWN', failedChecks: ['sql_reachable'] });
    expect(r.checks[0]!.message).toContain('No CrateDB node of cluster crate/crate answered SQL');
  });

  it('names master, relocating, initializing and table checks', async () => {
    const w = await world({ replicas: 3 });
    w.crate.masterName = null;
    const copies = w.crate.shards.filter((c) => !c.primary);
    copies[0]!.state = 'INITIALIZING';
    copies[1]!.state = 'RELOCATING';
    copies[1]!.relocatingTo = 'data-hot-9';
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r.failedChecks).toEqual([
      'all_tables_green',
      'master_elected',
      'no_relocating_shards',
      'no_initializing_shards',
    ]);
    expect(r.checks.find((c) => c.name === 'all_tables_green')!.message).toContain('doc.t1 YELLOW');
    expect(r).toMatchObject({ relocatingShards: 1, initializingShards: 1, healthStatus: 'YELLOW', masterNode: null });
  });

  it('waits for recovery within timeoutSeconds and restarts the count after a bad reading', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-2');
    void w.clock.delay(20_000).then(() => w.crate.joinNode('data-hot-2', 'crate-2')); // 20 s of engine time
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel(), timeoutSeconds: 600 });
    expect(r.healthy).toBe(true);
    expect(r.goodReadings).toBe(3);
    expect(w.crate.statements.filter((s) => s.stmt === SQL.health).length).toBeGreaterThan(3);
    expect(w.log.text()).toMatch(
      /Waiting for cluster crate\/crate health: .*node_count_matches_replicas \(2 nodes in the cluster, 3 expected\)/,
    );
  });

  it('gives up at the timeout', async () => {
    const w = await world({ replicas: 3 });
    w.crate.stopNode('data-hot-2');
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel(), timeoutSeconds: 20 });
    expect(r.healthy).toBe(false);
    expect(r.failedChecks).toContain('node_count_matches_replicas');
  });
});

describe('a node whose pod is being deleted (draining) is not counted', () => {
  it('the gate fails while a cluster pod is terminating although its node is still in sys.nodes and all tables are GREEN', async () => {
    const w = await world({ replicas: 3 });
    // Someone else (kubectl delete, a node drain, crate-operator) deletes crate-2: dc_util drains it in preStop,
    // the node is still in sys.nodes and the tables still GREEN (PRIMARIES keeps the replicas on it).
    w.kube.pods.get('crate/crate-2')!.metadata!.deletionTimestamp = new Date(w.clock.now());
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r.healthy).toBe(false);
    expect(r.failedChecks).toEqual(['node_count_matches_replicas']);
    expect(r.checks.find((c) => c.name === 'node_count_matches_replicas')!.message).toBe(
      '2 nodes in the cluster, 3 expected (not counted: data-hot-2, pod crate-2 is terminating)',
    );
    expect(r.nodeCount).toBe(2);
  });
});

describe('consecutive readings: only fully good ones count toward the good ones (issue 8 item 12)', () => {
  it('two tolerated degraded readings and then one good one right after the node rejoined do not pass the gate', async () => {
    const w = await world({ replicas: 3, tables: [] });
    w.crashLoop('crate-1');
    const cluster = w.clusterModel();
    const reads = () => w.crate.statements.filter((s) => s.stmt === SQL.nodes).length;
    let delays = 0;
    let readsAtHeal = -1;
    // The node comes back after the second reading (the premature-GREEN pitfall: one good reading right after it rejoined).
    const clock = {
      now: () => w.clock.now(),
      delay: async (ms: number, signal?: AbortSignal) => {
        await w.clock.delay(ms, signal);
        if (++delays === 2) {
          w.crashing.delete('crate-1');
          w.crate.joinNode('data-hot-1', 'crate-1');
          w.kube.setReady(ns, 'crate-1', true);
          readsAtHeal = reads();
        }
      },
    };
    const r = await checkClusterHealth(w.deps({ clock }), {
      cluster,
      timeoutSeconds: 600,
      tolerateUnready: ['crate-1'],
    });
    expect(readsAtHeal).toBeGreaterThan(0);
    expect(r).toMatchObject({ healthy: true, goodReadings: 3, degraded: null });
    // Three fully good readings after the heal, not one good one on top of two degraded ones.
    expect(reads() - readsAtHeal).toBeGreaterThanOrEqual(3);
  });

  it('a good reading followed by degraded ones restarts the count: degraded passes only on its own consecutive readings', async () => {
    const w = await world({ replicas: 3, tables: [] });
    const cluster = w.clusterModel();
    let delays = 0;
    const clock = {
      now: () => w.clock.now(),
      delay: async (ms: number, signal?: AbortSignal) => {
        await w.clock.delay(ms, signal);
        if (++delays === 1) w.crashLoop('crate-1');
      },
    };
    // heartbeatMs 0: this counts the gate's own delays between readings, not the heartbeat's.
    const r = await checkClusterHealth(w.deps({ clock, heartbeatMs: 0 }), {
      cluster,
      timeoutSeconds: 600,
      tolerateUnready: ['crate-1'],
    });
    expect(r.healthy).toBe(false);
    expect(r.degraded).toMatchObject({ pods: ['crate-1'] });
    expect(r.goodReadings).toBe(3);
    // 1 good + 3 degraded readings: the good one did not count toward the degraded pass.
    expect(delays).toBe(3);
  });
});
