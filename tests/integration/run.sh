#!/usr/bin/env bash
# Runs every tests/integration/test_*.sh; prints
# "integration summary: P passed, F failed".
set -u
cd "$(dirname "$0")/../.."
export BUILD=${BUILD:-build}
export OMP_THREAD_LIMIT=1
RESULTS=$(mktemp)
export RESULTS
# A script that hangs is stopped and counted as failed.
limit=${INTEGRATION_TIMEOUT:-1200}
for t in tests/integration/test_*.sh; do
    echo "== $t"
    WORK=$(mktemp -d /tmp/sohoa-it.XXXXXX)
    export WORK
    timeout -k 10 "$limit" bash "$t"
    status=$?
    if [ "$status" -eq 124 ]; then echo "FAIL $t: stopped after ${limit}s"; echo fail >> "$RESULTS";
    elif [ "$status" -ne 0 ]; then echo "FAIL $t: script exited $status"; echo fail >> "$RESULTS"; fi
    rm -rf "$WORK"
done
p=$(grep -c '^pass$' "$RESULTS")
f=$(grep -c '^fail$' "$RESULTS")
rm -f "$RESULTS"
echo "integration summary: $p passed, $f failed"
[ "$f" -eq 0 ]
