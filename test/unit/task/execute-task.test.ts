// executeTask hands the single-pod pre-flight opt-out to the engine, and maps a refusal to exit 3.
import { describe, expect, it } from 'vitest';
import { executeTask, type EngineApi } from '../../../shared/task/engine.js';
import { buildTask } from '../../../shared/task/index.js';
import type { EngineDeps } from '../../../shared/ports.js';

function stubEngine(seen: Record<string, unknown>[]): EngineApi {
  const refused = (input: Record<string, unknown>) => {
    seen.push(input);
    return {
      podName: 'crate-1',
      namespace: 'x',
      success: false,
      errorKind: 'refused',
      error: 'Pre-flight health check refused',
      strategyUsed: 'manual',
      duration: 0,
    };
  };
  return {
    analyzeCluster: async () => ({}) as never,
    checkClusterHealth: async () => ({}) as never,
    decommissionPod: async (_d, input) => refused(input as never) as never,
    restartPod: async (_d, input) => refused(input as never) as never,
    rollingRestart: async () => ({}) as never,
    planRollingRestart: async () => ({}) as never,
    createLogger: () => ({}) as never,
    systemClock: {} as never,
  };
}

describe('executeTask: pre-flight of restart and decommission', () => {
  it.each(['restart', 'decommission'] as const)(
    '%s: skipPreflight false by default, true with --skip-preflight; a refusal exits 3',
    async (operation) => {
      const seen: Record<string, unknown>[] = [];
      const engine = stubEngine(seen);
      const target = { kind: 'pod' as const, name: 'crate-1' };
      const plain = await executeTask(
        engine,
        {} as EngineDeps,
        buildTask({ operation, namespace: 'x', target, dryRun: false, raw: {} }),
      );
      const skip = await executeTask(
        engine,
        {} as EngineDeps,
        buildTask({ operation, namespace: 'x', target, dryRun: false, raw: { 'skip-preflight': true } }),
      );
      expect(seen.map((i) => i.skipPreflight)).toEqual([false, true]);
      expect(plain.exitCode).toBe(3);
      expect(skip.exitCode).toBe(3);
    },
  );
});

describe('text output of a refused single-pod operation', () => {
  it('shows the failed pre-flight checks', async () => {
    const { formatResult } = await import('../../../plugin/printers.js');
    const { colors } = await import('../../../plugin/io.js');
    const text = formatResult(
      {
        kind: 'decommission',
        result: {
          podName: 'crate-1',
          namespace: 'x',
          success: false,
          strategyUsed: 'manual',
          duration: 0.2,
          errorKind: 'refused',
          error: 'Pre-flight health check refused the decommission of pod x/crate-1: failed checks all_tables_green',
          preflight: {
            healthy: false,
            healthStatus: 'YELLOW',
            nodeCount: 3,
            expectedNodes: 3,
            masterNode: 'n1',
            checks: [{ name: 'all_tables_green', ok: false, message: 'doc.t YELLOW' }],
          },
        },
      },
      colors(false),
    );
    expect(text).toContain('Pre-flight: ✗ unhealthy: YELLOW');
    expect(text).toMatch(/all_tables_green\s+no\s+doc\.t YELLOW/);
  });
});
