"""Scripted console sessions for test_console.sh (see there). Prints
"ok NAME" / "FAIL NAME: why" and appends pass/fail to $RESULTS."""
import base64
import os
import re
import sqlite3
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(__file__))
from console_pty import Console, Timeout  # noqa: E402

SOHOA, CONF, DATA, WORK, LOG = (os.environ[k] for k in ("SOHOA", "CONF", "DATA", "WORK", "LOG"))
PW1, PW2 = "mat-khau-tram-1", "doi-mat-khau-2"


def result(name, ok, why=""):
    print(("ok %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
    with open(os.environ["RESULTS"], "a") as f:
        f.write("pass\n" if ok else "fail\n")


def check(name, cond, why):
    result(name, bool(cond), why if not cond else "")


def db(sql, *args):
    c = sqlite3.connect("file:%s/register.db?mode=ro" % DATA, uri=True)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def state_of(doc_id):
    states = ["scanned", "processed", "held", "registered", "signed", "queued", "sent",
              "discarded", "failed"]
    return states[db("SELECT state FROM documents WHERE id = ?", doc_id)[0][0]]


def wait_for(cond, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)
    return False


def receiver(mode):
    subprocess.run(["curl", "-s", "--cacert", os.environ["PKI"] + "/ca-bundle.pem", "-X", "POST",
                    "--data", '{"mode": "%s"}' % mode,
                    "https://localhost:%s/_control" % os.environ["RECV_PORT"]],
                   check=False, capture_output=True)


def screen_lines(raw):
    """The transcript as the terminal shows it: escapes and CRs dropped."""
    text = raw.decode("utf-8", "replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x07", "", text)
    return [unicodedata.normalize("NFC", l.split("\r")[-1]) for l in text.split("\n")]


def start(lang="vi"):
    env = dict(os.environ)
    for k in ("LC_ALL", "LC_MESSAGES", "LANG"):
        env.pop(k, None)
    env["LANG"] = "en_US.UTF-8" if lang == "en" else "vi_VN.UTF-8"
    env["TERM"] = "vt100"
    return Console([SOHOA, "console", "-c", CONF], env=env)


def confirm(c, line, answer, timeout=20):
    c.expect_prompt_ready()
    start_at = len(c.transcript)
    c.send(line)
    c.expect(r"\[(c/K|y/N)\] ", timeout)
    c.send(answer)
    c.expect(r"sohoa> ", timeout)
    return c.text(start_at)


def session_one():
    c = start()
    try:
        c.expect("Mật khẩu mới: ")
        c.send("ngan")
        c.expect("Quá ngắn")
        result("first-login-short-refused", True)
        c.expect("Mật khẩu mới: ")
        c.send(PW1)
        c.expect("Nhập lại: ")
        c.send(PW1 + "x")
        c.expect("không khớp")
        result("first-login-mismatch-refused", True)
        c.expect("Mật khẩu mới: ")
        c.send(PW1)
        c.expect("Nhập lại: ")
        c.send(PW1)
        c.expect("Đã đăng nhập")
        conf = open(CONF, encoding="utf-8").read()
        m = re.search(r"^password_hash = (\S+)$", conf, re.M)
        check("first-login-stores-hash", m and re.match(r"\$(y|6)\$", m.group(1)),
              "config has no crypt hash: %r" % conf[-300:])
        check("config-keeps-mode-0600", (os.stat(CONF).st_mode & 0o777) == 0o600,
              oct(os.stat(CONF).st_mode))

        out = c.command("help")
        missing = [w for w in ("status", "press", "queue", "held", "register", "logs", "config",
                               "audit", "password") if not re.search(r"^  %s " % w, out, re.M)]
        check("help-lists-commands", not missing, "missing: %s" % missing)
        out = c.command("help queue")
        check("help-command-usage", "retry ID|all" in out, out)

        # tab completion, then history (up arrow)
        c.expect_prompt_ready()
        at = len(c.transcript)
        c.send("stat", enter=False)
        c.send("\t", enter=False)
        c.send("")
        c.expect(r"sohoa> ")
        check("tab-completes-status", "Phiên bản" in c.text(at), c.text(at)[-300:])
        at = len(c.transcript)
        c.send("\x1b[A", enter=False)
        c.send("")
        c.expect(r"sohoa> ")
        check("history-up-arrow", "Phiên bản" in c.text(at), c.text(at)[-300:])

        out = c.command("frobnicate")
        check("unknown-command", "không có lệnh" in out, out)
        out = c.command("status")
        check("status-service-running", "station: đang chạy" in out and "state:" in out, out)
        check("status-queue-disk-time", all(w in out for w in ("hỏa tốc", "Đĩa:", "Asia/Ho_Chi_Minh")),
              out)

        # bad arguments
        for name, line, want in (
                ("bad-doc-id", "queue show abc", "không hợp lệ"),
                ("bad-field", "held edit 1 nofield x", "không có trường"),
                ("bad-date", "register show 2026-13-45", "ngày không hợp lệ"),
                ("bad-config-key", "config set nosuch.key 1", "no such setting"),
                ("bad-config-number", "config set ocr.threads many", "not a whole number"),
                ("bad-queue-sub", "queue frob", "dùng: queue")):
            out = c.command(line)
            check(name, want in out, out)

        # held: the classified letter
        held = db("SELECT id FROM documents WHERE state = 2")
        out = c.command("held")
        check("held-list", held and re.search(r"^\s+%d\s" % held[0][0], out, re.M), out)
        hid = held[0][0] if held else 0
        out = c.command("held show %d" % hid)
        check("held-show-metadata", "secrecy" in out and "classified" in out and "Lịch sử" in out, out)
        out = c.command('held edit %d subject "Về việc kiểm tra bảng điều khiển"' % hid)
        check("held-edit", "→ Về việc kiểm tra" in out, out)
        out = c.command('held release %d "đã kiểm tra: không phải văn bản mật"' % hid)
        check("held-release", "Xong" in out, out)
        check("held-release-moves-on",
              wait_for(lambda: state_of(hid) in ("queued", "sent"), 60), state_of(hid))

        # queue: the urgent letter waits (the receiver answers 503)
        q = db("SELECT id FROM documents WHERE state = 5 AND priority = 1")
        qid = q[0][0] if q else 0
        out = c.command("queue")
        check("queue-list", re.search(r"^\s+%d\s.*khẩn" % qid, out, re.M), out)
        out = c.command('queue hold %d "chờ xác minh"' % qid)
        check("queue-hold", "Xong" in out and state_of(qid) == "held", out)
        out = c.command('queue release %d "đã xác minh"' % qid)
        check("queue-release", "Xong" in out and state_of(qid) == "queued", out)
        out = confirm(c, 'queue discard %d "thử"' % qid, "k")
        check("queue-discard-cancelled", "Đã hủy" in out and state_of(qid) == "queued", out)
        receiver("ok")
        out = c.command("queue retry all")
        check("queue-retry-all", "sẽ được gửi ngay" in out, out)
        check("queue-sent-after-retry", wait_for(lambda: state_of(qid) == "sent", 30), state_of(qid))

        # press: the scanner's feeder holds the plain letter
        out = c.command("press", timeout=180)
        check("press-scans", re.search(r"DONE \d+ (queued|sent) ", out), out)

        # register
        year = time.localtime().tm_year
        out = c.command("register")
        check("register-show-recent", "văn bản đến" in out and re.search(r"^1/\d{4} ", out, re.M),
              out)
        so = db("SELECT so_den, year FROM documents WHERE so_den > 0 ORDER BY so_den LIMIT 1")
        out = c.command("register show %d/%d" % so[0] if so else "register show 1/%d" % year)
        check("register-show-one", "number_notation" in out, out)
        out = c.command("register export csv -")
        m = re.search(r"-----BEGIN (\S+)-----\r?\n(.*?)-----END", out, re.S)
        csv = base64.b64decode("".join(m.group(2).split())) if m else b""
        check("register-export-csv-console",
              csv.startswith(b"\xef\xbb\xbf") and "Số đến".encode() in csv[:400], out[-300:])
        out = c.command("register export pdf")
        pdfs = [f for f in os.listdir(WORK + "/usb") if f.endswith(".pdf")]
        info = subprocess.run(["pdfinfo", WORK + "/usb/" + pdfs[0]], capture_output=True) if pdfs else None
        check("register-export-pdf-usb", info and info.returncode == 0, out)

        # logs
        out = c.command("logs 3")
        check("logs-tail", "sohoa: " in out and len([l for l in out.splitlines() if "sohoa:" in l]) <= 3,
              out)
        out = c.command("logs error")
        bad = [l for l in out.splitlines() if l.startswith("sohoa: ") and "error:" not in l]
        check("logs-level-filter", not bad, out)

        # configuration: validate, stage, apply, roll back
        conf_before = open(CONF, encoding="utf-8").read()
        out = c.command("config set station.office_hours 25:00-26:00")
        check("config-bad-value-refused", "lỗi" in out and not os.path.exists(CONF + ".new"), out)
        out = c.command("config set upload.retry_max 3")
        check("config-set-staged", "chưa áp dụng" in out and open(CONF).read() == conf_before, out)
        out = c.command("config show upload")
        check("config-show-staged", re.search(r"→ 3\s+\(chưa áp dụng\)", out), out)
        out = c.command("config validate")
        check("config-validate", "hợp lệ" in out and "LỖI" not in out, out)
        out = c.command("config apply")
        now = open(CONF, encoding="utf-8").read()
        check("config-apply", "retry_max = 3" in now and os.path.exists(CONF + ".prev")
              and os.path.exists(WORK + "/applied") and "Đã áp dụng" in out, out)
        check("config-apply-keeps-comments-and-mode",
              now.count("\n[") == conf_before.count("\n[") and (os.stat(CONF).st_mode & 0o777) == 0o600,
              now)
        out = confirm(c, "config rollback", "c")
        check("config-rollback", "retry_max = 2" in open(CONF).read(), out)
        # a broken staged file is never applied
        with open(CONF + ".new", "w") as f:
            f.write(open(CONF).read() + "\n[upload]\nthis is not ini\n")
        before = open(CONF).read()
        out = c.command("config apply")
        check("config-bad-never-applied", "Không áp dụng" in out and open(CONF).read() == before, out)
        c.command("config discard")

        out = c.command("audit 50")
        check("audit-log", all(w in out for w in ("config [upload] retry_max", "release document",
                                                  "edit document", "login")), out)

        # system commands (console_sys.c): time, network, token, scanner, selftest
        out = c.command("time")
        check("time-show", "Asia/Ho_Chi_Minh" in out, out)
        out = c.command("time ntp ntp1.example.vn ntp2.example.vn")
        ntp = open(WORK + "/timesyncd.conf").read() if os.path.exists(WORK + "/timesyncd.conf") else ""
        check("time-ntp-written", "NTP=ntp1.example.vn ntp2.example.vn" in ntp, out)
        out = c.command("network")
        check("network-show", "lo" not in out.split() or "Proxy" in out or "proxy" in out, out)
        out = c.command("network static 10.1.2.3/24 10.9.9.1")
        check("network-bad-gateway-refused", "lỗi" in out and not os.path.exists(WORK + "/net"), out)
        out = c.command("network static 10.1.2.3/24 10.1.2.1 10.1.2.1")
        netf = WORK + "/net/20-sohoa.network"
        text = open(netf).read() if os.path.exists(netf) else ""
        check("network-static-written", "Address=10.1.2.3/24" in text and "Gateway=10.1.2.1" in text,
              out)
        out = c.command("network check", timeout=60)
        check("network-check-ok", re.search(r"TLS\s+OK", out) and "LỖI" not in out, out)
        out = c.command("token", timeout=60)
        check("token-show", "CN=" in out and "PIN" in out, out)
        pin = open(WORK + "/token.pin").read().strip()
        c.expect_prompt_ready()
        c.send("token pin set")
        c.expect(r"PIN[^:\n]*: ")
        c.send(pin)
        c.expect(r"PIN[^:\n]*: ")
        c.send(pin)
        c.expect("sohoa> ", timeout=60)
        st = os.stat(WORK + "/token.pin")
        check("token-pin-set", (st.st_mode & 0o777) == 0o600
              and open(WORK + "/token.pin").read().strip() == pin, oct(st.st_mode))
        check("token-pin-never-echoed", ("\n" + pin).encode() not in c.transcript
              and (pin + "\r").encode() not in c.transcript, "PIN seen on the terminal")
        out = c.command("scanner")
        check("scanner-list", "sohoa:virtual0" in out, out)
        out = c.command("scanner test", timeout=120)
        check("scanner-test", re.search(r"\d+\s*[x×]\s*\d+", out) and "lỗi" not in out, out)
        out = c.command("selftest", timeout=300)
        check("selftest", "OCR" in out and re.search(r"OCR\s+OK", out), out)
        out = confirm(c, "reboot", "k")
        check("reboot-cancelled", not os.path.exists(WORK + "/rebooted"), out)
        out = confirm(c, "reboot", "c")
        check("reboot-confirmed", os.path.exists(WORK + "/rebooted"), out)

        # the password: the wrong current one is refused; nothing echoes
        c.expect_prompt_ready()
        c.send("password")
        c.expect("Mật khẩu hiện tại: ")
        c.send("sai-hoan-toan")
        c.expect("Sai mật khẩu")
        c.expect("sohoa> ")
        c.send("password")
        c.expect("Mật khẩu hiện tại: ")
        c.send(PW1)
        c.expect("Mật khẩu mới: ")
        c.send(PW2)
        c.expect("Nhập lại: ")
        c.send(PW2)
        c.expect("Đã đổi mật khẩu")
        result("password-change", True)
        c.expect("sohoa> ")

        c.send("logout")
        c.expect("Đã đăng xuất")
        check("logout-exit-0", c.wait_exit() == 0, c.status)
    except Timeout as e:
        result("session-one", False, str(e))
    finally:
        c.close()
    secret_seen = [p for p in (PW1, PW2, "sai-hoan-toan") if p.encode() in c.transcript]
    check("passwords-never-echoed", not secret_seen, secret_seen)
    audit = " ".join(str(r) for r in db("SELECT who, what, old, new FROM audit"))
    pin = open(WORK + "/token.pin").read().strip()
    check("passwords-not-in-audit", PW1 not in audit and PW2 not in audit and "$y$" not in audit
          and pin not in audit,
          audit[-300:])
    wide = [l for l in screen_lines(c.transcript) if len(l) > 80]
    check("output-fits-80-columns", not wide, wide[:3])


def session_two():
    """English; lockout after failures; idle logout."""
    c = start("en")
    try:
        c.expect("Admin password: ")
        for _ in range(3):
            c.send("wrong-password")
            c.expect("Wrong password")
        t0 = time.monotonic()
        m = c.expect("Locked after failed logins: wait (\\d+) s")
        c.expect("Admin password: ", timeout=15)
        waited = time.monotonic() - t0
        # the lock runs its full lockout_seconds (2) after the failure is
        # told, whatever the pause before telling it took
        check("lockout-after-failures", m.group(1) == b"2" and waited >= 1.8,
              "told %s s, waited %.1f s" % (m.group(1).decode(), waited))
        c.send(PW2)
        c.expect("3 failed logins before this one")
        c.expect("Logged in")
        result("login-after-lockout-english", True)
        out = c.command("help")
        check("english-help", "Commands (help COMMAND" in out, out)
        t0 = time.monotonic()
        c.expect("Idle for too long: logged out", timeout=15)
        check("idle-logout", time.monotonic() - t0 >= 4 and c.wait_exit() == 0,
              "after %.1f s" % (time.monotonic() - t0))
    except Timeout as e:
        result("session-two", False, str(e))
    finally:
        c.close()
    fails = db("SELECT count(*) FROM audit WHERE what = 'login' AND new = 'wrong password'")[0][0]
    check("failed-logins-audited", fails >= 3, fails)


session_one()
session_two()
