// The metric registry (names, types, labels, bounded label values) and RunMetrics fed by the real engine on the
// in-memory fakes: the phases of each pod, counters, the allocation state, health gate failures, seeding.
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { analyzeCluster } from '../../../shared/discovery.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { restartPod } from '../../../shared/restart.js';
import {
  ERROR_KINDS,
  HEALTH_CHECKS,
  METRICS,
  METRIC_OPERATIONS,
  METRIC_PREFIX,
  PHASES,
  POD_RESULTS,
  RunMetrics,
  STRATEGIES,
  boundedLabel,
  errorKindLabel,
  parseExposition,
  type Sample,
} from '../../../shared/metrics.js';
import { HealthCheckName } from '../../../shared/health.js';
import { MeteredRun } from '../../../shared/metrics-wiring.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from '../engine/helpers.js';

const ns = 'crate';

/** A MeteredRun over a World with a fake Pushgateway recording every push body. */
function metered(w: World, operation: 'rollout' | 'restart' = 'rollout') {
  const pushes: string[] = [];
  const run = new MeteredRun({
    operation,
    namespace: ns,
    cluster: w.statefulSetName,
    log: w.log,
    now: () => w.clock.now(),
    pushgateway: { url: 'http://pushgateway.test:9091' },
    fetch: async (_url, init) => {
      if (init.method === 'POST') pushes.push(init.body ?? '');
      return { ok: true, status: 200, text: async () => '' };
    },
  });
  return { run, pushes };
}

