// The real KubernetesPort: plain JSON requests to the API server (the kubeconfig's authentication and TLS, as
// client-node applies them), client-node's Watch for the self-healing pod watch, its Exec for exec over websockets.
//
// No generated API class and no ObjectSerializer (issue 9 item 2, runner peak RSS): client-node's CoreV1Api and the
// other API classes come with its serializer and its ~900 model classes, 1 MB of the runner's 3.4 MB bundle and
// about 10 MiB of its memory, and the serializer turns every pod of every watch event into class instances with Date
// objects. Objects are the API server's JSON as it is (times are RFC 3339 strings; the engine reads them as
// `Date | string`); what is sent is JSON.stringify of the body, Lease and Event MicroTimes written as microseconds.
import os from 'node:os';
import { PassThrough, Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
// Runtime imports from client-node's own modules, not its index: the index (and its polyfill) keeps every generated
// API class and model in the bundle, even unused.
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { Exec } from '@kubernetes/client-node/dist/exec.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import type {
  CoreV1Event,
  EventsV1Event,
  V1Lease,
  V1Pod,
  V1PodList,
  V1StatefulSet,
  V1StatefulSetList,
  V1Secret,
  V1Status,
} from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { WebSocketInterface } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { fetch, type Dispatcher } from 'undici';
import { KubeApiError, messageOf } from '../errors.js';
import type {
  EventInput,
  ExecResult,
  ExecStream,
  KubernetesPort,
  LabelPrecondition,
  PodHandler,
  PodsHandler,
  StopWatch,
} from '../ports.js';
import { toKubeApiError } from './kube-errors.js';
import {
  watchPodLoop,
  watchPodsLoop,
  type PodWatchOptions,
  type PodWatchSource,
  type PodsWatchSource,
} from './pod-watch.js';

export { toKubeApiError } from './kube-errors.js';

export const REPORTING_CONTROLLER = 'crate-decommission';
export const DEFAULT_EXEC_TIMEOUT_MS = 120_000;

export interface KubernetesPortOptions {
  /** Reporting instance of Events (default: the host name, i.e. the Job's pod name in-cluster). */
  reportingInstance?: string;
  /** Tuning of the pod watch (backoff) and where its recovered failures are reported. */
  watch?: PodWatchOptions;
  /** Replaces client-node's websocket connector for exec (tests). */
  execWebSocket?: WebSocketInterface;
}

export function createKubernetesPort(kc: KubeConfig, options: KubernetesPortOptions = {}): KubernetesPort {
  return new ClientNodeKubernetesPort(kc, options);
}

/** True for a KubeApiError (or anything mapped to one) with status 404. */
function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode === 404;
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeApiError(err, what);
  }
}

async function orNull<T>(what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await call(what, fn);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * Exit code of an exec from the status channel: Success -> 0; NonZeroExitCode -> the ExitCode cause.
 * Any other failure (container not found, executable missing...) is an error, not an exit code.
 */
export function exitCodeFromStatus(status: V1Status, what: string): number {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number.parseInt(cause?.message ?? '', 10);
    return Number.isFinite(code) ? code : 1;
  }
  const code = typeof status.code === 'number' && status.code > 0 ? status.code : 500;
  const reason = status.reason || 'InternalError';
  throw new KubeApiError(code, reason, `${what}: ${status.message ?? 'exec failed'} (${reason})`);
}

/** A MicroTime as the API server wants it: RFC 3339 with six fractional digits (a Date's ISO string has three). */
export function microTime(t: Date): string {
  return `${t.toISOString().slice(0, -1)}000Z`;
}

/**
 * Lease times are MicroTime: the API server rejects a plain Date's millisecond ISO string
 * ("cannot parse .518Z as .000000"). Strings (as read back from the server) pass through.
 */
function withMicroTimes(lease: V1Lease): V1Lease {
  const spec = lease.spec;
  if (!spec) return lease;
  const micro = (t: unknown) => (t instanceof Date ? microTime(t) : t);
  return {
    ...lease,
    spec: {
      ...spec,
      acquireTime: micro(spec.acquireTime) as Date,
      renewTime: micro(spec.renewTime) as Date,
    },
  };
}

/** User-Agent of the port's requests (the apiserver's audit log tells the tool's requests apart by it). */
export const USER_AGENT = 'crate-decommission';

const path = (...parts: string[]): string => parts.map((p) => encodeURIComponent(p)).join('/');

/** Name of a new Event: "<object>.<unique hex>", like kubelet's (generateName may not end in a dot). */
function eventName(objectName: string): string {
  const suffix = `${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}`;
  return `${objectName.slice(0, 253 - suffix.length - 1)}.${suffix}`;
}

