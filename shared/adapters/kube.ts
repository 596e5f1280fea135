// The real KubernetesPort: @kubernetes/client-node calls, a self-healing pod watch, exec over websockets.
import os from 'node:os';
import { PassThrough, Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  Exec,
  KubeConfig,
  PatchStrategy,
  V1MicroTime,
  Watch,
  setHeaderOptions,
  type CoreV1Event,
  type EventsV1Event,
  type V1Lease,
  type V1Pod,
  type V1StatefulSet,
  type V1Status,
} from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { WebSocketInterface } from '@kubernetes/client-node/dist/web-socket-handler.js';
import { KubeApiError, messageOf } from '../errors.js';
import type {
  EventInput,
  ExecResult,
  ExecStream,
  KubernetesPort,
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

/**
 * Lease times are MicroTime: the API server rejects a plain Date's millisecond ISO string
 * ("cannot parse .518Z as .000000"). Strings (as read back from the server) pass through.
 */
function withMicroTimes(lease: V1Lease): V1Lease {
  const spec = lease.spec;
  if (!spec) return lease;
  const micro = (t: unknown) => (t instanceof Date && !(t instanceof V1MicroTime) ? new V1MicroTime(t.getTime()) : t);
  return {
    ...lease,
    spec: {
      ...spec,
      acquireTime: micro(spec.acquireTime) as V1MicroTime,
      renewTime: micro(spec.renewTime) as V1MicroTime,
    },
  };
}

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

/** A watch event's object as a typed V1Pod (client-node's own deserializer). */
const toPod = (object: unknown): V1Pod => ObjectSerializer.deserialize(object, 'V1Pod', '') as V1Pod;

class ClientNodeKubernetesPort implements KubernetesPort {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly coordination: CoordinationV1Api;
  private readonly events: EventsV1Api;
  private readonly execApi: Exec;
  private readonly watcher: Watch;
  private readonly reportingInstance: string;
  /** Falls back to core/v1 Events once events.k8s.io/v1 proved absent. */
  private eventsV1Missing = false;

  constructor(
    kc: KubeConfig,
    private readonly options: KubernetesPortOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
    this.execApi = new Exec(kc, options.execWebSocket);
    this.watcher = new Watch(kc);
    this.reportingInstance = (options.reportingInstance ?? os.hostname()).slice(0, 128);
  }

  // --- pods ---------------------------------------------------------------------------------

  getPod(namespace: string, name: string): Promise<V1Pod | null> {
    return orNull(`get pod ${namespace}/${name}`, () => this.core.readNamespacedPod({ namespace, name }));
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    const list = await call(`list pods in ${namespace} (${labelSelector})`, () =>
      this.core.listNamespacedPod({ namespace, labelSelector }),
    );
    return list.items;
  }

  watchPod(namespace: string, name: string, handler: PodHandler): Promise<StopWatch> {
    const fieldSelector = `metadata.name=${name}`;
    const source: PodWatchSource = {
      list: async () => {
        const list = await call(`list pod ${namespace}/${name}`, () =>
          this.core.listNamespacedPod({ namespace, fieldSelector }),
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
          this.core.listNamespacedPod({ namespace, ...selector }),
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
      this.core.deleteNamespacedPod({
        namespace,
        name,
        gracePeriodSeconds: opts.gracePeriodSeconds,
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
      this.apps.readNamespacedStatefulSet({ namespace, name }),
    );
  }

  async listStatefulSets(namespace: string, labelSelector?: string): Promise<V1StatefulSet[]> {
    const list = await call(`list statefulsets in ${namespace}`, () =>
      this.apps.listNamespacedStatefulSet(labelSelector ? { namespace, labelSelector } : { namespace }),
    );
    return list.items;
  }

  async patchStatefulSetLabels(namespace: string, name: string, labels: Record<string, string | null>): Promise<void> {
    await call(`label statefulset ${namespace}/${name}`, () =>
      this.apps.patchNamespacedStatefulSet(
        { namespace, name, body: { metadata: { labels } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  // --- CrateDB resource, Secrets -------------------------------------------------------------

  async getCrateDB(namespace: string, name: string): Promise<Record<string, unknown> | null> {
    const found: unknown = await orNull(`get cratedb ${namespace}/${name}`, () =>
      this.custom.getNamespacedCustomObject({
        group: 'cloud.crate.io',
        version: 'v1',
        namespace,
        plural: 'cratedbs',
        name,
      }),
    );
    return typeof found === 'object' && found !== null ? (found as Record<string, unknown>) : null;
  }

  async readSecret(namespace: string, name: string, key: string): Promise<string | null> {
    const secret = await orNull(`read secret ${namespace}/${name}`, () =>
      this.core.readNamespacedSecret({ namespace, name }),
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

  getLease(namespace: string, name: string): Promise<V1Lease | null> {
    return orNull(`get lease ${namespace}/${name}`, () => this.coordination.readNamespacedLease({ namespace, name }));
  }

  createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return call(`create lease ${namespace}/${lease.metadata?.name ?? '?'}`, () =>
      this.coordination.createNamespacedLease({ namespace, body: withMicroTimes(lease) }),
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
      this.coordination.replaceNamespacedLease({ namespace, name, body: withMicroTimes(lease) }),
    );
  }

  async deleteLease(namespace: string, name: string): Promise<void> {
    await call(`delete lease ${namespace}/${name}`, () => this.coordination.deleteNamespacedLease({ namespace, name }));
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
        eventTime: new V1MicroTime(),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: this.reportingInstance,
        action: event.action,
        reason: event.reason,
        note,
        type: event.type,
        regarding,
      };
      try {
        await call(what, () => this.events.createNamespacedEvent({ namespace, body }));
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
    await call(what, () => this.core.createNamespacedEvent({ namespace, body: legacy }));
  }
}
