#!/usr/bin/env bash
# kafkajs consumer groups (groups_kafkajs.js, one process per consumer) against Eddy:
#  1. 3 consumers on a 6-partition topic get 2 partitions each (what each reports on
#     GROUP_JOIN, and what admin.describeGroups says: Stable, 3 members, same assignment);
#     every record is consumed;
#  2. failover: one consumer disconnects (LeaveGroup): the two others take its partitions
#     (3 each) at once; a new one joins (2 each); one is killed with SIGKILL: the two others
#     take its partitions within the session timeout (6 s) plus one rebalance (bound 16 s);
#     every record produced before and after is consumed at least once;
#  3. commit/resume: consumers with manual commits (offset+1 after every record) read 150
#     each and disconnect; admin.fetchOffsets returns what the commits acknowledged; the
#     broker restarts (SIGTERM); new consumers start every partition exactly at its
#     committed offset and read the rest;
#  4. sessionTimeout 1000: the consumer crashes with INVALID_SESSION_TIMEOUT, and does not
#     disturb the group of 4.
# usage: groups_kafkajs.sh path/to/eddy
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
compat_init groups_kafkajs "${1:?usage: groups_kafkajs.sh EDDY}"
need node npm timeout awk

if [ ! -f "$COMPAT_DIR/node_modules/kafkajs/package.json" ]; then
    log "installing kafkajs (npm ci) in $COMPAT_DIR"
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi
JS=$COMPAT_DIR/groups_kafkajs.js
kjs() {
    local mode=$1
    shift
    timeout -k 5 "$CLIENT_TIMEOUT" node "$JS" "$mode" "$BOOTSTRAP" "$@"
}
# The consumer, started like groups_lib.sh's start_consumer (same output format).
start_kjs() {
    local name=$1 group=$2 topic=$3
    shift 3
    : >>"$WORK/$name.out"
    node "$JS" consume "$BOOTSTRAP" "$group" "$topic" "$name" "$@" \
        >>"$WORK/$name.out" 2>>"$WORK/$name.err" </dev/null &
    local pid=$!
    printf -v "PID_${name//-/_}" %s "$pid"
    bg_started "$pid"
}
member_of() { awk '$2 == "MEMBER" { m = $3 } END { print m }' "$WORK/$1.out"; }
# admin.describeGroups agrees with what the consumers NAMES... report.
check_describe() {
    local group=$1 topic=$2
    shift 2
    kjs describe "$group" "$topic" >"$WORK/describe" 2>"$WORK/describe.err" ||
        fail "describeGroups: $(cat "$WORK/describe.err")"
    [ "$(head -n 1 "$WORK/describe")" = "Stable $#" ] ||
        fail "describeGroups $group: $(head -n 1 "$WORK/describe"), expected Stable with $# members"
    local c
    for c in "$@"; do
        grep -qx "$(member_of "$c") $(last_assign "$c")" "$WORK/describe" ||
            fail "describeGroups $group: $c ($(member_of "$c") $(last_assign "$c")) not in: $(cat "$WORK/describe")"
    done
}
last_assign_ms() { awk '$2 == "ASSIGN" { t = $1 } END { print t }' "$WORK/$1.out"; }

start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=500
PORT=$BROKER_PORT
kjs create kj 6 2>"$WORK/create.err" || fail "create topic: $(cat "$WORK/create.err")"

# 1. Join and share.
t0=$(now_ms)
for c in k1 k2 k3; do start_kjs $c gkj kj; done
wait_settled 40 2 6 k1 k2 k3
log "3 kafkajs consumers settled in $((SETTLED_MS - t0)) ms: $SETTLED_STATE"
check_describe gkj kj k1 k2 k3
kjs produce kj 0 600 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
wait_coverage 30 0 599 "$WORK"/k?.out
log "records 0..599 consumed"

# 2a. A clean disconnect (LeaveGroup).
t0=$(now_ms)
stop_consumer k1
wait_settled 30 3 6 k2 k3
t1=$(for c in k2 k3; do last_assign_ms $c; done | sort -n | tail -n 1)
leave_ms=$((t1 - t0))
log "k1 disconnected: ${SETTLED_STATE# } after $leave_ms ms"
[ $leave_ms -lt 10000 ] || fail "the rebalance after a LeaveGroup took $leave_ms ms"

