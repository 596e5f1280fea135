#!/usr/bin/env bash
# Stops the CrateDB simulator's coordinator and removes its socket. Simulated
# nodes still running lose their connection and exit 1 (the kubelet stops
# them anyway). Called by test/cluster/down; safe to run twice.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [[ -e "$CDK_STATE/pids/crate-sim.pid" ]]; then
  cdk_log "stopping crate-sim coordinator"
  cdk_stop "$CDK_STATE/pids/crate-sim.pid" 5
fi
rm -f "$CDK_STATE/crate-sim.sock"
exit 0
