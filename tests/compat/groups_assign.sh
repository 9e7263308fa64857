#!/usr/bin/env bash
# librdkafka high-level consumers (rd_kafka_subscribe) share a 6-partition topic, with
# partition.assignment.strategy range, roundrobin and cooperative-sticky: 3 consumers get 2
# partitions each; 7 consumers: six get one, one gets none; two groups on the topic each
# consume every record (groups_rdkafka assign, see groups_rdkafka.c).
# range runs on a broker with the default group.initial.rebalance.delay.ms (3000): its
# first generation must have all 3 consumers (they join within the delay). The two other
# strategies run with the delay at 0.
# usage: groups_assign.sh path/to/eddy path/to/groups_rdkafka
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
groups_init groups_assign "${1:?usage: groups_assign.sh EDDY GROUPS_RDKAFKA}" "${2:-}"

assign() {
    local rc=0
    ASAN_OPTIONS=$GR_ASAN timeout -k 5 150 "$GR" assign "$BOOTSTRAP" "$@" || rc=$?
    [ $rc = 0 ] || fail "groups_rdkafka assign $* exited with status $rc (124: timed out)"
}

start_broker "$WORK/data1"
assign range
grep -q 'group ga-range: generation 1 with 3 member(s)' "$BROKER_LOG" ||
    fail "with group.initial.rebalance.delay.ms=3000 the first generation of ga-range should have all 3 members: $(grep 'group ga-range: generation' "$BROKER_LOG" | head -n 3)"
first=$(grep -m 1 'group ga-range: rebalancing' "$BROKER_LOG" | cut -c12-23)
gen1=$(grep -m 1 'group ga-range: generation 1' "$BROKER_LOG" | cut -c12-23)
log "default initial delay: ga-range's first rebalance at $first, generation 1 (3 members) at $gen1"
broker_alive
stop_broker

start_broker "$WORK/data2" --set group.initial.rebalance.delay.ms=0
assign roundrobin cooperative-sticky
broker_alive
stop_broker
echo "compat_groups_assign: ok ($(($(date +%s) - _T0)) s)"
