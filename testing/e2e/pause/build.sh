#!/usr/bin/env bash
# Builds the pause image (a static pause.c) as an OCI layout, cached by this directory's content.
# Prints "<layout>:<tag>". Needs gcc with a static libc, umoci (bin/setup --e2e installs them).
# Built under a temporary name and renamed into place, so prepares running at once never see (or
# break) each other's half-built layout: the first to finish wins, the others discard theirs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../../cache_root.sh
. "$here/../../cache_root.sh"
key="$(cat "$here/pause.c" "$0" | sha256sum | cut -c1-12)"
out="$(stats_tracker_cache_root)/e2e/pause-$key"
tag="3.10-$key"
if [ -f "$out/.complete" ]; then echo "$out/oci:$tag"; exit 0; fi
mkdir -p "$(dirname "$out")"
work="$(mktemp -d "$out.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
gcc -static -O2 -s -o "$work/pause" "$here/pause.c"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --rootless --image "$work/oci:$tag" "$work/bundle" >/dev/null
install -m 0755 "$work/pause" "$work/bundle/rootfs/pause"
umoci repack --image "$work/oci:$tag" "$work/bundle" >/dev/null
umoci config --image "$work/oci:$tag" --config.entrypoint /pause --config.user 65535:65535 >/dev/null
rm -rf "$work/bundle"
touch "$work/.complete"
# A leftover without .complete is an interrupted build from before; a complete one is another's.
[ -d "$out" ] && [ ! -f "$out/.complete" ] && rm -rf "$out"
mv -T "$work" "$out" 2>/dev/null || [ -f "$out/.complete" ]
echo "$out/oci:$tag"
