// `schedule create|update|delete|list`: scheduled rollouts as a CronJob (concurrencyPolicy Forbid; the engine's Lease
// still guards against ad-hoc runs). The runner takes its operation id from the Job name (env OPERATION_ID).
import type { V1CronJob } from '@kubernetes/client-node';
import { BadInputError, KubeApiError } from '../shared/errors.js';
import { APP_NAME, LABEL_NAME, buildCronJob } from './objects.js';
import { LABEL_CLUSTER, LABEL_OPERATION, type ResolvedTarget } from './job-mode.js';
import type { PluginKube } from './kube.js';
import { deadlineSecondsFor, runnerArgsFor, type Task } from './task.js';
import { UsageError } from './exit.js';
import { ENV_PUSHGATEWAY_JOB } from '../shared/metrics-wiring.js';

/** Standard 5-field cron, or a @macro. Checked field by field so mistakes are bad input (exit 2), not an API 422. */
export function validateCronSchedule(schedule: string): string {
  const s = schedule.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s)) return s;
  const fields = s.split(/\s+/);
  const field = /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
  if (fields.length !== 5 || !fields.every((f) => field.test(f))) {
    throw new UsageError(`invalid --schedule "${schedule}": a cron expression has 5 fields (minute hour day month weekday)`, 'Use e.g. --schedule "0 3 * * 0" (Sundays 03:00)');
  }
  return s;
}

/** CronJob names are at most 52 characters (the controller appends an 11-character suffix). */
export function cronJobNameFor(cluster: string): string {
  const head = `${APP_NAME}-`;
  return `${head}${cluster.slice(0, 52 - head.length).replace(/[-.]+$/, '')}`;
}

export interface ScheduleSpec {
  schedule: string;
  timeZone?: string | undefined;
  suspend?: boolean;
  image?: string | undefined;
}

export function buildScheduleCronJob(task: Task, target: ResolvedTarget, spec: ScheduleSpec): V1CronJob {
  const { operationId: _ignored, ...rest } = task;
  void _ignored;
  return buildCronJob({
    namespace: task.namespace,
    name: cronJobNameFor(target.cluster),
    schedule: spec.schedule,
    ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
    ...(spec.image ? { image: spec.image } : {}),
    suspend: spec.suspend ?? false,
    args: runnerArgsFor(rest),
    // Metrics of scheduled runs go to their own Pushgateway group, named after the CronJob (docs/observability.md).
    env: [{ name: ENV_PUSHGATEWAY_JOB, value: cronJobNameFor(target.cluster) }],
    labels: { [LABEL_CLUSTER]: target.cluster.slice(0, 63), [LABEL_OPERATION]: task.operation },
    activeDeadlineSeconds: deadlineSecondsFor(task, target.pods),
  });
}

export async function createSchedule(kube: PluginKube, cron: V1CronJob): Promise<string> {
  try {
    await kube.create(cron);
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 409) {
      throw new BadInputError(`CronJob ${cron.metadata?.namespace}/${cron.metadata?.name} already exists. Use kubectl crate-decommission schedule update`);
    }
    throw err;
  }
  return `cronjob.batch/${cron.metadata?.name ?? ''} created`;
}

export async function updateSchedule(kube: PluginKube, cron: V1CronJob): Promise<string> {
  const ns = cron.metadata?.namespace ?? '';
  const name = cron.metadata?.name ?? '';
  const current = await kube.get<V1CronJob>({ apiVersion: 'batch/v1', kind: 'CronJob', namespace: ns, name });
  if (!current) throw new BadInputError(`CronJob ${ns}/${name} does not exist. Use kubectl crate-decommission schedule create`);
  await kube.replace({ ...cron, metadata: { ...cron.metadata, resourceVersion: current.metadata?.resourceVersion } } as V1CronJob);
  return `cronjob.batch/${name} configured`;
}

export async function deleteSchedule(kube: PluginKube, namespace: string, cluster: string): Promise<string> {
  const name = cronJobNameFor(cluster);
  const existed = await kube.delete({ apiVersion: 'batch/v1', kind: 'CronJob', namespace, name }, { propagationPolicy: 'Background' });
  if (!existed) throw new BadInputError(`CronJob ${namespace}/${name} does not exist. List schedules with kubectl crate-decommission schedule list`);
  return `cronjob.batch/${name} deleted`;
}

export interface ScheduleRow {
  namespace: string;
  name: string;
  cluster: string;
  schedule: string;
  timeZone: string | null;
  suspend: boolean;
  lastSchedule: string | null;
}

export async function listSchedules(kube: PluginKube, namespace: string | undefined, cluster?: string): Promise<ScheduleRow[]> {
  const selector = `${LABEL_NAME}=${APP_NAME}${cluster ? `,${LABEL_CLUSTER}=${cluster}` : ''}`;
  const items = await kube.list<V1CronJob>('batch/v1', 'CronJob', namespace, selector);
  return items.map((c) => ({
    namespace: c.metadata?.namespace ?? namespace ?? '',
    name: c.metadata?.name ?? '',
    cluster: c.metadata?.labels?.[LABEL_CLUSTER] ?? '',
    schedule: c.spec?.schedule ?? '',
    timeZone: c.spec?.timeZone ?? null,
    suspend: c.spec?.suspend === true,
    lastSchedule: c.status?.lastScheduleTime ? new Date(c.status.lastScheduleTime).toISOString() : null,
  }));
}
