// Waiting without sleeping: pod changes by watch (racing a timeout timer), CrateDB state by
// polling at an interval (the only thing that is polled).
import type { V1Pod } from '@kubernetes/client-node';
import { TimeoutError } from './errors.js';
import { systemClock } from './clock.js';
import type { Clock, KubernetesPort } from './ports.js';

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Message of the TimeoutError (default names the pod and the timeout). */
  timeoutMessage?: string;
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
    const timer = new AbortController();
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
      stop?.();
      fn();
    };
    const onAbort = () => finish(() => reject(abortReason(signal!)));
    signal?.addEventListener('abort', onAbort, { once: true });
    clock.delay(options.timeoutMs, timer.signal).then(
      () =>
        finish(() =>
          reject(new TimeoutError(options.timeoutMessage ?? `Timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for pod ${namespace}/${name}`)),
        ),
      () => {},
    );
    kube
      .watchPod(namespace, name, (pod) => {
        if (settled) return;
        let ok = false;
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

/**
 * Poll `probe` every intervalMs until it returns a non-undefined value; TimeoutError after
 * timeoutMs. Errors thrown by probe propagate.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: WaitOptions & { intervalMs: number },
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  for (;;) {
    if (options.signal?.aborted) throw abortReason(options.signal);
    const value = await probe();
    if (value !== undefined) return value;
    if (clock.now() >= deadline) throw new TimeoutError(options.timeoutMessage ?? `Timed out after ${Math.round(options.timeoutMs / 1000)}s`);
    await clock.delay(Math.min(options.intervalMs, Math.max(0, deadline - clock.now())), options.signal);
  }
}

export function podReady(pod: V1Pod | null | undefined): boolean {
  return !!pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
