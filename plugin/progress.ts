// Renders the runner's JSON-line log as progress: listr2 per pod and step on a TTY, plain lines otherwise,
// the raw JSON lines with -o json. The same sink serves Job mode (streamed logs) and --local (in-process logger).
// listr2 is loaded when a TTY progress starts, not at start-up (`--help` and bad input never need it).
import type { ListrTaskWrapper } from 'listr2';
import type { Colors, Writer } from './io.js';

/** One parsed log line of the runner / engine logger: {ts, level, msg, ...fields}. */
interface LogRecord {
  ts?: string;
  level?: string;
  msg: string;
  pod?: string;
  step?: string;
  strategy?: string;
  reason?: string;
  [field: string]: unknown;
}

/** Parse one runner log line; null when it is not a JSON object with a message. */
export function parseLogLine(line: string): LogRecord | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const rec = v as Record<string, unknown>;
      const msg = typeof rec.msg === 'string' ? rec.msg : typeof rec.message === 'string' ? rec.message : null;
      if (msg === null) return null;
      return { ...rec, msg } as LogRecord;
    }
  } catch {
    // not JSON: shown as is
  }
  return null;
}

export interface ProgressSink {
  /** A runner pod started: the first, or a retry after a crash (attempt > 1). */
  runnerPod(podName: string, attempt: number): void;
  /** A waiting runner pod (e.g. ImagePullBackOff); shown once per change. */
  status(message: string): void;
  /** One raw log line. */
  line(raw: string): void;
  /** The run ended; the renderer stops (listr2 finishes its last task). */
  close(ok: boolean): Promise<void>;
}

const PAD_LEVEL: Record<string, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' };

