#!/usr/bin/env bash
# Starts the process kubelet (test/go/kubelet): builds it into
# $CDK_CACHE/bin/tools-<hash>/kubelet when missing (hash of go.mod, go.sum and
# the sources), starts it (log: $CDK_STATE/logs/kubelet.log, pid:
# $CDK_STATE/pids/kubelet.pid) and waits until Node cdk-node-1 is Ready and
# untainted. Called by test/cluster/up; runnable on its own after up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NODE=cdk-node-1
mod="$CDK_REPO/test/go/kubelet"
start_ns=$(date +%s%N)

hash="$(cd "$mod" && { cat go.mod go.sum; find . -name '*.go' ! -name '*_test.go' | LC_ALL=C sort | xargs cat; } \
  | sha256sum | cut -c1-12)"
bin="$CDK_CACHE/bin/tools-$hash/kubelet"
if [[ ! -x "$bin" ]]; then
  cdk_log "building kubelet into $bin"
  mkdir -p "$(dirname "$bin")"
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin.tmp.$$" .)
  mv "$bin.tmp.$$" "$bin"
  cdk_elapsed "$start_ns" "  kubelet build"
fi

export KUBECONFIG="${KUBECONFIG:-$CDK_STATE/kubeconfig}"
kubectl="${CDK_K8S_BIN:-$(cdk_k8s_bindir)}/kubectl"
[[ -x "$kubectl" ]] || kubectl=kubectl

# host programs every pod finds on its PATH ($CDK_STATE/bin comes first)
mkdir -p "$CDK_STATE/bin"
if [[ ! -e "$CDK_STATE/bin/curl" ]] && command -v curl >/dev/null; then
  ln -sf "$(command -v curl)" "$CDK_STATE/bin/curl"
fi

# crate-sim: images.json runs $CDK_STATE/bin/crate-sim; the crate-sim hook
# links it there, this is a fallback to the newest build in the cache
if [[ ! -e "$CDK_STATE/bin/crate-sim" ]]; then
  sim="$(ls -t "$CDK_CACHE"/bin/tools-*/crate-sim 2>/dev/null | head -1 || true)"
  [[ -n "$sim" ]] && ln -sf "$sim" "$CDK_STATE/bin/crate-sim"
fi

if pid="$(cdk_pid_alive "$CDK_STATE/pids/kubelet.pid")"; then
  cdk_log "kubelet already running (pid $pid)"
  if [[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" != "$bin" ]]; then
    cdk_log "WARNING: the running kubelet is not the current build $bin; restart it with" \
      "'bash test/cluster/down.d/30-kubelet.sh && bash test/cluster/up.d/30-kubelet.sh' (its pods are marked Failed and recreated)"
  fi
else
  cdk_log "starting kubelet ($bin)"
  cdk_start kubelet "$bin" \
    --kubeconfig="$KUBECONFIG" --state-dir="$CDK_STATE" --cache-dir="$CDK_CACHE" --repo="$CDK_REPO" \
    --node-name="$NODE" --node-ip="$CDK_BRIDGE_IP" --port=10250 --bridge="$CDK_BRIDGE" \
    --images="$CDK_REPO/test/cluster/images.json"
fi

node_ready() {
  local out
  out="$("$kubectl" get node "$NODE" -o \
    jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status}{end} {range .spec.taints[*]}{.key},{end}' 2>/dev/null)" || return 1
  [[ "$out" == "True "* && "$out" != *node.kubernetes.io/not-ready* && "$out" != *node.kubernetes.io/unreachable* ]]
}
for ((i = 0; i < 300; i++)); do
  node_ready && break
  cdk_pid_alive "$CDK_STATE/pids/kubelet.pid" >/dev/null \
    || { tail -30 "$CDK_STATE/logs/kubelet.log" >&2; cdk_die "kubelet exited"; }
  sleep 0.2
done
node_ready || { tail -30 "$CDK_STATE/logs/kubelet.log" >&2; cdk_die "node $NODE not Ready (untainted) after 60s"; }
cdk_elapsed "$start_ns" "node $NODE ready after"
