// One runner pod's log, followed until its container ended: resumed after any break from sinceTime, with the lines
// already shown dropped (LogResume), so nothing is lost or repeated.
import type { PluginKube } from '../../shared/adapters/index.js';
import { RUNNER_CONTAINER } from '../objects.js';

/** A kubelet timestamp (RFC 3339, nanoseconds with trailing zeros trimmed) as [epoch second, nanosecond]. */
function stamp(text: string): [number, number] | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return null;
  const epochMs = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(epochMs)) return null;
  return [epochMs / 1000, Number((m[2] ?? '').padEnd(9, '0'))];
}

const cmpStamp = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

/**
 * De-duplicates a log that is read again after a break. Lines come with the kubelet's timestamps; a resume asks
 * for `sinceTime` = the second of the last line shown (the API takes whole seconds), so it repeats that second:
 * every line older than the last one shown is dropped, and within its second, the lines already shown.
 */
export class LogResume {
  private last: [number, number] | null = null;
  private lastSecond: number | null = null;
  private readonly shown = new Set<string>();

  /** The line without its timestamp, or null when it was shown already. Lines without a timestamp pass. */
  accept(raw: string): string | null {
    const sp = raw.indexOf(' ');
    const ts = sp > 0 ? stamp(raw.slice(0, sp)) : null;
    if (!ts) return raw;
    const text = raw.slice(sp + 1);
    if (this.last && cmpStamp(ts, this.last) <= 0) {
      if (cmpStamp(ts, this.last) < 0 || this.shown.has(raw)) return null;
    }
    if (this.lastSecond !== ts[0]) {
      this.shown.clear();
      this.lastSecond = ts[0];
    }
    this.shown.add(raw);
    this.last = ts;
    return text;
  }

  /** sinceTime for the next connection (the second of the last line shown), or undefined before any line. */
  get sinceTime(): string | undefined {
    return this.lastSecond === null
      ? undefined
      : new Date(this.lastSecond * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

/**
 * Follow one runner pod's log until its container ended: the stream is resumed after any error or early end
 * (a server, proxy or kubelet closing it), from `sinceTime` with the lines already shown dropped, so nothing is
 * lost or repeated. Returns when the container ended (and its log was read to the end), or on abort.
 */
export async function followPodLog(input: {
  kube: PluginKube;
  namespace: string;
  podName: string;
  onLine: (line: string) => void;
  onStatus: (message: string) => void;
  signal: AbortSignal;
  /** Has the container ended? May wait up to waitMs for its status to say so. */
  ended: (waitMs: number) => Promise<boolean>;
  /** Pause before a resume after a failure, ms (doubled per failure in a row, at most 10 s). */
  backoffMs?: number;
}): Promise<void> {
  const { kube, namespace, podName, onLine, onStatus, signal } = input;
  const resume = new LogResume();
  let failures = 0;
  let lastPass = false;
  for (;;) {
    if (signal.aborted) return;
    let error: unknown = null;
    let delivered = 0;
    try {
      const since = resume.sinceTime;
      await kube.streamLogs(
        namespace,
        podName,
        RUNNER_CONTAINER,
        (raw) => {
          const line = resume.accept(raw);
          if (line === null) return;
          delivered += 1;
          onLine(line);
        },
        signal,
        { timestamps: true, ...(since ? { sinceTime: since } : {}) },
      );
    } catch (err) {
      error = err;
    }
    if (signal.aborted) return;
    // A clean end usually means the container ended; its status may take a moment to say so.
    const ended = await input.ended(error === null ? 2000 : 0);
    if (signal.aborted) return;
    if (ended) {
      // After a break, read once more: the container may have written its last lines meanwhile.
      if (error === null || lastPass) return;
      lastPass = true;
      continue;
    }
    if (error === null) {
      failures = delivered > 0 ? 0 : failures + 1;
    } else {
      failures += 1;
      onStatus(
        `log stream of ${podName} broke (${error instanceof Error ? error.message : String(error)}); resuming${resume.sinceTime ? ` from ${resume.sinceTime}` : ''}`,
      );
    }
    if (failures > 0) {
      const ms = Math.min(10_000, (input.backoffMs ?? 500) * 2 ** Math.min(failures - 1, 5));
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
