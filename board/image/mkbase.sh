#!/usr/bin/env bash
# mkbase.sh CACHE_DIR — the base root file system of the station image: Debian 12
# arm64 from packages.txt, built with mmdebstrap (maintainer scripts run under
# qemu-user through binfmt_misc), documentation and apt lists stripped.
#
# Prints the path of the tarball. It is cached as CACHE_DIR/base-<key>.tar,
# <key> being a hash of packages.txt and this script, so a rebuild with the
# same package list costs nothing; older bases in CACHE_DIR are removed.
# Takes 15-40 minutes on 2 cores (qemu-user is slow; the kernel's initrd
# is built in there too).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: mkbase.sh CACHE_DIR}
mkdir -p "$cache"
MIRROR=${SOHOA_IMAGE_MIRROR:-http://deb.debian.org/debian}
SECURITY=${SOHOA_IMAGE_SECURITY:-http://deb.debian.org/debian-security}

key=$(cat "$here/packages.txt" "$0" | sha256sum | cut -c1-16)
tar="$cache/base-$key.tar"
if [ -s "$tar" ]; then
    echo "$tar"
    exit 0
fi
for t in mmdebstrap arch-test; do
    command -v "$t" >/dev/null || {
        echo "mkbase.sh: $t not found; run 'make deps-image'" >&2
        exit 1
    }
done
arch-test arm64 >/dev/null || {
    echo "mkbase.sh: this machine cannot run arm64 programs (qemu-user-static via binfmt_misc);" \
        "run 'make deps-image'" >&2
    exit 1
}

pkgs=$(sed -e 's/#.*//' "$here/packages.txt" | xargs | tr ' ' ',')
echo "mkbase.sh: building the base root file system (mmdebstrap, arm64; many minutes)" >&2
rm -f "$cache"/base-*.tar "$cache"/base-*.tar.tmp
# Documentation and translations are not installed (copyright files are
# kept); mmdebstrap drops the apt lists and package cache at the end.
mmdebstrap --architectures=arm64 --variant=essential --mode=root \
    --include="$pkgs" \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='rm -f "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap' \
    --format=tar \
    bookworm "$tar.tmp" \
    "deb $MIRROR bookworm main" \
    "deb $MIRROR bookworm-updates main" \
    "deb $SECURITY bookworm-security main" >&2
mv "$tar.tmp" "$tar"
echo "$tar"
