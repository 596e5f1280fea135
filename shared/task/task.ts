// The Task both front ends run (rollout, restart, decommission, health, plan): its operation, target, namespace and
// engine options, as zod schemas. Parsing flags into it: parse-task.ts; the flags' yargs declarations:
// operation-flags.ts; the target text: target.ts; the runner argv that carries it into the Job: runner-args.ts.
import { z } from 'zod';
import {
  Dns1123Label,
  Dns1123Subdomain,
  MinAvailability,
  RelocationMode,
  RestartAllocation,
  SqlTransportMode,
  TargetKind,
} from '../schemas.js';

export const Operation = z.enum(['rollout', 'restart', 'decommission', 'health', 'plan']);
export type Operation = z.infer<typeof Operation>;

export const Target = z.object({ kind: TargetKind, name: Dns1123Subdomain });
export type Target = z.infer<typeof Target>;

const SecretKeyRef = z.object({ name: Dns1123Subdomain, key: z.string().min(1) });

/** How the engine talks SQL (--sql-* flags); absent = discovery decides, transport auto. */
export const SqlOptions = z.object({
  transport: SqlTransportMode.default('auto'),
  /** --sql-user with --sql-password-secret NAME[:KEY] (both or neither). */
  user: z.string().min(1).optional(),
  passwordSecret: SecretKeyRef.optional(),
  scheme: z.enum(['http', 'https']).optional(),
  /** --sql-ca-secret NAME[:KEY] (key default ca.crt). */
  caSecret: SecretKeyRef.optional(),
  insecure: z.boolean().default(false),
});
export type SqlOptions = z.infer<typeof SqlOptions>;

export const TaskOptions = z.object({
  /** cluster.graceful_stop.timeout, seconds (--decommission-timeout; --timeout is its deprecated alias). */
  decommissionTimeout: z.number().int().positive(),
  minAvailability: MinAvailability,
  /**
   * --relocation auto|primaries|full (issue 9 item 1): what a drain moves; auto (default of rollout, restart, plan)
   * decides per pod. Absent only when --min-availability NONE was asked for explicitly (then NONE, unchecked).
   */
  relocation: RelocationMode.optional(),
  allocation: RestartAllocation,
  /** Seconds to wait for a re-created pod to be Ready (--pod-ready-timeout). */
  podReadyTimeout: z.number().int().positive(),
  /** Seconds the health gate may wait for recovery (--health-timeout). */
  healthTimeout: z.number().int().positive(),
  /** Only when a --sql-* flag was given. */
  sql: SqlOptions.optional(),
  /** --skip-preflight (restart, decommission): no pre-flight health gate. Dangerous; only set when given. */
  skipPreflight: z.literal(true).optional(),
  /** --heartbeat: seconds between progress lines while a wait lasts. */
  heartbeatSeconds: z.number().int().positive().default(30),
  /** --no-stall-break: wait for the graceful-stop timeout as before (only set when given). */
  noStallBreak: z.literal(true).optional(),
  /** --stall-idle: seconds the drained node must show no job and no operation before the engine stops it. */
  stallIdleSeconds: z.number().int().positive().default(30),
  /** --pushgateway URL / --metrics-file PATH (rollout, restart, decommission): where the run's metrics go. */
  metrics: z.object({ pushgateway: z.string().url().optional(), metricsFile: z.string().min(1).optional() }).optional(),
});
export type TaskOptions = z.infer<typeof TaskOptions>;

export const DEFAULT_TASK_OPTIONS: TaskOptions = {
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES',
  allocation: 'primaries',
  podReadyTimeout: 600,
  healthTimeout: 900,
  heartbeatSeconds: 30,
  stallIdleSeconds: 30,
};

export const Task = z.object({
  operation: Operation,
  namespace: Dns1123Label,
  target: Target,
  dryRun: z.boolean(),
  /** Identifies the run: Lease holder, Events, resume after a crashed runner (the Job name). */
  operationId: z.string().min(1).max(253).optional(),
  options: TaskOptions,
});
export type Task = z.infer<typeof Task>;
