#!/usr/bin/env bash
# make-pki.sh DIR — the test PKI: CAs, signing certificates, a TSA, PKCS#12
# files and a SoftHSM2 token, for the signing, verification, TSA,
# integration and demo tests.
#
# Idempotent: a complete DIR (DIR/.stamp matches this script's version) is
# left as it is; an incomplete one is rebuilt. Concurrent runs on the same
# DIR are serialized with flock. Takes a few seconds.
#
# Outputs (all paths under DIR, which is made absolute; certificates PEM,
# keys unencrypted PKCS#8 PEM, *.der = the certificate in DER):
#
#   ca.pem  ca.key          root CA "Sohoa Test Root CA" (RSA-2048, self-signed)
#   inter.pem inter.key     intermediate CA "Sohoa Test Issuing CA", issued by the root;
#                           issues every certificate below
#   chain.pem               inter.pem + ca.pem (what a verifier needs besides a leaf)
#
#   Signing certificates; the base name is also the key label on the token.
#   Subject: C=VN, ST=Quảng Nam, L=Tam Kỳ, O=Ủy ban nhân dân tỉnh Quảng Nam,
#   CN=Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam (UTF8String);
#   keyUsage critical digitalSignature,nonRepudiation.
#     sign.*          RSA-2048     valid 2024-01-01 .. 2049-12-31
#     sign-ec.*       EC P-256     valid 2024-01-01 .. 2049-12-31
#     sign-ec384.*    EC P-384     valid 2024-01-01 .. 2049-12-31
#     expired.*       RSA-2048     valid 2020-01-01 .. 2021-01-01 (expired)
#     future.*        RSA-2048     valid 2040-01-01 .. 2045-01-01 (not yet valid)
#     weak.*          RSA-1024     valid 2024-01-01 .. 2049-12-31 (too weak: refused)
#   each as NAME.pem, NAME.der, NAME.key and NAME.p12 (PKCS#12 with the key,
#   the certificate and chain.pem; password = the user PIN 123456;
#   friendlyName NAME).
#
#   tsa.pem tsa.key         TSA certificate (RSA-2048, extendedKeyUsage critical
#                           timeStamping), issued by the intermediate
#   tsa-chain.pem           inter.pem + ca.pem, included in the replies
#   tsa.cnf                 `openssl ts -reply -config DIR/tsa.cnf -queryfile Q -out R`
#                           (SHA-256 signer digest; accepts sha256/384/512;
#                           policy 1.3.6.1.4.1.55555.1.1; serial in DIR/tsa-serial)
#
#   TLS, for the upload tests and the reference receiver (tests/receiver/receiver.py);
#   EC P-256, valid 2024-01-01 .. 2049-12-31, issued by the intermediate:
#   server.pem server.key   CN=localhost, subjectAltName DNS:localhost, DNS:receiver.test,
#                           IP:127.0.0.1, IP:::1 (receiver.test: the host's receiver as
#                           the QEMU guest of `make image-test` reaches it);
#                           extendedKeyUsage serverAuth
#   server-chain.pem        server.pem + inter.pem (what a server sends)
#   client.pem client.key   CN=Sohoa Test Station, extendedKeyUsage clientAuth (mTLS)
#   ca-bundle.pem           ca.pem + inter.pem (root + intermediate: a client's ca_file,
#                           a server's client CA)
#   other-ca.pem other-ca.key   "Other Test Root CA", self-signed and unrelated to the above
#                           (a trust anchor that must NOT verify server.pem)
#
#   pin                     "123456\n", mode 0600 (the user PIN; [token] pin_file)
#   softhsm2.conf tokens/   SoftHSM2 store; use with SOFTHSM2_CONF=DIR/softhsm2.conf
#                           token ORG   (user PIN 123456, SO PIN 12345678) holding
#                                       key pairs + certificates labelled sign (id 01),
#                                       sign-ec (02), sign-ec384 (03), expired (04),
#                                       future (05), weak (06); mismatch-ec (07: the
#                                       sign-ec384 key with the sign-ec certificate) and
#                                       mismatch-rsa (08: the future key with the sign
#                                       certificate), both to be refused; sign-aa (09:
#                                       the sign key with CKA_ALWAYS_AUTHENTICATE, no
#                                       public key object, and the sign certificate); the CA
#                                       certificates labelled inter and ca (no key)
#                           token SPARE (same PINs, empty): a second token, so that
#                                       code must really pick by label
#   env                     to source: exports SOFTHSM2_CONF, SOHOA_PKI_DIR,
#                           SOHOA_PKCS11_MODULE, SOHOA_TOKEN_LABEL, SOHOA_PIN_FILE
#   token-pkcs11.conf       [token] section for the SoftHSM token (backend pkcs11)
#   token-file.conf         [token] section for sign.p12 (backend file)
#
# Needs: openssl, softhsm2-util, pkcs11-tool (Debian: openssl softhsm2 opensc).
set -euo pipefail

