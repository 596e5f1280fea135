// Ctrl-C / SIGTERM: the first signal aborts and the process is gone within the policy's grace period even when
// the command hangs (an API call in flight); a second signal exits at once; the forced exit says what to do.
import { describe, expect, it } from 'vitest';
import { DETACH_GRACE_MS, Interrupts, LOCAL_STOP_SECONDS, type InterruptIO } from '../../../shared/task/interrupt.js';

function io(): InterruptIO & { exits: number[]; out: string; timers: Array<{ fn: () => void; ms: number }> } {
  const rec = {
    exits: [] as number[],
    out: '',
    timers: [] as Array<{ fn: () => void; ms: number }>,
    exit(code: number) {
      rec.exits.push(code);
    },
    write(t: string) {
      rec.out += t;
    },
    setTimeout(fn: () => void, ms: number) {
      rec.timers.push({ fn, ms });
      return { unref() {} };
    },
  };
  return rec;
}

describe('Interrupts', () => {
  it('first Ctrl-C aborts and arms an exit within 2 s (130) that prints how to re-attach', () => {
    const r = io();
    const i = new Interrupts(undefined, r);
    i.setForcedMessage(
      () => 'detached from job j; it goes on. Re-attach: kubectl crate-decommission jobs attach j -n crate',
    );
    i.receive('SIGINT');
    expect(i.signal.aborted).toBe(true);
    expect(r.exits).toEqual([]);
    expect(r.timers).toHaveLength(1);
    expect(r.timers[0]!.ms).toBe(DETACH_GRACE_MS);
    expect(DETACH_GRACE_MS).toBeLessThan(2000);
    r.timers[0]!.fn(); // the command did not return in time (a hanging API call)
    expect(r.exits).toEqual([130]);
    expect(r.out).toContain('jobs attach j -n crate');
  });

  it('a forced exit with no message of its own still says why it exits (e2e: a rollout whose first API call hangs exited 143 silently)', () => {
    const r = io();
    const i = new Interrupts(undefined, r);
    i.receive('SIGTERM');
    r.timers[0]!.fn();
    expect(r.exits).toEqual([143]);
    expect(r.out).toBe(
      'error: terminated (SIGTERM): the command did not stop within 1.5s (an API call may hang); exiting\n',
    );
    const c = new Interrupts(undefined, r);
    c.receive('SIGINT');
    c.receive('SIGINT');
    expect(r.out).toContain('error: interrupted (Ctrl-C) again: exiting at once\n');
  });

  it('a second signal exits at once; SIGTERM is 143', () => {
    const r = io();
    const i = new Interrupts(undefined, r);
    i.receive('SIGINT');
    i.receive('SIGTERM');
    expect(r.exits).toEqual([143]);
    const twice = io();
    const c = new Interrupts(undefined, twice);
    c.receive('SIGINT');
    c.receive('SIGINT');
    expect(twice.exits).toEqual([130]);
    expect(i.received).toBe('SIGINT');
  });

  it('--local: the grace period is the safe-stop bound, and the policy is restored afterwards', () => {
    const r = io();
    const i = new Interrupts(undefined, r);
    const restore = i.use({
      graceMs: LOCAL_STOP_SECONDS * 1000,
      forcedMessage: (s) => `stopped by ${s} before the safe stop finished`,
    });
    restore();
    const j = new Interrupts(undefined, r);
    j.use({
      graceMs: LOCAL_STOP_SECONDS * 1000,
      forcedMessage: (s) => `stopped by ${s} before the safe stop finished`,
    });
    j.receive('SIGTERM');
    expect(r.timers.at(-1)!.ms).toBe(30_000);
    r.timers.at(-1)!.fn();
    expect(r.exits).toEqual([143]);
    expect(r.out).toContain('stopped by SIGTERM before the safe stop finished');
    // the first one went back to the Job-mode grace
    i.receive('SIGINT');
    expect(r.timers.at(-1)!.ms).toBe(DETACH_GRACE_MS);
  });
});
