// The engine's data model: zod schemas for every activity's input and result (types come from z.infer).
import { z } from 'zod';
import { ErrorKind } from './errors.js';

export const Strategy = z.enum(['kubernetes_managed', 'manual', 'unknown']);
export type Strategy = z.infer<typeof Strategy>;

/** cluster.graceful_stop.min_availability; any other string silently means NONE in CrateDB, so validate. */
export const MinAvailability = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(['NONE', 'PRIMARIES', 'FULL']));
export type MinAvailability = z.infer<typeof MinAvailability>;

/** Value of cluster.routing.allocation.enable held while a node restarts. */
export const RestartAllocation = z.enum(['primaries', 'new_primaries']);
export type RestartAllocation = z.infer<typeof RestartAllocation>;

/**
 * `--relocation` (issue 9 item 1): what a node's drain moves. `auto` decides per pod, right before it, from sys.shards
 * (shared/relocation.ts): `none` (min_availability NONE, nothing moves) when every primary on the node has a STARTED
 * replica on another node and the cluster is GREEN, else `primaries`. `primaries` / `full`: always that.
 */
export const RelocationMode = z.enum(['auto', 'primaries', 'full']);
export type RelocationMode = z.infer<typeof RelocationMode>;

/** One pod's relocation decision (RelocationVerdict of shared/relocation.ts). */
export const RelocationVerdict = z.object({
  mode: RelocationMode,
  decision: z.enum(['none', 'primaries', 'full']),
  /** The tables/shards (or the cluster health) that force a relocation under `auto`. */
  blockers: z.array(z.string()),
  summary: z.string(),
  /** Primaries of the node when decided. */
  primaries: z.number().int().nonnegative(),
  /** Bytes each decision would copy off the node (sys.shards `size`; one way). */
  bytes: z.object({
    none: z.number().nonnegative(),
    primaries: z.number().nonnegative(),
    full: z.number().nonnegative(),
  }),
});
export type RelocationVerdict = z.infer<typeof RelocationVerdict>;

export const HealthStatus = z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']);
export type HealthStatus = z.infer<typeof HealthStatus>;

/** Kubernetes DNS-1123 subdomain (pods, StatefulSets) and label (namespaces) names. */
export const Dns1123Subdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase DNS-1123 name');
export const Dns1123Label = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase DNS-1123 label');

/** What strategy detection found for one StatefulSet (and so for each of its pods). */
export const StrategyDetection = z.object({
  strategy: Strategy,
  hasPrestopHook: z.boolean(),
  hasDcUtil: z.boolean(),
  /** dc_util's EFFECTIVE timeout (its own rule over grace period and -timeout flag). */
  dcUtilTimeoutSeconds: z.number().int().nonnegative(),
  /** The -timeout flag as written (default 7200 s), before dc_util's grace-period rule. */
  dcUtilFlagTimeoutSeconds: z.number().int().nonnegative(),
  /** The pod template's terminationGracePeriodSeconds, null when unset. */
  terminationGracePeriodSeconds: z.number().int().nonnegative().nullable(),
  /** Grace period used when deleting a pod under the kubernetes_managed strategy. */
  deleteGracePeriodSeconds: z.number().int().nonnegative(),
  minAvailability: MinAvailability,
  /** True when dc_util is present but will not decommission (label dc-util-disabled=true, replicas <= 1). */
  dcUtilWillNotDecommission: z.boolean(),
  containerName: z.string().nullable(),
  /** dc_util's -proto (default https): the scheme it posts to 127.0.0.1:4200 with; null when no dc_util runs or unknown. */
  dcUtilProto: z.enum(['http', 'https']).nullable().optional(),
  /** The scheme CrateDB serves on port 4200 (the manifest, or the one discovery reached); null when unknown. */
  servedScheme: z.enum(['http', 'https']).nullable().optional(),
  /** Per-pod detection only: the pod's own terminationGracePeriodSeconds (the template's may have changed since). */
  podTerminationGracePeriodSeconds: z.number().int().nonnegative().nullable().optional(),
  reasons: z.array(z.string()),
  /**
   * For each of `reasons`, the detection rule that wrote it: its function name in shared/detect/rules.ts (the rule
   * table of docs/strategy.md), or `detectPodStrategy` for the pod-versus-template sentence.
   */
  reasonRules: z.array(z.string()).optional(),
});
export type StrategyDetection = z.infer<typeof StrategyDetection>;

