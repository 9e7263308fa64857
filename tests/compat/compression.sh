#!/usr/bin/env bash
# Every Kafka codec across clients on a real Eddy broker:
#   - kafkajs produces gzip, snappy, lz4 and zstd batches (compression.js): `eddy topic consume`
#     (Eddy's consumer) reads each exactly (offsets, keys, values, headers; timestamps as kcat
#     reads them), also from an offset inside a compressed batch;
#   - kcat (librdkafka) produces gzip, snappy, lz4 and zstd batches: `eddy topic consume` reads
#     each exactly (keys, values, order);
#   - `eddy topic produce -z CODEC` for each codec: kcat -C and a kafkajs consumer read it
#     exactly;
#   each case checks on disk (segtool.py) that the batches carry the codec's bits, since a
#   client may send a batch uncompressed when compression does not pay;
#   - a compressed batch the broker refuses as too large is split, each part in the codec;
#   - a compressed LogAppendTime batch: each record's timestamp is the batch's maxTimestamp;
#   - a batch that cannot be read (a corrupt zstd stream with a valid CRC, a batch with an
#     unknown codec, written into the segment with the broker stopped): `eddy topic consume`
#     prints the records before it and exits 1 naming topic, partition and offset, with and
#     without -e, and with -g commits nothing past it.
# usage: compression.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init compression "${1:?usage: compression.sh EDDY}"
need node npm kcat timeout python3

# A fresh clone has no node_modules: install exactly what package-lock.json pins.
for m in kafkajs kafkajs-snappy lz4js zstd-codec; do
    if [ ! -f "$COMPAT_DIR/node_modules/$m/package.json" ]; then
        log "installing the kafkajs codecs (npm ci) in $COMPAT_DIR"
        (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
            fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
        break
    fi
done

SEG="python3 $COMPAT_DIR/segtool.py"
N=1000
start_broker "$WORK/data" --set num.partitions=1

ed() { timeout -k 5 "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
js() { (cd "$COMPAT_DIR" && timeout -k 5 90 node compression.js "$BOOTSTRAP" "$@"); }

# Every batch of a topic's partition 0 carries codec $2 (and there is at least one).
check_codec() {
    local t=$1 want=$2 codecs
    # librdkafka sends a batch uncompressed when compressing does not make it smaller, which
    # happens to a first batch of a few records (timing): those are not counted.
    codecs=$($SEG codecs "$WORK/data/$t-0" | awk '$3 != 0 || $4 >= 10 {print $3}' | sort -u | tr '\n' ' ')
    [ "$codecs" = "$want " ] || fail "$t: batches on disk have codec(s) '$codecs', expected $want only"
}

codec_id() { case $1 in none) echo 0 ;; gzip) echo 1 ;; snappy) echo 2 ;; lz4) echo 3 ;; zstd) echo 4 ;; esac; }

# The records compression.js writes, as `offset key value header` lines.
TEXT='the quick brown fox jumps over the lazy dog the quick brown fox jumps over the lazy dog the quick brown fox jumps over the lazy dog '
awk -v n=$N -v text="$TEXT" 'BEGIN { for (i = 0; i < n; i++) printf "%d k%d v%d-%s h=%d\n", i, i, i, text, i }' > "$WORK/js.expected"

# ---- kafkajs writes, Eddy reads ----
for c in gzip snappy lz4 zstd; do
    t=js-$c
    ed topic create $t -p 1 > /dev/null || fail "create $t"
    js produce $t $c $N || fail "kafkajs could not produce $c to $t"
    check_codec $t "$(codec_id $c)"
    ed topic consume $t -o beginning -e -f '%o %k %v %h\n' > "$WORK/$t.eddy" || fail "eddy topic consume $t failed"
    cmp -s "$WORK/js.expected" "$WORK/$t.eddy" ||
        fail "$t ($c, by kafkajs): eddy topic consume differs from what was produced: $(diff "$WORK/js.expected" "$WORK/$t.eddy" | head -n 5)"
    # Timestamps: as librdkafka reads them.
    ed topic consume $t -o beginning -e -f '%o %T\n' > "$WORK/$t.ts.eddy"
    kc -C -t $t -e -q -f '%o %T\n' > "$WORK/$t.ts.kcat" || fail "kcat -C $t failed"
    cmp -s "$WORK/$t.ts.eddy" "$WORK/$t.ts.kcat" || fail "$t: timestamps differ between eddy and kcat"
    # From an offset inside a compressed batch (batches of 250: 600 is inside 500-749).
    ed topic consume $t -o 600 -e -f '%o %k %v %h\n' > "$WORK/$t.600"
    tail -n +601 "$WORK/js.expected" | cmp -s - "$WORK/$t.600" ||
        fail "$t: consuming from offset 600 (inside a $c batch) is not exactly offsets 600-999"
    log "$c by kafkajs: read exactly by eddy topic consume"
done

