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
$FIXTUREGEN -o "$WORK/docs" --seed 77 --count "$N" --pages 1 --dpi 200 --format png --clean \
    --no-handwritten --no-stamp --secrecy none --quiet
receiver_start "$WORK/recv" || { fail receiver "did not start"; exit 0; }
trap 'receiver_stop' EXIT
DATA=$WORK/data
station_conf "$WORK/sohoa.conf" "$DATA" '[guard]' 'unreviewed = send' 'secrecy_threshold = 0'
python3 tests/integration/station_crash.py --sohoa "$SOHOA" --conf "$WORK/sohoa.conf" \
    --data "$DATA" --docs "$WORK/docs" --count "$N" --ca "$PKI/ca-bundle.pem" \
    --stats-url "https://localhost:$RECV_PORT/_stats" --log "$WORK/daemon.log" |
while IFS= read -r line; do
    case $line in
        "ok "*) pass "${line#ok }" ;;
        "FAIL "*) n=${line#FAIL }; fail "${n%%:*}" "${n#*: }" ;;
        *) echo "$line" ;;
    esac
done
