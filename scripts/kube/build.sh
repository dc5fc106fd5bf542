#!/usr/bin/env bash
# Build a real kube-apiserver and etcd from the Go module proxy (no other downloads).
#
# Usage:   dir=$(scripts/kube/build.sh | tail -n1)
#          "$dir/kube-apiserver" ...; "$dir/etcd" ...
#
# Env:
#   K8S_VERSION            k8s.io/kubernetes release to build (default in module.sh; must be v1.X.Y)
#   REFWATCH_KUBE_CACHE    cache root (default $HOME/.cache/refwatch)
#   REFWATCH_KUBE_TIMING=1 wrap each go step in `/usr/bin/time -v` (wall time / peak RSS on stderr)
#
# Output: <cache>/kube-<k8s>-etcd-<etcd>/{kube-apiserver,etcd}. The directory is the LAST line
# of stdout; all progress goes to stderr. Skips the build when both binaries exist.
# The etcd version is the go.etcd.io/etcd/server/v3 (or client/v3) version pinned by the chosen
# k8s release's own go.mod, so the pair is the one upstream builds and tests together.
#
# Exit codes: 0 ok, 3 Go is not installed, anything else: build failure.
# See docs/real-apiserver.md.
set -euo pipefail

log() { printf '[kube/build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# K8S_VERSION's default, CACHE_ROOT and the kube_* functions.
source "$(dirname "${BASH_SOURCE[0]}")/module.sh"

kube_require_go "the e2e suite needs Go to build kube-apiserver and etcd"
kube_prepare_env

TIMER=()
if [[ ${REFWATCH_KUBE_TIMING:-} == 1 ]]; then
  [[ -x /usr/bin/time ]] || die "REFWATCH_KUBE_TIMING=1 needs /usr/bin/time (apt-get install -y time)"
  TIMER=(/usr/bin/time -v)
fi
run() { log "+ $*"; "${TIMER[@]}" "$@" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/refwatch-kube-build.XXXXXX")
OUT=""
cleanup() {
  rm -rf "$WORK"
  # temp binaries of an interrupted build never count as "present"
  if [[ -n $OUT ]]; then rm -f "$OUT"/.kube-apiserver.tmp.$$ "$OUT"/.etcd.tmp.$$; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$WORK"

go mod init local.test/refwatch-kube-bins >/dev/null 2>&1
kube_fetch_gomod

ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$KMOD")
[[ -n $ETCD_VERSION ]] || ETCD_VERSION=$(awk '$1=="go.etcd.io/etcd/client/v3"{print $2; exit}' "$KMOD")
[[ $ETCD_VERSION =~ ^v3\.[0-9]+\.[0-9]+$ ]] \
  || die "no go.etcd.io/etcd/{server,client}/v3 version in k8s $K8S_VERSION go.mod (got '$ETCD_VERSION')"

OUT="$CACHE_ROOT/kube-$K8S_VERSION-etcd-$ETCD_VERSION"
if [[ -x $OUT/kube-apiserver && -x $OUT/etcd ]]; then
  log "kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION already built in $OUT; skipping build"
  printf '%s\n' "$OUT"
  exit 0
fi

kube_pin_release
log "etcd $ETCD_VERSION"

# Resolve the module graph and download every module the two binaries need.
run go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"

# The versions that actually resolved must be the ones asked for (a dependency could bump them).
kube_check_resolved
got_etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
[[ $got_etcd == "$ETCD_VERSION" ]] || die "module graph resolved etcd $got_etcd, expected $ETCD_VERSION"

# Version stamping as upstream's hack/lib/version.sh does it, so /version reports the release.
# There is no git checkout, so gitCommit stays empty; buildDate is the module's release time
# (deterministic rebuilds).
BUILD_DATE=$(go list -m -f '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "k8s.io/kubernetes@$K8S_VERSION")
V=k8s.io/component-base/version
LDFLAGS_K8S="-s -w -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$K8S_MINOR -X $V.gitTreeState=clean"
if [[ -n $BUILD_DATE ]]; then LDFLAGS_K8S+=" -X $V.buildDate=$BUILD_DATE"; fi

mkdir -p "$OUT"
run go build -trimpath -ldflags "$LDFLAGS_K8S" -o "$OUT/.kube-apiserver.tmp.$$" k8s.io/kubernetes/cmd/kube-apiserver
run go build -trimpath -ldflags "-s -w" -o "$OUT/.etcd.tmp.$$" go.etcd.io/etcd/server/v3

# Sanity check before publishing the binaries under their real names.
"$OUT/.kube-apiserver.tmp.$$" --version >&2 || die "built kube-apiserver does not run"
"$OUT/.etcd.tmp.$$" --version >&2 || die "built etcd does not run"

mv -f "$OUT/.etcd.tmp.$$" "$OUT/etcd"
mv -f "$OUT/.kube-apiserver.tmp.$$" "$OUT/kube-apiserver"
log "built kube-apiserver $K8S_VERSION and etcd $ETCD_VERSION in $OUT"
printf '%s\n' "$OUT"
