#!/usr/bin/env bash
# `make demo`, the README's first command, run several times as a newcomer would: every run
# must exit 0, count every word of its corpus and print the 10 most frequent words.
#
#   tests/integration/demo.sh EDDY_BINARY WORDCOUNT_BINARY [RUNS]
set -euo pipefail
EDDY=$1
WC=$2
RUNS=${3:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(mktemp /tmp/eddy-demo-test-XXXXXX)
trap 'rm -f "$OUT"' EXIT
for i in $(seq 1 "$RUNS"); do
    rc=0
    timeout 120 "$ROOT/scripts/demo.sh" "$EDDY" "$WC" >"$OUT" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$OUT"
        echo "FAIL: demo run $i of $RUNS exited with $rc"
        exit 1
    fi
    # the words the corpus has and the words counted agree
    words=$(sed -n 's/^[0-9]* lines, \([0-9]*\) words$/\1/p' "$OUT")
    counted=$(sed -n 's/^counted \([0-9]*\) words in.*/\1/p' "$OUT")
    top=$(awk '/^== the 10 most frequent words/ { on = 1; next } /^== / { on = 0 } on && NF == 2' "$OUT" | wc -l)
    if [ -z "$words" ] || [ "$words" != "$counted" ] || [ "$top" -ne 10 ] || ! tail -n 1 "$OUT" | grep -qx done; then
        cat "$OUT"
        echo "FAIL: demo run $i: corpus words '$words', counted '$counted', top lines $top"
        exit 1
    fi
    echo "demo run $i: exit 0, $counted of $words words counted, top 10 printed"
done
echo "PASS: demo ran $RUNS times"
