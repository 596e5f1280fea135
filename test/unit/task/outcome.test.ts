// The typed outcome of a Task (shared/task/outcome.ts): executeTask says which operation's result it is (or that
// there is none), and what reads it (exit code, printers, termination message, the plugin in Job mode) goes by
// that kind, not by the fields a result happens to have.
import { describe, expect, it } from 'vitest';
import {
  buildTask,
  executeTask,
  exitCodeForResult,
  resultViewOf,
  OUTCOME_FIELD,
  type EngineApi,
  type Operation,
} from '../../../shared/task/index.js';
import type { EngineDeps } from '../../../shared/ports.js';
import { DecommissionResult } from '../../../shared/schemas.js';
import { fitTerminationMessage, summarizeResult } from '../../../runner/termination.js';
import { formatResult } from '../../../plugin/printers.js';
import { colors } from '../../../plugin/io.js';

const RESULTS: Record<Operation, Record<string, unknown>> = {
  rollout: { cluster: 'crate', namespace: 'x', success: true, pods: [] },
  restart: { podName: 'crate-1', namespace: 'x', success: true },
  decommission: { podName: 'crate-1', namespace: 'x', success: true },
  health: { healthy: true, failedChecks: [] },
  plan: { cluster: 'crate', namespace: 'x', order: [] },
};

function engine(fail?: Error): EngineApi {
  const answer = (op: Operation) => async () => {
    if (fail) throw fail;
    return RESULTS[op] as never;
  };
  return {
    analyzeCluster: async () => ({ statefulSets: [] }) as never,
    checkClusterHealth: answer('health'),
    decommissionPod: answer('decommission'),
    restartPod: answer('restart'),
    rollingRestart: answer('rollout'),
    planRollingRestart: answer('plan'),
    createLogger: () => ({}) as never,
    systemClock: {} as never,
  };
}

function task(operation: Operation) {
  const target = operation === 'restart' || operation === 'decommission' ? 'pod' : 'statefulset';
  return buildTask({
    operation,
    namespace: 'x',
    target: { kind: target, name: target === 'pod' ? 'crate-1' : 'crate' },
    dryRun: false,
    raw: {},
  });
}

describe('executeTask returns the outcome typed by its operation', () => {
  it.each(['rollout', 'restart', 'decommission', 'health', 'plan'] as const)(
    '%s: kind is the operation, result the engine result',
    async (operation) => {
      const outcome = await executeTask(engine(), {} as EngineDeps, task(operation));
      expect(outcome.kind).toBe(operation);
      expect(outcome.result).toMatchObject(RESULTS[operation]);
      expect(outcome.exitCode).toBe(0);
    },
  );

  it('a thrown error is a failure record, whatever the operation', async () => {
    const outcome = await executeTask(engine(new Error('boom')), {} as EngineDeps, task('health'));
    expect(outcome).toEqual({
      kind: 'failed',
      result: {
        operation: 'health',
        namespace: 'x',
        target: 'statefulset/crate',
        success: false,
        error: 'boom',
        errorKind: 'failed',
      },
      exitCode: 1,
    });
    const classified = await executeTask(engine(new Error('ECONNREFUSED')), {} as EngineDeps, task('rollout'), {
      classify: () => ({ error: 'cannot reach', exitCode: 6 }),
    });
    expect(classified).toMatchObject({ kind: 'failed', result: { error: 'cannot reach' }, exitCode: 6 });
  });
});

describe('readers switch on the kind', () => {
  it('the same fields mean different things by kind: a health reading with an error is no refusal', () => {
    const record = { healthy: false, error: 'no answer' };
    expect(exitCodeForResult({ kind: 'health', result: record })).toBe(1);
    expect(exitCodeForResult({ kind: 'plan', result: record })).toBe(0);
  });

  it("a decommission's text says decommission even though its result has `skipped` (as a restart's does)", () => {
    const result = DecommissionResult.parse({
      podName: 'crate-1',
      namespace: 'x',
      strategyUsed: 'manual',
      success: true,
      duration: 3,
    });
    expect(result.skipped).toBe(false);
    const text = formatResult({ kind: 'decommission', result }, colors(false));
    expect(text).toMatch(/^✓ decommission of pod x\/crate-1 completed using manual strategy/);
  });

  it('the wire record carries the kind as `outcome`; the plugin shows the record without it', () => {
    const wire = { [OUTCOME_FIELD]: 'restart', operation: 'restart', podName: 'crate-1', success: true };
    expect(resultViewOf(wire)).toEqual({
      kind: 'restart',
      result: { operation: 'restart', podName: 'crate-1', success: true },
    });
    // A record without the field (a runner image older than it) is shown as a failure record: nothing guessed.
    expect(resultViewOf({ operation: 'rollout', success: true, pods: [] }).kind).toBe('failed');
  });

  it('the termination message keeps the kind, also when cut to its last-resort fields', () => {
    const big = { [OUTCOME_FIELD]: 'failed', operation: 'rollout', success: false, error: 'x'.repeat(10_000) };
    const cut = JSON.parse(fitTerminationMessage(big));
    expect(cut).toMatchObject({ outcome: 'failed', truncated: true, success: false });
    // A failure record is not a rollout: no pods list is made up for it.
    expect(summarizeResult({ [OUTCOME_FIELD]: 'failed', success: false })).toEqual({
      outcome: 'failed',
      success: false,
    });
  });
});
