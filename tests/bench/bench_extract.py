#!/usr/bin/env python3
"""bench_extract.py — metadata extraction accuracy on a corpus (issue 3).

Usage: bench_extract.py CORPUS [--sohoa build/sohoa] [--out DIR] [--jobs N]

CORPUS holds docNNN/ folders with truth.json (schema field names, plus
scan.files = page images in feed order). For each document the metadata
comes from OUT/docNNN/metadata.json; when it is missing and --sohoa is
given, `sohoa process -o OUT/docNNN PAGES...` produces it.

Prints, per field: accuracy, flagged (in "review"), and confidently wrong
(wrong and not flagged), then the issue's targets. Subjects count as right
at <= 5 % character error after normalising "V/v" to "Về việc". Secrecy is
reported as recall over the documents that carry a mark. Exit status 1
when a target is missed.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import unicodedata

FIELDS = ["format", "number", "notation", "number_notation", "date", "place", "type",
          "subject", "issuer", "issuer_superior", "signer", "signer_position",
          "signer_prefix", "urgency", "secrecy"]
TARGETS = {"number": 0.99, "notation": 0.99, "date": 0.99, "type": 0.99, "subject": 0.97,
           "issuer": 0.95, "place": 0.95, "signer": 0.95, "urgency": 0.98}


def nfc(s):
    return unicodedata.normalize("NFC", s) if isinstance(s, str) else s


def norm_subject(s):
    s = nfc(s or "").strip()
    for p in ("V/v ", "V/v", "v/v "):
        if s.startswith(p):
            s = "Về việc " + s[len(p):].lstrip()
    return " ".join(s.split())


def cer(a, b):
    if not b:
        return 0.0 if not a else 1.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j - 1] + (ca != cb), prev[j] + 1, cur[j - 1] + 1))
        prev = cur
    return prev[-1] / len(b)


def correct(field, got, want):
    if field == "subject":
        if want is None or got is None:
            return want == got
        return cer(norm_subject(got), norm_subject(want)) <= 0.05
    return nfc(got) == nfc(want)


def produce(sohoa, doc_dir, out_dir, truth):
    meta = os.path.join(out_dir, "metadata.json")
    if os.path.exists(meta) or not sohoa:
        return meta
    pages = [os.path.join(doc_dir, f) for f in truth.get("scan", {}).get("files", [])]
    if not pages:
        return meta
    os.makedirs(out_dir, exist_ok=True)
    subprocess.run([sohoa, "process", "-o", out_dir] + pages,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--sohoa", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--jobs", type=int, default=1)
    a = ap.parse_args()
    out_root = a.out or a.corpus
    docs = sorted(d for d in os.listdir(a.corpus)
                  if os.path.exists(os.path.join(a.corpus, d, "truth.json")))
    truths = {d: json.load(open(os.path.join(a.corpus, d, "truth.json"), encoding="utf-8"))
              for d in docs}
    with concurrent.futures.ThreadPoolExecutor(max(1, a.jobs)) as ex:
        metas = dict(zip(docs, ex.map(
            lambda d: produce(a.sohoa, os.path.join(a.corpus, d), os.path.join(out_root, d),
                              truths[d]), docs)))
    stats = {f: {"ok": 0, "flagged": 0, "wrong": 0, "n": 0} for f in FIELDS}
    missing = 0
    sec_marked = sec_found = 0
    wrong_lines = []
    for d in docs:
        t = truths[d]
        try:
            m = json.load(open(metas[d], encoding="utf-8"))
        except (OSError, ValueError):
            missing += 1
            m = {"review": FIELDS}
        review = set(m.get("review", []))
        for f in FIELDS:
            s = stats[f]
            s["n"] += 1
            if correct(f, m.get(f), t.get(f)):
                s["ok"] += 1
            elif f in review:
                s["flagged"] += 1
            else:
                s["wrong"] += 1
                wrong_lines.append(f"{d} {f}: got {m.get(f)!r}, want {t.get(f)!r}")
        if t.get("secrecy"):
            sec_marked += 1
            sec_found += m.get("secrecy") is not None
    print(f"documents: {len(docs)}   without metadata.json: {missing}")
    print(f"{'field':18} {'accuracy':>9} {'flagged':>8} {'conf.wrong':>11}")
    failed = False
    for f in FIELDS:
        s = stats[f]
        acc = s["ok"] / s["n"] if s["n"] else 0.0
        mark = ""
        if f in TARGETS:
            ok = acc >= TARGETS[f]
            mark = f"  target {TARGETS[f]:.0%} {'ok' if ok else 'MISSED'}"
            failed |= not ok
        if f in ("number", "date") and s["wrong"]:
            mark += "  (confidently wrong must be 0)"
            failed = True
        print(f"{f:18} {acc:9.1%} {s['flagged']:8d} {s['wrong']:11d}{mark}")
    recall = sec_found / sec_marked if sec_marked else 1.0
    print(f"secrecy recall: {sec_found}/{sec_marked} ({recall:.0%}, target 100%)")
    failed |= recall < 1.0
    if wrong_lines and os.environ.get("BENCH_VERBOSE"):
        print("\n".join(wrong_lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
