// Metrics with the real parts: the runner Job pushes to the test cluster's Pushgateway (Debian's
// prometheus-pushgateway on the bridge address, reached from the runner pod's network namespace), the real
// Prometheus scrapes it every second (honor_labels), and the test asks Prometheus's HTTP API: the counters, the
// histogram count per strategy and phase, the last-success timestamp, allocation_restricted 1 then 0; a refused
// rollout (RED table) shows result="failure", error_kind="refused"; every dashboard expression evaluates.
import http from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, eventually, plugin, pluginOk, sim, simState } from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectRecreatedOnce, scenario, type Scenario } from './scenario.js';
import { dashboardPanels } from '../../scripts/monitoring.js';
import { PHASES } from '../../shared/metrics.js';

const BRIDGE_IP = '10.88.0.1';
const PROMETHEUS = `http://${BRIDGE_IP}:19090`;
const PUSHGATEWAY = `http://${BRIDGE_IP}:19091`;

interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

async function promQuery(
  query: string,
  path = 'query',
  extra = '',
): Promise<{ status: string; error?: string; data?: { resultType: string; result: PromResult[] } }> {
  const r = await get(`${PROMETHEUS}/api/v1/${path}?query=${encodeURIComponent(query)}${extra}`);
  return JSON.parse(r.body);
}

async function instant(query: string): Promise<PromResult[]> {
  const r = await promQuery(query);
  if (r.status !== 'success') throw new Error(`${query}: ${r.error}`);
  return r.data!.result;
}

const num = (r: PromResult[] | undefined): number | undefined => (r && r[0]?.value ? Number(r[0].value[1]) : undefined);

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

describe.concurrent('metrics through the Pushgateway into Prometheus', () => {
  it('a manual rollout Job pushes: counters, phase histograms per strategy, last success, allocation 1 then 0; dashboard expressions evaluate', async () => {
    expect((await get(`${PUSHGATEWAY}/-/ready`)).status).toBe(200);
    const s = await scenario('e2e-metrics', { dcUtil: false });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const before = Date.now() / 1000;
    const r = await plugin([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      ...FAST_FLAGS,
      '--pushgateway',
      PUSHGATEWAY,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectRecreatedOnce(s);
    await expectClusterSafe(s);
    const ns = `namespace="${s.namespace}"`;
    // Prometheus scrapes every second: wait for the final push to arrive.
    const ops = await eventually(
      "Prometheus to have the rollout's result",
      async () => {
        const v = await instant(
          `crate_decommission_operations_total{${ns}, operation="rollout", result="success", error_kind="none"}`,
        );
        return num(v) === 1 ? v : null;
      },
      30_000,
      500,
    );
    expect(ops[0]!.metric).toMatchObject({ job: 'crate-decommission', namespace: s.namespace, cluster: s.sts });
    expect(num(await instant(`sum(crate_decommission_operations_total{${ns}, result="failure"})`))).toBe(0);
    expect(
      num(await instant(`crate_decommission_pod_restarts_total{${ns}, strategy="manual", result="success"}`)),
    ).toBe(3);
    const counts = await instant(`sum by (strategy, phase) (crate_decommission_pod_duration_seconds_count{${ns}})`);
    const byPhase = Object.fromEntries(
      counts.map((c) => [`${c.metric.strategy}/${c.metric.phase}`, Number(c.value![1])]),
    );
    for (const phase of PHASES) expect(byPhase[`manual/${phase}`], `manual/${phase}`).toBe(3);
    expect(num(await instant(`crate_decommission_operation_duration_seconds_count{${ns}, operation="rollout"}`))).toBe(
      1,
    );
    const last = num(await instant(`crate_decommission_last_success_timestamp_seconds{${ns}, operation="rollout"}`))!;
    expect(last).toBeGreaterThan(before);
    expect(last).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    // allocation_restricted: now 0, and 1 in between (each manual pod holds it from the SET to the RESET after its
    // node rejoined: seconds, pushed at once, scraped every second).
    expect(num(await instant(`crate_decommission_allocation_restricted{${ns}}`))).toBe(0);
    const range = await promQuery(
      `crate_decommission_allocation_restricted{${ns}}`,
      'query_range',
      `&start=${before - 5}&end=${Date.now() / 1000}&step=1`,
    );
    expect(range.status).toBe('success');
    const values = range.data!.result[0]!.values!.map(([, v]) => Number(v));
    expect(values).toContain(1);
    expect(values.indexOf(1)).toBeLessThan(values.lastIndexOf(0));
    expect(values[values.length - 1]).toBe(0);

    // Every dashboard expression evaluates without error on this Prometheus (the variables as Grafana fills them).
    for (const p of dashboardPanels()) {
      for (const e of p.exprs) {
        const q = e.expr
          .replaceAll('$namespace', '.*')
          .replaceAll('$cluster', '.*')
          .replaceAll('$__range', '1h')
          .replaceAll('$__rate_interval', '1m');
        const res = await promQuery(q);
        expect(res.status, `${p.title}: ${q}: ${res.error ?? ''}`).toBe('success');
      }
    }
    const rate = await instant(
      dashboardPanels()[0]!
        .exprs[0]!.expr.replaceAll('$namespace', s.namespace)
        .replaceAll('$cluster', '.*')
        .replaceAll('$__range', '1h'),
    );
    expect(num(rate)).toBe(1);
  });

  it('a refused rollout (RED table) shows result="failure", error_kind="refused" and the failed check', async () => {
    const s = await scenario('e2e-metrics-red', { dcUtil: true });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    await sim('POST', `/clusters/${s.cluster}/tables/doc.metrics/lose-primary`, {});
    await eventually('the table to be RED', async () => (await simState(s.cluster)).health === 'RED', 10_000);
    const r = await plugin([
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      ...FAST_FLAGS,
      '--pushgateway',
      PUSHGATEWAY,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const ns = `namespace="${s.namespace}"`;
    await eventually(
      'Prometheus to have the refusal',
      async () =>
        num(
          await instant(
            `crate_decommission_operations_total{${ns}, operation="rollout", result="failure", error_kind="refused"}`,
          ),
        ) === 1,
      30_000,
      500,
    );
    expect(num(await instant(`crate_decommission_health_gate_failures_total{${ns}, check="all_tables_green"}`))).toBe(
      1,
    );
    expect(await instant(`crate_decommission_last_success_timestamp_seconds{${ns}}`)).toEqual([]);
    expect(
      num(await instant(`crate_decommission_last_run_timestamp_seconds{${ns}, operation="rollout"}`)),
    ).toBeGreaterThan(0);
    expect(num(await instant(`sum(crate_decommission_pod_restarts_total{${ns}})`))).toBe(0);
  });
});
