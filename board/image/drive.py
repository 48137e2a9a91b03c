#!/usr/bin/env python3
"""drive.py — the host side of `make image-test`: talks to the booted image.

    drive.py DIR PASSWORD

DIR holds the QEMU sockets: console.sock (the board UART, where
sohoa-console runs) and shell.sock (a root shell on hvc0, which the test
kernel command line turns on). Every wait is bounded (the limits below,
scaled by IMG_TEST_SLOW, default 1). Writes DIR/result.json:

  {"boot_s": seconds from QEMU start (DIR/qemu.start) to the console's
   password prompt, "status": {key: value, ...}, "press": "DONE ..." line,
   "checks": {name: value}}

and exits 0, or prints what went wrong and exits 1. With
IMG_TEST_VIA_SHELL=1 (images whose console is not there yet) it runs
`sohoa status` and `sohoa press` through the shell instead.
Python 3.11 standard library only.
"""
import json
import os
import re
import socket
import sys
import time

SLOW = float(os.environ.get("IMG_TEST_SLOW", "1"))
BOOT_LIMIT = 600 * SLOW   # QEMU start -> console prompt (TCG: no KVM for arm64 here)
CMD_LIMIT = 120 * SLOW    # one console or shell command
PRESS_LIMIT = 1200 * SLOW  # scan + OCR + sign under emulation
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


class Fail(Exception):
    pass


