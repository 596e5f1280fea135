// One source for manifests/monitoring/: the alert rules (rendered as a prometheus-operator PrometheusRule and as a
// plain Prometheus rules file), the Grafana dashboard (JSON, and in a ConfigMap for Grafana's dashboard sidecar,
// as kube-prometheus ships its dashboards), the NetworkPolicy egress to the Pushgateway and a kustomize Component.
// scripts/gen-manifests.ts writes them; test/rules/ runs promtool on the rules; the e2e suite evaluates every
// dashboard expression against a real Prometheus.
import { APP_NAME, COMMON_LABELS, LABEL_COMPONENT, RUNNER_POD_SELECTOR } from '../plugin/objects.js';

export const RUNBOOK_BASE = 'https://github.com/crate/crate-decommission/blob/main/docs/observability.md';
/** The Pushgateway's grouping `job` of ad-hoc runs; schedules push under their CronJob's name. */
export const AD_HOC_JOB = 'crate-decommission';
export const PUSHGATEWAY_PORT = 9091;

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: 'warning' | 'critical' };
  annotations: { summary: string; description: string; runbook_url: string };
}

const by = 'namespace, cluster';
const runbook = (alert: string) => `${RUNBOOK_BASE}#${alert.toLowerCase()}`;

/** Alerts: high failure rate, long decommissions, repeated timeouts, pod termination issues, and more. */
export function alertRules(): AlertRule[] {
  const rules: Array<Omit<AlertRule, 'annotations'> & { summary: string; description: string }> = [
    {
      alert: 'CrateDecommissionOperationFailed',
      expr: `max by (${by}, operation) (crate_decommission_last_run_timestamp_seconds) > max by (${by}, operation) (crate_decommission_last_success_timestamp_seconds)
or
max by (${by}, operation) (crate_decommission_last_run_timestamp_seconds) unless max by (${by}, operation) (crate_decommission_last_success_timestamp_seconds)`,
      labels: { severity: 'warning' },
      summary:
        'The last {{ $labels.operation }} of CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} failed.',
      description:
        "The most recent {{ $labels.operation }} did not succeed (see crate_decommission_operations_total for its error kind, and the runner Job's log). It clears when one succeeds.",
    },
    {
      alert: 'CrateDecommissionHighFailureRate',
      expr: `sum by (${by}) (increase(crate_decommission_operations_total{result="failure"}[7d])) >= 2
and
sum by (${by}) (increase(crate_decommission_operations_total{result="failure"}[7d])) / sum by (${by}) (increase(crate_decommission_operations_total[7d])) > 0.5`,
      labels: { severity: 'critical' },
      summary:
        'Most operations on CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} failed in the last 7 days.',
      description:
        'More than half of the rollouts, restarts and decommissions of the last 7 days failed (at least 2). Look at the error kinds on the dashboard.',
    },
    {
      alert: 'CrateDecommissionSlowDrain',
      expr: `sum by (${by}, strategy) (increase(crate_decommission_pod_duration_seconds_sum{phase="drain"}[1d]))
/ sum by (${by}, strategy) (increase(crate_decommission_pod_duration_seconds_count{phase="drain"}[1d])) > 1800`,
      labels: { severity: 'warning' },
      summary:
        'Draining a node of CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} took more than 30 minutes on average ({{ $labels.strategy }}).',
      description:
        'The drain phase (decommission until the CrateDB process exits) took unusually long over the last day: big shards, slow recoveries or a min_availability that cannot be met.',
    },
    {
      alert: 'CrateDecommissionRepeatedTimeouts',
      expr: `sum by (${by}) (increase(crate_decommission_operations_total{error_kind="timeout"}[1d])) >= 2`,
      labels: { severity: 'warning' },
      summary: 'Operations on CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} timed out repeatedly.',
      description:
        'At least 2 operations ended with a timeout (exit code 4) within a day: a drain, a re-created pod or the health gate did not finish in time.',
    },
    {
      alert: 'CrateDecommissionPodTerminationSlow',
      expr: `sum by (${by}, strategy) (increase(crate_decommission_pod_duration_seconds_sum{phase="exit"}[1d]))
/ sum by (${by}, strategy) (increase(crate_decommission_pod_duration_seconds_count{phase="exit"}[1d])) > 300`,
      labels: { severity: 'warning' },
      summary:
        'Pods of CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} took more than 5 minutes to go away after CrateDB exited.',
      description:
        'The exit phase (CrateDB process gone until the old pod object is deleted) is slow: finalizers, a stuck kubelet or volume detach.',
    },
    {
      alert: 'CrateDecommissionPodRestartFailed',
      expr: `sum by (${by}, strategy) (increase(crate_decommission_pod_restarts_total{result="failure"}[1d])) > 0`,
      labels: { severity: 'warning' },
      summary:
        'A pod restart of CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} failed ({{ $labels.strategy }}).',
      description:
        'A pod was not drained, deleted, re-created or did not pass the health gate within its timeouts in the last day.',
    },
    {
      alert: 'CrateDecommissionAllocationRestricted',
      expr: `max by (${by}) (crate_decommission_allocation_restricted) == 1`,
      for: '15m',
      labels: { severity: 'critical' },
      summary:
        'crate-decommission has held cluster.routing.allocation.enable restricted on {{ $labels.namespace }}/{{ $labels.cluster }} for more than 15 minutes.',
      description:
        'Replicas do not recover while allocation is restricted. Either a manual drain runs that long, or a run died holding it: check the runner Job; the next run resets it once its Lease expires, or run RESET GLOBAL "cluster.routing.allocation.enable".',
    },
    {
      alert: 'CrateDecommissionScheduledRolloutMissing',
      expr: `time() - max by (${by}) (crate_decommission_last_success_timestamp_seconds{operation="rollout", job!="${AD_HOC_JOB}"}) > 8 * 86400`,
      labels: { severity: 'warning' },
      summary:
        'No successful scheduled rollout of CrateDB cluster {{ $labels.namespace }}/{{ $labels.cluster }} for 8 days.',
      description:
        'The schedule (kubectl crate-decommission schedule list) did not run, or its runs failed, for more than 8 days.',
    },
  ];
  return rules.map(({ summary, description, ...r }) => ({
    ...r,
    annotations: { summary, description, runbook_url: runbook(r.alert) },
  }));
}

