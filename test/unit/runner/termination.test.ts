import { describe, expect, it } from 'vitest';
import { TERMINATION_MESSAGE_LIMIT, fitTerminationMessage, summarizeResult } from '../../../runner/termination.js';
import { formatResult } from '../../../plugin/printers.js';
import { colors } from '../../../plugin/io.js';
import { resultViewOf } from '../../../shared/task/index.js';

// A rollout result shaped like the engine's: nested plan, health and decommission reports per pod.
function rolloutResult(podCount: number) {
  const health = {
    healthy: true,
    healthStatus: 'GREEN',
    checks: Array.from({ length: 6 }, (_, i) => ({ name: `check_${i}`, ok: true, message: 'fine '.repeat(10) })),
    failedChecks: [],
    nodeCount: podCount,
    expectedNodes: podCount,
  };
  const pods = Array.from({ length: podCount }, (_, i) => ({
    podName: `crate-data-hot-x-${i}`,
    namespace: 'ns',
    success: true,
    skipped: false,
    strategyUsed: 'kubernetes_managed',
    duration: 9.5,
    error: null,
    errorKind: null,
    oldUid: '16be51c0-3b5a-4c64-aa79-5641a17b8113',
    newUid: 'adc3093d-82fb-4535-b297-ef32bdb0bcac',
    decommission: { podName: `crate-data-hot-x-${i}`, success: true, strategyUsed: 'kubernetes_managed', duration: 4 },
    health,
  }));
  return {
    outcome: 'rollout',
    operation: 'rollout',
    namespace: 'ns',
    cluster: 'crate-data-hot-x',
    success: true,
    dryRun: false,
    duration: 33.8,
    plan: {
      order: pods.map((p) => ({ podName: p.podName, reason: 'a long reason '.repeat(8) })),
      preflight: health,
      totalTimeoutSeconds: 6300,
    },
    pods,
    allocationReset: true,
  };
}

describe('termination message', () => {
  it('keeps every pod of a 3-pod rollout by dropping nested reports, not pods', () => {
    const text = fitTerminationMessage(rolloutResult(3));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(text);
    expect(parsed.pods.map((p: { podName: string }) => p.podName)).toEqual([
      'crate-data-hot-x-0',
      'crate-data-hot-x-1',
      'crate-data-hot-x-2',
    ]);
    expect(parsed.pods.every((p: { success: boolean; health?: unknown }) => p.success && p.health === undefined)).toBe(
      true,
    );
    expect(parsed.plan.order).toEqual(['crate-data-hot-x-0', 'crate-data-hot-x-1', 'crate-data-hot-x-2']);
  });

  it('cuts a very large rollout to the limit and says how many pods were left out', () => {
    const text = fitTerminationMessage(rolloutResult(200));
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(text);
    expect(parsed.truncated).toBe(true);
    const omitted = parsed.pods.find((p: { omitted?: number }) => typeof p.omitted === 'number');
    expect(omitted.omitted + parsed.pods.length - 1).toBe(200);
    const printed = formatResult(resultViewOf(parsed), colors(false));
    expect(printed).not.toMatch(/\bfailed\b/);
    expect(printed).toMatch(/more pod\(s\) not shown/);
  });

  it('summarizes without losing the outcome fields', () => {
    const s = summarizeResult(rolloutResult(2));
    expect(s.success).toBe(true);
    expect(s.allocationReset).toBe(true);
    expect((s.plan as { preflightFailedChecks: unknown[] }).preflightFailedChecks).toEqual([]);
  });
});

describe('termination message of a refused single-pod operation', () => {
  it('keeps the pre-flight outcome and failed checks, drops the check details', () => {
    const checks = Array.from({ length: 6 }, (_, i) => ({ name: `check_${i}`, ok: i !== 1, message: 'x'.repeat(900) }));
    const result = {
      outcome: 'restart',
      podName: 'crate-1',
      success: false,
      errorKind: 'refused',
      error: 'Pre-flight health check refused the restart of pod crate/crate-1: failed checks check_1',
      preflight: { healthy: false, healthStatus: 'YELLOW', failedChecks: ['check_1'], checks },
    };
    const text = fitTerminationMessage(result);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(text);
    expect(parsed).toMatchObject({
      success: false,
      errorKind: 'refused',
      preflight: { healthy: false, healthStatus: 'YELLOW', failedChecks: ['check_1'] },
    });
    expect(parsed.preflight.checks).toBeUndefined();
  });
});
