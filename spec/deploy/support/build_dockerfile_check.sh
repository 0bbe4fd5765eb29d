#!/usr/bin/env bash
# Builds spec/deploy/support/dockerfile_check (BuildKit's Dockerfile parser + linter, from the Go
# module proxy) once into <cache root>/tools/ (testing/cache_root.sh), rebuilt when its source
# or go.sum changes. Prints the binary's path.
set -euo pipefail
# shellcheck source=../../../testing/cache_root.sh
. "$(dirname "$0")/../../../testing/cache_root.sh"
SRC="$(cd "$(dirname "$0")/dockerfile_check" && pwd)"
KEY="$(cat "$SRC"/main.go "$SRC"/go.mod "$SRC"/go.sum | sha256sum | cut -c1-12)"
BIN="$(stats_tracker_cache_root)/tools/dockerfile_check-$KEY"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
mkdir -p "$(dirname "$BIN")"
(cd "$SRC" && GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0 nice -n 10 go build -trimpath -o "$BIN" .) >&2
echo "$BIN"
