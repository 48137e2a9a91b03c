# Signing end to end: `sohoa process --sign`, `sohoa sign`, `sohoa verify`
# with a real PKCS#11 module (SoftHSM2), the PKCS#12 backend, and a TSA on
# loopback; each output checked by pdfsig, qpdf, openssl cms and pdftotext.
. tests/integration/lib.sh

# The test PKI is cached in the build directory (it takes ~10 s to make).
PKI=$PWD/$BUILD/pki
bash tests/pki/make-pki.sh "$PKI" >/dev/null 2>&1 || { fail pki "make-pki.sh failed"; exit 0; }
export SOFTHSM2_CONF=$PKI/softhsm2.conf
ORG="Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam"

# conf NAME KEY_LABEL [extra [signature] lines...]: a configuration file.
conf() {
    local name=$1 label=$2; shift 2
    {
        printf '[token]\nbackend = pkcs11\nmodule = /usr/lib/softhsm/libsofthsm2.so\n'
        printf 'token_label = ORG\nkey_label = %s\npin_file = %s/pin\n\n' "$label" "$PKI"
        printf '[signature]\norganization = %s\ntrust_file = %s/ca.pem\n' "$ORG" "$PKI"
        for l in "$@"; do printf '%s\n' "$l"; done
    } > "$WORK/$name.conf"
    echo "$WORK/$name.conf"
}

# pdfsig_ok NAME FILE N: pdfsig reports N signatures, all "Signature is
# Valid.", the last "Total document signed" (pdfsig exits 0 even when a
# signature is broken, so its output is what counts).
pdfsig_ok() {
    local name=$1 file=$2 n=$3 out
    out=$(pdfsig "$file" 2>&1)
    local valid total
    valid=$(grep -c "Signature Validation: Signature is Valid." <<<"$out")
    total=$(grep -c "Total document signed" <<<"$out")
    if [ "$valid" -eq "$n" ] && [ "$total" -eq 1 ] && grep -q "ETSI.CAdES.detached" <<<"$out"; then
        pass "$name"
    else
        fail "$name" "pdfsig: $valid valid of $n, $total total: $(tr '\n' ' ' <<<"$out" | head -c 600)"
    fi
}

# cms_ok NAME FILE: the last signature's CMS, extracted by hand, verifies
# with openssl over the byte ranges, has no signingTime and has
# signing-certificate-v2.
cms_ok() {
    local name=$1 file=$2
    python3 - "$file" "$WORK/sig.der" "$WORK/signed.bin" <<'PY' || { fail "$name" "cannot extract the CMS"; return; }
import re, sys
data = open(sys.argv[1], "rb").read()
a, b, c, d = map(int, re.findall(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)[-1])
assert a == 0 and c + d == len(data), "byte range does not cover the file"
hexs = data[b:c]
assert hexs[:1] == b"<" and hexs[-1:] == b">", "hole is not the /Contents string"
der = bytes.fromhex(hexs[1:-1].decode())
assert der[0] == 0x30 and der[1] == 0x82
der = der[:4 + (der[2] << 8 | der[3])]
open(sys.argv[2], "wb").write(der)
open(sys.argv[3], "wb").write(data[:b] + data[c:c + d])
PY
    local v attrs
    v=$(openssl cms -verify -binary -inform DER -in "$WORK/sig.der" -content "$WORK/signed.bin" \
        -CAfile "$PKI/ca.pem" -certfile "$PKI/chain.pem" -purpose any -out /dev/null 2>&1)
    attrs=$(openssl cms -cmsout -print -inform DER -in "$WORK/sig.der" 2>&1)
    if ! grep -q "Verification successful" <<<"$v"; then
        fail "$name" "openssl cms -verify: $v"
    elif grep -q "signingTime" <<<"$attrs"; then
        fail "$name" "signingTime attribute present"
    elif ! grep -q "id-smime-aa-signingCertificateV2" <<<"$attrs"; then
        fail "$name" "no signing-certificate-v2 attribute"
    else
        pass "$name"
    fi
}

