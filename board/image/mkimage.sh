#!/usr/bin/env bash
# mkimage.sh — `make image`: the station's disk image, out/image/sohoa-arm64.img.
#
#   1. the base root file system (mkbase.sh: Debian 12 arm64, cached);
#   2. our build installed into it (`make TARGET=aarch64 install DESTDIR=...`);
#   3. the image's own settings (board/image/overlay, read-only root, data
#      partition links, users, enabled units, time zone, extlinux.conf);
#   4. the file systems without loop devices (mkfs.ext4 -d) and the disk:
#        16 MiB   free for a board's boot loader (U-Boot on many SoCs)
#        p1       sohoa-root  ext4, mounted read-only (GPT type root-arm64,
#                             legacy-bootable: U-Boot reads /boot/extlinux/extlinux.conf)
#        p2       sohoa-data  ext4 at /var/lib/sohoa (GPT type linux-generic),
#                             grown to the card's size at first boot
#   5. next to it: the kernel, the initrd and their command line (QEMU boots
#      them directly), a bmap file and a zstd-compressed copy for flashing.
#
# Environment: IMG_OUT (out/image), IMG_BUILD (build-img), IMG_BOARD
# (qemu-virt: the board config named in extlinux.conf's console and the
# default [station] board), IMG_DATA_MB (256), MAKE.
# Must run as root (file ownership in the root file system).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${IMG_OUT:-out/image}
B=${IMG_BUILD:-build-img}
BOARD=${IMG_BOARD:-qemu-virt}
DATA_MB=${IMG_DATA_MB:-256}
MAKE=${MAKE:-make}
NAME=sohoa-arm64
ROOT_TYPE=B921B045-1DF0-41C3-AF44-4C6F280D3FAE # root-arm64
DATA_TYPE=0FC63DAF-8483-4772-8E79-3D69D8477DE4 # linux-generic
t0=$(date +%s)

