#!/usr/bin/env bash
# Committed offsets across broker restarts, with librdkafka consumers (groups_rdkafka consume,
# enable.auto.commit=false and a synchronous commit of offset+1 after every record), two
# consumers per phase in group grs on a 6-partition topic of 1200 records:
#  1. each consumer reads 150 records and closes; OffsetFetch returns exactly what the
#     commits acknowledged;
#  2. SIGTERM the broker, restart it (same port, same data): the committed offsets are the
#     same; two new consumers read 150 each, starting every partition exactly at its
#     committed offset;
#  3. kill -9 the broker, restart: the same, and these consumers read to the end;
#  4. kill -9 the broker under the running consumers while a producer adds 1200 more: the
#     consumers rejoin on their own and read every record; at the end the committed
#     offsets are the log end offsets.
# Throughout: no record is read and committed twice, and no consumer reads (and commits) an
# offset below one already committed for its partition: a record read twice is one whose
# commit failed or never finished (the uncommitted tail).
# usage: groups_restart.sh path/to/eddy path/to/groups_rdkafka
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
groups_init groups_restart "${1:?usage: groups_restart.sh EDDY GROUPS_RDKAFKA}" "${2:-}"
need kcat

DATA=$WORK/data
ARGS=(--set group.initial.rebalance.delay.ms=0)
start_broker "$DATA" "${ARGS[@]}"
PORT=$BROKER_PORT
restart() { BROKER_PORT=$PORT start_broker "$DATA" "${ARGS[@]}"; }

NP=6
gr create rs $NP 2>"$WORK/create.err" || fail "create topic: $(cat "$WORK/create.err")"
gr produce rs 0 1200 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
OPTS=(--commit=sync session.timeout.ms=6000 heartbeat.interval.ms=1000
      partition.assignment.strategy=roundrobin)

