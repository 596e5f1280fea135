// In-memory Kubernetes for unit tests: pods, StatefulSets with a controller, watches, graceful
// deletes with preStop hooks, in-place container restarts, exec, Leases, Events, Secrets and
// CrateDB resources. Same contract as the real adapter (shared/ports.ts); every write is recorded.
import type { V1Container, V1Lease, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { KubeApiError } from '../../../shared/errors.js';
import type {
  Clock,
  EventInput,
  ExecResult,
  ExecStream,
  KubernetesPort,
  LabelPrecondition,
  PodHandler,
  PodsHandler,
  StopWatch,
} from '../../../shared/ports.js';
import { VirtualClock } from '../virtual-clock.js';

export interface KubeWrite {
  verb: 'create' | 'delete' | 'patch' | 'replace';
  kind: 'Pod' | 'StatefulSet' | 'Lease' | 'Event';
  namespace: string;
  name: string;
  detail?: unknown;
}

export interface ExecCall {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  stdin?: string;
}

export interface RecordedEvent extends EventInput {
  namespace: string;
  at: number;
}

export type ExecHandler = (call: ExecCall) => Promise<ExecResult> | ExecResult;

/** The container side of one openExec stream: what the client writes, and the command's output and end. */
export interface FakeExecSession {
  readonly call: ExecCall;
  /** Everything the client wrote to stdin so far. */
  readonly stdinText: string;
  /** Called with each write to stdin. */
  onStdin(fn: (text: string) => void): void;
  stdout(text: string): void;
  /** The command exited (status frame). */
  exit(code: number): void;
  /** The connection broke (no status): the client's `done` rejects. */
  drop(message?: string): void;
  readonly ended: boolean;
}
export type ExecSessionHandler = (session: FakeExecSession) => void;

export interface FakeKubeHooks {
  /** Runs when a pod with a preStop hook on `container` is deleted; the pod goes once it resolves (or the grace period ends). */
  preStop?: (namespace: string, pod: V1Pod, container: V1Container) => Promise<void> | void;
  /** A container (re)started: the process runs. */
  containerStarted?: (namespace: string, pod: V1Pod, container: string) => void;
  /** A container was stopped by the kubelet (SIGTERM/SIGKILL at pod deletion). */
  containerStopped?: (namespace: string, pod: V1Pod, container: string) => void;
  exec?: ExecHandler;
  /** The command of an openExec stream (none: it prints nothing and runs until closed). */
  execSession?: ExecSessionHandler;
}

export interface FakeKubeOptions {
  clock?: Clock;
  /** Engine ms before a created pod's containers start. */
  startDelayMs?: number;
  /** Engine ms before an exited container is restarted in place. */
  restartDelayMs?: number;
  /** Engine ms after a container start before the pod turns Ready (when autoReady). */
  readyDelayMs?: number;
  /** Engine ms before the StatefulSet controller re-creates a deleted pod. */
  recreateDelayMs?: number;
  /** Pods turn Ready on their own after a start; false = the test (or world) calls setReady. */
  autoReady?: boolean;
}

type Method = keyof KubernetesPort;

const key = (ns: string, name: string) => `${ns}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  for (const part of selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=') as [string, string | undefined];
    if (v === undefined) {
      if (!(labels && k in labels)) return false;
    } else if (labels?.[k] !== v) return false;
  }
  return true;
}

export class FakeKube implements KubernetesPort {
  readonly writes: KubeWrite[] = [];
  readonly execs: ExecCall[] = [];
  /** openExec streams still open. */
  readonly execSessions = new Set<FakeExecSession>();
  readonly events: RecordedEvent[] = [];
  readonly hooks: FakeKubeHooks = {};
  readonly clock: Clock;
  /** The clock was made here (not options.clock): close() stops it. */
  private readonly ownsClock: boolean;
  readonly pods = new Map<string, V1Pod>();
  readonly statefulSets = new Map<string, V1StatefulSet>();
  readonly leases = new Map<string, V1Lease>();
  readonly secrets = new Map<string, Record<string, string>>();
  readonly crateDBs = new Map<string, Record<string, unknown>>();
  /** Every pod ever created, in order: name and uid (re-creations included). */
  readonly podHistory: { namespace: string; name: string; uid: string }[] = [];

  private readonly opts: Required<Omit<FakeKubeOptions, 'clock'>>;
  private readonly watchers = new Map<string, Set<PodHandler>>();
  /** Collection watches (watchPods); `paused` = the watch is down (pausePodWatches) and misses events. */
  private readonly collectionWatchers = new Set<{
    namespace: string;
    selector: string;
    handler: PodsHandler;
    paused: boolean;
  }>();
  private readonly failures = new Map<Method, { err: Error; remaining: number }>();
  private uidCounter = 0;
  private rvCounter = 100;
  private closed = false;
  private readonly timers = new Set<AbortController>();

  constructor(options: FakeKubeOptions = {}) {
    // Without a clock of the caller's: the auto-advancing virtual one (engine time jumps whenever the process is
    // idle), stopped by close().
    this.ownsClock = !options.clock;
    this.clock = options.clock ?? new VirtualClock(undefined, { autoAdvance: true });
    this.opts = {
      startDelayMs: options.startDelayMs ?? 500,
      restartDelayMs: options.restartDelayMs ?? 1000,
      readyDelayMs: options.readyDelayMs ?? 1000,
      recreateDelayMs: options.recreateDelayMs ?? 500,
      autoReady: options.autoReady ?? true,
    };
  }

  // ---------- test controls ----------

  /** Make `method` throw `err` for the next `times` calls (Infinity = until cleared). */
  failNext(method: Method, err: Error, times = 1): void {
    this.failures.set(method, { err, remaining: times });
  }

  /** Make `method` answer 403 Forbidden until cleared. */
  forbid(method: Method): void {
    this.failNext(
      method,
      new KubeApiError(
        403,
        'Forbidden',
        `${method} is forbidden: User "system:serviceaccount:test:runner" cannot do it`,
      ),
      Infinity,
    );
  }

  clearFailures(): void {
    this.failures.clear();
  }

  /** Stop background work (pending restarts, re-creations, grace timers). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) t.abort();
    if (this.ownsClock && this.clock instanceof VirtualClock) this.clock.stop();
    this.timers.clear();
    this.watchers.clear();
    this.collectionWatchers.clear();
  }

  /** The collection watches of `namespace` go down (a dropped connection): they miss every change until resumed. */
  pausePodWatches(namespace: string): void {
    for (const w of this.collectionWatchers) if (w.namespace === namespace) w.paused = true;
  }

  /**
   * The collection watches of `namespace` come back the way the real adapter's loop does after a dropped watch or
   * a 410 Gone (`expired`): a re-list, delivered as one `sync` of the current pods.
   */
  resumePodWatches(namespace: string): void {
    for (const w of this.collectionWatchers) {
      if (w.namespace !== namespace) continue;
      w.paused = false;
      const pods = this.podsMatching(namespace, w.selector);
      setImmediate(() => {
        if (this.collectionWatchers.has(w) && !w.paused) w.handler({ type: 'sync', pods });
      });
    }
  }

  /** How many collection watches are open (a test of a cache's stop). */
  get openPodWatches(): number {
    return this.collectionWatchers.size;
  }

  newUid(prefix = 'uid'): string {
    this.uidCounter += 1;
    return `${prefix}-${this.uidCounter.toString().padStart(4, '0')}`;
  }

  /** Add a StatefulSet; its controller creates pods <name>-0..replicas-1 (not running yet). */
  addStatefulSet(sts: V1StatefulSet): V1StatefulSet {
    const ns = sts.metadata?.namespace ?? 'default';
    const name = sts.metadata!.name!;
    const stored = clone(sts);
    stored.metadata = {
      ...stored.metadata,
      namespace: ns,
      uid: stored.metadata?.uid ?? this.newUid('sts'),
      resourceVersion: this.nextRv(),
    };
    this.statefulSets.set(key(ns, name), stored);
    for (let i = 0; i < (stored.spec?.replicas ?? 1); i++) this.createPodFor(stored, i);
    return clone(stored);
  }

  addSecret(namespace: string, name: string, data: Record<string, string>): void {
    this.secrets.set(key(namespace, name), { ...data });
  }

  addCrateDB(namespace: string, name: string, resource: Record<string, unknown>): void {
    this.crateDBs.set(key(namespace, name), clone(resource));
  }

  /** Set or clear the Ready condition of a pod. */
  setReady(namespace: string, name: string, ready: boolean): void {
    const pod = this.pods.get(key(namespace, name));
    if (!pod) return;
    const status = (pod.status ??= {});
    status.conditions = [{ type: 'Ready', status: ready ? 'True' : 'False' }];
    for (const cs of status.containerStatuses ?? []) cs.ready = ready && !!cs.state?.running;
    this.notify(namespace, name);
  }

  /**
   * The container's process exited. A deleting pod keeps it terminated; otherwise the
   * kubelet restarts it in place after restartDelayMs (restartCount + 1, lastState.terminated).
   */
  containerExited(namespace: string, name: string, container: string, exitCode: number): void {
    const pod = this.pods.get(key(namespace, name));
    const cs = pod?.status?.containerStatuses?.find((c) => c.name === container);
    if (!pod || !cs || !cs.state?.running) return;
    this.dropExecSessions(namespace, name, container);
    const uid = pod.metadata!.uid!;
    const finishedAt = new Date(this.clock.now());
    cs.state = {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt: cs.state.running.startedAt,
        finishedAt,
        ...(cs.containerID ? { containerID: cs.containerID } : {}),
      },
    };
    cs.ready = false;
    cs.started = false;
    pod.status!.conditions = [{ type: 'Ready', status: 'False' }];
    this.notify(namespace, name);
    if (pod.metadata?.deletionTimestamp) return;
    this.later(this.opts.restartDelayMs, () => {
      const p = this.pods.get(key(namespace, name));
      const c = p?.status?.containerStatuses?.find((x) => x.name === container);
      if (!p || p.metadata!.uid !== uid || p.metadata?.deletionTimestamp || !c?.state?.terminated) return;
      c.lastState = { terminated: c.state.terminated };
      c.restartCount = (c.restartCount ?? 0) + 1;
      this.startContainer(namespace, name, container);
    });
  }

  /** Snapshot of a pod (or undefined), for assertions. */
  pod(namespace: string, name: string): V1Pod | undefined {
    const p = this.pods.get(key(namespace, name));
    return p ? clone(p) : undefined;
  }

  // ---------- KubernetesPort ----------

  async getPod(namespace: string, name: string): Promise<V1Pod | null> {
    this.maybeFail('getPod');
    const p = this.pods.get(key(namespace, name));
    return p ? clone(p) : null;
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    this.maybeFail('listPods');
    return [...this.pods.values()]
      .filter((p) => p.metadata?.namespace === namespace && matchesSelector(p.metadata?.labels, labelSelector))
      .map(clone);
  }

  async watchPod(namespace: string, name: string, handler: PodHandler): Promise<StopWatch> {
    this.maybeFail('watchPod');
    const k = key(namespace, name);
    let set = this.watchers.get(k);
    if (!set) this.watchers.set(k, (set = new Set()));
    let active = true;
    const wrapped: PodHandler = (pod) => {
      if (active) handler(pod);
    };
    set.add(wrapped);
    const current = this.pods.get(k);
    const snapshot = current ? clone(current) : null;
    setImmediate(() => wrapped(snapshot));
    return () => {
      active = false;
      this.watchers.get(k)?.delete(wrapped);
    };
  }

  async watchPods(namespace: string, labelSelector: string, handler: PodsHandler): Promise<StopWatch> {
    this.maybeFail('watchPods');
    const w = { namespace, selector: labelSelector, handler, paused: false };
    this.collectionWatchers.add(w);
    // Like the real adapter: the list is delivered before the call resolves.
    handler({ type: 'sync', pods: this.podsMatching(namespace, labelSelector) });
    return () => {
      this.collectionWatchers.delete(w);
    };
  }

  async deletePod(namespace: string, name: string, opts: { gracePeriodSeconds: number; uid: string }): Promise<void> {
    this.maybeFail('deletePod');
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) throw new KubeApiError(404, 'NotFound', `pods "${name}" not found`);
    if (opts.uid && pod.metadata!.uid !== opts.uid) {
      throw new KubeApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on Pod "${name}": Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${pod.metadata!.uid}`,
      );
    }
    this.writes.push({
      verb: 'delete',
      kind: 'Pod',
      namespace,
      name,
      detail: { gracePeriodSeconds: opts.gracePeriodSeconds, uid: opts.uid },
    });
    if (pod.metadata!.deletionTimestamp) {
      // A second delete may only shorten the grace period; the first one's termination goes on.
      return;
    }
    pod.metadata!.deletionTimestamp = new Date(this.clock.now());
    pod.metadata!.deletionGracePeriodSeconds = opts.gracePeriodSeconds;
    this.notify(namespace, name);
    void this.terminate(namespace, name, pod.metadata!.uid!, opts.gracePeriodSeconds);
  }

  async getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | null> {
    this.maybeFail('getStatefulSet');
    const s = this.statefulSets.get(key(namespace, name));
    return s ? clone(s) : null;
  }

  async listStatefulSets(namespace: string, labelSelector?: string): Promise<V1StatefulSet[]> {
    this.maybeFail('listStatefulSets');
    return [...this.statefulSets.values()]
      .filter((s) => s.metadata?.namespace === namespace && matchesSelector(s.metadata?.labels, labelSelector))
      .map(clone);
  }

  async patchStatefulSetLabels(
    namespace: string,
    name: string,
    labels: Record<string, string | null>,
    precondition?: LabelPrecondition,
  ): Promise<void> {
    this.maybeFail('patchStatefulSetLabels');
    const s = this.statefulSets.get(key(namespace, name));
    if (!s) throw new KubeApiError(404, 'NotFound', `statefulsets.apps "${name}" not found`);
    // A compare-and-set as the API server does it: a stale resourceVersion, or a label not holding the expected
    // value (JSON Patch `test`), is a 409 that changes nothing.
    if (
      precondition &&
      'resourceVersion' in precondition &&
      precondition.resourceVersion !== s.metadata!.resourceVersion
    )
      throw new KubeApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on statefulsets.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    if (precondition && 'labels' in precondition) {
      for (const [k, v] of Object.entries(precondition.labels))
        if (s.metadata!.labels?.[k] !== v)
          throw new KubeApiError(
            409,
            'Conflict',
            `label statefulset ${namespace}/${name}: testing value /metadata/labels/${k} failed`,
          );
    }
    this.writes.push({ verb: 'patch', kind: 'StatefulSet', namespace, name, detail: { labels } });
    const current = { ...(s.metadata!.labels ?? {}) };
    for (const [k, v] of Object.entries(labels)) {
      if (v === null) delete current[k];
      else current[k] = v;
    }
    s.metadata!.labels = current;
    s.metadata!.resourceVersion = this.nextRv();
  }

  async getCrateDB(namespace: string, name: string): Promise<Record<string, unknown> | null> {
    this.maybeFail('getCrateDB');
    const c = this.crateDBs.get(key(namespace, name));
    return c ? clone(c) : null;
  }

  async readSecret(namespace: string, name: string, k: string): Promise<string | null> {
    this.maybeFail('readSecret');
    return this.secrets.get(key(namespace, name))?.[k] ?? null;
  }

  async exec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    opts?: { stdin?: string; timeoutMs?: number },
  ): Promise<ExecResult> {
    this.maybeFail('exec');
    const p = this.pods.get(key(namespace, pod));
    if (!p) throw new KubeApiError(404, 'NotFound', `pods "${pod}" not found`);
    const cs = p.status?.containerStatuses?.find((c) => c.name === container);
    if (!cs) throw new KubeApiError(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
    if (!cs.state?.running)
      throw new KubeApiError(400, 'BadRequest', `container ${container} in pod ${pod} is not running`);
    const call: ExecCall = {
      namespace,
      pod,
      container,
      command: [...command],
      ...(opts?.stdin !== undefined ? { stdin: opts.stdin } : {}),
    };
    this.execs.push(call);
    if (!this.hooks.exec) return { exitCode: 0, stdout: '', stderr: '' };
    return this.hooks.exec(call);
  }

  openExec(
    namespace: string,
    pod: string,
    container: string,
    command: string[],
    io: { stdout(chunk: string): void; stderr(chunk: string): void },
  ): ExecStream {
    let settle!: { resolve(code: number): void; reject(err: unknown): void };
    const done = new Promise<number>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => {});
    const call: ExecCall = { namespace, pod, container, command: [...command] };
    let ended = false;
    let stdinText = '';
    const listeners: ((text: string) => void)[] = [];
    const end = (fn: () => void): void => {
      if (ended) return;
      ended = true;
      this.execSessions.delete(session);
      fn();
    };
    const session: FakeExecSession = {
      call,
      get stdinText() {
        return stdinText;
      },
      get ended() {
        return ended;
      },
      onStdin: (fn) => listeners.push(fn),
      stdout: (text) => {
        if (!ended) io.stdout(text);
      },
      exit: (code) => end(() => settle.resolve(code)),
      drop: (message = 'the connection dropped') =>
        end(() => settle.reject(new KubeApiError(0, 'ConnectionFailed', `exec session in pod ${pod}: ${message}`))),
    };
    try {
      this.maybeFail('openExec');
      const p = this.pods.get(key(namespace, pod));
      if (!p) throw new KubeApiError(404, 'NotFound', `pods "${pod}" not found`);
      const cs = p.status?.containerStatuses?.find((c) => c.name === container);
      if (!cs) throw new KubeApiError(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
      if (!cs.state?.running)
        throw new KubeApiError(400, 'BadRequest', `container ${container} in pod ${pod} is not running`);
    } catch (err) {
      ended = true;
      settle.reject(err);
      return { write: () => {}, close: () => {}, done };
    }
    this.execs.push(call);
    this.execSessions.add(session);
    queueMicrotask(() => this.hooks.execSession?.(session));
    return {
      write: (text) => {
        if (ended) return;
        stdinText += text;
        for (const fn of listeners) fn(text);
      },
      close: () => end(() => settle.reject(new KubeApiError(0, 'Closed', 'closed by the client'))),
      done,
    };
  }

  /** Drop every open exec stream into a container (its process went away). */
  dropExecSessions(namespace: string, pod: string, container?: string): void {
    for (const s of [...this.execSessions]) {
      if (
        s.call.namespace === namespace &&
        s.call.pod === pod &&
        (container === undefined || s.call.container === container)
      )
        s.drop('the container stopped');
    }
  }

  async getLease(namespace: string, name: string): Promise<V1Lease | null> {
    this.maybeFail('getLease');
    const l = this.leases.get(key(namespace, name));
    return l ? clone(l) : null;
  }

  async createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    this.maybeFail('createLease');
    const name = lease.metadata!.name!;
    const k = key(namespace, name);
    if (this.leases.has(k))
      throw new KubeApiError(409, 'AlreadyExists', `leases.coordination.k8s.io "${name}" already exists`);
    const stored = clone(lease);
    stored.metadata = { ...stored.metadata, namespace, uid: this.newUid('lease'), resourceVersion: this.nextRv() };
    this.leases.set(k, stored);
    this.writes.push({ verb: 'create', kind: 'Lease', namespace, name, detail: clone(stored) });
    return clone(stored);
  }

  async replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    this.maybeFail('replaceLease');
    const name = lease.metadata!.name!;
    const k = key(namespace, name);
    const current = this.leases.get(k);
    if (!current) throw new KubeApiError(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    const rv = lease.metadata?.resourceVersion;
    if (!rv || rv !== current.metadata!.resourceVersion) {
      throw new KubeApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const stored = clone(lease);
    stored.metadata = { ...stored.metadata, namespace, uid: current.metadata!.uid, resourceVersion: this.nextRv() };
    this.leases.set(k, stored);
    this.writes.push({ verb: 'replace', kind: 'Lease', namespace, name, detail: clone(stored) });
    return clone(stored);
  }

  async deleteLease(namespace: string, name: string): Promise<void> {
    this.maybeFail('deleteLease');
    const k = key(namespace, name);
    if (!this.leases.has(k)) throw new KubeApiError(404, 'NotFound', `leases.coordination.k8s.io "${name}" not found`);
    this.leases.delete(k);
    this.writes.push({ verb: 'delete', kind: 'Lease', namespace, name });
  }

  async createEvent(namespace: string, event: EventInput): Promise<void> {
    this.maybeFail('createEvent');
    this.events.push({ ...clone(event), namespace, at: this.clock.now() });
    this.writes.push({
      verb: 'create',
      kind: 'Event',
      namespace,
      name: event.involvedObject.name,
      detail: { reason: event.reason },
    });
  }

  // ---------- internals ----------

  private nextRv(): string {
    this.rvCounter += 1;
    return String(this.rvCounter);
  }

  private maybeFail(method: Method): void {
    const f = this.failures.get(method);
    if (!f) return;
    f.remaining -= 1;
    if (f.remaining <= 0) this.failures.delete(method);
    throw f.err;
  }

  private podsMatching(namespace: string, selector: string): V1Pod[] {
    return [...this.pods.values()]
      .filter((p) => p.metadata?.namespace === namespace && matchesSelector(p.metadata?.labels, selector))
      .map(clone);
  }

  /** A pod changed (or was removed: `removed` is its last state): every write bumps its resourceVersion. */
  private notify(namespace: string, name: string, removed?: V1Pod): void {
    const current = this.pods.get(key(namespace, name));
    if (current) current.metadata!.resourceVersion = this.nextRv();
    for (const w of this.collectionWatchers) {
      if (w.namespace !== namespace || w.paused) continue;
      const subject = current ?? removed;
      if (!subject || !matchesSelector(subject.metadata?.labels, w.selector)) continue;
      const pod = clone(subject);
      const event = current ? ({ type: 'upsert', pod } as const) : ({ type: 'delete', pod } as const);
      setImmediate(() => {
        if (this.collectionWatchers.has(w) && !w.paused) w.handler(event);
      });
    }
    const handlers = this.watchers.get(key(namespace, name));
    if (!handlers || handlers.size === 0) return;
    const snapshot = current ? clone(current) : null;
    for (const h of [...handlers]) setImmediate(() => h(snapshot ? clone(snapshot) : null));
  }

  /** Run fn after `ms` engine milliseconds unless closed. */
  private later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const ac = new AbortController();
    this.timers.add(ac);
    this.clock.delay(ms, ac.signal).then(
      () => {
        this.timers.delete(ac);
        if (!this.closed) fn();
      },
      () => this.timers.delete(ac),
    );
  }

  private createPodFor(sts: V1StatefulSet, ordinal: number): void {
    const ns = sts.metadata!.namespace!;
    const name = `${sts.metadata!.name}-${ordinal}`;
    const uid = this.newUid('pod');
    const template = clone(sts.spec?.template ?? {});
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...template.metadata,
        name,
        namespace: ns,
        uid,
        resourceVersion: this.nextRv(),
        creationTimestamp: new Date(this.clock.now()),
        labels: {
          ...(template.metadata?.labels ?? {}),
          'statefulset.kubernetes.io/pod-name': name,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: sts.metadata!.name!,
            uid: sts.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: { ...(template.spec ?? { containers: [] }), hostname: name },
      status: {
        phase: 'Pending',
        podIP: `10.0.${Math.floor(this.uidCounter / 250)}.${(this.uidCounter % 250) + 1}`,
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: (template.spec?.containers ?? []).map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason: 'ContainerCreating' } },
        })),
      },
    };
    this.pods.set(key(ns, name), pod);
    this.podHistory.push({ namespace: ns, name, uid });
    this.notify(ns, name);
    this.later(this.opts.startDelayMs, () => {
      const p = this.pods.get(key(ns, name));
      if (!p || p.metadata!.uid !== uid || p.metadata?.deletionTimestamp) return;
      p.status!.phase = 'Running';
      for (const c of p.spec?.containers ?? []) this.startContainer(ns, name, c.name);
    });
  }

  private startContainer(namespace: string, name: string, container: string): void {
    const pod = this.pods.get(key(namespace, name));
    const cs = pod?.status?.containerStatuses?.find((c) => c.name === container);
    if (!pod || !cs) return;
    const uid = pod.metadata!.uid!;
    cs.state = { running: { startedAt: new Date(this.clock.now()) } };
    // Like the kubelet: every container instance has its own ID (kept in its terminated state later).
    cs.containerID = `fake://${uid}/${container}/${cs.restartCount ?? 0}`;
    cs.started = true;
    this.notify(namespace, name);
    this.hooks.containerStarted?.(namespace, clone(pod), container);
    if (this.opts.autoReady) {
      this.later(this.opts.readyDelayMs, () => {
        const p = this.pods.get(key(namespace, name));
        if (!p || p.metadata!.uid !== uid || p.metadata?.deletionTimestamp) return;
        const allRunning = (p.status?.containerStatuses ?? []).every((c) => c.state?.running);
        if (allRunning) this.setReady(namespace, name, true);
      });
    }
  }

  private async terminate(namespace: string, name: string, uid: string, gracePeriodSeconds: number): Promise<void> {
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) return;
    const graceAc = new AbortController();
    this.timers.add(graceAc);
    const graceOver = this.clock.delay(gracePeriodSeconds * 1000, graceAc.signal).then(
      () => 'grace' as const,
      () => 'closed' as const,
    );
    // preStop hooks of running containers, then SIGTERM; SIGKILL when the grace period ends.
    const hooks = (pod.spec?.containers ?? [])
      .filter(
        (c) => c.lifecycle?.preStop && pod.status?.containerStatuses?.find((s) => s.name === c.name)?.state?.running,
      )
      .map(async (c) => {
        try {
          await this.hooks.preStop?.(namespace, clone(pod), c);
        } catch {
          // A failing preStop hook does not stop the deletion (kubelet logs it and goes on).
        }
      });
    await Promise.race([Promise.all(hooks), graceOver]);
    graceAc.abort();
    this.timers.delete(graceAc);
    if (this.closed) return;
    const current = this.pods.get(k);
    if (!current || current.metadata!.uid !== uid) return;
    for (const cs of current.status?.containerStatuses ?? []) {
      if (cs.state?.running) {
        cs.state = {
          terminated: {
            exitCode: 0,
            reason: 'Completed',
            finishedAt: new Date(this.clock.now()),
            ...(cs.containerID ? { containerID: cs.containerID } : {}),
          },
        };
        this.hooks.containerStopped?.(namespace, clone(current), cs.name);
      }
    }
    this.dropExecSessions(namespace, name);
    this.pods.delete(k);
    this.notify(namespace, name, current);
    const stsName = current.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet')?.name;
    if (!stsName) return;
    this.later(this.opts.recreateDelayMs, () => {
      const sts = this.statefulSets.get(key(namespace, stsName));
      if (!sts || this.pods.has(k)) return;
      const ordinal = Number(name.slice(stsName.length + 1));
      if (ordinal < (sts.spec?.replicas ?? 1)) this.createPodFor(sts, ordinal);
    });
  }
}

/** True when the pod's Ready condition is True. */
export function podIsReady(pod: V1Pod | null | undefined): boolean {
  return !!pod?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}
