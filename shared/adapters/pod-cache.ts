// One shared pod watch per namespace (an informer): getPod and watchPod are answered from it instead of a GET or a
// watch each. The consistency contract is written in shared/ports.ts (KubernetesPort) and docs/engine.md.
import type { V1Pod } from '@kubernetes/client-node';
import type { EventInput, ExecResult, KubernetesPort, PodHandler, PodsEvent, StopWatch } from '../ports.js';

/** Every pod a StatefulSet controller creates carries this label (CrateDB pods are always StatefulSet pods). */
export const STATEFULSET_POD_SELECTOR = 'statefulset.kubernetes.io/pod-name';
/** How long a read after our own deletePod waits for the watch to show it before it GETs instead. */
export const DEFAULT_FRESH_WAIT_MS = 2_000;
/** A namespace watch nobody read for this long (and no watchPod open on it) is stopped. */
export const DEFAULT_IDLE_MS = 120_000;
/** After a failed start (list refused, API down), reads go to the API server for this long before a new try. */
export const DEFAULT_RETRY_MS = 10_000;

export interface PodCacheOptions {
  /** Which pods are cached (default STATEFULSET_POD_SELECTOR); pods outside it are read with a GET. */
  labelSelector?: string;
  /** Aborted: every watch stops and reads go to the API server again (open watchPods are handed over). */
  signal?: AbortSignal;
  freshWaitMs?: number;
  idleMs?: number;
  retryMs?: number;
  /** Told when a namespace's watch cannot start (reads fall back to GETs). */
  onError?: (message: string) => void;
  now?: () => number;
}

/** Reads served and API requests saved or spent (benchmarks, tests). */
export interface PodCacheStats {
  /** Namespace watches started (one list + one watch each, plus the loop's re-lists). */
  starts: number;
  hits: number;
  /** Reads of a pod the cache does not hold: a GET each. */
  misses: number;
  /** Reads right after our own deletePod that waited for the watch. */
  freshWaits: number;
  /** ... of which the watch did not catch up in time: a GET each. */
  freshGets: number;
}

export interface CachedKubernetesPort extends KubernetesPort {
  readonly stats: PodCacheStats;
  /** Stop every watch; reads go to the API server from now on. Idempotent. */
  close(): void;
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * Does a pod with these labels match the selector? Equality-based selectors only (`k`, `!k`, `k=v`, `k==v`,
 * `k!=v`, comma-separated); null for any other syntax (set-based `in`/`notin`): the caller treats it as "unknown".
 */
export function selectorMatches(labels: Record<string, string> | undefined, selector: string): boolean | null {
  for (const raw of selector.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    if (/\s(in|notin)\s*\(/.test(part)) return null;
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^=!\s]+)$/.exec(part))) {
      if (labels && m[1]! in labels) return false;
    } else if ((m = /^([^=!\s]+)\s*!=\s*(.*)$/.exec(part))) {
      if (labels?.[m[1]!] === m[2]!.trim()) return false;
    } else if ((m = /^([^=!\s]+)\s*==?\s*(.*)$/.exec(part))) {
      if (labels?.[m[1]!] !== m[2]!.trim()) return false;
    } else if ((m = /^([^=!\s]+)$/.exec(part))) {
      if (!(labels && m[1]! in labels)) return false;
    } else return null;
  }
  return true;
}

/** The cached copy still shows a pod we deleted as if nothing happened (same uid, no deletionTimestamp). */
function staleAfterDelete(pod: V1Pod | undefined, deletedUid: string): boolean {
  return !!pod && pod.metadata?.uid === deletedUid && !pod.metadata?.deletionTimestamp;
}

interface Subscriber {
  name: string;
  handler: PodHandler;
  /** Something was delivered (the initial read is skipped when an event came first). */
  delivered: boolean;
  /** Set when the cache closed under it and an API server watch took over. */
  inner?: Promise<StopWatch | null>;
  stopped: boolean;
}