die() {
    echo "mkimage.sh: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "must run as root (the root file system's files belong to root and sohoa)"
board_conf=board/boards/$BOARD.conf
[ -f "$board_conf" ] ||
    die "$board_conf: no such board config; IMG_BOARD names a file of board/boards"
console=$(sed -n 's/^console *= *//p' "$board_conf")
console=${console#/dev/}
[ -n "$console" ] ||
    die "$board_conf: no console = line; the image needs the board's serial console"
for t in mkfs.ext4 sfdisk zstd bmaptool systemctl systemd-sysusers depmod; do
    command -v "$t" >/dev/null || die "$t not found; run 'make deps-image'"
done
mkdir -p "$OUT" "$B"

base=$(board/image/mkbase.sh "$OUT/cache")
echo "== root file system in $B/rootfs (from $base)"
r=$B/rootfs
rm -rf "$r"
mkdir -p "$r"
tar -xpf "$base" -C "$r" --numeric-owner
r=$(cd "$r" && pwd)

echo "== sohoa (make TARGET=aarch64 install)"
# A sub-make of its own: variables given to `make image` (BUILD=...) must
# not reach the cross build.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE" --no-print-directory "$@"; }
# Built in our own directory, $B/aarch64 (install builds only what it installs).
if submake -n TARGET=aarch64 install DESTDIR=/nonexistent PREFIX=/usr >/dev/null 2>&1; then
    submake -j"$(nproc)" TARGET=aarch64 BUILD="$B/aarch64" install DESTDIR="$r" PREFIX=/usr
elif [ "${SOHOA_IMAGE_NO_FIRMWARE:-0}" = 1 ]; then
    echo "mkimage.sh: WARNING: no cross build yet (make TARGET=aarch64 install);" \
        "the image has no sohoa (SOHOA_IMAGE_NO_FIRMWARE=1)" >&2
else
    die "'make TARGET=aarch64 install' is not available; the image needs the cross build"
fi

echo "== image settings (board $BOARD, console $console)"
# Directories named *.d are kept as *@d in the overlay (the repository's
# .gitignore ignores *.d, the make dependency files).
tar -C board/image/overlay --owner=0 --group=0 --transform='s|@d/|.d/|g' \
    --transform='s|@d$|.d|' -cf - . |
    tar -xpf - -C "$r" --no-overwrite-dir
ln -sfn /usr/share/zoneinfo/Asia/Ho_Chi_Minh "$r/etc/localtime"
echo Asia/Ho_Chi_Minh >"$r/etc/timezone"
echo sohoa >"$r/etc/hostname"
# Users and groups are made now: /etc is read-only on the board.
systemd-sysusers --root="$r" >/dev/null 2>&1
uid=$(awk -F: '$1 == "sohoa" {print $3}' "$r/etc/passwd")
gid=$(awk -F: '$1 == "sohoa" {print $3}' "$r/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] ||
    die "no sohoa user or group in the root file system (usr/lib/sysusers.d/sohoa.conf)"

# The configuration lives on the data partition; the defaults stay in the
# root as the factory copy that the first boot copies there.
factory=$r/usr/share/sohoa/factory
rm -rf "$factory"
mkdir -p "$factory"
if [ -d "$r/etc/sohoa" ] && [ ! -L "$r/etc/sohoa" ]; then
    mv "$r/etc/sohoa" "$factory/etc"
else
    rm -f "$r/etc/sohoa"
    mkdir -p "$factory/etc"
fi
conf=$factory/etc/sohoa.conf
if [ -f "$conf" ] && grep -q "^;\?board *=" "$conf"; then
    sed -i "s|^;\?board *= *[^ ;]*|board = /usr/share/sohoa/boards/$BOARD.conf|" "$conf"
fi
# The virtual scanner's feeder (our SANE backend) is configured on the data
# partition too.
if [ -f "$r/etc/sane.d/sohoa.conf" ] && [ ! -L "$r/etc/sane.d/sohoa.conf" ]; then
    mv "$r/etc/sane.d/sohoa.conf" "$factory/etc/sane-sohoa.conf"
fi
mkdir -p "$r/etc/sane.d"
ln -sfn /etc/sohoa/sane-sohoa.conf "$r/etc/sane.d/sohoa.conf"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsohoa\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$factory/hosts"
chown -R "0:$gid" "$factory/etc" # numeric: the host has no sohoa group
chmod 0750 "$factory/etc"
ln -sfn /var/lib/sohoa/etc "$r/etc/sohoa"
# /etc/hosts stays, as the mount point of the data partition's copy.
cp "$factory/hosts" "$r/etc/hosts"
# dbus's tmpfiles.d would make this link at every boot, on a read-only /var.
mkdir -p "$r/var/lib/dbus"
ln -sfn /etc/machine-id "$r/var/lib/dbus/machine-id"
mv "$r/var/lib/systemd" "$factory/var-lib-systemd"
mkdir -p "$r/var/lib/systemd" "$r/var/lib/sohoa"
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$r/etc/resolv.conf"
# An empty machine-id on a read-only root: systemd makes a new one in
# memory at each boot.
: >"$r/etc/machine-id"
rm -rf "$r/var/log"/* "$r/var/cache/apt" "$r/var/lib/apt/lists"/* "$r/tmp"/* "$r/var/tmp"/*

units=(systemd-networkd.service systemd-resolved.service systemd-timesyncd.service
    sohoa-data.service sohoa-test-shell.service)
for f in "$r"/usr/lib/systemd/system/sohoa*.service; do # /lib is /usr/lib (merged /usr)
    [ -f "$f" ] || continue
    u=$(basename "$f")
    case $u in
    *@.service) grep -q '^DefaultInstance=' "$f" || continue ;;
    esac
    grep -q '^\[Install\]' "$f" && units+=("$u")
done
systemctl --root="$r" enable "${units[@]}" 2>&1 | grep -v '^Created symlink' || true
# The console belongs to sohoa-console, not to a login prompt; e2scrub
# needs LVM and a writable root, dpkg-db-backup a writable /var/backups.
systemctl --root="$r" mask "serial-getty@$console.service" e2scrub_all.timer \
    e2scrub_reap.service dpkg-db-backup.timer dpkg-db-backup.service >/dev/null 2>&1

kver=$(basename "$(ls -d "$r"/lib/modules/* | sort -V | tail -1)")
[ -f "$r/boot/vmlinuz-$kver" ] && [ -f "$r/boot/initrd.img-$kver" ] ||
    die "no kernel $kver or its initrd in the base; is linux-image-arm64 in packages.txt?"
# Kernel modules a station never loads (Debian's kernel is built for every
# arm64 machine): sound, cameras and TV, Wi-Fi and Bluetooth (no firmware
# for them is installed), InfiniBand, desktop GPUs, staging, sensors. About
# 150 MB less; the initrd keeps its own copy of what boot needs.
m=$r/usr/lib/modules/$kver/kernel
rm -rf "$m/sound" "$m/drivers/media" "$m/drivers/net/wireless" "$m/net/wireless" \
    "$m/net/mac80211" "$m/net/bluetooth" "$m/drivers/bluetooth" "$m/drivers/infiniband" \
    "$m/drivers/staging" "$m/drivers/iio" "$m/drivers/gpu/drm/amd" "$m/drivers/gpu/drm/radeon" \
    "$m/drivers/gpu/drm/nouveau"
depmod -b "$r" "$kver"
cmdline="root=LABEL=sohoa-root ro rootwait console=$console,115200 quiet"
mkdir -p "$r/boot/extlinux"
cat >"$r/boot/extlinux/extlinux.conf" <<EOF
# U-Boot's distro boot (board/image/mkimage.sh): the kernel, the initrd and
# the device tree of the board from the root partition.
default sohoa
timeout 1
label sohoa
    kernel /boot/vmlinuz-$kver
    initrd /boot/initrd.img-$kver
    fdtdir /usr/lib/linux-image-$kver/
    append $cmdline
EOF

echo "== checks"
if [ -x "$r/usr/bin/sohoa" ]; then
    missing=$(chroot "$r" /usr/bin/ldd /usr/bin/sohoa | grep 'not found' || true)
    [ -z "$missing" ] || die "/usr/bin/sohoa needs libraries the image lacks:
$missing
add their packages to board/image/packages.txt"
    chroot "$r" /usr/bin/sohoa --version >/dev/null ||
        die "/usr/bin/sohoa --version failed in the root file system (qemu-user)"
fi
for f in usr/share/tesseract-ocr/5/tessdata/vie.traineddata \
    usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf \
    usr/lib/softhsm/libsofthsm2.so usr/share/zoneinfo/Asia/Ho_Chi_Minh; do
    [ -e "$r/$f" ] || die "/$f is missing from the root file system"
done

echo "== file systems and disk"
printf 'sohoa_uid=%s\nsohoa_gid=%s\n' "$uid" "$gid" >"$OUT/$NAME.ids"
cp "$r/boot/vmlinuz-$kver" "$OUT/$NAME.vmlinuz"
cp "$r/boot/initrd.img-$kver" "$OUT/$NAME.initrd"
echo "$cmdline" >"$OUT/$NAME.cmdline"
used=$(du -s -B1M "$r" | cut -f1)
root_mb=$(((used * 115 / 100 + 64 + 3) / 4 * 4))
rm -f "$B/root.ext4" "$B/data.ext4"
# No journal on the root: it is never written on the board.
mkfs.ext4 -q -F -t ext4 -b 4096 -i 8192 -m 0 -O ^has_journal -L sohoa-root \
    -E root_owner=0:0 -d "$r" "$B/root.ext4" "${root_mb}M"
mkfs.ext4 -q -F -t ext4 -b 4096 -m 1 -L sohoa-data -E root_owner=0:0 "$B/data.ext4" "${DATA_MB}M"

img=$OUT/$NAME.img
rm -f "$img" "$img.zst" "$img.bmap"
off=16
truncate -s "$((off + root_mb + DATA_MB + 1))M" "$img.tmp"
sfdisk -q "$img.tmp" <<EOF
label: gpt
start=$((off * 2048)), size=$((root_mb * 2048)), type=$ROOT_TYPE, name=sohoa-root, \
attrs=LegacyBIOSBootable
start=$(((off + root_mb) * 2048)), size=$((DATA_MB * 2048)), type=$DATA_TYPE, name=sohoa-data
EOF
dd if="$B/root.ext4" of="$img.tmp" bs=1M seek="$off" conv=notrunc,sparse status=none
dd if="$B/data.ext4" of="$img.tmp" bs=1M seek="$((off + root_mb))" conv=notrunc,sparse status=none
mv "$img.tmp" "$img"
bmaptool -q create -o "$img.bmap" "$img"
zstd -q -T0 -10 "$img" -o "$img.zst"

size() { du -h --apparent-size "$1" | cut -f1; }
echo "== $img: $(size "$img") (root ${root_mb} MiB, data ${DATA_MB} MiB; $(du -h "$img" |
    cut -f1) allocated), $img.zst: $(size "$img.zst"); kernel $kver"
echo "== make image took $(($(date +%s) - t0)) s"
