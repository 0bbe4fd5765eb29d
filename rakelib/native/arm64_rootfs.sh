#!/usr/bin/env bash
# Builds (once) an arm64 Debian root filesystem with Debian's Ruby, for trying the aarch64
# platform gem under qemu: debootstrap --foreign on this x86_64 host, then its second stage run
# emulated. Cached OUTSIDE the checkout, keyed by everything that decides its content (suite,
# mirror, packages, these scripts); an unchanged key is reused. Prints the directory on stdout.
# Needs root (debootstrap, chroot, binfmt_misc), debootstrap and qemu-user-static (bin/setup --cross).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SUITE="${DEBIAN_SUITE:-bookworm}"
# The machine's configured Debian mirror, so this goes through whatever apt itself uses.
detect_mirror() {
  local uri
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/debian.sources | awk '{print $2}' | head -n1 || true)"
  [ -n "$uri" ] || uri="$(grep -hsE '^deb\s+\S+debian/?\s+bookworm\b' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"
# Debian's Ruby and the gem's one run-time dependency, as a user's apt would install them.
PACKAGES=(ruby ruby-kubeclient)
KEY="$( { echo "$SUITE $MIRROR"; printf '%s\n' "${PACKAGES[@]}"; cat "$0" "$HERE/binfmt.sh"; } | sha256sum | cut -c1-16)"
# shellcheck source=../../testing/cache_root.sh
. "$HERE/../../testing/cache_root.sh"
CACHE="$(stats_tracker_cache_root)/arm64"
ROOTFS="$CACHE/rootfs-$SUITE-$KEY"
if [ -f "$ROOTFS/.complete" ]; then echo "$ROOTFS"; exit 0; fi

log() { printf '==> %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "arm64_rootfs.sh needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "debootstrap is missing: run bin/setup --cross" >&2; exit 1; }
# shellcheck source=binfmt.sh
. "$HERE/binfmt.sh"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$ROOTFS/.complete" ]; then echo "$ROOTFS"; exit 0; fi
TMP="$ROOTFS.tmp.$$"
cleanup() {
  chroot_mounts_off "$TMP"
  binfmt_aarch64_off
  rm -rf "$TMP"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap --foreign --arch=arm64 --variant=minbase $SUITE from $MIRROR"
debootstrap --foreign --arch=arm64 --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  "$SUITE" "$TMP" "$MIRROR" >&2
first=$(( $(date +%s) - start ))
log "second stage under qemu-aarch64 (first stage took ${first}s)"
binfmt_aarch64_on
chroot "$TMP" /debootstrap/debootstrap --second-stage >&2
chroot_mounts_off "$TMP"
binfmt_aarch64_off

rm -rf "$TMP"/var/cache/apt/archives/*.deb "$TMP"/var/lib/apt/lists/* "$TMP"/usr/share/doc/* "$TMP"/usr/share/man/*
touch "$TMP/.complete"
mv "$TMP" "$ROOTFS"
trap - EXIT
log "arm64 rootfs built in $(( $(date +%s) - start ))s (first stage ${first}s): $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
echo "$ROOTFS"
