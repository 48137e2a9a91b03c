#!/usr/bin/env bash
# The station's main job end to end on embedded defaults: the station
# service (`sohoa daemon`) with the virtual scanner (the project's own SANE
# backend, an ADF with duplex serving generated page images through real
# libsane), the software token (SoftHSM2 holding a key from a test CA) and a
# local receiver standing in for the central document system (HTTPS on
# loopback). Two letters are loaded into the feeder in turn (one Hỏa tốc,
# one marked Mật; one page fed upside down) and the button is pressed for
# each. The urgent one is read,
# registered, signed, packaged as edXML and uploaded; the classified one is
# held at the station. Then the register is exported and what arrived is
# checked.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=${DEMO_OUT:-out/demo}
rm -rf "$out"
mkdir -p "$out"
PKI=$PWD/$BUILD/pki
echo "== paper for the virtual scanner (generated letters) in $out/scans"
"$BUILD/fixturegen" -o "$out/scans/letter" --seed 2027 --count 1 --pages 2 --upside-down --color \
    --format pnm --layout state --urgency hoa-toc --secrecy none --no-handwritten --quiet
"$BUILD/fixturegen" -o "$out/scans/secret" --seed 7 --count 1 --pages 1 --format pnm \
    --layout state --secrecy mat --clean --no-handwritten --no-stamp --quiet
ls "$out"/scans/*/doc000/
# the virtual scanner: libsane loads our backend from LD_LIBRARY_PATH and
# reads its configuration from SANE_CONFIG_DIR
export SANE_CONFIG_DIR=$PWD/$out/sane LD_LIBRARY_PATH=$PWD/$BUILD/sane
mkdir -p "$SANE_CONFIG_DIR" "$out/feeder"
echo sohoa > "$SANE_CONFIG_DIR/dll.conf"
dpi=$(jq -r .scan.dpi "$out/scans/letter/doc000/truth.json")
printf 'device virtual0 "Sohoa Virtual ADF"\npages %s\npage_dpi %s\n' "$PWD/$out/feeder" "$dpi" \
    > "$SANE_CONFIG_DIR/sohoa.conf"
load_feeder() { rm -f "$out"/feeder/*; cp "$1"/page-*.pnm "$out/feeder/"; }
echo "== software token (SoftHSM2, test CA) and TLS certificates in $BUILD/pki"
bash tests/pki/make-pki.sh "$PKI" >/dev/null
export SOFTHSM2_CONF=$PKI/softhsm2.conf

echo "== local receiver (https://localhost, stores in $out/receiver)"
mkdir -p "$out/receiver"
python3 tests/receiver/receiver.py --host 127.0.0.1 --port 0 --port-file "$out/receiver/port" \
    --store "$out/receiver" --tls "$PKI/server-chain.pem" "$PKI/server.key" &
recv_pid=$!
daemon_pid=
cleanup() {
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    kill "$recv_pid" 2>/dev/null && wait "$recv_pid" 2>/dev/null
    true
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$out/receiver/port" ] && break; sleep 0.1; done
port=$(cat "$out/receiver/port")

cat > "$out/sohoa.conf" <<EOF2
[station]
organ_id = 000.00.15.H47
organ_name = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam
data_dir = $PWD/$out/data
min_free_mb = 10

$(cat "$PKI/token-pkcs11.conf")

[signature]
organization = Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam
trust_file = $PKI/ca.pem

[upload]
url = https://localhost:$port/edxml
ca_file = $PKI/ca-bundle.pem

[guard]
unreviewed = send

[scanner]
device = sohoa:virtual0
source = adf
resolution = $dpi
EOF2
echo "== sohoa daemon (log in $out/daemon.log)"
"$BUILD/sohoa" daemon -c "$out/sohoa.conf" >"$out/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do grep -q "ready" "$out/daemon.log" && break; sleep 0.1; done

echo "== the Hỏa tốc letter in the feeder; button"
load_feeder "$out/scans/letter/doc000"
"$BUILD/sohoa" press -c "$out/sohoa.conf"
echo "== the letter marked Mật in the feeder; button"
load_feeder "$out/scans/secret/doc000"
"$BUILD/sohoa" press -c "$out/sohoa.conf" || true
for _ in $(seq 100); do [ -s "$out/receiver/received.jsonl" ] && break; sleep 0.1; done
echo "== what the receiver got"
jq -c '{document_id, priority, bytes, pdf_sha256}' "$out/receiver/received.jsonl"
env=$(ls "$out"/receiver/*.xml | head -1)
xmllint --noout --schema firmware/edxml.xsd "$env"
python3 - "$env" "$out/received.pdf" <<'PY'
import base64, sys, xml.etree.ElementTree as ET
ns = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
t = ET.parse(sys.argv[1])
open(sys.argv[2], "wb").write(base64.b64decode(t.find(f".//{ns}ContentTransferEncoded").text))
for tag in ("DocumentId", "CodeNumber", "CodeNotation", "PromulgationDate", "TypeName",
            "Subject", "FullName", "Priority", "PageAmount"):
    e = t.find(f".//{ns}{tag}")
    print(f"  {tag}: {e.text if e is not None else ''}")
PY
echo "== sohoa verify (the PDF as received)"
"$BUILD/sohoa" verify -c "$out/sohoa.conf" "$out/received.pdf"
echo "== pdfsig"
pdfsig "$out/received.pdf" | sed -n '2,9p'
echo "== the incoming register"
"$BUILD/sohoa" register -c "$out/sohoa.conf" export --csv - | cut -c1-150
"$BUILD/sohoa" register -c "$out/sohoa.conf" export --pdf "$out/register.pdf"
echo "(printable: $out/register.pdf)"
