// Default mode: run a Task as a Kubernetes Job (the runner), follow its pods' logs across retries,
// read the result from the runner's termination message, and exit with the runner's code.
// Also `jobs list|attach|cancel`. Plain functions over the PluginKube port: tests drive them with fakes.
import type {
  V1ContainerStatus,
  V1Job,
  V1Pod,
  V1ServiceAccount,
  V1StatefulSet,
  KubernetesObject,
} from '@kubernetes/client-node';
import {
  BadInputError,
  KubeApiError,
  EXIT_INTERRUPTED,
  ExitCode,
  deadlineSecondsFor,
  runnerArgsFor,
  type Task,
} from '../shared/task/index.js';
import {
  APP_NAME,
  DEFAULT_SERVICE_ACCOUNT,
  LABEL_JOB_NAME,
  LABEL_NAME,
  RUNNER_CONTAINER,
  buildRunnerJob,
} from './objects.js';
import type { JobSnapshot, PluginKube, WriteOptions } from '../shared/adapters/index.js';
import type { ProgressSink } from './progress.js';

export const LABEL_CLUSTER = 'crate-decommission.crate.io/cluster';
export const LABEL_OPERATION = 'crate-decommission.crate.io/operation';

/** What the Task's target resolved to in the cluster. */
export interface ResolvedTarget {
  /** Cluster name for labels and the Job name (StatefulSet or CrateDB name). */
  cluster: string;
  /** Pods the operation may touch (for the Job's deadline). */
  pods: number;
  /**
   * Delete grace periods of the pods dc_util drains (kubernetes_managed by their own spec), longest first: the
   * Job's deadline budgets each pod by its own strategy's worst case.
   */
  deleteGraceSeconds?: number[];
}

/** The engine's detection, loaded when a target is resolved: the plugin's entry never imports the engine statically. */
function loadDetection(): Promise<typeof import('../shared/index.js')> {
  return import('../shared/index.js');
}

function withGraces(target: ResolvedTarget, graces: number[]): ResolvedTarget {
  return graces.length > 0 ? { ...target, deleteGraceSeconds: graces } : target;
}

/**
 * The delete grace period of every pod of these StatefulSets that dc_util drains, judged on the pod's own spec
 * (the template for replicas without a pod yet), longest first. Best effort: a list that fails budgets by the
 * templates alone.
 */
