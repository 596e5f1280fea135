// What one Task produced, typed per operation (docs/architecture.md "Results"): executeTask returns it, the exit code,
// the printers, the termination message and the metrics switch on its `kind`, never on the fields a result happens
// to have. On the wire (the runner's termination message and closing log line) the kind travels as `outcome`.
import { z } from 'zod';
import type { ErrorKind } from '../errors.js';
import type {
  DecommissionResult,
  HealthCheckResult,
  PodRestartResult,
  RollingRestartPlan,
  RollingRestartResult,
  StrategyDetection,
} from '../schemas.js';
import { Operation } from './task.js';

/** `plan`: the engine's plan and the strategy detection of each StatefulSet. */
type PlanResult = RollingRestartPlan & {
  statefulSets: Array<{ name: string; replicas: number } & StrategyDetection>;
};

/** The engine's result of each operation. */
interface OperationResults {
  rollout: RollingRestartResult;
  restart: PodRestartResult;
  decommission: DecommissionResult;
  health: HealthCheckResult;
  plan: PlanResult;
}

/** A Task that produced no result of its operation: bad input, no lock, a failed discovery, an error thrown. */
interface FailedResult {
  operation?: Operation;
  namespace?: string;
  target?: string;
  success: false;
  error: string | null;
  errorKind?: ErrorKind;
  [field: string]: unknown;
}

/** The kinds of outcome: one per operation, and `failed`. */
export const OutcomeKind = z.enum([...Operation.options, 'failed']);
export type OutcomeKind = z.infer<typeof OutcomeKind>;

/** What one Task produced: the operation's own result, or a failure record (`kind: 'failed'`). */
export type TaskResult =
  { [K in Operation]: { kind: K; result: OperationResults[K] } }[Operation] | { kind: 'failed'; result: FailedResult };

/** A finished Task: its result and exit code. */
export type TaskOutcome = TaskResult & { exitCode: number };
/** A finished Task that produced no result of its operation. */
export type FailedOutcome = Extract<TaskOutcome, { kind: 'failed' }>;

/**
 * An outcome read back from the wire (the plugin in Job mode): the kind is known, the record may be cut to fit the
 * termination message (runner/termination.ts), so its fields are read as a record. Every TaskResult is one.
 */
export interface ResultView {
  kind: OutcomeKind;
  result: Record<string, unknown>;
}

/** The wire field that carries the kind. */
export const OUTCOME_FIELD = 'outcome';

/**
 * The kind of a record read from the wire: its `outcome`. A record without one (a runner image older than this
 * field) is shown as a failure record is: its success mark and error, nothing guessed from its fields.
 */
export function outcomeKindOf(record: Record<string, unknown>): OutcomeKind {
  const kind = OutcomeKind.safeParse(record[OUTCOME_FIELD]);
  return kind.success ? kind.data : 'failed';
}

/** A record from the wire as a view: its kind, and the record without the wire field (what the user is shown). */
export function resultViewOf(record: Record<string, unknown>): ResultView {
  const { [OUTCOME_FIELD]: _wire, ...result } = record;
  return { kind: outcomeKindOf(record), result };
}
