#!/usr/bin/env bash
# `npm run demo`: try kubectl crate-decommission on the local test cluster (docs/test-cluster.md), as a user would.
#
#   1. brings the test cluster up (building the control plane on first use, ~10 min; then seconds),
#   2. builds the plugin and the runner (dist/) and puts `kubectl-crate_decommission` on PATH,
#   3. creates a CrateDB StatefulSet (3 simulated nodes, dc_util in preStop, a table, GREEN),
#   4. installs the runner's RBAC and runs `kubectl crate-decommission rollout` - in a Job, with live progress,
#   5. shows the result (new pods, no unavailable primary, allocation reset),
#   6. tears down what it created (the namespace; the cluster too when the demo started it) unless --keep.
#
# Usage: npm run demo [-- --keep]      (as root: the test cluster needs a bridge and network namespaces)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CDK_STATE="${CDK_STATE:-/var/lib/cdk}"
NS="${DEMO_NAMESPACE:-crate-demo}"
CLUSTER=demo                       # cluster.name of the simulated CrateDB
STS="crate-data-hot-$CLUSTER"      # crate-operator's StatefulSet naming
KEEP=0
for a in "$@"; do
  case "$a" in
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo: unknown argument $a (only --keep)" >&2; exit 2 ;;
  esac
done

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[[ $EUID -eq 0 ]] || { echo "demo: run as root (the test cluster needs a bridge and network namespaces)" >&2; exit 2; }
started=$(date +%s)

# --- 1. the cluster ------------------------------------------------------------------------------
bold "Test cluster (kube-apiserver, controller-manager, scheduler, etcd, process kubelet, CrateDB simulator)"
cluster_was_up=0
if [[ -s "$CDK_STATE/kubeconfig" ]] && KUBECONFIG="$CDK_STATE/kubeconfig" \
     "$("$REPO/test/cluster/build-controlplane" 2>/dev/null)/kubectl" get --raw /readyz >/dev/null 2>&1; then
  cluster_was_up=1
fi
"$REPO/test/cluster/up"
# shellcheck disable=SC1091
source "$CDK_STATE/env"            # KUBECONFIG, PATH with kubectl
SIM="$CDK_STATE/bin/crate-sim"

# --- 2. the plugin on PATH -----------------------------------------------------------------------
bold "Building the plugin and the runner (dist/)"
(cd "$REPO" && npm run --silent build)
"$REPO/test/cluster/load-runner-image"      # the Job's image: the runner bundle + Node, as the Dockerfile builds it
# kubectl finds plugins as kubectl-<name> on PATH ('-' in the name becomes '_'). A folder of its own, so a
# single binary built by `npm run build:binary` (dist/kubectl-crate_decommission) is left alone.
mkdir -p "$REPO/dist/lib/demo-path"
ln -sf ../kubectl-crate_decommission.mjs "$REPO/dist/lib/demo-path/kubectl-crate_decommission"
export PATH="$REPO/dist/lib/demo-path:$PATH"
echo "kubectl crate-decommission -> $(command -v kubectl-crate_decommission)"

cleanup() {
  local code=$?
  SIM="${SIM:-$CDK_STATE/bin/crate-sim}"
  if [[ $KEEP -eq 1 ]]; then
    bold "Kept: namespace $NS (kubectl -n $NS get pods; source $CDK_STATE/env). Remove: kubectl delete ns $NS"
  else
    bold "Tearing down"
    kubectl delete namespace "$NS" --wait=true --timeout=120s >/dev/null 2>&1 || true
    echo "namespace $NS deleted"
    "$SIM" ctl delete "$CLUSTER" --force >/dev/null 2>&1 || true   # forget the simulated cluster
    if [[ $cluster_was_up -eq 0 ]]; then "$REPO/test/cluster/down" || true; fi
  fi
  echo "demo finished in $(( $(date +%s) - started )) s"
  exit "$code"
}
trap cleanup EXIT

