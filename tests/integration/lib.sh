# Helpers for integration tests (sourced). Each check prints "ok NAME" or
# "FAIL NAME: why" and is counted in $RESULTS.
: "${BUILD:=build}"
SOHOA=${SOHOA:-$PWD/$BUILD/sohoa}
FIXTUREGEN=${FIXTUREGEN:-$PWD/$BUILD/fixturegen}

pass() { echo "ok $1"; echo pass >> "$RESULTS"; }
fail() { echo "FAIL $1: $2"; echo fail >> "$RESULTS"; }

# check NAME COMMAND... : passes when COMMAND exits 0.
check() {
    local name=$1; shift
    if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name" "command failed: $*"; fi
}

# expect_exit CODE NAME COMMAND... : passes when COMMAND exits with CODE.
expect_exit() {
    local code=$1 name=$2; shift 2
    "$@" >/dev/null 2>"$WORK/stderr"
    local got=$?
    if [ "$got" -eq "$code" ]; then pass "$name"; else
        fail "$name" "exit $got, expected $code; stderr: $(head -c 300 "$WORK/stderr")"; fi
}

# Word recall of a text against a reference: share of reference words
# (case-folded, punctuation stripped) found in the text, as a percentage.
word_recall() {
    python3 - "$1" "$2" <<'PY'
import re, sys, unicodedata, collections
def words(path):
    t = unicodedata.normalize("NFC", open(path, encoding="utf-8").read()).lower()
    return re.findall(r"\w+", t)
ref = collections.Counter(words(sys.argv[1]))
got = collections.Counter(words(sys.argv[2]))
hit = sum(min(n, got[w]) for w, n in ref.items())
print(int(100 * hit / max(1, sum(ref.values()))))
PY
}
