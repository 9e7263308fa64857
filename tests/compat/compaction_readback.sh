#!/usr/bin/env bash
# Batches written by Eddy's own RecordBatch encoder, read by clients no one here wrote:
# the broker's compaction rewrites partly-kept batches with wire/recordbatch.c, and kcat
# (librdkafka, checking every CRC) and kafkajs must read the result. Also checks compaction end to end through
# the broker: the latest value of every key survives, offsets stay where they were.
# usage: compaction_readback.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init compaction "${1:?usage: compaction_readback.sh EDDY}"
need node npm kcat timeout

if [ ! -f "$COMPAT_DIR/node_modules/kafkajs/package.json" ]; then
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi

# Every topic compacted, small segments, the cleaner checking every 200 ms.
start_broker "$WORK/data" --set log.cleanup.policy=compact --set log.segment.bytes=4096 \
    --set log.cleaner.backoff.ms=200 --set log.cleaner.min.cleanable.ratio=0.01

# 3000 records, 50 keys, in librdkafka's multi-record batches, then one more record so the
# segment holding the last of them rolls and becomes cleanable.
for i in $(seq 1 3000); do echo "k$((i % 50)):v$i"; done > "$WORK/in"
kc -P -t kv -K: -X linger.ms=50 -p 0 < "$WORK/in"
echo "roll:x" | kc -P -t kv -K: -p 0
kc -C -t kv -p 0 -o beginning -e -q -f '%o %k %s\n' > "$WORK/before"
[ "$(wc -l < "$WORK/before")" = 3001 ] || fail "expected 3001 records before compaction"

# Wait for the cleaner (the broker logs each compaction).
for _ in $(seq 1 100); do
    grep -q "kv-0: compacted" "$BROKER_LOG" && break
    sleep 0.1
done
grep -q "kv-0: compacted" "$BROKER_LOG" || fail "the cleaner did not compact kv-0 within 10 s"

kc -C -t kv -p 0 -o beginning -e -q -X check.crcs=true -f '%o %k %s\n' > "$WORK/kcat"
n=$(wc -l < "$WORK/kcat")
[ "$n" -lt 3001 ] || fail "compaction removed nothing ($n records)"
# Every record read is one that was written at that offset...
join -j1 <(sort -k1,1 "$WORK/kcat") <(sort -k1,1 "$WORK/before") |
    awk '$2 != $4 || $3 != $5 { bad++ } END { exit bad > 0 }' ||
    fail "a record read after compaction differs from the one written at its offset"
# ...and the latest value of every key is there.
awk '{ v[$2] = $3 } END { for (k in v) print k, v[k] }' "$WORK/before" | sort > "$WORK/want"
awk '{ v[$2] = $3 } END { for (k in v) print k, v[k] }' "$WORK/kcat" | sort > "$WORK/got"
cmp -s "$WORK/want" "$WORK/got" || fail "latest values differ: $(diff "$WORK/want" "$WORK/got" | head)"
log "kcat read $n records after compaction; latest values of all 51 keys intact"

# kafkajs reads the same records (a consumer group from the earliest offset).
(cd "$COMPAT_DIR" && timeout -k 5 60 node compaction_readback.js "$BOOTSTRAP" kv "$n") \
    > "$WORK/kafkajs" || fail "kafkajs could not read the compacted topic"
sort -n "$WORK/kafkajs" | cmp -s - "$WORK/kcat" ||
    fail "kafkajs read differs from kcat: $(diff <(sort -n "$WORK/kafkajs") "$WORK/kcat" | head)"
log "kafkajs read the same $n records"
broker_alive
stop_broker
echo "compat_compaction: ok ($(($(date +%s) - _T0)) s)"
