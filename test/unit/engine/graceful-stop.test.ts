// cluster.graceful_stop.* after the manual strategy: read before the first SET, recorded in the Lease before it,
// put back on every exit path (default -> RESET GLOBAL, non-default -> SET GLOBAL TRANSIENT), also by a resumed run.
import { CrateSqlError } from '../../../shared/errors.js';
import { describe, expect, it } from 'vitest';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, leaseName, type OperationProgress } from '../../../shared/lease.js';
import { SQL } from '../../../shared/cluster-sql.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { restartPod } from '../../../shared/restart.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { ExitCode, exitCodeFor } from '../../../shared/task/exit.js';
import { fastGate, sqlOf, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const TIMEOUT = 'cluster.graceful_stop.timeout';
const FORCE = 'cluster.graceful_stop.force';
const MIN = 'cluster.graceful_stop.min_availability';
const GS = [TIMEOUT, FORCE, MIN];

function progress(w: World): OperationProgress {
  return JSON.parse(
    w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.metadata!.annotations![ANNOTATION_PROGRESS]!,
  ) as OperationProgress;
}

/** Both levels of every graceful_stop setting, for a before/after comparison. */
function levels(w: World): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of GS) {
    if (w.crate.transient.has(name)) out[`transient ${name}`] = w.crate.transient.get(name);
    if (w.crate.persistent.has(name)) out[`persistent ${name}`] = w.crate.persistent.get(name);
  }
  return out;
}

/** A cluster whose operator had set non-default values: timeout persistent, min_availability transient. */
function presetNonDefault(w: World): void {
  w.crate.persistent.set(TIMEOUT, '10m');
  w.crate.transient.set(MIN, 'FULL');
}

async function plantLease(
  w: World,
  holder: string,
  operationId: string,
  ageMs: number,
  p: Partial<OperationProgress>,
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
          gracefulStopBefore: null,
          ...p,
        }),
      },
    },
    spec: { holderIdentity: holder, leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
  });
}

/** What the crashed run had set (the engine's own values) as the cluster shows them. */
async function setOurValues(w: World): Promise<void> {
  const run = (stmt: string) => w.crate.query('data-hot-0', { user: 'crate', password: null }, 'http', stmt);
  await run(`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`);
  await run(SQL.setGracefulStopTimeout(720));
  await run(SQL.setGracefulStopForce(true));
  await run(SQL.setMinAvailability('PRIMARIES'));
}

