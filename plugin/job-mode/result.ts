// Reading a finished Job's result: the runner's termination message (a 4 KiB summary), its closing log line (the
// full result), the exit code (the runner's, or the Job's failure: deadline, deletion).
import type { JobSnapshot } from '../../shared/adapters/index.js';
import { ExitCode } from '../../shared/task/index.js';
import { jobFinished, type RunnerTermination } from './status.js';

export interface FollowOutcome {
  /** Ctrl-C: stopped following; the Job goes on. */
  detached: boolean;
  /** The runner's exit code (or derived from the Job's failure). */
  exitCode: number;
  /** The runner's JSON result, when it wrote one. */
  result: Record<string, unknown> | null;
  /** What ended the Job when no runner result explains it (deadline, deletion, log tail). */
  failure: string | null;
  /** Runner pods followed, in order. */
  pods: string[];
}

/** Parse the runner's result from a termination message (JSON); null when absent or not JSON (log tail). */
function parseTerminationMessage(message: string | null | undefined): Record<string, unknown> | null {
  if (!message) return null;
  const t = message.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
/** The `result` of the runner's closing log line (`runner finished with exit code N`), or null for any other line. */
export function runnerResultOf(line: string): Record<string, unknown> | null {
  if (!line.includes('"step":"runner"') || !line.includes('"result"')) return null;
  try {
    const rec = JSON.parse(line) as { step?: unknown; exitCode?: unknown; result?: unknown };
    const r = rec.result;
    return rec.step === 'runner' && typeof rec.exitCode === 'number' && r && typeof r === 'object' && !Array.isArray(r)
      ? (r as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function outcomeOf(snap: JobSnapshot | null, last: RunnerTermination | null, pods: string[]): FollowOutcome {
  const ended = (
    exitCode: number,
    failure: string | null,
    result: Record<string, unknown> | null = null,
  ): FollowOutcome => ({ detached: false, exitCode, result, failure, pods });
  const finished = jobFinished(snap?.job ?? null);
  const deadline = () => ended(ExitCode.timeout, `Job deadline exceeded: ${finished?.message ?? ''}`.trim());
  if (last) {
    const result = parseTerminationMessage(last.message);
    const failure = result
      ? null
      : last.message
        ? lastLines(last.message)
        : last.exitCode === 0
          ? null
          : `runner exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}`;
    // A Job that hit its deadline killed the runner: that is a timeout whatever the signal's exit code.
    if (finished?.type === 'Failed' && finished.reason === 'DeadlineExceeded' && last.exitCode !== 0 && !result)
      return deadline();
    return ended(documentedExitCode(last.exitCode), failure, result);
  }
  if (!snap?.job) return ended(ExitCode.failed, 'the Job was deleted (cancelled?) before its runner finished');
  if (finished?.type === 'Complete') return ended(ExitCode.ok, null);
  if (finished?.reason === 'DeadlineExceeded') return deadline();
  return ended(ExitCode.failed, `Job failed: ${finished?.reason ?? 'unknown'} ${finished?.message ?? ''}`.trim());
}

/** The runner's own codes (0-5) pass through; a runner killed by a signal or OOM (137, 143...) is a failed operation. */
function documentedExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 5 ? code : ExitCode.failed;
}
/** What a log tail (FallbackToLogsOnError) says went wrong: the runner's first error line, else the last lines. */
function lastLines(text: string): string {
  const lines = text.trim().split('\n');
  for (const line of lines) {
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (rec.level === 'error' && typeof rec.msg === 'string') return `runner: ${rec.msg}`;
    } catch {
      // not a runner JSON line
    }
  }
  return lines.slice(-3).join(' | ');
}
