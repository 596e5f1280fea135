// Test doubles for the plugin: an in-memory PluginKube (objects, access review, a Job's pods, scripted logs),
// writers that capture output, and a CliContext whose cluster factory records (or forbids) being called.
import type { KubernetesObject, V1Job, V1Pod } from '@kubernetes/client-node';
import { KubeApiError } from '../../../shared/errors.js';
import type {
  AccessReview,
  JobSnapshot,
  LogStreamOptions,
  ObjectRef,
  PluginKube,
} from '../../../shared/adapters/plugin-kube.js';
import type { CliContext, Connection, Writer } from '../../../plugin/io.js';
import type { EngineApi } from '../../../shared/task/engine.js';

export class CaptureWriter implements Writer {
  text = '';
  constructor(readonly isTTY = false) {}
  write(t: string): void {
    this.text += t;
  }
  get lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
}

const key = (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
  `${apiVersion}|${kind}|${namespace ?? ''}|${name}`;

export interface LogScript {
  /** The container's log so far; lines pushed later reach open follow streams (like a runner writing on). */
  lines: string[];
  /** Resolves when the log ends (the container exited); default: at once after the lines. */
  end?: Promise<void>;
  /**
   * Connection by connection: the n-th entry makes the n-th stream break (reject, like undici's "terminated")
   * or end cleanly (like a server closing it) after delivering `after` lines; later connections work normally.
   */
  breaks?: Array<{ after: number; how: 'error' | 'end' }>;
  /** Line i is written at 2026-01-01T00:00:00Z + i * stepMs (default 250 ms: several lines share a second). */
  stepMs?: number;
}

/** The kubelet's RFC 3339 nano timestamp of line i of a script (trailing zeros trimmed, as Go's RFC3339Nano). */
export function scriptStamp(script: LogScript, i: number): string {
  const ms = Date.UTC(2026, 0, 1) + i * (script.stepMs ?? 250);
  const nanos = String((ms % 1000) * 1_000_000 + 4321)
    .padStart(9, '0')
    .replace(/0+$/, '');
  return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** In-memory PluginKube with the real adapter's contract (null on 404, KubeApiError 409 on create conflicts). */
export class FakePluginKube implements PluginKube {
  objects = new Map<string, KubernetesObject>();
  writes: string[] = [];
  /** Writes sent with dryRun=All (--dry-run=server): validated like the real thing, never stored. */
  dryRunWrites: string[] = [];
  deletes: Array<{ ref: ObjectRef; opts: unknown }> = [];
  allowed: (r: AccessReview) => boolean = () => true;
  logs = new Map<string, LogScript>();
  streamed: string[] = [];
  private observers = new Set<{ ns: string; job: string; fn: (s: JobSnapshot) => void }>();
  private rv = 1;

  put(obj: KubernetesObject): void {
    const m = obj.metadata ?? {};
    obj.metadata = {
      ...m,
      resourceVersion: String(this.rv++),
      creationTimestamp: m.creationTimestamp ?? new Date(Date.UTC(2026, 0, 1, 0, 0, this.rv)),
    };
    this.objects.set(key(obj.apiVersion ?? '', obj.kind ?? '', m.namespace, m.name ?? ''), obj);
    this.notify();
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const had = this.objects.delete(key(apiVersion, kind, namespace, name));
    this.notify();
    return had;
  }

  async get<T extends KubernetesObject = KubernetesObject>(ref: ObjectRef): Promise<T | null> {
    return (this.objects.get(key(ref.apiVersion, ref.kind, ref.namespace, ref.name)) as T | undefined) ?? null;
  }

  async list<T extends KubernetesObject = KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    labelSelector?: string,
  ): Promise<T[]> {
    const wanted = parseSelector(labelSelector);
    return [...this.objects.values()].filter(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        (namespace === undefined || o.metadata?.namespace === namespace) &&
        Object.entries(wanted).every(([k, v]) => o.metadata?.labels?.[k] === v),
    ) as T[];
  }

  async create<T extends KubernetesObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const m = obj.metadata ?? {};
    if (this.objects.has(key(obj.apiVersion ?? '', obj.kind ?? '', m.namespace, m.name ?? ''))) {
      throw new KubeApiError(409, 'AlreadyExists', `${obj.kind} ${m.name} already exists`);
    }
    if (opts.dryRun) {
      this.dryRunWrites.push(`create ${obj.kind} ${m.namespace ?? ''}/${m.name}`);
      return structuredClone(obj);
    }
    this.writes.push(`create ${obj.kind} ${m.namespace ?? ''}/${m.name}`);
    const copy = structuredClone(obj);
    this.put(copy);
    return copy;
  }

  async replace<T extends KubernetesObject>(obj: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const m = obj.metadata ?? {};
    const current = this.objects.get(key(obj.apiVersion ?? '', obj.kind ?? '', m.namespace, m.name ?? ''));
    if (!current) throw new KubeApiError(404, 'NotFound', `${obj.kind} ${m.name} not found`);
    if (m.resourceVersion !== current.metadata?.resourceVersion)
      throw new KubeApiError(409, 'Conflict', 'resourceVersion changed');
    if (opts.dryRun) {
      this.dryRunWrites.push(`replace ${obj.kind} ${m.namespace ?? ''}/${m.name}`);
      return structuredClone(obj);
    }
    this.writes.push(`replace ${obj.kind} ${m.namespace ?? ''}/${m.name}`);
    const copy = structuredClone(obj);
    this.put(copy);
    return copy;
  }

  async delete(
    ref: ObjectRef,
    opts: { gracePeriodSeconds?: number; propagationPolicy?: string; dryRun?: boolean } = {},
  ): Promise<boolean> {
    if (opts.dryRun) {
      this.dryRunWrites.push(`delete ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`);
      return this.objects.has(key(ref.apiVersion, ref.kind, ref.namespace, ref.name));
    }
    this.writes.push(`delete ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`);
    this.deletes.push({ ref, opts });
    return this.remove(ref.apiVersion, ref.kind, ref.namespace, ref.name);
  }

  async canI(review: AccessReview) {
    return this.allowed(review) ? { allowed: true } : { allowed: false, reason: 'RBAC: access denied' };
  }

  snapshot(ns: string, job: string): JobSnapshot {
    return {
      job: (this.objects.get(key('batch/v1', 'Job', ns, job)) as V1Job | undefined) ?? null,
      pods: [...this.objects.values()].filter(
        (o) =>
          o.kind === 'Pod' &&
          o.metadata?.namespace === ns &&
          o.metadata?.labels?.['batch.kubernetes.io/job-name'] === job,
      ) as V1Pod[],
    };
  }

  private notify(): void {
    for (const o of this.observers) o.fn(this.snapshot(o.ns, o.job));
  }

  async observeJob(namespace: string, jobName: string, onChange: (s: JobSnapshot) => void) {
    const o = { ns: namespace, job: jobName, fn: onChange };
    this.observers.add(o);
    onChange(this.snapshot(namespace, jobName));
    return () => void this.observers.delete(o);
  }

  get observing(): number {
    return this.observers.size;
  }

  /** Every follow request: pod, sinceTime, timestamps. */
  logRequests: Array<{ pod: string; sinceTime?: string; timestamps?: boolean }> = [];
  private logWaiters = new Set<() => void>();

  /** Append a line to a pod's log (open follow streams get it). */
  appendLog(namespace: string, pod: string, line: string): void {
    this.logs.get(`${namespace}/${pod}`)?.lines.push(line);
    for (const w of [...this.logWaiters]) w();
  }

  async streamLogs(
    namespace: string,
    pod: string,
    _container: string,
    onLine: (line: string) => void,
    signal: AbortSignal,
    opts: LogStreamOptions = {},
  ) {
    this.streamed.push(pod);
    this.logRequests.push({ pod, ...opts });
    const script = this.logs.get(`${namespace}/${pod}`);
    if (!script) throw new KubeApiError(400, 'BadRequest', `container runner in pod ${pod} is waiting to start`);
    const brk = script.breaks?.shift();
    const since = opts.sinceTime ? Date.parse(opts.sinceTime) : -Infinity;
    let next = 0;
    let sent = 0;
    let ended = false;
    void script.end?.then(() => {
      ended = true;
      for (const w of [...this.logWaiters]) w();
    });
    const cut = () => {
      if (!brk || sent < brk.after) return false;
      if (brk.how === 'error') throw new KubeApiError(0, 'StreamBroken', `logs of pod ${namespace}/${pod}: terminated`);
      return true;
    };
    for (;;) {
      while (next < script.lines.length) {
        const i = next++;
        const ts = scriptStamp(script, i);
        if (Date.parse(ts) < since) continue;
        if (cut()) return;
        onLine(opts.timestamps ? `${ts} ${script.lines[i]}` : script.lines[i]!);
        sent += 1;
      }
      if (cut()) return;
      if (!script.end || ended || signal.aborted) return;
      await new Promise<void>((resolve) => {
        const w = () => {
          this.logWaiters.delete(w);
          signal.removeEventListener('abort', w);
          resolve();
        };
        this.logWaiters.add(w);
        signal.addEventListener('abort', w, { once: true });
      });
    }
  }
}