export const RULE_GROUP = 'crate-decommission';

/** The plain Prometheus rules file (rule_files:). */
export function rulesFile(): { groups: Array<{ name: string; rules: AlertRule[] }> } {
  return { groups: [{ name: RULE_GROUP, rules: alertRules() }] };
}

export function prometheusRule(namespace: string) {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: APP_NAME,
      namespace,
      // kube-prometheus' Prometheus selects rules by these labels (prometheus: k8s, role: alert-rules).
      labels: { ...COMMON_LABELS, [LABEL_COMPONENT]: 'monitoring', prometheus: 'k8s', role: 'alert-rules' },
    },
    spec: rulesFile(),
  };
}

// ---------------------------------------------------------------- Grafana dashboard

const sel = 'namespace=~"$namespace", cluster=~"$cluster"';

interface Panel {
  title: string;
  type: 'stat' | 'timeseries' | 'piechart' | 'barchart' | 'table' | 'state-timeline' | 'bargauge';
  description: string;
  exprs: Array<{ expr: string; legend: string; instant?: boolean }>;
  unit?: string;
  w: number;
  h: number;
}

export function dashboardPanels(): Panel[] {
  return [
    {
      title: 'Success rate',
      type: 'stat',
      description: 'Successful operations / all operations in the time range.',
      exprs: [
        {
          expr: `sum(increase(crate_decommission_operations_total{${sel}, result="success"}[$__range])) / sum(increase(crate_decommission_operations_total{${sel}}[$__range]))`,
          legend: 'success rate',
          instant: true,
        },
      ],
      unit: 'percentunit',
      w: 6,
      h: 5,
    },
    {
      title: 'Since the last success',
      type: 'stat',
      description: 'Time since the last successful operation, per cluster and operation.',
      exprs: [
        {
          expr: `time() - max by (namespace, cluster, operation) (crate_decommission_last_success_timestamp_seconds{${sel}})`,
          legend: '{{namespace}}/{{cluster}} {{operation}}',
          instant: true,
        },
      ],
      unit: 's',
      w: 6,
      h: 5,
    },
    {
      title: 'Allocation restricted',
      type: 'state-timeline',
      description: '1 while crate-decommission holds cluster.routing.allocation.enable restricted (manual strategy).',
      exprs: [
        {
          expr: `max by (namespace, cluster) (crate_decommission_allocation_restricted{${sel}})`,
          legend: '{{namespace}}/{{cluster}}',
        },
      ],
      w: 12,
      h: 5,
    },
    {
      title: 'Operations by result',
      type: 'timeseries',
      description: 'Operations ended per interval, by operation and result.',
      exprs: [
        {
          expr: `sum by (operation, result) (increase(crate_decommission_operations_total{${sel}}[$__rate_interval]))`,
          legend: '{{operation}} {{result}}',
        },
      ],
      w: 12,
      h: 8,
    },
    {
      title: 'Recent failures by kind',
      type: 'bargauge',
      description: 'Failed operations in the time range by operation and exit-code kind.',
      exprs: [
        {
          expr: `sum by (operation, error_kind) (increase(crate_decommission_operations_total{${sel}, result="failure"}[$__range])) > 0`,
          legend: '{{operation}} {{error_kind}}',
          instant: true,
        },
      ],
      w: 12,
      h: 8,
    },
    {
      title: 'Pod phase duration p90 by strategy and phase',
      type: 'bargauge',
      description:
        '90th percentile of each pod phase (drain, exit, recreate, ready, rejoin, health gate) in the time range.',
      exprs: [
        {
          expr: `histogram_quantile(0.9, sum by (le, strategy, phase) (increase(crate_decommission_pod_duration_seconds_bucket{${sel}}[$__range])))`,
          legend: '{{strategy}} {{phase}}',
          instant: true,
        },
      ],
      unit: 's',
      w: 12,
      h: 9,
    },
    {
      title: 'Pod phase duration average by strategy and phase',
      type: 'bargauge',
      description: 'Average duration of each pod phase in the time range.',
      exprs: [
        {
          expr: `sum by (strategy, phase) (increase(crate_decommission_pod_duration_seconds_sum{${sel}}[$__range])) / sum by (strategy, phase) (increase(crate_decommission_pod_duration_seconds_count{${sel}}[$__range]))`,
          legend: '{{strategy}} {{phase}}',
          instant: true,
        },
      ],
      unit: 's',
      w: 12,
      h: 9,
    },
    {
      title: 'Strategy mix',
      type: 'piechart',
      description:
        'Pods restarted in the time range by decommission strategy (kubernetes_managed: dc_util in preStop; manual: ALTER CLUSTER DECOMMISSION).',
      exprs: [
        {
          expr: `sum by (strategy) (increase(crate_decommission_pod_restarts_total{${sel}}[$__range]))`,
          legend: '{{strategy}}',
          instant: true,
        },
      ],
      w: 8,
      h: 8,
    },
    {
      title: 'Operation duration p90',
      type: 'bargauge',
      description: '90th percentile of whole operations in the time range.',
      exprs: [
        {
          expr: `histogram_quantile(0.9, sum by (le, operation) (increase(crate_decommission_operation_duration_seconds_bucket{${sel}}[$__range])))`,
          legend: '{{operation}}',
          instant: true,
        },
      ],
      unit: 's',
      w: 8,
      h: 8,
    },
    {
      title: 'Health gate failures by check',
      type: 'bargauge',
      description: 'Failed checks of refused or blocked health gates in the time range.',
      exprs: [
        {
          expr: `sum by (check) (increase(crate_decommission_health_gate_failures_total{${sel}}[$__range])) > 0`,
          legend: '{{check}}',
          instant: true,
        },
      ],
      w: 8,
      h: 8,
    },
  ];
}