class Collector {
  private readonly chunks: Buffer[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, callback) => {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  constructor() {
    // Writes never fail; a destroy by client-node after a broken socket must not be an unhandled 'error'.
    this.stream.on('error', () => {});
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The part of client-node's websocket the execs use. */
interface WebSocketLike {
  readonly protocol?: string;
  close(): void;
  terminate?: () => void;
  on?: (event: string, fn: (...args: unknown[]) => void) => void;
}

/** How an exec's websocket ended: the status frame (null: none came), an error, the subprotocol agreed. */
interface ExecEnd {
  status: V1Status | null;
  error?: unknown;
  protocol?: string;
}

/** One exec's websocket, as its owner drives it. */
interface ExecSocket {
  /** Ends the exec with this error (if it has not ended); the socket stays as it is. */
  end(error: unknown): void;
  /** Terminates the socket (closes it where terminate is missing); nothing before it connected. */
  terminate(): void;
  readonly ended: boolean;
}

/** The exit code of an ended exec, or the KubeApiError it failed with (`noStatus`: the end without a status). */
function exitCodeOf(end: ExecEnd, what: string, noStatus: string): number {
  if (end.error) throw toKubeApiError(end.error, what);
  if (!end.status) throw new KubeApiError(0, 'ConnectionFailed', `${what}: ${noStatus}`);
  return exitCodeFromStatus(end.status, what);
}

/** A watch event's object: the API server's JSON, as every other read of the port. */
const toPod = (object: unknown): V1Pod => object as V1Pod;

type Query = Record<string, string | number | boolean | undefined>;

class ClientNodeKubernetesPort implements KubernetesPort {
  private readonly execApi: Exec;
  private readonly watcher: Watch;
  private readonly reportingInstance: string;
  /** Falls back to core/v1 Events once events.k8s.io/v1 proved absent. */
  private eventsV1Missing = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly options: KubernetesPortOptions,
  ) {
    this.execApi = new Exec(kc, options.execWebSocket);
    this.watcher = new Watch(kc);
    this.reportingInstance = (options.reportingInstance ?? os.hostname()).slice(0, 128);
  }

  /**
   * One API request with a JSON answer, authenticated and over TLS as client-node's own calls (its RequestContext,
   * the KubeConfig's applySecurityAuthentication, undici's fetch). A status outside 2xx throws client-node's
   * ApiException with the answer's text as body (toKubeApiError reads the Status in it).
   */
  private async request<T>(
    method: HttpMethod,
    apiPath: string,
    opts: { query?: Query; body?: unknown; contentType?: string } = {},
  ): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('No active cluster!');
    const ctx = new RequestContext(`${cluster.server}${apiPath}`, method);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', USER_AGENT);
    if (opts.body !== undefined) {
      ctx.setHeaderParam('Content-Type', opts.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(opts.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    const res = await fetch(ctx.getUrl(), {
      method,
      headers: ctx.getHeaders(),
      body: ctx.getBody() as string | undefined,
      signal: ctx.getSignal() as AbortSignal | undefined,
      dispatcher: ctx.getDispatcher() as Dispatcher | undefined,
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) {
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        headers[name] = value;
      });
      throw new ApiException(res.status, res.statusText || 'Unknown API Status Code!', text, headers);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  // --- pods ---------------------------------------------------------------------------------

  getPod(namespace: string, name: string): Promise<V1Pod | null> {
    return orNull(`get pod ${namespace}/${name}`, () =>
      this.request<V1Pod>(HttpMethod.GET, `/api/v1/namespaces/${path(namespace)}/pods/${path(name)}`),
    );
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const list = await call(`list pods in ${namespace} (${labelSelector})`, () =>
      this.request<V1PodList>(HttpMethod.GET, `/api/v1/namespaces/${path(namespace)}/pods`, {
        query: { labelSelector },
      }),
    );
    return list.items;
  }

  watchPod(namespace: string, name: string, handler: PodHandler): Promise<StopWatch> {
    const fieldSelector = `metadata.name=${name}`;
    const source: PodWatchSource = {
      list: async () => {
        const list = await call(`list pod ${namespace}/${name}`, () =>
          this.request<V1PodList>(HttpMethod.GET, `/api/v1/namespaces/${path(namespace)}/pods`, {
            query: { fieldSelector },
          }),
        );
        return { pod: list.items[0] ?? null, resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      watch: (resourceVersion, onEvent, onDone) =>
        this.podWatch(namespace, { fieldSelector }, resourceVersion, onEvent, onDone),
    };
    return watchPodLoop(source, handler, this.options.watch, toPod);
  }

  watchPods(namespace: string, labelSelector: string, handler: PodsHandler): Promise<StopWatch> {
    const selector = labelSelector ? { labelSelector } : {};
    const source: PodsWatchSource = {
      list: async () => {
        const list = await call(`list pods in ${namespace}${labelSelector ? ` (${labelSelector})` : ''}`, () =>
          this.request<V1PodList>(HttpMethod.GET, `/api/v1/namespaces/${path(namespace)}/pods`, { query: selector }),
        );
        return { pods: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
      },
      watch: (resourceVersion, onEvent, onDone) => this.podWatch(namespace, selector, resourceVersion, onEvent, onDone),
    };
    return watchPodsLoop(source, handler, this.options.watch, toPod);
  }

  /** One WATCH of pods (by field or label selector) from `resourceVersion`, for the loops of pod-watch.ts. */
  private podWatch(
    namespace: string,
    selector: { fieldSelector?: string; labelSelector?: string },
    ...[resourceVersion, onEvent, onDone]: Parameters<PodWatchSource['watch']>
  ): ReturnType<PodWatchSource['watch']> {
    return this.watcher.watch(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      {
        ...selector,
        resourceVersion: resourceVersion || undefined,
        allowWatchBookmarks: true,
        // Below client-node's 30 s idle timer, so a quiet watch ends cleanly and resumes.
        timeoutSeconds: 20 + Math.floor(Math.random() * 8),
      },
      (type, object) => onEvent(type, object),
      onDone,
    );
  }

  async deletePod(namespace: string, name: string, opts: { gracePeriodSeconds: number; uid: string }): Promise<void> {
    await call(`delete pod ${namespace}/${name}`, () =>
      this.request(HttpMethod.DELETE, `/api/v1/namespaces/${path(namespace)}/pods/${path(name)}`, {
        query: { gracePeriodSeconds: opts.gracePeriodSeconds },
        // An empty UID would be a precondition nothing matches: only send one we know.
        body: {
          gracePeriodSeconds: opts.gracePeriodSeconds,
          ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
        },
      }),
    );
  }

  // --- StatefulSets --------------------------------------------------------------------------

  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null> {
    return orNull(`get statefulset ${namespace}/${name}`, () =>
      this.request<V1StatefulSet>(
        HttpMethod.GET,
        `/apis/apps/v1/namespaces/${path(namespace)}/statefulsets/${path(name)}`,
      ),
    );
  }

  async listStatefulSets(namespace: string, labelSelector?: string): Promise<V1StatefulSet[]> {
    const list = await call(`list statefulsets in ${namespace}`, () =>
      this.request<V1StatefulSetList>(HttpMethod.GET, `/apis/apps/v1/namespaces/${path(namespace)}/statefulsets`, {
        query: { labelSelector: labelSelector || undefined },
      }),
    );
    return list.items;
  }

  async patchStatefulSetLabels(
    namespace: string,
    name: string,
    labels: Record<string, string | null>,
    precondition?: LabelPrecondition,
  ): Promise<void> {
    const what = `label statefulset ${namespace}/${name}`;
    const url = `/apis/apps/v1/namespaces/${path(namespace)}/statefulsets/${path(name)}`;
    if (!precondition || 'resourceVersion' in precondition) {
      // A merge patch; with metadata.resourceVersion the API server answers 409 when the object changed since.
      const resourceVersion = precondition?.resourceVersion;
      await call(what, () =>
        this.request(HttpMethod.PATCH, url, {
          body: { metadata: { ...(resourceVersion ? { resourceVersion } : {}), labels } },
          contentType: 'application/merge-patch+json',
        }),
      );
      return;
    }
    // A JSON Patch (RFC 6902): `test` each expected label, then add or remove. A failed test is the API server's
    // 422 with only its generic message (kube-apiserver v1.37, observed: `the server rejected our request due to an
    // error in our request`, reason Invalid, no details); an invalid label value is a 422 naming the field. The
    // port's contract makes the failed test the 409 Conflict of a stale precondition.
    const pointer = (key: string) => `/metadata/labels/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const ops = [
      ...Object.entries(precondition.labels).map(([k, value]) => ({ op: 'test', path: pointer(k), value })),
      ...Object.entries(labels).map(([k, value]) =>
        value === null ? { op: 'remove', path: pointer(k) } : { op: 'add', path: pointer(k), value },
      ),
    ];
    try {
      await call(what, () =>
        this.request(HttpMethod.PATCH, url, { body: ops, contentType: 'application/json-patch+json' }),
      );
    } catch (err) {
      // (The message after `what`: a namespace or name may well contain "test".)
      if (
        err instanceof KubeApiError &&
        err.statusCode === 422 &&
        /rejected our request due to an error in our request|testing value|test operation/i.test(
          err.message.slice(what.length),
        )
      )
        throw new KubeApiError(
          409,
          'Conflict',
          `${what}: the labels are not as expected any more (HTTP 422 to the patch's test)`,
          { cause: err },
        );
      throw err;
    }
  }

  // --- CrateDB resource, Secrets -------------------------------------------------------------

  async getCrateDB(namespace: string, name: string): Promise<Record<string, unknown> | null> {
    const found: unknown = await orNull(`get cratedb ${namespace}/${name}`, () =>
      this.request<unknown>(
        HttpMethod.GET,
        `/apis/cloud.crate.io/v1/namespaces/${path(namespace)}/cratedbs/${path(name)}`,
      ),
    );
    return typeof found === 'object' && found !== null ? (found as Record<string, unknown>) : null;
  }

  async readSecret(namespace: string, name: string, key: string): Promise<string | null> {
    const secret = await orNull(`read secret ${namespace}/${name}`, () =>
      this.request<V1Secret>(HttpMethod.GET, `/api/v1/namespaces/${path(namespace)}/secrets/${path(name)}`),
    );
    const data = secret?.data?.[key];
    if (data !== undefined) return Buffer.from(data, 'base64').toString('utf8');
    return secret?.stringData?.[key] ?? null;
  }

  // --- exec ----------------------------------------------------------------------------------

  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    opts: { stdin?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const what = `exec in pod ${namespace}/${pod} (container ${container})`;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const stdout = new Collector();
    const stderr = new Collector();
    const stdin = opts.stdin !== undefined ? Readable.from([Buffer.from(opts.stdin, 'utf8')]) : null;
    // client-node pipes stdin into the websocket; a broken socket shows in the exec result, not as an 'error' event.
    stdin?.on('error', () => {});

    return new Promise<ExecResult>((resolve, reject) => {
      const socket = this.execSocket(
        { namespace, pod, container, command },
        { stdout: stdout.stream, stderr: stderr.stream, stdin },
        (end) => {
          clearTimeout(timer);
          // Before the v5 channel protocol, closing stdin closed the whole exec (API servers older than 1.30).
          const hint =
            stdin && end.protocol && end.protocol !== 'v5.channel.k8s.io'
              ? ` (stdin needs v5.channel.k8s.io, got ${end.protocol})`
              : '';
          try {
            const exitCode = exitCodeOf(end, what, `the connection closed without an exit status${hint}`);
            resolve({ exitCode, stdout: stdout.text(), stderr: stderr.text() });
          } catch (e) {
            reject(e);
          }
        },
      );
      const timer = setTimeout(() => {
        socket.end(new KubeApiError(0, 'Timeout', `${what}: did not finish within ${timeoutMs} ms`));
        socket.terminate();
      }, timeoutMs);
    });
  }

  openExec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    io: { stdout(chunk: string): void; stderr(chunk: string): void },
  ): ExecStream {
    const what = `exec session in pod ${namespace}/${pod} (container ${container})`;
    // A multi-byte character may be split across websocket frames: decode per stream, not per chunk.
    const sink = (fn: (chunk: string) => void): Writable => {
      const decoder = new StringDecoder('utf8');
      return new Writable({
        write(chunk: Buffer | string, _enc, cb) {
          const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
          if (text) fn(text);
          cb();
        },
      });
    };
    const stdin = new PassThrough();
    // client-node pipes stdin into the websocket; a broken socket shows in `done`, not as an 'error' event.
    stdin.on('error', () => {});
    let socket!: ExecSocket;
    const done = new Promise<number>((resolve, reject) => {
      socket = this.execSocket(
        { namespace, pod, container, command },
        { stdout: sink(io.stdout), stderr: sink(io.stderr), stdin },
        (end) => {
          stdin.destroy();
          socket.terminate();
          try {
            resolve(exitCodeOf(end, what, 'closed without an exit status'));
          } catch (e) {
            reject(e);
          }
        },
      );
    });
    done.catch(() => {});
    return {
      write: (text) => {
        if (!socket.ended) stdin.write(text);
      },
      close: () => socket.end(new KubeApiError(0, 'Closed', `${what}: closed by the client`)),
      done,
    };
  }

  /**
   * The websocket lifecycle of both execs: connect, keep the status channel's frame, and call `onEnd` exactly once -
   * at the status frame (once the stream writes before it settled), when the socket closes or fails, when the
   * handshake fails, or at `end(error)` by the caller (a timeout, a close by the client). A socket that connects
   * after the end is closed at once.
   */
  private execSocket(
    target: { namespace: string; pod: string; container: string; command: string[] },
    streams: { stdout: Writable; stderr: Writable; stdin: Readable | null },
    onEnd: (end: ExecEnd) => void,
  ): ExecSocket {
    let ended = false;
    let status: V1Status | null = null;
    let socket: WebSocketLike | null = null;
    const end = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      onEnd({ status, error, protocol: socket?.protocol });
    };
    const { namespace, pod, container, command } = target;
    this.execApi
      .exec(namespace, pod, container, command, streams.stdout, streams.stderr, streams.stdin, false, (s) => {
        status = s;
        // Output written before the status frame is already collected; let the stream writes settle.
        setImmediate(() => end());
      })
      .then(
        (ws) => {
          socket = ws as unknown as WebSocketLike;
          if (ended) {
            ws.close();
            return;
          }
          socket.on?.('close', () => setImmediate(() => end()));
          socket.on?.('error', (e) => end(e));
        },
        (err: unknown) => end(err),
      );
    return {
      end: (error) => end(error),
      terminate: () => {
        if (socket?.terminate) socket.terminate();
        else socket?.close();
      },
      get ended() {
        return ended;
      },
    };
  }

  // --- Leases --------------------------------------------------------------------------------

  private leasePath(namespace: string, name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${path(namespace)}/leases`;
    return name === undefined ? base : `${base}/${path(name)}`;
  }

  getLease(namespace: string, name: string): Promise<V1Lease | null> {
    return orNull(`get lease ${namespace}/${name}`, () =>
      this.request<V1Lease>(HttpMethod.GET, this.leasePath(namespace, name)),
    );
  }

  createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return call(`create lease ${namespace}/${lease.metadata?.name ?? '?'}`, () =>
      this.request<V1Lease>(HttpMethod.POST, this.leasePath(namespace), { body: withMicroTimes(lease) }),
    );
  }

  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    const name = lease.metadata?.name;
    if (!name || !lease.metadata?.resourceVersion) {
      return Promise.reject(
        new Error(`replace lease ${namespace}/${name ?? '?'}: metadata.name and metadata.resourceVersion are required`),
      );
    }
    return call(`replace lease ${namespace}/${name}`, () =>
      this.request<V1Lease>(HttpMethod.PUT, this.leasePath(namespace, name), { body: withMicroTimes(lease) }),
    );
  }

  async deleteLease(namespace: string, name: string): Promise<void> {
    await call(`delete lease ${namespace}/${name}`, () =>
      this.request(HttpMethod.DELETE, this.leasePath(namespace, name)),
    );
  }

  // --- Events --------------------------------------------------------------------------------

  async createEvent(namespace: string, event: EventInput): Promise<void> {
    const regarding = {
      kind: event.involvedObject.kind,
      name: event.involvedObject.name,
      namespace: event.involvedObject.namespace,
      uid: event.involvedObject.uid,
      apiVersion: event.involvedObject.apiVersion ?? (event.involvedObject.kind === 'Pod' ? 'v1' : 'apps/v1'),
    };
    const note = event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message;
    const what = `record event ${event.reason} on ${event.involvedObject.kind.toLowerCase()} ${namespace}/${event.involvedObject.name}`;
    if (!this.eventsV1Missing) {
      const body: EventsV1Event = {
        metadata: { name: eventName(event.involvedObject.name), namespace },
        eventTime: microTime(new Date()) as unknown as Date,
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.reportingInstance,
        action: event.action,
        reason: event.reason,
        note,
        type: event.type,
        regarding,
      };
      try {
        await call(what, () =>
          this.request(HttpMethod.POST, `/apis/events.k8s.io/v1/namespaces/${path(namespace)}/events`, { body }),
        );
        return;
      } catch (err) {
        // A 404 for a missing namespace is real; a 404 for the API group means an old server.
        if (!isNotFound(err) || /namespaces? "[^"]*" not found/.test(messageOf(err))) throw err;
        this.eventsV1Missing = true; // events.k8s.io/v1 not served: use core/v1 from now on
      }
    }
    const now = new Date();
    const legacy: CoreV1Event = {
      metadata: { name: eventName(event.involvedObject.name), namespace },
      involvedObject: regarding,
      reason: event.reason,
      message: note,
      type: event.type,
      action: event.action,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: REPORTING_CONTROLLER },
      reportingComponent: REPORTING_CONTROLLER,
      reportingInstance: this.reportingInstance,
    };
    await call(what, () =>
      this.request(HttpMethod.POST, `/api/v1/namespaces/${path(namespace)}/events`, { body: legacy }),
    );
  }
}
