// The plugin's narrow port to the Kubernetes API (generic objects, access review, a Job's pods and logs),
// and its real adapter on @kubernetes/client-node. Tests use an in-memory fake with the same contract.
import {
  ApiException,
  AuthorizationV1Api,
  KubernetesObjectApi,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { fetch, getGlobalDispatcher, type Dispatcher } from 'undici';
import { toKubeApiError } from './kube-errors.js';
import { KubeApiError } from '../errors.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects (ClusterRole, ClusterRoleBinding). */
  namespace?: string;
  name: string;
}

/** A Job and its pods, as last seen. */
export interface JobSnapshot {
  job: V1Job | null;
  pods: V1Pod[];
}

export type StopObserving = () => void;

export interface AccessReview {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

/** --dry-run=server: the API server validates and admits the write but does not persist it. */
export interface WriteOptions {
  dryRun?: boolean;
}

export interface PluginKube {
  /** null when absent (404). Throws KubeApiError otherwise. */
  get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef): Promise<T | null>;
  list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector?: string,
  ): Promise<T[]>;
  /** KubeApiError 409 when it exists. `dryRun`: sent with dryRun=All (admission runs, nothing persists). */
  create<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** Replace the whole object (read its resourceVersion first). */
  replace<T extends KubernetesObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** false when it was already absent. */
  delete(
    ref: ObjectRef,
    opts?: { gracePeriodSeconds?: number; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } & WriteOptions,
  ): Promise<boolean>;
  /** SelfSubjectAccessReview: may the current user do this? */
  canI(review: AccessReview): Promise<{ allowed: boolean; reason?: string }>;
  /**
   * Watch a Job and its pods (label batch.kubernetes.io/job-name); the handler gets the current
   * snapshot first and after every change. Resolves once watching.
   */
  observeJob(namespace: string, jobName: string, onChange: (snap: JobSnapshot) => void): Promise<StopObserving>;
  /**
   * Stream a container's log line by line (from the start, or from `sinceTime`), following it: resolves when
   * the stream ends cleanly (the container ended, or the server closed it) or the signal aborts; rejects when
   * the request fails or the connection breaks. A follow stream has no body/idle timeout: a runner may be
   * silent for as long as it waits. One connection: resuming is the caller's job (followPodLog).
   */
  streamLogs(
    namespace: string,
    pod: string,
    container: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
    opts?: LogStreamOptions,
  ): Promise<void>;
}

export interface LogStreamOptions {
  /** RFC 3339 (second precision, as the API takes it): only lines written at or after it. */
  sinceTime?: string;
  /** Prefix every line with the kubelet's RFC 3339 (nano) timestamp and a space. */
  timestamps?: boolean;
}

function describe(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** The real adapter. */
export function createPluginKube(kc: KubeConfig): PluginKube {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const header = (ref: ObjectRef) => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  });

  return {
    async get<T extends KubernetesObject>(ref: ObjectRef) {
      try {
        return (await objects.read(header(ref))) as T;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return null;
        throw toKubeApiError(err, `get ${describe(ref)}`);
      }
    },
    async list<T extends KubernetesObject>(
      apiVersion: string,
      kind: string,
      namespace: string | undefined,
      labelSelector?: string,
    ) {
      try {
        const res = await objects.list<T>(
          apiVersion,
          kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          labelSelector,
        );
        return res.items;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return [];
        throw toKubeApiError(err, `list ${kind}${namespace ? ` in ${namespace}` : ''}`);
      }
    },
    async create<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}) {
      try {
        return await objects.create(obj, undefined, opts.dryRun ? 'All' : undefined);
      } catch (err) {
        throw toKubeApiError(err, `create ${obj.kind} ${obj.metadata?.name ?? ''}`);
      }
    },
    async replace<T extends KubernetesObject>(obj: T, opts: WriteOptions = {}) {
      try {
        return await objects.replace(obj, undefined, opts.dryRun ? 'All' : undefined);
      } catch (err) {
        throw toKubeApiError(err, `replace ${obj.kind} ${obj.metadata?.name ?? ''}`);
      }
    },
    async delete(ref, opts = {}) {
      try {
        await objects.delete(
          header(ref),
          undefined,
          opts.dryRun ? 'All' : undefined,
          opts.gracePeriodSeconds,
          undefined,
          opts.propagationPolicy,
        );
        return true;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return false;
        throw toKubeApiError(err, `delete ${describe(ref)}`);
      }
    },
    async canI(review) {
      try {
        const res = await authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                namespace: review.namespace,
                verb: review.verb,
                group: review.group,
                resource: review.resource,
                ...(review.subresource ? { subresource: review.subresource } : {}),
              },
            },
          },
        });
        return { allowed: res.status?.allowed === true, ...(res.status?.reason ? { reason: res.status.reason } : {}) };
      } catch (err) {
        throw toKubeApiError(err, 'create SelfSubjectAccessReview');
      }
    },
    observeJob: (namespace, jobName, onChange) => observeJobWithWatches(kc, objects, namespace, jobName, onChange),
    streamLogs: (namespace, pod, container, onLine, signal, opts) =>
      streamLogsWithClient(kc, namespace, pod, container, onLine, signal, opts),
  };
}

