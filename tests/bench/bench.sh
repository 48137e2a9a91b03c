#!/usr/bin/env bash
# make bench: sohoa process vs OCRmyPDF on the same generated pages.
#
# One 20-page document (colour, gray and photocopied pages at 200-300 dpi,
# some skewed, one upside down; no blank backs, which OCRmyPDF would keep)
# is digitised by both tools. Printed per tool: pages per minute, KB per
# page, body-text word recall of the text layer (pdftotext against the
# generator's truth), and peak RSS (largest process, from GNU time).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PAGES=${BENCH_PAGES:-20}
work=${BENCH_DIR:-out/bench}
rm -rf "$work"
mkdir -p "$work"
export OMP_THREAD_LIMIT=1

command -v ocrmypdf >/dev/null || { echo "bench: ocrmypdf missing; run 'make deps'" >&2; exit 1; }

echo "bench: generating $PAGES pages"
# Documents of 1-4 pages until PAGES pages; features drawn from the seed.
seed=1000 n=0 i=0
while [ "$n" -lt "$PAGES" ]; do
    left=$((PAGES - n)); p=$(( (i % 4) + 1 )); [ "$p" -gt "$left" ] && p=$left
    extra=()
    case $((i % 5)) in
        1) extra=(--gray) ;;
        3) extra=(--photocopy --format png) ;;
    esac
    [ "$i" -eq 2 ] && extra+=(--upside-down)
    "$BUILD/fixturegen" -o "$work/gen$i" --seed $((seed + i)) --count 1 --pages "$p" --dpi 300 \
        --format jpg "${extra[@]}" >/dev/null
    n=$((n + p)); i=$((i + 1))
done
files=()
: > "$work/body.txt"
for d in "$work"/gen*/doc000; do
    # Only the printed sheets: OCRmyPDF would keep blank backs as pages.
    while read -r f; do files+=("$d/$f"); done < <(jq -r '.scan.feed[] | select(.blank | not) | .file' "$d/truth.json")
    jq -r .body_text "$d/truth.json" >> "$work/body.txt"
done
echo "bench: ${#files[@]} page files"

# OCRmyPDF takes one PDF: wrap the same images losslessly (img2pdf keeps
# JPEG bytes and PNG pixels as they are); that step is not timed.
img2pdf -o "$work/input.pdf" "${files[@]}"

run() { # name, output pdf, command...
    local name=$1 pdf=$2; shift 2
    /usr/bin/time -f "%e %M" -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 \
        || { echo "bench: $name failed:"; tail -5 "$work/$name.log"; exit 1; }
    pdftotext -enc UTF-8 "$pdf" "$work/$name.txt"
}

echo "bench: sohoa process"
run sohoa "$work/sohoa/document.pdf" "$BUILD/sohoa" process -o "$work/sohoa" "${files[@]}"
echo "bench: ocrmypdf -l vie --deskew --rotate-pages -j 2 (PDF/A)"
run ocrmypdf "$work/ocrmypdf.pdf" ocrmypdf -l vie --deskew --rotate-pages -j 2 --output-type pdfa \
    "$work/input.pdf" "$work/ocrmypdf.pdf"

python3 - "$work" "${#files[@]}" <<'PY'
import collections, os, re, sys, unicodedata
work, pages = sys.argv[1], int(sys.argv[2])
def words(path):
    t = unicodedata.normalize("NFC", open(path, encoding="utf-8").read()).lower()
    return collections.Counter(re.findall(r"\w+", t))
ref = words(f"{work}/body.txt")
total = sum(ref.values())
rows = {}
for name, pdf in (("sohoa", f"{work}/sohoa/document.pdf"), ("ocrmypdf", f"{work}/ocrmypdf.pdf")):
    secs, rss_kb = open(f"{work}/{name}.time").read().split()[-2:]
    got = words(f"{work}/{name}.txt")
    recall = 100.0 * sum(min(n, got[w]) for w, n in ref.items()) / total
    rows[name] = (pages * 60 / float(secs), os.path.getsize(pdf) / 1024 / pages, recall,
                  int(rss_kb) / 1024, float(secs))
print(f"\n{'tool':<10} {'pages/min':>10} {'KB/page':>9} {'recall %':>9} {'peak RSS MB':>12} {'wall s':>8}")
for name, (ppm, kb, rec, rss, secs) in rows.items():
    print(f"{name:<10} {ppm:>10.1f} {kb:>9.1f} {rec:>9.2f} {rss:>12.1f} {secs:>8.1f}")
s, o = rows["sohoa"], rows["ocrmypdf"]
print(f"\nsohoa/ocrmypdf: throughput x{s[0] / o[0]:.2f} (target >= 2), size x{s[1] / o[1]:.2f} "
      f"(target <= 0.5), recall {s[2] - o[2]:+.2f} points (target >= 0), "
      f"peak RSS {s[3]:.0f} MB (target < 400)")
PY
