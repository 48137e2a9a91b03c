# The station on a full disk: the data directory on a small tmpfs (needs
# root to mount; skipped otherwise). A press that does not fit gets a clear
# error, the daemon stays up, nothing already taken in is lost or
# corrupted, and once space is freed the waiting documents go through.
. tests/integration/lib.sh
. tests/integration/station_lib.sh

if [ "$(id -u)" != 0 ] || ! mkdir -p "$WORK/small" ||
   ! mount -t tmpfs -o size=40m,mode=0700 tmpfs "$WORK/small" 2>/dev/null; then
    echo "skip: full-disk test needs root to mount a tmpfs"
    exit 0
fi
station_pki || { fail pki "make-pki.sh failed"; umount "$WORK/small"; exit 0; }
$FIXTUREGEN -o "$WORK/docs" --seed 21 --count 3 --pages 1 --dpi 200 --format png --clean \
    --no-handwritten --no-stamp --secrecy none --quiet
receiver_start "$WORK/recv" || { fail receiver "did not start"; umount "$WORK/small"; exit 0; }
DATA=$WORK/small/data
CONF=$WORK/sohoa.conf
station_conf "$CONF" "$DATA" 'retry_interval = 2' '[guard]' 'unreviewed = send'
sed -i 's/^min_free_mb = 1$/min_free_mb = 0/' "$CONF"
LOG=$WORK/daemon.log
trap 'daemon_stop; receiver_stop; umount "$WORK/small" 2>/dev/null' EXIT
daemon_start "$CONF" "$LOG" || { fail daemon-start "$(tail -3 "$LOG")"; exit 0; }

out=$("$SOHOA" press -c "$CONF" "$WORK"/docs/doc000/page-1.png 2>&1)
grep -qE "queued|sent" <<<"$out" && pass disk-first-doc || fail disk-first-doc "$out"

# fill the file system so that the page still fits but its PDF does not:
# the document is taken in, its processing fails for lack of space
page=$WORK/docs/doc001/page-1.png
avail=$(df -k --output=avail "$WORK/small" | tail -1)
dd if=/dev/zero of="$WORK/small/filler" bs=1k count=$((avail - $(du -k "$page" | cut -f1) - 200)) \
    status=none 2>/dev/null
out=$("$SOHOA" press -c "$CONF" "$page" 2>&1)
code=$?
if [ "$code" = 1 ] && grep -qiE "space|MB free" <<<"$out"; then pass disk-full-clear-error; else
    fail disk-full-clear-error "exit $code: $out"; fi
echo "  (the press said: $(tr '\n' ' ' <<<"$out"))"
kill -0 "$DAEMON_PID" 2>/dev/null && pass disk-full-daemon-alive || fail disk-full-daemon-alive "it died"

# free the space: the document that was waiting completes, and a new
# press works
rm -f "$WORK/small/filler"
out=$("$SOHOA" press -c "$CONF" "$WORK"/docs/doc002/page-1.png 2>&1)
grep -qE "queued|sent" <<<"$out" && pass disk-recovered || fail disk-recovered "$out"
sleep 5
n=$(receiver_stats | jq '.documents | length')
held=$(station_status |
    awk -F': ' '/^documents_(scanned|processed|registered|signed|queued):/ {s += $2} END {print s + 0}')
if [ "$n" -ge 3 ] && [ "${held:-0}" = 0 ]; then pass disk-nothing-stuck; else
    fail disk-nothing-stuck "$n received, $held still pending"; fi
ic=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma integrity_check").fetchone()[0])' "$DATA/register.db")
[ "$ic" = ok ] && pass disk-register-intact || fail disk-register-intact "$ic"
