#!/usr/bin/env bash
# Consumer-group failover with librdkafka: three consumers (separate processes, range
# assignment, session.timeout.ms=6000) on a 6-partition topic settle with 2 partitions each;
# one is killed with SIGKILL. Within the session timeout plus one rebalance (bound: 6 s +
# 10 s) the two others own 3 partitions each, and every record produced before, during and
# after the failover is consumed at least once (the union of what the consumers printed).
# usage: groups_failover.sh path/to/eddy path/to/groups_rdkafka
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
groups_init groups_failover "${1:?usage: groups_failover.sh EDDY GROUPS_RDKAFKA}" "${2:-}"

SESSION_MS=6000
BOUND_MS=$((SESSION_MS + 10000))
start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=500
gr create fo 6 2>"$WORK/create.err" || fail "create topic: $(cat "$WORK/create.err")"

OPTS=("session.timeout.ms=$SESSION_MS" heartbeat.interval.ms=1000 partition.assignment.strategy=range
      auto.commit.interval.ms=1000)
for c in c1 c2 c3; do start_consumer "$c" gfo fo "${OPTS[@]}"; done
wait_settled 30 2 6 c1 c2 c3
log "settled: $SETTLED_STATE"

# Before: 0..2999.
gr produce fo 0 3000 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
wait_coverage 30 0 2999 "$WORK"/c?.out
log "records 0..2999 consumed"

# Kill one; keep producing through the failover (3000..5999 at 400/s, about 7.5 s).
victim=c2
victim_parts=$(last_assign $victim)
reb1=$(rebalances c1)
reb3=$(rebalances c3)
t_kill=$(now_ms)
kill9_consumer $victim
log "killed $victim (partitions $victim_parts) with SIGKILL"
ASAN_OPTIONS=$GR_ASAN timeout -k 5 60 "$GR" produce "$BOOTSTRAP" fo 3000 3000 400 \
    >/dev/null 2>"$WORK/produce2.err" &
prod=$!
bg_started $prod

wait_settled $(((BOUND_MS + 5000) / 1000)) 3 6 c1 c3
# The failover ends with the survivors' last assignment change.
t_done=$(for f in c1 c3; do awk '$2 == "ASSIGN" { t = $1 } END { print t }' "$WORK/$f.out"; done |
    sort -n | tail -n 1)
failover=$((t_done - t_kill))
log "failover: $SETTLED_STATE, $failover ms after the kill (rebalance callbacks c1 $reb1 -> $(rebalances c1), c3 $reb3 -> $(rebalances c3))"
grep -q "session expired" "$BROKER_LOG" || fail "no 'session expired' line in the broker log"
[ $failover -lt $BOUND_MS ] || fail "failover took $failover ms (bound $BOUND_MS ms)"
[ $failover -ge $((SESSION_MS - 2000)) ] ||
    log "note: failover in $failover ms, before the session timeout ($SESSION_MS ms)?"

rc=0
wait $prod || rc=$?
bg_done $prod
[ $rc = 0 ] || fail "producing 3000..5999 during the failover: $(tail -n 5 "$WORK/produce2.err")"
# After: 6000..8999.
gr produce fo 6000 3000 2>"$WORK/produce3.err" || fail "produce: $(cat "$WORK/produce3.err")"
wait_coverage 30 0 8999 "$WORK"/c?.out
total=$(awk '$2 == "REC"' "$WORK"/c?.out | wc -l)
log "all 9000 records consumed ($((total - 9000)) redelivered: the victim's uncommitted tail)"
for c in c1 c3; do
    ! grep ' ERROR ' "$WORK/$c.out" | grep -v '_TRANSPORT\|_ALL_BROKERS_DOWN' >&2 ||
        fail "consumer $c reported errors"
done
stop_consumer c1
stop_consumer c3
broker_alive
stop_broker
echo "compat_groups_failover: ok, failover $failover ms ($(($(date +%s) - _T0)) s)"
