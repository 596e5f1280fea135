// Input/result contracts of the Temporal activities and workflows. The activities take the engine's zod
// schemas (shared/schemas.ts) plus `kubeContext`: the kubeconfig context of the worker that names the
// Kubernetes cluster, so one worker serves many clusters. Everything is plain JSON (Temporal's default
// payload converter). No Temporal imports here: the workflow bundle and the plugin read these types too.
import { z } from 'zod';
import {
  AnalyzeInput,
  DecommissionInput,
  HealthCheckInput,
  PodRestartInput,
  RollingRestartInput,
  type CrateDBCluster,
  type DecommissionOptions,
  type DecommissionResult,
  type HealthCheckResult,
  type PodRestartResult,
  type RollingRestartPlan,
  type SqlEndpointOverride,
  type TargetKind,
} from '../schemas.js';

/** The worker's kubeconfig context; absent = the worker's default (its current context, or in-cluster). */
export const KubeContext = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[^\s]+$/, 'must be a kubeconfig context name (no spaces)');

const withContext = { kubeContext: KubeContext.optional() };
export const AnalyzeActivityInput = AnalyzeInput.extend(withContext);
export const HealthActivityInput = HealthCheckInput.extend(withContext);
export const PlanActivityInput = RollingRestartInput.extend(withContext);
export const DecommissionActivityInput = DecommissionInput.extend(withContext);
export const RestartActivityInput = PodRestartInput.extend(withContext);
export type AnalyzeActivityInput = z.input<typeof AnalyzeActivityInput>;
export type HealthActivityInput = z.input<typeof HealthActivityInput>;
export type PlanActivityInput = z.input<typeof PlanActivityInput>;
export type DecommissionActivityInput = z.input<typeof DecommissionActivityInput>;
export type RestartActivityInput = z.input<typeof RestartActivityInput>;

/** The activities a worker registers (names are the Temporal activity types). */
export interface CrateActivities {
  analyzeCluster(input: AnalyzeActivityInput): Promise<CrateDBCluster>;
  checkClusterHealth(input: HealthActivityInput): Promise<HealthCheckResult>;
  planRollingRestart(input: PlanActivityInput): Promise<RollingRestartPlan>;
  decommissionPod(input: DecommissionActivityInput): Promise<DecommissionResult>;
  restartPod(input: RestartActivityInput): Promise<PodRestartResult>;
}

/**
 * Heartbeat details of every activity: the last engine log lines (the same JSON lines the runner Job logs), with
 * a sequence number so a follower prints each line once. `seq` counts every line of this attempt.
 */
export interface ActivityProgress {
  seq: number;
  /** The last lines (at most HEARTBEAT_LINES), oldest first; lines[i] has sequence seq - lines.length + 1 + i. */
  lines: string[];
  /** The pod and step of the last line that named them. */
  pod: string | null;
  step: string | null;
  /** When the heartbeat was made (ISO). */
  at: string;
}
export const HEARTBEAT_LINES = 50;

/** Failure types (ApplicationFailure.type) the activities and workflows raise: the engine's errorKind. */
export const NON_RETRYABLE_KINDS = ['bad_input', 'refused', 'locked', 'timeout'] as const;
export const RETRYABLE_KINDS = ['transient'] as const;

// ------------------------------------------------------------------------------------------ workflows

/** What clusterMaintenanceWorkflow rolls, and how. Field defaults are the engine's (rollout's flags). */
export interface ClusterMaintenanceInput {
  /** The cluster: as `rollout` takes it (sts/<name>, cratedb/<name>, pod/<name> means its StatefulSet). */
  target: { namespace: string; kind: TargetKind; name: string; sql?: SqlEndpointOverride };
  kubeContext?: string;
  /** Lease operation id (default: the workflow id). A re-run with the same id resumes. */
  operationId?: string;
  dryRun?: boolean;
  /** Seconds a re-created pod may take to be Ready (default: the cluster's dc_util timeout + POD_READY_MARGIN_SECONDS, workflows/cluster.ts). */
  podReadyTimeout?: number;
  healthTimeout?: number;
  healthConsecutive?: number;
  healthIntervalSeconds?: number;
  options?: Partial<DecommissionOptions>;
  /** Restart only these pods. */
  pods?: string[];
  /** A worker that stops heartbeating for this long is taken for dead and the pod's activity retried (default 60). */
  heartbeatTimeoutSeconds?: number;
  /** Attempts of each activity on retryable failures (default 5). */
  maximumAttempts?: number;
}

export type PodStatus = 'pending' | 'running' | 'restarted' | 'skipped' | 'failed' | 'cancelled';

export interface PodOutcome {
  podName: string;
  status: PodStatus;
  /** The engine's restartPod result (null while pending, or when the activity raised before one existed). */
  result: PodRestartResult | null;
  error: string | null;
  errorKind: string | null;
}

export interface ClusterMaintenanceResult {
  cluster: string;
  namespace: string;
  kubeContext: string | null;
  operationId: string;
  success: boolean;
  dryRun: boolean;
  error: string | null;
  errorKind: string | null;
  plan: RollingRestartPlan | null;
  /** Every planned pod's outcome, in the engine's order. */
  pods: PodOutcome[];
}

export type ClusterPhase =
  'analyzing' | 'planning' | 'restarting' | 'health-gate' | 'succeeded' | 'failed' | 'cancelled';

export interface ClusterProgress {
  phase: ClusterPhase;
  cluster: string;
  namespace: string;
  kubeContext: string | null;
  operationId: string;
  order: string[];
  current: string | null;
  pods: PodOutcome[];
  error: string | null;
}

export interface FleetMaintenanceInput {
  clusters: ClusterMaintenanceInput[];
  /** At most this many clusters at once (default 1). */
  maxConcurrent?: number;
  /** After a failed cluster: `stop` starts no further cluster (default), `continue` goes on with the others. */
  onFailure?: 'stop' | 'continue';
}

export type FleetClusterStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';

export interface FleetClusterOutcome {
  /** `<kubeContext or "default">/<namespace>/<kind>/<name>`. */
  key: string;
  workflowId: string | null;
  status: FleetClusterStatus;
  error: string | null;
  errorKind: string | null;
  result: ClusterMaintenanceResult | null;
}

export interface FleetProgress {
  paused: boolean;
  /** True once a failure stopped the fleet (onFailure=stop): no further cluster starts. */
  stopping: boolean;
  running: string[];
  clusters: FleetClusterOutcome[];
}

export interface FleetMaintenanceResult {
  success: boolean;
  error: string | null;
  clusters: FleetClusterOutcome[];
}
