# Helpers for the station tests (sourced after lib.sh): the test PKI, the
# reference receiver on loopback HTTPS, a station configuration, and the
# daemon in the background.
PKI=$PWD/$BUILD/pki
RECEIVER=$PWD/tests/receiver/receiver.py
ORG="Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam"

station_pki() {
    bash tests/pki/make-pki.sh "$PKI" >/dev/null 2>&1 || return 1
    export SOFTHSM2_CONF=$PKI/softhsm2.conf
}

# receiver_start DIR: HTTPS receiver storing in DIR; sets RECV_PID, RECV_PORT.
receiver_start() {
    local dir=$1
    mkdir -p "$dir"
    rm -f "$dir/port"
    python3 "$RECEIVER" --host 127.0.0.1 --port "${RECV_PORT:-0}" --port-file "$dir/port" \
        --store "$dir" --tls "$PKI/server-chain.pem" "$PKI/server.key" \
        >"$dir/receiver.log" 2>&1 &
    RECV_PID=$!
    for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
    RECV_PORT=$(cat "$dir/port" 2>/dev/null)
    [ -n "$RECV_PORT" ]
}

receiver_stop() {
    [ -n "${RECV_PID:-}" ] && kill "$RECV_PID" 2>/dev/null && wait "$RECV_PID" 2>/dev/null
    RECV_PID=
}

# receiver_control JSON: fault injection (see receiver.py).
receiver_control() {
    curl -s --cacert "$PKI/ca-bundle.pem" -X POST --data "$1" \
        "https://localhost:$RECV_PORT/_control" >/dev/null
}

# receiver_stats: the receiver's JSON statistics on stdout.
receiver_stats() {
    curl -s --cacert "$PKI/ca-bundle.pem" "https://localhost:$RECV_PORT/_stats"
}

# station_conf FILE DATA_DIR [extra lines...]: a station configuration.
station_conf() {
    local file=$1 data=$2; shift 2
    {
        printf '[station]\norgan_id = 000.00.15.H47\norgan_name = %s\ndata_dir = %s\n' "$ORG" "$data"
        printf 'min_free_mb = 1\n\n'
        cat "$PKI/token-pkcs11.conf"
        printf '\n[signature]\norganization = %s\ntrust_file = %s/ca.pem\n\n' "$ORG" "$PKI"
        printf '[upload]\nurl = https://localhost:%s/edxml\nca_file = %s/ca-bundle.pem\n' \
            "$RECV_PORT" "$PKI"
        printf 'retry_min = 1\nretry_max = 2\ntimeout = 10\n\n[ocr]\nthreads = 2\n'
        for l in "$@"; do printf '%s\n' "$l"; done
    } > "$file"
}

# daemon_start CONF LOG: the daemon in the background; sets DAEMON_PID;
# returns once it says it is ready.
daemon_start() {
    local conf=$1 log=$2
    "$SOHOA" daemon -c "$conf" >>"$log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 200); do
        grep -q "sohoa daemon: ready" "$log" 2>/dev/null && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

daemon_stop() {
    [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
    DAEMON_PID=
}

# wait_received N [SECONDS]: until the receiver holds N documents.
wait_received() {
    local n=$1 secs=${2:-60} i
    for i in $(seq $((secs * 10))); do
        [ "$(receiver_stats | jq '.documents | length')" -ge "$n" ] 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# db SQL: a query on the register (read-only).
db() {
    python3 - "$DATA/register.db" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
PY
}

# station_status: the daemon's STATUS answer (control socket of $DATA).
station_status() {
    python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"STATUS\n")
print(s.makefile().read())' "$DATA/control.sock"
}
