#!/usr/bin/env bash
# The station's main job end to end on embedded defaults: generate a
# realistic scanned letter (two pages, duplex with a blank back, one page
# fed upside down), digitise it, and show what came out.
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
echo "== sohoa process"
"$BUILD/sohoa" process -v -o "$out/result" "$out"/scans/doc000/page-*
echo "== $out/result/metadata.json"
cat "$out/result/metadata.json"
echo "== $out/result/document.pdf"
pdfinfo "$out/result/document.pdf" | grep -E '^(Pages|Page size|PDF version|File size)'
echo "== its text layer (first lines)"
pdftotext -l 1 -layout "$out/result/document.pdf" - | sed -n '1,12p'
