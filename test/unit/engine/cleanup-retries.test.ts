// The clean-ups that put the cluster back (RESET of the allocation setting, the graceful_stop.* restore) retry a
// failing statement a fixed number of times through shared/retry.ts: 5 tries for the allocation RESET, 3 for each
// graceful_stop.* leaf. A statement that recovers within them leaves nothing changed; one that does not is logged
// with the statement to run by hand, and the result says what is left.
import { CrateSqlError } from '../../../shared/errors.js';
import { describe, expect, it } from 'vitest';
import { SQL } from '../../../shared/cluster-sql.js';
import { restartPod } from '../../../shared/restart.js';
import { fastGate, world } from './helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
/** The one statement that puts the three graceful_stop settings back when they were at CrateDB's defaults. */
const GRACEFUL_STOP_RESET =
  'RESET GLOBAL "cluster.graceful_stop.timeout", "cluster.graceful_stop.force", "cluster.graceful_stop.min_availability"';

/** Make `stmt` fail `failures` times (as CrateDB refuses a SET/RESET without the AL privilege: HTTP 401, code 4011), then pass; count its tries. */
function failing(w: World, stmt: string, failures: number): { tries: number } {
  const seen = { tries: 0 };
  const original = w.crate.query.bind(w.crate);
  w.crate.query = async (node, login, via, s, args) => {
    if (s === stmt) {
      seen.tries++;
      if (seen.tries <= failures) throw new CrateSqlError(401, 4011, `try ${seen.tries} failed`);
    }
    return original(node, login, via, s, args);
  };
  return seen;
}

async function restart(w: World) {
  return restartPod(w.deps(), {
    podName: 'crate-1',
    namespace: ns,
    cluster: w.clusterModel(),
    ...fastGate,
    operationId: 'op-retry',
  });
}

describe('clean-up retries', () => {
  it('the allocation RESET that fails 4 times and then passes: reset, 5 tries, success', async () => {
    const w = await world({ replicas: 3 });
    const seen = failing(w, SQL.resetAllocation, 4);
    const r = await restart(w);
    expect(seen.tries).toBe(5);
    expect(r).toMatchObject({ success: true, allocationReset: true });
    expect(w.crate.transient.has('cluster.routing.allocation.enable')).toBe(false);
  });

  it('the allocation RESET that always fails: 5 tries, then the statement to run by hand; not a success', async () => {
    const w = await world({ replicas: 3 });
    const seen = failing(w, SQL.resetAllocation, Infinity);
    const r = await restart(w);
    // 5 tries after the pod, and 5 more on the operation's way out (every exit path resets what is still set).
    expect(seen.tries).toBe(10);
    expect(r).toMatchObject({ success: false, allocationReset: false });
    expect(w.log.text()).toContain(
      'Could not reset cluster.routing.allocation.enable (still primaries): try 5 failed. Run RESET GLOBAL "cluster.routing.allocation.enable" on the cluster',
    );
  });

  it('a graceful_stop.* restore that fails twice and then passes: restored, 3 tries, success', async () => {
    const w = await world({ replicas: 3 });
    const seen = failing(w, GRACEFUL_STOP_RESET, 2);
    const r = await restart(w);
    expect(seen.tries).toBe(3);
    expect(r).toMatchObject({ success: true, gracefulStopRestored: true });
    expect(w.crate.transient.has('cluster.graceful_stop.force')).toBe(false);
  });

  it('a graceful_stop.* restore that always fails: 3 tries, the last error in the log line', async () => {
    const w = await world({ replicas: 3 });
    const seen = failing(w, GRACEFUL_STOP_RESET, Infinity);
    const r = await restart(w);
    // 3 tries after the pod, and 3 more on the operation's way out.
    expect(seen.tries).toBe(6);
    expect(r).toMatchObject({ success: false, gracefulStopRestored: false });
    expect(w.log.text()).toContain(
      `Could not restore cluster.graceful_stop.timeout, force and min_availability (were 2h, false and PRIMARIES): try 3 failed. Run ${GRACEFUL_STOP_RESET} on the cluster`,
    );
  });
});
