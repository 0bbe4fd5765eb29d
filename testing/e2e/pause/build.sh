#!/usr/bin/env bash
# Builds the pause image (a static pause.c) as an OCI layout, cached by this directory's content.
# Prints "<layout>:<tag>". Needs gcc with a static libc, umoci (bin/setup --e2e installs them).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
key="$(cat "$here/pause.c" "$0" | sha256sum | cut -c1-12)"
out="${XDG_CACHE_HOME:-$HOME/.cache}/stats_tracker/e2e/pause-$key"
tag="3.10-$key"
if [ -f "$out/.complete" ]; then echo "$out/oci:$tag"; exit 0; fi
rm -rf "$out"; mkdir -p "$out"
gcc -static -O2 -s -o "$out/pause" "$here/pause.c"
umoci init --layout "$out/oci"
umoci new --image "$out/oci:$tag"
umoci unpack --rootless --image "$out/oci:$tag" "$out/bundle" >/dev/null
install -m 0755 "$out/pause" "$out/bundle/rootfs/pause"
umoci repack --image "$out/oci:$tag" "$out/bundle" >/dev/null
umoci config --image "$out/oci:$tag" --config.entrypoint /pause --config.user 65535:65535 >/dev/null
rm -rf "$out/bundle"
touch "$out/.complete"
echo "$out/oci:$tag"
