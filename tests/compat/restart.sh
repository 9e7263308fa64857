#!/usr/bin/env bash
# Durability across restarts, with librdkafka (rdkafka_test produce/verify modes) and kcat:
#  1. N records acks=all, all acknowledged; kill -9; restart on the same port and data dir:
#     every acknowledged record is at the partition/offset it was acknowledged at, nothing
#     else is there, and new appends continue at the old end.
#  2. kill -9 while a producer is sending and a consumer reading: both reconnect to the
#     restarted broker (same port); the producer finishes, every acknowledged record is
#     there (retried duplicates allowed: the producer is not idempotent), the consumer
#     reads every offset once, in order.
#  3. SIGTERM exits 0; a restart after it serves all of the above.
# usage: restart.sh path/to/eddy path/to/rdkafka_test
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init restart "${1:?usage: restart.sh EDDY RDKAFKA_TEST}"
PROG=${2:?usage: restart.sh EDDY RDKAFKA_TEST}
[ -x "$PROG" ] || fail "$PROG is not executable"
need kcat timeout
# librdkafka is not built with ASan: its leaks are not ours to report (the broker's are).
RDK_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# Small segments so that recovery crosses many of them.
ARGS=(--set num.partitions=3 --set log.segment.bytes=1048576)
DATA=$WORK/data

# The broker keeps its port across restarts: start on a free one (port 0), then reuse it.
start() { start_broker "$DATA" "${ARGS[@]}"; }
rdk() { ASAN_OPTIONS=$RDK_ASAN timeout -k 5 120 "$PROG" "$BOOTSTRAP" "$@"; }

# verify TOPIC N ACKFILE [dups-ok] -> prints the counts line; fails on a missing record.
verify() {
    local out rc=0
    out=$(rdk verify "$@" 2> "$WORK/verify.err") || rc=$?
    [ $rc = 0 ] || fail "verify $1 after restart: $(tail -n 8 "$WORK/verify.err")"
    echo "$out"
}

start
PORT=$BROKER_PORT

# ---- 1. acknowledged, then kill -9 ---------------------------------------------------
N1=200000
rc=0
rdk produce r1 $N1 "$WORK/acks1" 2> "$WORK/produce1.err" || rc=$?
[ $rc = 0 ] || fail "producing $N1 records to r1 (acks=all) failed: $(tail -n 5 "$WORK/produce1.err")"
[ "$(grep -vc ' err ' "$WORK/acks1")" = $N1 ] || fail "r1: not all $N1 records acknowledged"
# End offsets as the broker reports them before the crash.
for p in 0 1 2; do kc -Q -t "r1:$p:-1"; done > "$WORK/ends1" 2>&1 || fail "kcat -Q r1: $(cat "$WORK/ends1")"
log "r1: $N1 records acknowledged; ends $(awk '{ print $4 }' "$WORK/ends1" | tr '\n' ' ')"
kill9_broker
BROKER_PORT=$PORT start
counts=$(verify r1 $N1 "$WORK/acks1")
set -- $counts
[ "$2" = $N1 ] && [ "$8" = 0 ] && [ "${10}" = 0 ] && [ "${12}" = 0 ] ||
    fail "r1 after kill -9: $counts (expected read $N1, nothing missing, no duplicates)"
for p in 0 1 2; do kc -Q -t "r1:$p:-1"; done > "$WORK/ends1b" 2>&1 || fail "kcat -Q r1: $(cat "$WORK/ends1b")"
cmp -s "$WORK/ends1" "$WORK/ends1b" || fail "r1 end offsets changed across kill -9: $(cat "$WORK/ends1") -> $(cat "$WORK/ends1b")"
log "r1 after kill -9: all $N1 acknowledged records in place"

# New appends continue at the old end, no offset reused.
end0=$(awk '$2 == "[0]" { print $4 }' "$WORK/ends1")
seq 1 10 | sed 's/^/extra /' | kc -P -t r1 -p 0 -X acks=all 2> "$WORK/extra.err" || fail "kcat -P r1 after restart: $(cat "$WORK/extra.err")"
kc -C -t r1 -p 0 -o "$end0" -e -f '%o %s\n' > "$WORK/extra.out" 2> "$WORK/extra.err" || fail "kcat -C r1: $(cat "$WORK/extra.err")"
seq 1 10 | awk -v e="$end0" '{ printf "%d extra %d\n", e + NR - 1, $1 }' | cmp -s - "$WORK/extra.out" ||
    fail "appends after the restart: $(head -n 3 "$WORK/extra.out") (expected offsets from $end0)"
log "appends after restart continue at offset $end0"

