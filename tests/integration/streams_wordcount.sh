#!/usr/bin/env bash
# The word-count example against a real broker: 1, 2 and 3 instances give the
# reference count (computed here with awk, independently of Eddy); a clean
# restart does not double count; counts combined before the repartition
# topic under a tiny budget, next to an instance that does not combine, are
# exact; kill -9 of one of two instances: the survivor takes over and no
# count is below the reference; reset then rerun gives the same result as a
# fresh run.
#
#   streams_wordcount.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_wordcount "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

# A corpus with a skewed vocabulary, mixed case and punctuation.
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
# word count the same way the example defines a word
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
# the latest count per word in an output topic
latest() { # TOPIC
    E topic consume "$1" -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}

APP_PIDS=()
start_app() { # NAME APP_ID OUTPUT [extra -X ...]
    local name=$1 app=$2 out=$3
    shift 3
    "$WC" --input lines --output "$out" -X "bootstrap.servers=$BOOTSTRAP" \
        -X "application.id=$app" -X "state.dir=$WORK/state-$name" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 "$@" \
        >"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    APP_PIDS+=("$pid")
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
# Waits until the output topic's latest counts equal (or, with ge, are all
# >= ) the expected file; bounded.
wait_counts() { # TOPIC EXPECTED_FILE [ge] [LOGNAME...]
    local topic=$1 want=$2 mode=${3:-eq}
    local i
    for i in $(seq 1 90); do
        latest "$topic" >"$WORK/got"
        if [ "$mode" = eq ]; then
            cmp -s "$WORK/got" "$want" && return 0
        else
            if join -a1 "$want" "$WORK/got" | awk 'NF < 3 || $3 < $2 { bad = 1 } END { exit bad }'; then
                return 0
            fi
        fi
        sleep 1
    done
    diff "$want" "$WORK/got" | head -n 20 >&2 || true
    shift 3 || true
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
    fail "$topic: counts are not the reference after 90 s ($mode)"
}

E topic create lines -p 4 >/dev/null
corpus 1 3000 >"$WORK/batch1"
corpus 2 2000 >"$WORK/batch2"
reference <"$WORK/batch1" >"$WORK/ref1"
cat "$WORK/batch1" "$WORK/batch2" | reference >"$WORK/ref12"
E topic produce lines <"$WORK/batch1" >/dev/null
log "corpus: $(wc -l <"$WORK/batch1") lines, $(wc -l <"$WORK/ref1") distinct words"

# 1 instance
E topic create out1 -p 4 >/dev/null
start_app a wc1 out1
wait_counts out1 "$WORK/ref1" eq a
log "1 instance: counts equal the reference"

# A clean restart does not double count: stop, start, more input.
stop_app a
start_app a wc1 out1
E topic produce lines <"$WORK/batch2" >/dev/null
wait_counts out1 "$WORK/ref12" eq a
log "clean restart: counts equal the reference of both batches"
stop_app a

# 2 and 3 instances from scratch
for n in 2 3; do
    E topic create "out$n" -p 4 >/dev/null
    names=()
    for i in $(seq 1 "$n"); do
        start_app "i$n$i" "wc$n" "out$n"
        names+=("i$n$i")
    done
    wait_counts "out$n" "$WORK/ref12" eq "${names[@]}"
    for nm in "${names[@]}"; do stop_app "$nm"; done
    log "$n instances: counts equal the reference"
done

# Counts are combined before the repartition topic (streams/combine.c).
# Two instances of one app: one with a cache so small that each combiner
# holds a few words and sends its table every few records, one with the
# cache off (no combining; its counts still read the other's combined
# records): the counts are still exact.
grep -q "combines counts before wc1-counts-repartition" "$WORK/a.log" ||
    fail "wordcount did not combine counts before its repartition topic"
E topic create outm -p 4 >/dev/null
start_app m1 wcm outm -X cache.max.bytes.buffering=1500
start_app m2 wcm outm -X cache.max.bytes.buffering=0
wait_counts outm "$WORK/ref12" eq m1 m2
grep -q "combines counts" "$WORK/m2.log" && fail "combined counts with cache.max.bytes.buffering=0"
stop_app m1
stop_app m2
log "combining with a tiny budget next to an instance without: counts equal the reference"

# Reset, then rerun into a fresh output: the same as a fresh run (the old
# local state is wiped by the app itself, nothing doubles).
E app reset --application-id wc1 --input-topics lines --to-earliest >"$WORK/reset.out" ||
    { cat "$WORK/reset.out" >&2; fail "eddy app reset failed"; }
E topic create out1b -p 4 >/dev/null
start_app a wc1 out1b
wait_counts out1b "$WORK/ref12" eq a
stop_app a
log "reset and rerun: counts equal the reference"

# kill -9 one of two instances mid-run: the survivor takes over; at least once.
E topic create outk -p 4 >/dev/null
start_app k1 wck outk
start_app k2 wck outk
sleep 3
kill -9 "$PID_k1"
wait "$PID_k1" 2>/dev/null || true
corpus 3 2000 >"$WORK/batch3"
cat "$WORK/batch1" "$WORK/batch2" "$WORK/batch3" | reference >"$WORK/ref123"
E topic produce lines <"$WORK/batch3" >/dev/null
wait_counts outk "$WORK/ref123" ge k2
log "kill -9: the survivor's counts are all >= the reference"
stop_app k2

# Standbys: with num.standby.replicas=1 on two instances, each task's state
# is also kept current on the other one; after a kill -9 the survivor's
# takeover restores only what the standby had not yet read: a small part of
# the changelog, where a takeover without a standby restores about half of
# it (s1's tasks). The bound is a tenth: a standby a little behind under
# load still passes, none at all does not.
E topic create outs -p 4 >/dev/null
start_app s1 wcs outs -X num.standby.replicas=1 -X cache.max.bytes.buffering=0
start_app s2 wcs outs -X num.standby.replicas=1 -X cache.max.bytes.buffering=0
wait_counts outs "$WORK/ref123" eq s1 s2
sleep 2 # a commit or more after the last update
grep -Eq "assigned [0-9]+ active and [1-9][0-9]* standby" "$WORK/s2.log" ||
    fail "s2 was given no standby task"
mark=$(($(wc -l <"$WORK/s2.log") + 1))
kill -9 "$PID_s1"
wait "$PID_s1" 2>/dev/null || true
corpus 4 500 >"$WORK/batch4"
cat "$WORK/batch1" "$WORK/batch2" "$WORK/batch3" "$WORK/batch4" | reference >"$WORK/ref1234"
E topic produce lines <"$WORK/batch4" >/dev/null
wait_counts outs "$WORK/ref1234" eq s2
updates=$(awk '{ s += $2 } END { print s }' "$WORK/ref123") # changelog records before the kill
tail -n +"$mark" "$WORK/s2.log" | grep " restored: " >"$WORK/takeover" ||
    fail "the survivor logged no restore after the kill"
restored=$(sed -n 's/.* restored: \([0-9]*\) records.*/\1/p' "$WORK/takeover" | awk '{ s += $1 } END { print s + 0 }')
log "standby takeover restored $restored of $updates changelog records"
[ "$restored" -lt $((updates / 10)) ] || { cat "$WORK/takeover" >&2; fail "takeover restored $restored of $updates records (standbys should have had them)"; }
stop_app s2
# The streams producer is idempotent (acks=all, enable.idempotence by
# default): every batch it wrote to the output, changelog and repartition
# topics carries a producer id and a sequence, and so does the eddy command's
# (the input). Only against a broker that hands out producer ids.
if grep -q 'API_INIT_PRODUCER_ID' "$COMPAT_DIR/../../wire/api_versions.c"; then
    python3 - "$WORK/data" lines-0 out1-0 wc1-counts-repartition-0 wc1-counts-changelog-0 <<'PY' ||
import os, struct, sys
root = sys.argv[1]
for part in sys.argv[2:]:
    d = os.path.join(root, part)
    n = 0
    for f in sorted(os.listdir(d)):
        if not f.endswith('.log'):
            continue
        b = open(os.path.join(d, f), 'rb').read()
        pos = 0
        while pos + 61 <= len(b):
            length = struct.unpack('>i', b[pos + 8:pos + 12])[0]
            pid, epoch, seq = struct.unpack('>qhi', b[pos + 43:pos + 57])
            if pid < 0 or epoch < 0 or seq < 0:
                sys.exit('%s: the batch at byte %d of %s has producer id %d, epoch %d, '
                         'sequence %d' % (part, pos, f, pid, epoch, seq))
            n += 1
            pos += 12 + length
    if n == 0:
        sys.exit('%s: no batch found' % part)
PY
        fail "a batch written by the streams producer (or eddy topic produce) has no producer id"
    log "the streams producer's batches (output, repartition, changelog) carry producer ids"
fi

stop_broker
log "ok"
