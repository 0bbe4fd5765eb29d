#!/usr/bin/env bash
# Builds the operator image without a Docker engine, as an OCI image layout (and an oci-archive
# tarball), the same image operator/Dockerfile describes:
#   layer 1: the cached Debian runtime base (base_rootfs.sh: debootstrap minbase + runtime-packages.txt)
#   layer 2: the x86_64-linux platform gem (`rake gem:native:x86_64-linux`) installed with
#            `gem install`, so nothing is compiled here: its extension was built for Debian 12's
#            Ruby and checked against the glibc floor, which the base (also Debian 12) meets;
#            the fixed non-root user, the writable cache dir.
# Usage: operator/image/build.sh [path/to/stats_tracker-X-x86_64-linux.gem]
#        (default: newest pkg/stats_tracker-*-x86_64-linux.gem)
# Env: IMAGE_DIR (output root, default <cache root>/image/out), IMAGE_TAG (default: gem version).
# Prints the image's directory on stdout, $IMAGE_DIR/<key>, keyed by gem, base, recipe and tag:
# oci/ (the OCI layout), stats-tracker-operator.oci.tar, and bundle/rootfs (what was packed, for the
# smoke test, spec/deploy/image_spec.rb, to chroot into). A keyed directory is built under a
# temporary name and renamed into place whole, and never written again: a build for another gem
# (another checkout sharing the cache) makes a directory of its own, so whoever reads an image
# while another is built reads a complete one. Each new image then prunes the cache
# (prune_cache.sh): the KEEP most recently used images and the two most recently used bases stay.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../../testing/cache_root.sh
. "$ROOT/testing/cache_root.sh"
log() { printf '==> %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "build.sh needs root (chroot, file ownership in the layers)" >&2; exit 1; }
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "install $tool: apt-get install $tool" >&2; exit 1; }
done

PLATFORM=x86_64-linux
GEM="${1:-$(ls -t "$ROOT"/pkg/stats_tracker-*-$PLATFORM.gem 2>/dev/null | head -n1 || true)}"
[ -f "$GEM" ] || { echo "no gem: run \`rake gem:native:$PLATFORM\` first (looked for pkg/stats_tracker-*-$PLATFORM.gem)" >&2; exit 1; }
case "$(basename "$GEM")" in
  stats_tracker-*-"$PLATFORM".gem) ;;
  *) echo "$GEM is not the $PLATFORM platform gem: the image installs a prebuilt extension (rake gem:native:$PLATFORM)" >&2; exit 1 ;;
esac
VERSION="$(basename "$GEM" "-$PLATFORM.gem")"; VERSION="${VERSION#stats_tracker-}"
TAG="${IMAGE_TAG:-$VERSION}"
UID_GID=65532
OUT_ROOT="${IMAGE_DIR:-$(stats_tracker_cache_root)/image/out}"
KEEP=4
start=$(date +%s)

mkdir -p "$OUT_ROOT"
# One build at a time per output root (a second caller of the same image waits, then finds it built).
exec 9>"$OUT_ROOT.lock"
flock 9
BASE="$("$HERE/base_rootfs.sh")"
# A private copy: pkg/ may be rebuilt by someone else while this runs, so the key and the image
# must come from the same bytes.
WORK="$(mktemp -d "$OUT_ROOT/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp "$GEM" "$WORK/"
GEM="$WORK/$(basename "$GEM")"
# Same gem, same base, same recipe, same tag: the image already built is the answer.
STAMP="$(cat "$GEM" "$0" | sha256sum | cut -c1-16) $BASE $TAG"
KEY="$(printf '%s' "$STAMP" | sha256sum | cut -c1-16)"
FINAL="$OUT_ROOT/$KEY"
if [ -f "$FINAL/.complete" ]; then
  touch "$FINAL"  # recently used: pruning keeps it
  log "up to date: $FINAL/oci:$TAG"
  echo "$FINAL"; exit 0
fi
LAYOUT="$WORK/oci"
BUNDLE="$WORK/bundle"