# 2b. A new member, then SIGKILL.
start_kjs k4 gkj kj
wait_settled 30 2 6 k2 k3 k4
check_describe gkj kj k2 k3 k4
kjs produce kj 600 600 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
t0=$(now_ms)
kill9_consumer k2
kjs produce kj 1200 600 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
wait_settled 30 3 6 k3 k4
t1=$(for c in k3 k4; do last_assign_ms $c; done | sort -n | tail -n 1)
kill_ms=$((t1 - t0))
log "k2 killed: ${SETTLED_STATE# } after $kill_ms ms"
[ $kill_ms -lt 16000 ] || fail "failover after SIGKILL took $kill_ms ms (bound 6 s + 10 s)"
kjs produce kj 1800 600 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
wait_coverage 30 0 2399 "$WORK"/k?.out
log "records 0..2399 consumed ($(($(awk '$2 == "REC"' "$WORK"/k?.out | wc -l) - 2400)) redelivered)"
stop_consumer k3
stop_consumer k4

# 3. Commit and resume, across a broker restart.
for c in m1 m2; do start_kjs $c gkjm kj --manual-commit --max=150; done
wait_consumer_exit m1 60
wait_consumer_exit m2 60
acked=$(awk '$2 == "COMMIT" && $5 == "OK" && (!($3 in m) || $4 > m[$3]) { m[$3] = $4 }
    END { for (p = 0; p < 6; p++) print p, (p in m ? m[p] : -1) }' "$WORK"/m[12].out)
fetched=$(kjs committed gkjm kj 2>"$WORK/committed.err") || fail "fetchOffsets: $(cat "$WORK/committed.err")"
[ "$fetched" = "$acked" ] ||
    fail "fetchOffsets $(tr '\n' ' ' <<<"$fetched") != acknowledged commits $(tr '\n' ' ' <<<"$acked")"
log "read 150 + 150 with manual commits; committed: $(tr '\n' ' ' <<<"$fetched")"
stop_broker
BROKER_PORT=$PORT start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=500
fetched2=$(kjs committed gkjm kj 2>"$WORK/committed.err") || fail "fetchOffsets: $(cat "$WORK/committed.err")"
[ "$fetched2" = "$acked" ] || fail "after a restart fetchOffsets $(tr '\n' ' ' <<<"$fetched2") != $(tr '\n' ' ' <<<"$acked")"
for c in m3 m4; do start_kjs $c gkjm kj --manual-commit; done
wait_coverage 60 0 2399 "$WORK"/m?.out
bad=$(awk 'FNR == NR { c[$1] = ($2 < 0 ? 0 : $2); next }
    $2 == "REC" && (!($3 in first) || $1 < ft[$3]) { first[$3] = $4; ft[$3] = $1 }
    END { for (p in first) if (first[p] != c[p]) print "partition " p " resumed at " first[p] ", committed " c[p] }' \
    <(echo "$acked") "$WORK"/m[34].out)
[ -z "$bad" ] || fail "resume: $bad"
# A record read twice must be one whose commit failed (the uncommitted tail).
bad=$(awk '$2 == "REC" { n[$3 " " $4]++ } $2 == "COMMIT" && $5 != "OK" { f[$3 " " ($4 - 1)] = 1 }
    END { for (k in n) if (n[k] > 1 && !(k in f)) print k }' "$WORK"/m?.out | head -n 5)
[ -z "$bad" ] || fail "records read twice although their commit succeeded (partition offset): $bad"
rereads=$(awk '$2 == "REC" && n[$3 " " $4]++ { d++ } END { print d + 0 }' "$WORK"/m?.out)
log "after the restart every partition resumed at its committed offset; 0..2399 read by group gkjm ($rereads read again after a failed commit)"

# 4. An invalid session timeout.
reb=$(rebalances m3)
start_kjs bad gkjm kj --session=1000
for _ in $(seq 1 150); do
    grep -q ' ERROR .*INVALID_SESSION_TIMEOUT' "$WORK/bad.out" && break
    sleep 0.1
done
grep -q ' ERROR .*INVALID_SESSION_TIMEOUT' "$WORK/bad.out" ||
    fail "sessionTimeout 1000: no INVALID_SESSION_TIMEOUT crash in 15 s: $(tail -n 3 "$WORK/bad.out")"
log "sessionTimeout 1000: $(grep -m 1 ' ERROR ' "$WORK/bad.out" | cut -d' ' -f3-)"
PID_bad=$(_cpid bad)
_wait_pid "$PID_bad" 20 || fail "the consumer with sessionTimeout 1000 did not exit after its crash"
wait "$PID_bad" 2>/dev/null || true
bg_done "$PID_bad"
sleep 2
[ "$(rebalances m3)" = "$reb" ] || fail "the failed join rebalanced the group"
[ -z "$(last_assign bad)" ] || fail "the consumer with sessionTimeout 1000 got an assignment"
check_describe gkjm kj m3 m4
stop_consumer m3
stop_consumer m4
broker_alive
stop_broker
echo "compat_groups_kafkajs: ok, LeaveGroup rebalance $leave_ms ms, SIGKILL failover $kill_ms ms ($(($(date +%s) - _T0)) s)"
