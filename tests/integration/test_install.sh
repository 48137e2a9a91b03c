# `make install` into a temporary DESTDIR (the host build): every file in
# its place with its mode, the units pass `systemd-analyze verify`, the
# sysusers file makes the service user, the installed SANE backend loads
# through libsane's dll backend from its dll.d entry, the installed config
# parses, and the man pages render without warnings. A check whose tool is
# missing is skipped (printed, not counted).
. tests/integration/lib.sh

DEST=$WORK/dest
MA=$(cc -print-multiarch)
skip() { echo "skip $1: $2"; }

# A make of its own: the MAKEFLAGS of the `make check` that runs us (jobserver,
# SANITIZE) must not reach it; BUILD says which build to install.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$BUILD" install \
    DESTDIR="$DEST" PREFIX=/usr >"$WORK/install.log" 2>&1; then
    pass install
else
    fail install "make install failed: $(tail -5 "$WORK/install.log" | tr '\n' ' ')"
    exit 0
fi

# mode_is NAME PATH MODE: PATH exists with permission bits MODE.
mode_is() {
    local got
    got=$(stat -c %a "$DEST$2" 2>/dev/null)
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "$2: mode '${got:-missing}', expected $3"; fi
}
mode_is bin /usr/bin/sohoa 755
mode_is sane_backend "/usr/lib/$MA/sane/libsane-sohoa.so.1" 644
mode_is sane_dll_d /etc/sane.d/dll.d/sohoa 644
mode_is sane_conf /etc/sane.d/sohoa.conf 644
mode_is config_dir /etc/sohoa 750
mode_is config /etc/sohoa/sohoa.conf 640
mode_is boards_rpi4 /usr/share/sohoa/boards/rpi4.conf 644
mode_is boards_qemu /usr/share/sohoa/boards/qemu-virt.conf 644
mode_is man1 /usr/share/man/man1/sohoa.1 644
mode_is man5 /usr/share/man/man5/sohoa.conf.5 644
mode_is unit_service /usr/lib/systemd/system/sohoa.service 644
mode_is unit_console /usr/lib/systemd/system/sohoa-console@.service 644
mode_is sysusers /usr/lib/sysusers.d/sohoa.conf 644
mode_is udev_rules /usr/lib/udev/rules.d/70-sohoa.rules 644
mode_is timesyncd /etc/systemd/timesyncd.conf.d/sohoa.conf 644

# Nothing else: a file added to `install` belongs in the list above.
(cd "$DEST" && find . -type f | sort) >"$WORK/files"
sort >"$WORK/expected" <<EOF
./etc/sane.d/dll.d/sohoa
./etc/sane.d/sohoa.conf
./etc/sohoa/sohoa.conf
./etc/systemd/timesyncd.conf.d/sohoa.conf
./usr/bin/sohoa
./usr/lib/$MA/sane/libsane-sohoa.so.1
./usr/lib/systemd/system/sohoa-console@.service
./usr/lib/systemd/system/sohoa.service
./usr/lib/sysusers.d/sohoa.conf
./usr/lib/udev/rules.d/70-sohoa.rules
./usr/share/man/man1/sohoa.1
./usr/share/man/man5/sohoa.conf.5
./usr/share/sohoa/boards/qemu-virt.conf
./usr/share/sohoa/boards/rpi4.conf
EOF
if diff -u "$WORK/expected" "$WORK/files" >"$WORK/diff"; then pass file_list; else
    fail file_list "$(tr '\n' ' ' <"$WORK/diff" | head -c 600)"; fi

# The installed binary runs, and the units start it from where it is.
check bin_runs "$DEST/usr/bin/sohoa" version
if grep -q "^ExecStart=/usr/bin/sohoa daemon --config /etc/sohoa/sohoa.conf$" \
    "$DEST/usr/lib/systemd/system/sohoa.service" &&
    grep -q "^ExecStart=/usr/bin/sohoa console --config /etc/sohoa/sohoa.conf$" \
        "$DEST/usr/lib/systemd/system/sohoa-console@.service"; then
    pass unit_paths
else fail unit_paths "ExecStart= lines do not name /usr/bin/sohoa"; fi
if grep -q '@[A-Z]*@' "$DEST/etc/sohoa/sohoa.conf" "$DEST"/usr/lib/systemd/system/sohoa*; then
    fail substituted "a @VARIABLE@ is left in the installed files"
else pass substituted; fi

# The default config: every setting commented, and it parses: sohoa stops
# at the first setting it needs ([token] module for `sign`), not at a line.
if grep -v '^[[:space:]]*[;#]' "$DEST/etc/sohoa/sohoa.conf" | grep -qv '^\[\|^[[:space:]]*$'; then
    fail config_all_commented "$(grep -v '^[[:space:]]*[;#]' "$DEST/etc/sohoa/sohoa.conf" |
        grep -v '^\[\|^[[:space:]]*$' | head -3 | tr '\n' ' ')"
else pass config_all_commented; fi
"$DEST/usr/bin/sohoa" sign -c "$DEST/etc/sohoa/sohoa.conf" "$WORK/none.pdf" "$WORK/out.pdf" \
    2>"$WORK/sign.err"
if grep -q "sohoa.conf: \[token\] module is not set" "$WORK/sign.err"; then pass config_parses; else
    fail config_parses "$(head -c 300 "$WORK/sign.err")"; fi
