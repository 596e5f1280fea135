# shellcheck shell=bash
# Shared helpers for test/cluster scripts. Source it; it defines variables and
# functions only and has no side effects.

CDK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CDK_CACHE="${CDK_CACHE:-$HOME/.cache/crate-decommission}"
CDK_STATE="${CDK_STATE:-/tmp/cdk}"
CDK_CP_MOD="$CDK_REPO/test/go/controlplane"
CDK_ETCD_MOD="$CDK_CP_MOD/etcd"

# Bridge / addresses (see docs/test-cluster.md, "Network").
CDK_BRIDGE=cdk0
CDK_BRIDGE_IP=10.88.0.1
CDK_BRIDGE_CIDR=10.88.0.1/16
CDK_APISERVER_PORT=6443
CDK_SERVICE_CIDR=10.96.0.0/16
CDK_SERVICE_IP=10.96.0.1
CDK_ETCD_CLIENT_PORT=2379
CDK_ETCD_PEER_PORT=2380

# Pinned Kubernetes version, read from the wrapper module's go.mod.
cdk_k8s_version() {
  awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }
       $1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$CDK_CP_MOD/go.mod"
}

# Pinned etcd version, read from the etcd wrapper module's go.mod.
cdk_etcd_version() {
  awk '($1 == "require" && $2 == "go.etcd.io/etcd/server/v3") { print $3; exit }
       ($1 == "go.etcd.io/etcd/server/v3") { print $2; exit }' "$CDK_ETCD_MOD/go.mod"
}

# Binaries folder: keyed by the Kubernetes version and a hash of both wrapper
# modules' go.mod + go.sum, so any pin change gives a fresh folder.
cdk_k8s_bindir() {
  local hash
  hash="$(cat "$CDK_CP_MOD/go.mod" "$CDK_CP_MOD/go.sum" "$CDK_ETCD_MOD/go.mod" "$CDK_ETCD_MOD/go.sum" \
    | sha256sum | cut -c1-12)"
  echo "$CDK_CACHE/bin/k8s-$(cdk_k8s_version)-$hash"
}

CDK_CP_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)

cdk_log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
cdk_die() { cdk_log "ERROR: $*"; exit 1; }

# cdk_elapsed START_NS [label]: prints "label: 12.3s" to stderr.
cdk_elapsed() {
  awk -v s="$1" -v e="$(date +%s%N)" -v l="${2:-elapsed}" 'BEGIN { printf "%s: %.1fs\n", l, (e - s) / 1e9 }' >&2
}