VERSION="sohoa-pki 6"
MODULE=/usr/lib/softhsm/libsofthsm2.so
PIN=123456
SO_PIN=12345678
SUBJ="/C=VN/ST=Quảng Nam/L=Tam Kỳ/O=Ủy ban nhân dân tỉnh Quảng Nam/CN=Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam"

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
mkdir -p "$1"
DIR=$(cd "$1" && pwd)

for tool in openssl softhsm2-util pkcs11-tool flock; do
    command -v "$tool" >/dev/null || {
        echo "make-pki.sh: $tool not found; run 'make deps'" >&2
        exit 1
    }
done
[ -r "$MODULE" ] || {
    echo "make-pki.sh: $MODULE not found; install softhsm2" >&2
    exit 1
}

exec 9>"$DIR/.lock"
flock 9

# The stamp alone is not trusted: a DIR made by an older script under the
# same version must not pass for complete when files were added since.
if [ -f "$DIR/.stamp" ] && [ "$(cat "$DIR/.stamp")" = "$VERSION" ] &&
    [ -f "$DIR/server.pem" ] && [ -f "$DIR/client.key" ] && [ -f "$DIR/other-ca.pem" ] &&
    [ -f "$DIR/ca-bundle.pem" ]; then
    exit 0
fi

# Incomplete or older: start again from nothing (only what this script makes).
rm -rf "$DIR/.stamp" "$DIR/ca" "$DIR/tokens" "$DIR"/*.pem "$DIR"/*.der "$DIR"/*.key \
    "$DIR"/*.p12 "$DIR"/*.csr "$DIR/tsa.cnf" "$DIR/tsa-serial" "$DIR/pin" \
    "$DIR/softhsm2.conf" "$DIR/env" "$DIR/token-pkcs11.conf" "$DIR/token-file.conf"

umask 077
mkdir -p "$DIR/ca/newcerts" "$DIR/tokens"
: >"$DIR/ca/index.txt"
echo 1000 >"$DIR/ca/serial"

cat >"$DIR/ca/openssl.cnf" <<EOF
[ ca ]
default_ca = test_ca

[ test_ca ]
dir = $DIR/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
preserve = yes
email_in_dn = no

[ policy_any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
prompt = no

[ req_dn ]
CN = unused

[ v3_root ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ v3_inter ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_server ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:receiver.test, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_client ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ v3_tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
export OPENSSL_CONF="$DIR/ca/openssl.cnf"

# genkey NAME rsa:BITS|ec:CURVE — unencrypted PKCS#8 key in NAME.key
genkey() {
    case $2 in
    rsa:*) openssl genpkey -quiet -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$DIR/$1.key" ;;
    ec:*) openssl genpkey -quiet -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" \
        -pkeyopt ec_param_enc:named_curve -out "$DIR/$1.key" ;;
    esac
}

# issue NAME SUBJECT EXT START END [selfsign] — NAME.pem (+ .der) from NAME.key
issue() {
    local name=$1 subj=$2 ext=$3 start=$4 end=$5 signer=()
    openssl req -new -utf8 -key "$DIR/$name.key" -subj "$subj" -out "$DIR/ca/$name.csr"
    if [ "${6:-}" = selfsign ]; then
        signer=(-selfsign -keyfile "$DIR/$name.key" -cert /dev/null)
    else
        signer=(-keyfile "$DIR/inter.key" -cert "$DIR/inter.pem")
    fi
    [ "$name" = inter ] && signer=(-keyfile "$DIR/ca.key" -cert "$DIR/ca.pem")
    openssl ca -batch -notext -utf8 -preserveDN -extensions "$ext" -startdate "$start" \
        -enddate "$end" "${signer[@]}" -in "$DIR/ca/$name.csr" -out "$DIR/$name.pem" 2>/dev/null ||
        {
            echo "make-pki.sh: openssl ca failed for $name" >&2
            exit 1
        }
    openssl x509 -in "$DIR/$name.pem" -outform DER -out "$DIR/$name.der"
}

genkey ca rsa:2048
issue ca "/C=VN/O=Sohoa Test PKI/CN=Sohoa Test Root CA" v3_root 200101000000Z 491231235959Z selfsign
genkey inter rsa:2048
issue inter "/C=VN/O=Sohoa Test PKI/CN=Sohoa Test Issuing CA" v3_inter 200101000000Z \
    491231235959Z
cat "$DIR/inter.pem" "$DIR/ca.pem" >"$DIR/chain.pem"
cp "$DIR/chain.pem" "$DIR/tsa-chain.pem"

# name key-spec start end, in token id order (01, 02, ...)
SIGNERS=(
    "sign rsa:2048 240101000000Z 491231235959Z"
    "sign-ec ec:P-256 240101000000Z 491231235959Z"
    "sign-ec384 ec:P-384 240101000000Z 491231235959Z"
    "expired rsa:2048 200101000000Z 210101000000Z"
    "future rsa:2048 400101000000Z 450101000000Z"
    "weak rsa:1024 240101000000Z 491231235959Z"
)
for spec in "${SIGNERS[@]}"; do
    read -r name keyspec start end <<<"$spec"
    genkey "$name" "$keyspec"
    issue "$name" "$SUBJ" v3_sign "$start" "$end"
    openssl pkcs12 -export -in "$DIR/$name.pem" -inkey "$DIR/$name.key" \
        -certfile "$DIR/chain.pem" -name "$name" -passout "pass:$PIN" -out "$DIR/$name.p12"
done

genkey tsa rsa:2048
issue tsa "/C=VN/O=Sohoa Test PKI/CN=Sohoa Test TSA" v3_tsa 240101000000Z 491231235959Z
cat >"$DIR/tsa.cnf" <<EOF
[ tsa ]
default_tsa = test_tsa

[ test_tsa ]
dir = $DIR
serial = \$dir/tsa-serial
crypto_device = builtin
signer_cert = \$dir/tsa.pem
certs = \$dir/tsa-chain.pem
signer_key = \$dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1.1
other_policies = 1.3.6.1.4.1.55555.1.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
EOF
echo 01 >"$DIR/tsa-serial"

# TLS: made after everything above so that the serial numbers of the
# signing and TSA certificates stay what they were.
genkey server ec:P-256
issue server "/C=VN/O=Sohoa Test PKI/CN=localhost" v3_server 240101000000Z 491231235959Z
cat "$DIR/server.pem" "$DIR/inter.pem" >"$DIR/server-chain.pem"
genkey client ec:P-256
issue client "/C=VN/O=Sohoa Test PKI/CN=Sohoa Test Station" v3_client 240101000000Z \
    491231235959Z
cat "$DIR/ca.pem" "$DIR/inter.pem" >"$DIR/ca-bundle.pem"
genkey other-ca ec:P-256
issue other-ca "/C=VN/O=Other Test PKI/CN=Other Test Root CA" v3_root 200101000000Z \
    491231235959Z selfsign

printf '%s\n' "$PIN" >"$DIR/pin"
chmod 0600 "$DIR/pin"

cat >"$DIR/softhsm2.conf" <<EOF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$DIR/softhsm2.conf"

softhsm2-util --init-token --free --label ORG --so-pin "$SO_PIN" --pin "$PIN" >/dev/null
softhsm2-util --init-token --free --label SPARE --so-pin "$SO_PIN" --pin "$PIN" >/dev/null

p11() {
    pkcs11-tool --module "$MODULE" --token-label ORG --login --pin "$PIN" "$@" >/dev/null
}
id=0
for spec in "${SIGNERS[@]}"; do
    read -r name _ <<<"$spec"
    id=$((id + 1))
    hex=$(printf '%02x' "$id")
    softhsm2-util --import "$DIR/$name.key" --token ORG --label "$name" --id "$hex" \
        --pin "$PIN" >/dev/null
    p11 --write-object "$DIR/$name.der" --type cert --label "$name" --id "$hex"
done
# Deliberately wrong pairs: a key with another key's certificate.
softhsm2-util --import "$DIR/sign-ec384.key" --token ORG --label mismatch-ec --id 07 \
    --pin "$PIN" >/dev/null
p11 --write-object "$DIR/sign-ec.der" --type cert --label mismatch-ec --id 07
softhsm2-util --import "$DIR/future.key" --token ORG --label mismatch-rsa --id 08 \
    --pin "$PIN" >/dev/null
p11 --write-object "$DIR/sign.der" --type cert --label mismatch-rsa --id 08
# The sign key again, flagged CKA_ALWAYS_AUTHENTICATE (a PIN before every
# signature, as on PIV slot 9C and many qualified-signature tokens).
openssl pkcs8 -topk8 -nocrypt -in "$DIR/sign.key" -outform DER -out "$DIR/ca/sign-aa.p8"
p11 --write-object "$DIR/ca/sign-aa.p8" --type privkey --always-auth --usage-sign \
    --label sign-aa --id 09
rm -f "$DIR/ca/sign-aa.p8"
p11 --write-object "$DIR/sign.der" --type cert --label sign-aa --id 09
p11 --write-object "$DIR/inter.der" --type cert --label inter
p11 --write-object "$DIR/ca.der" --type cert --label ca

cat >"$DIR/env" <<EOF
SOFTHSM2_CONF=$DIR/softhsm2.conf
SOHOA_PKI_DIR=$DIR
SOHOA_PKCS11_MODULE=$MODULE
SOHOA_TOKEN_LABEL=ORG
SOHOA_PIN_FILE=$DIR/pin
export SOFTHSM2_CONF SOHOA_PKI_DIR SOHOA_PKCS11_MODULE SOHOA_TOKEN_LABEL SOHOA_PIN_FILE
EOF
cat >"$DIR/token-pkcs11.conf" <<EOF
[token]
backend = pkcs11
module = $MODULE
token_label = ORG
key_label = sign
pin_file = $DIR/pin
EOF
cat >"$DIR/token-file.conf" <<EOF
[token]
backend = file
key_file = $DIR/sign.p12
pin_file = $DIR/pin
EOF

# Certificates and configs are public; keys, the PIN and the token store stay 0600/0700.
chmod 0644 "$DIR"/*.pem "$DIR"/*.der "$DIR/env" "$DIR/softhsm2.conf" "$DIR/tsa.cnf" \
    "$DIR"/token-*.conf
chmod 0600 "$DIR"/*.key "$DIR"/*.p12
rm -f "$DIR"/ca/*.csr
echo "$VERSION" >"$DIR/.stamp"
