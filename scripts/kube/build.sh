#!/usr/bin/env bash
# Build a real kube-apiserver and etcd from the Go module proxy (no other downloads).
#
# Usage:   dir=$(scripts/kube/build.sh | tail -n1)
#          "$dir/kube-apiserver" ...; "$dir/etcd" ...
#
# Env:
#   K8S_VERSION            k8s.io/kubernetes release to build (default below; must be v1.X.Y)
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

# Newest 1.36 patch that the Go module proxy serves AND the checksum database (sum.golang.org)
# verifies, checked 2026-11. v1.36.5 is served but its go.mod has no sumdb entry, so `go` refuses
# it ("verifying go.mod ... 404 Not Found"); see docs/real-apiserver.md.
K8S_VERSION=${K8S_VERSION:-v1.36.4}
CACHE_ROOT=${REFWATCH_KUBE_CACHE:-$HOME/.cache/refwatch}

log() { printf '[kube/build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed; the e2e suite needs Go to build kube-apiserver and etcd" >&2
  exit 3
fi

[[ $K8S_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] \
  || die "K8S_VERSION must look like v1.X.Y (got '$K8S_VERSION')"
K8S_MINOR=${BASH_REMATCH[1]}
STAGING_VERSION="v0.${K8S_VERSION#v1.}"          # v1.36.5 -> v0.36.5

# Never fetch another toolchain; static binaries like upstream release builds; our temp module
# must not be pulled into some go.work or vendor mode from the caller's environment.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=mod"

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

# The release's own go.mod, verified against go.sum's checksum database. (`go list -m -f
# '{{.GoMod}}' mod@version` leaves GoMod empty for a module outside the build list, so use
# `go mod download -json`, which also fetches the module zip the build needs anyway; when it is
# already in GOMODCACHE this does no network I/O.)
log "resolving k8s.io/kubernetes@$K8S_VERSION"
DL_JSON=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>&1 || true)
KMOD=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$DL_JSON")
if [[ -z $KMOD || ! -s $KMOD ]]; then
  printf '%s\n' "$DL_JSON" >&2
  die "could not download/verify go.mod of k8s.io/kubernetes@$K8S_VERSION"
fi

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

# k8s's go directive must not be newer than the local Go (GOTOOLCHAIN=local).
KGO=$(awk '$1=="go"{print $2; exit}' "$KMOD")
LOCAL_GO=$(go env GOVERSION); LOCAL_GO=${LOCAL_GO#go}
if [[ -n $KGO && $(printf '%s\n%s\n' "$KGO" "$LOCAL_GO" | sort -V | tail -n1) != "$LOCAL_GO" ]]; then
  die "k8s $K8S_VERSION needs Go >= $KGO but the local Go is $LOCAL_GO"
fi

# One replace line per staging module, taken from the release's own go.mod
# (`k8s.io/x => ./staging/src/k8s.io/x` becomes `k8s.io/x => k8s.io/x v0.X.Y`).
mapfile -t STAGING < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$KMOD")
(( ${#STAGING[@]} > 0 )) || die "found no ./staging/src replace lines in k8s $K8S_VERSION go.mod"
edits=()
for m in "${STAGING[@]}"; do edits+=("-replace=$m=$m@$STAGING_VERSION"); done
go mod edit "${edits[@]}"
if [[ -n $KGO ]]; then go mod edit -go="$KGO"; fi
KGODEBUG=$(awk '$1=="godebug" && $2!="(" {print $2; exit}' "$KMOD")
if [[ -n $KGODEBUG ]]; then go mod edit -godebug="$KGODEBUG"; fi
log "k8s $K8S_VERSION, staging $STAGING_VERSION (${#STAGING[@]} replace lines), etcd $ETCD_VERSION, go ${KGO:-?}${KGODEBUG:+, godebug $KGODEBUG}"

# Resolve the module graph and download every module the two binaries need.
run go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"

# The versions that actually resolved must be the ones asked for (a dependency could bump them).
got_k8s=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
got_etcd=$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
[[ $got_k8s == "$K8S_VERSION" && $got_etcd == "$ETCD_VERSION" ]] \
  || die "module graph resolved k8s $got_k8s / etcd $got_etcd, expected $K8S_VERSION / $ETCD_VERSION"

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
