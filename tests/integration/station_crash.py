#!/usr/bin/env python3
"""Crash safety of the station: kill -9 the daemon at random moments while
N documents are pressed, processed, signed, queued and uploaded; restart it
each time. At the end every pressed document is in the register exactly
once, either sent or held for the clerk (never stuck half-way); the
receiver holds every sent document exactly once (by DocumentId and the
SHA-256 of its PDF) and no held one; the register's numbers run 1..K
without a gap or repeat.

usage: station_crash.py --sohoa BIN --conf FILE --data DIR --docs DIR
                        --stats-url URL --ca FILE [--count N] [--seed S]
                        [--token-dir DIR]
With --token-dir, the software token's files are put back as they were
before each restart: the real token is a device the kill does not touch,
while SoftHSM's files can be left truncated by a kill in mid-write.
Prints one "ok NAME" / "FAIL NAME: why" line per check and a summary.
"""
import argparse, csv, glob, io, json, os, random, shutil, signal, ssl, subprocess
import sqlite3, sys, threading, time, urllib.request

NS = "{http://www.mic.gov.vn/TBT/QCVN_102_2016}"
HELD, SENT = 2, 6  # doc_state values of firmware/register.h


def main():
    ap = argparse.ArgumentParser()
    for a in ("--sohoa", "--conf", "--data", "--docs", "--stats-url", "--ca", "--log"):
        ap.add_argument(a, required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-kills", type=int, default=40)
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--token-dir")
    args = ap.parse_args()
    pristine = None
    if args.token_dir:
        pristine = args.token_dir.rstrip("/") + ".pristine"
        shutil.copytree(args.token_dir, pristine)
    rng = random.Random(args.seed)
    ctx = ssl.create_default_context(cafile=args.ca)
    log = open(args.log, "ab")
    docs = sorted(glob.glob(os.path.join(args.docs, "doc*")))[: args.count]
    n = len(docs)

    state = {"proc": None, "kills": 0, "pressed": 0, "done": False}
    lock = threading.Lock()

    def start():
        p = subprocess.Popen([args.sohoa, "daemon", "-q", "-c", args.conf],
                             stdout=subprocess.PIPE, stderr=log)
        line = p.stdout.readline()  # "sohoa daemon: ready ..."
        if b"ready" not in line:
            raise SystemExit(f"daemon did not start: {line!r}")
        return p

    def stats():
        with urllib.request.urlopen(args.stats_url, context=ctx, timeout=10) as r:
            return json.load(r)

    state["proc"] = start()

    def settled():
        """Every pressed document is sent or held."""
        if state["pressed"] < n:
            return False
        try:
            db = sqlite3.connect(f"file:{os.path.join(args.data, 'register.db')}?mode=ro",
                                 uri=True, timeout=10)
            left = db.execute("SELECT count(*) FROM documents WHERE state NOT IN (?, ?)",
                              (HELD, SENT)).fetchone()[0]
            db.close()
            return left == 0
        except sqlite3.Error:
            return False

    def presser():
        for i, d in enumerate(docs):
            pages = sorted(glob.glob(os.path.join(d, "page-*.png")))
            while True:
                r = subprocess.run([args.sohoa, "press", "-q", "--no-wait", "-c", args.conf,
                                    "--key", f"crash-{i:04d}", *pages],
                                   capture_output=True)
                if r.returncode == 0:
                    break
                time.sleep(0.1)  # the daemon is down for a moment
            with lock:
                state["pressed"] = i + 1

    def killer():
        while state["kills"] < args.max_kills and not state["done"]:
            time.sleep(rng.uniform(0.3, 5.0))
            with lock:
                p = state["proc"]
                p.send_signal(signal.SIGKILL)
                p.wait()
                state["kills"] += 1
                if pristine:
                    shutil.rmtree(args.token_dir)
                    shutil.copytree(pristine, args.token_dir)
                state["proc"] = start()

    t_press = threading.Thread(target=presser)
    t_kill = threading.Thread(target=killer)
    start_time = time.time()
    t_press.start()
    t_kill.start()
    t_press.join()
    # keep killing while the backlog drains, until the kill budget is spent
    while time.time() - start_time < args.timeout and not settled():
        time.sleep(1)
    state["done"] = True
    t_kill.join()
    # after the last kill, let everything settle
    while time.time() - start_time < args.timeout and not settled():
        time.sleep(1)
    elapsed = time.time() - start_time
    with lock:
        p = state["proc"]
        p.send_signal(signal.SIGTERM)
        p.wait()

    failures = 0

    def check(name, ok, why=""):
        nonlocal failures
        print(f"ok {name}" if ok else f"FAIL {name}: {why}", flush=True)
        failures += 0 if ok else 1

    s = stats()
    got = s["documents"]
    ids = [g["document_id"] for g in got]
    by_id = {g["document_id"]: g["pdf_sha256"] for g in got}
    db = sqlite3.connect(f"file:{os.path.join(args.data, 'register.db')}?mode=ro", uri=True)
    rows = {}
    for dir_, st, so_den, doc_id, sha in db.execute(
            "SELECT dir, state, so_den, document_id, pdf_sha256 FROM documents"):
        rows.setdefault(os.path.basename(dir_), []).append((st, so_den, doc_id, sha))
    keys = [f"k-crash-{i:04d}" for i in range(n)]
    lost = [k for k in keys if k not in rows]
    doubled = [k for k in keys if len(rows.get(k, [])) > 1]
    check("crash-none-lost", not lost, f"{len(lost)} pressed documents have no register row")
    check("crash-none-doubled", not doubled, f"{len(doubled)} pressed twice into the register")
    sent = [r[0] for k in keys for r in rows.get(k, [])[:1] if r[0] == SENT]
    held = [k for k in keys if rows.get(k) and rows[k][0][0] == HELD]
    stuck = [k for k in keys if rows.get(k) and rows[k][0][0] not in (SENT, HELD)]
    check("crash-none-stuck", not stuck, f"{len(stuck)} neither sent nor held: {stuck[:3]}")
    check("crash-none-twice", len(ids) == len(set(ids)),
          f"{len(ids) - len(set(ids))} stored twice by the receiver")
    mismatched = [k for k in keys if rows.get(k) and rows[k][0][0] == SENT
                  and by_id.get(rows[k][0][2]) != rows[k][0][3]]
    check("crash-sent-received", not mismatched and len(set(ids)) == len(sent),
          f"{len(mismatched)} sent documents missing or different at the receiver; "
          f"{len(set(ids))} received vs {len(sent)} sent")
    held_sent = [k for k in held if any(r[2] in by_id for r in rows[k] if r[2])]
    check("crash-held-not-sent", not held_sent, f"{len(held_sent)} held documents reached the server")
    nums = sorted(r[1] for k in keys for r in rows.get(k, []) if r[1] > 0)
    check("crash-register-gapless", nums == list(range(1, len(nums) + 1)),
          f"{len(nums)} numbers, first gaps: "
          f"{sorted(set(range(1, len(nums) + 1)) - set(nums))[:5]}, "
          f"repeats: {len(nums) - len(set(nums))}")
    # the register as exported agrees
    r = subprocess.run([args.sohoa, "register", "-c", args.conf, "export", "--csv", "-"],
                       capture_output=True, text=True)
    csv_rows = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    csv_nums = sorted(int(row[1]) for row in csv_rows[1:] if row and row[1].isdigit())
    check("crash-register-export", r.returncode == 0 and csv_nums == nums,
          f"exit {r.returncode}: {len(csv_nums)} rows exported, {len(nums)} numbered")
    print(f"crash: {n} documents ({len(sent)} sent, {len(held)} held for the clerk), "
          f"{state['kills']} kills, {s.get('replays', 0)} retries recognised by the receiver, "
          f"{elapsed:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
