# The station end to end: `sohoa daemon` + `sohoa press` with the software
# token (SoftHSM2) and the reference receiver on loopback HTTPS. Checks what
# arrives (edXML valid against our XSD, the signed PDF verified by pdfsig and
# `sohoa verify`), the guard (classified, duplicate), idempotent presses,
# priority order after an outage, a server rejection, and bad starts
# (read-only data directory, second daemon, bad config).
. tests/integration/lib.sh
. tests/integration/station_lib.sh

station_pki || { fail pki "make-pki.sh failed"; exit 0; }
GEN="$FIXTUREGEN --pages 1 --dpi 200 --format png --clean --no-handwritten --no-stamp --quiet"
$GEN -o "$WORK/plain" --seed 11 --count 4 --layout state --urgency none --secrecy none
$GEN -o "$WORK/urgent" --seed 12 --count 1 --layout state --urgency hoa-toc --secrecy none
$GEN -o "$WORK/secret" --seed 13 --count 1 --urgency none --secrecy mat

receiver_start "$WORK/recv" || { fail receiver "did not start: $(cat "$WORK/recv/receiver.log")"; exit 0; }
DATA=$WORK/data
CONF=$WORK/sohoa.conf
station_conf "$CONF" "$DATA" '[guard]' 'unreviewed = send'
LOG=$WORK/daemon.log
trap 'daemon_stop; receiver_stop' EXIT
daemon_start "$CONF" "$LOG" || { fail daemon-start "$(tail -5 "$LOG")"; exit 0; }
pass daemon-start

# 1. a press with pages → queued → received, signed, valid edXML
out=$("$SOHOA" press -c "$CONF" "$WORK"/plain/doc000/page-1.png 2>&1)
if grep -qE "(queued|sent): số đến 1/" <<<"$out"; then pass press-queued; else fail press-queued "$out"; fi
if wait_received 1 30; then pass received; else fail received "$(receiver_stats)"; fi
truth=$(jq -r '"000.00.15.H47," + (.date | gsub("-"; "/")) + "," + .number_notation' \
    "$WORK/plain/doc000/truth.json")
got=$(receiver_stats | jq -r '.documents[0].document_id')
if [ "$got" = "$truth" ]; then pass document-id; else fail document-id "$got vs $truth"; fi
env=$(ls "$WORK"/recv/*.xml | head -1)
check edxml-xsd xmllint --noout --schema firmware/edxml.xsd "$env"
python3 - "$env" "$WORK/received.pdf" <<'PY'
import base64, sys, xml.etree.ElementTree as ET
ns = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
t = ET.parse(sys.argv[1])
enc = t.find(f".//{ns}ContentTransferEncoded")
open(sys.argv[2], "wb").write(base64.b64decode(enc.text))
PY
pdfsig_out=$(pdfsig "$WORK/received.pdf" 2>&1)
if grep -q "Signature Validation: Signature is Valid." <<<"$pdfsig_out" &&
   grep -q "Total document signed" <<<"$pdfsig_out"; then pass pdfsig; else
    fail pdfsig "$(head -c 400 <<<"$pdfsig_out")"; fi
expect_exit 0 sohoa-verify "$SOHOA" verify -c "$CONF" "$WORK/received.pdf"
sha=$(sha256sum "$WORK/received.pdf" | cut -d' ' -f1)
if [ "$(receiver_stats | jq -r '.documents[0].pdf_sha256')" = "$sha" ]; then pass pdf-sha; else
    fail pdf-sha "receiver's sha differs from the PDF's"; fi
signed=$(ls "$DATA"/docs/*/signed.pdf | head -1)
if cmp -s "$signed" "$WORK/received.pdf"; then pass stored-equals-sent; else
    fail stored-equals-sent "the register's PDF differs from what was sent"; fi

# 2. the same paper again: held as a duplicate, never sent
out=$("$SOHOA" press -c "$CONF" "$WORK"/plain/doc000/page-1.png 2>&1)
if grep -q "held for the clerk: .*trùng" <<<"$out"; then pass duplicate-held; else
    fail duplicate-held "$out"; fi