async function deleteGracesOf(kube: PluginKube, namespace: string, statefulSets: V1StatefulSet[]): Promise<number[]> {
  const { detectPodStrategy, detectStrategy } = await loadDetection();
  const graces: number[] = [];
  for (const sts of statefulSets) {
    const template = detectStrategy(sts);
    const replicas = sts.spec?.replicas ?? 1;
    const selector = Object.entries(sts.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    let pods: V1Pod[] = [];
    if (selector) {
      try {
        pods = await kube.list<V1Pod>('v1', 'Pod', namespace, selector);
      } catch {
        pods = [];
      }
    }
    const own = pods.filter((p) =>
      p.metadata?.ownerReferences?.some((o) => o.kind === 'StatefulSet' && o.name === sts.metadata?.name),
    );
    for (const pod of own) {
      const d = detectPodStrategy(sts, pod);
      if (d.strategy === 'kubernetes_managed') graces.push(d.deleteGracePeriodSeconds);
    }
    if (template.strategy === 'kubernetes_managed') {
      for (let i = own.length; i < replicas; i++) graces.push(template.deleteGracePeriodSeconds);
    }
  }
  return graces.sort((a, b) => b - a);
}

/** Check that the target exists and find its cluster. Not found -> BadInputError (exit 2). */
export async function resolveTarget(kube: PluginKube, task: Task): Promise<ResolvedTarget> {
  const { namespace } = task;
  const { kind, name } = task.target;
  switch (kind) {
    case 'statefulset': {
      const sts = await kube.get<V1StatefulSet>({ apiVersion: 'apps/v1', kind: 'StatefulSet', namespace, name });
      if (!sts) {
        throw new BadInputError(
          `StatefulSet ${namespace}/${name} not found. Check the name and namespace: kubectl get statefulsets -n ${namespace}`,
        );
      }
      return withGraces(
        { cluster: name, pods: task.operation === 'rollout' ? (sts.spec?.replicas ?? 1) : 1 },
        await deleteGracesOf(kube, namespace, [sts]),
      );
    }
    case 'cratedb': {
      const cr = await kube.get<{ spec?: { nodes?: { data?: Array<{ replicas?: number }> } } } & KubernetesObject>({
        apiVersion: 'cloud.crate.io/v1',
        kind: 'CrateDB',
        namespace,
        name,
      });
      if (!cr) {
        throw new BadInputError(
          `CrateDB ${namespace}/${name} not found. Check the name and namespace: kubectl get cratedbs -n ${namespace}`,
        );
      }
      const pods = (cr.spec?.nodes?.data ?? []).reduce((sum, d) => sum + (d.replicas ?? 0), 0);
      // crate-operator's StatefulSets carry an owner reference to the CrateDB.
      let owned: V1StatefulSet[];
      try {
        owned = (await kube.list<V1StatefulSet>('apps/v1', 'StatefulSet', namespace)).filter((s) =>
          s.metadata?.ownerReferences?.some((o) => o.kind === 'CrateDB' && o.name === name),
        );
      } catch {
        owned = [];
      }
      return withGraces(
        { cluster: name, pods: task.operation === 'rollout' ? Math.max(1, pods) : 1 },
        await deleteGracesOf(kube, namespace, owned),
      );
    }
    case 'pod': {
      const pod = await kube.get<V1Pod>({ apiVersion: 'v1', kind: 'Pod', namespace, name });
      if (!pod)
        throw new BadInputError(
          `pod ${namespace}/${name} not found. Check the name and namespace: kubectl get pods -n ${namespace}`,
        );
      const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'StatefulSet');
      if (!owner) {
        throw new BadInputError(
          `pod ${namespace}/${name} is not managed by a StatefulSet. Pass a CrateDB pod of a StatefulSet`,
        );
      }
      const sts = await kube.get<V1StatefulSet>({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        namespace,
        name: owner.name,
      });
      if (task.operation === 'rollout') {
        return withGraces(
          { cluster: owner.name, pods: sts?.spec?.replicas ?? 1 },
          sts ? await deleteGracesOf(kube, namespace, [sts]) : [],
        );
      }
      const d = sts ? (await loadDetection()).detectPodStrategy(sts, pod) : null;
      return withGraces(
        { cluster: owner.name, pods: 1 },
        d?.strategy === 'kubernetes_managed' ? [d.deleteGracePeriodSeconds] : [],
      );
    }
  }
}

/**
 * May the user create the Job, and is the runner's RBAC installed? Problems are BadInputError (exit 2)
 * saying what to run.
 */
export async function checkJobPrerequisites(
  kube: PluginKube,
  namespace: string,
  serviceAccountName = DEFAULT_SERVICE_ACCOUNT,
): Promise<string[]> {
  const warnings: string[] = [];
  const review = await kube.canI({ namespace, verb: 'create', group: 'batch', resource: 'jobs' });
  if (!review.allowed) {
    throw new BadInputError(
      `you may not create jobs.batch in namespace ${namespace}${review.reason ? ` (${review.reason})` : ''}. ` +
        'Ask for that permission, or run the engine from here with --local',
    );
  }
  const sa = await kube.get<V1ServiceAccount>({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    namespace,
    name: serviceAccountName,
  });
  if (!sa) {
    throw new BadInputError(
      `the runner's ServiceAccount ${namespace}/${serviceAccountName} does not exist. run: kubectl crate-decommission rbac install -n ${namespace}`,
    );
  }
  // The binding may live as a RoleBinding or (rbac install --cluster-wide) a ClusterRoleBinding.
  try {
    const rb = await kube.get({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      namespace,
      name: serviceAccountName,
    });
    if (!rb) {
      const crb = await kube.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        name: `${APP_NAME}-${namespace}-${serviceAccountName}`,
      });
      if (!crb) {
        throw new BadInputError(
          `the runner's RoleBinding ${namespace}/${serviceAccountName} does not exist. run: kubectl crate-decommission rbac install -n ${namespace}`,
        );
      }
    }
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 403) {
      warnings.push(`cannot read the runner's RoleBinding in ${namespace} (forbidden); assuming rbac install was run`);
    } else {
      throw err;
    }
  }
  return warnings;
}