# --- 3. a CrateDB StatefulSet --------------------------------------------------------------------
bold "Creating a 3-node CrateDB StatefulSet $NS/$STS (dc_util in preStop)"
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=120s >/dev/null
kubectl create namespace "$NS"
"$SIM" ctl reset "$CLUSTER" >/dev/null 2>&1 || true
kubectl apply -n "$NS" -f - <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: crate}
---
# dc_util reads its StatefulSet (labels, grace period) with the pod's token.
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: crate-dc-util}
rules: [{apiGroups: [apps], resources: [statefulsets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: crate-dc-util}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: crate-dc-util}
subjects: [{kind: ServiceAccount, name: crate, namespace: $NS}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: $STS
  labels: {app.kubernetes.io/name: $CLUSTER, app.kubernetes.io/component: cratedb}
spec:
  replicas: 3
  serviceName: crate-discovery-$CLUSTER
  podManagementPolicy: Parallel
  updateStrategy: {type: OnDelete}
  selector: {matchLabels: {app.kubernetes.io/name: $CLUSTER}}
  template:
    metadata: {labels: {app.kubernetes.io/name: $CLUSTER, app.kubernetes.io/component: cratedb}}
    spec:
      serviceAccountName: crate
      terminationGracePeriodSeconds: 600
      containers:
      - {name: sql-exporter, image: busybox:1.36, command: [sleep, "1000000"]}
      - name: crate
        image: crate:5.10.3
        env: [{name: POD_INDEX, valueFrom: {fieldRef: {fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']"}}}]
        args: [-Ccluster.name=$CLUSTER, "-Cnode.name=data-hot-\$(POD_INDEX)", -Cauth.host_based.enabled=true]
        ports: [{name: http, containerPort: 4200}]
        readinessProbe: {httpGet: {path: /, port: 4200}, periodSeconds: 1, failureThreshold: 1}
        lifecycle:
          preStop:
            exec:
              command: [/bin/sh, -c, 'dc_util-linux-\$(uname -m) --min-availability PRIMARIES --timeout 720s --proto http || true']
EOF
for _ in $(seq 1 240); do   # OnDelete StatefulSets have no `rollout status`
  [[ "$(kubectl -n "$NS" get sts "$STS" -o jsonpath='{.status.readyReplicas}')" == 3 ]] && break
  sleep 0.5
done
"$SIM" ctl wait-nodes "$CLUSTER" 3 60s >/dev/null
"$SIM" ctl create-table "$CLUSTER" doc.sensor_readings 6 1 >/dev/null
"$SIM" ctl wait-health "$CLUSTER" GREEN 60s >/dev/null
echo "table doc.sensor_readings (6 shards, 1 replica): GREEN"
kubectl -n "$NS" get pods -o wide

# --- 4. the rollout, as a user runs it -----------------------------------------------------------
bold "kubectl crate-decommission plan sts/$STS -n $NS"
kubectl crate-decommission plan "sts/$STS" -n "$NS" --local

bold "kubectl crate-decommission rbac install -n $NS"
kubectl crate-decommission rbac install -n "$NS"

bold "kubectl crate-decommission rollout sts/$STS -n $NS --yes"
rc=0
kubectl crate-decommission rollout "sts/$STS" -n "$NS" --yes || rc=$?

# --- 5. the result -------------------------------------------------------------------------------
bold "Result (exit code $rc)"
kubectl -n "$NS" get pods -L batch.kubernetes.io/job-name
echo
echo "CrateDB simulator - invariant recorder (was a primary ever unavailable?):"
"$SIM" ctl invariants "$CLUSTER" && echo "  no unavailable primary"
alloc=$("$SIM" ctl sql "$CLUSTER" "SELECT settings['cluster']['routing']['allocation']['enable'] FROM sys.cluster" 2>/dev/null \
  | grep -o '"rows":\[\[[^]]*\]\]' | grep -o '\[\[.*\]\]' | tr -d '[]"' || echo '?')
echo "cluster.routing.allocation.enable: ${alloc:-?} (reset to the default after the rollout)"
exit "$rc"