function parseSelector(sel: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (sel ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (k) out[k] = v ?? '';
  }
  return out;
}

/** A runner pod of a Job in a given container state. */
export function runnerPod(
  ns: string,
  job: string,
  name: string,
  state: { running?: boolean; terminated?: { exitCode: number; message?: string; reason?: string }; waiting?: string },
  createdSecond = 0,
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { 'batch.kubernetes.io/job-name': job, 'app.kubernetes.io/name': 'crate-decommission' },
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, createdSecond)),
    },
    status: {
      phase: state.terminated
        ? state.terminated.exitCode === 0
          ? 'Succeeded'
          : 'Failed'
        : state.running
          ? 'Running'
          : 'Pending',
      containerStatuses: [
        {
          name: 'runner',
          image: 'x',
          imageID: '',
          ready: Boolean(state.running),
          restartCount: 0,
          state: state.terminated
            ? {
                terminated: {
                  exitCode: state.terminated.exitCode,
                  message: state.terminated.message,
                  reason: state.terminated.reason ?? 'Completed',
                },
              }
            : state.running
              ? { running: { startedAt: new Date() } }
              : { waiting: { reason: state.waiting ?? 'ContainerCreating' } },
        },
      ],
    },
  };
}

export function statefulSet(ns: string, name: string, replicas = 3): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: ns },
    spec: { replicas },
  } as KubernetesObject;
}

