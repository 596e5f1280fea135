// The hint `rbac install` and `schedule create` print about metrics, alerts and the dashboard (a light module:
// commands load at start-up, the metrics code only when a run is metered).
/** What `rbac install` and `schedule create` print (stderr) about metrics, alerts and the dashboard. */
export function monitoringHint(opts: { pushgateway?: string | undefined; schedule?: boolean }): string {
  const lines = opts.pushgateway
    ? [`metrics: runs push to ${opts.pushgateway} (Prometheus must scrape it with honor_labels: true)`]
    : [
        opts.schedule
          ? 'metrics: add --pushgateway http://<pushgateway>:9091 (schedule update) so scheduled runs push metrics and "no successful scheduled rollout for 8 days" can alert'
          : 'metrics: add --pushgateway http://<pushgateway>:9091 to rollout/restart/decommission/schedule create to push Prometheus metrics',
      ];
  lines.push(
    'alerts and dashboard: the kustomize component manifests/monitoring (PrometheusRule, Grafana dashboard, egress to the Pushgateway); see docs/observability.md',
  );
  return lines.map((l) => `${l}\n`).join('');
}
