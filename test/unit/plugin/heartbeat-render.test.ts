// Heartbeat lines (issue 7 item 2) have a rendering of their own in the plugin's progress: the engine's periodic
// "Waiting for ..." line is a status, not an event. Plain lines (a pipe): `WAIT` in the level column where other
// lines say INFO, the whole line dim with colour; on a TTY (listr2) a dim `… Waiting for ...` task output; with
// -o json the JSON line untouched. The line under test is the one the engine's logger really writes
// (startHeartbeat over createLogger), so a change of its shape breaks this test.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, withFields } from '../../../shared/log.js';
import { startHeartbeat } from '../../../shared/wait.js';
import { colors } from '../../../plugin/io.js';
import {
  isHeartbeat,
  jsonProgress,
  listrProgress,
  parseLogLine,
  plainProgress,
  taskOutput,
} from '../../../plugin/progress.js';

class Capture {
  text = '';
  isTTY = false;
  write(t: string) {
    this.text += t;
  }
  get lines() {
    return this.text.split('\n').filter((l) => l !== '');
  }
}

/** One real heartbeat line: the engine's logger (JSON, as the runner writes it), a wait of 2 min, one beat. */
async function engineHeartbeatLine(): Promise<string> {
  const lines: string[] = [];
  // A clock whose first delay (the first beat's 30 s) passes at once and whose later delays never do: one beat.
  let t = Date.parse('2026-01-01T10:00:00Z');
  let delays = 0;
  const clock = {
    now: () => t,
    delay: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        if (delays++ === 0) {
          t += ms;
          resolve();
        }
      }),
  };
  const log = withFields(
    createLogger({ format: 'json', level: 'info', write: (l) => lines.push(l), now: () => clock.now() }),
    { pod: 'crate-0', step: 'decommission' },
  );
  const stop = startHeartbeat(
    {
      log,
      what: 'the CrateDB process of pod crate-0 to exit (node data-hot-0 decommissioning)',
      intervalMs: 30_000,
      state: async () => ({ text: 'node data-hot-0: 0 jobs, 0 operations', fields: {} }),
    },
    { clock, timeoutMs: 120_000 },
  );
  await vi.waitFor(() => expect(lines.length).toBe(1), { timeout: 5_000 });
  stop();
  return lines[0]!;
}

const info = (msg: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    ts: '2026-01-01T10:00:05.000Z',
    level: 'info',
    msg,
    pod: 'crate-0',
    step: 'decommission',
    ...extra,
  });

afterEach(() => vi.restoreAllMocks());

describe('heartbeat lines in the progress output', () => {
  it('the engine marks its heartbeat lines (heartbeat: true) and only those', async () => {
    const beat = parseLogLine(await engineHeartbeatLine())!;
    expect(beat.msg).toMatch(
      /^Waiting for the CrateDB process of pod crate-0 to exit \(node data-hot-0 decommissioning\): node data-hot-0: 0 jobs, 0 operations \(waited 30s, 1m30s left of the 2m timeout\)$/,
    );
    expect(isHeartbeat(beat)).toBe(true);
    expect(isHeartbeat(parseLogLine(info('ALTER CLUSTER DECOMMISSION sent'))!)).toBe(false);
  });

  it('on a pipe: WAIT in the level column, plain text, other lines unchanged', async () => {
    const out = new Capture();
    const p = plainProgress(out, colors(false));
    p.line(info('ALTER CLUSTER DECOMMISSION sent'));
    p.line(await engineHeartbeatLine());
    p.line(
      JSON.stringify({
        ts: '2026-01-01T10:01:00.000Z',
        level: 'warn',
        msg: 'Waiting for X: state unknown',
        heartbeat: true,
      }),
    );
    expect(out.lines).toEqual([
      '10:00:05 INFO  [crate-0] ALTER CLUSTER DECOMMISSION sent',
      `10:00:30 WAIT  [crate-0] Waiting for the CrateDB process of pod crate-0 to exit (node data-hot-0 decommissioning): node data-hot-0: 0 jobs, 0 operations (waited 30s, 1m30s left of the 2m timeout)`,
      // A warning keeps its level: it is not a mere status.
      '10:01:00 WARN  Waiting for X: state unknown',
    ]);
    expect(out.text).not.toContain('\u001b[');
  });

  it('with colour: the whole heartbeat line dim, an ordinary line not', async () => {
    const out = new Capture();
    const p = plainProgress(out, colors(true));
    p.line(info('ALTER CLUSTER DECOMMISSION sent'));
    p.line(await engineHeartbeatLine());
    const [ordinary, beat] = out.lines;
    expect(beat).toMatch(
      // eslint-disable-next-line no-control-regex -- the dim attribute's ANSI escapes are what is asserted
      /^\u001b\[2m10:00:30 WAIT {2}\[crate-0\] Waiting for the CrateDB process of pod crate-0 .*timeout\)\u001b\[22m$/,
    );
    expect(ordinary).toBe('\u001b[2m10:00:05\u001b[22m INFO  [crate-0] ALTER CLUSTER DECOMMISSION sent');
  });

  it('on a TTY (listr2): the task output is a dim "… Waiting for ..." line; ordinary lines show "step: message"', async () => {
    const c = colors(true);
    expect(taskOutput(parseLogLine(info('ALTER CLUSTER DECOMMISSION sent'))!, c)).toBe(
      'decommission: ALTER CLUSTER DECOMMISSION sent',
    );
    // Through listr2 itself: its test renderer prints each task output as an OUTPUT event.
    const events: Array<{ event: string; data: unknown; title?: string }> = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      for (const l of String(chunk).split('\n').filter(Boolean)) {
        try {
          const e = JSON.parse(l) as { event: string; data: unknown; task?: { title?: string } };
          events.push({ event: e.event, data: e.data, ...(e.task?.title ? { title: e.task.title } : {}) });
        } catch {
          // not the test renderer's line
        }
      }
      return true;
    });
    const p = listrProgress(c, { renderer: 'test' });
    p.line(info('ALTER CLUSTER DECOMMISSION sent'));
    const beat = await engineHeartbeatLine();
    p.line(beat);
    await p.close(true);
    vi.restoreAllMocks();
    const outputs = events.filter((e) => e.event === 'OUTPUT');
    expect(outputs).toEqual([
      { event: 'OUTPUT', data: 'decommission: ALTER CLUSTER DECOMMISSION sent', title: 'pod crate-0' },
      { event: 'OUTPUT', data: `\u001b[2m… ${parseLogLine(beat)!.msg}\u001b[22m`, title: 'pod crate-0' },
    ]);
  });

  it('-o json: the heartbeat JSON line untouched', async () => {
    const out = new Capture();
    const beat = await engineHeartbeatLine();
    jsonProgress(out).line(beat);
    expect(out.lines).toEqual([beat]);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({
      heartbeat: true,
      wait: { waitedSeconds: 30, leftSeconds: 90, timeoutSeconds: 120 },
    });
  });
});
