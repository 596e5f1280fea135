// What a runner pod and its Job say about themselves: started, waiting (and why), terminated (exit code and
// termination message), the Job finished.
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { RUNNER_CONTAINER } from '../objects.js';

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

export function started(pod: V1Pod): boolean {
  const s = runnerStatus(pod)?.state;
  return Boolean(s?.running || s?.terminated) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function waitingReason(pod: V1Pod): string | null {
  const w = runnerStatus(pod)?.state?.waiting;
  if (w?.reason && w.reason !== 'ContainerCreating') return `${w.reason}${w.message ? `: ${w.message}` : ''}`;
  return null;
}

export function created(pod: V1Pod): number {
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
