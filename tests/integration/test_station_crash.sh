# Crash safety: kill -9 the daemon at random moments across CRASH_DOCS
# documents (default 200; 60 in the sanitizer build, which is slower) and
# restart it; every document must reach the receiver exactly once and the
# register stay gapless (tests/integration/station_crash.py).
. tests/integration/lib.sh
. tests/integration/station_lib.sh

default=200
[ "${BUILD}" = build-asan ] && default=60
N=${CRASH_DOCS:-$default}
station_pki || { fail pki "make-pki.sh failed"; exit 0; }
# The organization's token is a device of its own, which a kill of the
# station does not touch. SoftHSM keeps its token in files that a kill -9
# in the middle of a write leaves truncated (the token then vanishes), so
# this daemon gets its own copy of them, put back as it was before each
# restart (station_crash.py --token-dir), and the shared one stays whole.
cp -a "$PKI/tokens" "$WORK/tokens"
sed "s|^directories.tokendir = .*|directories.tokendir = $WORK/tokens|" "$PKI/softhsm2.conf" \
    >"$WORK/softhsm2.conf"
export SOFTHSM2_CONF=$WORK/softhsm2.conf
$FIXTUREGEN -o "$WORK/docs" --seed 77 --count "$N" --pages 1 --dpi 200 --format png --clean \
    --no-handwritten --no-stamp --secrecy none --quiet
receiver_start "$WORK/recv" || { fail receiver "did not start"; exit 0; }
trap 'receiver_stop' EXIT
DATA=$WORK/data
station_conf "$WORK/sohoa.conf" "$DATA" '[guard]' 'unreviewed = send' 'secrecy_threshold = 0'
python3 tests/integration/station_crash.py --sohoa "$SOHOA" --conf "$WORK/sohoa.conf" \
    --data "$DATA" --docs "$WORK/docs" --count "$N" --ca "$PKI/ca-bundle.pem" \
    --stats-url "https://localhost:$RECV_PORT/_stats" --log "$WORK/daemon.log" \
    --token-dir "$WORK/tokens" |
while IFS= read -r line; do
    case $line in
        "ok "*) pass "${line#ok }" ;;
        "FAIL "*) n=${line#FAIL }; fail "${n%%:*}" "${n#*: }" ;;
        *) echo "$line" ;;
    esac
done
