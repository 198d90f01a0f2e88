#!/usr/bin/env bash
# Installs what lkpkg's embedded builder needs on Debian/Ubuntu: runc (the
# buildkitd worker) and qemu-user-static + binfmt (foreign-arch RUN steps).
set -euo pipefail
need=()
command -v runc >/dev/null || need+=(runc)
[ -e /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v cpio >/dev/null || need+=(cpio) # a real-tool check of the initrd writer
# `lkpkg run qemu` and the boot tests: QEMU for amd64 and arm64 guests and
# their UEFI firmware (OVMF, AAVMF).
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
[ -e /usr/share/ovmf/OVMF.fd ] || need+=(ovmf)
[ -e /usr/share/AAVMF/AAVMF_CODE.fd ] || need+=(qemu-efi-aarch64)
# Real-tool checks of the disk image writers: qemu-img (qcow2),
# unsquashfs (squashfs), mtools and fsck.vfat (FAT), sfdisk (GPT).
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v unsquashfs >/dev/null || need+=(squashfs-tools)
command -v mdir >/dev/null || need+=(mtools)
command -v fsck.vfat >/dev/null || need+=(dosfstools)
# The Debian resolver's tests compare with apt-get itself (present on Debian).
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
# binfmt_misc is not always mounted in containers and VMs.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
for arch in aarch64 riscv64; do
  [ -e /proc/sys/fs/binfmt_misc/qemu-$arch ] || update-binfmts --enable qemu-$arch
done
echo "deps: $(qemu-system-x86_64 --version | head -1), runc $(runc --version | head -1 | awk '{print $3}'), qemu binfmt: $(cd /proc/sys/fs/binfmt_misc && ls -d qemu-* | tr '\n' ' ')"