class Port:
    """A QEMU chardev socket: everything read is kept, in order."""

    def __init__(self, path, name):
        self.name = name
        self.buf = b""
        deadline = time.monotonic() + 30
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise Fail(f"{name}: cannot connect to {path}")
                time.sleep(0.2)

    def send(self, text):
        self.s.sendall(text.encode())

    def expect(self, pattern, limit, what):
        """Reads until `pattern` (bytes regex) matches the unread text; returns
        (match, text before it) and consumes through the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + limit
        while True:
            clean = ANSI.sub(b"", self.buf).replace(b"\r", b"")
            m = rx.search(clean)
            if m:
                self.buf = clean[m.end():]
                return m, clean[: m.start()]
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"{self.name}: no {what} within {limit:.0f} s")
            self.s.settimeout(min(left, 5))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise Fail(f"{self.name}: QEMU closed the socket while waiting for {what}")
            self.buf += data


class Shell:
    """The root shell on hvc0: commands with a unique end marker."""

    def __init__(self, port):
        self.p = port
        self.n = 0

    def start(self, limit):
        deadline = time.monotonic() + limit
        while True:
            try:
                self.run("stty -echo; PS1=; PS2=; export TERM=dumb PAGER=cat SYSTEMD_PAGER=cat", 10)
                return
            except Fail:
                if time.monotonic() > deadline:
                    raise Fail(f"shell on hvc0: no answer within {limit:.0f} s")

    def run(self, cmd, limit=CMD_LIMIT):
        """Output of `cmd`, exit status. The marker is split in the command
        so that an echo of the line itself never matches."""
        self.n += 1
        tag = f"{self.n}-{os.getpid()}"
        self.p.send(f"{cmd}; echo \"@@EN\"\"D {tag} $?@@\"\n")
        m, out = self.p.expect(rb"@@END " + tag.encode() + rb" (\d+)@@\n", limit, f"end of `{cmd}`")
        return out.decode(errors="replace").strip("\n"), int(m.group(1))


def parse_status(text):
    st = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            st[k.strip()] = v.strip()
    return st


def main():
    d, password = sys.argv[1], sys.argv[2]
    t_start = float(open(os.path.join(d, "qemu.start")).read())
    result = {"checks": {}}
    via_shell = os.environ.get("IMG_TEST_VIA_SHELL") == "1"
    con = None if via_shell else Port(os.path.join(d, "console.sock"), "console (ttyAMA0)")
    sh = Shell(Port(os.path.join(d, "shell.sock"), "shell (hvc0)"))

    if con:
        # The console service prints a banner, then asks the admin password.
        prompt = "(Mật khẩu quản trị|Admin password): ".encode()
        con.expect(prompt, BOOT_LIMIT, "password prompt")
        result["boot_s"] = round(time.time() - t_start, 1)
        print(f"image-test: console ready {result['boot_s']} s after QEMU started", flush=True)
    sh.start(BOOT_LIMIT if not con else CMD_LIMIT)
    if not con:
        result["boot_s"] = round(time.time() - t_start, 1)
        print(f"image-test: shell ready {result['boot_s']} s after QEMU started", flush=True)

    # The system as the board would run it.
    out, rc = sh.run("systemctl is-system-running --wait", CMD_LIMIT)
    result["checks"]["system"] = out.splitlines()[-1] if out else ""
    if rc != 0:
        failed, _ = sh.run("systemctl --failed --no-legend; journalctl -b -p warning --no-pager "
                           "| tail -40")
        raise Fail(f"system state {out!r}, not running:\n{failed}")
    checks = {
        "root": "findmnt -no OPTIONS /",
        "data": "findmnt -no SOURCE,FSTYPE /var/lib/sohoa",
        "data_mb": "df -m --output=size /var/lib/sohoa | tail -1",
        "etc_sohoa": "readlink /etc/sohoa",
        "zone": "date +%Z",
        "tmp": "findmnt -no FSTYPE /tmp",
        "var_lib_systemd": "findmnt -no SOURCE /var/lib/systemd",
        "daemon": "systemctl is-active sohoa.service",
        "receiver": "getent hosts receiver.test",
    }
    for k, c in checks.items():
        out, _ = sh.run(c)
        result["checks"][k] = out.strip()
    c = result["checks"]
    if not re.match(r"ro\b", c["root"]):
        raise Fail(f"the root is mounted {c['root']!r}, not read-only")
    if "ext4" not in c["data"]:
        raise Fail(f"/var/lib/sohoa is {c['data']!r}, not the ext4 data partition")
    if c["zone"] != "+07":
        raise Fail(f"time zone abbreviation {c['zone']!r}, not +07 (Asia/Ho_Chi_Minh)")
    if not c["receiver"].startswith("10.0.2.100"):
        raise Fail(f"receiver.test resolves to {c['receiver']!r}, not the guestfwd address "
                   "(/etc/hosts from the data partition)")
    grown = int(c["data_mb"]) if c["data_mb"].isdigit() else 0
    if grown < 400:
        raise Fail(f"the data partition has {c['data_mb']!r} MB: it did not grow into the "
                   "256 MiB the test added to the disk (systemd-repart, x-systemd.growfs)")
    if c["daemon"] != "active":
        log, _ = sh.run("journalctl -b -u sohoa.service --no-pager | tail -30")
        raise Fail(f"sohoa.service is {c['daemon']!r}:\n{log}")

    if con:
        con.send(password + "\r")
        con.expect(rb"sohoa> ", CMD_LIMIT, "prompt after the password")
        con.send("status\r")
        _, text = con.expect(rb"sohoa> ", CMD_LIMIT, "end of status")
        status_text = text.decode(errors="replace")
        con.send("press\r")
        m, text = con.expect(rb"\n[ \t]*((?:DONE|ERR) [^\n]*)\n", PRESS_LIMIT, "DONE/ERR of press")
        press = m.group(1).decode(errors="replace")
        con.expect(rb"sohoa> ", CMD_LIMIT, "prompt after press")
        con.send("logout\r")
    else:
        status_text, rc = sh.run("sohoa status 2>&1 || sohoa press --help 2>&1 | head -3")
        out, rc = sh.run("sohoa press 2>&1", PRESS_LIMIT)
        lines = [l for l in out.splitlines() if l.startswith(("DONE ", "ERR "))]
        press = lines[-1] if lines else out.splitlines()[-1] if out else f"exit {rc}"
    # The terminal's echo of the command line is not part of the answer.
    status_text = "\n".join(l for l in status_text.splitlines() if l.strip() != "status")
    result["status"] = parse_status(status_text)
    result["status_text"] = status_text
    result["press"] = press
    print("image-test: status:\n  " + "\n  ".join(status_text.strip().splitlines()), flush=True)
    print(f"image-test: press: {press}", flush=True)
    json.dump(result, open(os.path.join(d, "result.json"), "w"), ensure_ascii=False, indent=1)
    if "station" not in result["status"]:
        raise Fail("status has no station: line")
    if not press.startswith("DONE "):
        log, _ = sh.run("journalctl -b -u sohoa.service --no-pager | tail -40")
        raise Fail(f"press ended with {press!r}:\n{log}")
    # For whoever reads the test's files: what the boot complained about.
    out, _ = sh.run("journalctl -b -p warning --no-pager | tail -200")
    with open(os.path.join(d, "journal-warnings.txt"), "w") as f:
        f.write(out + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fail as e:
        print(f"image-test: FAILED: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
