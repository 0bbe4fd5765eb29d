#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kube-controller-manager, kubectl, etcd) from the Go
# module proxy at the versions pinned in this directory's go.mod, into
#   <cache root>/kube/<k8s version>/   (cache root: testing/cache_root.sh)
# No registry ships these binaries for us, and k8s.io/kubernetes cannot be `go install`ed (its go.mod
# replaces the staging modules with local paths), hence the wrapper module next to this script.
#
# Idempotent: when every binary exists and reports the pinned version, nothing is built. A new pin in
# go.mod means a new output directory, so bumping the version (gen-go-mod.sh) rebuilds by itself.
# kubectl's built-in kustomize (v5.x, `kubectl kustomize` / `apply -k`) covers the Flux-style overlays
# the demo renders, so no separate kustomize binary is built.
#
# Usage: build.sh [--force] [--print-dir] [--check]
#   --force      rebuild even when the binaries match
#   --print-dir  print the output directory and exit
#   --check      exit 0 when the binaries are present and match, 1 otherwise; never builds
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../cache_root.sh
. "$here/../cache_root.sh"
force=0 print_dir=0 check_only=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --print-dir) print_dir=1 ;;
    --check) check_only=1 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# The pins live only in go.mod; read them from the require block, never from a replace line.
pinned() { awk -v mod="$1" '$1 == mod && $2 ~ /^v[0-9]/ && $3 != "=>" { print $2; exit }' "$here/go.mod"; }
k8s_version="$(pinned k8s.io/kubernetes)"
etcd_version="$(pinned go.etcd.io/etcd/server/v3)"
if [ -z "$k8s_version" ] || [ -z "$etcd_version" ]; then
  echo "build.sh: cannot read the k8s.io/kubernetes and etcd pins from $here/go.mod" >&2
  exit 1
fi

cache_root="$(stats_tracker_cache_root)/kube"
out="$cache_root/$k8s_version"
if [ "$print_dir" -eq 1 ]; then echo "$out"; exit 0; fi

log() { printf '==> %s\n' "$*" >&2; }

# A binary "matches" when it runs and reports the pinned version: this catches half-written files,
# binaries built from another pin copied in by hand, and a wrong etcd next to the right apiserver.
# Output is captured into variables rather than piped to grep -q, whose early exit would SIGPIPE
# the binary and fail the check under pipefail.
first_line() { "$@" 2>/dev/null | sed -n 1p; }
binaries_match() {
  local bin
  for bin in kube-apiserver kube-controller-manager kubectl etcd; do
    [ -x "$out/$bin" ] || return 1
  done
  [ "$(first_line "$out/kube-apiserver" --version)" = "Kubernetes $k8s_version" ] || return 1
  [ "$(first_line "$out/kube-controller-manager" --version)" = "Kubernetes $k8s_version" ] || return 1
  [ "$(first_line "$out/kubectl" version --client)" = "Client Version: $k8s_version" ] || return 1
  [ "$(first_line "$out/etcd" --version)" = "etcd Version: ${etcd_version#v}" ] || return 1
}

if [ "$check_only" -eq 1 ]; then
  binaries_match
  exit $?
fi

if [ "$force" -eq 0 ] && binaries_match; then
  log "Kubernetes $k8s_version + etcd $etcd_version test binaries up to date in $out"
  exit 0
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  echo "build.sh: Go is required (bin/setup installs it)" >&2
  exit 1
fi
# go.mod's go directive may be newer than the installed Go; auto fetches that toolchain from the proxy.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
export CGO_ENABLED=0

mkdir -p "$cache_root"
# One build at a time per cache: two concurrent builds would each take ~2.6 GB and both CPUs.
exec 9>"$cache_root/.build.lock"
flock 9
if [ "$force" -eq 0 ] && binaries_match; then
  log "another build finished these binaries meanwhile: $out"
  exit 0
fi

staging="$(mktemp -d "$cache_root/.build-$k8s_version.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# Without the -X flags /version and --version report the v0.0.0-master placeholder, which would
# break both the version check above and anything that reads the server version.
minor="$(echo "$k8s_version" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"

log "building Kubernetes $k8s_version and etcd $etcd_version (first build: ~8 min on 2 cores, ~2.6 GB RSS)"
started=$SECONDS
(
  cd "$here"
  nice -n "${STATS_TRACKER_BUILD_NICE:-10}" go build -trimpath -ldflags "$ldflags" -o "$staging/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl \
    ./etcd
)
elapsed=$((SECONDS - started))

mkdir -p "$out"
# Per-file renames are atomic, so a reader never sees a half-written binary.
for bin in kube-apiserver kube-controller-manager kubectl etcd; do
  mv -f "$staging/$bin" "$out/$bin"
done
{
  echo "kubernetes $k8s_version"
  echo "etcd $etcd_version"
  echo "go $(go env GOVERSION)"
  echo "built_at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds $elapsed"
} >"$out/BUILD_INFO"

binaries_match || { echo "build.sh: built binaries do not report $k8s_version / etcd $etcd_version" >&2; exit 1; }
log "built in ${elapsed}s: $out ($(du -sh "$out" | cut -f1))"