/** The pod a message is about, when the logger gave no `pod` field ("... for pod crate-2", "Pod crate-2 has been deleted"). */
export function podMentioned(msg: string): string | undefined {
  return /\b[Pp]od ([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?)\b/.exec(msg)?.[1];
}

/**
 * A heartbeat: the engine's periodic line while a wait lasts (`heartbeat: true`, shared/wait.ts). It is a status,
 * not an event, so it is rendered apart: `WAIT` in the level column of plain lines (dim with colour), a dim `…`
 * line as the task's output on a TTY. -o json passes the JSON line as it is.
 */
export function isHeartbeat(rec: LogRecord): boolean {
  return rec.heartbeat === true;
}

/** Plain-line level column of a heartbeat (where other lines say INFO). */
const HEARTBEAT_TAG = 'WAIT ';

/** The text a listr2 task shows for a line: `step: message`, a heartbeat as a dim `… message`. */
export function taskOutput(rec: LogRecord, c: Colors): string {
  if (isHeartbeat(rec)) return c.dim(`… ${rec.msg}`);
  return rec.step ? `${rec.step}: ${rec.msg}` : rec.msg;
}

/**
 * Plain lines: `HH:MM:SS LEVEL [pod] step: message` (debug lines hidden unless verbose); a heartbeat
 * `HH:MM:SS WAIT  [pod] Waiting for ...`, the whole line dim with colour.
 */
export function plainProgress(out: Writer, c: Colors, opts: { verbose?: boolean } = {}): ProgressSink {
  const time = (ts: unknown) => (typeof ts === 'string' && ts.length >= 19 ? ts.slice(11, 19) : '');
  return {
    runnerPod(podName, attempt) {
      out.write(
        `${c.dim(attempt > 1 ? `runner pod ${podName} (attempt ${attempt}, resuming the same operation)` : `runner pod ${podName}`)}\n`,
      );
    },
    status(message) {
      out.write(`${c.dim(message)}\n`);
    },
    line(raw) {
      const rec = parseLogLine(raw);
      if (!rec) {
        if (raw.trim().length > 0) out.write(`${raw}\n`);
        return;
      }
      const level = (rec.level ?? 'info').toLowerCase();
      if (level === 'debug' && !opts.verbose) return;
      if (isHeartbeat(rec) && level === 'info') {
        const t = time(rec.ts);
        out.write(`${c.dim(`${t ? `${t} ` : ''}${HEARTBEAT_TAG} ${rec.pod ? `[${rec.pod}] ` : ''}${rec.msg}`)}\n`);
        return;
      }
      let lvl = PAD_LEVEL[level] ?? level.toUpperCase();
      if (level === 'warn') lvl = c.yellow(lvl);
      if (level === 'error') lvl = c.red(lvl);
      const pod = rec.pod ? `[${rec.pod}] ` : '';
      const t = time(rec.ts);
      out.write(`${t ? `${c.dim(t)} ` : ''}${lvl} ${pod}${rec.msg}\n`);
    },
    async close() {},
  };
}

/** -o json: the runner's lines untouched (JSON lines), on the given writer. */
export function jsonProgress(out: Writer): ProgressSink {
  return {
    runnerPod(podName, attempt) {
      out.write(
        `${JSON.stringify({ ts: new Date().toISOString(), level: 'info', msg: `runner pod ${podName}`, runnerPod: podName, attempt })}\n`,
      );
    },
    status(message) {
      out.write(`${JSON.stringify({ ts: new Date().toISOString(), level: 'info', msg: message })}\n`);
    },
    line(raw) {
      if (raw.trim().length > 0) out.write(`${raw}\n`);
    },
    async close() {},
  };
}

interface ActiveTask {
  key: string;
  task: ListrTaskWrapper<unknown, never, never> | null;
  pending: string[];
  finish: (ok: boolean, error?: string) => void;
  done: Promise<void>;
  failed: string | null;
}

/**
 * listr2 on a TTY: one task per pod (and one for cluster-level steps: pre-flight, health gate), titled by
 * what it is about, its output the current step. A rollout moves one pod at a time, so tasks run one
 * after another and stay on screen as a list.
 */
export function listrProgress(
  c: Colors,
  opts: { renderer?: 'default' | 'simple' | 'test' | 'silent' } = {},
): ProgressSink {
  let active: ActiveTask | null = null;
  let listr2: Promise<typeof import('listr2')> | null = null;
  const start = async (key: string, title: string): Promise<ActiveTask> => {
    const { Listr } = await (listr2 ??= import('listr2'));
    let finish: ActiveTask['finish'] = () => {};
    const entry: ActiveTask = { key, task: null, pending: [], finish: () => {}, done: Promise.resolve(), failed: null };
    const settled = new Promise<void>((resolve, reject) => {
      finish = (ok, error) => (ok ? resolve() : reject(new Error(error ?? `${title} failed`)));
    });
    entry.finish = finish;
    const listr = new Listr(
      [
        {
          title,
          task: (_ctx, task) => {
            entry.task = task as unknown as ListrTaskWrapper<unknown, never, never>;
            for (const p of entry.pending.splice(0)) task.output = p;
            return settled;
          },
          rendererOptions: { persistentOutput: true, outputBar: 1 },
        },
      ],
      {
        renderer: opts.renderer ?? 'default',
        registerSignalListeners: false,
        exitOnError: false,
        collectErrors: false,
      },
    );
    entry.done = listr.run().then(
      () => undefined,
      () => undefined,
    );
    return entry;
  };
  const output = (entry: ActiveTask, text: string) => {
    if (entry.task) entry.task.output = text;
    else entry.pending.push(text);
  };
  const switchTo = async (key: string, title: string): Promise<ActiveTask> => {
    if (active && active.key === key) return active;
    if (active) {
      active.finish(active.failed === null, active.failed ?? undefined);
      await active.done;
    }
    active = await start(key, title);
    return active;
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    runnerPod(podName, attempt) {
      if (attempt > 1) {
        queue = queue.then(async () =>
          output(await switchTo(`runner:${podName}`, c.yellow(`runner restarted as ${podName}: resuming`)), 'resuming'),
        );
      }
    },
    status(message) {
      queue = queue.then(async () => output(await switchTo('status', 'waiting for the runner'), message));
    },
    line(raw) {
      const rec = parseLogLine(raw);
      queue = queue.then(async () => {
        if (!rec) {
          if (raw.trim().length > 0) output(await switchTo('cluster', 'cluster'), raw);
          return;
        }
        if ((rec.level ?? 'info') === 'debug') return;
        // Lines without a pod field stay with the task they follow ("No dc_util configured..." belongs to its pod).
        const pod = rec.pod ?? podMentioned(rec.msg);
        const entry = pod
          ? await switchTo(`pod:${pod}`, `pod ${pod}`)
          : (active ?? (await switchTo('cluster', 'cluster')));
        if (rec.level === 'error') entry.failed = rec.msg;
        output(entry, taskOutput(rec, c));
      });
    },
    async close(ok) {
      await queue;
      if (active) {
        const a: ActiveTask = active;
        a.finish(ok && a.failed === null, a.failed ?? 'failed');
        await a.done;
        active = null;
      }
    },
  };
}
