// Pure builders for the Kubernetes objects the plugin creates and that manifests/ is generated from:
// the runner's RBAC (least privilege, derived from shared/ports.ts), the runner Job, the scheduled
// CronJob and the NetworkPolicies that let the runner reach CrateDB. No I/O here: every function
// returns fresh, typed objects so tests can check fields and `--dry-run -o yaml` can print them.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1CronJob,
  V1EnvVar,
  V1Job,
  V1JobSpec,
  V1NetworkPolicy,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { ExitCode, VERSION } from '../shared/task/index.js';

export const APP_NAME = 'crate-decommission';
export const MANAGED_BY = 'kubectl-crate-decommission';

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_VERSION = 'app.kubernetes.io/version';
/** Set by the Job controller on every pod of a Job (Kubernetes >= 1.27). */
export const LABEL_JOB_NAME = 'batch.kubernetes.io/job-name';

/** Labels on everything this project creates. */
export const COMMON_LABELS: Readonly<Record<string, string>> = Object.freeze({
  [LABEL_NAME]: APP_NAME,
  [LABEL_MANAGED_BY]: MANAGED_BY,
});
/** Selects runner pods (Jobs and CronJob-created Jobs alike). */
export const RUNNER_POD_SELECTOR: Readonly<Record<string, string>> = Object.freeze({ [LABEL_NAME]: APP_NAME });

export const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/crate/crate-decommission';
export const DEFAULT_IMAGE = `${DEFAULT_IMAGE_REPOSITORY}:${VERSION}`;
export const DEFAULT_SERVICE_ACCOUNT = 'crate-decommission';
export const RUNNER_CONTAINER = 'runner';
/** uid/gid of distroless' `nonroot` user; the image runs as it. */
export const RUNNER_UID = 65532;
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';

export const DEFAULT_TTL_SECONDS_AFTER_FINISHED = 86_400;
export const DEFAULT_BACKOFF_LIMIT = 3;
/** Runner exit codes after which a retry cannot help: the Job fails at once (podFailurePolicy). */
export const NON_RETRIABLE_EXIT_CODES: readonly number[] = Object.freeze([
  ExitCode.badInput,
  ExitCode.refused,
  ExitCode.locked,
]);
export const CRATEDB_HTTP_PORT = 4200;
export const API_SERVER_PORTS: readonly number[] = Object.freeze([443, 6443]);

export const RUNNER_RESOURCES = Object.freeze({
  requests: Object.freeze({ cpu: '50m', memory: '64Mi' }),
  limits: Object.freeze({ cpu: '500m', memory: '256Mi' }),
});

/**
 * Exactly what the engine does to Kubernetes (KubernetesPort in shared/ports.ts), no more:
 * pods get/list/watch/delete; pods/exec create (+ get: websocket upgrades are GETs);
 * statefulsets get/list/patch (labels); cratedbs get; secrets get (system user credentials, CA);
 * leases get/create/update (the single-writer lock; released by an update, never deleted); events create
 * (events.k8s.io, core/v1 on servers without it). test/unit/objects/rbac-verbs.test.ts checks these rules against the
 * requests the code really sends (a recording port in representative scenarios, the real adapter over a recording API).
 */
export function runnerPolicyRules(opts: { secretNames?: readonly string[] } = {}): V1PolicyRule[] {
  const secrets: V1PolicyRule = { apiGroups: [''], resources: ['secrets'], verbs: ['get'] };
  if (opts.secretNames && opts.secretNames.length > 0) secrets.resourceNames = [...opts.secretNames];
  return [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'patch'] },
    { apiGroups: ['cloud.crate.io'], resources: ['cratedbs'], verbs: ['get'] },
    secrets,
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  ];
}

export interface RbacOptions {
  /** Namespace of the ServiceAccount (and of the Role/RoleBinding when namespaced). */
  namespace: string;
  serviceAccountName?: string;
  /** ClusterRole + ClusterRoleBinding instead of Role + RoleBinding: one runner for many namespaces. */
  clusterWide?: boolean;
  /** Restrict `secrets get` to these names (default: any Secret of the namespace). */
  secretNames?: readonly string[];
  labels?: Record<string, string>;
}

export interface NamespacedRbac {
  clusterWide: false;
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
}
export interface ClusterRbac {
  clusterWide: true;
  serviceAccount: V1ServiceAccount;
  clusterRole: V1ClusterRole;
  clusterRoleBinding: V1ClusterRoleBinding;
}
export type Rbac = NamespacedRbac | ClusterRbac;

