#!/usr/bin/env bash
# Builds the node components bin/e2e runs (kubelet, kube-scheduler, kube-proxy) from the same wrapper
# module and pin as the control plane (go.mod next to this script; build.sh builds the rest), into
#   <cache root>/kube-node/<k8s version>/   (cache root: testing/cache_root.sh)
# a directory of its own so the shared control-plane cache that build.sh manages is never written.
# With a warm Go build cache (after build.sh) this takes about 90 s; the specs never need it.
#
# Usage: build-node.sh [--print-dir] [--check]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../cache_root.sh
. "$here/../cache_root.sh"
BINARIES=(kubelet kube-scheduler kube-proxy)
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v[0-9]/ && $3 != "=>" { print $2; exit }' "$here/go.mod")"
[ -n "$k8s_version" ] || { echo "build-node.sh: no k8s.io/kubernetes pin in $here/go.mod" >&2; exit 1; }
cache_root="$(stats_tracker_cache_root)/kube-node"
out="$cache_root/$k8s_version"

first_line() { "$@" 2>/dev/null | sed -n 1p; }
binaries_match() {
  local bin
  for bin in "${BINARIES[@]}"; do
    [ -x "$out/$bin" ] && [ "$(first_line "$out/$bin" --version)" = "Kubernetes $k8s_version" ] || return 1
  done
}

case "${1:-}" in
  --print-dir) echo "$out"; exit 0 ;;
  --check) binaries_match; exit $? ;;
  "") ;;
  *) echo "build-node.sh: unknown argument: $1" >&2; exit 2 ;;
esac
log() { printf '==> %s\n' "$*" >&2; }
if binaries_match; then log "kubelet, kube-scheduler, kube-proxy $k8s_version up to date in $out"; exit 0; fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "build-node.sh: Go is required (bin/setup installs it)" >&2; exit 1; }
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0
mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
flock 9
if binaries_match; then log "another build finished these binaries meanwhile: $out"; exit 0; fi
staging="$(mktemp -d "$cache_root/.build-$k8s_version.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
minor="$(echo "$k8s_version" | cut -d. -f2)"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
log "building kubelet, kube-scheduler, kube-proxy $k8s_version"
started=$SECONDS
(cd "$here" && nice -n "${STATS_TRACKER_BUILD_NICE:-10}" go build -trimpath -ldflags "$ldflags" -o "$staging/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
mkdir -p "$out"
for bin in "${BINARIES[@]}"; do mv -f "$staging/$bin" "$out/$bin"; done
echo "kubernetes $k8s_version built in $((SECONDS - started))s with $(go env GOVERSION)" > "$out/BUILD_INFO"
binaries_match || { echo "build-node.sh: built binaries do not report $k8s_version" >&2; exit 1; }
log "built in $((SECONDS - started))s: $out"