"$FIXTUREGEN" -o "$WORK/fx" --seed 21 --count 1 --pages 2 --format png --clean >/dev/null
pages=$(ls "$WORK"/fx/doc000/*.png)

# 1. process --sign, RSA PKCS#1 v1.5, SHA-256
c=$(conf rsa sign)
"$SOHOA" process -q -c "$c" --sign -o "$WORK/out" $pages > "$WORK/stdout" 2> "$WORK/stderr"
if [ $? -eq 0 ] && [ -f "$WORK/out/document.pdf" ] && [ -f "$WORK/out/metadata.json" ]; then
    pass "process --sign"
else
    fail "process --sign" "$(head -c 400 "$WORK/stderr")"
fi
ls -A "$WORK/out" | grep -q '^\.sohoa-stage' && fail "no staging left" "staging directory left" || pass "no staging left"
pdfsig_ok "pdfsig valid (process --sign)" "$WORK/out/document.pdf" 1
cms_ok "openssl cms verify (process --sign)" "$WORK/out/document.pdf"
check "qpdf --check (process --sign)" qpdf --check "$WORK/out/document.pdf"
expect_exit 0 "sohoa verify" "$SOHOA" verify -c "$c" "$WORK/out/document.pdf"
txt=$(pdftotext -f 1 -l 1 "$WORK/out/document.pdf" - 2>/dev/null)
if grep -qF "Ký bởi: $ORG" <<<"$txt" &&
   grep -qE "Thời gian ký: [0-3][0-9]/[01][0-9]/20[0-9]{2} [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \+07:00" <<<"$txt"; then
    pass "visible signature text reads back"
else
    fail "visible signature text reads back" "$(head -c 300 <<<"$txt")"
fi
# top right of page 1: the widget's text is in the right half, top fifth
python3 - "$WORK/out/document.pdf" <<'PY' && pass "visible signature top right" || fail "visible signature top right" "misplaced"
import re, subprocess, sys
html = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-bbox", sys.argv[1], "-"],
                      capture_output=True, text=True).stdout
pw, ph = map(float, re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html).groups())
words = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', html)
sig = [w for w in words if w[4] in ("Ký", "bởi:")]
assert sig, "no signature words"
x0, y0 = float(sig[0][0]), float(sig[0][1])
assert x0 > pw * 0.4 and y0 < ph * 0.2, (x0, y0, pw, ph)
PY

# 2. sign an already signed PDF: two signatures, the first still valid
expect_exit 0 "sign a signed PDF" "$SOHOA" sign -c "$(conf ec sign-ec)" "$WORK/out/document.pdf" "$WORK/twice.pdf"
pdfsig_ok "pdfsig: both signatures valid" "$WORK/twice.pdf" 2
cmp -s "$WORK/out/document.pdf" <(head -c "$(stat -c %s "$WORK/out/document.pdf")" "$WORK/twice.pdf") \
    && pass "incremental update keeps the original bytes" || fail "incremental update keeps the original bytes" "prefix differs"
cms_ok "openssl cms verify (ECDSA P-256)" "$WORK/twice.pdf"
expect_exit 0 "sohoa verify (two signatures)" "$SOHOA" verify -c "$c" "$WORK/twice.pdf"
n=$("$SOHOA" verify -c "$c" "$WORK/twice.pdf" 2>/dev/null | grep -c VALID)
[ "$n" -eq 2 ] && pass "verify prints one line per signature" || fail "verify prints one line per signature" "$n lines"

# 3. SHA-384 with RSA-PSS, P-384, and the PKCS#12 backend
expect_exit 0 "sign RSA-PSS SHA-384" "$SOHOA" sign -c "$(conf pss sign 'hash = sha384' 'rsa_padding = pss')" "$WORK/out/document.pdf" "$WORK/pss.pdf"
pdfsig_ok "pdfsig valid (RSA-PSS SHA-384)" "$WORK/pss.pdf" 2
cms_ok "openssl cms verify (RSA-PSS)" "$WORK/pss.pdf"
expect_exit 0 "sign ECDSA P-384 SHA-512" "$SOHOA" sign -c "$(conf ec384 sign-ec384 'hash = sha512')" "$WORK/out/document.pdf" "$WORK/ec384.pdf"
cms_ok "openssl cms verify (ECDSA P-384)" "$WORK/ec384.pdf"
printf '[token]\nbackend = file\nkey_file = %s/sign.p12\npin_file = %s/pin\n[signature]\norganization = %s\n' \
    "$PKI" "$PKI" "$ORG" > "$WORK/file.conf"
expect_exit 0 "sign with the PKCS#12 backend" "$SOHOA" sign -c "$WORK/file.conf" "$WORK/out/document.pdf" "$WORK/p12.pdf"
pdfsig_ok "pdfsig valid (PKCS#12)" "$WORK/p12.pdf" 2

# 4. failures: nothing written, clear message, exit 1 (work) or 2 (input)
printf '000000\n' > "$WORK/badpin"; chmod 600 "$WORK/badpin"
sed "s|pin_file = .*|pin_file = $WORK/badpin|" "$c" > "$WORK/badpin.conf"
"$SOHOA" sign -c "$WORK/badpin.conf" "$WORK/out/document.pdf" "$WORK/x.pdf" 2> "$WORK/stderr"
rc=$?
if [ $rc -eq 1 ] && grep -qi "pin" "$WORK/stderr" && ! grep -q 000000 "$WORK/stderr" && [ ! -e "$WORK/x.pdf" ]; then
    pass "wrong PIN: exit 1, no output, PIN not shown"
else
    fail "wrong PIN: exit 1, no output, PIN not shown" "rc=$rc $(head -c 300 "$WORK/stderr")"
fi
"$SOHOA" process -q -c "$WORK/badpin.conf" --sign -o "$WORK/out-badpin" $pages 2> "$WORK/stderr"
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$WORK/out-badpin/document.pdf" ] && [ ! -e "$WORK/out-badpin/metadata.json" ]; then
    pass "process --sign, wrong PIN: nothing published"
else
    fail "process --sign, wrong PIN: nothing published" "rc=$rc $(ls -A "$WORK/out-badpin" 2>&1)"
fi
sed 's/token_label = ORG/token_label = NOSUCH/' "$c" > "$WORK/notoken.conf"
"$SOHOA" sign -c "$WORK/notoken.conf" "$WORK/out/document.pdf" "$WORK/x.pdf" 2> "$WORK/stderr"
rc=$?
[ $rc -eq 1 ] && grep -q NOSUCH "$WORK/stderr" && [ ! -e "$WORK/x.pdf" ] \
    && pass "missing token: exit 1, named" || fail "missing token: exit 1, named" "rc=$rc $(head -c 300 "$WORK/stderr")"
"$SOHOA" sign -c "$(conf expired expired)" "$WORK/out/document.pdf" "$WORK/x.pdf" 2> "$WORK/stderr"
rc=$?
[ $rc -eq 1 ] && grep -qi "expired" "$WORK/stderr" && [ ! -e "$WORK/x.pdf" ] \
    && pass "expired certificate refused" || fail "expired certificate refused" "rc=$rc $(head -c 300 "$WORK/stderr")"
cp "$PKI/pin" "$WORK/openpin"; chmod 644 "$WORK/openpin"
sed "s|pin_file = .*|pin_file = $WORK/openpin|" "$c" > "$WORK/openpin.conf"
"$SOHOA" sign -c "$WORK/openpin.conf" "$WORK/out/document.pdf" "$WORK/x.pdf" 2> "$WORK/stderr"
rc=$?
[ $rc -ne 0 ] && grep -q "openpin" "$WORK/stderr" && [ ! -e "$WORK/x.pdf" ] \
    && pass "PIN file readable by others refused" || fail "PIN file readable by others refused" "rc=$rc $(head -c 300 "$WORK/stderr")"
echo "not a pdf" > "$WORK/notpdf.pdf"
expect_exit 2 "sign: not a PDF" "$SOHOA" sign -c "$c" "$WORK/notpdf.pdf" "$WORK/x.pdf"

# 5. verify: tampered, untrusted, unsigned
cp "$WORK/out/document.pdf" "$WORK/tampered.pdf"
python3 - "$WORK/tampered.pdf" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read())
i = d.find(b"/Producer")
d[i + 1] ^= 0x20  # inside the signed range
open(p, "wb").write(bytes(d))
PY
expect_exit 1 "verify: tampered file invalid" "$SOHOA" verify -c "$c" "$WORK/tampered.pdf"
printf '[signature]\ntrust_file = %s/tsa.pem\n' "$PKI" > "$WORK/othertrust.conf"
expect_exit 1 "verify: untrusted anchor" "$SOHOA" verify -c "$WORK/othertrust.conf" "$WORK/out/document.pdf"
"$SOHOA" process -q -o "$WORK/unsigned" $pages >/dev/null 2>&1
expect_exit 1 "verify: unsigned file" "$SOHOA" verify -c "$c" "$WORK/unsigned/document.pdf"

# 6. B-T: a timestamp from a TSA on loopback; TSA down → wait or B-B
python3 tests/pki/tsa-server.py "$PKI" "$WORK/tsa.port" & tsa_pid=$!
for _ in $(seq 50); do [ -s "$WORK/tsa.port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$WORK/tsa.port")/tsa"
expect_exit 0 "sign B-T" "$SOHOA" sign -c "$(conf bt sign "tsa_url = $url")" "$WORK/unsigned/document.pdf" "$WORK/bt.pdf"
pdfsig_ok "pdfsig valid (B-T)" "$WORK/bt.pdf" 1
"$SOHOA" verify -c "$c" "$WORK/bt.pdf" > "$WORK/stdout" 2>&1
grep -q "(timestamp): VALID" "$WORK/stdout" && pass "verify: timestamp recognised" || fail "verify: timestamp recognised" "$(cat "$WORK/stdout")"
kill "$tsa_pid" 2>/dev/null; wait "$tsa_pid" 2>/dev/null
"$SOHOA" sign -c "$(conf btdown sign "tsa_url = $url")" "$WORK/unsigned/document.pdf" "$WORK/x.pdf" 2> "$WORK/stderr"
rc=$?
[ $rc -eq 1 ] && grep -qi "retry\|wait" "$WORK/stderr" && [ ! -e "$WORK/x.pdf" ] \
    && pass "TSA down: document waits" || fail "TSA down: document waits" "rc=$rc $(head -c 300 "$WORK/stderr")"
"$SOHOA" sign -c "$(conf btbb sign "tsa_url = $url" 'tsa_fallback = bb')" "$WORK/unsigned/document.pdf" "$WORK/bb.pdf" > "$WORK/stdout" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "B-B" "$WORK/stdout" && grep -qi "no timestamp" "$WORK/stdout" \
    && pass "TSA down, fallback B-B said" || fail "TSA down, fallback B-B said" "rc=$rc $(head -c 300 "$WORK/stdout")"