/** crate-decommission-<op>-<cluster>-<suffix>, at most 63 characters (it becomes a label value). */
export function jobNameFor(operation: string, cluster: string, suffix: string): string {
  const head = `${APP_NAME}-${operation}-`;
  const room = 63 - head.length - suffix.length - 1;
  const clusterPart = cluster.slice(0, Math.max(1, room)).replace(/[-.]+$/, '');
  return `${head}${clusterPart}-${suffix}`;
}

export interface JobOptions {
  image?: string | undefined;
  serviceAccountName?: string;
  suffix: string;
  /** Default: the runner Job's 24 h. */
  ttlSecondsAfterFinished?: number;
}

/** The runner Job for a Task (the runner gets --operation-id = the Job name so a retried pod resumes). */
export function buildJobForTask(task: Task, target: ResolvedTarget, opts: JobOptions): V1Job {
  const name = jobNameFor(task.operation, target.cluster, opts.suffix);
  const withId: Task = { ...task, operationId: task.operationId ?? name };
  return buildRunnerJob({
    namespace: task.namespace,
    name,
    args: runnerArgsFor(withId),
    labels: { [LABEL_CLUSTER]: target.cluster.slice(0, 63), [LABEL_OPERATION]: task.operation },
    activeDeadlineSeconds: deadlineSecondsFor(task, target),
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.serviceAccountName ? { serviceAccountName: opts.serviceAccountName } : {}),
    ...(opts.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished } : {}),
  });
}

/** The runner's terminated state, when a pod's runner container has ended. */
export interface RunnerTermination {
  podName: string;
  exitCode: number;
  reason: string | null;
  message: string | null;
}

function runnerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === RUNNER_CONTAINER) ?? statuses[0];
}

export function runnerTermination(pod: V1Pod): RunnerTermination | null {
  const t = runnerStatus(pod)?.state?.terminated;
  if (!t) return null;
  return {
    podName: pod.metadata?.name ?? '',
    exitCode: t.exitCode,
    reason: t.reason ?? null,
    message: t.message ?? null,
  };
}

function started(pod: V1Pod): boolean {
  const s = runnerStatus(pod)?.state;
  return Boolean(s?.running || s?.terminated) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

function waitingReason(pod: V1Pod): string | null {
  const w = runnerStatus(pod)?.state?.waiting;
  if (w?.reason && w.reason !== 'ContainerCreating') return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
  return null;
}

function created(pod: V1Pod): number {
  const t = pod.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

export function jobFinished(
  job: V1Job | null,
): { type: 'Complete' | 'Failed'; reason: string | null; message: string | null } | null {
  for (const c of job?.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      return { type: c.type, reason: c.reason ?? null, message: c.message ?? null };
    }
  }
  return null;
}

/** Parse the runner's result from a termination message (JSON); null when absent or not JSON (log tail). */
export function parseTerminationMessage(message: string | null | undefined): Record<string, unknown> | null {
  if (!message) return null;
  const t = message.trim();
  if (!t.startsWith('{')) return null;
  try {
    const v = JSON.parse(t) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The latest snapshot, and waiting for one that satisfies a predicate (or abort). */
class Latest {
  private value: JobSnapshot | null = null;
  private waiters: Array<{ pred: (s: JobSnapshot) => boolean; resolve: (s: JobSnapshot | null) => void }> = [];
  set(s: JobSnapshot): void {
    this.value = s;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred(s)) w.resolve(s);
      else keep.push(w);
    }
    this.waiters = keep;
  }
  get current(): JobSnapshot | null {
    return this.value;
  }
  wait(pred: (s: JobSnapshot) => boolean, signal: AbortSignal): Promise<JobSnapshot | null> {
    if (signal.aborted) return Promise.resolve(null);
    if (this.value && pred(this.value)) return Promise.resolve(this.value);
    return new Promise((resolve) => {
      const w = { pred, resolve: (s: JobSnapshot | null) => resolve(s) };
      this.waiters.push(w);
      signal.addEventListener(
        'abort',
        () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(null);
        },
        { once: true },
      );
    });
  }
}