/** List then watch the Job (by name) and its pods (by label); re-list on any watch end (410 Gone included). */
/**
 * How long a watch may be silent before client-node ends it (its default is 30 s). The apiserver ends a watch itself
 * after its request timeout (minutes); a silent one is resumed from its last resourceVersion either way, so this
 * only bounds how long a dead connection goes unnoticed.
 */
export const JOB_WATCH_IDLE_MS = 90_000;

async function observeJobWithWatches(
  kc: KubeConfig,
  objects: KubernetesObjectApi,
  namespace: string,
  jobName: string,
  onChange: (snap: JobSnapshot) => void,
): Promise<StopObserving> {
  let stopped = false;
  let job: V1Job | null = null;
  const pods = new Map<string, V1Pod>();
  const current = new Set<AbortController>();
  // No snapshot before both first lists answered: a snapshot from the pod list alone would say `job: null`, which
  // a follower reads as "the Job was deleted" (seen in the contract test on the test cluster, when the pod list
  // answered first).
  let jobListed = false;
  let podsListed = false;
  const emit = () => {
    if (!stopped && jobListed && podsListed) onChange({ job, pods: [...pods.values()] });
  };
  const watch = new Watch(kc);
  // A private field in client-node's types (public in its JavaScript): were it renamed, watches would end after
  // 30 s of silence again and simply be resumed more often.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = JOB_WATCH_IDLE_MS;

  /**
   * LIST once, then WATCH from the list's resourceVersion; a watch that ends (the apiserver's timeout, a silent
   * connection, a dropped one) is resumed from the last resourceVersion it delivered (bookmarks included), as an
   * informer does: no new LIST. Only an ERROR event (410 Gone: that version is compacted) or a failed request
   * lists again.
   */
  const follow = <T extends { metadata?: { resourceVersion?: string } }>(spec: {
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
    listed: (items: T[]) => void;
    path: string;
    query: Record<string, string>;
    changed: (phase: string, obj: T) => void;
  }) => {
    let rv: string | undefined;
    const run = async (): Promise<void> => {
      if (stopped) return;
      try {
        if (rv === undefined) {
          const list = await spec.list();
          spec.listed(list.items);
          rv = list.metadata?.resourceVersion;
        }
        let ctl: AbortController | undefined = undefined;
        ctl = await watch.watch(
          spec.path,
          { ...spec.query, resourceVersion: rv, allowWatchBookmarks: true },
          (phase, obj: T) => {
            if (phase === 'ERROR') {
              rv = undefined; // 410 Gone (or another failure the apiserver reports in the stream): list again
              return;
            }
            if (obj?.metadata?.resourceVersion) rv = obj.metadata.resourceVersion;
            if (phase !== 'BOOKMARK') spec.changed(phase, obj);
          },
          (err: unknown) => {
            if (ctl) current.delete(ctl);
            // A failure before the stream (the watch request refused, e.g. 410 on start): list again. A stream
            // that ended or went silent: resume from rv.
            if (err && (err as { statusCode?: unknown }).statusCode !== undefined) rv = undefined;
            restartSoon(run);
          },
        );
        if (stopped) ctl.abort();
        else if (!ctl.signal.aborted) current.add(ctl); // aborted: it ended already (done ran)
      } catch {
        rv = undefined;
        restartSoon(run);
      }
    };
    return run;
  };

  const runJobWatch = follow<V1Job>({
    list: () =>
      objects.list<V1Job>('batch/v1', 'Job', namespace, undefined, undefined, undefined, `metadata.name=${jobName}`),
    listed: (items) => {
      job = items[0] ?? null;
      jobListed = true;
      emit();
    },
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    query: { fieldSelector: `metadata.name=${jobName}` },
    changed: (phase, obj) => {
      job = phase === 'DELETED' ? null : obj;
      emit();
    },
  });
  const selector = `batch.kubernetes.io/job-name=${jobName}`;
  const runPodWatch = follow<V1Pod>({
    list: () => objects.list<V1Pod>('v1', 'Pod', namespace, undefined, undefined, undefined, undefined, selector),
    listed: (items) => {
      pods.clear();
      for (const p of items) pods.set(p.metadata?.name ?? '', p);
      podsListed = true;
      emit();
    },
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector: selector },
    changed: (phase, obj) => {
      const name = obj.metadata?.name ?? '';
      if (phase === 'DELETED') pods.delete(name);
      else pods.set(name, obj);
      emit();
    },
  });
  // A dropped watch is re-established after a short back-off (not a poll: it only runs when the watch ended).
  // The timer keeps the process alive: while the Job waits to retry (its backoff reaches 40 s at the third retry)
  // nothing else may be open; an unref'd timer let Node exit 13 ("unsettled top-level await"). stop() clears it.
  const timers = new Set<NodeJS.Timeout>();
  const restartSoon = (fn: () => Promise<void>) => {
    if (stopped) return;
    const t = setTimeout(() => {
      timers.delete(t);
      void fn();
    }, 500);
    timers.add(t);
  };
  await Promise.all([runJobWatch(), runPodWatch()]);
  return () => {
    stopped = true;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    for (const c of current) c.abort();
    current.clear();
  };
}

