# Bad input: one clear line on stderr naming the file, exit 2, and nothing
# left behind in the output directory.
. tests/integration/lib.sh

in=$WORK/in
mkdir -p "$in"
"$FIXTUREGEN" -o "$WORK/fx" --seed 11 --count 1 --pages 1 --format png --clean >/dev/null
good=$(ls "$WORK"/fx/doc000/*.png | head -1)

: > "$in/empty.png"
echo "this is not an image" > "$in/notes.png"
head -c 20000 "$(ls "$WORK"/fx/doc000/*.png | head -1)" > "$in/truncated.png"
python3 - "$in/huge.png" <<'PY'
# A valid PNG header claiming 30000 x 10 pixels: must be refused from the
# header alone, before anything is decoded.
import struct, sys, zlib
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = b"".join(b"\0" + b"\xff" * 30000 for _ in range(10))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 10, 8, 0, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
python3 - "$in/white.pgm" <<'PY'
import sys
w, h = 1240, 1754
open(sys.argv[1], "wb").write(b"P5 %d %d 255\n" % (w, h) + b"\xf4" * (w * h))
PY

for case in missing.png empty.png notes.png truncated.png huge.png white.pgm; do
    out=$WORK/out-$case
    "$SOHOA" process -o "$out" "$in/$case" >/dev/null 2>"$WORK/err"
    code=$?
    lines=$(wc -l < "$WORK/err")
    if [ "$code" -ne 2 ]; then
        fail "bad input $case: exit code" "got $code, expected 2 ($(cat "$WORK/err"))"
    elif [ "$lines" -ne 1 ] || ! grep -q "$case" "$WORK/err"; then
        fail "bad input $case: message" "expected one line naming the file, got: $(cat "$WORK/err")"
    else
        pass "bad input $case: exit 2, one line naming the file"
    fi
    leftovers=$(find "$out" -type f 2>/dev/null | wc -l)
    if [ "$leftovers" -eq 0 ]; then pass "bad input $case: nothing left behind"; else
        fail "bad input $case: leftovers" "$(find "$out" -type f)"; fi
done

# A good page followed by a bad one: still nothing written.
out=$WORK/out-mixed
expect_exit 2 "good page then corrupt page: exit 2" "$SOHOA" process -o "$out" "$good" "$in/truncated.png"
[ -z "$(find "$out" -type f 2>/dev/null)" ] && pass "good then corrupt: nothing left behind" \
    || fail "good then corrupt: leftovers" "$(find "$out" -type f)"

# Usage errors.
expect_exit 2 "no -o" "$SOHOA" process "$good"
expect_exit 2 "no images" "$SOHOA" process -o "$WORK/x"
expect_exit 2 "unknown compression" "$SOHOA" process -o "$WORK/x" --compression zip "$good"
expect_exit 2 "unknown command" "$SOHOA" frobnicate

# A malformed configuration file is bad input, named with its line.
printf '[ocr]\nthreads = many\n' > "$WORK/bad.conf"
"$SOHOA" process -o "$WORK/x" --config "$WORK/bad.conf" "$good" 2>"$WORK/err" >/dev/null
code=$?
if [ "$code" -eq 2 ] && grep -q "bad.conf:2" "$WORK/err"; then pass "malformed config: exit 2 with file:line"
else fail "malformed config" "exit $code: $(cat "$WORK/err")"; fi

# An output directory we cannot write: the work fails (exit 1), cleanly.
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$WORK/ro" && chmod 555 "$WORK/ro"
    expect_exit 1 "read-only output directory: exit 1" "$SOHOA" process -o "$WORK/ro" "$good"
else
    # root ignores permissions: a file where the directory should be.
    : > "$WORK/not-a-dir"
    expect_exit 2 "output path is a file: exit 2" "$SOHOA" process -o "$WORK/not-a-dir" "$good"
fi
exit 0