/**
 * How SQL reaches CrateDB: `http` = HTTP(S) to the pod IP with the endpoint's credentials; `exec` = exec into the
 * CrateDB container and POST to its localhost as `crate`; `auto` = http when credentials are known, else exec.
 */
export const SqlTransportMode = z.enum(['auto', 'http', 'exec']);
export type SqlTransportMode = z.infer<typeof SqlTransportMode>;

/** How to reach CrateDB's HTTP endpoint; secrets are references, never values. */
export const SqlEndpoint = z.object({
  transport: SqlTransportMode.default('auto'),
  scheme: z.enum(['http', 'https']).default('http'),
  port: z.number().int().min(1).max(65535).default(4200),
  /** Verify TLS against this CA (Secret name + key), unless insecure. */
  caSecret: z.object({ name: z.string(), key: z.string() }).nullable().default(null),
  insecureSkipTlsVerify: z.boolean().default(false),
  /** Basic-auth credentials from a Secret; null means no credentials (trust). */
  credentials: z
    .object({
      username: z.string(),
      secretName: z.string(),
      passwordKey: z.string().default('password'),
    })
    .nullable()
    .default(null),
  /** Is the HTTP user a superuser (may DECOMMISSION)? null when unknown. */
  superuser: z.boolean().nullable().default(null),
});
export type SqlEndpoint = z.infer<typeof SqlEndpoint>;

/**
 * What the caller overrides of the discovered endpoint (flags). No defaults here: an absent field keeps what
 * discovery found (SqlEndpoint.partial() would fill every default in and clobber it).
 */
export const SqlEndpointOverride = z.object({
  transport: SqlTransportMode.optional(),
  scheme: z.enum(['http', 'https']).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  caSecret: z.object({ name: z.string(), key: z.string() }).nullable().optional(),
  insecureSkipTlsVerify: z.boolean().optional(),
  credentials: z
    .object({ username: z.string(), secretName: z.string(), passwordKey: z.string().default('password') })
    .nullable()
    .optional(),
  superuser: z.boolean().nullable().optional(),
});
export type SqlEndpointOverride = z.infer<typeof SqlEndpointOverride>;

export const PodInfo = z.object({
  name: z.string(),
  uid: z.string(),
  statefulSetName: z.string(),
  ordinal: z.number().int().nonnegative(),
  /** CrateDB node name (sys.nodes by hostname, else -Cnode.name=). */
  nodeName: z.string().nullable(),
  nodeId: z.string().nullable().default(null),
  podIP: z.string().nullable(),
  ready: z.boolean(),
  phase: z.string().nullable(),
  restartCount: z.number().int().nonnegative(),
  containerName: z.string(),
  /** Is this node the elected master right now. */
  isMaster: z.boolean().default(false),
  /** May this node be elected master (`-Cnode.master`; absent = true)? Master-eligible nodes restart after the others. */
  masterEligible: z.boolean().optional(),
  deleting: z.boolean().default(false),
  /** Strategy detected from this pod's own spec (its preStop, args, grace period); absent: the StatefulSet's. */
  detection: StrategyDetection.optional(),
});
export type PodInfo = z.infer<typeof PodInfo>;

export const StatefulSetInfo = z.object({
  name: z.string(),
  uid: z.string(),
  replicas: z.number().int().nonnegative(),
  selector: z.string(),
  labels: z.record(z.string(), z.string()).default({}),
  detection: StrategyDetection,
});
export type StatefulSetInfo = z.infer<typeof StatefulSetInfo>;