export function grafanaDashboard(): Record<string, unknown> {
  let y = 0;
  let x = 0;
  let rowH = 0;
  const panels = dashboardPanels().map((p, i) => {
    if (x + p.w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const gridPos = { h: p.h, w: p.w, x, y };
    x += p.w;
    rowH = Math.max(rowH, p.h);
    return {
      id: i + 1,
      title: p.title,
      description: p.description,
      type: p.type,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos,
      fieldConfig: { defaults: { ...(p.unit ? { unit: p.unit } : {}) }, overrides: [] },
      options: {},
      targets: p.exprs.map((e, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: { type: 'prometheus', uid: '${datasource}' },
        expr: e.expr,
        legendFormat: e.legend,
        ...(e.instant ? { instant: true, range: false } : { range: true }),
      })),
    };
  });
  const labelVar = (name: string, query: string) => ({
    name,
    label: name,
    type: 'query',
    datasource: { type: 'prometheus', uid: '${datasource}' },
    query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    refresh: 2,
    sort: 1,
  });
  return {
    title: 'CrateDB decommission and rolling restarts',
    uid: 'crate-decommission',
    description:
      'kubectl crate-decommission: rollouts, restarts and decommissions of CrateDB clusters (docs/observability.md).',
    tags: ['cratedb', 'crate-decommission'],
    timezone: 'utc',
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-30d', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
        labelVar('namespace', 'label_values(crate_decommission_last_run_timestamp_seconds, namespace)'),
        labelVar(
          'cluster',
          'label_values(crate_decommission_last_run_timestamp_seconds{namespace=~"$namespace"}, cluster)',
        ),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** The ConfigMap Grafana's dashboard sidecar loads (label grafana_dashboard: "1", as kube-prometheus' dashboards). */
export function dashboardConfigMap(namespace: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${APP_NAME}-dashboard`,
      namespace,
      labels: { ...COMMON_LABELS, [LABEL_COMPONENT]: 'monitoring', grafana_dashboard: '1' },
    },
    data: { 'crate-decommission.json': `${JSON.stringify(grafanaDashboard(), null, 2)}\n` },
  };
}

/** Egress from the runner pods to the Pushgateway; only with the monitoring component (additive to networkpolicy.yaml). */
export function pushgatewayEgress(
  namespace: string,
  opts: { pushgatewayNamespace?: string; pushgatewaySelector?: Record<string, string> } = {},
) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: `${APP_NAME}-runner-pushgateway`,
      namespace,
      labels: { ...COMMON_LABELS, [LABEL_COMPONENT]: 'network' },
    },
    spec: {
      podSelector: { matchLabels: { ...RUNNER_POD_SELECTOR } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: {
                matchLabels: { 'kubernetes.io/metadata.name': opts.pushgatewayNamespace ?? 'monitoring' },
              },
              podSelector: {
                matchLabels: { ...(opts.pushgatewaySelector ?? { 'app.kubernetes.io/name': 'pushgateway' }) },
              },
            },
          ],
          ports: [{ protocol: 'TCP', port: PUSHGATEWAY_PORT }],
        },
      ],
    },
  };
}
