// The discrete-event clock in auto mode (the World's virtual time): delays fire in engine-time order whenever the
// process is idle, without run(); until(cond) resolves before a later delay fires; stop() ends it for good.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../support/virtual-clock.js';

describe('VirtualClock autoAdvance', () => {
  it('fires pending delays in engine-time order without run(), and costs no wall time', async () => {
    const clock = new VirtualClock(0, { autoAdvance: true });
    const fired: [string, number][] = [];
    const t0 = performance.now();
    await Promise.all([
      clock.delay(3_600_000).then(() => fired.push(['hour', clock.now()])),
      clock.delay(1000).then(() => fired.push(['second', clock.now()])),
      clock.delay(60_000).then(() => fired.push(['minute', clock.now()])),
    ]);
    expect(fired).toEqual([
      ['second', 1000],
      ['minute', 60_000],
      ['hour', 3_600_000],
    ]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('does not move time while the process has work (setImmediate chains, microtasks)', async () => {
    const clock = new VirtualClock(0, { autoAdvance: true });
    let steps = 0;
    let seenAt = -1;
    const late = clock.delay(10).then(() => (seenAt = steps));
    await new Promise<void>((resolve) => {
      const step = () => {
        steps += 1;
        if (steps < 50) setImmediate(step);
        else resolve();
      };
      setImmediate(step);
    });
    await late;
    expect(seenAt).toBe(50);
  });

  it('until(cond) resolves at the idle point where cond holds, before the next delay fires', async () => {
    const clock = new VirtualClock(0, { autoAdvance: true });
    let ticks = 0;
    let stop = false;
    void (async () => {
      while (!stop) {
        await clock.delay(1000);
        ticks += 1;
      }
    })();
    await clock.until(() => ticks === 5);
    expect(ticks).toBe(5);
    expect(clock.now()).toBe(5000);
    stop = true;
    clock.stop();
  });

  it('until(cond) rejects after its real-time bound', async () => {
    const clock = new VirtualClock(0, { autoAdvance: true });
    await expect(clock.until(() => false, 20)).rejects.toThrow('VirtualClock.until timed out');
  });

  it('stop(): pending delays never fire, waiters are rejected', async () => {
    const clock = new VirtualClock(0, { autoAdvance: true });
    let fired = false;
    void clock.delay(1000).then(() => (fired = true));
    const waiting = clock.until(() => fired);
    clock.stop();
    await expect(waiting).rejects.toThrow('VirtualClock stopped');
    await new Promise((r) => setTimeout(r, 10));
    expect(fired).toBe(false);
    expect(clock.now()).toBe(0);
  });
});
