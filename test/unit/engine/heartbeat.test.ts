// The heartbeat of every wait (shared/wait.ts): a line at least every interval naming what is waited for, the
// state seen and the time waited / left; one Event once a wait passes a minute; nothing after the wait ended.
// On a virtual clock (engine time moves only when the test says so), then end to end on the fakes.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, KubernetesPort, PodHandler } from '../../../shared/ports.js';
import { formatSeconds, pollUntil, waitForPod } from '../../../shared/wait.js';
import { restartPod } from '../../../shared/restart.js';
import { memoryLogger } from '../../support/fakes/world.js';
import { fastGate, world } from './helpers.js';

/** Engine time that moves only by advance(): every pending delay due by then resolves, in order. */
function virtualClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let t = start;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  const clock: Clock & { advance(ms: number): Promise<void> } = {
    now: () => t,
    delay(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const e = { at: t + ms, resolve: () => resolve() };
        timers.push(e);
        signal?.addEventListener(
          'abort',
          () => {
            const i = timers.indexOf(e);
            if (i >= 0) timers.splice(i, 1);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    async advance(ms) {
      const end = t + ms;
      await flush();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = next.at;
        next.resolve();
        await flush();
      }
      t = end;
      await flush();
    },
  };
  return clock;
}

function terminatingPod(): V1Pod {
  return {
    metadata: {
      name: 'crate-2',
      uid: 'u1',
      deletionTimestamp: new Date('2026-01-01T00:00:00Z'),
      deletionGracePeriodSeconds: 780,
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: [
        { name: 'crate', image: 'c', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
      ],
    },
  } as V1Pod;
}

/** A KubernetesPort with one watched pod the test changes. */
function onePodKube(initial: V1Pod | null) {
  let handler: PodHandler | null = null;
  let pod = initial;
  const kube = {
    async watchPod(_ns: string, _name: string, h: PodHandler) {
      handler = h;
      h(pod);
      return () => {
        handler = null;
      };
    },
  } as unknown as KubernetesPort;
  return { kube, set: (p: V1Pod | null) => ((pod = p), handler?.(p)), watching: () => handler !== null };
}

describe('heartbeat cadence and content (virtual clock)', () => {
  it('waitForPod: a line every 30 s with the pod state and time left, one long-wait call past a minute, none after the wait', async () => {
    const clock = virtualClock();
    const log = memoryLogger();
    const longs: string[] = [];
    const { kube, set, watching } = onePodKube(terminatingPod());
    const states: number[] = [];
    const wait = waitForPod(kube, 'crate', 'crate-2', (p) => p === null, {
      timeoutMs: 840_000,
      clock,
      heartbeat: {
        log,
        what: 'pod crate-2 to terminate (dc_util drains node data-hot-2 in its preStop hook)',
        intervalMs: 30_000,
        state: async () => {
          states.push(clock.now());
          return {
            text: 'shards: 2 relocating, 0 initializing: doc.t1 (2 relocating); node data-hot-2: 0 jobs, 1 operations (collect)',
            fields: { shards: { relocating: 2 } },
          };
        },
        onLong: async (line) => void longs.push(line),
      },
    });
    await clock.advance(29_000);
    expect(log.lines).toHaveLength(0);
    await clock.advance(66_000); // t = 95 s
    const beats = log.lines.filter((l) => l.fields?.heartbeat === true);
    expect(beats).toHaveLength(3);
    expect(beats[0]!.level).toBe('info');
    expect(beats[0]!.message).toBe(
      'Waiting for pod crate-2 to terminate (dc_util drains node data-hot-2 in its preStop hook): pod Running, terminating (grace period 780s), Ready=False (ContainersNotReady), containers: crate running; ' +
        'shards: 2 relocating, 0 initializing: doc.t1 (2 relocating); node data-hot-2: 0 jobs, 1 operations (collect) (waited 30s, 13m30s left of the 14m timeout)',
    );
    expect(beats[2]!.message).toContain('(waited 1m30s, 12m30s left of the 14m timeout)');
    expect(beats[1]!.fields).toMatchObject({
      wait: {
        waitedSeconds: 60,
        leftSeconds: 780,
        timeoutSeconds: 840,
        pod: { phase: 'Running', terminating: true, conditions: { Ready: 'False' } },
        shards: { relocating: 2 },
      },
    });
    // one Event, when the wait passed a minute (not one per heartbeat)
    expect(longs).toHaveLength(1);
    expect(longs[0]).toContain('waited 1m');
    set(null);
    await expect(wait).resolves.toBeNull();
    expect(watching()).toBe(false);
    await clock.advance(300_000);
    expect(log.lines.filter((l) => l.fields?.heartbeat === true)).toHaveLength(3);
    expect(states).toHaveLength(3);
  });

  it('pollUntil beats too; a state that fails or hangs is reported, not thrown, and the configured interval is honoured', async () => {
    const clock = virtualClock();
    const log = memoryLogger();
    let n = 0;
    const poll = pollUntil(async () => (++n > 40 ? 'done' : undefined), {
      intervalMs: 1000,
      timeoutMs: 600_000,
      clock,
      heartbeat: {
        log,
        what: 'the node of pod crate-1 to rejoin the cluster',
        intervalMs: 10_000,
        state: async () => {
          throw new Error('No CrateDB node answered SQL');
        },
      },
    });
    await clock.advance(25_000);
    const beats = log.lines.filter((l) => l.fields?.heartbeat === true);
    expect(beats).toHaveLength(2);
    expect(beats[0]!.message).toBe(
      'Waiting for the node of pod crate-1 to rejoin the cluster: state unknown: No CrateDB node answered SQL (waited 10s, 9m50s left of the 10m timeout)',
    );
    await clock.advance(20_000);
    await expect(poll).resolves.toBe('done');
    const count = log.lines.length;
    await clock.advance(60_000);
    expect(log.lines.length).toBe(count);
  });

  it('formats durations', () => {
    expect(formatSeconds(0)).toBe('0s');
    expect(formatSeconds(45)).toBe('45s');
    expect(formatSeconds(90)).toBe('1m30s');
    expect(formatSeconds(720)).toBe('12m');
    expect(formatSeconds(3700)).toBe('1h1m40s');
  });
});

describe('heartbeat end to end (fakes)', () => {
  it('a manual restart with a slow drain names the moving shards, the draining node and sends one WaitingLong Event per long wait', async () => {
    // 40 s of engine time per drain step: the drain lasts minutes.
    const w = await world({ replicas: 3, crate: { stepMs: 40_000 } });
    const r = await restartPod(w.deps({ heartbeatMs: 10_000 }), {
      podName: 'crate-1',
      namespace: 'crate',
      cluster: w.clusterModel(),
      ...fastGate,
    });
    expect(r.success).toBe(true);
    const beats = w.log.lines.filter((l) => l.fields?.heartbeat === true);
    const exit = beats.filter((l) =>
      l.message.startsWith('Waiting for the CrateDB process of pod crate-1 to exit (node data-hot-1 decommissioning)'),
    );
    expect(exit.length).toBeGreaterThan(2);
    expect(
      exit.some((l) => /shards: [1-9]\d* relocating, \d+ initializing: doc\.\w+ \(\d+ relocating\)/.test(l.message)),
    ).toBe(true);
    expect(exit[0]!.message).toMatch(/node data-hot-1: 0 jobs, 0 operations/);
    expect(exit[0]!.message).toMatch(/left of the 13m timeout\)$/);
    expect(exit[0]!.fields).toMatchObject({
      pod: 'crate-1',
      step: 'decommission',
      wait: { node: { name: 'data-hot-1', statsEnabled: true } },
    });
    const longEvents = w.kube.events.filter((e) => e.reason === 'WaitingLong');
    expect(
      longEvents.filter((e) => e.message.startsWith('Waiting for the CrateDB process of pod crate-1')),
    ).toHaveLength(1);
  });
});