# ---- kcat (librdkafka) writes each codec, Eddy reads ----
for c in gzip snappy lz4 zstd; do
    t=kc-$c
    awk -v n=$N -v c=$c 'BEGIN { for (i = 0; i < n; i++) printf "kc%d|value %d of the %s topic written by kcat\n", i, i, c }' > "$WORK/$t.in"
    ed topic create $t -p 1 > /dev/null || fail "create $t"
    kc -P -t $t -z $c -K '|' < "$WORK/$t.in" || fail "kcat -P -z $c failed"
    check_codec $t "$(codec_id $c)"
    ed topic consume $t -o beginning -e -f '%k|%v\n' > "$WORK/$t.eddy" || fail "eddy topic consume $t failed"
    cmp -s "$WORK/$t.in" "$WORK/$t.eddy" ||
        fail "$t ($c, by kcat): eddy topic consume differs from what was produced: $(diff "$WORK/$t.in" "$WORK/$t.eddy" | head -n 5)"
    log "$c by kcat: read exactly by eddy topic consume"
done

# ---- Eddy writes, kcat and kafkajs read ----
awk -v n=$N 'BEGIN { for (i = 0; i < n; i++) printf "k%d|v%d-record %d written by eddy topic produce\n", i, i, i }' > "$WORK/ed.in"
awk -F'|' '{ printf "%d %s %s\n", NR - 1, $1, $2 }' "$WORK/ed.in" > "$WORK/ed.expected"
for c in gzip snappy lz4 zstd; do
    t=ed-$c
    ed topic create $t -p 1 > /dev/null
    ed topic produce $t -z $c -k '|' < "$WORK/ed.in" 2> "$WORK/$t.produce" ||
        fail "eddy topic produce -z $c failed: $(cat "$WORK/$t.produce")"
    check_codec $t "$(codec_id $c)"
    kc -C -t $t -e -q -f '%o %k %s\n' > "$WORK/$t.kcat" || fail "kcat -C $t failed"
    cmp -s "$WORK/ed.expected" "$WORK/$t.kcat" ||
        fail "$t ($c, by eddy): kcat reads something else: $(diff "$WORK/ed.expected" "$WORK/$t.kcat" | head -n 5)"
    js consume $t $N | sed 's/ $//' > "$WORK/$t.js" || fail "kafkajs could not consume $t"
    cmp -s "$WORK/ed.expected" "$WORK/$t.js" ||
        fail "$t ($c, by eddy): kafkajs reads something else: $(diff "$WORK/ed.expected" "$WORK/$t.js" | head -n 5)"
    log "$c by eddy topic produce: read exactly by kcat and kafkajs"
done
# A batch the broker refuses as too large (MESSAGE_TOO_LARGE) is split one record per batch,
# each still compressed: lines of random base64 hardly compress, so the 16 KiB batches stay far
# over max.message.bytes=2000.
head -c 30000 /dev/urandom | base64 -w 100 | head -n 200 > "$WORK/split.in"
ed topic create ed-split -p 1 -c max.message.bytes=2000 > /dev/null || fail "create ed-split"
ed topic produce ed-split -z zstd < "$WORK/split.in" 2> "$WORK/split.produce" ||
    fail "eddy topic produce -z zstd to ed-split failed: $(cat "$WORK/split.produce")"
check_codec ed-split 4
# The producer may send a first batch small enough to go in whole (how many lines it has read
# by then is timing); every other batch was refused and split, one record per batch.
[ "$($SEG codecs "$WORK/data/ed-split-0" | awk '$4 != 1 && $5 > 2000' | wc -l)" = 0 ] ||
    fail "ed-split: a batch over max.message.bytes went in: $($SEG codecs "$WORK/data/ed-split-0" | awk '$5 > 2000')"
[ "$($SEG codecs "$WORK/data/ed-split-0" | awk '$4 == 1' | wc -l)" -gt 0 ] ||
    fail "ed-split: no batch was split one record per batch: $($SEG codecs "$WORK/data/ed-split-0" | head -n 5)"
ed topic consume ed-split -o beginning -e > "$WORK/split.out"
cmp -s "$WORK/split.in" "$WORK/split.out" || fail "ed-split: records differ after the split"
log "a zstd batch over max.message.bytes: split one record per zstd batch, read exactly"
ed topic produce ed-bad -z brotli < /dev/null 2> "$WORK/badz.err" && fail "-z brotli was accepted"
grep -q "brotli" "$WORK/badz.err" || fail "-z brotli: the error does not name the codec: $(cat "$WORK/badz.err")"

# ---- a batch that cannot be read ----
ed topic create bad -p 1 > /dev/null
seq 0 99 | ed topic produce bad 2> "$WORK/produce.err" ||
    fail "eddy topic produce bad failed: $(cat "$WORK/produce.err")"
seq 100 199 | ed topic produce bad -z zstd 2> "$WORK/produce.err" ||
    fail "eddy topic produce bad -z zstd failed: $(cat "$WORK/produce.err")"
