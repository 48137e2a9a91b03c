#!/bin/sh
# binfmt.sh — lets this machine run arm64 programs (mmdebstrap's maintainer
# scripts, the checks of mkimage.sh) through qemu-user-static: mounts
# binfmt_misc when a container has not, and registers qemu-aarch64.
set -e
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 2>/dev/null || update-binfmts --import qemu-aarch64
fi
arch-test arm64 >/dev/null || {
    echo "binfmt.sh: arm64 programs still do not run here (qemu-user-static, binfmt_misc)" >&2
    exit 1
}
