#!/usr/bin/env bash
# make bench-sign: PAdES signing of a 10-page, ~3 MB PDF with SoftHSM2.
#
# Prints the wall time per signature, the same without the time spent in
# the token's own RSA operation (the issue's figure: < 50 ms), the peak RSS
# after the first and the last of 50 signatures, and a valgrind leak check
# over 3 signatures when valgrind is installed.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
work=${BENCH_DIR:-out/bench-sign}
rm -rf "$work"
mkdir -p "$work"
export OMP_THREAD_LIMIT=1

pki=$PWD/$BUILD/pki
bash tests/pki/make-pki.sh "$pki" >/dev/null
export SOFTHSM2_CONF=$pki/softhsm2.conf
cat > "$work/sign.conf" <<EOF
$(cat "$pki/token-pkcs11.conf")

[signature]
organization = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam
EOF

echo "bench-sign: making a 10-page PDF"
# the generator writes letters of up to ~9 pages: take 10 pages of two
"$BUILD/fixturegen" -o "$work/fx" --seed 77 --count 2 --pages 6 --color --dpi 200 --format png \
    --clean >/dev/null
"$BUILD/sohoa" process -q --compression jpeg -o "$work/doc" \
    $(ls "$work"/fx/doc000/*.png "$work"/fx/doc001/*.png | head -10)
size=$(stat -c %s "$work/doc/document.pdf")
echo "bench-sign: input $(pdfinfo "$work/doc/document.pdf" | awk '/^Pages/ {print $2}') pages, $((size / 1024)) KB"
"$BUILD/bench_sign" "$work/sign.conf" "$work/doc/document.pdf" "$work/signed.pdf" 50
if command -v valgrind >/dev/null; then
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 -q \
        "$BUILD/bench_sign" "$work/sign.conf" "$work/doc/document.pdf" "$work/signed.pdf" 3 \
        > /dev/null 2> "$work/valgrind.txt" && echo "valgrind: no definite leaks, no errors" || \
        { echo "valgrind: problems, see $work/valgrind.txt"; tail -20 "$work/valgrind.txt"; }
else
    echo "valgrind: not installed (apt-get install valgrind) - leak check skipped"
fi
