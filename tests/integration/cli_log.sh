#!/bin/sh
# `eddy log` end to end on a real directory: append, read by offset and by
# timestamp, recovery of a torn tail after a crash, compaction.
set -eu
EDDY=$1
DIR=$(mktemp -d /tmp/eddy-cli-log-XXXXXX)
trap 'rm -rf "$DIR"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

seq 1 20000 | "$EDDY" log append "$DIR/p" -c segment.bytes=65536 > "$DIR/out"
grep -q "appended 20000 records" "$DIR/out" || fail "append: $(cat "$DIR/out")"
"$EDDY" log read "$DIR/p" -o 12345 -n 2 | cut -f1,4 > "$DIR/read"
printf '12345\t12346\n12346\t12347\n' | cmp -s - "$DIR/read" || fail "read: $(cat "$DIR/read")"
"$EDDY" log info "$DIR/p" | grep -q "log end offset:   20000" || fail "info"

# A torn tail, as kill -9 in the middle of a write leaves it.
last=$(ls "$DIR"/p/*.log | sort | tail -n 1)
rm -f "$DIR/p/.clean_shutdown" "$DIR/p/log.checkpoint"
truncate -s -10 "$last"
"$EDDY" log info "$DIR/p" > "$DIR/info" 2> "$DIR/err"
grep -q "truncating" "$DIR/err" || fail "no recovery line: $(cat "$DIR/err")"
grep -q "log end offset:   19500" "$DIR/info" || fail "recovered end: $(cat "$DIR/info")"

# Compaction keeps the latest value per key.
for i in $(seq 1 3000); do echo "user$((i % 10))=$i"; done |
    "$EDDY" log append "$DIR/c" -k = -c segment.bytes=4096 -c cleanup.policy=compact > /dev/null
"$EDDY" log clean "$DIR/c" -c segment.bytes=4096 -c cleanup.policy=compact > /dev/null
"$EDDY" log read "$DIR/c" | awk -F'\t' '{ v[$3] = $4 } END { for (k in v) print k, v[k] }' | sort > "$DIR/latest"
for i in $(seq 2991 3000); do echo "user$((i % 10)) $i"; done | sort | cmp -s - "$DIR/latest" ||
    fail "compaction lost a latest value: $(cat "$DIR/latest")"
n=$("$EDDY" log read "$DIR/c" | wc -l)
[ "$n" -lt 3000 ] || fail "compaction removed nothing ($n records)"

# Usage errors exit 2 and name the problem.
set +e
"$EDDY" log append "$DIR/x" -c no.such.key=1 2> "$DIR/err" < /dev/null
[ $? -eq 2 ] || fail "unknown key exit code"
grep -q "no.such.key" "$DIR/err" || fail "unknown key message"
echo "cli_log: ok"
