// The engine's narrow interfaces to the world: Kubernetes, CrateDB's SQL endpoint, time, logs.
// Real adapters live in shared/adapters/; tests use in-memory fakes with the same contract.
import type { V1Lease, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { PodInfo, SqlEndpoint } from './schemas.js';

/** Called with the pod's current state first, then after every change; null = absent/deleted. */
export type PodHandler = (pod: V1Pod | null) => void;
export type StopWatch = () => void;

/**
 * One delivery of a pod collection watch (watchPods): `sync` is the whole current set (after the first list and
 * after every re-list: 410 Gone, a dropped watch), then one `upsert` (ADDED/MODIFIED) or `delete` (DELETED, the
 * pod's last state) per change, in the API server's order.
 */
export type PodsEvent =
  { type: 'sync'; pods: V1Pod[] } | { type: 'upsert'; pod: V1Pod } | { type: 'delete'; pod: V1Pod };
export type PodsHandler = (event: PodsEvent) => void;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * One exec whose stdin stays open (pods/exec, one websocket): the owner writes to stdin, reads stdout/stderr through
 * the handlers given to openExec, and must close() it. `done` settles exactly once and never rejects unhandled: the
 * exit code, or a KubeApiError when the stream broke (or close() was called before the command exited).
 */
export interface ExecStream {
  write(text: string): void;
  /** End stdin and close the connection (idempotent); `done` settles. */
  close(): void;
  readonly done: Promise<number>;
}

export interface EventInput {
  /** The object the event is about. */
  involvedObject: { kind: 'Pod' | 'StatefulSet'; name: string; namespace: string; uid?: string; apiVersion?: string };
  type: 'Normal' | 'Warning';
  /** CamelCase reason, e.g. DecommissionStarted. */
  reason: string;
  message: string;
  /** Reporting component action, e.g. Decommission. */
  action: string;
}

/**
 * Kubernetes operations the engine uses. Every method throws KubeApiError for an API error
 * (statusCode 404/403/409...), except the get* methods which return null on 404.
 *
 * Pod reads may be served from one shared pod watch (`withPodCache`, shared/adapters/pod-cache.ts; the front ends
 * wire it in). Its consistency contract, which the engine relies on:
 * - getPod/watchPod answer from the namespace's cache once its first list is in: what the API server said at most
 *   one watch delivery ago (milliseconds), in the API server's order, so reads never go back in time;
 * - a pod the cache does not hold is read with a GET (never "absent" from the cache alone);
 * - read-your-own-writes: after deletePod(name, {uid}) resolved, a read of `name` never returns that uid without
 *   its deletionTimestamp: it waits for the watch to deliver the delete (up to 2 s), else GETs;
 * - the UID precondition of deletePod is checked by the API server, never by the cache (a stale uid is a 409);
 * - after the caller's signal aborts (or a failed start), reads go to the API server again (GET, one watch each).
 */
/** What must hold for a label write to happen (see KubernetesPort.patchStatefulSetLabels). */
export type LabelPrecondition = { resourceVersion: string } | { labels: Record<string, string> };

export interface KubernetesPort {
  getPod(namespace: string, name: string): Promise<V1Pod | null>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  /**
   * Watch one pod by name (across re-creations). The handler gets the current state first,
   * then every change within milliseconds. The real adapter re-lists on 410 Gone and
   * reconnects on a dropped watch, delivering the current state again. Resolves once watching.
   */
  watchPod(namespace: string, name: string, handler: PodHandler): Promise<StopWatch>;
  /**
   * Watch every pod of a namespace matching `labelSelector` ('' = all): ONE list and ONE watch for as long as it
   * runs (the informer under shared/adapters/pod-cache.ts). The handler gets `sync` first (before this resolves),
   * then each change; the real adapter re-lists on 410 Gone and after a dropped watch (a new `sync`).
   */
  watchPods(namespace: string, labelSelector: string, handler: PodsHandler): Promise<StopWatch>;
  /** Delete a pod with a grace period and a UID precondition (409 Conflict when the UID changed). */
  deletePod(namespace: string, name: string, opts: { gracePeriodSeconds: number; uid: string }): Promise<void>;

  getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null>;
  listStatefulSets(namespace: string, labelSelector?: string): Promise<V1StatefulSet[]>;
  /**
   * Patch StatefulSet labels; a null value removes the label. With a precondition the write is a compare-and-set:
   * `resourceVersion` (the object unchanged since that read) or `labels` (these labels hold exactly these values
   * now; a label the patch removes must be among them). A precondition that does not hold is a 409 Conflict
   * KubeApiError and changes nothing.
   */
  patchStatefulSetLabels(
    namespace: string,
    name: string,
    labels: Record<string, string | null>,
    precondition?: LabelPrecondition,
  ): Promise<void>;

  /** A crate-operator `CrateDB` (cratedbs.cloud.crate.io) custom resource, null when absent or CRD missing. */
  getCrateDB(namespace: string, name: string): Promise<Record<string, unknown> | null>;
  /** One key of a Secret, decoded; null when the Secret or key is absent. */
  readSecret(namespace: string, name: string, key: string): Promise<string | null>;

  /** Run a command in a container (pods/exec). Non-zero exit is a result, not an error. */
  exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    opts?: { stdin?: string; timeoutMs?: number },
  ): Promise<ExecResult>;

  /**
   * Start a command with stdin kept open (one pods/exec for as long as it runs). Output chunks go to `io` as they
   * arrive. The caller owns the stream and must close() it.
   */
  openExec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    io: { stdout(chunk: string): void; stderr(chunk: string): void },
  ): ExecStream;

  getLease(namespace: string, name: string): Promise<V1Lease | null>;
  /** Create; KubeApiError 409 when it exists. */
  createLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  /** Replace with metadata.resourceVersion as precondition; KubeApiError 409 on a conflict. */
  replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease>;
  deleteLease(namespace: string, name: string): Promise<void>;

  /** Record a Kubernetes Event (events.k8s.io or core/v1). Best effort: callers ignore failures. */
  createEvent(namespace: string, event: EventInput): Promise<void>;
}

