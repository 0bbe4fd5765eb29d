#!/usr/bin/env bash
# Builds (once) the runtime base root filesystem: Debian bookworm minbase + the runtime packages
# listed in runtime-packages.txt, nothing else (no compilers, no headers, no cargo). The result is a
# directory in a cache OUTSIDE the checkout, keyed by everything that determines its content
# (suite, mirror, package list, this script), so a changed package list builds a new base and an
# unchanged one is reused. Prints the directory on stdout.
# Needs root (debootstrap and chroot); run on Debian 12 so the gem's native extension built on the
# host matches this Ruby and glibc.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SUITE="${DEBIAN_SUITE:-bookworm}"
# The machine's configured Debian mirror (deb822 or one-line sources), so this works behind the
# same mirror/proxy apt itself uses.
detect_mirror() {
  local uri
  uri="$(grep -hsE '^URIs:' /etc/apt/sources.list.d/debian.sources | awk '{print $2}' | head -n1 || true)"
  [ -n "$uri" ] || uri="$(grep -hsE '^deb\s+\S+debian/?\s+bookworm\b' /etc/apt/sources.list | awk '{print $2}' | head -n1 || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR="${DEBIAN_MIRROR:-$(detect_mirror)}"
mapfile -t PACKAGES < <(grep -vE '^\s*(#|$)' "$HERE/runtime-packages.txt" | awk '{print $1}')
KEY="$( { echo "$SUITE $MIRROR"; printf '%s\n' "${PACKAGES[@]}"; cat "$0"; } | sha256sum | cut -c1-16)"
# shellcheck source=../../testing/cache_root.sh
. "$HERE/../../testing/cache_root.sh"
CACHE="$(stats_tracker_cache_root)/image"
ROOTFS="$CACHE/base-$SUITE-$KEY"
if [ -f "$ROOTFS/.complete" ]; then echo "$ROOTFS"; exit 0; fi

log() { printf '==> %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "base_rootfs.sh needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "install debootstrap: apt-get install debootstrap" >&2; exit 1; }
mkdir -p "$CACHE"
exec 9>"$ROOTFS.lock"
flock 9
if [ -f "$ROOTFS/.complete" ]; then echo "$ROOTFS"; exit 0; fi
TMP="$ROOTFS.tmp.$$"
cleanup() {
  for m in proc dev/pts dev sys; do mountpoint -q "$TMP/$m" 2>/dev/null && umount -l "$TMP/$m"; done
  rm -rf "$TMP"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap --variant=minbase $SUITE from $MIRROR"
debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
  "$SUITE" "$TMP" "$MIRROR" >&2

log "trim: apt lists and caches, docs, man pages, non-English locales"
# Nothing in the image runs apt again; the package database (/var/lib/dpkg) stays so scanners can
# see what is installed.
rm -rf "$TMP"/var/lib/apt/lists/* "$TMP"/var/cache/apt/*.bin "$TMP"/var/cache/apt/archives/*.deb \
  "$TMP"/var/cache/debconf/*-old "$TMP"/var/log/* "$TMP"/usr/share/doc/* "$TMP"/usr/share/man/* \
  "$TMP"/usr/share/info/* "$TMP"/usr/share/lintian "$TMP"/tmp/* "$TMP"/var/tmp/*
find "$TMP/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'en*' ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# Machine identity and resolver config are the container runtime's job.
: > "$TMP/etc/machine-id"
rm -f "$TMP/etc/resolv.conf" "$TMP/etc/hostname"

touch "$TMP/.complete"
mv "$TMP" "$ROOTFS"
trap - EXIT
log "base rootfs built in $(( $(date +%s) - start ))s: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
echo "$ROOTFS"
