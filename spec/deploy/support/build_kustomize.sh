#!/usr/bin/env bash
# Builds the pinned kustomize CLI from the Go module proxy into a cache outside the checkout,
# once: <cache root>/tools/kustomize-<version>/kustomize (cache root: testing/cache_root.sh).
# We use standalone kustomize rather than `kubectl kustomize` so the manifests are checked
# with the same kustomize release Flux's kustomize-controller embeds (v5), independently of
# which Kubernetes version the test cluster happens to be built at.
# v5.8.3 is not usable: a kube-openapi pseudo-version it needs is missing from the proxy (403).
# Prints the binary's path on stdout.
set -euo pipefail
# shellcheck source=../../../testing/cache_root.sh
. "$(dirname "$0")/../../../testing/cache_root.sh"
VERSION="${KUSTOMIZE_VERSION:-v5.8.2}"
CACHE="$(stats_tracker_cache_root)/tools/kustomize-${VERSION}"
BIN="$CACHE/kustomize"
if [ -x "$BIN" ] && "$BIN" version 2>/dev/null | grep -q "${VERSION}"; then
  echo "$BIN"; exit 0
fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
mkdir -p "$CACHE"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOFLAGS="${GOFLAGS:-} -mod=mod"
# `go install mod@version` works here: the kustomize CLI module has no replace directives.
# -X sets the version `kustomize version` prints (otherwise "(devel)").
GOBIN="$CACHE" CGO_ENABLED=0 nice -n 10 go install -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=kustomize/${VERSION}" \
  "sigs.k8s.io/kustomize/kustomize/v5@${VERSION}" >&2
echo "$BIN"
