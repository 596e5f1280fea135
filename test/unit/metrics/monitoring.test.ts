// manifests/monitoring/ from scripts/monitoring.ts: the PrometheusRule and the plain rules file hold the same rules,
// every metric the rules and the dashboard use exists, each alert has its severity, texts and a runbook section in
// docs/observability.md, and the kustomize Component lists files that exist. (promtool: test/rules/.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { METRICS, METRIC_PREFIX } from '../../../shared/metrics.js';
import { alertRules, dashboardPanels, grafanaDashboard } from '../../../scripts/monitoring.js';

const root = join(import.meta.dirname, '..', '..', '..');
const mon = (f: string) => join(root, 'manifests', 'monitoring', f);

function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(crate_decommission_[a-z_]+)/g)].map((m) => m[1]!);
}

function known(name: string): boolean {
  const base = name.slice(METRIC_PREFIX.length);
  return Object.keys(METRICS).some(
    (n) =>
      base === n ||
      (METRICS[n as keyof typeof METRICS].type === 'histogram' &&
        [`${n}_bucket`, `${n}_sum`, `${n}_count`].includes(base)),
  );
}

describe('manifests/monitoring', () => {
  it('the PrometheusRule spec and rules.yaml are the same rules', () => {
    const pr = parse(readFileSync(mon('prometheusrule.yaml'), 'utf8'));
    const plain = parse(readFileSync(mon('rules.yaml'), 'utf8'));
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.spec).toEqual(plain);
  });

  it('covers the alerts of docs/observability.md plus allocation restricted > 15 min and no scheduled rollout for 8 days', () => {
    const names = alertRules().map((r) => r.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'CrateDecommissionHighFailureRate',
        'CrateDecommissionSlowDrain',
        'CrateDecommissionRepeatedTimeouts',
        'CrateDecommissionPodTerminationSlow',
        'CrateDecommissionAllocationRestricted',
        'CrateDecommissionScheduledRolloutMissing',
      ]),
    );
    const restricted = alertRules().find((r) => r.alert === 'CrateDecommissionAllocationRestricted')!;
    expect(restricted.for).toBe('15m');
    expect(alertRules().find((r) => r.alert === 'CrateDecommissionScheduledRolloutMissing')!.expr).toContain(
      '8 * 86400',
    );
  });

  it('every alert has a severity, a summary, a description and a runbook section in docs/observability.md', () => {
    const doc = readFileSync(join(root, 'docs', 'observability.md'), 'utf8');
    for (const r of alertRules()) {
      expect(['warning', 'critical']).toContain(r.labels.severity);
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(10);
      expect(r.annotations.runbook_url).toMatch(new RegExp(`docs/observability\\.md#${r.alert.toLowerCase()}$`));
      expect(doc, `docs/observability.md has a heading ${r.alert}`).toMatch(new RegExp(`^#+ ${r.alert}$`, 'm'));
    }
  });

  it('docs/observability.md lists every metric with its type and labels', () => {
    const doc = readFileSync(join(root, 'docs', 'observability.md'), 'utf8');
    for (const [name, m] of Object.entries(METRICS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${METRIC_PREFIX}${name}\` |`));
      expect(row, name).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2], name).toBe(m.type);
      expect(cells[3], name).toBe(m.labels.map((l) => `\`${l}\``).join(', '));
    }
  });

  it('rules and dashboard only use metrics that exist', () => {
    const exprs = [...alertRules().map((r) => r.expr), ...dashboardPanels().flatMap((p) => p.exprs.map((e) => e.expr))];
    for (const e of exprs) {
      const names = metricNames(e);
      expect(names.length, e).toBeGreaterThan(0);
      for (const n of names) expect(known(n), `${n} in ${e}`).toBe(true);
    }
  });

  it('the dashboard shows success rate, durations per strategy and phase, strategy mix, failures by kind, restricted allocation', () => {
    const d = grafanaDashboard() as { panels: Array<{ title: string; targets: Array<{ expr: string }> }>; uid: string };
    const byTitle = (re: RegExp) => d.panels.find((p) => re.test(p.title));
    expect(byTitle(/success rate/i)!.targets[0]!.expr).toContain('result="success"');
    expect(byTitle(/phase duration/i)!.targets[0]!.expr).toMatch(/by \(le, strategy, phase\)/);
    expect(byTitle(/strategy mix/i)!.targets[0]!.expr).toContain('by (strategy)');
    expect(byTitle(/failures by kind/i)!.targets[0]!.expr).toContain('error_kind');
    expect(byTitle(/allocation restricted/i)!.targets[0]!.expr).toContain('crate_decommission_allocation_restricted');
    expect(JSON.parse(readFileSync(mon('dashboard.json'), 'utf8'))).toEqual(d);
    const cm = parse(readFileSync(mon('dashboard-configmap.yaml'), 'utf8'));
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(cm.data['crate-decommission.json'])).toEqual(d);
  });

  it('the kustomize Component lists files that exist; the Pushgateway egress is only in it', () => {
    const k = parse(readFileSync(mon('kustomization.yaml'), 'utf8'));
    expect(k.kind).toBe('Component');
    for (const r of k.resources as string[]) expect(existsSync(mon(r)), r).toBe(true);
    const np = parse(readFileSync(mon('networkpolicy-pushgateway.yaml'), 'utf8'));
    expect(np.spec.egress[0].ports).toEqual([{ protocol: 'TCP', port: 9091 }]);
    expect(np.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'crate-decommission' });
    // Not configured = not there: the runner's base NetworkPolicy has no Pushgateway egress.
    expect(readFileSync(join(root, 'manifests', 'networkpolicy.yaml'), 'utf8')).not.toContain('9091');
    expect(
      parse(readFileSync(join(root, 'manifests', 'kustomization.yaml'), 'utf8')).resources.join(' '),
    ).not.toContain('monitoring');
  });
});

describe('the hint rbac install and schedule create print', () => {
  it('says how to push metrics and where the alerts and dashboard are', async () => {
    const { monitoringHint } = await import('../../../plugin/monitoring-hint.js');
    expect(monitoringHint({})).toMatch(/--pushgateway .*\n.*manifests\/monitoring.*docs\/observability\.md/);
    expect(monitoringHint({ schedule: true })).toMatch(/schedule update/);
    expect(monitoringHint({ pushgateway: 'http://pgw:9091', schedule: true })).toMatch(
      /runs push to http:\/\/pgw:9091 .*honor_labels/,
    );
  });
});
