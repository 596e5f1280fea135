#!/usr/bin/env bash
# Starts the CrateDB simulator's coordinator (test/go/cratesim): builds
# crate-sim and dc-util-sim into $CDK_CACHE/bin/tools-<hash>/ when missing
# (hash of go.mod and the non-test sources), links $CDK_STATE/bin/crate-sim
# and the dc_util names (dc_util-linux-{amd64,x86_64,arm64,aarch64}), starts
# `crate-sim coordinator` (log: $CDK_STATE/logs/crate-sim.log, pid:
# $CDK_STATE/pids/crate-sim.pid) and waits until its socket
# $CDK_STATE/crate-sim.sock answers. Called by test/cluster/up; runnable on
# its own (needs only Go; no root unless $CDK_STATE needs it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

mod="$CDK_REPO/test/go/cratesim"
start_ns=$(date +%s%N)
socket="$CDK_STATE/crate-sim.sock"

hash="$(cd "$mod" && { cat go.mod; [[ -e go.sum ]] && cat go.sum; find . -name '*.go' ! -name '*_test.go' | LC_ALL=C sort | xargs cat; } \
  | sha256sum | cut -c1-12)"
dir="$CDK_CACHE/bin/tools-$hash"
if [[ ! -x "$dir/crate-sim" || ! -x "$dir/dc-util-sim" ]]; then
  cdk_log "building crate-sim and dc-util-sim into $dir"
  mkdir -p "$dir"
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/crate-sim.tmp.$$" ./cmd/crate-sim \
     && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/dc-util-sim.tmp.$$" ./cmd/dc-util-sim)
  mv "$dir/crate-sim.tmp.$$" "$dir/crate-sim"
  mv "$dir/dc-util-sim.tmp.$$" "$dir/dc-util-sim"
  cdk_elapsed "$start_ns" "  crate-sim build"
fi

# programs every pod finds on its PATH ($CDK_STATE/bin comes first)
mkdir -p "$CDK_STATE/bin"
ln -sfn "$dir/crate-sim" "$CDK_STATE/bin/crate-sim"
for arch in amd64 x86_64 arm64 aarch64; do
  ln -sfn "$dir/dc-util-sim" "$CDK_STATE/bin/dc_util-linux-$arch"
done

pidfile="$CDK_STATE/pids/crate-sim.pid"
ctl() { "$dir/crate-sim" ctl --socket "$socket" "$@"; }
if pid="$(cdk_pid_alive "$pidfile")" && ctl clusters >/dev/null 2>&1; then
  # a coordinator started from an older build keeps running (restarting it
  # would drop every simulated cluster's tables); `down` then `up` replaces it
  if [[ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" != "$(readlink -f "$dir/crate-sim")" ]]; then
    cdk_log "crate-sim coordinator already running (pid $pid) from an older build; down + up to replace it"
  else
    cdk_log "crate-sim coordinator already running (pid $pid)"
  fi
  exit 0
fi
[[ -e "$pidfile" ]] && cdk_stop "$pidfile" 5
cdk_log "starting crate-sim coordinator on $socket"
cdk_start crate-sim "$dir/crate-sim" coordinator --socket "$socket"
for ((i = 0; i < 100; i++)); do
  ctl clusters >/dev/null 2>&1 && break
  cdk_pid_alive "$pidfile" >/dev/null || { tail -20 "$CDK_STATE/logs/crate-sim.log" >&2; cdk_die "crate-sim coordinator exited"; }
  sleep 0.1
done
ctl clusters >/dev/null 2>&1 || cdk_die "crate-sim coordinator not answering on $socket after 10s"
cdk_elapsed "$start_ns" "  crate-sim ready after"
