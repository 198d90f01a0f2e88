#!/usr/bin/env bash
# Installs what lkpkg's embedded builder needs on Debian/Ubuntu: runc (the
# buildkitd worker) and qemu-user-static + binfmt (foreign-arch RUN steps).
set -euo pipefail
need=()
command -v runc >/dev/null || need+=(runc)
[ -e /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
command -v cpio >/dev/null || need+=(cpio) # a real-tool check of the initrd writer
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
echo "deps: runc $(runc --version | head -1 | awk '{print $3}'), qemu binfmt: $(cd /proc/sys/fs/binfmt_misc && ls -d qemu-* | tr '\n' ' ')"