# 3. classified: held, never packaged
out=$("$SOHOA" press -c "$CONF" "$WORK"/secret/doc000/page-1.png 2>&1)
if grep -q "held for the clerk: .*mật" <<<"$out"; then pass classified-held; else
    fail classified-held "$out"; fi
if ! ls "$DATA"/docs/*/envelope.xml | xargs grep -l "$(jq -r .number_notation "$WORK/secret/doc000/truth.json")" >/dev/null 2>&1
then pass classified-not-packaged; else fail classified-not-packaged "an envelope exists"; fi

# 4. idempotent press: the same key gives the same document
a=$("$SOHOA" press -c "$CONF" --no-wait --key press-A "$WORK"/plain/doc001/page-1.png 2>&1)
b=$("$SOHOA" press -c "$CONF" --no-wait --key press-A "$WORK"/plain/doc001/page-1.png 2>&1)
ida=$(sed -n 's/^document \([0-9]*\) taken in.*/\1/p' <<<"$a")
idb=$(sed -n 's/^document \([0-9]*\) taken in.*/\1/p' <<<"$b")
if [ -n "$ida" ] && [ "$ida" = "$idb" ] && grep -q already <<<"$b"; then pass press-key; else
    fail press-key "$a / $b"; fi
wait_received 2 60 || fail received-2 "$(receiver_stats)"

# 5. outage: ordinary then hỏa tốc pressed while the server fails; after it
#    comes back the hỏa tốc document is sent first
receiver_control '{"mode": "error", "status": 503, "count": -1}'
"$SOHOA" press -c "$CONF" -q "$WORK"/plain/doc002/page-1.png >/dev/null 2>&1
"$SOHOA" press -c "$CONF" -q "$WORK"/urgent/doc000/page-1.png >/dev/null 2>&1
sleep 3
st=$(station_status)
if grep -q "last_upload_error: .*503" <<<"$st"; then pass status-shows-error; else
    fail status-shows-error "$st"; fi
daemon_stop   # both are due when the daemon comes back: priority decides
receiver_control '{"mode": "ok"}'
sleep 2.5
daemon_start "$CONF" "$LOG" || fail daemon-restart "$(tail -3 "$LOG")"
wait_received 4 60 || fail received-4 "$(receiver_stats)"
order=$(receiver_stats | jq -r '.documents[2:4] | map(.priority) | join(",")')
if [ "$order" = "3,0" ]; then pass priority-order; else fail priority-order "priorities $order"; fi

# 6. the server refuses a document for good (422): held with its reason
receiver_control '{"mode": "reject", "count": 1}'
"$SOHOA" press -c "$CONF" -q --key rejected "$WORK"/plain/doc003/page-1.png >/dev/null 2>&1
for _ in $(seq 50); do
    row=$(db "SELECT state, note FROM documents WHERE dir LIKE '%/k-rejected'")
    [ "${row%%|*}" = 2 ] && break; sleep 0.2
done
if [ "${row%%|*}" = 2 ] && grep -q "test receiver" <<<"$row"; then pass rejected-held; else
    fail rejected-held "register row: $row"; fi

# every document arrived once
n=$(receiver_stats | jq '.documents | map(.document_id) | length')
u=$(receiver_stats | jq '.documents | map(.document_id) | unique | length')
if [ "$n" = "$u" ]; then pass exactly-once; else fail exactly-once "$n stored, $u distinct"; fi

# 7. bad starts
expect_exit 1 second-daemon "$SOHOA" daemon -c "$CONF"
daemon_stop
ro=$WORK/ro; mkdir -p "$ro"; chmod 0555 "$ro"
station_conf "$WORK/ro.conf" "$ro/data"
if [ "$(id -u)" != 0 ]; then expect_exit 1 read-only-data "$SOHOA" daemon -c "$WORK/ro.conf"; fi
station_conf "$WORK/ro2.conf" /proc/sohoa-data
expect_exit 2 unwritable-data "$SOHOA" daemon -c "$WORK/ro2.conf"
station_conf "$WORK/bad.conf" "$DATA" '[guard]' 'unreviewed = maybe'
expect_exit 2 bad-config "$SOHOA" daemon -c "$WORK/bad.conf"
expect_exit 1 press-no-daemon "$SOHOA" press -c "$CONF" "$WORK"/plain/doc000/page-1.png
