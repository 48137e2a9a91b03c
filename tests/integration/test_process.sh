# sohoa process end to end on generated pages, checked with independent
# tools: qpdf, pdftotext, pdfimages, pdfinfo, and the metadata schema.
. tests/integration/lib.sh

# Checks metadata.json against the schema of interfaces.md.
check_schema() {
    local json=$1 name=$2
    if jq -e '
        .schema == "sohoa.metadata/1"
        and ([ "format","number","notation","number_notation","date","place","type","subject",
               "issuer","issuer_superior","signer","signer_position","signer_prefix","urgency",
               "secrecy","pages","blank_pages_removed","confidence","review" ]
             | all(. as $k | $json | has($k)))
        and (.number == null or (.number | type) == "number")
        and ((.pages | type) == "number") and ((.blank_pages_removed | type) == "number")
        and (.confidence | to_entries | all(.value >= 0 and .value <= 1))
        and (.review | type) == "array"
        and (.format == null or .format == "state" or .format == "party")
    ' --argjson json "$(cat "$json")" "$json" >/dev/null; then
        pass "$name: metadata.json follows the schema"
    else
        fail "$name: metadata.json schema" "$(head -c 400 "$json")"
    fi
}

# Checks a PDF: qpdf clean, PDF/A-2b identification, page count, text recall.
check_pdf() {
    local dir=$1 name=$2 pages=$3 truth=$4
    local pdf=$dir/document.pdf
    if qpdf --check "$pdf" >"$WORK/qpdf" 2>&1; then pass "$name: qpdf --check clean"; else
        fail "$name: qpdf --check" "$(tail -3 "$WORK/qpdf")"; fi
    local n
    n=$(pdfinfo "$pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
    [ "$n" = "$pages" ] && pass "$name: $pages page(s)" || fail "$name: page count" "got $n, want $pages"
    # XMP is an uncompressed stream: the identification is readable as is.
    if grep -aq 'pdfaid:part>2<\|pdfaid:part="2"' "$pdf" && grep -aq 'pdfaid:conformance>B<\|pdfaid:conformance="B"' "$pdf"; then
        pass "$name: XMP declares PDF/A-2b"; else fail "$name: PDF/A-2b identification" "no pdfaid part 2 / B"; fi
    if grep -aq 'GTS_PDFA1' "$pdf"; then pass "$name: sRGB OutputIntent"; else fail "$name: OutputIntent" "missing"; fi
    if pdffonts "$pdf" 2>/dev/null | awk 'NR>2 && $0 !~ / yes +yes +yes/ && $0 !~ / yes +no +yes/ {bad=1} END {exit bad}'; then
        pass "$name: fonts embedded"; else fail "$name: fonts" "$(pdffonts "$pdf" 2>&1 | tail -3)"; fi
    if grep -aq '/Encrypt' "$pdf"; then fail "$name: encryption" "PDF is encrypted"; else pass "$name: not encrypted"; fi
    pdftotext -enc UTF-8 "$pdf" "$WORK/text.txt" 2>/dev/null
    jq -r .body_text "$truth" > "$WORK/body.txt"
    local recall
    recall=$(word_recall "$WORK/body.txt" "$WORK/text.txt")
    if [ "$recall" -ge 90 ]; then pass "$name: pdftotext recovers the body ($recall% of words)"
    else fail "$name: text layer" "only $recall% of body words recovered"; fi
}

gen() { "$FIXTUREGEN" -o "$WORK/$1" --seed "$2" --count 1 "${@:3}" >/dev/null; }

# 1. A clean colour page, State layout: colour kept, text layer intact.
gen colour 101 --layout state --pages 1 --format jpg --color
doc=$WORK/colour/doc000
"$SOHOA" process -o "$WORK/out1" "$doc"/page-*.jpg >/dev/null 2>"$WORK/err" \
    && pass "colour page: processed" || fail "colour page: processed" "$(cat "$WORK/err")"
check_pdf "$WORK/out1" "colour page" 1 "$doc/truth.json"
check_schema "$WORK/out1/metadata.json" "colour page"
if pdfimages -list "$WORK/out1/document.pdf" 2>/dev/null | awk 'NR>2 && $6 == "rgb"' | grep -q .; then
    pass "colour page: PDF keeps a colour image"; else fail "colour page: colour" "$(pdfimages -list "$WORK/out1/document.pdf")"; fi
size=$(stat -c %s "$WORK/out1/document.pdf")
[ "$size" -lt 400000 ] && pass "colour page: compact ($((size / 1024)) KB)" || fail "colour page: size" "$size bytes"
# The page size is the scan's: A4 at the scan's resolution.
w=$(pdfinfo "$WORK/out1/document.pdf" | awk '/^Page size:/ {printf "%d", $3}')
[ "$w" -ge 592 ] && [ "$w" -le 599 ] && pass "colour page: A4 width ($w pt)" || fail "colour page: page size" "width $w pt"

# 2. Multi-page TIFF with duplex blank backs and an upside-down page.
gen duplex 202 --layout party --pages 2 --blank-back --upside-down --format tif-multi --gray
doc=$WORK/duplex/doc000
"$SOHOA" process -o "$WORK/out2" "$doc"/*.tif >/dev/null 2>"$WORK/err" \
    && pass "duplex TIFF: processed" || fail "duplex TIFF: processed" "$(cat "$WORK/err")"
blanks=$(jq '[.scan.feed[] | select(.blank)] | length' "$doc/truth.json")
check_pdf "$WORK/out2" "duplex TIFF" 2 "$doc/truth.json"
got=$(jq .blank_pages_removed "$WORK/out2/metadata.json")
[ "$got" = "$blanks" ] && pass "duplex TIFF: $blanks blank back(s) removed" || fail "duplex TIFF: blanks" "removed $got, want $blanks"
[ "$(jq .pages "$WORK/out2/metadata.json")" = 2 ] && pass "duplex TIFF: pages = 2" || fail "duplex TIFF: pages" "$(jq .pages "$WORK/out2/metadata.json")"

# 3. A bitonal photocopy (CCITT G4 TIFF) with skew.
gen copy 303 --layout state --pages 1 --photocopy --skew 2.5 --format tif
doc=$WORK/copy/doc000
"$SOHOA" process -o "$WORK/out3" "$doc"/*.tif >/dev/null 2>"$WORK/err" \
    && pass "photocopy: processed" || fail "photocopy: processed" "$(cat "$WORK/err")"
check_pdf "$WORK/out3" "photocopy" 1 "$doc/truth.json"
if pdfimages -list "$WORK/out3/document.pdf" 2>/dev/null | awk 'NR>2 && $9 == "ccitt"' | grep -q .; then
    pass "photocopy: stored as CCITT G4"; else fail "photocopy: encoding" "$(pdfimages -list "$WORK/out3/document.pdf")"; fi

# 3b. A photocopy with the registry's ĐẾN stamp over the date line's end:
#     the page's reading loses the date among the stamp's lines; the line,
#     read again alone in its band, gives it back.
gen stamped 13 --layout state --pages 1 --photocopy --stamp --no-handwritten --format png
doc=$WORK/stamped/doc000
"$SOHOA" process -vv -o "$WORK/out3b" "$doc"/page-1.png >/dev/null 2>"$WORK/log3b" \
    && pass "stamped photocopy: processed" || fail "stamped photocopy: processed" "$(tail -3 "$WORK/log3b")"
want=$(jq -r .date "$doc/truth.json")
got=$(jq -r .date "$WORK/out3b/metadata.json")
if grep -q "date line re-read at .*: read right" "$WORK/log3b" && [ "$got" = "$want" ]; then
    pass "stamped photocopy: date read again under the stamp ($got)"
else
    fail "stamped photocopy: date" "got $got, want $want; $(grep -c 'date line' "$WORK/log3b") re-read line(s)"
fi

# 4. PNM input and explicit JPEG compression; output directory re-used.
gen pnm 404 --layout state --pages 1 --format pnm --clean
doc=$WORK/pnm/doc000
"$SOHOA" process -o "$WORK/out1" --compression jpeg "$doc"/page-* >/dev/null 2>"$WORK/err" \
    && pass "PNM input: processed over an existing output" || fail "PNM input" "$(cat "$WORK/err")"
if pdfimages -list "$WORK/out1/document.pdf" 2>/dev/null | awk 'NR>2 && $9 == "jpeg"' | grep -q .; then
    pass "PNM input: --compression jpeg honoured"; else fail "PNM --compression jpeg" "no jpeg image"; fi
[ -z "$(find "$WORK/out1" -name '.*')" ] && pass "no temporary files left" || fail "temporary files" "$(find "$WORK/out1" -name '.*')"

# 5. The shared sample scans, when this checkout sits beside them.
samples=../shared/samples
if [ -d "$samples" ]; then
    for d in "$samples"/doc*; do
        id=$(basename "$d")
        n=$(jq .pages "$d/truth.json")
        files=$(jq -r '.scan.files[]' "$d/truth.json" | sed "s|^|$d/|")
        # shellcheck disable=SC2086
        if "$SOHOA" process -o "$WORK/s-$id" $files >/dev/null 2>"$WORK/err"; then
            check_pdf "$WORK/s-$id" "sample $id" "$n" "$d/truth.json"
            check_schema "$WORK/s-$id/metadata.json" "sample $id"
        else
            fail "sample $id: processed" "$(cat "$WORK/err")"
        fi
    done
fi
exit 0
