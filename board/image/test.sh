#!/usr/bin/env bash
# test.sh — `make image-test`: boots out/image/sohoa-arm64.img in
# qemu-system-aarch64 and runs one job through the station from the host.
#
#  - a copy of the image gets a test data partition (written with
#    mkfs.ext4 -d, dd'd over the image's own): a configuration with the
#    virtual scanner (our SANE backend) loaded with a generated letter,
#    the SoftHSM2 token of tests/pki/make-pki.sh, the upload URL
#    https://receiver.test/edxml and the console password's crypt(3) hash;
#    the copy is also made 256 MiB larger, for the first-boot growth;
#  - tests/receiver/receiver.py listens on 127.0.0.1 (HTTPS, a free port);
#  - QEMU: virt machine, cortex-a72, 2 vCPUs, 1.5 GB, the image's Debian
#    kernel and initrd booted directly with the image's command line (plus
#    sohoa.test_shell: a root shell on hvc0 for the checks), user networking
#    with restrict=on: the guest reaches nothing but the guestfwd from
#    10.0.2.100:443 (receiver.test in the test's hosts file) to the receiver;
#  - drive.py waits for the console on the UART, logs in, reads `status`,
#    runs `press`, and checks the system through the shell;
#  - the document must reach the receiver and its PDF signature be valid
#    (pdfsig; `sohoa verify` with the test CA when the host build has it).
#
# Every wait is bounded; on failure the last 60 lines of the serial log are
# printed. Work files in IMG_BUILD/test (serial.log, shell.log, receiver/).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${IMG_OUT:-out/image}
B=${IMG_BUILD:-build-img}
BUILD=${BUILD:-build}
NAME=sohoa-arm64
GUEST_RECEIVER=10.0.2.100
PASSWORD=${IMG_TEST_PASSWORD:-thu-nghiem-2026}
ORG="Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam"
t0=$(date +%s)

t=$B/test
rm -rf "$t"
mkdir -p "$t"
t=$(cd "$t" && pwd)
qemu_pid=
recv_pid=
fail() {
    echo "image-test: FAILED: $*" >&2
    if [ -s "$t/qemu.log" ]; then
        echo "---- QEMU said:" >&2
        tail -n 20 "$t/qemu.log" >&2
    fi
    if [ -s "$t/serial.log" ]; then
        echo "---- last 60 lines of the serial console ($t/serial.log)" >&2
        tail -n 60 "$t/serial.log" | tr -d '\r' >&2
        echo "----" >&2
    else
        echo "(the serial console printed nothing: $t/serial.log is empty)" >&2
    fi
    exit 1
}
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null
    [ -n "$recv_pid" ] && kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
    true
}
trap cleanup EXIT

img=$OUT/$NAME.img
for f in "$img" "$OUT/$NAME.vmlinuz" "$OUT/$NAME.initrd" "$OUT/$NAME.cmdline" "$OUT/$NAME.ids" \
    "$BUILD/fixturegen"; do
    [ -f "$f" ] || fail "$f is missing (make image; make $BUILD/fixturegen)"
done
# shellcheck disable=SC1090
. "$OUT/$NAME.ids" # sohoa_uid, sohoa_gid

echo "== test PKI and token ($B/pki)"
PKI=$(mkdir -p "$B/pki" && cd "$B/pki" && pwd)
bash tests/pki/make-pki.sh "$PKI" >/dev/null

echo "== a letter for the virtual scanner"
"$BUILD/fixturegen" -o "$t/scans" --seed 2027 --count 1 --pages 1 --format pnm --layout state \
    --urgency hoa-toc --secrecy none --clean --no-handwritten --quiet
dpi=$(jq -r .scan.dpi "$t/scans/doc000/truth.json")

echo "== test data partition"
d=$t/data
mkdir -p "$d/etc" "$d/feeder" "$d/softhsm/tokens" "$d/.system"
cp "$t"/scans/doc000/page-*.pnm "$d/feeder/"
cp "$PKI/ca.pem" "$PKI/ca-bundle.pem" "$d/etc/"
cp "$PKI/pin" "$d/etc/pin"
cp -a "$PKI/tokens/." "$d/softhsm/tokens/"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tsohoa\n%s\treceiver.test\n' "$GUEST_RECEIVER" \
    >"$d/.system/hosts"
printf 'device virtual0 "Sohoa Virtual ADF"\npages /var/lib/sohoa/feeder\npage_dpi %s\n' "$dpi" \
    >"$d/etc/sane-sohoa.conf"
hash=$(openssl passwd -6 "$PASSWORD")
cat >"$d/etc/sohoa.conf" <<EOF
; make image-test (board/image/test.sh)
[station]
organ_id = 000.00.15.H47
organ_name = $ORG
data_dir = /var/lib/sohoa
board = /usr/share/sohoa/boards/qemu-virt.conf
min_free_mb = 10

[token]
backend = pkcs11
module = /usr/lib/softhsm/libsofthsm2.so
token_label = ORG
key_label = sign
pin_file = /etc/sohoa/pin

[signature]
organization = $ORG
trust_file = /etc/sohoa/ca.pem

[upload]
url = https://receiver.test/edxml
ca_file = /etc/sohoa/ca-bundle.pem
retry_min = 2
retry_max = 10
timeout = 60

[guard]
unreviewed = send

[scanner]
device = sohoa:virtual0
source = adf
resolution = $dpi

[ocr]
threads = 2