export interface FollowOutcome {
  /** Ctrl-C: stopped following; the Job goes on. */
  detached: boolean;
  /** The runner's exit code (or derived from the Job's failure). */
  exitCode: number;
  /** The runner's JSON result, when it wrote one. */
  result: Record<string, unknown> | null;
  /** What ended the Job when no runner result explains it (deadline, deletion, log tail). */
  failure: string | null;
  /** Runner pods followed, in order. */
  pods: string[];
}

/**
 * Follow a Job: stream each runner pod's log as it comes (pods by label batch.kubernetes.io/job-name, oldest
 * first; when the Job retries, the next pod), until a runner exits 0 or the Job is Complete/Failed/deleted.
 */
export async function followJob(input: {
  kube: PluginKube;
  namespace: string;
  jobName: string;
  progress: ProgressSink;
  signal: AbortSignal;
}): Promise<FollowOutcome> {
  const { kube, namespace, jobName, progress, signal } = input;
  const latest = new Latest();
  const seen = new Set<string>();
  const followed: string[] = [];
  let lastStatus = '';
  const nextPod = (s: JobSnapshot): V1Pod | null => {
    const candidates = s.pods.filter((p) => !seen.has(p.metadata?.name ?? '')).sort((a, b) => created(a) - created(b));
    for (const p of candidates) {
      if (started(p)) return p;
      const why = waitingReason(p);
      if (why) {
        const text = `runner pod ${p.metadata?.name ?? ''} is waiting: ${why}`;
        if (text !== lastStatus) {
          lastStatus = text;
          progress.status(text);
        }
      }
      return null; // the oldest unseen pod is not running yet: wait for it (never skip ahead)
    }
    return null;
  };
  const stop = await kube.observeJob(namespace, jobName, (s) => latest.set(s));
  let last: RunnerTermination | null = null;
  // The runner's last log line carries the full result; its termination message only a 4 KiB summary of it
  // (runner/termination.ts: a plan there keeps pod names only). Kept per pod: only the last pod's result counts.
  let logResult: { pod: string; result: Record<string, unknown> } | null = null;
  try {
    for (;;) {
      const snap = await latest.wait(
        (s) => s.job === null || jobFinished(s.job) !== null || nextPod(s) !== null,
        signal,
      );
      if (!snap) return { detached: true, exitCode: EXIT_INTERRUPTED, result: null, failure: null, pods: followed };
      const pod = nextPod(snap);
      if (!pod) break; // the Job is finished or gone, no further pod to follow
      const podName = pod.metadata?.name ?? '';
      seen.add(podName);
      followed.push(podName);
      progress.runnerPod(podName, followed.length);
      await followPodLog({
        kube,
        namespace,
        podName,
        onLine: (line) => {
          const result = runnerResultOf(line);
          if (result) logResult = { pod: podName, result };
          progress.line(line);
        },
        onStatus: (message) => progress.status(message),
        signal,
        ended: (waitMs) => podEnded(latest, podName, waitMs, signal),
      });
      if (signal.aborted)
        return { detached: true, exitCode: EXIT_INTERRUPTED, result: null, failure: null, pods: followed };
      const done = await latest.wait((s) => {
        const p = s.pods.find((x) => x.metadata?.name === podName);
        return !p || runnerTermination(p) !== null;
      }, signal);
      if (!done) return { detached: true, exitCode: EXIT_INTERRUPTED, result: null, failure: null, pods: followed };
      const p = done.pods.find((x) => x.metadata?.name === podName);
      last = p ? runnerTermination(p) : null;
      if (last && last.exitCode === 0) break;
      // Failed runner: the Job either retries (a new pod appears, followed next) or fails.
    }
  } finally {
    stop();
  }
  const outcome = outcomeOf(latest.current, last, followed);
  const full = logResult as { pod: string; result: Record<string, unknown> } | null;
  if (outcome.result && full && full.pod === followed.at(-1)) outcome.result = { ...outcome.result, ...full.result };
  return outcome;
}