# ---- 2. kill -9 in the middle of production --------------------------------------------
N2=300000
ASAN_OPTIONS=$RDK_ASAN PRODUCE_PACE_US=10000 timeout -k 5 150 "$PROG" "$BOOTSTRAP" produce r2 $N2 "$WORK/acks2" \
    2> "$WORK/produce2.err" &
prod=$!
bg_started $prod
# Wait until some records are acknowledged, then pull the plug.
for _ in $(seq 1 100); do
    [ -s "$WORK/acks2" ] && [ "$(wc -l < "$WORK/acks2")" -ge 50000 ] && break
    kill -0 $prod 2>/dev/null || break
    sleep 0.1
done
before=$(wc -l < "$WORK/acks2" 2>/dev/null || echo 0)
kill -0 $prod 2>/dev/null || fail "the producer finished before the kill ($before acks): raise N2"
# A consumer reading along, which has to ride out the restart too.
# (Not kcat: it exits by design once all broker connections are down.)
ASAN_OPTIONS=$RDK_ASAN timeout -k 5 150 "$PROG" "$BOOTSTRAP" follow r2 > "$WORK/follow.out" 2> "$WORK/follow.err" &
follow=$!
bg_started $follow
sleep 0.5
kill9_broker
sleep 1
BROKER_PORT=$PORT start
rc=0
wait $prod || rc=$?
bg_done $prod
acked2=$(grep -vc ' err ' "$WORK/acks2" || true)
log "r2: killed with $before acknowledged; producer exit $rc, $acked2 of $N2 acknowledged in the end"
[ $rc = 0 ] || fail "the producer did not get all of r2 acknowledged across the restart (exit $rc): $(grep -v '^\[' "$WORK/produce2.err" | tail -n 5)"
counts2=$(verify r2 $N2 "$WORK/acks2" dups-ok)
set -- $counts2
[ "$8" = 0 ] || fail "r2: $counts2"
log "r2 after kill -9 mid-production: $counts2"
# The consumer started before the kill saw every offset exactly once, in order.
total2=0
for p in 0 1 2; do
    e=$(kc -Q -t "r2:$p:-1" 2>&1) || fail "kcat -Q r2:$p:-1: $e"
    total2=$((total2 + ${e##* }))
done
for _ in $(seq 1 300); do
    [ "$(wc -l < "$WORK/follow.out")" -ge $total2 ] && break
    kill -0 $follow 2>/dev/null || break
    sleep 0.1
done
kill -TERM $follow 2>/dev/null || true
rc=0
wait $follow 2>/dev/null || rc=$?
bg_done $follow
[ $rc = 0 ] || fail "the following consumer exited $rc: $(tail -n 5 "$WORK/follow.err")"
awk '{ if ($2 != n[$1] + 0) { printf "partition %s: offset %s where %d expected\n", $1, $2, n[$1]; exit 1 } n[$1]++ }' \
    "$WORK/follow.out" > "$WORK/follow.chk" ||
    fail "the consumer that ran across kill -9 and restart: $(cat "$WORK/follow.chk")"
got=$(wc -l < "$WORK/follow.out")
[ "$got" = $total2 ] || fail "the consumer that ran across kill -9 and restart got $got of $total2 records: $(tail -n 5 "$WORK/follow.err")"
log "a librdkafka consumer running across the kill -9 and restart read all $total2 records of r2 once, in order"

# ---- 3. SIGTERM, restart, everything still there ----------------------------------------
for p in 0 1 2; do kc -Q -t "r1:$p:-1"; kc -Q -t "r2:$p:-1"; done > "$WORK/ends3" 2>&1 || fail "kcat -Q: $(cat "$WORK/ends3")"
stop_broker
BROKER_PORT=$PORT start
for p in 0 1 2; do kc -Q -t "r1:$p:-1"; kc -Q -t "r2:$p:-1"; done > "$WORK/ends3b" 2>&1 || fail "kcat -Q: $(cat "$WORK/ends3b")"
cmp -s "$WORK/ends3" "$WORK/ends3b" || fail "end offsets changed across a clean restart: $(cat "$WORK/ends3") -> $(cat "$WORK/ends3b")"
c1=$(verify r1 $N1 "$WORK/acks1")
set -- $c1
[ "$2" = $N1 ] && [ "$4" = 10 ] && [ "$8" = 0 ] && [ "${10}" = 0 ] || fail "r1 after a clean restart: $c1"
c2=$(verify r2 $N2 "$WORK/acks2" dups-ok)
[ "$c2" = "$counts2" ] || fail "r2 changed across a clean restart: $counts2 -> $c2"
log "clean restart: r1 and r2 unchanged"
broker_alive
stop_broker
echo "compat_restart: ok ($(($(date +%s) - _T0)) s)"