# Every key sohoa knows appears in it (firmware/config_keys.c, when present).
if [ -f firmware/config_keys.c ]; then
    missing=$(sed -n 's/^ *[TPIE](\("[a-z_]*"\), \("[a-z_]*"\).*/\1 \2/p' firmware/config_keys.c |
        tr -d '"' | while read -r s k; do
            awk -v s="$s" -v k="$k" '
                /^;?\[/ { sec = $0; gsub(/[;\[\] ]/, "", sec) }
                sec == s && $0 ~ "^;" k " *=" { found = 1 }
                END { exit !found }' "$DEST/etc/sohoa/sohoa.conf" || printf '[%s] %s, ' "$s" "$k"
        done)
    if [ -z "$missing" ]; then pass config_every_key; else fail config_every_key "missing: $missing"; fi
fi

# Units.
if command -v systemd-analyze >/dev/null; then
    # ExecStart= must exist on this machine: point it at the installed binary.
    mkdir -p "$WORK/units"
    for u in sohoa.service sohoa-console@.service; do
        sed "s|/usr/bin/sohoa|$DEST/usr/bin/sohoa|" "$DEST/usr/lib/systemd/system/$u" >"$WORK/units/$u"
    done
    for u in sohoa.service sohoa-console@ttyAMA0.service; do
        out=$(systemd-analyze verify --man=no "$WORK/units/$u" 2>&1)
        # verify exits 0 on unknown keys: any message counts
        if [ -z "$out" ]; then pass "verify_$u"; else fail "verify_$u" "$(tr '\n' ' ' <<<"$out")"; fi
    done
else skip verify_units "no systemd-analyze"; fi
if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$WORK/root/etc"
    systemd-sysusers --root="$WORK/root" "$DEST/usr/lib/sysusers.d/sohoa.conf" >/dev/null 2>&1
    if grep -q '^sohoa:x:[0-9]*:[0-9]*:.*:/var/lib/sohoa:/usr/sbin/nologin$' "$WORK/root/etc/passwd" &&
        grep -q '^sohoa:' "$WORK/root/etc/group"; then pass sysusers_user; else
        fail sysusers_user "no sohoa user: $(head -c 300 "$WORK/root/etc/passwd" 2>/dev/null)"; fi
else skip sysusers_user "no systemd-sysusers"; fi

# The SANE backend, from the installed dll.d entry: a config directory with
# a device first, then the installed /etc/sane.d (no dll.conf there: dll.d
# alone must do). The dll backend loads backends from LD_LIBRARY_PATH first.
if command -v scanimage >/dev/null; then
    # a sanitized build's backend needs the ASan runtime first in the
    # (uninstrumented) scanimage; scanimage's own leaks are not ours
    backend=$(ls "$DEST"/usr/lib/*/sane/libsane-sohoa.so.1 2>/dev/null | head -1)
    if [ -n "$backend" ] && ldd "$backend" 2>/dev/null | grep -q libasan; then
        export LD_PRELOAD=$(cc -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
    fi
    mkdir -p "$WORK/sane" "$WORK/feeder"
    printf 'device virtual0 "Sohoa Virtual ADF"\npages %s\n' "$WORK/feeder" >"$WORK/sane/sohoa.conf"
    out=$(SANE_CONFIG_DIR="$WORK/sane:$DEST/etc/sane.d" LD_LIBRARY_PATH="$DEST/usr/lib/$MA/sane" \
        timeout 60 scanimage -L 2>&1)
    if grep -q "device \`sohoa:virtual0' is a" <<<"$out"; then pass sane_backend_loads; else
        fail sane_backend_loads "scanimage -L: $(tr '\n' ' ' <<<"$out" | head -c 300)"; fi
    # and without our dll.d entry it is not found (the entry is what loads it)
    rm "$DEST/etc/sane.d/dll.d/sohoa"
    out=$(SANE_CONFIG_DIR="$WORK/sane:$DEST/etc/sane.d" LD_LIBRARY_PATH="$DEST/usr/lib/$MA/sane" \
        timeout 60 scanimage -L 2>&1)
    if grep -q "sohoa:virtual0" <<<"$out"; then
        fail sane_needs_dll_d "listed without the dll.d entry: is dll.conf picked up elsewhere?"
    else pass sane_needs_dll_d; fi
    unset LD_PRELOAD ASAN_OPTIONS
else skip sane_backend_loads "no scanimage"; fi

# Man pages: groff with warnings on (preconv for the Vietnamese), and man.
for page in man1/sohoa.1 man5/sohoa.conf.5; do
    name=man_$(basename "$page")
    if command -v groff >/dev/null; then
        out=$(groff -k -man -Tutf8 -ww -z "$DEST/usr/share/man/$page" 2>&1)
        if [ -z "$out" ]; then pass "$name"; else fail "$name" "$(tr '\n' ' ' <<<"$out" | head -c 300)"; fi
    else skip "$name" "no groff"; fi
    if command -v man >/dev/null; then
        out=$(MANWIDTH=80 man --warnings -l "$DEST/usr/share/man/$page" 2>&1 >"$WORK/page.txt")
        if [ -z "$out" ] && grep -q "^NAME" "$WORK/page.txt"; then pass "${name}_man"; else
            fail "${name}_man" "$(tr '\n' ' ' <<<"$out" | head -c 300)"; fi
    fi
done
