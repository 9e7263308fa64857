#!/usr/bin/env bash
# The word-count example on compressed topics against a real broker:
#   - its input holds batches of every codec written by kcat and lz4, gzip and snappy batches
#     written by `eddy topic produce -z`, and a second input batches of every codec written
#     by kafkajs; with producer.compression.type=zstd (one app) and lz4 (another)
#     the changelog, repartition and output topics are written compressed (checked on disk:
#     every batch carries the codec's bits), and the counts equal the reference (awk);
#   - kill -9 of one of two instances after a commit: the survivor restores the dead one's
#     tasks from the compressed changelogs (restored > 0) and, fed more compressed input, its
#     counts equal the reference; the same with standbys following lz4 changelogs;
#   - an input batch that cannot be read (a corrupt zstd stream with a valid CRC): with
#     default.deserialization.exception.handler=log-and-fail the app stops naming topic,
#     partition and offset and commits nothing past it; with log-and-continue it logs an
#     ERROR, skips the batch and counts the rest exactly.
#
#   streams_compression.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_compression "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout kcat python3
export LC_ALL=C
SEG="python3 $COMPAT_DIR/segtool.py"

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

corpus() { # SEED LINES
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed);
        split("the quick brown Fox jumps over lazy dog Kafka stream table join window count " \
              "eddy broker log segment index offset partition replica leader follower commit " \
              "state store LMDB changelog restore task thread group member rebalance 42 2026", v, " ");
        for (i = 0; i < n; i++) {
            line = "";
            k = 3 + int(rand() * 9);
            for (j = 0; j < k; j++) {
                w = v[1 + int(rand() * rand() * 40)];
                line = line (j ? (rand() < 0.2 ? ", " : " ") : "") w;
            }
            print line ".";
        }
    }'
}
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
latest() { # TOPIC
    E topic consume "$1" -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}

start_app() { # NAME APP_ID INPUT OUTPUT [extra -X ...]
    local name=$1 app=$2 in=$3 out=$4
    shift 4
    "$WC" --input "$in" --output "$out" -X "bootstrap.servers=$BOOTSTRAP" \
        -X "application.id=$app" -X "state.dir=$WORK/state-$name" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 "$@" \
        >"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$name=$pid"
}
stop_app() { # NAME: SIGTERM, must exit 0
    local pid
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    local rc=0
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$1 did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/$1.log" >&2; fail "$1 exited $rc after SIGTERM"; }
}
wait_counts() { # TOPIC EXPECTED_FILE [LOGNAME...]
    local topic=$1 want=$2
    shift 2
    for _ in $(seq 1 60); do
        latest "$topic" >"$WORK/got"
        cmp -s "$WORK/got" "$want" && return 0
        sleep 1
    done
    diff "$want" "$WORK/got" | head -n 20 >&2 || true
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
    fail "$topic: counts are not the reference after 60 s"
}
# Every batch of every partition of the topic carries codec $2 (and there is one at least).
check_codec() { # TOPIC CODEC_ID
    local got
    got=$(for d in "$WORK/data/$1"-[0-9]*; do $SEG codecs "$d"; done | awk '{ print $3 }' | sort -u | tr '\n' ' ')
    [ "$got" = "$2 " ] || fail "$1: batches on disk have codec(s) '$got', expected $2 only"
}

