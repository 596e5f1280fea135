// Following a Job: each runner pod's log in turn (oldest first; when the Job retries, the next pod), until a runner
// exits 0 or the Job is Complete/Failed/deleted; Ctrl-C detaches (the Job goes on).
import type { V1Pod } from '@kubernetes/client-node';
import { EXIT_INTERRUPTED } from '../../shared/task/index.js';
import type { JobSnapshot, PluginKube } from '../../shared/adapters/index.js';
import type { ProgressSink } from '../progress.js';
import { followPodLog } from './logs.js';
import { outcomeOf, runnerResultOf, type FollowOutcome } from './result.js';
import { created, jobFinished, runnerTermination, started, waitingReason, type RunnerTermination } from './status.js';

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
