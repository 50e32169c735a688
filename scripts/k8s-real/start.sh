#!/usr/bin/env bash
# Runs a real Kubernetes 1.20 control plane on loopback, in the foreground, until stopped:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler. No kubelets: test-real/kubelets.ts
# registers nodes and plays their kubelets.
#
# usage: start.sh RUN_DIR PORT
#   RUN_DIR  emptied and filled with kubeconfig, certs/, etcd/, logs/; `ready` appears when the API
#            answers /readyz and the controllers are started
#   PORT     kube-apiserver HTTPS port; etcd uses ETCD_PORT (default PORT+1) and ETCD_PEER_PORT (PORT+2)
# env: K8S_BIN (default $K8S_HOME/bin, K8S_HOME default ~/.cache/k8s-real)
#      WATCH_PID  stop everything when this process is gone (no orphans if the caller dies)
# Stops all components on SIGINT/SIGTERM, and when any component exits.
#
# Choices: RBAC with one static bearer token in group system:masters; the node-lifecycle controller
# is off (no kubelet heartbeats here, it would mark every node NotReady and evict); admission
# TaintNodesByCondition is off (it would taint every new node not-ready forever) and so is
# ServiceAccount (no token controller, so no service account tokens to mount).
set -euo pipefail

DIR=${1:?usage: start.sh RUN_DIR PORT}
PORT=${2:?usage: start.sh RUN_DIR PORT}
ETCD_PORT=${ETCD_PORT:-$((PORT + 1))}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-$((PORT + 2))}
K8S_BIN=${K8S_BIN:-${K8S_HOME:-$HOME/.cache/k8s-real}/bin}
API="https://127.0.0.1:$PORT"

log() { echo "k8s-real/start: $*" >&2; }
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$K8S_BIN/$c" ] || { log "ERROR: $K8S_BIN/$c missing; run scripts/k8s-real/build.sh first"; exit 1; }
done
command -v etcd >/dev/null || { log "ERROR: etcd not on PATH (apt-get install etcd-server)"; exit 1; }

PIDS=()
stop_all() {
  trap - EXIT INT TERM
  [ ${#PIDS[@]} -gt 0 ] || exit "${1:-0}"
  kill -TERM "${PIDS[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "${PIDS[@]}" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  exit "${1:-0}"
}
trap 'stop_all 1' EXIT
trap 'stop_all 0' INT TERM

# start NAME CMD... : runs CMD in the background with its log in RUN_DIR/logs/NAME.log
start() {
  local name=$1; shift
  "$@" >"$DIR/logs/$name.log" 2>&1 &
  PIDS+=($!)
  echo "$name $!" >>"$DIR/pids"
}

prepare_run_dir() {
  rm -rf "$DIR"
  mkdir -p "$DIR/etcd" "$DIR/certs" "$DIR/logs"
  openssl genrsa -out "$DIR/certs/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/certs/sa.key" -pubout -out "$DIR/certs/sa.pub" 2>/dev/null
  TOKEN=$(openssl rand -hex 24)
  echo "$TOKEN,spotguard-admin,spotguard-admin,system:masters" >"$DIR/tokens.csv"
  cat >"$DIR/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: k8s-real
  cluster:
    server: $API
    insecure-skip-tls-verify: true
users:
- name: spotguard-admin
  user:
    token: $TOKEN
contexts:
- name: k8s-real
  context:
    cluster: k8s-real
    user: spotguard-admin
current-context: k8s-real
KUBECONFIG
}

wait_for_api() {
  for _ in $(seq 1 120); do
    curl -sfk -H "Authorization: Bearer $TOKEN" "$API/readyz" >/dev/null 2>&1 && return 0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { log "ERROR: a component exited early; see $DIR/logs"; return 1; }; done
    sleep 0.5
  done
  log "ERROR: kube-apiserver not ready after 60 s; see $DIR/logs/kube-apiserver.log"
  return 1
}

prepare_run_dir
start etcd etcd --name default --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --secure-port "$PORT" --insecure-port 0 --cert-dir "$DIR/certs" --token-auth-file "$DIR/tokens.csv" \
  --authorization-mode RBAC --service-account-key-file "$DIR/certs/sa.pub" \
  --service-account-signing-key-file "$DIR/certs/sa.key" --service-account-issuer https://kubernetes.default.svc \
  --service-cluster-ip-range 10.96.0.0/24 --disable-admission-plugins ServiceAccount,TaintNodesByCondition \
  --max-requests-inflight 800 --max-mutating-requests-inflight 400
wait_for_api
start kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
  --leader-elect=false --port 0 --secure-port 0 --use-service-account-credentials=false \
  --controllers '*,-nodelifecycle,-serviceaccount-token,-nodeipam' \
  --concurrent-deployment-syncs 20 --concurrent-replicaset-syncs 20 --kube-api-qps 500 --kube-api-burst 1000
start kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$DIR/kubeconfig" \
  --leader-elect=false --port 0 --secure-port 0 --kube-api-qps 500 --kube-api-burst 1000
touch "$DIR/ready"
log "ready: $API (kubeconfig $DIR/kubeconfig)"

# Supervise: stop everything when a component dies or the watched caller is gone.
while sleep 1; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "ERROR: component $pid exited; see $DIR/logs"; stop_all 1; }
  done
  if [ -n "${WATCH_PID:-}" ] && ! kill -0 "$WATCH_PID" 2>/dev/null; then
    log "caller $WATCH_PID is gone; stopping"
    stop_all 0
  fi
done
