// The runner Job: one runner pod at a time, retried on failures a retry can help, hardened, with the Job name as
// the operation id (env OPERATION_ID); its spec is also the CronJob's job template (cronjob.ts).
import type { V1EnvVar, V1Job, V1JobSpec } from '@kubernetes/client-node';
import { VERSION } from '../../shared/task/index.js';
import {
  COMMON_LABELS,
  DEFAULT_BACKOFF_LIMIT,
  DEFAULT_IMAGE,
  DEFAULT_SERVICE_ACCOUNT,
  DEFAULT_TTL_SECONDS_AFTER_FINISHED,
  LABEL_COMPONENT,
  LABEL_JOB_NAME,
  LABEL_VERSION,
  NON_RETRIABLE_EXIT_CODES,
  RUNNER_CONTAINER,
  RUNNER_RESOURCES,
  RUNNER_UID,
  TERMINATION_MESSAGE_PATH,
} from './constants.js';

export interface RunnerJobOptions {
  namespace: string;
  name: string;
  image?: string;
  serviceAccountName?: string;
  /** The runner's command line (after the entrypoint). */
  args: string[];
  /** Extra labels (e.g. the cluster and the operation); the common labels always win. */
  labels?: Record<string, string>;
  /** Bounds the whole Job, retries included. */
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished?: number;
  backoffLimit?: number;
  env?: V1EnvVar[];
  annotations?: Record<string, string>;
}

export function runnerLabels(extra: Record<string, string> | undefined): Record<string, string> {
  return { ...(extra ?? {}), ...COMMON_LABELS, [LABEL_COMPONENT]: 'runner', [LABEL_VERSION]: VERSION };
}

function assertPositiveInt(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${value}`);
  }
}

export function runnerJobSpec(opts: Omit<RunnerJobOptions, 'name' | 'namespace'>): V1JobSpec {
  const labels = runnerLabels(opts.labels);
  const backoffLimit = opts.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  const ttlSecondsAfterFinished = opts.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS_AFTER_FINISHED;
  assertPositiveInt('activeDeadlineSeconds', opts.activeDeadlineSeconds);
  assertPositiveInt('backoffLimit', backoffLimit, true);
  assertPositiveInt('ttlSecondsAfterFinished', ttlSecondsAfterFinished, true);
  const userEnv = opts.env ?? [];
  const reserved = new Set(['OPERATION_ID', 'POD_NAME', 'POD_NAMESPACE']);
  const env: V1EnvVar[] = [
    // The Job's name identifies the operation; from the pod label so CronJob-made Jobs get theirs too.
    { name: 'OPERATION_ID', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${LABEL_JOB_NAME}']` } } },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ...userEnv.filter((e) => !reserved.has(e.name)),
  ];
  return {
    parallelism: 1,
    completions: 1,
    backoffLimit,
    activeDeadlineSeconds: opts.activeDeadlineSeconds,
    ttlSecondsAfterFinished,
    // A replacement pod only once the previous one is gone: never two runners at once.
    podReplacementPolicy: 'Failed',
    podFailurePolicy: {
      rules: [
        {
          action: 'FailJob',
          onExitCodes: { containerName: RUNNER_CONTAINER, operator: 'In', values: [...NON_RETRIABLE_EXIT_CODES] },
        },
        { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      ],
    },
    template: {
      metadata: { labels: { ...labels }, ...(opts.annotations ? { annotations: { ...opts.annotations } } : {}) },
      spec: {
        serviceAccountName: opts.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT,
        automountServiceAccountToken: true,
        restartPolicy: 'Never',
        // The runner stops safely on SIGTERM (resets allocation, releases the Lease): give it time.
        terminationGracePeriodSeconds: 60,
        enableServiceLinks: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: RUNNER_UID,
          runAsGroup: RUNNER_UID,
          fsGroup: RUNNER_UID,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [
          {
            name: RUNNER_CONTAINER,
            image: opts.image ?? DEFAULT_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            args: [...opts.args],
            env,
            resources: {
              requests: { ...RUNNER_RESOURCES.requests },
              limits: { ...RUNNER_RESOURCES.limits },
            },
            terminationMessagePath: TERMINATION_MESSAGE_PATH,
            terminationMessagePolicy: 'FallbackToLogsOnError',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: RUNNER_UID,
              runAsGroup: RUNNER_UID,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              privileged: false,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }],
      },
    },
  };
}

export function buildRunnerJob(opts: RunnerJobOptions): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: opts.name,
      namespace: opts.namespace,
      labels: runnerLabels(opts.labels),
      ...(opts.annotations ? { annotations: { ...opts.annotations } } : {}),
    },
    spec: runnerJobSpec(opts),
  };
}
