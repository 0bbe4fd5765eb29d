#!/usr/bin/env bash
# Builds the Go binaries of the delivery chain from the Go module proxy, at the versions pinned in
# the wrapper modules next to this script, into <cache root>/flux/<name>-<version>/:
#   source-controller, kustomize-controller  for bin/e2e, each with its own CRDs from the same module
#                                            zip, copied next to the binary;
#   cosign                                   for `rake release:publish SIGN_KEY=…` and bin/e2e's key
#                                            pair, the version source-controller links (its go.mod).
# No registry ships these binaries for us; upstream's go.mod replaces need a wrapper module (see
# each go.mod). Flux 2.9 needs a newer Go than the rest of the project: GOTOOLCHAIN pins it (fetched
# from the proxy).
#
# Usage: build.sh [--print-dir NAME] [--check]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../cache_root.sh
. "$here/../cache_root.sh"
TOOLS=(source-controller kustomize-controller cosign)
export GOTOOLCHAIN="${FLUX_GOTOOLCHAIN:-go1.27.3}" CGO_ENABLED=0 GOFLAGS=-mod=mod
cache_root="$(stats_tracker_cache_root)/flux"

module() { case "$1" in cosign) echo github.com/sigstore/cosign/v3 ;; *) echo "github.com/fluxcd/$1" ;; esac; }
package() { case "$1" in cosign) echo github.com/sigstore/cosign/v3/cmd/cosign ;; *) module "$1" ;; esac; }
has_crds() { [ "$1" != cosign ]; }
pinned() { awk -v mod="$(module "$1")" '$1 == "require" && $2 == mod { print $3; exit }' "$here/$1/go.mod"; }
out_dir() { echo "$cache_root/$1-$(pinned "$1")"; }
built() { [ -x "$(out_dir "$1")/$1" ] && { ! has_crds "$1" || [ -d "$(out_dir "$1")/crds" ]; }; }

case "${1:-}" in
  --print-dir) out_dir "${2:?--print-dir NAME}"; exit 0 ;;
  --check) for c in "${TOOLS[@]}"; do built "$c" || { echo "missing: $(out_dir "$c")/$c" >&2; exit 1; }; done; exit 0 ;;
  "") ;;
  *) echo "build.sh: unknown argument: $1" >&2; exit 2 ;;
esac

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null || { echo "flux/build.sh: Go is required (bin/setup installs it)" >&2; exit 1; }
log() { printf '==> %s\n' "$*" >&2; }
mkdir -p "$cache_root"
exec 9>"$cache_root/.build.lock"
flock 9
for c in "${TOOLS[@]}"; do
  if built "$c"; then log "$c $(pinned "$c") up to date in $(out_dir "$c")"; continue; fi
  version="$(pinned "$c")"
  staging="$(mktemp -d "$cache_root/.build-$c.XXXXXX")"
  log "building $c $version (first build: ~5-10 min on 2 cores)"
  started=$SECONDS
  (cd "$here/$c" && nice -n "${STATS_TRACKER_BUILD_NICE:-10}" go build -trimpath -ldflags "-s -w" \
    -o "$staging/$c" "$(package "$c")")
  if has_crds "$c"; then
    src="$(cd "$here/$c" && go list -m -f '{{.Dir}}' "$(module "$c")")"
    mkdir -p "$staging/crds"
    cp "$src"/config/crd/bases/*.yaml "$staging/crds/"
  fi
  chmod -R u+w "$staging"
  echo "$c $version built in $((SECONDS - started))s with $(go env GOVERSION)" > "$staging/BUILD_INFO"
  rm -rf "$(out_dir "$c")"
  mv "$staging" "$(out_dir "$c")"
  log "$c built in $((SECONDS - started))s: $(out_dir "$c")"
done
