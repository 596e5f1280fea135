// Waiting without sleeping: pod changes by watch (racing a timeout timer), CrateDB state by
// polling (the only thing that is polled): at an interval, or with a backoff from a short first pause up to it.
// Every wait also beats: a progress line at least every heartbeat interval saying what it waits for, the state
// seen (the pod's phase and conditions, the cluster's moving shards, the draining node's jobs), how long it has
// waited and how long is left; and one Kubernetes Event once a wait passes a minute.
import type { V1Pod } from '@kubernetes/client-node';
import { TimeoutError, messageOf } from './errors.js';
import { systemClock } from './clock.js';
import type { Clock, KubernetesPort, LogFields, Logger } from './ports.js';

/** Default interval of the progress lines while a wait lasts (plugin/runner flag --heartbeat). */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** A wait longer than this gets one Kubernetes Event (not one per heartbeat). */
const LONG_WAIT_EVENT_MS = 60_000;

/** Concrete state for a heartbeat line: a short text and the same as fields (JSON logs). */
export interface WaitState {
  text: string;
  fields?: LogFields;
}

export interface Heartbeat {
  log: Logger;
  /** What is waited for, as the rest of "Waiting for ...": e.g. "pod crate-2 to terminate (dc_util drains node crate-2)". */
  what: string;
  /** ms between progress lines (default DEFAULT_HEARTBEAT_MS); 0 turns them off. */
  intervalMs?: number;
  /** Read at each beat (e.g. SQL through another node); a failure is shown as "state unknown: ...". */
  state?: (signal: AbortSignal) => Promise<WaitState | null>;
  /** Called once when the wait passes LONG_WAIT_EVENT_MS, with the heartbeat line (a Kubernetes Event). */
  onLong?: (line: string) => Promise<void>;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Message of the TimeoutError (default names the pod and the timeout). */
  timeoutMessage?: string;
  /** Progress lines while the wait lasts. */
  heartbeat?: Heartbeat;
}

/** 90 -> "1m30s", 45 -> "45s", 3700 -> "1h1m40s". */
export function formatSeconds(totalSeconds: number): string {
  const t = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec || (!h && !m) ? `${sec}s` : ''}`;
}

/** The pod as a heartbeat sees it: phase, conditions, containers, terminating for how long. */
function describePod(pod: V1Pod | null, now: number): WaitState {
  if (!pod) return { text: 'pod absent', fields: { pod: null } };
  const phase = pod.status?.phase ?? 'Unknown';
  const conditions = (pod.status?.conditions ?? []).map(
    (c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`,
  );
  const containers = (pod.status?.containerStatuses ?? []).map((c) => {
    const st = c.state?.terminated
      ? `terminated (exit ${c.state.terminated.exitCode}${c.state.terminated.reason ? `, ${c.state.terminated.reason}` : ''})`
      : c.state?.waiting
        ? `waiting (${c.state.waiting.reason ?? '?'})`
        : c.state?.running
          ? 'running'
          : 'unknown';
    return `${c.name} ${st}${c.restartCount ? `, ${c.restartCount} restarts` : ''}`;
  });
  const del = pod.metadata?.deletionTimestamp;
  const terminatingForSeconds = del
    ? Math.max(0, (now - new Date(del).getTime()) / 1000 + (pod.metadata?.deletionGracePeriodSeconds ?? 0))
    : null;
  const parts = [`pod ${phase}`];
  if (del)
    parts.push(
      `terminating${pod.metadata?.deletionGracePeriodSeconds !== undefined ? ` (grace period ${pod.metadata.deletionGracePeriodSeconds}s)` : ''}`,
    );
  if (conditions.length) parts.push(conditions.join(', '));
  if (containers.length) parts.push(`containers: ${containers.join(', ')}`);
  return {
    text: parts.join(', '),
    fields: {
      pod: {
        uid: pod.metadata?.uid ?? null,
        phase,
        conditions: Object.fromEntries((pod.status?.conditions ?? []).map((c) => [c.type, c.status])),
        containers: containers,
        terminating: !!del,
        ...(terminatingForSeconds !== null
          ? { deletionGracePeriodSeconds: pod.metadata?.deletionGracePeriodSeconds ?? null }
          : {}),
      },
    },
  };
}

/**
 * Beat while a wait lasts: every intervalMs one info line `Waiting for <what>: <state> (waited 1m30s, 10m30s left
 * of the 12m timeout)` with the same as fields (`wait`), and once past a minute `onLong`. Returns the stop function
 * (call it when the wait ends). Never throws; a beat never overlaps the next.
 */