export function buildRbac(opts: RbacOptions & { clusterWide: true }): ClusterRbac;
export function buildRbac(opts: RbacOptions & { clusterWide?: false }): NamespacedRbac;
export function buildRbac(opts: RbacOptions): Rbac;
export function buildRbac(opts: RbacOptions): Rbac {
  const { namespace } = opts;
  const saName = opts.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT;
  const labels = { ...(opts.labels ?? {}), ...COMMON_LABELS, [LABEL_COMPONENT]: 'rbac' };
  const rules = runnerPolicyRules(opts.secretNames ? { secretNames: opts.secretNames } : {});
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: saName, namespace, labels: { ...labels } },
  };
  const subjects = [{ kind: 'ServiceAccount', name: saName, namespace }];
  if (opts.clusterWide) {
    // Cluster-scoped names must be unique per (namespace, SA) binding; the role itself is shared.
    const clusterRoleName = APP_NAME;
    return {
      clusterWide: true,
      serviceAccount,
      clusterRole: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: clusterRoleName, labels: { ...labels } },
        rules,
      },
      clusterRoleBinding: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${APP_NAME}-${namespace}-${saName}`.slice(0, 253), labels: { ...labels } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
        subjects,
      },
    };
  }
  return {
    clusterWide: false,
    serviceAccount,
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: saName, namespace, labels: { ...labels } },
      rules,
    },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: saName, namespace, labels: { ...labels } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: saName },
      subjects,
    },
  };
}

/** The RBAC objects in apply order (ServiceAccount, role, binding). */
export function rbacObjects(
  rbac: Rbac,
): Array<V1ServiceAccount | V1Role | V1RoleBinding | V1ClusterRole | V1ClusterRoleBinding> {
  return rbac.clusterWide
    ? [rbac.serviceAccount, rbac.clusterRole, rbac.clusterRoleBinding]
    : [rbac.serviceAccount, rbac.role, rbac.roleBinding];
}

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

function runnerLabels(extra: Record<string, string> | undefined): Record<string, string> {
  return { ...(extra ?? {}), ...COMMON_LABELS, [LABEL_COMPONENT]: 'runner', [LABEL_VERSION]: VERSION };
}

function assertPositiveInt(name: string, value: number, allowZero = false): void {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new RangeError(`${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${value}`);
  }
}

function runnerJobSpec(opts: Omit<RunnerJobOptions, 'name' | 'namespace'>): V1JobSpec {
  const labels = runnerLabels(opts.labels);
  const backoffLimit = opts.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  const ttl = opts.ttlSecondsAfterFinished ?? DEFAULT_TTL_SECONDS_AFTER_FINISHED;
  assertPositiveInt('activeDeadlineSeconds', opts.activeDeadlineSeconds);
  assertPositiveInt('backoffLimit', backoffLimit, true);
  assertPositiveInt('ttlSecondsAfterFinished', ttl, true);
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
    ttlSecondsAfterFinished: ttl,
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

export const DEFAULT_CRON_ACTIVE_DEADLINE_SECONDS = 6 * 3600;

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

export interface NetworkPolicyOptions {
  namespace: string;
  /** Labels selecting the CrateDB pods, e.g. { app: 'crate' } or crate-operator's. */
  crateSelector: Record<string, string>;
  /** Name prefix (default crate-decommission). */
  name?: string;
}

export interface RunnerNetworkPolicies {
  /** On the runner pods: egress to CrateDB 4200, the API server (443/6443) and cluster DNS. */
  runnerEgress: V1NetworkPolicy;
  /**
   * On the CrateDB pods: ingress from runner pods on 4200. Apply only where the CrateDB pods are
   * already isolated by a NetworkPolicy: a first policy selecting a pod denies all other ingress.
   */
  crateIngress: V1NetworkPolicy;
}

export function buildNetworkPolicy(opts: NetworkPolicyOptions): RunnerNetworkPolicies {
  if (Object.keys(opts.crateSelector).length === 0) {
    throw new RangeError('crateSelector must not be empty (it would select every pod of the namespace)');
  }
  const prefix = opts.name ?? APP_NAME;
  const labels = { ...COMMON_LABELS, [LABEL_COMPONENT]: 'network' };
  const crate = { podSelector: { matchLabels: { ...opts.crateSelector } } };
  return {
    runnerEgress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${prefix}-runner-egress`, namespace: opts.namespace, labels: { ...labels } },
      spec: {
        podSelector: { matchLabels: { ...RUNNER_POD_SELECTOR } },
        policyTypes: ['Egress'],
        egress: [
          { to: [crate], ports: [{ protocol: 'TCP', port: CRATEDB_HTTP_PORT }] },
          // The API server is not a pod: its address is unknown here, so allow its ports to anywhere.
          { ports: API_SERVER_PORTS.map((port) => ({ protocol: 'TCP', port })) },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    },
    crateIngress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${prefix}-crate-ingress`, namespace: opts.namespace, labels: { ...labels } },
      spec: {
        podSelector: { matchLabels: { ...opts.crateSelector } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            // `_from` is client-node's name for `from` (a reserved word); dumpYaml/the API client map it.
            _from: [{ podSelector: { matchLabels: { ...RUNNER_POD_SELECTOR } } }],
            ports: [{ protocol: 'TCP', port: CRATEDB_HTTP_PORT }],
          },
        ],
      },
    },
  };
}
