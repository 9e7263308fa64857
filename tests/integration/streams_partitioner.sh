#!/usr/bin/env bash
# eddy_stream_to_partitioned puts every record where the user's partitioner
# says, from the first record on: three instances start on input that is
# already there (so their first records are processed before anything knows
# the output topic's partition count), then more input comes. The
# partitioner sends key "k<N>" to partition N % 5, which is not where Kafka's
# default (murmur2) partitioner would put most keys; each output record's
# partition is checked against it, and no key may be on two partitions. An
# output topic that does not exist and is not created stops the app naming it.
#
#   streams_partitioner.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_partitioner "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create in-p -p 6 >/dev/null
E topic create hpart-out -p 5 >/dev/null

# produce FROM TO: records k<i % 60>:v<i>, keyed, so they spread over in-p's partitions
produce() {
    awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i < b; i++) printf "k%d:v%d\n", i % 60, i }' |
        E topic produce in-p -k : >/dev/null
}
# check N: waits for N output records, then checks each one's partition
check() {
    local got=0
    for _ in $(seq 600); do
        E topic consume hpart-out -o beginning -e -f '%p %k %v\n' >"$WORK/out.txt" 2>/dev/null || true
        got=$(wc -l <"$WORK/out.txt")
        [ "$got" -ge "$1" ] && break
        sleep 0.1
    done
    [ "$got" -ge "$1" ] || { tail -n 20 "$WORK"/app.*.log >&2; fail "$got output records, want $1"; }
    local bad
    bad=$(awk '{ n = substr($2, 2) + 0; if ($1 != n % 5) { bad++; if (bad <= 5) print "  " $0 " (want partition " n % 5 ")" } }
               END { if (bad) print bad " of " NR " records on the wrong partition" }' "$WORK/out.txt")
    [ -z "$bad" ] || { echo "$bad" >&2; fail "records not on their partitioner's partition"; }
    local split
    split=$(awk '!seen[$2 " " $1]++ { n[$2]++ } END { for (k in n) if (n[k] > 1) print k }' "$WORK/out.txt" | head -n 3)
    [ -z "$split" ] || fail "keys on several partitions: $split"
    [ "$(awk '{ print $3 }' "$WORK/out.txt" | sort -u | wc -l)" -eq "$1" ] ||
        fail "output is not the $1 distinct input records"
}

produce 0 600
PIDS=""
for i in 1 2 3; do
    timeout 150 "$APP" "$BOOTSTRAP" "$WORK/state$i" partition hpart >"$WORK/app.$i.log" 2>&1 </dev/null &
    PIDS="$PIDS $!"
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $!"
done
check 600
log "600 records from 3 instances, each on its partitioner's partition"
produce 600 900
check 900
log "300 more, same"
for p in $PIDS; do
    kill -TERM "$p"
    rc=0
    wait "$p" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK"/app.*.log >&2; fail "an instance exited $rc after SIGTERM"; }
done
log "instances stopped cleanly"

# An output topic that does not exist on a broker that does not create
# topics: the records wait for it, then the app stops naming it.
stop_broker
start_broker "$WORK/data2" --set auto.create.topics.enable=false
E topic create in-p -p 2 >/dev/null
produce 0 10
rc=0
timeout 60 "$APP" "$BOOTSTRAP" "$WORK/state-missing" partition hmiss \
    -X producer.delivery.timeout.ms=2000 >"$WORK/app.missing.log" 2>&1 </dev/null || rc=$?
[ "$rc" = 1 ] || { tail -n 20 "$WORK/app.missing.log" >&2; fail "app exited $rc, want 1"; }
grep -q "producing to hmiss-out failed: not delivered within delivery.timeout.ms, broker said UNKNOWN_TOPIC_OR_PARTITION (the topic does not exist" \
    "$WORK/app.missing.log" || { tail -n 20 "$WORK/app.missing.log" >&2; fail "no line naming the missing topic"; }
log "a missing output topic stops the app, naming it"
log "PASS"
