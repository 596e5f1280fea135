// How soon the engine's CrateDB polls see what they wait for (issue 9 item 2, orchestration overhead), on the
// discrete-event clock (test/support/virtual-clock.ts): engine time moves only when the process is idle, so every
// time below is exact, never a real timer's.
import { afterEach, describe, expect, it } from 'vitest';
import { checkClusterHealth, HEALTH_RETRY_FIRST_MS } from '../../../shared/health.js';
import { SQL } from '../../../shared/cluster-sql.js';
import { backoffMs, pollUntil } from '../../../shared/wait.js';
import { restartPod } from '../../../shared/restart.js';
import { World } from '../../support/fakes/world.js';
import { VirtualClock, installImmediateCounter } from '../../support/virtual-clock.js';

installImmediateCounter();

const worlds: World[] = [];
afterEach(() => {
  while (worlds.length) worlds.pop()!.close();
});

async function virtualWorld(): Promise<{ w: World; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const w = new World({ replicas: 3, clock, tables: [{ name: 't1', shards: 3, replicas: 1 }] });
  worlds.push(w);
  await clock.run(w.start());
  return { w, clock };
}

describe('pollUntil', () => {
  it('polls every intervalMs without firstIntervalMs (as before)', async () => {
    const clock = new VirtualClock();
    const t0 = clock.now();
    const at: number[] = [];
    const v = await clock.run(
      pollUntil(
        async () => {
          at.push(clock.now() - t0);
          return clock.now() - t0 >= 2500 ? 'ok' : undefined;
        },
        { intervalMs: 1000, timeoutMs: 60_000, clock },
      ),
    );
    expect(v).toBe('ok');
    expect(at).toEqual([0, 1000, 2000, 3000]);
  });

  it('with firstIntervalMs polls again soon, doubling up to intervalMs', async () => {
    const clock = new VirtualClock();
    const t0 = clock.now();
    const at: number[] = [];
    await clock.run(
      pollUntil(
        async () => {
          at.push(clock.now() - t0);
          return clock.now() - t0 >= 3500 ? 'ok' : undefined;
        },
        { intervalMs: 1000, firstIntervalMs: 100, timeoutMs: 60_000, clock },
      ),
    );
    // pauses 100, 200, 400, 800, then 1000 each: never a busy loop, never slower than intervalMs
    expect(at).toEqual([0, 100, 300, 700, 1500, 2500, 3500]);
  });

  it('backoffMs never exceeds the interval, nor goes below 1 ms', () => {
    expect([0, 1, 2, 3, 4, 50].map((n) => backoffMs(n, 250, 2000))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
    expect(backoffMs(0, 5000, 2000)).toBe(2000);
    expect(backoffMs(0, 0, 2000)).toBe(1);
  });
});

describe('health gate: a failed reading is read again soon, the good ones stay intervalSeconds apart', () => {
  it('the first good reading comes within the backoff after the cluster recovered, not at the next interval', async () => {
    const { w, clock } = await virtualWorld();
    const t0 = clock.now();
    // A CREATE SNAPSHOT runs until 600 ms: no_snapshot_running fails until then.
    const stopSnapshot = w.crate.startSnapshot();
    void clock.delay(600).then(stopSnapshot);
    const r = await clock.run(
      checkClusterHealth(w.deps(), {
        cluster: w.clusterModel(),
        consecutive: 3,
        intervalSeconds: 2,
        timeoutSeconds: 60,
      }),
    );
    expect(r).toMatchObject({ healthy: true, goodReadings: 3 });
    const readings = w.crate.statements.filter((s) => s.stmt === SQL.health).map((s) => s.at - t0);
    // bad at 0 and 250 (the snapshot), good at 750, 2750, 4750. Before: bad at 0, good at 2000, 4000, 6000.
    expect(HEALTH_RETRY_FIRST_MS).toBe(250);
    expect(readings).toEqual([0, 250, 750, 2750, 4750]);
    expect(clock.now() - t0).toBe(4750);
  });

  it('good readings are never closer than intervalSeconds, and a bad one in between starts the count again', async () => {
    const { w, clock } = await virtualWorld();
    const t0 = clock.now();
    // Good at 0; a snapshot from 1000 to 2100 ms makes the reading at 2000 bad; then good again.
    let stop: (() => void) | null = null;
    void clock.delay(1000).then(() => (stop = w.crate.startSnapshot()));
    void clock.delay(2100).then(() => stop?.());
    const r = await clock.run(
      checkClusterHealth(w.deps(), {
        cluster: w.clusterModel(),
        consecutive: 3,
        intervalSeconds: 2,
        timeoutSeconds: 60,
      }),
    );
    expect(r).toMatchObject({ healthy: true, goodReadings: 3 });
    const readings = w.crate.statements.filter((s) => s.stmt === SQL.health).map((s) => s.at - t0);
    // good 0, bad 2000, good 2250, 4250, 6250: three good in a row, 2 s apart
    expect(readings).toEqual([0, 2000, 2250, 4250, 6250]);
  });

  it('a long recovery settles at the interval: no busy loop', async () => {
    const { w, clock } = await virtualWorld();
    const t0 = clock.now();
    const stopSnapshot = w.crate.startSnapshot();
    void clock.delay(20_000).then(stopSnapshot);
    await clock.run(
      checkClusterHealth(w.deps(), {
        cluster: w.clusterModel(),
        consecutive: 3,
        intervalSeconds: 2,
        timeoutSeconds: 60,
      }),
    );
    const readings = w.crate.statements.filter((s) => s.stmt === SQL.health).map((s) => s.at - t0);
    const bad = readings.filter((t) => t < 20_000);
    // 0, 250, 750, 1750, then every 2000: 13 readings in 20 s, where a 2 s interval alone takes 10
    expect(bad.slice(0, 5)).toEqual([0, 250, 750, 1750, 3750]);
    expect(bad).toHaveLength(13);
  });
});

describe('restart: the node rejoining after its pod is Ready', () => {
  it('is seen within the poll backoff of its join, not at the next full poll interval', async () => {
    const { w, clock } = await virtualWorld();
    // From now on a started CrateDB container is Ready at once and its node joins 250 ms later
    // (a real CrateDB may answer its readiness probe before it has joined the cluster).
    w.joinDelayMs = 250;
    let readyAt = 0;
    const joined = w.kube.hooks.containerStarted!;
    w.kube.hooks.containerStarted = (ns, pod, container) => {
      joined(ns, pod, container);
      if (container !== 'crate') return;
      readyAt = clock.now();
      w.kube.setReady(ns, pod.metadata!.name!, true);
    };
    const r = await clock.run(
      restartPod(w.deps(), {
        podName: 'crate-1',
        namespace: w.namespace,
        cluster: w.clusterModel(),
        skipPreflight: true,
        healthConsecutive: 1,
        healthIntervalSeconds: 2,
        healthTimeout: 60,
        podReadyTimeout: 60,
      }),
    );
    expect(r.success).toBe(true);
    // The rejoin is reported in the pod's PodRestarted Event (NodeRejoined is folded into it): its time since Ready.
    const restarted = w.kube.events.find((e) => e.reason === 'PodRestarted');
    expect(readyAt).toBeGreaterThan(0);
    // sys.nodes polled at Ready + 0, 100, 300: the node (joined at + 250) is seen at + 300; before, at + 1000
    expect(restarted?.message).toMatch(/; node \S+ rejoined 0\.3s later;/);
  });
});