# Input: four compressed parts, each in its own codec, on 4 partitions.
E topic create lines -p 4 >/dev/null
corpus 1 1500 >"$WORK/p1"
corpus 2 1000 >"$WORK/p2"
corpus 3 500 >"$WORK/p3"
corpus 4 500 >"$WORK/p4"
kc -P -t lines -z zstd <"$WORK/p1" || fail "kcat -P -z zstd failed"
E topic produce lines -z lz4 <"$WORK/p2" 2>"$WORK/produce.err" || fail "eddy topic produce -z lz4 failed: $(cat "$WORK/produce.err")"
E topic produce lines -z gzip <"$WORK/p3" 2>"$WORK/produce.err" || fail "eddy topic produce -z gzip failed: $(cat "$WORK/produce.err")"
E topic produce lines -z snappy <"$WORK/p4" 2>"$WORK/produce.err" || fail "eddy topic produce -z snappy failed: $(cat "$WORK/produce.err")"
# librdkafka compresses gzip, snappy and lz4 too now that the broker advertises Produce v0.
corpus 7 300 >"$WORK/p7"
corpus 8 300 >"$WORK/p8"
corpus 9 300 >"$WORK/p9"
kc -P -t lines -z gzip <"$WORK/p7" || fail "kcat -P -z gzip failed"
kc -P -t lines -z snappy <"$WORK/p8" || fail "kcat -P -z snappy failed"
kc -P -t lines -z lz4 <"$WORK/p9" || fail "kcat -P -z lz4 failed"
# librdkafka sends a batch uncompressed when compressing it does not make it smaller, which
# happens to a first batch of a few short lines (timing): such batches are not counted.
got=$(for d in "$WORK/data"/lines-[0-9]*; do $SEG codecs "$d"; done | awk '$3 != 0 || $4 >= 10 { print $3 }' | sort -u | tr '\n' ' ')
[ "$got" = "1 2 3 4 " ] || fail "lines: codecs on disk '$got', expected gzip, snappy, lz4 and zstd batches (1 2 3 4)"
cat "$WORK/p1" "$WORK/p2" "$WORK/p3" "$WORK/p4" "$WORK/p7" "$WORK/p8" "$WORK/p9" | reference >"$WORK/ref"
log "input: $(cat "$WORK"/p? | wc -l) lines in zstd, gzip, snappy, lz4 (kcat) and lz4, gzip, snappy (eddy) batches"

