// The engine as the front ends see it (a port, so tests inject fakes), and executeTask: one Task -> one result + exit code.
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

/** What a finished Task produced: the engine's result (or an error record) and the exit code. */
export interface TaskOutcome {
  result: Record<string, unknown>;
  exitCode: number;
}

/** Run one Task on the engine. Never throws for expected failures: they become a result with an exit code. */
export async function executeTask(
  engine: EngineApi,
  deps: EngineDeps,
  task: Task,
  opts: { classify?: (err: unknown) => { error: string; exitCode: number } | null } = {},
): Promise<TaskOutcome> {
  const o = task.options;
  const options = {
    decommissionTimeout: o.decommissionTimeout,
    minAvailability: o.minAvailability,
    ...(o.relocation ? { relocation: o.relocation } : {}),
    allocation: o.allocation,
    force: true,
    stallBreak: o.noStallBreak !== true,
    stallIdleSeconds: o.stallIdleSeconds,
  };
  deps = { ...deps, heartbeatMs: o.heartbeatSeconds * 1000 };
  try {
    const sql = sqlEndpointOverride(o.sql);
    const cluster = await engine.analyzeCluster(deps, {
      namespace: task.namespace,
      kind: task.target.kind,
      name: task.target.name,
      ...(sql ? { sql } : {}),
    });
    let result: unknown;
    switch (task.operation) {
      case 'rollout':
        result = await engine.rollingRestart(deps, {
          cluster,
          dryRun: task.dryRun,
          podReadyTimeout: o.podReadyTimeout,
          healthTimeout: o.healthTimeout,
          options,
          ...(task.operationId ? { operationId: task.operationId } : {}),
        });
        break;
      case 'restart':
        result = await engine.restartPod(deps, {
          podName: task.target.name,
          namespace: task.namespace,
          cluster,
          podReadyTimeout: o.podReadyTimeout,
          dryRun: task.dryRun,
          options,
          skipPreflight: o.skipPreflight === true,
          ...(task.operationId ? { operationId: task.operationId } : {}),
        });
        break;
      case 'decommission':
        result = await engine.decommissionPod(deps, {
          podName: task.target.name,
          namespace: task.namespace,
          cluster,
          dryRun: task.dryRun,
          options,
          skipPreflight: o.skipPreflight === true,
          ...(task.operationId ? { operationId: task.operationId } : {}),
        });
        break;
      case 'health':
        result = await engine.checkClusterHealth(deps, { cluster });
        break;
      case 'plan': {
        const plan = await engine.planRollingRestart(deps, {
          cluster,
          dryRun: true,
          podReadyTimeout: o.podReadyTimeout,
          healthTimeout: o.healthTimeout,
          options,
        });
        result = {
          ...plan,
          statefulSets: cluster.statefulSets.map((s) => ({ name: s.name, replicas: s.replicas, ...s.detection })),
        };
        break;
      }
    }
    const record = (result ?? {}) as Record<string, unknown>;
    return { result: record, exitCode: exitCodeForResult(record) };
  } catch (err) {
    const outcome = errorOutcome(task, err);
    const special = opts.classify?.(err);
    if (special) return { result: { ...outcome.result, error: special.error }, exitCode: special.exitCode };
    return outcome;
  }
}

/** A thrown error as a result record, shaped like every operation's result: success=false, error, errorKind. */
export function errorOutcome(task: Pick<Task, 'operation' | 'namespace' | 'target'>, err: unknown): TaskOutcome {
  const kind: ErrorKind = errorKindOf(err);
  return {
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
