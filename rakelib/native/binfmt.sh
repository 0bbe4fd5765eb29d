# Sourced by the arm64 scripts: lets the kernel run aarch64 binaries through Debian's
# qemu-user-static while they need it, and puts the host back as it was afterwards
# (binfmt_misc unmounted if it was, our entry removed). The entry uses the F flag, so the
# interpreter is opened now and works inside a chroot without a copy of qemu there.
BINFMT_DIR=/proc/sys/fs/binfmt_misc
BINFMT_NAME=stats_tracker_qemu_aarch64
BINFMT_MOUNTED_BY_US=0
BINFMT_REGISTERED_BY_US=0

binfmt_aarch64_on() {
  local qemu=/usr/bin/qemu-aarch64-static
  [ -x "$qemu" ] || { echo "qemu-user-static is missing: run bin/setup --cross" >&2; return 1; }
  if [ ! -e "$BINFMT_DIR/register" ]; then
    mount -t binfmt_misc binfmt_misc "$BINFMT_DIR"
    BINFMT_MOUNTED_BY_US=1
  fi
  # Someone else's aarch64 entry (binfmt-support's qemu-aarch64) already does the job.
  if grep -qs '^interpreter .*qemu-aarch64' "$BINFMT_DIR"/*aarch64* 2>/dev/null; then return 0; fi
  # ELF magic and mask for EM_AARCH64 executables, as in qemu's qemu-binfmt-conf.sh.
  echo ":$BINFMT_NAME:M::"'\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'":"'\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'":$qemu:F" \
    > "$BINFMT_DIR/register"
  BINFMT_REGISTERED_BY_US=1
}

binfmt_aarch64_off() {
  if [ "$BINFMT_REGISTERED_BY_US" = 1 ] && [ -e "$BINFMT_DIR/$BINFMT_NAME" ]; then
    echo -1 > "$BINFMT_DIR/$BINFMT_NAME"
  fi
  if [ "$BINFMT_MOUNTED_BY_US" = 1 ]; then umount "$BINFMT_DIR"; fi
  BINFMT_REGISTERED_BY_US=0
  BINFMT_MOUNTED_BY_US=0
}

# chroot needs these for Ruby and wasmtime (/proc/self/*, /dev/urandom, /dev/null).
chroot_mounts_on() {
  local root="$1"
  mkdir -p "$root/proc" "$root/dev"
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
}

chroot_mounts_off() {
  local root="$1"
  for m in proc dev/pts dev sys; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m"; fi
  done
}