/** The `result` of the runner's closing log line (`runner finished with exit code N`), or null for any other line. */
function runnerResultOf(line: string): Record<string, unknown> | null {
  if (!line.includes('"step":"runner"') || !line.includes('"result"')) return null;
  try {
    const rec = JSON.parse(line) as { step?: unknown; exitCode?: unknown; result?: unknown };
    const r = rec.result;
    return rec.step === 'runner' && typeof rec.exitCode === 'number' && r && typeof r === 'object' && !Array.isArray(r)
      ? (r as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/** Has the runner container of the pod ended (or the pod gone)? Waits up to waitMs for the status to say so. */
async function podEnded(latest: Latest, podName: string, waitMs: number, signal: AbortSignal): Promise<boolean> {
  const ended = (s: JobSnapshot) => {
    const p = s.pods.find((x) => x.metadata?.name === podName);
    return !p || runnerTermination(p) !== null || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
  };
  if (latest.current && ended(latest.current)) return true;
  if (waitMs <= 0) return false;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitMs);
  try {
    return (await latest.wait(ended, AbortSignal.any([signal, stop.signal]))) !== null;
  } finally {
    clearTimeout(timer);
  }
}

/** A kubelet timestamp (RFC 3339, nanoseconds with trailing zeros trimmed) as [epoch second, nanosecond]. */
function stamp(text: string): [number, number] | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return null;
  const sec = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(sec)) return null;
  return [sec / 1000, Number((m[2] ?? '').padEnd(9, '0'))];
}

const cmpStamp = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

/**
 * De-duplicates a log that is read again after a break. Lines come with the kubelet's timestamps; a resume asks
 * for `sinceTime` = the second of the last line shown (the API takes whole seconds), so it repeats that second:
 * every line older than the last one shown is dropped, and within its second, the lines already shown.
 */
export class LogResume {
  private last: [number, number] | null = null;
  private lastSecond: number | null = null;
  private readonly shown = new Set<string>();

  /** The line without its timestamp, or null when it was shown already. Lines without a timestamp pass. */
  accept(raw: string): string | null {
    const sp = raw.indexOf(' ');
    const ts = sp > 0 ? stamp(raw.slice(0, sp)) : null;
    if (!ts) return raw;
    const text = raw.slice(sp + 1);
    if (this.last && cmpStamp(ts, this.last) <= 0) {
      if (cmpStamp(ts, this.last) < 0 || this.shown.has(raw)) return null;
    }
    if (this.lastSecond !== ts[0]) {
      this.shown.clear();
      this.lastSecond = ts[0];
    }
    this.shown.add(raw);
    this.last = ts;
    return text;
  }

