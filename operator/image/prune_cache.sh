#!/usr/bin/env bash
# Keeps the image cache from growing with every source change: each new gem makes a new image
# directory (build.sh) and each change to the base's package list or script a new base
# (base_rootfs.sh), about 250 MB and 130 MB each. Removes, least recently used first:
#   - image directories in OUT_ROOT beyond the newest KEEP_IMAGES (build.sh touches the one it
#     returns), and build directories left unfinished for more than 12 hours;
#   - bases in BASE_DIR beyond the newest KEEP_BASES, each only while no build holds its lock
#     (build.sh holds it shared while copying the base);
#   - what older recipes left and nothing reads any more: the flat layout build.sh once wrote straight
#     into OUT_ROOT (recognised by its .stamp) and the cargo target dir the image once compiled in.
# Usage: operator/image/prune_cache.sh OUT_ROOT BASE_DIR
# Env: KEEP_IMAGES (default 4), KEEP_BASES (default 2). Prints one line per removal on stderr.
set -euo pipefail
OUT_ROOT="${1:?usage: prune_cache.sh OUT_ROOT BASE_DIR}"
BASE_DIR="${2:?usage: prune_cache.sh OUT_ROOT BASE_DIR}"
KEEP_IMAGES="${KEEP_IMAGES:-4}"
KEEP_BASES="${KEEP_BASES:-2}"
removed() { printf '==> pruned %s\n' "$1" >&2; }

# Directories directly in $1 whose names match the regex $2, least recently used beyond the newest $3.
oldest_beyond() {
  find "$1" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex "$2" -printf '%T@ %p\n' 2>/dev/null \
    | sort -rn | tail -n +$(($3 + 1)) | cut -d' ' -f2-
}

if [ -d "$OUT_ROOT" ]; then
  while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    rm -rf "$dir" && removed "$dir"
  done < <(oldest_beyond "$OUT_ROOT" '.*/[0-9a-f]{16}' "$KEEP_IMAGES")
  while IFS= read -r dir; do
    rm -rf "$dir" && removed "$dir"
  done < <(find "$OUT_ROOT" -mindepth 1 -maxdepth 1 -type d -name '.build.*' -mmin +720 2>/dev/null)
  if [ -f "$OUT_ROOT/.stamp" ]; then
    for old in bundle oci stats-tracker-operator.oci.tar pushed.digest "$OUT_ROOT"/stats_tracker-*-x86_64-linux.gem; do
      old="$OUT_ROOT/${old#"$OUT_ROOT/"}"
      [ -e "$old" ] || continue
      rm -rf "$old" && removed "$old"
    done
    rm -f "$OUT_ROOT/.stamp" && removed "$OUT_ROOT/.stamp"
  fi
fi

if [ -d "$BASE_DIR" ]; then
  while IFS= read -r base; do
    [ -n "$base" ] || continue
    # Not while a build copies it or base_rootfs.sh makes it; the next build tries again.
    exec 7>>"$base.lock"
    if flock -n -x 7; then
      rm -rf "$base" && rm -f "$base.lock" && removed "$base"
    fi
    exec 7>&-
  done < <(oldest_beyond "$BASE_DIR" '.*/base-[a-z]+-[0-9a-f]{16}' "$KEEP_BASES")
  if [ -f "$BASE_DIR/cargo-target/CACHEDIR.TAG" ]; then
    rm -rf "$BASE_DIR/cargo-target" && removed "$BASE_DIR/cargo-target"
  fi
fi