export function startHeartbeat(
  hb: Heartbeat | undefined,
  opts: { clock: Clock; timeoutMs: number; signal?: AbortSignal; pod?: () => V1Pod | null | undefined },
): () => void {
  const intervalMs = hb?.intervalMs ?? DEFAULT_HEARTBEAT_MS;
  if (!hb || intervalMs <= 0) return () => {};
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const { clock } = opts;
  const started = clock.now();
  let longSent = false;
  const beat = async () => {
    const waitedSeconds = (clock.now() - started) / 1000;
    const timeoutSeconds = opts.timeoutMs / 1000;
    const parts: string[] = [];
    const fields: LogFields = {};
    const pod = opts.pod?.();
    if (pod !== undefined) {
      const p = describePod(pod, clock.now());
      parts.push(p.text);
      Object.assign(fields, p.fields);
    }
    if (hb.state) {
      try {
        const st = await withTimeout(hb.state(signal), Math.min(intervalMs, 10_000), clock, signal);
        if (st) {
          parts.push(st.text);
          Object.assign(fields, st.fields);
        }
      } catch (err) {
        if (signal.aborted) return;
        parts.push(`state unknown: ${messageOf(err)}`);
      }
    }
    if (signal.aborted) return;
    const leftSeconds = Math.max(0, timeoutSeconds - waitedSeconds);
    const line = `Waiting for ${hb.what}${parts.length ? `: ${parts.join('; ')}` : ''} (waited ${formatSeconds(waitedSeconds)}, ${formatSeconds(leftSeconds)} left of the ${formatSeconds(timeoutSeconds)} timeout)`;
    hb.log.info(line, {
      heartbeat: true,
      wait: {
        what: hb.what,
        waitedSeconds: Math.round(waitedSeconds),
        leftSeconds: Math.round(leftSeconds),
        timeoutSeconds: Math.round(timeoutSeconds),
        ...fields,
      },
    });
    if (!longSent && waitedSeconds * 1000 >= LONG_WAIT_EVENT_MS && hb.onLong) {
      longSent = true;
      await hb.onLong(line).catch(() => {});
    }
  };
  void (async () => {
    for (;;) {
      try {
        await clock.delay(intervalMs, signal);
      } catch {
        return;
      }
      if (signal.aborted) return;
      try {
        await beat();
      } catch {
        // a heartbeat never fails the wait
      }
    }
  })();
  return () => stop.abort(new Error('wait over'));
}

async function withTimeout<T>(p: Promise<T>, ms: number, clock: Clock, signal: AbortSignal): Promise<T> {
  const stop = new AbortController();
  const any = AbortSignal.any([signal, stop.signal]);
  try {
    return await Promise.race([
      p,
      clock.delay(ms, any).then(() => {
        throw new Error(`no answer within ${formatSeconds(ms / 1000)}`);
      }),
    ]);
  } finally {
    stop.abort();
  }
}

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  return new Error(typeof r === 'string' ? r : 'Operation aborted');
}

/**
 * Resolve with the pod's state (null = absent) once `predicate` holds for it, watching the pod
 * by name; reject with TimeoutError after timeoutMs, or with the abort reason.
 */
export function waitForPod(
  kube: KubernetesPort,
  namespace: string,
  name: string,
  predicate: (pod: V1Pod | null) => boolean,
  options: WaitOptions,
): Promise<V1Pod | null> {
  const clock = options.clock ?? systemClock;
  const signal = options.signal;
  return new Promise<V1Pod | null>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let settled = false;
    let stop: (() => void) | undefined;
    let lastPod: V1Pod | null | undefined;
    const timer = new AbortController();
    const stopBeat = startHeartbeat(options.heartbeat, {
      clock,
      timeoutMs: options.timeoutMs,
      ...(signal ? { signal } : {}),
      pod: () => lastPod,
    });
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      timer.abort();
      stopBeat();
      signal?.removeEventListener('abort', onAbort);
      stop?.();
      fn();
    };
    const onAbort = () => finish(() => reject(abortReason(signal!)));
    signal?.addEventListener('abort', onAbort, { once: true });
    clock.delay(options.timeoutMs, timer.signal).then(
      () =>
        finish(() =>
          reject(
            new TimeoutError(
              options.timeoutMessage ??
                `Timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for pod ${namespace}/${name}`,
            ),
          ),
        ),
      () => {},
    );
    kube
      .watchPod(namespace, name, (pod) => {
        if (settled) return;
        lastPod = pod;
        let ok: boolean;
        try {
          ok = predicate(pod);
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        if (ok) finish(() => resolve(pod));
      })
      .then(
        (s) => {
          if (settled) s();
          else stop = s;
        },
        (err: unknown) => finish(() => reject(err)),
      );
  });
}

/** The first re-poll of a backoff poll (pollUntil's firstIntervalMs) for a state expected within moments. */
export const FIRST_POLL_MS = 100;

/** The pause before poll number `attempt` (0 = the first re-poll): firstMs, doubling, never above maxMs. */
export function backoffMs(attempt: number, firstMs: number, maxMs: number): number {
  const first = Math.max(1, Math.min(firstMs, maxMs));
  return Math.min(maxMs, first * 2 ** Math.min(attempt, 30));
}

/**
 * Poll `probe` until it returns a non-undefined value; TimeoutError after timeoutMs. Errors thrown by probe
 * propagate. The pauses: intervalMs each, or with `firstIntervalMs` a backoff from it (doubling) up to intervalMs,
 * for a state that usually comes soon (a node rejoining right after its pod is Ready) and is then seen within
 * milliseconds instead of at the next full interval; a longer wait settles at intervalMs.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: WaitOptions & { intervalMs: number; firstIntervalMs?: number },
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  const stopBeat = startHeartbeat(options.heartbeat, {
    clock,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw abortReason(options.signal);
      const value = await probe();
      if (value !== undefined) return value;
      if (clock.now() >= deadline)
        throw new TimeoutError(options.timeoutMessage ?? `Timed out after ${Math.round(options.timeoutMs / 1000)}s`);
      const pause =
        options.firstIntervalMs === undefined
          ? options.intervalMs
          : backoffMs(attempt, options.firstIntervalMs, options.intervalMs);
      await clock.delay(Math.min(pause, Math.max(0, deadline - clock.now())), options.signal);
    }
  } finally {
    stopBeat();
  }
}

/** Is the pod Ready (its Ready condition True)? The one definition: discovery, the waits, the health gate. */
export function podReady(pod: V1Pod | null | undefined): boolean {
  return !!pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
