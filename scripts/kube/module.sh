# Sourced, not run: the pieces every build of a program that imports k8s.io/kubernetes needs.
#
# k8s.io/kubernetes is not meant to be imported: its go.mod points each staging module
# (k8s.io/api, k8s.io/client-go, ...) at ./staging/src/..., which a module download does not
# have. A throw-away module that imports it must replace every one of them with the published
# v0.X.Y of the same release, and copy the release's go and godebug lines. scripts/kube/build.sh
# (kube-apiserver, etcd) and scripts/bench/build-kubelet.sh (the kubelet's secret manager for
# the benchmark) both do that through these functions.
#
# The caller defines log() and die() (progress and fatal errors, on stderr) and sets
# `set -euo pipefail`. Functions set globals, named below, instead of printing, so that their
# messages can go to stderr while the caller keeps stdout for its one result line.

# Newest 1.36 patch that the Go module proxy serves AND the checksum database (sum.golang.org)
# verifies, checked 2026-11. v1.36.5 is served but its go.mod has no sumdb entry, so `go` refuses
# it ("verifying go.mod ... 404 Not Found"); see docs/real-apiserver.md.
K8S_VERSION=${K8S_VERSION:-v1.36.4}
CACHE_ROOT=${REFWATCH_KUBE_CACHE:-$HOME/.cache/refwatch}

# Exits with code 3 (callers tell "no Go" apart from a failed build) when go is not on PATH.
# $1: who needs Go for what, for the message.
kube_require_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "Go is not installed; $1" >&2
    exit 3
  fi
}

# Checks K8S_VERSION and sets K8S_MINOR (36) and STAGING_VERSION (v0.36.4). Exports the Go
# environment every such build uses: never fetch another toolchain; static binaries like
# upstream release builds; the temp module must not be pulled into some go.work or vendor mode
# from the caller's environment.
kube_prepare_env() {
  [[ $K8S_VERSION =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] \
    || die "K8S_VERSION must look like v1.X.Y (got '$K8S_VERSION')"
  K8S_MINOR=${BASH_REMATCH[1]}
  STAGING_VERSION="v0.${K8S_VERSION#v1.}"          # v1.36.5 -> v0.36.5
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="${GOFLAGS:-} -mod=mod"
}

# In the current (fresh) module: downloads the release's own go.mod, verified against the
# checksum database, and sets KMOD to its path. (`go list -m -f '{{.GoMod}}' mod@version` leaves
# GoMod empty for a module outside the build list, so use `go mod download -json`, which also
# fetches the module zip the build needs anyway; when it is already in GOMODCACHE this does no
# network I/O.)
kube_fetch_gomod() {
  log "resolving k8s.io/kubernetes@$K8S_VERSION"
  local dl_json
  dl_json=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>&1 || true)
  KMOD=$(sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$dl_json")
  if [[ -z $KMOD || ! -s $KMOD ]]; then
    printf '%s\n' "$dl_json" >&2
    die "could not download/verify go.mod of k8s.io/kubernetes@$K8S_VERSION"
  fi
}

# After kube_fetch_gomod: makes the current module build against this release. k8s's go
# directive must not be newer than the local Go (GOTOOLCHAIN=local). Sets KGO and KGODEBUG.
# One replace line per staging module, taken from the release's own go.mod
# (`k8s.io/x => ./staging/src/k8s.io/x` becomes `k8s.io/x => k8s.io/x v0.X.Y`).
kube_pin_release() {
  KGO=$(awk '$1=="go"{print $2; exit}' "$KMOD")
  local local_go
  local_go=$(go env GOVERSION); local_go=${local_go#go}
  if [[ -n $KGO && $(printf '%s\n%s\n' "$KGO" "$local_go" | sort -V | tail -n1) != "$local_go" ]]; then
    die "k8s $K8S_VERSION needs Go >= $KGO but the local Go is $local_go"
  fi
  local staging m edits=()
  mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$KMOD")
  (( ${#staging[@]} > 0 )) || die "found no ./staging/src replace lines in k8s $K8S_VERSION go.mod"
  for m in "${staging[@]}"; do edits+=("-replace=$m=$m@$STAGING_VERSION"); done
  go mod edit "${edits[@]}"
  if [[ -n $KGO ]]; then go mod edit -go="$KGO"; fi
  KGODEBUG=$(awk '$1=="godebug" && $2!="(" {print $2; exit}' "$KMOD")
  if [[ -n $KGODEBUG ]]; then go mod edit -godebug="$KGODEBUG"; fi
  log "k8s $K8S_VERSION, staging $STAGING_VERSION (${#staging[@]} replace lines), go ${KGO:-?}${KGODEBUG:+, godebug $KGODEBUG}"
}

# The version of k8s.io/kubernetes the module graph resolved must be the one asked for (a
# dependency could bump it).
kube_check_resolved() {
  local got
  got=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
  [[ $got == "$K8S_VERSION" ]] || die "module graph resolved k8s $got, expected $K8S_VERSION"
}