describe('cluster.graceful_stop.* are put back after the manual strategy', () => {
  it('defaults before: read first, recorded in the Lease before the first SET, RESET after the restart', async () => {
    const w = await world({ replicas: 3 });
    let recordedAtSet: unknown = 'not seen';
    const original = w.crate.query.bind(w.crate);
    w.crate.query = async (node, login, via, stmt, args) => {
      if (recordedAtSet === 'not seen' && stmt.startsWith(`SET GLOBAL TRANSIENT "${TIMEOUT}"`))
        recordedAtSet = progress(w).gracefulStopBefore;
      return original(node, login, via, stmt, args);
    };
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-d',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(recordedAtSet).toEqual({ timeout: '2h', force: false, minAvailability: 'PRIMARIES' });
    const stmts = sqlOf(w);
    expect(stmts.indexOf(SQL.gracefulStopSettings)).toBeGreaterThanOrEqual(0);
    expect(stmts.indexOf(SQL.gracefulStopSettings)).toBeLessThan(
      stmts.findIndex((s) => s.includes('graceful_stop') && s.startsWith('SET')),
    );
    expect(levels(w)).toEqual({});
    expect(progress(w).gracefulStopBefore).toBeNull();
    const text = w.log.text();
    // One RESET GLOBAL puts the three back (one cluster settings update).
    expect(text).toContain(
      `Restored cluster.graceful_stop.timeout, force and min_availability to the CrateDB defaults 2h, false and PRIMARIES (RESET GLOBAL "${TIMEOUT}", "${FORCE}", "${MIN}")`,
    );
    expect(stmts.filter((s) => s.startsWith('RESET GLOBAL "cluster.graceful_stop.'))).toEqual([
      `RESET GLOBAL "${TIMEOUT}", "${FORCE}", "${MIN}"`,
    ]);
  });

  it('non-default values before: SET back as transient (a persistent one stays untouched), defaults RESET', async () => {
    const w = await world({ replicas: 3 });
    presetNonDefault(w);
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    // The drain ran with our values (FULL would have been honoured otherwise).
    expect(w.crate.writes.some((s) => s.stmt === SQL.setMinAvailability('PRIMARIES'))).toBe(true);
    expect(levels(w)).toEqual({
      [`transient ${TIMEOUT}`]: '10m',
      [`persistent ${TIMEOUT}`]: '10m',
      [`transient ${MIN}`]: 'FULL',
    });
    expect(w.log.text()).toContain(
      `Restored ${TIMEOUT} = 10m as a transient setting (SET GLOBAL TRANSIENT "${TIMEOUT}" = '10m')`,
    );
  });

  it('one non-default value before: the two defaults in one RESET GLOBAL of both names, the other SET back', async () => {
    const w = await world({ replicas: 3 });
    w.crate.transient.set(TIMEOUT, '10m');
    const r = await restartPod(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
    expect(r.success).toBe(true);
    const restores = sqlOf(w).filter((s) =>
      /^(RESET GLOBAL "cluster\.graceful_stop|SET GLOBAL TRANSIENT "cluster\.graceful_stop\.timeout" = '10m')/.test(s),
    );
    expect(restores).toEqual([`RESET GLOBAL "${FORCE}", "${MIN}"`, `SET GLOBAL TRANSIENT "${TIMEOUT}" = '10m'`]);
    expect(levels(w)).toEqual({ [`transient ${TIMEOUT}`]: '10m' });
    expect(w.log.text()).toContain(
      `Restored cluster.graceful_stop.force and min_availability to the CrateDB defaults false and PRIMARIES (RESET GLOBAL "${FORCE}", "${MIN}")`,
    );
  });

  it('a manual rollout: restored after every pod, read anew before the next, the cluster ends as it began', async () => {
    const w = await world({ replicas: 3 });
    presetNonDefault(w);
    w.crate.transient.set(FORCE, true);
    const before = levels(w);
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(levels(w)).toEqual({ ...before, [`transient ${TIMEOUT}`]: '10m' });
    expect(sqlOf(w).filter((s) => s === SQL.gracefulStopSettings)).toHaveLength(3);
    expect(w.crate.violations).toEqual([]);
  });

  it('standalone decommissionPod restores them too', async () => {
    const w = await world({ replicas: 3 });
    const r = await decommissionPod(w.deps(), { podName: 'crate-0', namespace: ns, cluster: w.clusterModel() });
    expect(r.success).toBe(true);
    expect(levels(w)).toEqual({});
  });

  describe.each([
    ['defaults', (_w: World) => {}, {}],
    [
      'non-default values',
      presetNonDefault,
      { [`transient ${TIMEOUT}`]: '10m', [`persistent ${TIMEOUT}`]: '10m', [`transient ${MIN}`]: 'FULL' },
    ],
  ])('on the failure paths (%s before)', (_name, preset, expected) => {
    it('decommission timeout', async () => {
      const w = await world({
        replicas: 3,
        tables: [{ name: 't', shards: 3, replicas: 2 }],
        crate: { abortsStopOnTimeout: true },
      });
      preset(w);
      const r = await restartPod(w.deps(), {
        podName: 'crate-1',
        namespace: ns,
        cluster: w.clusterModel(),
        ...fastGate,
        options: { decommissionTimeout: 5 },
      });
      expect(r).toMatchObject({ success: false, errorKind: 'timeout' });
      expect(levels(w)).toEqual(expected);
    });

    it('failed delete (Forbidden)', async () => {
      const w = await world({ replicas: 3 });
      preset(w);
      w.kube.forbid('deletePod');
      const r = await restartPod(w.deps(), {
        podName: 'crate-1',
        namespace: ns,
        cluster: w.clusterModel(),
        ...fastGate,
      });
      expect(r).toMatchObject({ success: false, error: 'Failed to delete pod: Forbidden' });
      expect(levels(w)).toEqual(expected);
    });

    it('re-created pod never Ready (timeout)', async () => {
      const w = await world({ replicas: 3 });
      preset(w);
      w.joinDelayMs = 10_000_000;
      const r = await restartPod(w.deps(), {
        podName: 'crate-1',
        namespace: ns,
        cluster: w.clusterModel(),
        ...fastGate,
        podReadyTimeout: 20,
      });
      expect(r).toMatchObject({ success: false, errorKind: 'timeout' });
      expect(levels(w)).toEqual(expected);
    });

    it('abort (SIGTERM) mid-decommission, in a rollout', async () => {
      const w = await world({ replicas: 3, crate: { stepMs: 20_000 } });
      preset(w);
      const ac = new AbortController();
      void w.waitFor(() => w.crate.decommissions.length > 0).then(() => ac.abort(new Error('SIGTERM')));
      const r = await rollingRestart(w.deps({ signal: ac.signal }), { cluster: w.clusterModel(), ...fastGate });
      expect(r.success).toBe(false);
      expect(r.error).toMatch(/SIGTERM/);
      expect(levels(w)).toEqual(expected);
    });
  });

  it('crash + resume (same operation): the retry restores what the crashed run recorded, without reading again', async () => {
    const w = await world({ replicas: 3 });
    const oldUid = w.podUid('crate-1')!;
    // Before the crashed run: timeout 10m (transient). It recorded that, set its own values, sent the DECOMMISSION, died.
    await setOurValues(w);
    await w.crate.query('data-hot-0', { user: 'crate', password: null }, 'http', 'ALTER CLUSTER DECOMMISSION ?', [
      'data-hot-1',
    ]);
    await plantLease(w, 'job-pod-a', 'job-gs', 0, {
      current: {
        pod: 'crate-1',
        oldUid,
        nodeName: 'data-hot-1',
        step: 'decommission-sent',
        restartCount: 0,
        sentAt: w.clock.now(),
      },
      allocationSet: 'primaries',
      gracefulStopBefore: { timeout: '10m', force: false, minAvailability: 'PRIMARIES' },
    });
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-gs',
    });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-1')).toHaveLength(1);
    expect(sqlOf(w)).not.toContain(SQL.gracefulStopSettings);
    expect(levels(w)).toEqual({ [`transient ${TIMEOUT}`]: '10m' });
    expect(progress(w).gracefulStopBefore).toBeNull();
    expect(w.log.text()).toContain(
      'it had changed cluster.graceful_stop.* (before: timeout=10m, force=false (default), min_availability=PRIMARIES (default))',
    );
  });

  it('crash + resume where the node never got the DECOMMISSION: sent now with the recorded values kept (not re-read)', async () => {
    const w = await world({ replicas: 3 });
    const oldUid = w.podUid('crate-1')!;
    await setOurValues(w);
    await plantLease(w, 'job-pod-a', 'job-gs2', 0, {
      current: {
        pod: 'crate-1',
        oldUid,
        nodeName: 'data-hot-1',
        step: 'decommission-sent',
        restartCount: 0,
        sentAt: w.clock.now(),
      },
      allocationSet: 'primaries',
      gracefulStopBefore: { timeout: '2h', force: true, minAvailability: 'FULL' },
    });
    const r = await restartPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'job-gs2',
    });
    expect(r.success).toBe(true);
    expect(sqlOf(w)).not.toContain(SQL.gracefulStopSettings);
    expect(levels(w)).toEqual({ [`transient ${FORCE}`]: true, [`transient ${MIN}`]: 'FULL' });
  });

  it('an expired Lease of another operation that left them changed: the new run restores them', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    await setOurValues(w);
    await plantLease(w, 'crashed', 'op-old', 3_700_000, {
      allocationSet: 'primaries',
      gracefulStopBefore: { timeout: '30m', force: false, minAvailability: 'PRIMARIES' },
    });
    const r = await restartPod(w.deps(), {
      podName: 'crate-2',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-new',
    });
    expect(r.success).toBe(true);
    // dc_util (the kubernetes_managed strategy here) sets its own values in preStop; ours are put back at the end.
    expect(levels(w)).toEqual({ [`transient ${TIMEOUT}`]: '30m' });
  });

  it('a restore that fails is logged, never thrown, fails the result (exit 1); the record stays in the Lease for the next run', async () => {
    const w = await world({ replicas: 3 });
    const original = w.crate.query.bind(w.crate);
    w.crate.query = async (node, login, via, stmt, args) => {
      // Refused as CrateDB refuses a SET/RESET without the AL privilege (HTTP 401, code 4011).
      if (stmt === `RESET GLOBAL "${TIMEOUT}", "${FORCE}", "${MIN}"`) throw new CrateSqlError(401, 4011, 'boom');
      return original(node, login, via, stmt, args);
    };
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      operationId: 'op-f',
    });
    // The pod was restarted, but a setting is left changed: not a success (issue 8 item 11).
    expect(r).toMatchObject({
      success: false,
      errorKind: 'failed',
      gracefulStopRestored: false,
      allocationReset: true,
    });
    expect(r.error).toContain('cluster.graceful_stop.* could not be restored');
    expect(exitCodeFor(r.errorKind!)).toBe(ExitCode.failed);
    expect(w.log.text()).toContain(
      `Could not restore cluster.graceful_stop.timeout, force and min_availability (were 2h, false and PRIMARIES): boom. Run RESET GLOBAL "${TIMEOUT}", "${FORCE}", "${MIN}" on the cluster`,
    );
    // The one RESET was refused as a whole: the three values of the drain are left, as the log says.
    expect(Object.keys(levels(w)).sort()).toEqual([`transient ${FORCE}`, `transient ${MIN}`, `transient ${TIMEOUT}`]);
    expect(progress(w).gracefulStopBefore).toEqual({ timeout: '2h', force: false, minAvailability: 'PRIMARIES' });
    expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.spec!.holderIdentity).toBeUndefined();
  });

  it('dry run: neither reads nor writes them, only says it would', async () => {
    const w = await world({ replicas: 3 });
    presetNonDefault(w);
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
    });
    expect(r.success).toBe(true);
    expect(w.crate.writes).toEqual([]);
    expect(w.kube.writes).toEqual([]);
    expect(sqlOf(w)).not.toContain(SQL.gracefulStopSettings);
    expect(w.log.text()).toContain('Would first read the current cluster.graceful_stop.* values');
  });
});