  /** sinceTime for the next connection (the second of the last line shown), or undefined before any line. */
  get sinceTime(): string | undefined {
    return this.lastSecond === null
      ? undefined
      : new Date(this.lastSecond * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
}

/**
 * Follow one runner pod's log until its container ended: the stream is resumed after any error or early end
 * (a server, proxy or kubelet closing it), from `sinceTime` with the lines already shown dropped, so nothing is
 * lost or repeated. Returns when the container ended (and its log was read to the end), or on abort.
 */
export async function followPodLog(input: {
  kube: PluginKube;
  namespace: string;
  podName: string;
  onLine: (line: string) => void;
  onStatus: (message: string) => void;
  signal: AbortSignal;
  /** Has the container ended? May wait up to waitMs for its status to say so. */
  ended: (waitMs: number) => Promise<boolean>;
  /** Pause before a resume after a failure, ms (doubled per failure in a row, at most 10 s). */
  backoffMs?: number;
}): Promise<void> {
  const { kube, namespace, podName, onLine, onStatus, signal } = input;
  const resume = new LogResume();
  let failures = 0;
  let lastPass = false;
  for (;;) {
    if (signal.aborted) return;
    let error: unknown = null;
    let delivered = 0;
    try {
      const since = resume.sinceTime;
      await kube.streamLogs(
        namespace,
        podName,
        RUNNER_CONTAINER,
        (raw) => {
          const line = resume.accept(raw);
          if (line === null) return;
          delivered += 1;
          onLine(line);
        },
        signal,
        { timestamps: true, ...(since ? { sinceTime: since } : {}) },
      );
    } catch (err) {
      error = err;
    }
    if (signal.aborted) return;
    // A clean end usually means the container ended; its status may take a moment to say so.
    const ended = await input.ended(error === null ? 2000 : 0);
    if (signal.aborted) return;
    if (ended) {
      // After a break, read once more: the container may have written its last lines meanwhile.
      if (error === null || lastPass) return;
      lastPass = true;
      continue;
    }
    if (error === null) {
      failures = delivered > 0 ? 0 : failures + 1;
    } else {
      failures += 1;
      onStatus(
        `log stream of ${podName} broke (${error instanceof Error ? error.message : String(error)}); resuming${resume.sinceTime ? ` from ${resume.sinceTime}` : ''}`,
      );
    }
    if (failures > 0) {
      const ms = Math.min(10_000, (input.backoffMs ?? 500) * 2 ** Math.min(failures - 1, 5));
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

function outcomeOf(snap: JobSnapshot | null, last: RunnerTermination | null, pods: string[]): FollowOutcome {
  const finished = jobFinished(snap?.job ?? null);
  if (last) {
    const result = parseTerminationMessage(last.message);
    const failure = result
      ? null
      : last.message
        ? lastLines(last.message)
        : last.exitCode === 0
          ? null
          : `runner exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}`;
    // A Job that hit its deadline killed the runner: that is a timeout whatever the signal's exit code.
    if (finished?.type === 'Failed' && finished.reason === 'DeadlineExceeded' && last.exitCode !== 0 && !result) {
      return {
        detached: false,
        exitCode: ExitCode.timeout,
        result: null,
        failure: `Job deadline exceeded: ${finished.message ?? ''}`.trim(),
        pods,
      };
    }
    return { detached: false, exitCode: documentedExitCode(last.exitCode), result, failure, pods };
  }
  if (!snap?.job)
    return {
      detached: false,
      exitCode: ExitCode.failed,
      result: null,
      failure: 'the Job was deleted (cancelled?) before its runner finished',
      pods,
    };
  if (finished?.type === 'Complete')
    return { detached: false, exitCode: ExitCode.ok, result: null, failure: null, pods };
  if (finished?.reason === 'DeadlineExceeded') {
    return {
      detached: false,
      exitCode: ExitCode.timeout,
      result: null,
      failure: `Job deadline exceeded: ${finished.message ?? ''}`.trim(),
      pods,
    };
  }
  return {
    detached: false,
    exitCode: ExitCode.failed,
    result: null,
    failure: `Job failed: ${finished?.reason ?? 'unknown'} ${finished?.message ?? ''}`.trim(),
    pods,
  };
}

/** What a log tail (FallbackToLogsOnError) says went wrong: the runner's first error line, else the last lines. */
/** The runner's own codes (0-5) pass through; a runner killed by a signal or OOM (137, 143...) is a failed operation. */
export function documentedExitCode(code: number): number {
  return Number.isInteger(code) && code >= 0 && code <= 5 ? code : ExitCode.failed;
}

function lastLines(text: string): string {
  const lines = text.trim().split('\n');
  for (const line of lines) {
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown };
      if (rec.level === 'error' && typeof rec.msg === 'string') return `runner: ${rec.msg}`;
    } catch {
      // not a runner JSON line
    }
  }
  return lines.slice(-3).join(' | ');
}

/** Safe cancel: delete the runner pods with a grace period (SIGTERM: allocation reset, Lease released), then the Job. */
export async function cancelJob(
  kube: PluginKube,
  namespace: string,
  jobName: string,
  gracePeriodSeconds = 60,
  write: WriteOptions = {},
): Promise<{ found: boolean; pods: string[] }> {
  const job = await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', namespace, name: jobName });
  if (!job) return { found: false, pods: [] };
  const pods = await kube.list<V1Pod>('v1', 'Pod', namespace, `${LABEL_JOB_NAME}=${jobName}`);
  const active = pods.filter((p) => !runnerTermination(p) && !p.metadata?.deletionTimestamp);
  // Suspending first would also stop the pods, but deleting them with a grace period is explicit and works on every version.
  for (const p of active) {
    await kube.delete(
      { apiVersion: 'v1', kind: 'Pod', namespace, name: p.metadata?.name ?? '' },
      { gracePeriodSeconds, ...write },
    );
  }
  await kube.delete(
    { apiVersion: 'batch/v1', kind: 'Job', namespace, name: jobName },
    { propagationPolicy: 'Background', ...write },
  );
  return { found: true, pods: active.map((p) => p.metadata?.name ?? '') };
}

export interface JobRow {
  namespace: string;
  name: string;
  operation: string;
  cluster: string;
  status: string;
  started: string | null;
  completed: string | null;
}

/** The runner Jobs (label app.kubernetes.io/name=crate-decommission), newest first. */
export async function listJobs(kube: PluginKube, namespace: string | undefined): Promise<JobRow[]> {
  const jobs = await kube.list<V1Job>('batch/v1', 'Job', namespace, `${LABEL_NAME}=${APP_NAME}`);
  return jobs
    .map((j) => ({
      namespace: j.metadata?.namespace ?? namespace ?? '',
      name: j.metadata?.name ?? '',
      operation: j.metadata?.labels?.[LABEL_OPERATION] ?? '',
      cluster: j.metadata?.labels?.[LABEL_CLUSTER] ?? '',
      status: jobStatus(j),
      started: toIso(j.status?.startTime ?? j.metadata?.creationTimestamp),
      completed: toIso(j.status?.completionTime),
    }))
    .sort((a, b) => (b.started ?? '').localeCompare(a.started ?? ''));
}

function toIso(v: Date | string | undefined): string | null {
  if (!v) return null;
  return typeof v === 'string' ? v : v.toISOString();
}

export function jobStatus(job: V1Job): string {
  const f = jobFinished(job);
  if (f) return f.type === 'Complete' ? 'Complete' : `Failed${f.reason ? ` (${f.reason})` : ''}`;
  if (job.spec?.suspend) return 'Suspended';
  if ((job.status?.active ?? 0) > 0)
    return (job.status?.failed ?? 0) > 0 ? `Running (retry ${job.status?.failed})` : 'Running';
  return 'Pending';
}
