// The engine's progress stream as Temporal heartbeats: a Logger that writes the runner's JSON lines (to the
// worker's own log too) and heartbeats the last lines with a sequence number on every line, plus a keep-alive
// heartbeat every few seconds so that a long silent wait still heartbeats (and so receives cancellation).
import { createLogger, withFields } from '../log.js';
import type { Clock, Logger, LogLevel } from '../ports.js';
import { HEARTBEAT_LINES, type ActivityProgress } from './contracts.js';

export interface HeartbeatLoggerOptions {
  heartbeat(details: ActivityProgress): void;
  /** Where each line also goes (the worker's log); fields of the activity are added by the caller. */
  write?: (line: string) => void;
  level?: LogLevel;
  clock: Clock;
  /** Keep-alive heartbeat interval, ms (default 5000). */
  keepAliveMs?: number;
  /** Sequence to continue from (a retried attempt continues its predecessor's numbering). */
  startSeq?: number;
  /** Extra fields on every line (e.g. workflowId, activity). */
  fields?: Record<string, unknown>;
}

export interface HeartbeatLogger {
  logger: Logger;
  /** The details of the last heartbeat. */
  current(): ActivityProgress;
  /** Stop the keep-alive timer. */
  stop(): void;
}

export function heartbeatLogger(opts: HeartbeatLoggerOptions): HeartbeatLogger {
  const lines: string[] = [];
  let seq = opts.startSeq ?? 0;
  let pod: string | null = null;
  let step: string | null = null;
  const details = (): ActivityProgress => ({
    seq,
    lines: [...lines],
    pod,
    step,
    at: new Date(opts.clock.now()).toISOString(),
  });
  const beat = () => {
    try {
      opts.heartbeat(details());
    } catch {
      // a heartbeat after the activity ended: nothing to report to
    }
  };
  const base = createLogger({
    format: 'json',
    level: opts.level ?? 'info',
    now: () => opts.clock.now(),
    write: (line) => {
      seq += 1;
      lines.push(line);
      if (lines.length > HEARTBEAT_LINES) lines.shift();
      try {
        const rec = JSON.parse(line) as { pod?: unknown; step?: unknown };
        if (typeof rec.pod === 'string') pod = rec.pod;
        if (typeof rec.step === 'string') step = rec.step;
      } catch {
        // createLogger writes JSON
      }
      opts.write?.(line);
      beat();
    },
  });
  const extra = opts.fields ?? {};
  const logger = withFields(base, extra);
  const stopTimer = new AbortController();
  const keepAliveMs = opts.keepAliveMs ?? 5000;
  void (async () => {
    for (;;) {
      try {
        await opts.clock.delay(keepAliveMs, stopTimer.signal);
      } catch {
        return;
      }
      beat();
    }
  })();
  beat();
  return { logger, current: details, stop: () => stopTimer.abort() };
}
