#!/usr/bin/env bash
# Static membership (group.instance.id, KIP-345) with librdkafka consumers as separate
# processes, range assignment, session.timeout.ms=6000, 3 members on 6 partitions:
#  1. a follower is killed with SIGKILL and restarted at once with its instance id: it gets
#     the same partitions back, the generation stays, the broker logs no rebalance, and the
#     two others' rebalance callbacks are not called again;
#  2. the same for the group leader;
#  3. the replaced members' old sessions do not expire later (no rebalance once the session
#     timeout has passed), and every record produced before and after is consumed;
#  4. a static member that stays away past session.timeout.ms is removed: the two others
#     take its partitions (3 each).
# usage: groups_static.sh path/to/eddy path/to/groups_rdkafka
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
groups_init groups_static "${1:?usage: groups_static.sh EDDY GROUPS_RDKAFKA}" "${2:-}"

SESSION_MS=6000
start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=500
gr create st 6 2>"$WORK/create.err" || fail "create topic: $(cat "$WORK/create.err")"
OPTS=("session.timeout.ms=$SESSION_MS" heartbeat.interval.ms=1000 partition.assignment.strategy=range)
for i in 1 2 3; do start_consumer "s$i" gst st group.instance.id=inst-$i "${OPTS[@]}"; done
wait_settled 30 2 6 s1 s2 s3
log "settled: $SETTLED_STATE"
gr produce st 0 600 2>"$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
wait_coverage 30 0 599 "$WORK"/s?.out

# The group's current generation and leader, from the broker log.
generation() { sed -n 's/.*group gst: generation \([0-9]*\) with.*/\1/p' "$BROKER_LOG" | tail -n 1; }
leader_member() { sed -n 's/.*group gst: generation [0-9]* with .* leader \(.*\)$/\1/p' "$BROKER_LOG" | tail -n 1; }
member_of() { awk '$2 == "MEMBER" && $3 != "" { m = $3 } END { print m }' "$WORK/$1.out"; }
rebalancing_lines() { grep -c 'group gst: rebalancing' "$BROKER_LOG" || true; }

gen0=$(generation)
leader=$(leader_member)
reb_lines0=$(rebalancing_lines)
follower="" lead=""
for c in s1 s2 s3; do
    if [ "$(member_of $c)" = "$leader" ]; then lead=$c; elif [ -z "$follower" ]; then follower=$c; fi
done
{ [ -n "$lead" ] && [ -n "$follower" ]; } || fail "cannot tell the leader ($leader) among the consumers"
log "generation $gen0, leader $lead, restarting follower $follower then the leader"

# restart_static NAME: kill -9 NAME, start NAME.r (same instance id), same partitions,
# nobody else rebalanced.
restart_static() {
    local c=$1 others=() o
    for o in s1 s2 s3; do [ $o = "$c" ] || others+=("$(cur $o)"); done
    local parts reb_before=() inst t0
    parts=$(last_assign "$(cur "$c")")
    for o in "${others[@]}"; do reb_before+=("$(rebalances "$o")"); done
    inst=${c#s}
    kill9_consumer "$(cur "$c")"
    t0=$(now_ms)
    CUR[inst]=$c-r
    start_consumer "$c-r" gst st "group.instance.id=inst-$inst" "${OPTS[@]}"
    local a=""
    for _ in $(seq 1 100); do
        a=$(last_assign "$c-r")
        [ -n "$a" ] && break
        sleep 0.1
    done
    [ -n "$a" ] || fail "restarted static member $c-r got no assignment within 10 s"
    log "$c restarted as $c-r (instance inst-$inst): partitions $a (had $parts) after $(($(now_ms) - t0)) ms"
    [ "$a" = "$parts" ] || fail "restarted static member $c-r got '$a', had '$parts'"
    sleep 2 # would the others be told to rebalance (heartbeat every 1 s)?
    local i=0
    for o in "${others[@]}"; do
        [ "$(rebalances "$o")" = "${reb_before[$i]}" ] ||
            fail "$o's rebalance callback ran again ($(rebalances "$o"), was ${reb_before[$i]}) when static member $c came back"
        i=$((i + 1))
    done
    [ "$(last_assign "$c-r")" = "$parts" ] || fail "$c-r's assignment changed to $(last_assign "$c-r")"
    [ "$(generation)" = "$gen0" ] || fail "generation went from $gen0 to $(generation) when static member $c came back"
    [ "$(rebalancing_lines)" = "$reb_lines0" ] ||
        fail "the broker rebalanced when static member $c came back: $(grep 'group gst: rebalancing' "$BROKER_LOG" | tail -n 1)"
    grep -q "group gst: static member inst-$inst rejoined" "$BROKER_LOG" ||
        fail "no 'static member inst-$inst rejoined' line in the broker log"
}
declare -a CUR=([1]=s1 [2]=s2 [3]=s3)
cur() { echo "${CUR[${1#s}]}"; }

t_first_kill=$(now_ms)
restart_static $follower
restart_static $lead
gr produce st 600 600 2>"$WORK/produce2.err" || fail "produce: $(cat "$WORK/produce2.err")"
# Past the old sessions' timeout (from the first kill), plus two heartbeats.
wait_ms=$((t_first_kill + SESSION_MS + 2500 - $(now_ms)))
[ $wait_ms -le 0 ] || sleep "$(awk -v ms=$wait_ms 'BEGIN { print ms / 1000 }')"
[ "$(rebalancing_lines)" = "$reb_lines0" ] ||
    fail "a rebalance after the static members came back: $(grep 'group gst: rebalancing' "$BROKER_LOG" | tail -n 1)"
[ "$(generation)" = "$gen0" ] || fail "generation $(generation), expected $gen0"
wait_coverage 30 0 1199 "$WORK"/s*.out
log "no rebalance $SESSION_MS ms + 2.5 s after the first kill; generation still $gen0; records 0..1199 consumed"

# 4. Away for good: its partitions move after its session timeout.
gone=s3
others=()
for c in s1 s2 s3; do [ $c = $gone ] || others+=("$(cur $c)"); done
t_kill=$(now_ms)
kill9_consumer "$(cur $gone)"
wait_settled 30 3 6 "${others[@]}"
t_done=$(for f in "${others[@]}"; do awk '$2 == "ASSIGN" { t = $1 } END { print t }' "$WORK/$f.out"; done |
    sort -n | tail -n 1)
failover=$((t_done - t_kill))
log "static member inst-3 gone: ${SETTLED_STATE# } after $failover ms"
# (The session runs from its last heartbeat, up to heartbeat.interval.ms before the kill.)
[ $failover -ge $((SESSION_MS - 2000)) ] || fail "partitions moved after $failover ms, before the session timeout"
[ $failover -lt $((SESSION_MS + 10000)) ] || fail "failover took $failover ms"
for c in "${others[@]}"; do stop_consumer "$c"; done
broker_alive
stop_broker
echo "compat_groups_static: ok, failover of a departed static member $failover ms ($(($(date +%s) - _T0)) s)"
