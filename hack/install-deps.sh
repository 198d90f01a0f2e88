#!/usr/bin/env bash
# Installs, on Debian/Ubuntu, the system packages lkpkg and its tests use
# (`make deps`). Run as root.
#
# Recommended packages are not installed: with them, qemu-system-x86 and
# qemu-system-arm alone pull about 1,170 packages (GTK, SDL, PulseAudio,
# GStreamer plugins through qemu-system-gui) instead of about 120. So every
# tool lkpkg or a test runs is named here, even where a package we ask for
# would have recommended it.
set -euo pipefail
need=()
# want PACKAGE THING...: install PACKAGE unless every THING is present. A
# THING is a command on $PATH or an absolute file path.
want() {
  local pkg=$1 thing
  shift
  for thing in "$@"; do
    case $thing in
    /*) [ -e "$thing" ] && continue ;;
    *) command -v "$thing" >/dev/null && continue ;;
    esac
    need+=("$pkg")
    return
  done
}

# The embedded builder: runc is buildkitd's worker; qemu-user-static and
# binfmt-support run foreign-arch RUN steps (arm64, riscv64) on this host.
want runc runc
want qemu-user-static /usr/bin/qemu-aarch64-static /usr/bin/qemu-riscv64-static
want binfmt-support update-binfmts
# HTTPS to Debian's archive and the Go module proxy (mirror lock/fetch);
# Go's TLS reads the system roots from here.
want ca-certificates /etc/ssl/certs/ca-certificates.crt
# hack/demo.sh waits for its local registry with curl.
want curl curl

# `lkpkg run qemu` and the boot tests: QEMU for amd64 and arm64 guests and
# their UEFI firmware (paths as qemu/firmware.go looks for them).
want qemu-system-x86 qemu-system-x86_64
want qemu-system-arm qemu-system-aarch64
want ovmf /usr/share/ovmf/OVMF.fd
want qemu-efi-aarch64 /usr/share/AAVMF/AAVMF_CODE.fd
# The virtio NIC's option ROM for `--networking user` (the default).
# qemu-system-x86 depends on it; qemu-system-arm only recommends it.
want ipxe-qemu /usr/lib/ipxe/qemu/efi-virtio.rom

# Real-tool checks of the output writers (assemble, qemu tests): cpio
# (initrd), unsquashfs (squashfs), qemu-img (qcow2), fsck.vfat and mtools
# (FAT; mformat/mcopy also make the qemu tests' ESP), sgdisk (GPT), isoinfo
# and xorriso (ISO 9660 / El Torito).
want cpio cpio
want squashfs-tools unsquashfs
want qemu-utils qemu-img
want dosfstools fsck.vfat
want mtools mdir mtype mformat mcopy
want gdisk sgdisk
want genisoimage isoinfo
want xorriso xorriso
# The .deb reader's tests compress with bzip2.
want bzip2 bzip2
# Also used by tests, and part of every Debian system: apt-get and apt-cache
# (apt; the Debian resolver is compared with `apt-get install -s`),
# dpkg-deb (dpkg), tar, mount/umount (mount), chroot (coreutils).

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# binfmt_misc is not always mounted in containers and VMs.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
for arch in aarch64 riscv64; do
  [ -e /proc/sys/fs/binfmt_misc/qemu-$arch ] || update-binfmts --enable qemu-$arch
done
echo "deps: $(qemu-system-x86_64 --version | head -1), runc $(runc --version | head -1 | awk '{print $3}'), qemu binfmt: $(cd /proc/sys/fs/binfmt_misc && ls -d qemu-* | tr '\n' ' ')"
