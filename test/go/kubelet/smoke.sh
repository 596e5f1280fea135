#!/usr/bin/env bash
# Integration smoke test of the process kubelet against a running test
# cluster (test/cluster/up): pod start, logs (-f ends with the container),
# exec (pod IP, exit code, service-account token), preStop/SIGTERM order on
# deletion, a Job failing with exit 3 and a termination message, restarts
# with lastState and --previous logs, a StatefulSet of 2 pods with an httpGet
# readiness probe reaching each other by name. Runs in namespace
# kubelet-smoke (deleted at the end). Prints "N passed, N failed".
# SMOKE_NODE=<node> pins every pod to that node (and tolerates the taint
# cdk-test=true:NoSchedule), for a second kubelet started for testing.
set -uo pipefail
CDK_STATE="${CDK_STATE:-/var/lib/cdk}"
# shellcheck disable=SC1091
source "$CDK_STATE/env"
NS=kubelet-smoke
K="kubectl -n $NS"
pass=0 fail=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
ko() { echo "FAIL - $*"; fail=$((fail + 1)); }
# check DESCRIPTION EXPRESSION: EXPRESSION is evaluated by bash
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

placement=""
if [[ -n "${SMOKE_NODE:-}" ]]; then
  placement="nodeSelector: {kubernetes.io/hostname: $SMOKE_NODE}\n  tolerations: [{key: cdk-test, operator: Exists}]"
fi
# apply: kubectl apply -f - of stdin, with the placement put where a
# "#PLACEMENT" line is (indented like it)
apply() {
  awk -v p="$placement" '/#PLACEMENT/ { ind = $0; sub(/#PLACEMENT.*/, "", ind); if (p != "") { n = split(p, a, "\\n"); for (i = 1; i <= n; i++) { l = a[i]; sub(/^  /, "", l); print ind l } } next } { print }' \
    | $K apply -f - >/dev/null
}

kubectl delete ns $NS --wait=true >/dev/null 2>&1
kubectl create ns $NS >/dev/null
for _ in $(seq 50); do $K get sa default >/dev/null 2>&1 && break; sleep 0.2; done
order="/tmp/kubelet-smoke-order.$$"
rm -f "$order"

# --- 1. pod start, logs, exec -------------------------------------------------
t0=$(now)
apply <<Y
apiVersion: v1
kind: Pod
metadata: {name: hi}
spec:
  #PLACEMENT
  terminationGracePeriodSeconds: 10
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hi; trap 'echo term \$(date +%s.%N) >> $order; exit 0' TERM; while true; do sleep 0.1; done"]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop-start \$(date +%s.%N) >> $order; sleep 2; echo prestop-end \$(date +%s.%N) >> $order"]}
Y
$K wait --for=condition=Ready pod/hi --timeout=30s >/dev/null
echo "     pod Ready $(secs "$t0" "$(now)")s after kubectl apply"
ip="$($K get pod hi -o jsonpath='{.status.podIP}')"
check "podIP $ip in 10.88.0.0/16" '[[ "$ip" == 10.88.* ]]'
check "kubectl logs" '[[ "$($K logs hi)" == hi ]]'
check "exec sees the pod IP on eth0" '$K exec hi -- ip -4 -o addr show eth0 | grep -q " $ip/16 "'
check "exec sees the pod's hostname" '[[ "$($K exec hi -- hostname)" == hi ]]'
$K exec hi -- sh -c 'exit 7' 2>/dev/null; rc=$?
check "exec exit code 7 (got $rc)" '[[ $rc == 7 ]]'
sa=/var/run/secrets/kubernetes.io/serviceaccount
sa_curl="curl -sf --cacert $sa/ca.crt -H \"Authorization: Bearer \$(cat $sa/token)\" -X POST -H content-type:application/json -d '{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}' https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT/apis/authentication.k8s.io/v1/selfsubjectreviews"
check "service-account token works in the pod" '$K exec hi -- sh -c "$sa_curl" | grep -q system:serviceaccount:$NS:default'

# --- 2. deletion: preStop, then SIGTERM, then DELETE ---------------------------
t0=$(now)
$K delete pod hi --wait=true >/dev/null
took=$(secs "$t0" "$(now)")
check "delete with a 2 s preStop took ${took}s (2..9 s)" 'awk -v t="$took" '\''BEGIN { exit !(t >= 2 && t < 9) }'\'''
check "order preStop start < preStop end < SIGTERM" '[[ "$(awk "{print \$1}" $order | tr "\n" " ")" == "prestop-start prestop-end term " ]] && sort -c -k2 -n $order'

# --- 3. logs -f ends with the container; Job exit 3 + termination message -------
apply <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: short}
spec:
  #PLACEMENT
  restartPolicy: Never
  containers:
  - {name: main, image: busybox, command: ["sh", "-c", "echo a; sleep 2; echo b"]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: fail3}
spec:
  backoffLimit: 0
  template:
    spec:
      #PLACEMENT
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["sh", "-c", "echo 'disk on fire' > /dev/termination-log; exit 3"]
Y
for _ in $(seq 50); do [[ "$($K get pod short -o jsonpath='{.status.phase}')" == Running ]] && break; sleep 0.1; done
out="$(timeout 15 $K logs -f short)"; rc=$?
check "logs -f got both lines and ended with the container (rc $rc)" '[[ $rc == 0 && "$out" == $'\''a\nb'\'' ]]'
$K wait --for=condition=Failed job/fail3 --timeout=60s >/dev/null
st="$($K get pod -l job-name=fail3 -o jsonpath='{.items[0].status.phase} {.items[0].status.containerStatuses[0].state.terminated.exitCode} {.items[0].status.containerStatuses[0].state.terminated.message}')"
check "Job pod: Failed, exit 3, termination message (got: $st)" '[[ "$st" == $'\''Failed 3 disk on fire\n'\'' || "$st" == "Failed 3 disk on fire" ]]'

# --- 4. restarts ---------------------------------------------------------------------
apply <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: crashy}
spec:
  #PLACEMENT
  containers:
  - {name: main, image: busybox, command: ["sh", "-c", "echo run; sleep 0.5; exit 5"]}
Y
for _ in $(seq 100); do [[ "$($K get pod crashy -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 2 ]] 2>/dev/null && break; sleep 0.1; done
st="$($K get pod crashy -o jsonpath='{.status.phase} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].lastState.terminated.exitCode}')"
check "restartPolicy Always: restarted, lastState exit 5 (got: $st)" '[[ "$st" =~ ^Running\ [2-9]\ 5$ ]]'
check "logs --previous" '[[ "$($K logs crashy --previous)" == run ]]'

# --- 5. StatefulSet with readiness probe --------------------------------------------------
t0=$(now)
apply <<'Y'
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {clusterIP: None, selector: {app: web}, ports: [{port: 8080}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      #PLACEMENT
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: busybox
        command: ["sh", "-c", "d=$(mktemp -d); echo $HOSTNAME > $d/index.html; sleep 1; exec python3 -m http.server -d $d 8080"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
Y
$K rollout status sts/web --timeout=90s >/dev/null
echo "     StatefulSet of 2 ready $(secs "$t0" "$(now)")s after kubectl apply"
check "StatefulSet 2/2 ready" '[[ "$($K get sts web -o jsonpath='\''{.status.readyReplicas}'\'')" == 2 ]]'
check "web-0 reaches web-1 by name" '[[ "$($K exec web-0 -- curl -s web-1.web:8080/)" == web-1 ]]'

kubectl delete ns $NS --wait=false >/dev/null
rm -f "$order"
echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
