#!/bin/sh
# make demo: the partition log at work, through `eddy log`.
# Until the broker and the streams layer exist, this shows what they stand on:
# append, segments, reads by offset and timestamp, crash recovery, compaction.
set -eu
EDDY=${1:-build/bin/eddy}
DIR=$(mktemp -d /tmp/eddy-demo-XXXXXX)
trap 'rm -rf "$DIR"' EXIT INT TERM
step() { printf '\n== %s\n' "$*"; }

step "append 200,000 lines as records (1 MB segments)"
start_ms=$(date +%s%3N)
seq 1 200000 | sed 's/^/line /' | "$EDDY" log append "$DIR/lines-0" -c segment.bytes=1048576
ls "$DIR/lines-0"

step "read 3 records from offset 150000"
"$EDDY" log read "$DIR/lines-0" -o 150000 -n 3

step "read from the first record at or after a timestamp"
"$EDDY" log read "$DIR/lines-0" -t "$start_ms" -n 1

step "a crash mid-write: cut 10 bytes off the last segment, remove the clean-shutdown marker"
last=$(ls "$DIR"/lines-0/*.log | sort | tail -n 1)
rm -f "$DIR/lines-0/.clean_shutdown" "$DIR/lines-0/log.checkpoint"
truncate -s -10 "$last"
"$EDDY" log info "$DIR/lines-0"

step "compaction: 10,000 updates of 100 keys keep the latest value per key"
i=0
while [ $i -lt 10000 ]; do echo "user$((i % 100))=balance-$i"; i=$((i + 1)); done |
    "$EDDY" log append "$DIR/balances-0" -k = -c cleanup.policy=compact -c segment.bytes=4096
"$EDDY" log clean "$DIR/balances-0" -c cleanup.policy=compact -c segment.bytes=4096
echo "records left: $("$EDDY" log read "$DIR/balances-0" | wc -l) (the active segment is never compacted, as in Kafka)"
echo "user42 in the log now (offset, timestamp, key, value):"
"$EDDY" log read "$DIR/balances-0" | grep -w user42
