// Keeps one pod (watchPodLoop) or a collection of pods (watchPodsLoop) under watch for as long as asked: list,
// deliver, watch; re-list on 410 Gone, reconnect with jittered backoff.
import type { V1Pod } from '@kubernetes/client-node';
import type { PodHandler, PodsHandler, StopWatch } from '../ports.js';

/** What the loop needs from the API server; the real adapter wraps client-node's list call and Watch. */
export interface PodWatchSource {
  /** The pod now (null when absent) and the list's resourceVersion to watch from. */
  list(): Promise<{ pod: V1Pod | null; resourceVersion: string }>;
  /**
   * Start a watch from `resourceVersion`. `onEvent` gets each event's type and object (ERROR events carry
   * a Status, 410 when the version is too old); `onDone` is called once when the watch ends, with the
   * error if it failed (an HTTP 410 has `statusCode` 410). Resolves once the request is under way.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: string, object: unknown) => void,
    onDone: (err: unknown) => void,
  ): Promise<{ abort(): void }>;
}

/** The same for a collection (a namespace and label selector): the list's items instead of one pod. */
export interface PodsWatchSource {
  list(): Promise<{ pods: V1Pod[]; resourceVersion: string }>;
  watch: PodWatchSource['watch'];
}

export interface PodWatchOptions {
  /** First reconnect delay after a failure, ms (doubled per consecutive failure, jittered). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A watch that ends cleanly sooner than this counts as a failure (protects against tight loops). */
  minHealthyWatchMs?: number;
  /** Told about every list/watch failure the loop recovers from (for debug logs). */
  onError?: (err: unknown) => void;
  random?: () => number;
  now?: () => number;
}

/** Status code of a watch failure or ERROR event, when it has one. */
function statusCodeOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { statusCode?: unknown; code?: unknown };
  if (typeof v.statusCode === 'number') return v.statusCode;
  if (typeof v.code === 'number') return v.code;
  return undefined;
}

function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
}

function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

/**
 * Deliver the pod's current state, then every change, until stopped. Resolves once the first list
 * succeeded and the first watch started; rejects when the first list fails.
 */
export function watchPodLoop(
  source: PodWatchSource,
  handler: PodHandler,
  options: PodWatchOptions = {},
  toPod: (object: unknown) => V1Pod = (o) => o as V1Pod,
): Promise<StopWatch> {
  return listWatchLoop<{ pod: V1Pod | null; resourceVersion: string }>(
    source.list.bind(source),
    source.watch.bind(source),
    (listed) => handler(listed.pod),
    (type, object) => handler(type === 'DELETED' ? null : toPod(object)),
    options,
  );
}

/**
 * A collection watch: `sync` with every pod after the first list and after every re-list (410 Gone, a dropped
 * watch), then `upsert`/`delete` per event, until stopped. Resolves once the first list was delivered and the
 * first watch started; rejects when the first list fails.
 */
export function watchPodsLoop(
  source: PodsWatchSource,
  handler: PodsHandler,
  options: PodWatchOptions = {},
  toPod: (object: unknown) => V1Pod = (o) => o as V1Pod,
): Promise<StopWatch> {
  return listWatchLoop<{ pods: V1Pod[]; resourceVersion: string }>(
    source.list.bind(source),
    source.watch.bind(source),
    (listed) => handler({ type: 'sync', pods: listed.pods }),
    (type, object) =>
      handler(type === 'DELETED' ? { type: 'delete', pod: toPod(object) } : { type: 'upsert', pod: toPod(object) }),
    options,
  );
}

/** The loop both share: list, deliver the list, watch from its version, deliver ADDED/MODIFIED/DELETED. */
async function listWatchLoop<L extends { resourceVersion: string }>(
  list: () => Promise<L>,
  watch: PodWatchSource['watch'],
  onList: (listed: L) => void,
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown) => void,
  options: PodWatchOptions,
): Promise<StopWatch> {
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const minHealthyWatchMs = options.minHealthyWatchMs ?? 1_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;

  let stopped = false;
  let generation = 0; // bumps whenever a watch is over, so late callbacks of old watches are ignored
  let current: { abort(): void } | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;
  let resourceVersion = '';

  const deliver = (fn: () => void): void => {
    if (stopped) return;
    try {
      fn();
    } catch {
      // A failing handler must not end the watch; the engine reports its own errors.
    }
  };

  const backoffMs = (): number => {
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(failures - 1, 16));
    return ceiling / 2 + (random() * ceiling) / 2;
  };
  /** A short random pause before an immediate retry, so many watchers do not reconnect in lock-step. */
  const jitterMs = (): number => random() * 50;

  const schedule = (mode: 'relist' | 'resume', delayMs: number): void => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void run(mode);
    }, delayMs);
  };

  const fail = (err: unknown): void => {
    failures += 1;
    options.onError?.(err);
    schedule('relist', backoffMs());
  };

  const run = async (mode: 'relist' | 'resume'): Promise<void> => {
    if (stopped) return;
    try {
      if (mode === 'resume' && resourceVersion) await startWatch();
      else await relistAndWatch();
    } catch (err) {
      fail(err);
    }
  };

  const relistAndWatch = async (): Promise<void> => {
    const listed = await list();
    if (stopped) return;
    resourceVersion = listed.resourceVersion;
    deliver(() => onList(listed));
    await startWatch();
  };

  const startWatch = async (): Promise<void> => {
    const gen = ++generation;
    const startedAt = now();
    const end = (): boolean => {
      if (gen !== generation || stopped) return false;
      generation += 1;
      current = null;
      return true;
    };
    const handle = await watch(
      resourceVersion,
      (type, object) => {
        if (gen !== generation || stopped) return;
        const rv = resourceVersionOf(object);
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
          case 'DELETED':
            failures = 0;
            if (rv) resourceVersion = rv;
            deliver(() => onChange(type, object));
            return;
          case 'BOOKMARK':
            if (rv) resourceVersion = rv;
            return;
          case 'ERROR': {
            const gone = statusCodeOf(object) === 410;
            const watch = current;
            if (!end()) return;
            watch?.abort();
            if (gone) schedule('relist', jitterMs());
            else fail(Object.assign(new Error(`watch error event: ${JSON.stringify(object)}`), { status: object }));
            return;
          }
          default:
            return;
        }
      },
      (err) => {
        if (!end()) return;
        if (statusCodeOf(err) === 410) {
          schedule('relist', jitterMs());
        } else if ((err === null || err === undefined || isTimeout(err)) && now() - startedAt >= minHealthyWatchMs) {
          // The server (or the client's idle timer) closed a healthy watch: carry on from where it was.
          failures = 0;
          schedule('resume', jitterMs());
        } else {
          // Dropped or refused: reconnect after a backoff and re-list, delivering the current state again.
          fail(err ?? new Error('watch closed right after it started'));
        }
      },
    );
    if (gen !== generation || stopped) {
      handle.abort(); // ended (or stopped) while starting
      return;
    }
    current = handle;
  };

  await relistAndWatch();
  return () => {
    if (stopped) return;
    stopped = true;
    generation += 1;
    if (timer) clearTimeout(timer);
    timer = null;
    current?.abort();
    current = null;
  };
}