class NamespaceCache {
  pods = new Map<string, V1Pod>();
  /**
   * Names the watch has shown a pod under: a StatefulSet pod's name belongs to its StatefulSet, so once such a
   * name is absent from the cache the pod is gone (being re-created), not outside the selector: no GET needed.
   */
  readonly known = new Set<string>();
  readonly subscribers = new Set<Subscriber>();
  /** Our own deletePod(name, uid) the watch has not shown yet. */
  readonly deleted = new Map<string, string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  stop: StopWatch | null = null;
  /** The port's map entry of this cache (an idle stop removes only its own). */
  entry: object | null = null;
  lastUse: number;
  idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(now: number) {
    this.lastUse = now;
  }

  apply(event: PodsEvent): void {
    if (event.type === 'sync') {
      const before = this.pods;
      this.pods = new Map(event.pods.map((p) => [p.metadata?.name ?? '', p]));
      for (const name of this.pods.keys()) this.known.add(name);
      for (const name of new Set([...before.keys(), ...this.pods.keys()])) {
        const was = before.get(name);
        const now = this.pods.get(name);
        // A re-list delivers only what changed while the watch was down (or what it never saw).
        if (was?.metadata?.resourceVersion !== now?.metadata?.resourceVersion || !was !== !now) this.changed(name);
      }
      return;
    }
    const name = event.pod.metadata?.name ?? '';
    if (event.type === 'upsert') {
      this.pods.set(name, event.pod);
      this.known.add(name);
    } else {
      const current = this.pods.get(name);
      if (!current || current.metadata?.uid === event.pod.metadata?.uid) this.pods.delete(name);
    }
    this.changed(name);
  }

  private changed(name: string): void {
    const pod = this.pods.get(name);
    const deletedUid = this.deleted.get(name);
    if (deletedUid !== undefined && !staleAfterDelete(pod, deletedUid)) this.deleted.delete(name);
    for (const s of [...this.subscribers]) {
      if (s.name !== name || s.stopped || s.inner) continue;
      s.delivered = true;
      try {
        s.handler(pod ? clone(pod) : null);
      } catch {
        // A failing handler must not stop the deliveries to the others.
      }
    }
    const waiting = this.waiters.get(name);
    if (waiting) for (const w of [...waiting]) w();
  }

  /** Resolves true once `ok` holds for the cached pod, false after `ms`. */
  waitFor(name: string, ok: (pod: V1Pod | undefined) => boolean, ms: number): Promise<boolean> {
    if (ok(this.pods.get(name))) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const done = (value: boolean) => {
        clearTimeout(timer);
        set.delete(check);
        if (set.size === 0) this.waiters.delete(name);
        resolve(value);
      };
      const check = () => {
        if (ok(this.pods.get(name))) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      set.add(check);
    });
  }

  /** Release every waiter at once (the cache is closing; they fall back to a GET). */
  releaseWaiters(): void {
    for (const set of this.waiters.values()) for (const w of [...set]) w();
  }
}

/**
 * The KubernetesPort with pods read from one shared watch per namespace (`watchPods`, one list + one watch, re-listed
 * by the port on 410 Gone and after a dropped watch). Started lazily by the first pod read of a namespace. Every
 * other method, and every read the cache cannot answer, goes to `inner`.
 */
export function withPodCache(inner: KubernetesPort, options: PodCacheOptions = {}): CachedKubernetesPort {
  return new PodCachePort(inner, options);
}

interface CacheEntry {
  ready: Promise<NamespaceCache | null>;
  /** Set once the watch runs. */
  cache?: NamespaceCache;
  failedAt?: number;
}

class PodCachePort implements CachedKubernetesPort {
  readonly stats: PodCacheStats = { starts: 0, hits: 0, misses: 0, freshWaits: 0, freshGets: 0 };
  private readonly caches = new Map<string, CacheEntry>();
  private readonly selector: string;
  private readonly now: () => number;
  private closed = false;
  private readonly onAbort = () => this.close();

