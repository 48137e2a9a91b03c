#!/usr/bin/env bash
# Runs cmocka test binaries; prints their output and one line
# "unit summary: P passed, F failed" (counted from cmocka's own lines).
set -u
export OMP_THREAD_LIMIT=1
# A binary that hangs (a deadlock, a device that never answers) is stopped
# and counted as failed instead of holding the whole run.
limit=${UNIT_TIMEOUT:-1200}
passed=0
failed=0
for bin in "$@"; do
    out=$(timeout -k 10 "$limit" "$bin" 2>&1)
    status=$?
    [ "$status" -eq 124 ] && out="$out
$bin: stopped after ${limit}s"
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    # A crash prints no summary: count the binary as one failure.
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$bin: exited with status $status"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done
echo "unit summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