seq 200 299 | ed topic produce bad -z lz4 2> "$WORK/produce.err" ||
    fail "eddy topic produce bad -z lz4 failed: $(cat "$WORK/produce.err")"
[ "$($SEG codecs "$WORK/data/bad-0" | awk '{print $1 "-" $2 ":" $3}' | tr '\n' ' ')" = "0-99:0 100-199:4 200-299:3 " ] ||
    fail "bad: expected three batches (none, zstd, lz4): $($SEG codecs "$WORK/data/bad-0")"
ed topic consume bad -o beginning -e > "$WORK/bad.before"
seq 0 299 | cmp -s - "$WORK/bad.before" || fail "bad: not read whole before the damage"
# A LogAppendTime batch: each record's timestamp is the batch's maxTimestamp (stamped here
# with the broker stopped, as a LogAppendTime topic's broker would have).
ed topic create lat -p 1 > /dev/null
seq 1 50 | ed topic produce lat -z zstd 2> "$WORK/produce.err" ||
    fail "eddy topic produce lat -z zstd failed: $(cat "$WORK/produce.err")"
stop_broker
$SEG logappendtime "$WORK/data/lat-0" 0 1700000000123
$SEG corrupt "$WORK/data/bad-0" 150 # the zstd stream, CRC still valid
$SEG codec "$WORK/data/bad-0" 250 6 # a codec no one knows
start_broker "$WORK/data"

ed topic consume lat -o 10 -e -f '%o %T %v\n' > "$WORK/lat.eddy"
awk 'BEGIN { for (i = 10; i < 50; i++) printf "%d 1700000000123 %d\n", i, i + 1 }' | cmp -s - "$WORK/lat.eddy" ||
    fail "lat: a zstd LogAppendTime batch's records do not all carry its maxTimestamp: $(head -n 3 "$WORK/lat.eddy")"
kc -C -t lat -o 10 -e -q -f '%o %T %s\n' | cmp -s - "$WORK/lat.eddy" || fail "lat: eddy and kcat disagree"
log "a zstd LogAppendTime batch: every record has its maxTimestamp (as kcat reads it)"

# $1: exit status, $2: stderr file, $3: offset it must name.
expect_stop() {
    [ "$1" = 1 ] || fail "$4: exit status $1 (expected 1; 124: it did not end): $(cat "$2")"
    grep -q "topic bad partition 0 offset $3:" "$2" ||
        fail "$4: the error does not name topic bad, partition 0 and offset $3: $(cat "$2")"
}
rc=0
ed topic consume bad -o beginning -e > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 100 "consume -e of a corrupt zstd batch"
seq 0 99 | cmp -s - "$WORK/bad.out" || fail "consume -e: the records before the corrupt batch were not all printed"
grep -q "zstd" "$WORK/bad.err" || fail "the error does not name the codec: $(cat "$WORK/bad.err")"
log "corrupt zstd batch, -e: $(cat "$WORK/bad.err")"
# Without -e it must end too (it used to skip the batch, or wait forever).
rc=0
timeout -k 5 30 "$EDDY" -b "$BOOTSTRAP" topic consume bad -o beginning > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 100 "consume without -e of a corrupt zstd batch"
# Inside the batch: the error names the position.
rc=0
ed topic consume bad -o 150 -e > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 150 "consume -o 150"
[ ! -s "$WORK/bad.out" ] || fail "consume -o 150 printed records of the corrupt batch: $(head -n 3 "$WORK/bad.out")"
# An unknown codec.
rc=0
ed topic consume bad -o 200 -e > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 200 "consume -o 200 (codec 6)"
grep -q "codec" "$WORK/bad.err" || fail "codec 6: the error does not say codec: $(cat "$WORK/bad.err")"
# A group commits nothing past the batch: 100 after the first run, and a second run starts
# there and stops again at once.
rc=0
ed topic consume bad -g zg -e > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 100 "consume -g"
seq 0 99 | cmp -s - "$WORK/bad.out" || fail "consume -g: the records before the corrupt batch were not all printed"
committed=$(ed group describe zg | awk '$1 == "bad" && $2 == "0" { print $3 }')
[ "$committed" = 100 ] || fail "consume -g committed '$committed' for bad-0, expected 100 (the corrupt batch's first offset)"
rc=0
ed topic consume bad -g zg -e > "$WORK/bad.out" 2> "$WORK/bad.err" || rc=$?
expect_stop $rc "$WORK/bad.err" 100 "consume -g, second run"
[ ! -s "$WORK/bad.out" ] || fail "consume -g, second run: printed records: $(head -n 3 "$WORK/bad.out")"
log "an unreadable batch stops eddy topic consume at it (with -e, without, -g commits 100)"

broker_alive
stop_broker
echo "compat_compression: ok ($(($(date +%s) - _T0)) s)"