[console]
password_hash = $hash
EOF
# Owners and modes as data-init leaves them on the board.
chown -R "$sohoa_uid:$sohoa_gid" "$d"
chown -R "0:$sohoa_gid" "$d/etc"
chown "$sohoa_uid:$sohoa_gid" "$d/etc/pin"
chmod 0750 "$d" "$d/etc"
chmod 0640 "$d"/etc/*
chown -R 0:0 "$d/.system"
chmod 0755 "$d/.system"
chmod 0644 "$d/.system/hosts"
chmod 0600 "$d/etc/pin"
chmod -R go-rwx "$d/softhsm"

# The image's data partition: where and how big.
read -r dstart dsize < <(sfdisk -J "$img" |
    jq -r '.partitiontable.partitions[1] | "\(.start) \(.size)"')
[ -n "$dsize" ] || fail "$img has no second (data) partition"
mkfs.ext4 -q -F -t ext4 -b 4096 -m 1 -L sohoa-data -E root_owner=0:0 -d "$d" "$t/data.ext4" \
    "$((dsize / 2))k"
disk=$t/disk.img
cp --sparse=always "$img" "$disk"
dd if="$t/data.ext4" of="$disk" bs=512 seek="$dstart" conv=notrunc,sparse status=none
truncate -s +256M "$disk"
rm -f "$t/data.ext4"

echo "== receiver on the host (https://127.0.0.1, as receiver.test for the guest)"
mkdir -p "$t/receiver"
python3 tests/receiver/receiver.py --host 127.0.0.1 --port 0 --port-file "$t/receiver/port" \
    --store "$t/receiver" --tls "$PKI/server-chain.pem" "$PKI/server.key" \
    >"$t/receiver/receiver.log" 2>&1 &
recv_pid=$!
for _ in $(seq 100); do [ -s "$t/receiver/port" ] && break; sleep 0.1; done
port=$(cat "$t/receiver/port" 2>/dev/null) ||
    fail "the receiver did not start ($t/receiver/receiver.log)"
stats() { curl -s --max-time 5 --cacert "$PKI/ca-bundle.pem" "https://localhost:$port/_stats"; }

echo "== qemu-system-aarch64 (serial log: $t/serial.log)"
# Each connection of the guest to receiver.test:443 runs socat to the receiver.
fwd="guestfwd=tcp:$GUEST_RECEIVER:443-cmd:socat - TCP:127.0.0.1:$port"
date +%s.%N >"$t/qemu.start"
qemu-system-aarch64 -machine virt -cpu cortex-a72 -smp 2 -m 1536 \
    -kernel "$OUT/$NAME.vmlinuz" -initrd "$OUT/$NAME.initrd" \
    -append "$(cat "$OUT/$NAME.cmdline") sohoa.test_shell" \
    -drive "if=none,id=disk,file=$disk,format=raw,cache=unsafe" \
    -device virtio-blk-pci,drive=disk \
    -netdev "user,id=net,restrict=on,$fwd" \
    -device virtio-net-pci,netdev=net,romfile= \
    -device virtio-rng-pci \
    -chardev "socket,id=uart,path=$t/console.sock,server=on,wait=off,logfile=$t/serial.log" \
    -serial chardev:uart \
    -device virtio-serial-pci \
    -chardev "socket,id=shell,path=$t/shell.sock,server=on,wait=off,logfile=$t/shell.log" \
    -device virtconsole,chardev=shell \
    -display none -monitor none -no-reboot \
    >"$t/qemu.log" 2>&1 &
qemu_pid=$!

python3 board/image/drive.py "$t" "$PASSWORD" || fail "the station in the image (see above)"

echo "== the receiver"
n=0
for _ in $(seq 120); do
    n=$(stats | jq '.documents | length' 2>/dev/null || echo 0)
    [ "$n" -ge 1 ] && break
    sleep 1
done
[ "$n" = 1 ] || fail "the receiver holds $n documents, not 1, 120 s after the press"
stats | jq -c '.documents[0] | {document_id, priority, bytes, pdf_sha256}'
env=$(ls "$t"/receiver/*.xml | head -1)
python3 - "$env" "$t/received.pdf" <<'PY'
import base64, sys, xml.etree.ElementTree as ET
ns = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
t = ET.parse(sys.argv[1])
open(sys.argv[2], "wb").write(base64.b64decode(t.find(f".//{ns}ContentTransferEncoded").text))
PY
pdfsig "$t/received.pdf" >"$t/pdfsig.txt" 2>&1 || true
grep -q "Signature Validation: Signature is Valid" "$t/pdfsig.txt" ||
    fail "pdfsig does not find a valid signature in the received PDF: $(cat "$t/pdfsig.txt")"
sed -n '2,6p' "$t/pdfsig.txt"
if [ -x "$BUILD/sohoa" ]; then
    "$BUILD/sohoa" verify --trust "$PKI/ca.pem" "$t/received.pdf" ||
        fail "sohoa verify (host) rejects the received PDF"
fi

boot=$(jq -r .boot_s "$t/result.json")
size=$(du -h --apparent-size "$img" | cut -f1)
zsize=$( [ -f "$img.zst" ] && du -h --apparent-size "$img.zst" | cut -f1 || echo "?")
echo "image-test: boot to console ${boot} s; image ${size} (${zsize} zstd);" \
    "data partition $(jq -r .checks.data_mb "$t/result.json") MB after growth;" \
    "test took $(($(date +%s) - t0)) s"
echo "1 passed, 0 failed"