# Two apps, changelogs and the rest in zstd and in lz4.
for c in zstd:4 lz4:3; do
    codec=${c%:*} id=${c#*:}
    E topic create "out-$codec" -p 4 >/dev/null
    start_app "a_$codec" "wc-$codec" lines "out-$codec" -X "producer.compression.type=$codec"
    wait_counts "out-$codec" "$WORK/ref" "a_$codec"
    stop_app "a_$codec"
    for t in "wc-$codec-counts-changelog" "wc-$codec-counts-repartition" "out-$codec"; do
        [ -d "$WORK/data/$t-0" ] || fail "no topic $t (topics: $(ls "$WORK/data" | tr '\n' ' '))"
        check_codec "$t" "$id"
    done
    log "producer.compression.type=$codec: exact counts; changelog, repartition and output batches are $codec"
done

# Input written by kafkajs in every codec (its codec packages pinned in tests/compat's lock
# file, installed as compat_compression installs them).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    for m in kafkajs kafkajs-snappy lz4js zstd-codec; do
        if [ ! -f "$COMPAT_DIR/node_modules/$m/package.json" ]; then
            (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 ||
                fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
            break
        fi
    done
    E topic create jslines -p 1 >/dev/null
    for c in gzip snappy lz4 zstd; do
        (cd "$COMPAT_DIR" && timeout -k 5 90 node compression.js "$BOOTSTRAP" produce jslines $c 500) ||
            fail "kafkajs could not produce $c to jslines"
    done
    got=$($SEG codecs "$WORK/data/jslines-0" | awk '{ print $3 }' | sort -u | tr '\n' ' ')
    [ "$got" = "1 2 3 4 " ] || fail "jslines: codecs on disk '$got', expected 1 2 3 4"
    # The same values compression.js writes, four times (once per codec).
    for c in 1 2 3 4; do
        awk 'BEGIN { t = "the quick brown fox jumps over the lazy dog "; t = t t t
                     for (j = 0; j < 500; j++) printf "v%d-%s\n", j, t }'
    done | reference >"$WORK/ref-js"
    E topic create out-js -p 1 >/dev/null
    start_app js wc-js jslines out-js -X producer.compression.type=gzip
    wait_counts out-js "$WORK/ref-js" js
    stop_app js
    log "input of every codec written by kafkajs: exact counts"
else
    fail "node and npm are needed (scripts/install-deps.sh installs them)"
fi

# kill -9 one of two instances after a commit: the survivor restores its tasks from the
# compressed changelog, and more compressed input still gives exact counts.
E topic create out-k -p 4 >/dev/null
start_app k1 wck lines out-k -X producer.compression.type=zstd
start_app k2 wck lines out-k -X producer.compression.type=zstd
wait_counts out-k "$WORK/ref" k1 k2
sleep 2 # a commit or more after the last update
mark=$(($(wc -l <"$WORK/k2.log") + 1))
kill -9 "$PID_k1"
wait "$PID_k1" 2>/dev/null || true
corpus 5 800 >"$WORK/p5"
kc -P -t lines -z zstd <"$WORK/p5" || fail "kcat -P -z zstd failed"
cat "$WORK"/p? | reference >"$WORK/ref5"
wait_counts out-k "$WORK/ref5" k2
restored=$(tail -n +"$mark" "$WORK/k2.log" | sed -n 's/.* restored: \([0-9]*\) records.*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ "$restored" -gt 0 ] || { tail -n 30 "$WORK/k2.log" >&2; fail "the survivor restored nothing after the kill"; }
check_codec wck-counts-changelog 4
stop_app k2
log "kill -9: the survivor restored $restored records from the zstd changelog; exact counts"

# Standbys follow the compressed changelogs (through the restore consumer) and take over.
E topic create out-s -p 4 >/dev/null
start_app s1 wcs lines out-s -X producer.compression.type=lz4 -X num.standby.replicas=1
start_app s2 wcs lines out-s -X producer.compression.type=lz4 -X num.standby.replicas=1
wait_counts out-s "$WORK/ref5" s1 s2
grep -Eq "assigned [0-9]+ active and [1-9][0-9]* standby" "$WORK/s2.log" || fail "s2 was given no standby task"
sleep 2 # a commit or more after the last update
kill -9 "$PID_s1"
wait "$PID_s1" 2>/dev/null || true
corpus 9 300 >"$WORK/p6"
E topic produce lines -z snappy <"$WORK/p6" 2>"$WORK/produce.err" || fail "eddy topic produce -z snappy failed: $(cat "$WORK/produce.err")"
cat "$WORK"/p? | reference >"$WORK/ref6"
wait_counts out-s "$WORK/ref6" s2
check_codec wcs-counts-changelog 3
stop_app s2
log "standbys on lz4 changelogs: the survivor took over, exact counts"

# An input batch that cannot be read.
E topic create badlines -p 1 >/dev/null
corpus 6 200 >"$WORK/b1"
corpus 7 200 >"$WORK/b2"
corpus 8 200 >"$WORK/b3"
E topic produce badlines -z lz4 <"$WORK/b1" 2>/dev/null
E topic produce badlines -z zstd <"$WORK/b2" 2>/dev/null
E topic produce badlines -z lz4 <"$WORK/b3" 2>/dev/null
[ "$($SEG codecs "$WORK/data/badlines-0" | awk '{ print $1 "-" $2 ":" $3 }' | tr '\n' ' ')" = "0-199:3 200-399:4 400-599:3 " ] ||
    fail "badlines: expected three batches: $($SEG codecs "$WORK/data/badlines-0")"
stop_broker
$SEG corrupt "$WORK/data/badlines-0" 200
start_broker "$WORK/data"
E topic create out-f -p 1 >/dev/null
rc=0
timeout 60 "$WC" --input badlines --output out-f -X "bootstrap.servers=$BOOTSTRAP" -X application.id=wcf \
    -X "state.dir=$WORK/state-f" -X commit.interval.ms=300 >"$WORK/f.log" 2>&1 </dev/null || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || { tail -n 20 "$WORK/f.log" >&2; fail "log-and-fail: the app exited $rc, expected a failure of its own"; }
grep -q "badlines-0 offset 200: .*zstd.*log-and-fail" "$WORK/f.log" ||
    { tail -n 20 "$WORK/f.log" >&2; fail "log-and-fail: no error naming badlines-0 offset 200 and the handler"; }
committed=$(E group describe wcf | awk '$1 == "badlines" && $2 == "0" { print $3 }')
case $committed in "" | - | [0-9]*) ;; *) fail "wcf: cannot read the committed offset ('$committed')" ;; esac
[ "$committed" = "" ] || [ "$committed" = - ] || [ "$committed" -le 200 ] ||
    fail "log-and-fail committed $committed for badlines-0, past the unreadable batch at 200"
log "log-and-fail: stopped naming badlines-0 offset 200 (exit $rc, committed '${committed:--}')"
E topic create out-c -p 1 >/dev/null
start_app c wcc badlines out-c -X default.deserialization.exception.handler=log-and-continue
cat "$WORK/b1" "$WORK/b3" | reference >"$WORK/ref13"
wait_counts out-c "$WORK/ref13" c
grep -q "ERROR.*badlines-0 offset 200: .*skipping offsets 200-399.*200 skipped so far" "$WORK/c.log" ||
    { tail -n 20 "$WORK/c.log" >&2; fail "log-and-continue: no ERROR line for the skipped batch"; }
stop_app c
log "log-and-continue: the batch at 200-399 skipped with an ERROR line, the rest counted exactly"

stop_broker
log "ok"
