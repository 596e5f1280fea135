// The CronJob of a scheduled rollout (schedule create): the runner Job's spec as its job template.
import type { V1CronJob, V1EnvVar } from '@kubernetes/client-node';
import { runnerJobSpec, runnerLabels } from './runner-job.js';

export interface CronJobOptions {
  namespace: string;
  name: string;
  /** Cron expression, e.g. "0 3 * * 0". */
  schedule: string;
  /** IANA time zone, e.g. "Europe/Vienna" (default: the controller's, usually UTC). */
  timeZone?: string;
  image?: string;
  serviceAccountName?: string;
  args: string[];
  labels?: Record<string, string>;
  suspend?: boolean;
  activeDeadlineSeconds?: number;
  backoffLimit?: number;
  ttlSecondsAfterFinished?: number;
  env?: V1EnvVar[];
  /** A missed run older than this is skipped (default 600 s). */
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

const DEFAULT_CRON_ACTIVE_DEADLINE_SECONDS = 6 * 3600;

export function buildCronJob(opts: CronJobOptions): V1CronJob {
  const labels = runnerLabels(opts.labels);
  const jobSpec = runnerJobSpec({
    args: opts.args,
    labels: opts.labels ?? {},
    activeDeadlineSeconds: opts.activeDeadlineSeconds ?? DEFAULT_CRON_ACTIVE_DEADLINE_SECONDS,
    ...(opts.image !== undefined ? { image: opts.image } : {}),
    ...(opts.serviceAccountName !== undefined ? { serviceAccountName: opts.serviceAccountName } : {}),
    ...(opts.backoffLimit !== undefined ? { backoffLimit: opts.backoffLimit } : {}),
    ...(opts.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: opts.name, namespace: opts.namespace, labels: { ...labels } },
    spec: {
      schedule: opts.schedule,
      ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
      // Forbid only covers this CronJob's own Jobs; the engine's Lease guards against ad-hoc runs.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: opts.startingDeadlineSeconds ?? 600,
      successfulJobsHistoryLimit: opts.successfulJobsHistoryLimit ?? 3,
      failedJobsHistoryLimit: opts.failedJobsHistoryLimit ?? 3,
      suspend: opts.suspend ?? false,
      jobTemplate: { metadata: { labels: { ...labels } }, spec: jobSpec },
    },
  };
}