log "layer 1: Debian runtime base from $BASE"
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$TAG"
umoci unpack --image "$LAYOUT:$TAG" "$BUNDLE" >&2
# Shared, so prune_cache.sh (another checkout's build) leaves this base alone while it is copied;
# touched, so it counts as recently used.
exec 8>>"$BASE.lock"
flock -s 8
[ -f "$BASE/.complete" ] || { echo "base $BASE was pruned before it could be copied: run the build again" >&2; exit 1; }
touch "$BASE"
cp -a "$BASE/." "$BUNDLE/rootfs/"
exec 8>&-
rm -f "$BUNDLE/rootfs/.complete"
# --refresh-bundle: the next repack diffs against this layer, so layer 2 holds only the gem.
umoci repack --refresh-bundle --image "$LAYOUT:$TAG" \
  --history.created_by "debootstrap --variant=minbase bookworm + runtime-packages.txt" "$BUNDLE" >&2

log "layer 2: gem install $(basename "$GEM") (prebuilt extension, nothing compiled)"
RFS="$BUNDLE/rootfs"
GEM_DIR=/var/lib/gems/3.1.0
gem install --local --no-document --ignore-dependencies \
  --install-dir "$RFS$GEM_DIR" --bindir "$RFS/usr/local/bin" "$GEM" >&2
gemdir="$(ls -d "$RFS$GEM_DIR/gems/stats_tracker-$VERSION-$PLATFORM")"
# The .gem copy in cache/ is not needed at run time.
rm -rf "$RFS$GEM_DIR/cache" "$RFS$GEM_DIR/build_info"
mkdir -p "$RFS/opt"
ln -sfn "${gemdir#"$RFS"}" "$RFS/opt/stats_tracker"
chroot "$RFS" groupadd --system --gid "$UID_GID" stats-tracker
chroot "$RFS" useradd --system --uid "$UID_GID" --gid "$UID_GID" --home-dir /nonexistent --no-create-home \
  --shell /usr/sbin/nologin stats-tracker
install -d -o "$UID_GID" -g "$UID_GID" -m 0750 "$RFS/var/cache/stats_tracker"
rm -rf "$RFS"/var/log/* "$RFS"/var/cache/ldconfig/aux-cache
umoci repack --image "$LAYOUT:$TAG" --history.created_by "gem install stats_tracker-$VERSION; useradd 65532" "$BUNDLE" >&2

log "image config: user, entrypoint, env, port, stop signal"
umoci config --image "$LAYOUT:$TAG" \
  --config.user "$UID_GID:$UID_GID" \
  --config.workingdir /opt/stats_tracker \
  --config.entrypoint /usr/bin/ruby --config.entrypoint operator/operator.rb \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env STATS_TRACKER_CACHE_DIR=/var/cache/stats_tracker \
  --config.env HOME=/tmp \
  --config.env METRICS_ADDR=0.0.0.0:8080 \
  --config.env LOG_FORMAT=json \
  --config.exposedports 8080/tcp \
  --config.stopsignal SIGTERM \
  --config.label org.opencontainers.image.title=stats-tracker-operator \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --history.created_by 'USER 65532; ENTRYPOINT ["/usr/bin/ruby","operator/operator.rb"]; STOPSIGNAL SIGTERM'
umoci gc --layout "$LAYOUT"

log "oci-archive for registries and \`kind load image-archive\`/\`docker load\`-capable tools"
skopeo copy --quiet "oci:$LAYOUT:$TAG" "oci-archive:$WORK/stats-tracker-operator.oci.tar:stats-tracker-operator:$TAG" >&2

rm -f "$GEM"
echo "$STAMP" > "$WORK/.complete"
size="$(du -sh "$LAYOUT" | cut -f1)"
mv -T "$WORK" "$FINAL"
trap - EXIT
KEEP_IMAGES=$KEEP "$HERE/prune_cache.sh" "$OUT_ROOT" "$(dirname "$BASE")"
log "built in $(( $(date +%s) - start ))s: $FINAL/oci:$TAG ($size compressed layout)"
echo "$FINAL"
