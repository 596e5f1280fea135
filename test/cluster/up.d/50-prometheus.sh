#!/usr/bin/env bash
# Starts a Prometheus Pushgateway and a Prometheus (Debian's prometheus-pushgateway and prometheus packages) on the
# bridge address: the Pushgateway on $CDK_BRIDGE_IP:$CDK_PUSHGATEWAY_PORT (runner pods push to it from their network
# namespaces), Prometheus on $CDK_BRIDGE_IP:$CDK_PROMETHEUS_PORT scraping it every second with honor_labels (the
# e2e suite asks its HTTP API). Config and data under $CDK_STATE/prometheus/, logs and pids like the other parts.
# Fails when the packages are missing (.ci/run installs them). Called by test/cluster/up; idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

start_ns=$(date +%s%N)
for bin in prometheus prometheus-pushgateway; do
  command -v "$bin" >/dev/null || cdk_die "$bin not found: apt-get install prometheus prometheus-pushgateway (see .ci/run)"
done
dir="$CDK_STATE/prometheus"
mkdir -p "$dir/data"
cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['$CDK_BRIDGE_IP:$CDK_PUSHGATEWAY_PORT']
YML

ready() { curl -fsS --max-time 2 "http://$CDK_BRIDGE_IP:$1/-/ready" >/dev/null 2>&1; }

if cdk_pid_alive "$CDK_STATE/pids/pushgateway.pid" >/dev/null && ready "$CDK_PUSHGATEWAY_PORT"; then
  cdk_log "pushgateway already running"
else
  cdk_stop "$CDK_STATE/pids/pushgateway.pid" 5
  cdk_log "starting pushgateway on $CDK_BRIDGE_IP:$CDK_PUSHGATEWAY_PORT"
  cdk_start pushgateway "$(command -v prometheus-pushgateway)" --web.listen-address="$CDK_BRIDGE_IP:$CDK_PUSHGATEWAY_PORT" --log.level=warn
fi
if cdk_pid_alive "$CDK_STATE/pids/prometheus.pid" >/dev/null && ready "$CDK_PROMETHEUS_PORT"; then
  cdk_log "prometheus already running"
else
  cdk_stop "$CDK_STATE/pids/prometheus.pid" 5
  cdk_log "starting prometheus on $CDK_BRIDGE_IP:$CDK_PROMETHEUS_PORT"
  cdk_start prometheus "$(command -v prometheus)" --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="$CDK_BRIDGE_IP:$CDK_PROMETHEUS_PORT" --storage.tsdb.retention.time=1d --log.level=warn
fi
for ((i = 0; i < 300; i++)); do
  ready "$CDK_PUSHGATEWAY_PORT" && ready "$CDK_PROMETHEUS_PORT" && break
  for p in pushgateway prometheus; do
    cdk_pid_alive "$CDK_STATE/pids/$p.pid" >/dev/null || { tail -20 "$CDK_STATE/logs/$p.log" >&2; cdk_die "$p exited"; }
  done
  sleep 0.1
done
ready "$CDK_PUSHGATEWAY_PORT" || cdk_die "pushgateway not ready after 30s (see $CDK_STATE/logs/pushgateway.log)"
ready "$CDK_PROMETHEUS_PORT" || cdk_die "prometheus not ready after 30s (see $CDK_STATE/logs/prometheus.log)"
cdk_elapsed "$start_ns" "  prometheus + pushgateway ready after"