  constructor(
    private readonly inner: KubernetesPort,
    private readonly options: PodCacheOptions,
  ) {
    this.selector = options.labelSelector ?? STATEFULSET_POD_SELECTOR;
    this.now = options.now ?? Date.now;
    if (options.signal?.aborted) this.closed = true;
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    for (const [namespace, entry] of this.caches) {
      if (entry.cache) this.stopCache(namespace, entry.cache);
      else void entry.ready.then((cache) => cache && this.stopCache(namespace, cache));
    }
    this.caches.clear();
  }

  /** Stop one namespace's watch; open watchPods move to watches of their own on the API server. */
  private stopCache(namespace: string, cache: NamespaceCache): void {
    if (cache.idleTimer) clearTimeout(cache.idleTimer);
    cache.stop?.();
    cache.stop = null;
    cache.releaseWaiters();
    for (const s of cache.subscribers) {
      if (s.stopped || s.inner) continue;
      s.inner = this.inner
        .watchPod(namespace, s.name, (pod) => {
          if (!s.stopped) s.handler(pod);
        })
        .catch(() => null);
    }
    cache.subscribers.clear();
  }

  private cacheFor(namespace: string): Promise<NamespaceCache | null> {
    if (this.closed) return Promise.resolve(null);
    const entry = this.caches.get(namespace);
    if (
      entry &&
      !(entry.failedAt !== undefined && this.now() - entry.failedAt >= (this.options.retryMs ?? DEFAULT_RETRY_MS))
    )
      return entry.ready.then((c) => {
        if (c) this.touch(namespace, c);
        return c;
      });
    const started: CacheEntry = { ready: Promise.resolve(null) };
    started.ready = (async () => {
      const cache = new NamespaceCache(this.now());
      cache.entry = started;
      try {
        this.stats.starts += 1;
        const stop = await this.inner.watchPods(namespace, this.selector, (e) => cache.apply(e));
        if (this.closed || this.caches.get(namespace) !== started) {
          stop();
          return null;
        }
        cache.stop = stop;
        started.cache = cache;
        this.touch(namespace, cache);
        return cache;
      } catch (err) {
        started.failedAt = this.now();
        this.options.onError?.(
          `pod cache: cannot watch the pods of namespace ${namespace} (${err instanceof Error ? err.message : String(err)}); reading them one by one`,
        );
        return null;
      }
    })();
    this.caches.set(namespace, started);
    return started.ready;
  }

  private touch(namespace: string, cache: NamespaceCache): void {
    cache.lastUse = this.now();
    if (cache.idleTimer) return;
    const idleMs = this.options.idleMs ?? DEFAULT_IDLE_MS;
    const check = () => {
      cache.idleTimer = null;
      if (cache.stop === null) return;
      const idleFor = this.now() - cache.lastUse;
      if (cache.subscribers.size === 0 && idleFor >= idleMs) {
        if (this.caches.get(namespace) === cache.entry) this.caches.delete(namespace);
        this.stopCache(namespace, cache);
        return;
      }
      cache.idleTimer = setTimeout(check, Math.max(1, cache.subscribers.size ? idleMs : idleMs - idleFor));
      cache.idleTimer.unref?.();
    };
    cache.idleTimer = setTimeout(check, idleMs);
    cache.idleTimer.unref?.();
  }

  /** Is this pod one the cache covers (so the watch will tell about it)? */
  private covered(pod: V1Pod): boolean {
    return selectorMatches(pod.metadata?.labels, this.selector) === true;
  }

  /** The cache's answer (null: gone), or undefined when only a GET can tell. Applies the read-your-own-delete rule. */
  private async cached(cache: NamespaceCache, name: string): Promise<V1Pod | null | undefined> {
    const deletedUid = cache.deleted.get(name);
    if (deletedUid !== undefined && staleAfterDelete(cache.pods.get(name), deletedUid)) {
      this.stats.freshWaits += 1;
      const fresh = await cache.waitFor(
        name,
        (p) => !staleAfterDelete(p, deletedUid),
        this.options.freshWaitMs ?? DEFAULT_FRESH_WAIT_MS,
      );
      if (!fresh || cache.stop === null) {
        this.stats.freshGets += 1;
        return undefined;
      }
    }
    const hit = cache.pods.get(name);
    if (hit || cache.known.has(name)) {
      this.stats.hits += 1;
      return hit ? clone(hit) : null;
    }
    this.stats.misses += 1;
    return undefined;
  }

