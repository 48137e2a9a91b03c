#!/usr/bin/env bash
# The station's main job end to end on embedded defaults: generate a
# realistic scanned letter (two pages, duplex with a blank back, one page
# fed upside down), digitise it, sign it with the software token (SoftHSM2
# holding a key from a test CA), verify the signature, and show what came
# out.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=${DEMO_OUT:-out/demo}
rm -rf "$out"
mkdir -p "$out"
echo "== scanning (virtual: generated pages) into $out/scans"
"$BUILD/fixturegen" -o "$out/scans" --seed 2026 --count 1 --pages 2 --blank-back --upside-down \
    --format jpg >/dev/null
ls "$out"/scans/doc000/
echo "== software token (SoftHSM2, test CA) in $BUILD/pki"
bash tests/pki/make-pki.sh "$PWD/$BUILD/pki" >/dev/null
export SOFTHSM2_CONF=$PWD/$BUILD/pki/softhsm2.conf
cat > "$out/sohoa.conf" <<EOF
[station]
organ_id = 000.00.15.H47
organ_name = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam

$(cat "$BUILD/pki/token-pkcs11.conf")

[signature]
organization = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam
trust_file = $PWD/$BUILD/pki/ca.pem
EOF
echo "== sohoa process --sign"
"$BUILD/sohoa" process -v -c "$out/sohoa.conf" --sign -o "$out/result" "$out"/scans/doc000/page-*
echo "== sohoa verify"
"$BUILD/sohoa" verify -c "$out/sohoa.conf" "$out/result/document.pdf"
echo "== $out/result/metadata.json"
cat "$out/result/metadata.json"
echo "== $out/result/document.pdf"
pdfinfo "$out/result/document.pdf" | grep -E '^(Pages|Page size|PDF version|File size)'
echo "== its text layer (first lines)"
pdftotext -l 1 -layout "$out/result/document.pdf" - | sed -n '1,12p'
echo "== pdfsig"
pdfsig "$out/result/document.pdf" | sed -n '2,12p'
