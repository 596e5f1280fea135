// `schedule create|update|delete|list`: scheduled rollouts as a CronJob (concurrencyPolicy Forbid; the engine's Lease
// still guards against ad-hoc runs). The runner takes its operation id from the Job name (env OPERATION_ID).
import type { V1CronJob } from '@kubernetes/client-node';
import {
  BadInputError,
  KubeApiError,
  buildTask,
  deadlineSecondsFor,
  runnerArgsFor,
  type DeadlineBudget,
  type RawOperationArgs,
  type Target,
  type Task,
  UsageError,
  ENV_PUSHGATEWAY_JOB,
} from '../shared/task/index.js';
import { isDeepStrictEqual } from 'node:util';
import { APP_NAME, LABEL_NAME, RUNNER_CONTAINER, buildCronJob } from './objects.js';
import { LABEL_CLUSTER, LABEL_OPERATION, type ResolvedTarget } from './job-mode.js';
import type { PluginKube, WriteOptions } from '../shared/adapters/index.js';

/** Standard 5-field cron, or a @macro. Checked field by field so mistakes are bad input (exit 2), not an API 422. */
export function validateCronSchedule(schedule: string): string {
  const s = schedule.trim();
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s)) return s;
  const fields = s.split(/\s+/);
  const field = /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
  if (fields.length !== 5 || !fields.every((f) => field.test(f))) {
    throw new UsageError(
      `invalid --schedule "${schedule}": a cron expression has 5 fields (minute hour day month weekday)`,
      'Use e.g. --schedule "0 3 * * 0" (Sundays 03:00)',
    );
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
    activeDeadlineSeconds: deadlineSecondsFor(task, target),
  });
}

export async function createSchedule(kube: PluginKube, cron: V1CronJob, write: WriteOptions = {}): Promise<string> {
  try {
    await kube.create(cron, write);
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 409) {
      throw new BadInputError(
        `CronJob ${cron.metadata?.namespace}/${cron.metadata?.name} already exists. Use kubectl crate-decommission schedule update`,
      );
    }
    throw err;
  }
  return `cronjob.batch/${cron.metadata?.name ?? ''} created${write.dryRun ? ' (server dry run)' : ''}`;
}

/** What `schedule update` was given; absent = keep the current value. */
export interface ScheduleChanges {
  schedule?: string;
  /** null: remove the time zone (`--time-zone=`). */
  timeZone?: string | null;
  suspend?: boolean;
  image?: string;
  /** Only the engine flags given on the command line. */
  engine: RawOperationArgs;
}

/** The runner container of a CronJob (by name, else the first). */
function runnerContainerOf(cron: V1CronJob) {
  const containers = cron.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
  return containers.find((c) => c.name === RUNNER_CONTAINER) ?? containers[0];
}

/**
 * `schedule update`: the current CronJob with only the given fields changed. The engine flags are merged into the
 * current runner argv (parsed back with the runner's own parser), so a flag not repeated keeps its value; the Job
 * deadline is recomputed only when an engine flag changed. Everything else (labels, annotations, history limits,
 * what another tool added) is kept.
 */
export function mergeScheduleUpdate(
  current: V1CronJob,
  changes: ScheduleChanges,
  parseRunnerArgs: (args: string[]) => { target: Target; namespace?: string | undefined; raw: RawOperationArgs },
  budget: DeadlineBudget | number,
): V1CronJob {
  const next = structuredClone(current);
  const spec = next.spec;
  const container = runnerContainerOf(next);
  if (!spec || !container)
    throw new BadInputError(
      `CronJob ${current.metadata?.namespace}/${current.metadata?.name} has no runner container. Delete and create the schedule again`,
    );
  if (changes.schedule !== undefined) spec.schedule = changes.schedule;
  if (changes.timeZone === null) delete spec.timeZone;
  else if (changes.timeZone !== undefined) spec.timeZone = changes.timeZone;
  if (changes.suspend !== undefined) spec.suspend = changes.suspend;
  if (changes.image !== undefined) container.image = changes.image;
  const given = Object.entries(changes.engine).filter(([, v]) => v !== undefined);
  if (given.length > 0) {
    let parsed;
    try {
      parsed = parseRunnerArgs(container.args ?? []);
    } catch (err) {
      throw new BadInputError(
        `cannot read the runner arguments of CronJob ${current.metadata?.namespace}/${current.metadata?.name} (${err instanceof Error ? err.message : String(err)}). Delete and create the schedule again`,
      );
    }
    const namespace = parsed.namespace ?? current.metadata?.namespace ?? '';
    const raw: RawOperationArgs = { ...parsed.raw, ...Object.fromEntries(given) };
    // --timeout is the deprecated name of --decommission-timeout (older CronJobs carry it): one value, the one
    // given now winning over the CronJob's.
    const e = changes.engine as RawOperationArgs;
    const decommissionTimeout =
      e['decommission-timeout'] ?? e.timeout ?? parsed.raw.timeout ?? parsed.raw['decommission-timeout'];
    delete raw.timeout;
    if (decommissionTimeout !== undefined) raw['decommission-timeout'] = decommissionTimeout;
    const task = buildTask({ operation: 'rollout', namespace, target: parsed.target, dryRun: false, raw });
    container.args = runnerArgsFor(task);
    const jobSpec = spec.jobTemplate.spec;
    if (jobSpec) jobSpec.activeDeadlineSeconds = deadlineSecondsFor(task, budget);
  }
  return next;
}

/** Write a merged update; `unchanged` (nothing written) when it equals the current CronJob. */
export async function applyScheduleUpdate(
  kube: PluginKube,
  current: V1CronJob,
  next: V1CronJob,
  write: WriteOptions = {},
): Promise<string> {
  const name = current.metadata?.name ?? '';
  if (isDeepStrictEqual(current, next)) return `cronjob.batch/${name} unchanged`;
  await kube.replace(next, write);
  return `cronjob.batch/${name} configured${write.dryRun ? ' (server dry run)' : ''}`;
}

export async function getSchedule(kube: PluginKube, namespace: string, cluster: string): Promise<V1CronJob> {
  const name = cronJobNameFor(cluster);
  const current = await kube.get<V1CronJob>({ apiVersion: 'batch/v1', kind: 'CronJob', namespace, name });
  if (!current)
    throw new BadInputError(
      `CronJob ${namespace}/${name} does not exist. Use kubectl crate-decommission schedule create`,
    );
  return current;
}

export async function deleteSchedule(
  kube: PluginKube,
  namespace: string,
  cluster: string,
  write: WriteOptions = {},
): Promise<string> {
  const name = cronJobNameFor(cluster);
  const existed = await kube.delete(
    { apiVersion: 'batch/v1', kind: 'CronJob', namespace, name },
    { propagationPolicy: 'Background', ...write },
  );
  if (!existed)
    throw new BadInputError(
      `CronJob ${namespace}/${name} does not exist. List schedules with kubectl crate-decommission schedule list`,
    );
  return `cronjob.batch/${name} deleted${write.dryRun ? ' (server dry run)' : ''}`;
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

export async function listSchedules(
  kube: PluginKube,
  namespace: string | undefined,
  cluster?: string,
): Promise<ScheduleRow[]> {
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
