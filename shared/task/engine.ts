// The engine as the front ends see it (a port, so tests inject fakes), and executeTask: one Task -> one typed outcome
// (outcome.ts) + exit code.
import type {
  AnalyzeInput,
  CrateDBCluster,
  DecommissionInput,
  DecommissionResult,
  HealthCheckInput,
  HealthCheckResult,
  PodRestartInput,
  PodRestartResult,
  RollingRestartInput,
  RollingRestartPlan,
  RollingRestartResult,
} from '../schemas.js';
import type { Clock, EngineDeps, Logger, LogLevel } from '../ports.js';
import { errorKindOf, messageOf, type ErrorKind } from '../errors.js';
import { exitCodeFor, exitCodeForResult } from './exit.js';
import type { FailedOutcome, TaskOutcome, TaskResult } from './outcome.js';
import { sqlEndpointOverride } from './parse-task.js';
import type { Task } from './task.js';

export interface EngineApi {
  analyzeCluster(deps: EngineDeps, input: AnalyzeInput): Promise<CrateDBCluster>;
  checkClusterHealth(deps: EngineDeps, input: HealthCheckInput): Promise<HealthCheckResult>;
  decommissionPod(deps: EngineDeps, input: DecommissionInput): Promise<DecommissionResult>;
  restartPod(deps: EngineDeps, input: PodRestartInput): Promise<PodRestartResult>;
  rollingRestart(deps: EngineDeps, input: RollingRestartInput): Promise<RollingRestartResult>;
  planRollingRestart(deps: EngineDeps, input: RollingRestartInput): Promise<RollingRestartPlan>;
  createLogger(opts: { format: 'text' | 'json'; level: LogLevel; write: (line: string) => void }): Logger;
  systemClock: Clock;
}

/**
 * Load the engine (shared/index.ts). Loaded lazily so that `--help`, completion and bad input never pay for it,
 * and typed through EngineApi so the front ends depend on the contract, not the module layout.
 */
export async function loadEngine(): Promise<EngineApi> {
  return asEngineApi(await import('../index.js'));
}

/** Run one Task on the engine. Never throws for expected failures: they become a failure record with an exit code. */
export async function executeTask(
  engine: EngineApi,
  deps: EngineDeps,
  task: Task,
  opts: { classify?: (err: unknown) => { error: string; exitCode: number } | null } = {},
): Promise<TaskOutcome> {
  deps = { ...deps, heartbeatMs: task.options.heartbeatSeconds * 1000 };
  try {
    const sql = sqlEndpointOverride(task.options.sql);
    const cluster = await engine.analyzeCluster(deps, {
      namespace: task.namespace,
      kind: task.target.kind,
      name: task.target.name,
      ...(sql ? { sql } : {}),
    });
    const done = await runOperation(engine, deps, task, cluster);
    return { ...done, exitCode: exitCodeForResult(done) };
  } catch (err) {
    const outcome = errorOutcome(task, err);
    const special = opts.classify?.(err);
    if (special) return { ...outcome, result: { ...outcome.result, error: special.error }, exitCode: special.exitCode };
    return outcome;
  }
}

/** The Task's operation on its analysed cluster: the engine's result, typed by the operation. */
async function runOperation(
  engine: EngineApi,
  deps: EngineDeps,
  task: Task,
  cluster: CrateDBCluster,
): Promise<TaskResult> {
  const o = task.options;
  const options = {
    decommissionTimeout: o.decommissionTimeout,
    minAvailability: o.minAvailability,
    ...(o.relocation ? { relocation: o.relocation } : {}),
    allocation: o.allocation,
    stallBreak: o.noStallBreak !== true,
    stallIdleSeconds: o.stallIdleSeconds,
  };
  const operationId = task.operationId ? { operationId: task.operationId } : {};
  switch (task.operation) {
    case 'rollout':
      return {
        kind: 'rollout',
        result: await engine.rollingRestart(deps, {
          cluster,
          dryRun: task.dryRun,
          podReadyTimeout: o.podReadyTimeout,
          healthTimeout: o.healthTimeout,
          options,
          ...operationId,
        }),
      };
    case 'restart':
      return {
        kind: 'restart',
        result: await engine.restartPod(deps, {
          podName: task.target.name,
          namespace: task.namespace,
          cluster,
          podReadyTimeout: o.podReadyTimeout,
          dryRun: task.dryRun,
          options,
          skipPreflight: o.skipPreflight === true,
          ...operationId,
        }),
      };
    case 'decommission':
      return {
        kind: 'decommission',
        result: await engine.decommissionPod(deps, {
          podName: task.target.name,
          namespace: task.namespace,
          cluster,
          dryRun: task.dryRun,
          options,
          skipPreflight: o.skipPreflight === true,
          ...operationId,
        }),
      };
    case 'health':
      return { kind: 'health', result: await engine.checkClusterHealth(deps, { cluster }) };
    case 'plan': {
      const plan = await engine.planRollingRestart(deps, {
        cluster,
        dryRun: true,
        podReadyTimeout: o.podReadyTimeout,
        healthTimeout: o.healthTimeout,
        options,
      });
      const statefulSets = cluster.statefulSets.map((s) => ({ name: s.name, replicas: s.replicas, ...s.detection }));
      return { kind: 'plan', result: { ...plan, statefulSets } };
    }
  }
}

/** A thrown error as a failure record, shaped like every operation's result: success=false, error, errorKind. */
export function errorOutcome(task: Pick<Task, 'operation' | 'namespace' | 'target'>, err: unknown): FailedOutcome {
  const kind: ErrorKind = errorKindOf(err);
  return {
    kind: 'failed',
    result: {
      operation: task.operation,
      namespace: task.namespace,
      target: `${task.target.kind}/${task.target.name}`,
      success: false,
      error: messageOf(err),
      errorKind: kind,
    },
    exitCode: exitCodeFor(kind),
  };
}

/** Compile-time proof that the engine module satisfies the port (a signature change breaks the typecheck here). */
function asEngineApi(mod: typeof import('../index.js')): EngineApi {
  return mod;
}
