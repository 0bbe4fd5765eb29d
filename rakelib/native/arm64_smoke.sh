#!/usr/bin/env bash
# Installs the aarch64-linux platform gem into the arm64 Debian root filesystem from
# arm64_rootfs.sh, with that Debian's Ruby and nothing else (no compiler), everything emulated by
# qemu-aarch64, and runs installed_check.rb there: a page parsed, the WASI command path, a
# spinning guest stopped by its timeout. The rootfs is left as it was; the host too (binfmt,
# mounts). Needs root.
#   arm64_smoke.sh ROOTFS GEM PAGE EXPECTED_JSON SPIN_WAT
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOTFS="$1" GEM="$2" PAGE="$3" EXPECTED="$4" SPIN="$5"
[ "$(id -u)" -eq 0 ] || { echo "arm64_smoke.sh needs root (chroot, binfmt_misc)" >&2; exit 1; }
[ -d "$ROOTFS/usr/bin" ] || { echo "arm64_smoke.sh: no arm64 root filesystem at $ROOTFS (arm64_rootfs.sh builds it)" >&2; exit 1; }
# shellcheck source=binfmt.sh
. "$HERE/binfmt.sh"
exec 9>"$ROOTFS.smoke.lock"
flock 9
SCRATCH="/tmp/stats_tracker-smoke.$$"
cleanup() {
  rm -rf "${ROOTFS:?}$SCRATCH"
  chroot_mounts_off "$ROOTFS"
  binfmt_aarch64_off
}
trap cleanup EXIT

mkdir -p "$ROOTFS$SCRATCH/pages"
cp "$GEM" "$ROOTFS$SCRATCH/"
cp "$PAGE" "$EXPECTED" "$ROOTFS$SCRATCH/pages/"
cp "$SPIN" "$HERE/installed_check.rb" "$ROOTFS$SCRATCH/"
cat > "$ROOTFS$SCRATCH/run.sh" <<SCRIPT
set -euo pipefail
cd $SCRATCH
echo "uname -m: \$(uname -m), \$(ruby -e 'print RUBY_DESCRIPTION')"
for tool in cc gcc clang cargo rustc make; do
  if command -v "\$tool" >/dev/null; then echo "\$tool is on PATH, the check would not prove anything" >&2; exit 1; fi
done
export HOME=$SCRATCH GEM_HOME=$SCRATCH/gems STATS_TRACKER_CACHE_DIR=$SCRATCH/module-cache
export GEM_PATH="\$GEM_HOME:\$(ruby -e 'print Gem.default_path.join(":")')"
TIMEFORMAT="%R s"
echo "gem install (emulated):"
time gem install --local --no-document $SCRATCH/$(basename "$GEM")
echo "checks (emulated):"
time ruby installed_check.rb pages/$(basename "$PAGE") pages/$(basename "$EXPECTED") $(basename "$SPIN")
SCRIPT

binfmt_aarch64_on
chroot_mounts_on "$ROOTFS"
chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin /bin/bash "$SCRATCH/run.sh"
