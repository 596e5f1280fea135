// jobs list and jobs cancel: the runner Jobs of a namespace (or all) with their status; the safe cancel.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { PluginKube, WriteOptions } from '../../shared/adapters/index.js';
import { APP_NAME, LABEL_JOB_NAME, LABEL_NAME } from '../objects.js';
import { LABEL_CLUSTER, LABEL_OPERATION } from './create.js';
import { jobFinished, runnerTermination } from './status.js';

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

function jobStatus(job: V1Job): string {
  const f = jobFinished(job);
  if (f) return f.type === 'Complete' ? 'Complete' : `Failed${f.reason ? ` (${f.reason})` : ''}`;
  if (job.spec?.suspend) return 'Suspended';
  if ((job.status?.active ?? 0) > 0)
    return (job.status?.failed ?? 0) > 0 ? `Running (retry ${job.status?.failed})` : 'Running';
  return 'Pending';
}