  // --- pods, from the cache -------------------------------------------------------------------

  async getPod(namespace: string, name: string): Promise<V1Pod | null> {
    const cache = await this.cacheFor(namespace);
    if (!cache) return this.inner.getPod(namespace, name);
    const answer = await this.cached(cache, name);
    return answer !== undefined ? answer : this.inner.getPod(namespace, name);
  }

  async watchPod(namespace: string, name: string, handler: PodHandler): Promise<StopWatch> {
    const cache = await this.cacheFor(namespace);
    if (!cache) return this.inner.watchPod(namespace, name, handler);
    const s: Subscriber = { name, handler, delivered: false, stopped: false };
    // Subscribe before reading, so no change between the read and the subscription is lost.
    cache.subscribers.add(s);
    const stop: StopWatch = () => {
      if (s.stopped) return;
      s.stopped = true;
      cache.subscribers.delete(s);
      void s.inner?.then((st) => st?.());
    };
    let first: V1Pod | null;
    try {
      const answer = await this.cached(cache, name);
      first = answer !== undefined ? answer : await this.inner.getPod(namespace, name);
    } catch (err) {
      stop();
      throw err;
    }
    if (first && !this.covered(first)) {
      // Not a pod the shared watch sees (no StatefulSet label): a watch of its own, as without the cache.
      stop();
      return this.inner.watchPod(namespace, name, handler);
    }
    if (!s.delivered && !s.stopped && !s.inner) {
      s.delivered = true;
      try {
        handler(first);
      } catch {
        // as the real adapter: a failing handler does not end the watch
      }
    }
    return stop;
  }

  async deletePod(namespace: string, name: string, opts: { gracePeriodSeconds: number; uid: string }): Promise<void> {
    await this.inner.deletePod(namespace, name, opts);
    const entry = this.caches.get(namespace);
    const cache = entry && !entry.failedAt ? await entry.ready : null;
    if (cache && opts.uid && staleAfterDelete(cache.pods.get(name), opts.uid)) cache.deleted.set(name, opts.uid);
  }

  // --- everything else, as it is ---------------------------------------------------------------

  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    return this.inner.listPods(namespace, labelSelector);
  }
  watchPods(...args: Parameters<KubernetesPort['watchPods']>): Promise<StopWatch> {
    return this.inner.watchPods(...args);
  }
  getStatefulSet(...args: Parameters<KubernetesPort['getStatefulSet']>) {
    return this.inner.getStatefulSet(...args);
  }
  listStatefulSets(...args: Parameters<KubernetesPort['listStatefulSets']>) {
    return this.inner.listStatefulSets(...args);
  }
  patchStatefulSetLabels(...args: Parameters<KubernetesPort['patchStatefulSetLabels']>) {
    return this.inner.patchStatefulSetLabels(...args);
  }
  getCrateDB(...args: Parameters<KubernetesPort['getCrateDB']>) {
    return this.inner.getCrateDB(...args);
  }
  readSecret(...args: Parameters<KubernetesPort['readSecret']>) {
    return this.inner.readSecret(...args);
  }
  exec(...args: Parameters<KubernetesPort['exec']>): Promise<ExecResult> {
    return this.inner.exec(...args);
  }
  openExec(...args: Parameters<KubernetesPort['openExec']>) {
    return this.inner.openExec(...args);
  }
  getLease(...args: Parameters<KubernetesPort['getLease']>) {
    return this.inner.getLease(...args);
  }
  createLease(...args: Parameters<KubernetesPort['createLease']>) {
    return this.inner.createLease(...args);
  }
  replaceLease(...args: Parameters<KubernetesPort['replaceLease']>) {
    return this.inner.replaceLease(...args);
  }
  deleteLease(...args: Parameters<KubernetesPort['deleteLease']>) {
    return this.inner.deleteLease(...args);
  }
  createEvent(namespace: string, event: EventInput): Promise<void> {
    return this.inner.createEvent(namespace, event);
  }
}