# What the consumers were told was committed (highest OK commit per partition), from FILES.
acked_commits() {
    awk -v np=$NP '$2 == "COMMIT" && $5 == "OK" && (!($3 in m) || $4 > m[$3]) { m[$3] = $4 }
        END { for (p = 0; p < np; p++) print p, (p in m ? m[p] : -1001) }' "$@"
}
# What the broker says (OffsetFetch).
fetch_commits() {
    gr committed grs rs 2>"$WORK/committed.err" | sort -n ||
        fail "OffsetFetch: $(cat "$WORK/committed.err")"
}
# Every partition a phase read starts exactly at its committed offset ($1: "P OFFSET" file).
check_resume() {
    local committed=$1
    shift
    local bad
    bad=$(awk 'FNR == NR { c[$1] = ($2 < 0 ? 0 : $2); next }
        $2 == "REC" && (!($3 in first) || $1 < ft[$3]) { first[$3] = $4; ft[$3] = $1 }
        END { for (p in first) if (first[p] != c[p]) print "partition " p " resumed at " first[p] ", committed " c[p] }' \
        "$committed" "$@")
    [ -z "$bad" ] || fail "resume after restart: $bad"
}
# Reads a consumer confirmed: the record and, right after it, its commit acknowledged
# ("MS CREC P OFFSET"), and every acknowledged commit ("MS OK P NEXT"), in time order.
# (A read whose commit failed or never finished proves nothing: after a broker restart a
# consumer keeps fetching until its next heartbeat says it is no longer a member.)
confirmed() {
    local f
    for f in "$@"; do
        # (CREC before its OK: sort -s keeps that order within a millisecond.)
        awk '$2 == "REC" { pt = $1; pp = $3; po = $4; pend = 1 }
            $2 == "COMMIT" && pend { if ($5 == "OK" && $3 == pp && $4 == po + 1) print pt, "CREC", pp, po; pend = 0 }
            $2 == "COMMIT" && $5 == "OK" { print $1, "OK", $3, $4 }' "$f"
    done | sort -s -n -k1,1
}
# No confirmed read of an offset below one already acknowledged as committed (committed
# offsets never go back), and no record is read and committed twice.
check_commits_monotonic() {
    local bad
    bad=$(confirmed "$@" | awk '
        $2 == "CREC" && ($3 in ok) && $4 < ok[$3] { print "read " $3 "/" $4 " at " $1 " (and committed) after offset " ok[$3] " was committed"; n++ }
        $2 == "CREC" && c[$3 " " $4]++ { print "record " $3 "/" $4 " read and committed twice"; n++ }
        $2 == "OK" && $4 > ok[$3] { ok[$3] = $4 }
        END { exit n > 0 }') || fail "$(head -n 5 <<<"$bad")"
}
run_phase() { # NAME MAX
    start_consumer "$1a" grs rs --max="$2" "${OPTS[@]}"
    start_consumer "$1b" grs rs --max="$2" "${OPTS[@]}"
    wait_consumer_exit "$1a" 60
    wait_consumer_exit "$1b" 60
    log "phase $1: read $(grep -c ' REC ' "$WORK/$1a.out") + $(grep -c ' REC ' "$WORK/$1b.out") records, $(grep ' COMMIT ' "$WORK/$1a.out" "$WORK/$1b.out" | grep -vc ' OK$') failed commits"
}

# 1.
run_phase p1 150
acked_commits "$WORK"/p1?.out >"$WORK/c1.acked"
fetch_commits >"$WORK/c1.fetched"
cmp -s "$WORK/c1.acked" "$WORK/c1.fetched" ||
    fail "OffsetFetch $(tr '\n' ' ' <"$WORK/c1.fetched") != acknowledged commits $(tr '\n' ' ' <"$WORK/c1.acked")"
log "committed after phase 1: $(tr '\n' ' ' <"$WORK/c1.fetched")"

# 2. SIGTERM.
stop_broker
restart
fetch_commits >"$WORK/c1.after"
cmp -s "$WORK/c1.acked" "$WORK/c1.after" ||
    fail "after SIGTERM + restart: OffsetFetch $(tr '\n' ' ' <"$WORK/c1.after") != $(tr '\n' ' ' <"$WORK/c1.acked")"
run_phase p2 150
check_resume "$WORK/c1.after" "$WORK"/p2?.out
acked_commits "$WORK"/p[12]?.out >"$WORK/c2.acked"
fetch_commits >"$WORK/c2.fetched"
cmp -s "$WORK/c2.acked" "$WORK/c2.fetched" ||
    fail "OffsetFetch $(tr '\n' ' ' <"$WORK/c2.fetched") != acknowledged commits $(tr '\n' ' ' <"$WORK/c2.acked")"
log "phase 2 resumed at the committed offsets; now committed: $(tr '\n' ' ' <"$WORK/c2.fetched")"

# 3. kill -9.
kill9_broker
restart
fetch_commits >"$WORK/c2.after"
cmp -s "$WORK/c2.acked" "$WORK/c2.after" ||
    fail "after kill -9 + restart: OffsetFetch $(tr '\n' ' ' <"$WORK/c2.after") != $(tr '\n' ' ' <"$WORK/c2.acked")"
start_consumer p3a grs rs "${OPTS[@]}"
start_consumer p3b grs rs "${OPTS[@]}"
wait_coverage 60 0 1199 "$WORK"/p[123]?.out
check_resume "$WORK/c2.after" "$WORK"/p3?.out
check_commits_monotonic "$WORK"/p[123]?.out
log "phase 3 resumed at the committed offsets after kill -9; records 0..1199 all read"

# 4. kill -9 under running consumers and a producer.
ASAN_OPTIONS=$GR_ASAN timeout -k 5 90 "$GR" produce "$BOOTSTRAP" rs 1200 1200 300 \
    >/dev/null 2>"$WORK/produce2.err" &
prod=$!
bg_started $prod
sleep 1.5
kill9_broker
sleep 1
restart
t_up=$(now_ms)
wait_coverage 60 1200 2399 "$WORK"/p3?.out
log "records 1200..2399 all read $(($(now_ms) - t_up)) ms after the restart"
rc=0
wait $prod || rc=$?
bg_done $prod
[ $rc = 0 ] || fail "producer across kill -9: $(tail -n 5 "$WORK/produce2.err")"
check_commits_monotonic "$WORK"/p3?.out
# Every record is committed in the end: committed offsets reach the log end offsets.
for p in $(seq 0 $((NP - 1))); do kc -Q -t "rs:$p:-1"; done >"$WORK/ends.raw" 2>&1 ||
    fail "kcat -Q: $(cat "$WORK/ends.raw")"
awk '{ print NR - 1, $NF }' "$WORK/ends.raw" >"$WORK/ends"
for _ in $(seq 1 100); do
    fetch_commits >"$WORK/c4.fetched"
    cmp -s "$WORK/ends" "$WORK/c4.fetched" && break
    sleep 0.2
done
cmp -s "$WORK/ends" "$WORK/c4.fetched" ||
    fail "committed $(tr '\n' ' ' <"$WORK/c4.fetched") != log ends $(tr '\n' ' ' <"$WORK/ends")"
reread=$(awk '$2 == "REC" && n[$3 " " $4]++ { d++ } END { print d + 0 }' "$WORK"/p3?.out)
log "committed = log end offsets ($(tr '\n' ' ' <"$WORK/ends")); $reread record(s) read again (uncommitted tail)"
stop_consumer p3a
stop_consumer p3b
broker_alive
stop_broker
echo "compat_groups_restart: ok ($(($(date +%s) - _T0)) s)"
