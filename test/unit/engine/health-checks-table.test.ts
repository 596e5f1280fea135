// The health checks are a table (ECK style): name, evaluate(reading), explainableByUnready.
import { describe, expect, it } from 'vitest';
import { HEALTH_CHECKS, HealthCheckName, type HealthReading } from '../../../shared/health.js';
import { decidePreflight } from '../../../shared/preflight.js';
import type { HealthCheckResult } from '../../../shared/schemas.js';

const reading: HealthReading = {
  answeredBy: 'crate-0',
  rows: [
    {
      schema: 'doc',
      table: 't',
      partition: '',
      health: 'YELLOW',
      missingShards: 0,
      underreplicatedShards: 2,
    } as HealthReading['rows'][number],
  ],
  healthStatus: 'YELLOW',
  nodes: [],
  leaving: [],
  expectedNodes: 3,
  masterNode: null,
  relocating: 1,
  initializing: 2,
  snapshots: { count: 1 },
};

describe('HEALTH_CHECKS', () => {
  it('reports every named check once, in HealthCheckName order', () => {
    expect(HEALTH_CHECKS.map((c) => c.name)).toEqual(Object.values(HealthCheckName));
  });

  it('only the node count, YELLOW tables and initializing shards may be explained by unready pods', () => {
    expect(HEALTH_CHECKS.filter((c) => c.explainableByUnready !== false).map((c) => c.name)).toEqual([
      HealthCheckName.allTablesGreen,
      HealthCheckName.nodeCountMatchesReplicas,
      HealthCheckName.noInitializingShards,
    ]);
  });

  it('evaluates a reading', () => {
    const results = Object.fromEntries(HEALTH_CHECKS.map((c) => [c.name, c.evaluate(reading)]));
    expect(results[HealthCheckName.sqlReachable]).toEqual({ ok: true, message: 'answered by pod crate-0' });
    expect(results[HealthCheckName.allTablesGreen]).toEqual({
      ok: false,
      message: 'doc.t YELLOW (missing 0, underreplicated 2)',
    });
    expect(results[HealthCheckName.nodeCountMatchesReplicas]).toEqual({
      ok: false,
      message: '0 nodes in the cluster, 3 expected',
    });
    expect(results[HealthCheckName.masterElected]).toEqual({ ok: false, message: 'no master node elected' });
    expect(results[HealthCheckName.noRelocatingShards]?.ok).toBe(false);
    expect(results[HealthCheckName.noSnapshotRunning]).toEqual({
      ok: false,
      message: '1 CREATE SNAPSHOT statement running',
    });
  });

  it('the pre-flight quotes the not-explained reason from its field, whatever the error text says', () => {
    const base = {
      healthy: false,
      error: 'Cluster x is not healthy: failed checks all_tables_green',
      failedChecks: ['all_tables_green'],
      checks: [{ name: 'all_tables_green', ok: false, message: '1 table not GREEN' }],
    } as HealthCheckResult;
    const failed = 'failed checks all_tables_green (1 table not GREEN)';
    expect(decidePreflight(base, [])!.message).toBe(failed);
    expect(decidePreflight({ ...base, notExplainedByUnready: 'health is RED' }, [])!.message).toBe(
      `${failed}; not explained by unready pods: health is RED`,
    );
  });
});