export interface SqlResponse {
  cols: string[];
  rows: unknown[][];
  rowcount: number;
  duration?: number;
}

/** One way to send SQL to one CrateDB node. Throws CrateSqlError or SqlConnectionError. */
export interface SqlTransport {
  /** Where and as whom, for logs - never a secret. E.g. "http://10.0.0.5:4200 as system". */
  readonly description: string;
  query(stmt: string, args?: unknown[], opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<SqlResponse>;
}

/** Builds transports to a given pod. Credentials are resolved inside (never handed to the engine). */
export interface SqlTransportFactory {
  /** HTTP(S) to the pod's IP on the endpoint's port, with the endpoint's credentials and TLS. */
  http(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport;
  /** Exec into the pod's CrateDB container and POST to localhost:4200 as the `crate` superuser. */
  exec(namespace: string, pod: PodInfo, endpoint: SqlEndpoint): SqlTransport;
  /** Close every long-lived connection (exec sessions); later statements open new ones. Optional. */
  close?(): void;
}

export interface Clock {
  /** Wall-clock ms (for timestamps written to objects and logs). */
  now(): number;
  /**
   * Monotonic ms of this process (never jumps with the wall clock): for expiry judged by this run alone (the
   * Lease). Optional: absent = now().
   */
  monotonic?(): number;
  /** Wait for CrateDB polling intervals only; rejects with the signal's reason on abort. */
  delay(ms: number, signal?: AbortSignal): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Everything an activity needs. */
export interface EngineDeps {
  kube: KubernetesPort;
  sql: SqlTransportFactory;
  clock: Clock;
  log: Logger;
  /** Aborted on SIGTERM / Ctrl-C / cancel: activities stop safely and reset allocation. */
  signal?: AbortSignal;
  /** Identity of this run (Lease holder), e.g. "<job pod name>" or "<user>@<host>". */
  holderIdentity?: string;
  /** TTL of the cluster's Lease, s (default DEFAULT_LEASE_SECONDS, 60): renewed every third, self-fenced after two thirds. */
  leaseDurationSeconds?: number;
  /** How often CrateDB state is polled, ms (default 1000). */
  pollIntervalMs?: number;
  /** Progress line interval while a wait lasts, ms (default 30 000; 0 = none). */
  heartbeatMs?: number;
}
