#!/usr/bin/env bash
# Stops the process kubelet (SIGTERM: it stops every pod process and removes
# the pod network namespaces), then removes any cdk-* netns still there and
# kills what was left in it. Called by test/cluster/down; safe to run twice.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [[ -e "$CDK_STATE/pids/kubelet.pid" ]]; then
  cdk_log "stopping kubelet"
  cdk_stop "$CDK_STATE/pids/kubelet.pid" 15
fi
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cdk-/ { print $1 }'); do
  for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  ip netns delete "$ns" 2>/dev/null || true
done
exit 0
