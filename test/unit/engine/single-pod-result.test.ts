// decommissionPod / restartPod on their own: a Job retry after the final progress save does not decommission the
// pod again (issue 8 item 8), and a failed final RESET or graceful_stop restore shows in the result and exit code
// (issue 8 item 11).
import { CrateSqlError } from '../../../shared/errors.js';
import { describe, expect, it } from 'vitest';
import { decommissionPod } from '../../../shared/decommission.js';
import { restartPod } from '../../../shared/restart.js';
import { ExitCode, exitCodeFor } from '../../../shared/task/exit.js';
import { leaseName } from '../../../shared/lease.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';

function podDeletes(w: World, pod: string) {
  return w.kube.writes.filter((x) => x.kind === 'Pod' && x.verb === 'delete' && x.name === pod);
}

describe('decommissionPod records the pod as done (a Job retry after the final save)', () => {
  it.each([
    ['manual', {}],
    ['kubernetes_managed', { preStop: 'dc_util' as const }],
  ])('%s: the same operation run again does not decommission the pod a second time', async (_s, opts) => {
    const w = await world({ replicas: 3, ...opts });
    const input = { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate, operationId: 'job-8' };
    const first = await decommissionPod(w.deps({ holderIdentity: 'job-pod-a' }), input);
    expect(first.error).toBeNull();
    expect(first.success).toBe(true);
    await w.waitFor(() => w.crate.node('data-hot-1')?.state === 'up');
    const again = await decommissionPod(w.deps({ holderIdentity: 'job-pod-b' }), {
      ...input,
      cluster: w.clusterModel(),
    });
    expect(again.error).toBeNull();
    expect(again).toMatchObject({ success: true, skipped: true });
    expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-1')).toHaveLength(1);
    expect(podDeletes(w, 'crate-1')).toHaveLength(1);
    expect(w.kube.podHistory.filter((p) => p.name === 'crate-1')).toHaveLength(2);
    expect(w.log.text()).toContain('Pod crate-1 was already decommissioned by operation job-8');
    expect(w.crate.violations).toEqual([]);
  });
});

describe('a failed final RESET shows in the result and the exit code', () => {
  it.each([
    // restartPod: the replicas cannot recover while allocation stays restricted, so its health gate times out too.
    ['decommissionPod', decommissionPod, 'failed', ExitCode.failed],
    ['restartPod', restartPod, 'timeout', ExitCode.timeout],
  ] as const)(
    '%s: allocation still primaries -> success false, allocationReset false, non-zero exit',
    async (_name, activity, kind, code) => {
      const w = await world({ replicas: 3 });
      const original = w.crate.query.bind(w.crate);
      w.crate.query = async (node, login, via, stmt, args) => {
        if (stmt === `RESET GLOBAL "${ALLOC}"`) throw new Error('connection reset by peer');
        return original(node, login, via, stmt, args);
      };
      const r = await activity(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
      expect(w.crate.setting(ALLOC)).toBe('primaries');
      expect(r).toMatchObject({ success: false, errorKind: kind, allocationReset: false, gracefulStopRestored: true });
      expect(r.error).toContain(
        'allocation setting could not be reset (cluster.routing.allocation.enable is still primaries; run RESET GLOBAL "cluster.routing.allocation.enable")',
      );
      expect(exitCodeFor(r.errorKind!)).toBe(code);
      // The pod itself was handled: decommissioned once, re-created once.
      expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-1')).toHaveLength(1);
      expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.spec!.holderIdentity).toBeUndefined();
    },
  );

  it('a clean run says so: allocationReset and gracefulStopRestored true', async () => {
    const w = await world({ replicas: 3 });
    const r = await decommissionPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
    });
    expect(r).toMatchObject({ success: true, allocationReset: true, gracefulStopRestored: true, error: null });
  });
});

describe('a failed final graceful_stop restore shows in the result and the exit code (issue 8 item 11, restore half)', () => {
  const TIMEOUT = 'cluster.graceful_stop.timeout';
  /** The one statement that puts the three settings back (they were at CrateDB's defaults). */
  const RESET_ALL = `RESET GLOBAL "${TIMEOUT}", "cluster.graceful_stop.force", "cluster.graceful_stop.min_availability"`;
  it.each([
    ['decommissionPod', decommissionPod],
    ['restartPod', restartPod],
  ] as const)(
    '%s (manual): the pod is handled, allocation reset, graceful_stop.timeout left changed -> success false, exit 1',
    async (_name, activity) => {
      const w = await world({ replicas: 3 });
      const original = w.crate.query.bind(w.crate);
      // Every attempt to put the timeout back fails (after each pod and again in closeOperation).
      w.crate.query = async (node, login, via, stmt, args) => {
        // Refused as CrateDB refuses a RESET without the AL privilege (HTTP 401, code 4011).
        if (stmt === RESET_ALL) throw new CrateSqlError(401, 4011, 'connection reset by peer');
        return original(node, login, via, stmt, args);
      };
      const r = await activity(w.deps(), { podName: 'crate-1', namespace: ns, cluster: w.clusterModel(), ...fastGate });
      // The manual strategy set the timeout for the drain; it is still set.
      expect(w.crate.transient.get(TIMEOUT) ?? w.crate.persistent.get(TIMEOUT)).toBeDefined();
      expect(w.crate.setting(ALLOC)).toBeUndefined();
      expect(r).toMatchObject({
        success: false,
        errorKind: 'failed',
        allocationReset: true,
        gracefulStopRestored: false,
      });
      expect(r.error).toContain('cluster.graceful_stop.* could not be restored (they were timeout=2h (default)');
      expect(exitCodeFor(r.errorKind!)).toBe(ExitCode.failed);
      expect(w.log.text()).toContain(
        `Could not restore cluster.graceful_stop.timeout, force and min_availability (were 2h, false and PRIMARIES): connection reset by peer. Run ${RESET_ALL} on the cluster`,
      );
      // The pod itself was handled once; the Lease is released.
      expect(w.crate.decommissions.filter((d) => d.node === 'data-hot-1')).toHaveLength(1);
      expect(w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`)!.spec!.holderIdentity).toBeUndefined();
    },
  );
});