export function installRunnerRbac(kube: FakePluginKube, ns: string): void {
  kube.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'crate-decommission', namespace: ns } });
  kube.put({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'crate-decommission', namespace: ns },
  });
}

export interface TestContext extends CliContext {
  out: CaptureWriter;
  err: CaptureWriter;
  connectCalls: number;
  engineLoads: number;
  abort: AbortController;
}

/** A CliContext; without `kube`, connect() and loadEngine() throw (nothing may touch a cluster). */
export function testContext(
  opts: {
    kube?: FakePluginKube;
    files?: Record<string, string>;
    engine?: EngineApi;
    tty?: boolean;
    namespace?: string;
  } = {},
): TestContext {
  const out = new CaptureWriter(opts.tty ?? false);
  const err = new CaptureWriter(false);
  const abort = new AbortController();
  const ctx: TestContext = {
    out,
    err,
    abort,
    connectCalls: 0,
    engineLoads: 0,
    stdout: out,
    stderr: err,
    env: {},
    signal: abort.signal,
    async connect(): Promise<Connection> {
      ctx.connectCalls += 1;
      if (!opts.kube) throw new Error('TEST: the cluster was touched');
      const kube = opts.kube;
      return {
        namespace: opts.namespace ?? 'default',
        kube,
        identity: 'tester@test',
        async engineDeps() {
          throw new Error('TEST: no engine deps');
        },
      };
    },
    async loadEngine() {
      ctx.engineLoads += 1;
      if (!opts.engine) throw new Error('TEST: the engine was loaded');
      return opts.engine;
    },
    async readFile(path: string) {
      const text = opts.files?.[path];
      const isDir = Object.keys(opts.files ?? {}).some((k) => k.startsWith(`${path.replace(/\/$/, '')}/`));
      if (text === undefined && isDir)
        throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read`), { code: 'EISDIR' });
      if (text === undefined)
        throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
      return text;
    },
    /** The `files` keys under `path/`, as a directory listing (a file's own directories from its key). */
    async listDir(path: string) {
      const prefix = `${path.replace(/\/$/, '')}/`;
      const entries = new Map<string, boolean>();
      for (const k of Object.keys(opts.files ?? {})) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        const slash = rest.indexOf('/');
        entries.set(slash === -1 ? rest : rest.slice(0, slash), slash !== -1);
      }
      return [...entries].map(([name, directory]) => ({ name, directory }));
    },
    randomSuffix: () => 'abcde',
    now: () => new Date(Date.UTC(2026, 0, 1)),
    confirm: async () => true,
  };
  return ctx;
}
