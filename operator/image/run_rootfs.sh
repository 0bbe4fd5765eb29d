#!/usr/bin/env bash
# Runs the built image's root filesystem the way a kubelet would run the operator container,
# without a container engine: a private mount namespace, the root filesystem READ-ONLY, tmpfs
# volumes where the Deployment mounts emptyDirs (/tmp, /var/cache/stats_tracker), optionally a
# service-account directory at /var/run/secrets/kubernetes.io/serviceaccount, and then the image
# config's own User, Env, WorkingDir and Entrypoint (read from the OCI layout, not repeated here).
# The final process is exec'd, so its PID is the one the caller started: SIGTERM goes straight to it.
# Usage: run_rootfs.sh OCI_LAYOUT:TAG ROOTFS [SA_DIR] [-- extra args appended to the entrypoint]
# Env: RUN_ENV (newline-separated NAME=VALUE added to the image env), RUN_ENTRYPOINT (JSON array
# overriding the entrypoint, e.g. for a smoke command).
set -euo pipefail
IMAGE="$1"; ROOTFS="$2"; shift 2
SA_DIR=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then SA_DIR="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
[ "$(id -u)" -eq 0 ] || { echo "run_rootfs.sh needs root (mount namespace, chroot)" >&2; exit 1; }

layout="${IMAGE%:*}"; tag="${IMAGE##*:}"
blob() { echo "$layout/blobs/${1/://}"; } # sha256:abc -> blobs/sha256/abc
manifest="$(jq -r --arg t "$tag" \
  '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$layout/index.json")"
[ -n "$manifest" ] || { echo "no tag $tag in $layout" >&2; exit 1; }
config="$(cat "$(blob "$(jq -r '.config.digest' "$(blob "$manifest")")")")"
user="$(jq -r '.config.User' <<<"$config")"
workdir="$(jq -r '.config.WorkingDir // "/"' <<<"$config")"
mapfile -t entrypoint < <(jq -r '.[]' <<<"${RUN_ENTRYPOINT:-$(jq -c '.config.Entrypoint' <<<"$config")}")
mapfile -t image_env < <(jq -r '.config.Env[]' <<<"$config")
mapfile -t extra_env < <(printf '%s\n' "${RUN_ENV:-}" | grep -v '^$' || true)
uid="${user%%:*}"; gid="${user##*:}"

# The mount point only exists inside the private mount namespace; concurrent runs may share it.
root="$(dirname "$ROOTFS")/mnt"
mkdir -p "$root"
script='
set -eu
root="$1"; rootfs="$2"; sa="$3"; uid="$4"; gid="$5"; shift 5
mount --make-rprivate /
mount --bind "$rootfs" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/tmp"
mount -t tmpfs -o "uid=$uid,gid=$gid,mode=0750,size=256m" tmpfs "$root/var/cache/stats_tracker"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
if [ -n "$sa" ]; then
  mount -t tmpfs -o mode=0755,size=1m tmpfs "$root/run"
  mkdir -p "$root/run/secrets/kubernetes.io/serviceaccount"
  cp "$sa"/token "$sa"/ca.crt "$sa"/namespace "$root/run/secrets/kubernetes.io/serviceaccount/"
  chmod 0644 "$root/run/secrets/kubernetes.io/serviceaccount/"*
  mount -o remount,ro "$root/run"
fi
exec chroot --userspec="$uid:$gid" "$root" "$@"
'
exec unshare --mount sh -c "$script" run_rootfs "$root" "$ROOTFS" "$SA_DIR" "$uid" "$gid" \
  /usr/bin/env -i -C "$workdir" "${image_env[@]}" "${extra_env[@]}" "${entrypoint[@]}" "$@"