/** Everything the engine knows about one CrateDB cluster. */
export const CrateDBCluster = z.object({
  /** Cluster name (crate-operator CrateDB name, else the StatefulSet name). */
  name: z.string(),
  namespace: z.string(),
  /** crate-operator CrateDB resource name, if the cluster belongs to one. */
  crateDBName: z.string().nullable().default(null),
  /** Seed field: the (first) StatefulSet. */
  statefulSetName: z.string(),
  statefulSets: z.array(StatefulSetInfo).min(1),
  pods: z.array(PodInfo),
  /** Sum of replicas across StatefulSets: the node count a healthy cluster has. */
  expectedNodes: z.number().int().nonnegative(),
  health: HealthStatus.default('UNKNOWN'),
  masterNode: z.string().nullable().default(null),
  /** Seed fields (of the first StatefulSet). */
  hasPrestopHook: z.boolean(),
  hasDcUtil: z.boolean(),
  dcUtilTimeout: z.number().int().nonnegative(),
  sql: SqlEndpoint,
});
export type CrateDBCluster = z.infer<typeof CrateDBCluster>;

export const TargetKind = z.enum(['statefulset', 'cratedb', 'pod']);
export type TargetKind = z.infer<typeof TargetKind>;

export const AnalyzeInput = z.object({
  namespace: Dns1123Label,
  kind: TargetKind,
  name: Dns1123Subdomain,
  /** Override what discovery finds about the SQL endpoint. */
  sql: SqlEndpointOverride.optional(),
});
export type AnalyzeInput = z.infer<typeof AnalyzeInput>;

/** Options of the manual strategy's graceful stop (cluster.graceful_stop.*, which ALTER CLUSTER DECOMMISSION obeys). */
export const DecommissionOptions = z.object({
  /** cluster.graceful_stop.timeout in seconds. */
  decommissionTimeout: z.number().int().positive().default(720),
  minAvailability: MinAvailability.default('PRIMARIES'),
  /** Allocation held during the restart; `new_primaries` only when asked. */
  allocation: RestartAllocation.default('primaries'),
  /**
   * Stall break (shared/stall.ts): once the drain is done and the node showed no job and no operation in
   * sys.jobs / sys.operations for stallIdleSeconds, stop it instead of waiting for the graceful-stop timeout.
   */
  stallBreak: z.boolean().default(true),
  stallIdleSeconds: z.number().int().positive().default(30),
  /**
   * What the drain moves (RelocationMode). Absent: `minAvailability` as given (the engine's behaviour before
   * issue 9). Set, it decides min_availability: primaries -> PRIMARIES, full -> FULL, auto -> per pod (NONE or
   * PRIMARIES). decommissionPod takes the node out: `auto` means `primaries` there.
   */
  relocation: RelocationMode.optional(),
});
export type DecommissionOptions = z.infer<typeof DecommissionOptions>;

export const NamedCheck = z.object({
  name: z.string(),
  ok: z.boolean(),
  message: z.string(),
});
export type NamedCheck = z.infer<typeof NamedCheck>;

export const HealthCheckInput = z.object({
  cluster: CrateDBCluster,
  /** Consecutive good readings required. */
  consecutive: z.number().int().positive().default(3),
  intervalSeconds: z.number().nonnegative().default(2),
  /** Give up after this many seconds (0 = one round of readings, no waiting for recovery). */
  timeoutSeconds: z.number().nonnegative().default(0),
  /**
   * Pods whose absence may explain a failed reading (ECK-style degraded pre-flight): a reading whose every
   * failed check is explained by some of these pods being unready with their node not in sys.nodes counts as
   * good, and the result carries `degraded`. Never explained: RED, no master, relocating shards.
   */
  tolerateUnready: z.array(z.string()).default([]),
});
export type HealthCheckInput = z.input<typeof HealthCheckInput>;

/** A reading whose failed checks are all explained by unready pods whose CrateDB node is not in the cluster. */
export const DegradedHealth = z.object({
  /** The unready pods whose node is not in sys.nodes: only they may restart before the full gate passes. */
  pods: z.array(z.string()),
  /** Each failed check with what explains it. */
  explained: z.array(NamedCheck),
  /** `degraded - only unready pod(s) <pods> may restart first (<check>: <why>; ...)`. */
  message: z.string(),
});
export type DegradedHealth = z.infer<typeof DegradedHealth>;

