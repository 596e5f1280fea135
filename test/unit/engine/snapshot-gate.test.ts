// Health-gate check no_snapshot_running: a running CREATE SNAPSHOT (sys.jobs) blocks the pre-flight and the gate
// after each pod; it is never explained by unready pods; a CrateDB without sys.jobs does not block forever.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SQL } from '../../../shared/cluster-sql.js';
import { ExitCode, exitCodeFor } from '../../../shared/task/exit.js';
import { colors } from '../../../plugin/io.js';
import { formatResult } from '../../../plugin/printers.js';
import { checkClusterHealth } from '../../../shared/health.js';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, leaseName } from '../../../shared/lease.js';
import { restartPod } from '../../../shared/restart.js';
import { planRollingRestart, rollingRestart } from '../../../shared/rolling.js';
import { fastGate, sqlOf, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';

function podWrites(w: World) {
  return w.kube.writes.filter((x) => x.kind === 'Pod' || x.kind === 'StatefulSet');
}

function recreations(w: World, pod: string): number {
  return w.kube.podHistory.filter((p) => p.name === pod).length - 1;
}

describe('no_snapshot_running', () => {
  it('the gate refuses while a snapshot runs and names the check and how many', async () => {
    const w = await world({ replicas: 3 });
    w.crate.startSnapshot();
    w.crate.startSnapshot('create snapshot repo.snap2 TABLE doc.t1');
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r).toMatchObject({
      healthy: false,
      healthStatus: 'GREEN',
      failedChecks: ['no_snapshot_running'],
      goodReadings: 0,
    });
    expect(r.checks.find((c) => c.name === 'no_snapshot_running')).toEqual({
      name: 'no_snapshot_running',
      ok: false,
      message: '2 CREATE SNAPSHOT statements running',
    });
    expect(r.error).toBe('Cluster crate/crate is not healthy: failed checks no_snapshot_running');
    expect(sqlOf(w)).toContain(SQL.runningSnapshots);
  });

  it('passes once the snapshot ended, after the usual consecutive good readings', async () => {
    const w = await world({ replicas: 3 });
    const end = w.crate.startSnapshot();
    void w.clock.delay(20_000).then(end); // 20 s of engine time
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel(), timeoutSeconds: 600 });
    expect(r).toMatchObject({ healthy: true, failedChecks: [], goodReadings: 3 });
    expect(r.checks.find((c) => c.name === 'no_snapshot_running')).toEqual({
      name: 'no_snapshot_running',
      ok: true,
      message: 'no snapshot running',
    });
    expect(w.crate.statements.filter((s) => s.stmt === SQL.runningSnapshots).length).toBeGreaterThan(3);
    expect(w.log.text()).toMatch(
      /Waiting for cluster crate\/crate health: no_snapshot_running \(1 CREATE SNAPSHOT statement running\)/,
    );
  });

  it('statements other than CREATE SNAPSHOT do not count', async () => {
    const w = await world({ replicas: 3 });
    w.crate.jobs.push('SELECT * FROM doc.t1', "COPY doc.t1 TO DIRECTORY '/tmp'");
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r.healthy).toBe(true);
  });

  it('a CrateDB without sys.jobs (unknown relation): passed, saying it could not be read', async () => {
    const w = await world({ replicas: 3, crate: { noSysJobs: true } });
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r).toMatchObject({ healthy: true, failedChecks: [] });
    const check = r.checks.find((c) => c.name === 'no_snapshot_running')!;
    expect(check.ok).toBe(true);
    expect(check.message).toMatch(/^could not be read, counted as passed \(sys\.jobs: .*Relation 'sys\.jobs' unknown/);
  });

  it('no node answering stays a sql_reachable failure', async () => {
    const w = await world({ replicas: 2 });
    w.crate.startSnapshot();
    w.crate.stopNode('data-hot-0');
    w.crate.stopNode('data-hot-1');
    const r = await checkClusterHealth(w.deps(), { cluster: w.clusterModel() });
    expect(r).toMatchObject({ healthy: false, healthStatus: 'UNKNOWN', failedChecks: ['sql_reachable'] });
  });

  it('a rollout is refused at the pre-flight (exit 3), names the check, and changes nothing', async () => {
    const w = await world({ replicas: 3 });
    w.crate.startSnapshot();
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused', pods: [] });
    expect(exitCodeFor(r.errorKind)).toBe(ExitCode.refused);
    expect(r.error).toBe(
      'Pre-flight health check refused the rolling restart of crate/crate: failed checks no_snapshot_running (1 CREATE SNAPSHOT statement running)',
    );
    expect(r.plan.preflight?.failedChecks).toEqual(['no_snapshot_running']);
    expect(formatResult({ kind: 'rollout', result: r }, colors(false))).toContain(
      'failed checks no_snapshot_running (1 CREATE SNAPSHOT statement running)',
    );
    expect(podWrites(w)).toEqual([]);
    expect(w.crate.writes).toEqual([]);
  });

  it('the plan shows the check and says the rollout would be refused', async () => {
    const w = await world({ replicas: 3 });
    w.crate.startSnapshot();
    const plan = await planRollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(plan.preflight?.checks.map((c) => c.name)).toContain('no_snapshot_running');
    expect(plan.preflightDecision).toMatchObject({ outcome: 'refused' });
    expect(plan.preflightDecision?.message).toContain('no_snapshot_running (1 CREATE SNAPSHOT statement running)');
    expect(formatResult({ kind: 'plan', result: plan }, colors(false))).toMatch(
      /no_snapshot_running\s+no\s+1 CREATE SNAPSHOT statement running/,
    );
  });

  it('the degraded pre-flight still refuses: a running snapshot is never explained by unready pods', async () => {
    const w = await world({ replicas: 3, tables: [{ name: 't1', shards: 3, replicas: 2 }] });
    w.crashLoop('crate-1');
    w.crate.startSnapshot();
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r).toMatchObject({ success: false, errorKind: 'refused', pods: [] });
    expect(r.error).toContain('no_snapshot_running');
    expect(r.error).toContain('no_snapshot_running failed (never explained by unready pods)');
    expect(r.plan.preflight?.degraded ?? null).toBeNull();
    expect(podWrites(w)).toEqual([]);
    expect(recreations(w, 'crate-1')).toBe(0);
  });

  it('a resumed rollout between pods waits at the pre-flight for the snapshot to end (healthTimeout)', async () => {
    const w = await world({ replicas: 3 });
    const at = new Date(w.clock.now() - 3_700_000); // an expired Lease of the same operation, one pod done
    await w.kube.createLease(ns, {
      metadata: {
        name: leaseName(w.clusterName),
        annotations: {
          [ANNOTATION_OPERATION]: 'op-snap',
          [ANNOTATION_PROGRESS]: JSON.stringify({
            operationId: 'op-snap',
            done: { 'crate-0': 'restarted' },
            current: null,
            allocationSet: null,
            gracefulStopBefore: null,
          }),
        },
      },
      spec: { holderIdentity: 'crashed', leaseDurationSeconds: 3600, acquireTime: at, renewTime: at },
    });
    const end = w.crate.startSnapshot();
    void w.clock.delay(20_000).then(end); // 20 s of engine time
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate, operationId: 'op-snap' });
    expect(r.error ?? null).toBeNull();
    expect(r.success).toBe(true);
    expect(w.log.text()).toContain('Resuming rolling restart of cluster crate/crate (operation op-snap)');
    expect(w.log.text()).toMatch(
      /Waiting for cluster crate\/crate health: no_snapshot_running \(1 CREATE SNAPSHOT statement running\)/,
    );
  });

  it('the gate after a pod waits for a snapshot started during the restart, and times out if it never ends', async () => {
    const w = await world({ replicas: 3 });
    void w.waitFor(() => w.crate.decommissions.length > 0).then(() => w.crate.startSnapshot());
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      healthTimeout: 30,
    });
    expect(r).toMatchObject({ success: false, errorKind: 'timeout' });
    expect(r.error).toContain('failed checks no_snapshot_running');
    expect(w.log.text()).toMatch(
      /Waiting for cluster crate\/crate health: no_snapshot_running \(1 CREATE SNAPSHOT statement running\)/,
    );
    expect(recreations(w, 'crate-1')).toBe(1);
  });

  it('docs/engine.md lists the statement and the check', () => {
    const doc = readFileSync(new URL('../../../docs/engine.md', import.meta.url), 'utf8');
    expect(doc).toContain(SQL.runningSnapshots);
    expect(doc).toContain('`no_snapshot_running`');
  });
});
