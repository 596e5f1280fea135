// fleetMaintenanceWorkflow: roll a list of clusters (each a clusterMaintenanceWorkflow child, on any Kubernetes
// cluster the workers' kubeconfig names), at most `maxConcurrent` at once. After a failed cluster, `onFailure: stop`
// starts no further cluster (the running ones finish: each stops safely on its own); `continue` goes on. Query
// `progress`; signal `pause` lets the running clusters finish and starts no new one until `resume`.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  ClusterMaintenanceInput,
  ClusterMaintenanceResult,
  FleetMaintenanceInput,
  FleetMaintenanceResult,
  FleetProgress,
} from '../contracts.js';
import { clusterMaintenanceWorkflow } from './cluster.js';

/** `<kubeContext or "default">/<namespace>/<kind>/<name>`. */
function clusterKey(c: Pick<ClusterMaintenanceInput, 'kubeContext' | 'target'>): string {
  return `${c.kubeContext ?? 'default'}/${c.target.namespace}/${c.target.kind}/${c.target.name}`;
}

export const fleetProgressQuery = defineQuery<FleetProgress>('progress');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');

/** Child workflow ids: `<fleet id>/<index>-<namespace>-<name>`. */
function childWorkflowId(fleetId: string, index: number, c: FleetMaintenanceInput['clusters'][number]): string {
  return `${fleetId}/${index}-${c.target.namespace}-${c.target.name}`;
}

export async function fleetMaintenanceWorkflow(input: FleetMaintenanceInput): Promise<FleetMaintenanceResult> {
  const info = workflowInfo();
  const max = Math.max(1, Math.floor(input.maxConcurrent ?? 1));
  const onFailure = input.onFailure ?? 'stop';
  const progress: FleetProgress = {
    paused: false,
    stopping: false,
    running: [],
    clusters: input.clusters.map((c) => ({
      key: clusterKey(c),
      workflowId: null,
      status: 'pending',
      error: null,
      errorKind: null,
      result: null,
    })),
  };
  setHandler(fleetProgressQuery, () => progress);
  setHandler(pauseSignal, () => void (progress.paused = true));
  setHandler(resumeSignal, () => void (progress.paused = false));

  const runOne = async (index: number): Promise<void> => {
    const c = input.clusters[index]!;
    const outcome = progress.clusters[index]!;
    const workflowId = childWorkflowId(info.workflowId, index, c);
    outcome.workflowId = workflowId;
    outcome.status = 'running';
    progress.running.push(outcome.key);
    try {
      const child = await startChild(clusterMaintenanceWorkflow, { args: [c], workflowId });
      outcome.result = await child.result();
      outcome.status = 'succeeded';
    } catch (err) {
      if (isCancellation(err)) {
        outcome.status = 'cancelled';
        throw err;
      }
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      outcome.status = 'failed';
      outcome.error = cause instanceof Error ? cause.message : String(cause);
      outcome.errorKind = cause instanceof ApplicationFailure ? (cause.type ?? 'failed') : 'failed';
      outcome.result =
        cause instanceof ApplicationFailure
          ? ((cause.details?.[0] as ClusterMaintenanceResult | undefined) ?? null)
          : null;
      if (onFailure === 'stop') progress.stopping = true;
    } finally {
      progress.running.splice(progress.running.indexOf(outcome.key), 1);
    }
  };

  const inFlight = new Set<Promise<void>>();
  let next = 0;
  while (next < input.clusters.length && !progress.stopping) {
    await condition(() => progress.stopping || (!progress.paused && inFlight.size < max));
    if (progress.stopping) break;
    const p = runOne(next++);
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
  }
  // The running clusters finish on their own (a running rollout is not interrupted by another cluster's failure).
  await Promise.all([...inFlight]);
  for (const o of progress.clusters) if (o.status === 'pending') o.status = 'skipped';
  const failed = progress.clusters.filter((o) => o.status === 'failed');
  const skipped = progress.clusters.filter((o) => o.status === 'skipped');
  const result: FleetMaintenanceResult = {
    success: failed.length === 0 && skipped.length === 0,
    error:
      failed.length === 0
        ? null
        : `${failed.length} of ${progress.clusters.length} clusters failed (${failed.map((o) => `${o.key}: ${o.error}`).join('; ')})${skipped.length ? `; ${skipped.length} not started (onFailure=stop)` : ''}`,
    clusters: progress.clusters,
  };
  if (!result.success)
    throw ApplicationFailure.create({
      message: result.error ?? 'fleet failed',
      type: 'failed',
      nonRetryable: true,
      details: [result],
    });
  return result;
}
