#!/usr/bin/env bash
# make bench-station: the station's figures (issue 5).
#  - press → queued for a 1-page and a 10-page document (OCR, guard, số
#    đến, PAdES with SoftHSM2, edXML), through `sohoa daemon`;
#  - the daemon's RSS idle and its peak under that load;
#  - documents per second the upload queue delivers to the reference
#    receiver over HTTPS (~300 KB documents, 500 queued at once);
#  - scanning: `sohoa scan` of 20 pages (300 dpi) from the virtual ADF
#    through libsane: press → first page in the OCR, and pages per minute
#    from the press to the finished PDF.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
work=${BENCH_DIR:-out/bench-station}
rm -rf "$work"
mkdir -p "$work"
export OMP_THREAD_LIMIT=1
PKI=$PWD/$BUILD/pki
bash tests/pki/make-pki.sh "$PKI" >/dev/null
export SOFTHSM2_CONF=$PKI/softhsm2.conf

echo "bench-station: generating pages"
"$BUILD/fixturegen" -o "$work/one" --seed 31 --count 1 --pages 1 --layout state --dpi 300 \
    --format png --clean --no-handwritten --no-stamp --secrecy none --quiet
"$BUILD/fixturegen" -o "$work/ten" --seed 32 --count 2 --pages 5 --layout state --dpi 300 \
    --format png --clean --no-handwritten --no-stamp --secrecy none --quiet

python3 tests/receiver/receiver.py --host 127.0.0.1 --port 0 --port-file "$work/port" \
    --store "$work/recv" --tls "$PKI/server-chain.pem" "$PKI/server.key" >/dev/null 2>&1 &
recv=$!
daemon=
trap '[ -n "$daemon" ] && kill $daemon 2>/dev/null; kill $recv 2>/dev/null; true' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
conf() {
    cat <<EOF2
[station]
organ_id = 000.00.15.H47
organ_name = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam
data_dir = $PWD/$1
min_free_mb = 10

$(cat "$PKI/token-pkcs11.conf")

[signature]
organization = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam

[upload]
url = https://localhost:$(cat "$work/port")/edxml
ca_file = $PKI/ca-bundle.pem

[guard]
unreviewed = send

[ocr]
threads = ${STATION_THREADS:-0}
EOF2
}
conf "$work/data" > "$work/station.conf"
"$BUILD/sohoa" daemon -q -c "$work/station.conf" > "$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do grep -q ready "$work/daemon.log" && break; sleep 0.1; done
sleep 1
rss() { awk -v k="$2" '$1 == k":" {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
idle=$(rss "$daemon" VmRSS)

press_time() {
    local t0 t1
    t0=$(date +%s.%N)
    "$BUILD/sohoa" press -q -c "$work/station.conf" "$@" > "$work/press.out" 2>&1 || true
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}
t1=$(press_time "$work"/one/doc000/page-*.png)
t10=$(press_time "$work"/ten/doc000/page-*.png "$work"/ten/doc001/page-*.png)
tail -1 "$work/press.out"
pages10=$(ls "$work"/ten/doc00*/page-*.png | wc -l)
peak=$(rss "$daemon" VmHWM)
kill "$daemon"; wait "$daemon" 2>/dev/null || true; daemon=

echo "bench-station: queue throughput"
pdf=$(ls -S "$work"/data/docs/*/signed.pdf | head -1)  # the largest: the 10-page document
"$BUILD/bench_queue" <(conf "$work/qdata") "$pdf" 500 | tee "$work/queue.txt"

echo "bench-station: scanning 20 pages from the virtual scanner"
"$BUILD/fixturegen" -o "$work/feed-src" --seed 33 --count 4 --pages 5 --layout state --dpi 300 \
    --format pnm --clean --no-handwritten --no-stamp --secrecy none --quiet
mkdir -p "$work/feeder" "$work/sane"
n=0
for f in "$work"/feed-src/doc*/page-*.pnm; do n=$((n + 1)); cp "$f" "$work/feeder/$(printf %04d $n).pnm"; done
echo sohoa > "$work/sane/dll.conf"
printf 'device virtual0 "Sohoa Virtual ADF"\npages %s\npage_dpi 300\n' "$PWD/$work/feeder" \
    > "$work/sane/sohoa.conf"
s0=$(date +%s.%N)
SANE_CONFIG_DIR=$PWD/$work/sane LD_LIBRARY_PATH=$PWD/$BUILD/sane \
    "$BUILD/sohoa" scan -v -c "$work/station.conf" --device sohoa:virtual0 --source adf \
    -o "$work/scan-out" 2>&1 | while IFS= read -r line; do
        case $line in *"page 1 scanned"*) date +%s.%N > "$work/first" ;; esac
    done
s1=$(date +%s.%N)
first=$(echo "$s0 $(cat "$work/first")" | awk '{printf "%.2f", $2 - $1}')
spages=$(pdfinfo "$work/scan-out/document.pdf" | awk '/^Pages:/ {print $2}')
ppm=$(echo "$s0 $s1 $spages" | awk '{printf "%.1f", $3 * 60 / ($2 - $1)}')

printf '\n%-44s %s\n' "measure" "value"
printf '%-44s %s s\n' "scan: press → page 1 in the OCR" "$first"
printf '%-44s %s pages/min (%s pages)\n' "scan + OCR + PDF, 300 dpi, virtual ADF" "$ppm" "$spages"
printf '%-44s %s s\n' "press → queued, 1 page (300 dpi)" "$t1"
printf '%-44s %s s\n' "press → queued, $pages10 pages (300 dpi)" "$t10"
printf '%-44s %s MB\n' "daemon RSS idle" "$idle"
printf '%-44s %s MB\n' "daemon peak RSS (under that load)" "$peak"
printf '%-44s %s\n' "queue → receiver (HTTPS, $(du -k "$pdf" | cut -f1) KB PDFs)" \
    "$(sed -n 's/.* = \([0-9.]*\) documents\/s.*/\1 documents\/s/p' "$work/queue.txt")"
