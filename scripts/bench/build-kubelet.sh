#!/usr/bin/env bash
# Build bench/kubelet (the kubelet's own watching secret manager as a benchmark worker) against
# one k8s release, from the Go module proxy (no other downloads).
#
# Usage:   bin=$(scripts/bench/build-kubelet.sh | tail -n1)
#          "$bin" -kubeconfig FILE -count N
#
# Env:     K8S_VERSION, REFWATCH_KUBE_CACHE as scripts/kube/build.sh (defaults in
#          scripts/kube/module.sh: v1.36.4, $HOME/.cache/refwatch).
#
# Output:  <cache>/kubelet-manager-<k8s>-<source hash>/kubelet-manager, outside the repo and
#          never committed. The path is the LAST line of stdout; progress goes to stderr. The
#          key holds a hash of bench/kubelet/*.go, so an edited worker is rebuilt and a stale
#          one is never run; an existing binary is reused (~0.1 s).
#
# The worker imports k8s.io/kubernetes/pkg/kubelet/secret, so, like kube-apiserver, it needs one
# replace line per staging module of that release: the temporary module gets them from
# scripts/kube/module.sh, shared with scripts/kube/build.sh.
#
# Exit codes: 0 ok, 3 Go is not installed, anything else: build failure.
set -euo pipefail

log() { printf '[bench/build-kubelet] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/kube/module.sh"

kube_require_go "the benchmark needs Go to build the kubelet's secret manager"
kube_prepare_env

SRC=$ROOT/bench/kubelet
compgen -G "$SRC/*.go" >/dev/null || die "no Go sources in $SRC"
HASH=$(cat "$SRC"/*.go | sha256sum | cut -c1-12)
OUT="$CACHE_ROOT/kubelet-manager-$K8S_VERSION-$HASH"
BIN="$OUT/kubelet-manager"
if [[ -x $BIN ]]; then
  log "kubelet-manager for k8s $K8S_VERSION (sources $HASH) already built; skipping build"
  printf '%s\n' "$BIN"
  exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/refwatch-kubelet-build.XXXXXX")
cleanup() {
  rm -rf "$WORK"
  rm -f "$OUT/.kubelet-manager.tmp.$$"   # a temp binary of an interrupted build never counts
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$WORK"

go mod init local.test/refwatch-kubelet-manager >/dev/null 2>&1
cp "$SRC"/*.go .
kube_fetch_gomod
kube_pin_release

# The release's packages and the module graph they need; golang.org/x/sys (CLOCK_MONOTONIC) is
# already in that graph, at the version k8s pins.
log "+ go get k8s.io/kubernetes@$K8S_VERSION"
go get "k8s.io/kubernetes@$K8S_VERSION" >&2
log "+ go mod tidy"
go mod tidy >&2
kube_check_resolved

mkdir -p "$OUT"
log "+ go build (k8s $K8S_VERSION, sources $HASH)"
go build -trimpath -ldflags "-s -w -X main.k8sVersion=$K8S_VERSION" -o "$OUT/.kubelet-manager.tmp.$$" .
"$OUT/.kubelet-manager.tmp.$$" -version >&2 || die "built kubelet-manager does not run"
mv -f "$OUT/.kubelet-manager.tmp.$$" "$BIN"
log "built $BIN"
printf '%s\n' "$BIN"
