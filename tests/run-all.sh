#!/usr/bin/env bash
# Runs every test: the cmocka unit binaries given as arguments, then the
# integration scripts. Prints one summary line "N passed, N failed" last
# and exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}
# Tesseract's OpenMP must not compete with our worker threads (see
# ocr/recognize.h); unit tests that OCR run in this environment too.
export OMP_THREAD_LIMIT=1

results=$(mktemp)
trap 'rm -f "$results"' EXIT
tests/run-unit.sh "$@" | tee -a "$results"
tests/integration/run.sh | tee -a "$results"

passed=$(awk '/^unit summary:|^integration summary:/ {p += $3} END {print p+0}' "$results")
failed=$(awk '/^unit summary:|^integration summary:/ {f += $5} END {print f+0}' "$results")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