export const HealthCheckResult = z.object({
  healthy: z.boolean(),
  healthStatus: HealthStatus,
  checks: z.array(NamedCheck),
  failedChecks: z.array(z.string()),
  nodeCount: z.number().int().nonnegative(),
  expectedNodes: z.number().int().nonnegative(),
  masterNode: z.string().nullable(),
  relocatingShards: z.number().int().nonnegative(),
  initializingShards: z.number().int().nonnegative(),
  goodReadings: z.number().int().nonnegative(),
  checkedAt: z.string(),
  error: z.string().nullable().default(null),
  /** Set when not healthy but degraded in a way `tolerateUnready` explains (a pre-flight that may go on with those pods). */
  degraded: DegradedHealth.nullish(),
  /**
   * Set when not healthy, `tolerateUnready` was given and unready pods do not explain the failure: why not (e.g.
   * `health is RED (a missing primary is never explained by unready pods)`). The pre-flight quotes it.
   */
  notExplainedByUnready: z.string().nullish(),
});
export type HealthCheckResult = z.infer<typeof HealthCheckResult>;

export const DecommissionInput = z.object({
  podName: Dns1123Subdomain,
  namespace: Dns1123Label,
  cluster: CrateDBCluster,
  dryRun: z.boolean().default(false),
  options: DecommissionOptions.default(DecommissionOptions.parse({})),
  /** Identifies the run (Lease holder, Events, resume bookkeeping). */
  operationId: z.string().optional(),
  /**
   * Skip the pre-flight health gate (DANGEROUS: it is what keeps a node of an unhealthy cluster from being
   * drained). Only for an operator who knows why the cluster is unhealthy.
   */
  skipPreflight: z.boolean().default(false),
  /** Pre-flight gate: good readings required, seconds apart. */
  healthConsecutive: z.number().int().positive().default(3),
  healthIntervalSeconds: z.number().nonnegative().default(2),
});
export type DecommissionInput = z.input<typeof DecommissionInput>;
export type DecommissionInputParsed = z.infer<typeof DecommissionInput>;

export const DecommissionResult = z.object({
  podName: z.string(),
  namespace: z.string(),
  strategyUsed: Strategy,
  success: z.boolean(),
  /** Seconds. */
  duration: z.number().nonnegative(),
  error: z.string().nullable().default(null),
  errorKind: ErrorKind.nullable().default(null),
  startedAt: z.string().nullable().default(null),
  completedAt: z.string().nullable().default(null),
  processExited: z.boolean().default(false),
  decommissionTimeout: z.number().int().default(720),
  dryRun: z.boolean().default(false),
  /** Pod UID before the decommission, and of the re-created pod when known. */
  oldUid: z.string().nullable().default(null),
  newUid: z.string().nullable().default(null),
  /** The pre-flight gate's reading (top-level decommissionPod; null when skipped or inside a restart). */
  preflight: HealthCheckResult.nullable().default(null),
  /** Skipped because an earlier (crashed) run of the same operation already decommissioned it. */
  skipped: z.boolean().default(false),
  /** False when this run's allocation restriction could not be reset at the end (success is then false too); set by the top-level activity. */
  allocationReset: z.boolean().optional(),
  /** False when the cluster.graceful_stop.* values this run changed could not be restored (success is then false too); set by the top-level activity. */
  gracefulStopRestored: z.boolean().optional(),
});
export type DecommissionResult = z.infer<typeof DecommissionResult>;

export const PodRestartInput = z.object({
  podName: Dns1123Subdomain,
  namespace: Dns1123Label,
  cluster: CrateDBCluster,
  /** Seconds to wait for the re-created pod to be Ready. */
  podReadyTimeout: z.number().int().positive().default(600),
  dryRun: z.boolean().default(false),
  options: DecommissionOptions.default(DecommissionOptions.parse({})),
  operationId: z.string().optional(),
  /** Health gate after the pod: seconds it may wait for recovery, readings required, seconds apart. */
  healthTimeout: z.number().int().positive().default(900),
  healthConsecutive: z.number().int().positive().default(3),
  healthIntervalSeconds: z.number().nonnegative().default(2),
  /** Skip the pre-flight health gate (DANGEROUS, see DecommissionInput.skipPreflight). */
  skipPreflight: z.boolean().default(false),
});
export type PodRestartInput = z.input<typeof PodRestartInput>;

