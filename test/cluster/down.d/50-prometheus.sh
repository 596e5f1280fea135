#!/usr/bin/env bash
# Stops Prometheus and the Pushgateway of test/cluster/up.d/50-prometheus.sh (their data goes with $CDK_STATE).
# Called by test/cluster/down; safe to run twice.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

for p in prometheus pushgateway; do
  if [[ -e "$CDK_STATE/pids/$p.pid" ]]; then
    cdk_log "stopping $p"
    cdk_stop "$CDK_STATE/pids/$p.pid" 10
  fi
done
exit 0
