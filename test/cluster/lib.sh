# shellcheck shell=bash disable=SC2034
# Shared helpers for test/cluster scripts. Source it; it defines variables and
# functions only and has no side effects.

CDK_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CDK_CACHE="${CDK_CACHE:-$HOME/.cache/crate-decommission}"
CDK_STATE="${CDK_STATE:-/var/lib/cdk}"
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
# Prometheus and its Pushgateway (Debian's packages; test/cluster/up.d/50-prometheus.sh), on the bridge address so
# runner pods reach the Pushgateway from their network namespaces. Not 9090/9091: a packaged service may hold those.
CDK_PROMETHEUS_PORT=19090
CDK_PUSHGATEWAY_PORT=19091

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

# ---------------------------------------------------------------------------
# PKI (openssl, ECDSA P-256 keys). All certificates are signed by $CDK_STATE/pki/ca.{crt,key}.

# cdk_issue_cert DIR NAME CN [O] [SANS] [USAGE]
#   Writes DIR/NAME.{crt,key} unless NAME.crt exists. SANS is an openssl
#   subjectAltName value ("DNS:a,IP:1.2.3.4"); USAGE is clientAuth,
#   serverAuth or both ("serverAuth,clientAuth"); default clientAuth.
#   Other parts (e.g. the kubelet: CN=system:node:<name>, O=system:nodes)
#   may call it to get certificates from the cluster CA.
cdk_issue_cert() {
  local dir="$1" name="$2" cn="$3" org="${4:-}" sans="${5:-}" usage="${6:-clientAuth}"
  [[ -s "$dir/$name.crt" && -s "$dir/$name.key" ]] && return 0
  local subj="/CN=$cn" ext
  [[ -n "$org" ]] && subj="/O=$org$subj"
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n "$sans" ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/$name.key" -subj "$subj" \
    -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$ext" "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
}

# cdk_write_kubeconfig FILE SERVER CA CERT KEY [USER]: embeds the files.
cdk_write_kubeconfig() {
  local file="$1" server="$2" ca="$3" cert="$4" key="$5" user="${6:-admin}"
  local tmp="$file.tmp.$$"
  cat >"$tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: cdk
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$ca")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$cert")
    client-key-data: $(base64 -w0 "$key")
contexts:
- name: cdk
  context:
    cluster: cdk
    user: $user
    namespace: default
current-context: cdk
KC
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}

# ---------------------------------------------------------------------------
# Processes. $CDK_STATE/pids/<name>.pid: line 1 the pid (started with setsid,
# so it leads its own process group), optional line 2 its start time
# (field 22 of /proc/<pid>/stat) to guard against pid reuse after a crash.

cdk_proc_starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }

# cdk_pid_alive FILE: prints the pid and returns 0 if the process is alive
# (and, when recorded, has the same start time).
cdk_pid_alive() {
  local file="$1" pid st
  [[ -s "$file" ]] || return 1
  pid="$(sed -n 1p "$file")"; st="$(sed -n 2p "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -d "/proc/$pid" ]] || return 1
  [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]] || return 1
  if [[ -n "$st" && "$(cdk_proc_starttime "$pid")" != "$st" ]]; then return 1; fi
  echo "$pid"
}

# cdk_start NAME CMD...: starts CMD in its own session, logs to
# $CDK_STATE/logs/NAME.log, records $CDK_STATE/pids/NAME.pid.
cdk_start() {
  local name="$1"; shift
  mkdir -p "$CDK_STATE/logs" "$CDK_STATE/pids"
  setsid "$@" </dev/null >>"$CDK_STATE/logs/$name.log" 2>&1 9>&- &
  local pid=$!
  printf '%s\n%s\n' "$pid" "$(cdk_proc_starttime "$pid")" >"$CDK_STATE/pids/$name.pid"
}

# cdk_group_alive PGID: true while a non-zombie process is in the group
# (zombies of processes re-parented to a slow reaper count as gone).
cdk_group_alive() {
  awk -v g="$1" '{ sub(/^.*\) /, ""); if ($3 == g && $1 != "Z") { found = 1; exit } }
    END { exit !found }' /proc/[0-9]*/stat 2>/dev/null
}

# cdk_stop FILE [TIMEOUT_S]: TERM the process group (or the process), wait,
# then KILL. Removes FILE.
cdk_stop() {
  local file="$1" timeout="${2:-10}" pid target i
  if pid="$(cdk_pid_alive "$file")"; then
    if [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" == "$pid" ]]; then target="-$pid"; else target="$pid"; fi
    # shellcheck disable=SC2317
    alive() { if [[ "$target" == -* ]]; then cdk_group_alive "$pid"; else cdk_pid_alive "$file" >/dev/null; fi; }
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      alive || break
      sleep 0.1
    done
    if alive; then
      kill -KILL -- "$target" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do alive || break; sleep 0.1; done
    fi
  fi
  rm -f "$file"
}

# cdk_lock: serialises up/down of the one cluster this machine can hold (fixed
# bridge, ports). Waits up to CDK_LOCK_WAIT seconds (default 1800: a first
# up builds for ~10 min under the lock). The lock is
# fd 9 on ${CDK_STATE}.lock; nested calls (up -> down, hooks) see
# CDK_LOCK_HELD=1 and do not lock again. Daemons must not inherit fd 9:
# cdk_start closes it, and hooks run with it closed.
cdk_lock() {
  [[ "${CDK_LOCK_HELD:-}" == 1 ]] && return 0
  local lockfile="${CDK_STATE%/}.lock"
  exec 9>"$lockfile"
  if ! flock -n 9; then
    cdk_log "waiting for another up/down to finish (lock $lockfile)"
    flock -w "${CDK_LOCK_WAIT:-1800}" 9 || cdk_die "timed out waiting for $lockfile"
  fi
  export CDK_LOCK_HELD=1
}