export const PodRestartResult = z.object({
  podName: z.string(),
  namespace: z.string(),
  success: z.boolean(),
  strategyUsed: Strategy,
  duration: z.number().nonnegative(),
  error: z.string().nullable().default(null),
  errorKind: DecommissionResult.shape.errorKind,
  startedAt: z.string().nullable().default(null),
  completedAt: z.string().nullable().default(null),
  oldUid: z.string().nullable().default(null),
  newUid: z.string().nullable().default(null),
  /** Skipped because an earlier (crashed) run of the same operation already restarted it. */
  skipped: z.boolean().default(false),
  decommission: DecommissionResult.nullable().default(null),
  /** The relocation decided right before this pod (absent when no decision was made: skipped, or no --relocation). */
  relocation: RelocationVerdict.optional(),
  /** The pre-flight gate's reading (top-level restartPod; null when skipped or inside a rolling restart). */
  preflight: HealthCheckResult.nullable().default(null),
  health: HealthCheckResult.nullable().default(null),
  /** False when this run's allocation restriction could not be reset at the end (success is then false too); set by the top-level activity. */
  allocationReset: z.boolean().optional(),
  /** False when the cluster.graceful_stop.* values this run changed could not be restored (success is then false too); set by the top-level activity. */
  gracefulStopRestored: z.boolean().optional(),
});
export type PodRestartResult = z.infer<typeof PodRestartResult>;

export const RollingRestartInput = z.object({
  cluster: CrateDBCluster,
  dryRun: z.boolean().default(false),
  podReadyTimeout: z.number().int().positive().default(600),
  /** Seconds the health gate may wait for the cluster to recover after a pod. */
  healthTimeout: z.number().int().positive().default(900),
  healthConsecutive: z.number().int().positive().default(3),
  healthIntervalSeconds: z.number().nonnegative().default(2),
  options: DecommissionOptions.default(DecommissionOptions.parse({})),
  /** Restart only these pods (default: all pods of the cluster). */
  pods: z.array(z.string()).optional(),
  operationId: z.string().optional(),
});
export type RollingRestartInput = z.input<typeof RollingRestartInput>;

export const PlannedPod = z.object({
  podName: z.string(),
  nodeName: z.string().nullable(),
  statefulSetName: z.string(),
  strategy: Strategy,
  reason: z.string(),
  deleteGracePeriodSeconds: z.number().int(),
  timeoutSeconds: z.number().int(),
  alreadyDone: z.boolean().default(false),
  /** The relocation this pod would get if it restarted now (decided again right before it); absent when not read. */
  relocation: RelocationVerdict.optional(),
});

/** What the pre-flight decided: go on, go on with the unready pods only (degraded), or refuse. */
export const PreflightDecision = z.object({
  outcome: z.enum(['passed', 'degraded', 'refused']),
  /** The pods that may restart before the full health gate passes (degraded only). */
  pods: z.array(z.string()).default([]),
  message: z.string(),
});
export type PreflightDecision = z.infer<typeof PreflightDecision>;

export const RollingRestartPlan = z.object({
  cluster: z.string(),
  namespace: z.string(),
  order: z.array(PlannedPod),
  preflight: HealthCheckResult.nullable(),
  /** The pre-flight's decision (null when there was no pre-flight reading). */
  preflightDecision: PreflightDecision.nullish(),
  totalTimeoutSeconds: z.number().int(),
});
export type RollingRestartPlan = z.infer<typeof RollingRestartPlan>;

export const RollingRestartResult = z.object({
  cluster: z.string(),
  namespace: z.string(),
  operationId: z.string(),
  success: z.boolean(),
  dryRun: z.boolean(),
  duration: z.number().nonnegative(),
  error: z.string().nullable().default(null),
  errorKind: DecommissionResult.shape.errorKind,
  plan: RollingRestartPlan,
  pods: z.array(PodRestartResult),
  allocationReset: z.boolean(),
  /** False when the cluster.graceful_stop.* values this run changed could not be restored (success is then false too). */
  gracefulStopRestored: z.boolean().optional(),
});
export type RollingRestartResult = z.infer<typeof RollingRestartResult>;
