# The serial console (`sohoa console`) over a real pseudo-terminal, against
# a running station (daemon, SoftHSM2 token, virtual scanner, receiver on
# loopback HTTPS): first login sets the password, lockout after failures,
# idle logout, every command, bad arguments, config validation, apply and
# rollback, held and queued documents, register export, a password change
# that never echoes. The sessions are scripted in console_session.py.
. tests/integration/lib.sh
. tests/integration/station_lib.sh

station_pki || { fail pki "make-pki.sh failed"; exit 0; }
GEN="$FIXTUREGEN --pages 1 --dpi 200 --clean --no-handwritten --no-stamp --quiet"
$GEN -o "$WORK/plain" --seed 61 --count 1 --format pnm --layout state --urgency none --secrecy none
$GEN -o "$WORK/secret" --seed 62 --count 1 --format png --urgency none --secrecy mat
$GEN -o "$WORK/late" --seed 63 --count 1 --format png --layout state --urgency khan --secrecy none

# the virtual scanner, loaded with the plain letter
export SANE_CONFIG_DIR=$WORK/sane LD_LIBRARY_PATH=$PWD/$BUILD/sane
mkdir -p "$SANE_CONFIG_DIR" "$WORK/feed" "$WORK/usb"
echo sohoa > "$SANE_CONFIG_DIR/dll.conf"
cp "$WORK/plain"/doc000/page-*.pnm "$WORK/feed/"
printf 'device virtual0 "Sohoa Virtual ADF"\npages %s\npage_dpi 200\n' "$WORK/feed" \
    > "$SANE_CONFIG_DIR/sohoa.conf"

receiver_start "$WORK/recv" || { fail receiver "did not start"; exit 0; }
DATA=$WORK/data
CONF=$WORK/sohoa.conf
LOG=$WORK/daemon.log
station_conf "$CONF" "$DATA" '[guard]' 'unreviewed = send' \
    '[scanner]' 'device = sohoa:virtual0' 'resolution = 200' 'source = adf' \
    '[console]' 'idle_timeout = 5' 'lockout_after = 3' 'lockout_seconds = 2' \
    "apply_command = touch $WORK/applied" "log_command = cat $LOG" \
    "export_dir = $WORK/usb" "network_file = $WORK/net/20-sohoa.network" \
    'network_apply_command = true' "timesyncd_file = $WORK/timesyncd.conf" \
    "reboot_command = touch $WORK/rebooted" "shutdown_command = touch $WORK/shutdown" \
    'time_apply_command = true' 'timedatectl ='
# the console's `token pin set` writes the PIN file: a copy of the test PKI's
install -m 600 "$PKI/pin" "$WORK/token.pin"
sed -i "s|^pin_file = .*|pin_file = $WORK/token.pin|" "$CONF"
chmod 600 "$CONF"
trap 'daemon_stop; receiver_stop' EXIT
daemon_start "$CONF" "$LOG" || { fail daemon-start "$(tail -3 "$LOG")"; exit 0; }

# a classified letter for the held list, and one that cannot be sent yet
"$SOHOA" press -c "$CONF" "$WORK/secret"/doc000/page-*.png >/dev/null 2>&1
receiver_control '{"mode": "error", "status": 503}' >/dev/null
"$SOHOA" press -c "$CONF" "$WORK/late"/doc000/page-*.png >/dev/null 2>&1

export SOHOA CONF DATA WORK LOG RECV_PORT PKI
python3 tests/integration/console_session.py