/**
 * undici ends a response body that is silent for `bodyTimeout` (300 s by default: "BodyTimeoutError: HTTP/2:
 * stream timeout after 300000"); client-node's Agent keeps that default. A followed log is silent for as long
 * as the runner waits, so its request gets no body timeout (per request, also over HTTP/2).
 */
export function withoutBodyTimeout(dispatcher: Dispatcher | undefined): Dispatcher {
  return (dispatcher ?? getGlobalDispatcher()).compose(
    (dispatch) => (opts, handler) => dispatch({ ...opts, bodyTimeout: 0 }, handler),
  );
}

/**
 * Follow one container's log over fetch, reading the body as a web stream (no Node stream, so no 'error'
 * event can go unhandled; client-node's Log pipes a stream whose errors nobody listens to). The kubeconfig's
 * authentication and TLS come from client-node's RequestContext, as for its own calls.
 */
async function streamLogsWithClient(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  onLine: (line: string) => void,
  signal: AbortSignal,
  opts: LogStreamOptions = {},
): Promise<void> {
  if (signal.aborted) return;
  const what = `logs of pod ${namespace}/${pod}`;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeApiError(0, 'NoCluster', `${what}: no current cluster in the kubeconfig`);
  const url = new URL(
    `${cluster.server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
  );
  url.searchParams.set('container', container);
  url.searchParams.set('follow', 'true');
  if (opts.timestamps) url.searchParams.set('timestamps', 'true');
  if (opts.sinceTime) url.searchParams.set('sinceTime', opts.sinceTime);
  const request = new RequestContext(url.toString(), HttpMethod.GET);
  try {
    await kc.applySecurityAuthentication(request);
  } catch (err) {
    throw toKubeApiError(err, what);
  }
  const splitter = lineSplitter(onLine);
  try {
    const res = await fetch(url, {
      method: 'GET',
      headers: request.getHeaders(),
      dispatcher: withoutBodyTimeout(request.getDispatcher() as Dispatcher | undefined),
      signal,
    });
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      let message = text.trim() || res.statusText;
      let reason = res.statusText || 'Error';
      try {
        const st = JSON.parse(text) as { message?: unknown; reason?: unknown };
        if (typeof st.message === 'string') message = st.message;
        if (typeof st.reason === 'string') reason = st.reason;
      } catch {
        // a plain-text answer (e.g. the kubelet's "container ... is waiting to start")
      }
      throw new KubeApiError(res.status, reason, `${what}: ${message}`);
    }
    if (!res.body) return;
    const decoder = new TextDecoder();
    for await (const chunk of res.body) splitter.push(decoder.decode(chunk, { stream: true }));
    // A clean end: the last line may lack its newline. After a break it is dropped (the resume sends it whole).
    splitter.push(decoder.decode());
    splitter.flush();
  } catch (err) {
    if (signal.aborted) return;
    if (err instanceof KubeApiError) throw err;
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new KubeApiError(0, 'StreamBroken', `${what}: ${err instanceof Error ? err.message : String(err)}${cause}`, {
      cause: err,
    });
  }
}

/** Cut a byte stream into lines (a last partial line is delivered on flush). */
export function lineSplitter(onLine: (line: string) => void): { push(text: string): void; flush(): void } {
  let buf = '';
  return {
    push(text) {
      buf += text;
      let i: number;
      while ((i = buf.indexOf('\n')) !== -1) {
        const line = buf.slice(0, i).replace(/\r$/, '');
        buf = buf.slice(i + 1);
        onLine(line);
      }
    },
    flush() {
      if (buf.length > 0) onLine(buf);
      buf = '';
    },
  };
}