async function roll(w: World, m: MeteredRun) {
  const deps = m.deps(w.deps());
  const cluster = await m
    .engine({ analyzeCluster })
    .analyzeCluster(deps, { namespace: ns, kind: 'statefulset', name: w.statefulSetName } as never);
  const result = await rollingRestart(deps, { cluster, ...fastGate });
  await m.finish(result as unknown as Record<string, unknown>);
  return result;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find(
    (s) => s.name === `${METRIC_PREFIX}${name}` && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

describe('metric registry', () => {
  it('has exactly the documented metrics, prefixed, with their types and labels, in its own registry', async () => {
    const m = new RunMetrics({ namespace: ns, cluster: 'c1', operation: 'rollout', now: () => 0 });
    const families = await m.registry.getMetricsAsJSON();
    expect(families.map((f) => f.name).sort()).toEqual(
      Object.keys(METRICS)
        .map((n) => `${METRIC_PREFIX}${n}`)
        .sort(),
    );
    for (const f of families) {
      const spec = METRICS[f.name.slice(METRIC_PREFIX.length) as keyof typeof METRICS];
      expect(f.type, f.name).toBe(spec.type);
      expect(spec.labels.slice(0, 2), f.name).toEqual(['namespace', 'cluster']);
    }
    expect(
      Object.keys(METRICS)
        .filter((n) => METRICS[n as keyof typeof METRICS].type === 'counter')
        .every((n) => n.endsWith('_total')),
    ).toBe(true);
    // Not the process-wide registry, and no default (process) metrics.
    expect((await globalRegistry.getMetricsAsJSON()).filter((f) => f.name.startsWith(METRIC_PREFIX))).toEqual([]);
    expect(families.some((f) => f.name.startsWith('process_') || f.name.startsWith('nodejs_'))).toBe(false);
  });

  it('label values are bounded: enums keep known values only, names must be Kubernetes names', () => {
    expect(boundedLabel('strategy', 'manual')).toBe('manual');
    expect(boundedLabel('strategy', '6d1f0c1e-uid')).toBe('other');
    expect(boundedLabel('check', 'all_tables_green')).toBe('all_tables_green');
    expect(boundedLabel('error_kind', 'Failed to delete pod: Forbidden')).toBe('other');
    expect(boundedLabel('namespace', 'crate')).toBe('crate');
    expect(boundedLabel('cluster', 'password=hunter2')).toBe('invalid');
    expect(boundedLabel('cluster', 'x'.repeat(300))).toBe('invalid');
    expect(errorKindLabel('transient', false, false)).toBe('failed');
    expect(errorKindLabel('timeout', false, true)).toBe('terminated');
    expect(errorKindLabel(null, true, false)).toBe('none');
    expect(errorKindLabel('nonsense', false, false)).toBe('failed');
  });

  it("the check label's values are the health gate's check names", () => {
    expect([...HEALTH_CHECKS].sort()).toEqual(Object.values(HealthCheckName).sort());
  });
});

function expectBounded(samples: Sample[]): void {
  const allowed: Record<string, readonly string[]> = {
    operation: METRIC_OPERATIONS,
    result: ['success', 'failure', ...POD_RESULTS],
    error_kind: ERROR_KINDS,
    strategy: STRATEGIES,
    phase: PHASES,
    check: HEALTH_CHECKS,
  };
  for (const s of samples) {
    for (const [k, v] of Object.entries(s.labels)) {
      if (k === 'le') continue;
      if (k === 'namespace' || k === 'cluster') expect(v).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      else expect(allowed[k], `label ${k}`).toBeDefined();
      if (allowed[k]) expect(allowed[k], `${s.name} ${k}=${v}`).toContain(v);
      expect(v).not.toMatch(/^u-|uid|[0-9a-f]{8}-/);
    }
  }
}

describe('RunMetrics from the engine (fakes)', () => {
  it('a manual rollout: every phase per pod, counters, last success, allocation 1 then 0 in the pushes', async () => {
    const w = await world({ replicas: 3 });
    const { run, pushes } = metered(w);
    const result = await roll(w, run);
    expect(result.success).toBe(true);
    const s = parseExposition(await run.metrics.text());
    const b = { namespace: ns, cluster: w.clusterName };
    expect(value(s, 'operations_total', { ...b, operation: 'rollout', result: 'success', error_kind: 'none' })).toBe(1);
    expect(value(s, 'pod_restarts_total', { ...b, strategy: 'manual', result: 'success' })).toBe(3);
    for (const phase of PHASES) {
      expect(value(s, 'pod_duration_seconds_count', { ...b, strategy: 'manual', phase }), phase).toBe(3);
    }
    // The drain of a manual pod takes the fake's decommission time (engine clock): not zero.
    expect(value(s, 'pod_duration_seconds_sum', { ...b, strategy: 'manual', phase: 'drain' })).toBeGreaterThan(0);
    expect(value(s, 'operation_duration_seconds_count', { ...b, operation: 'rollout' })).toBe(1);
    expect(value(s, 'last_success_timestamp_seconds', { ...b, operation: 'rollout' })).toBeGreaterThan(
      w.clock.now() / 1000 - 300,
    );
    expect(value(s, 'last_run_timestamp_seconds', { ...b, operation: 'rollout' })).toBe(
      value(s, 'last_success_timestamp_seconds', { ...b, operation: 'rollout' }),
    );
    expect(value(s, 'allocation_restricted', b)).toBe(0);
    expectBounded(s);
    // Pushed at phase changes: some push held the restriction, the last one says it is gone.
    const restricted = pushes.map((p) => value(parseExposition(p), 'allocation_restricted', b));
    expect(restricted).toContain(1);
    expect(restricted[restricted.length - 1]).toBe(0);
    expect(pushes.length).toBeGreaterThan(3);
    expect(pushes[pushes.length - 1]).toBe(await run.metrics.text());
  });

  it('a kubernetes_managed (dc_util) rollout: drain, recreate, ready, rejoin and health gate per pod; allocation never ours', async () => {
    const w = await world({ replicas: 3, operator: true, preStop: 'dc_util' });
    const { run, pushes } = metered(w);
    const result = await roll(w, run);
    expect(result.success).toBe(true);
    const s = parseExposition(await run.metrics.text());
    const b = { namespace: ns, cluster: w.clusterName };
    for (const phase of ['drain', 'recreate', 'ready', 'rejoin', 'health_gate']) {
      expect(value(s, 'pod_duration_seconds_count', { ...b, strategy: 'kubernetes_managed', phase }), phase).toBe(3);
    }
    expect(value(s, 'pod_restarts_total', { ...b, strategy: 'kubernetes_managed', result: 'success' })).toBe(3);
    // dc_util restricted allocation itself: this tool never held it.
    expect(pushes.map((p) => value(parseExposition(p), 'allocation_restricted', b)).filter((v) => v === 1)).toEqual([]);
    expectBounded(s);
  });

  it('a refused rollout: failure with error_kind refused, the failed check counted, no pod restarted, no last success', async () => {
    const w = await world({ replicas: 3 });
    const replica = w.crate.shards.find((c) => !c.primary)!;
    replica.state = 'UNASSIGNED';
    replica.node = null;
    w.crate.transient.set('cluster.routing.allocation.enable', 'none');
    const { run } = metered(w);
    const result = await roll(w, run);
    expect(result.errorKind).toBe('refused');
    const s = parseExposition(await run.metrics.text());
    const b = { namespace: ns, cluster: w.clusterName };
    expect(value(s, 'operations_total', { ...b, operation: 'rollout', result: 'failure', error_kind: 'refused' })).toBe(
      1,
    );
    expect(value(s, 'health_gate_failures_total', { ...b, check: 'all_tables_green' })).toBe(1);
    // Pod restarts start at 0 (known label sets are initialised) and stay there.
    expect(s.filter((x) => x.name.endsWith('pod_restarts_total')).map((x) => x.value)).toEqual([0, 0, 0]);
    expect(value(s, 'operations_total', { ...b, operation: 'rollout', result: 'success' })).toBe(0);
    expect(value(s, 'last_success_timestamp_seconds', b)).toBeUndefined();
    expect(value(s, 'last_run_timestamp_seconds', { ...b, operation: 'rollout' })).toBeGreaterThan(0);
  });

  it('a restart whose drain times out: pod failure, error kind timeout, the unfinished drain not observed, allocation 1 then 0', async () => {
    const w = await world({
      replicas: 3,
      tables: [{ name: 't', shards: 3, replicas: 2 }],
      crate: { abortsStopOnTimeout: true },
    });
    const { run, pushes } = metered(w, 'restart');
    const deps = run.deps(w.deps());
    const cluster = await run
      .engine({ analyzeCluster })
      .analyzeCluster(deps, { namespace: ns, kind: 'statefulset', name: w.statefulSetName } as never);
    const r = await restartPod(deps, {
      podName: 'crate-1',
      namespace: ns,
      cluster,
      ...fastGate,
      options: { decommissionTimeout: 5 },
    });
    await run.finish(r as unknown as Record<string, unknown>);
    expect(r).toMatchObject({ success: false, errorKind: 'timeout' });
    const s = parseExposition(await run.metrics.text());
    const b = { namespace: ns, cluster: w.clusterName };
    expect(value(s, 'operations_total', { ...b, operation: 'restart', result: 'failure', error_kind: 'timeout' })).toBe(
      1,
    );
    expect(value(s, 'pod_restarts_total', { ...b, strategy: 'manual', result: 'failure' })).toBe(1);
    expect(value(s, 'pod_duration_seconds_count', { ...b, strategy: 'manual', phase: 'drain' })).toBeUndefined();
    expect(value(s, 'last_success_timestamp_seconds', { ...b, operation: 'restart' })).toBeUndefined();
    const restricted = pushes.map((p) => value(parseExposition(p), 'allocation_restricted', b));
    expect(restricted).toContain(1);
    expect(value(s, 'allocation_restricted', b)).toBe(0);
  });
});

describe('seeding: counters and histograms go on from what earlier runs pushed', () => {
  it('adds this run to the seeded values and keeps other label sets', async () => {
    const m = new RunMetrics({ namespace: ns, cluster: 'c1', operation: 'rollout', now: () => 10_000 });
    const b = 'namespace="crate",cluster="c1"';
    m.seed(
      [
        `crate_decommission_operations_total{${b},operation="rollout",result="success",error_kind="none",job="crate-decommission",instance=""} 4`,
        `crate_decommission_operation_duration_seconds_bucket{${b},job="crate-decommission",operation="rollout",le="5"} 1`,
        `crate_decommission_operation_duration_seconds_bucket{${b},job="crate-decommission",operation="rollout",le="+Inf"} 4`,
        `crate_decommission_operation_duration_seconds_sum{${b},job="crate-decommission",operation="rollout"} 100`,
        `crate_decommission_operation_duration_seconds_count{${b},job="crate-decommission",operation="rollout"} 4`,
        `crate_decommission_last_success_timestamp_seconds{${b},job="crate-decommission",operation="restart"} 1234`,
        `crate_decommission_operations_total{namespace="other",cluster="c1",operation="rollout",result="success",error_kind="none"} 99`,
        'push_time_seconds{job="crate-decommission"} 1',
      ].join('\n'),
      'crate-decommission',
    );
    m.finish({ success: true, duration: 2, pods: [] });
    const s = parseExposition(await m.text());
    const lb = { namespace: ns, cluster: 'c1' };
    // Only the one line of this job and group was taken from the seed: 4 + 1.
    expect(value(s, 'operations_total', { ...lb, operation: 'rollout', result: 'success' })).toBe(5);
    expect(value(s, 'operation_duration_seconds_bucket', { ...lb, le: '5' })).toBe(2);
    expect(value(s, 'operation_duration_seconds_bucket', { ...lb, le: '+Inf' })).toBe(5);
    expect(value(s, 'operation_duration_seconds_sum', lb)).toBe(102);
    expect(value(s, 'operation_duration_seconds_count', lb)).toBe(5);
    expect(value(s, 'last_success_timestamp_seconds', { ...lb, operation: 'restart' })).toBe(1234);
    expect(value(s, 'last_success_timestamp_seconds', { ...lb, operation: 'rollout' })).toBe(10);
    expect(s.some((x) => 'job' in x.labels || 'instance' in x.labels)).toBe(false);
    expect(s.some((x) => x.labels.namespace === 'other')).toBe(false);
  });

  it('the exposition text round-trips through the parser (escapes, +Inf)', async () => {
    const m = new RunMetrics({ namespace: ns, cluster: 'c1', operation: 'restart', now: () => 0 });
    m.finish({
      success: false,
      errorKind: 'timeout',
      duration: 1,
      podName: 'c1-0',
      strategyUsed: 'manual',
      decommission: {},
    });
    const text = await m.text();
    expect(text).toMatch(/^# HELP crate_decommission_operations_total /m);
    expect(text).toMatch(/^# TYPE crate_decommission_operation_duration_seconds histogram$/m);
    expect(text).toMatch(/^crate_decommission_operation_duration_seconds_bucket\{.*le="\+Inf"\} 1$/m);
    const again = new RunMetrics({ namespace: ns, cluster: 'c1', operation: 'restart', now: () => 0 });
    again.seed(text);
    expect(await again.text()).toBe(text);
  });
});
