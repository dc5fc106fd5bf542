#!/usr/bin/env bash
# Smoke test for humans: start etcd + kube-apiserver from a binaries dir on 127.0.0.1 (random free
# ports), wait for /readyz=200, GET /api/v1/namespaces/default and /version, then stop both and
# clean up. Nothing is left running, whatever happens (trap on EXIT).
#
# Usage: scripts/kube/start.sh [BIN_DIR]
#   BIN_DIR holds kube-apiserver and etcd; default: the dir printed by scripts/kube/build.sh.
# Env:   KEEP_RUNNING=1  wait for Ctrl-C after the checks instead of stopping right away
#        READY_TIMEOUT   seconds to wait for /readyz (default 60)
# Flags are the ones in docs/real-apiserver.md (envtest's, plus a static admin token).
set -euo pipefail

log() { printf '[kube/start] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

BIN=${1:-}
if [[ -z $BIN ]]; then
  BIN=$("$(dirname "$0")/build.sh" | tail -n1)
fi
[[ -x $BIN/kube-apiserver && -x $BIN/etcd ]] || die "no kube-apiserver/etcd in '$BIN'"
command -v curl >/dev/null || die "curl is needed"
command -v openssl >/dev/null || die "openssl is needed"
READY_TIMEOUT=${READY_TIMEOUT:-60}

D=$(mktemp -d "${TMPDIR:-/tmp}/refwatch-kube.XXXXXX")
ETCD_PID="" APISERVER_PID=""

# SIGTERM, then SIGKILL after 15 s; only ever the PIDs this script started.
stop_pid() {
  local name=$1 pid=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not exit 15 s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  log "stopped $name (pid $pid)"
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid kube-apiserver "$APISERVER_PID"
  stop_pid etcd "$ETCD_PID"
  if (( rc != 0 && rc != 130 && rc != 143 )); then
    for f in etcd.log kube-apiserver.log; do
      [[ -s $D/$f ]] && { log "--- last lines of $f ---"; tail -n 20 "$D/$f" >&2; }
    done
  fi
  rm -rf "$D"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# Three distinct free loopback ports (bound together, then released; a tiny race is acceptable here).
free_ports() {
  if command -v python3 >/dev/null; then
    python3 -c '
import socket
ss=[socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))'
  else
    node -e '
const net=require("net");const ps=[];let n=0;const ss=[0,1,2].map(()=>net.createServer());
ss.forEach(s=>s.listen(0,"127.0.0.1",()=>{ps.push(s.address().port);if(++n===3){console.log(ps.join(" "));ss.forEach(x=>x.close());}}));'
  fi
}
read -r ETCD_PORT PEER_PORT API_PORT < <(free_ports)
[[ -n ${API_PORT:-} ]] || die "could not find free ports"

TOKEN=$(openssl rand -hex 24)
printf '%s,refwatch-admin,refwatch-admin-uid,"system:masters"\n' "$TOKEN" > "$D/tokens.csv"
openssl genrsa -out "$D/sa.key" 2048 2>/dev/null
mkdir -p "$D/pki" "$D/etcd"

log "binaries: $BIN"
"$BIN/kube-apiserver" --version >&2
"$BIN/etcd" --version | sed -n 1p >&2   # sed, not head: no SIGPIPE under pipefail
log "etcd client port $ETCD_PORT, peer port $PEER_PORT; kube-apiserver port $API_PORT; dir $D"

T0=$(now)
"$BIN/etcd" --name=refwatch --data-dir="$D/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="refwatch=http://127.0.0.1:$PEER_PORT" \
  --unsafe-no-fsync=true --log-level=warn >"$D/etcd.log" 2>&1 &
ETCD_PID=$!

"$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --cert-dir="$D/pki" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --service-account-issuer="https://127.0.0.1:$API_PORT" \
  --service-account-key-file="$D/sa.key" --service-account-signing-key-file="$D/sa.key" \
  --token-auth-file="$D/tokens.csv" \
  --authorization-mode=RBAC \
  --disable-admission-plugins=ServiceAccount \
  --allow-privileged=true \
  --endpoint-reconciler-type=none >"$D/kube-apiserver.log" 2>&1 &
APISERVER_PID=$!
log "started etcd (pid $ETCD_PID) and kube-apiserver (pid $APISERVER_PID)"

# etcd readiness (informational; the apiserver retries etcd by itself)
ETCD_READY=""
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while (( $(date +%s) < deadline )); do
  kill -0 "$ETCD_PID" 2>/dev/null || die "etcd exited early"
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ETCD_PORT/readyz" || true) == 200 ]]; then
    ETCD_READY=$(elapsed "$T0"); break
  fi
  sleep 0.2
done
[[ -n $ETCD_READY ]] || die "etcd not ready after ${READY_TIMEOUT}s"
log "etcd /readyz=200 after ${ETCD_READY}s"

# kube-apiserver readiness: /readyz with the admin token, poll every 200 ms. The probe skips TLS
# verification (the self-signed cert may not exist yet); the real requests below verify it.
code=""
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while (( $(date +%s) < deadline )); do
  kill -0 "$APISERVER_PID" 2>/dev/null || die "kube-apiserver exited early"
  code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 \
    -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz" || true)
  [[ $code == 200 ]] && break
  sleep 0.2
done
if [[ $code != 200 ]]; then
  curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz?verbose" >&2 || true
  die "kube-apiserver /readyz not 200 after ${READY_TIMEOUT}s (last code '$code')"
fi
READY=$(elapsed "$T0")
log "kube-apiserver /readyz=200 after ${READY}s (from starting etcd + kube-apiserver)"

CA="$D/pki/apiserver.crt"    # leaf followed by its self-signed CA
api() { curl -sS --fail --cacert "$CA" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT$1"; }

# The default namespace may appear a moment after readiness (envtest waits up to 5 s too).
ns=""
for ((i = 0; i < 25; i++)); do
  ns=$(api /api/v1/namespaces/default 2>/dev/null) && break
  ns=""; sleep 0.2
done
[[ -n $ns ]] || die "GET /api/v1/namespaces/default failed"
echo "GET /api/v1/namespaces/default:"
echo "$ns"
echo "GET /version:"
api /version
echo
echo "ready_seconds=$READY etcd_ready_seconds=$ETCD_READY"

if [[ ${KEEP_RUNNING:-} == 1 ]]; then
  log "KEEP_RUNNING=1: server https://127.0.0.1:$API_PORT, token $TOKEN, CA $CA; Ctrl-C to stop"
  while kill -0 "$APISERVER_PID" 2>/dev/null; do sleep 1; done
fi
T1=$(now)
stop_pid kube-apiserver "$APISERVER_PID"; APISERVER_PID=""
stop_pid etcd "$ETCD_PID"; ETCD_PID=""
log "stopped both in $(elapsed "$T1")s"
