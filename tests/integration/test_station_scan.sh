# The station with a scanner: `sohoa daemon` acquiring through real libsane
# from the project's virtual ADF backend (drivers/sane_virtual.c, loaded by
# libsane's dll backend): a press without pages scans; the scanner's `scan`
# button starts a job (once per press, not while held); a jam, an empty
# feeder and a missing scanner are reported and nothing is registered; the
# pages read before a jam are kept for diagnosis; `sohoa scan` works too.
. tests/integration/lib.sh
. tests/integration/station_lib.sh

station_pki || { fail pki "make-pki.sh failed"; exit 0; }
GEN="$FIXTUREGEN --dpi 200 --format pnm --layout state --clean --no-handwritten --no-stamp --secrecy none --quiet"
$GEN -o "$WORK/a" --seed 41 --count 1 --pages 2 --urgency none
$GEN -o "$WORK/b" --seed 42 --count 1 --pages 1 --urgency khan
mkdir -p "$WORK/empty"
# the feeder: the page images of one letter at a time
load_feed() { rm -rf "$WORK/feed"; mkdir -p "$WORK/feed"; [ -z "${1:-}" ] || cp "$WORK/$1"/doc000/page-*.pnm "$WORK/feed/"; }

# the virtual scanner's configuration; re-read by the backend at each open
export SANE_CONFIG_DIR=$WORK/sane LD_LIBRARY_PATH=$PWD/$BUILD/sane
mkdir -p "$SANE_CONFIG_DIR"
echo sohoa > "$SANE_CONFIG_DIR/dll.conf"
scanner_conf() { # [extra line]; the backend reads the feeder's lines at each batch
    printf 'device virtual0 "Sohoa Virtual ADF"\npages %s\npage_dpi 200\nbutton_file %s\n%s\n' \
        "$WORK/feed" "$WORK/button" "${1:-}" > "$SANE_CONFIG_DIR/sohoa.conf"
}
scanner_conf
load_feed a

receiver_start "$WORK/recv" || { fail receiver "did not start"; exit 0; }
DATA=$WORK/data
CONF=$WORK/sohoa.conf
station_conf "$CONF" "$DATA" '[guard]' 'unreviewed = send' \
    '[scanner]' 'device = sohoa:virtual0' 'resolution = 200' 'source = adf'
LOG=$WORK/daemon.log
trap 'daemon_stop; receiver_stop' EXIT
daemon_start "$CONF" "$LOG" || { fail daemon-start "$(tail -3 "$LOG")"; exit 0; }

out=$("$SOHOA" press -c "$CONF" 2>&1)
if grep -qE "(queued|sent): số đến 1/" <<<"$out"; then pass scan-press; else fail scan-press "$out"; fi
wait_received 1 30 || fail scan-received "$(receiver_stats)"
pages=$(pdfinfo "$(ls "$DATA"/docs/*/signed.pdf | head -1)" 2>/dev/null | awk '/^Pages:/ {print $2}')
[ "$pages" = 2 ] && pass scan-two-pages || fail scan-two-pages "pages: $pages"
size=$(pdfinfo "$(ls "$DATA"/docs/*/signed.pdf | head -1)" | awk '/^Page size:/ {print $3 "x" $5}')
case $size in 59[0-9]*x84[0-9]*) pass scan-a4-size ;; *) fail scan-a4-size "page size $size pt" ;; esac

# the scanner's button: one job per press, none while held
load_feed b
touch "$WORK/button"
wait_received 2 60 && pass scan-button || fail scan-button "$(tail -5 "$LOG")"
sleep 1.5   # still held: no second job
rm -f "$WORK/button"
n=$(grep -c "scanner button" "$LOG")
[ "$n" = 1 ] && pass scan-button-once || fail scan-button-once "$n jobs started"

# a jam on the second sheet: error, nothing registered, page 1 kept
load_feed a
scanner_conf "fail_at 2 jammed"
before=$(db "SELECT count(*) FROM documents")
out=$("$SOHOA" press -c "$CONF" 2>&1); code=$?
if [ "$code" = 1 ] && grep -qiE "jam|kẹt" <<<"$out"; then pass scan-jam-error; else
    fail scan-jam-error "exit $code: $out"; fi
[ "$(db "SELECT count(*) FROM documents")" = "$before" ] && pass scan-jam-not-registered ||
    fail scan-jam-not-registered "a document was registered"
kept=$(ls "$DATA"/failed-scans/*/pages/* 2>/dev/null | wc -l)
[ "$kept" = 1 ] && pass scan-jam-pages-kept || fail scan-jam-pages-kept "$kept page(s) kept"
st=$(station_status)
grep -qi "last_scan_problem: .*\(jam\|kẹt\)" <<<"$st" && grep -q "^panel: error-jam" <<<"$st" &&
    pass scan-jam-status || fail scan-jam-status "$(head -12 <<<"$st")"

# an empty feeder
scanner_conf
load_feed
out=$("$SOHOA" press -c "$CONF" 2>&1); code=$?
if [ "$code" = 1 ] && grep -qiE "paper|giấy" <<<"$out"; then pass scan-no-paper; else
    fail scan-no-paper "exit $code: $out"; fi

# the scanner unplugged as the batch starts
load_feed a
scanner_conf "fail_at 1 unplugged"
out=$("$SOHOA" press -c "$CONF" 2>&1); code=$?
if [ "$code" = 1 ] && grep -qiE "unplug|connect|kết nối|cáp" <<<"$out"; then pass scan-unplugged; else
    fail scan-unplugged "exit $code: $out"; fi
[ "$(db "SELECT count(*) FROM documents")" = "$before" ] && pass scan-failures-not-registered ||
    fail scan-failures-not-registered "a document was registered"
daemon_stop

# sohoa scan, standalone
scanner_conf
load_feed b
expect_exit 0 sohoa-scan "$SOHOA" scan -c "$CONF" -o "$WORK/scan-out"
[ -s "$WORK/scan-out/document.pdf" ] && [ -s "$WORK/scan-out/metadata.json" ] &&
    pass sohoa-scan-output || fail sohoa-scan-output "$(ls "$WORK/scan-out")"
