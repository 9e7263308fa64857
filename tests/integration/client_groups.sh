#!/usr/bin/env bash
# Eddy's consumer-group member (client/member.c) against a real `eddy broker` on 127.0.0.1, every
# consumer a process of its own (client_groups.c prints what it is given and consumes):
#   1. three Eddy members per group, one group per built-in assignor (range, roundrobin, sticky):
#      2 partitions each, and every record consumed exactly once through the rebalances;
#   2. kill -9 of one member per group: its partitions go to the two others (sticky: they keep
#      their own), and every record is consumed at least once;
#   3. mixed groups of one Eddy member and two librdkafka consumers, 2/2/2, with an Eddy leader
#      (range) and with a librdkafka leader (roundrobin): the protocol bytes interoperate;
#   4. a member commits at --max and leaves; a new one resumes exactly at the committed offsets,
#      and its auto commit on close covers everything;
#   5. a plug-in assignor's userData both ways (the leader sees every member's, each member sees
#      the leader's answer meant for it);
#   6. static membership: a static member's close sends no LeaveGroup, and its restart under
#      the same group.instance.id gets its partitions back without a rebalance;
#   7. INVALID_SESSION_TIMEOUT is fatal (reported, the member stops) and the member still closes;
#      a second member started with a group.instance.id in use fences the first: the first
#      stops with a fatal FENCED_INSTANCE_ID naming the instance id, the second keeps the
#      partitions;
#   8. coordinator loss: the broker is killed and restarted; the members find it again, the
#      coordinator loaded them from __consumer_offsets (as Kafka's does), so they heartbeat on
#      under their member ids with no rebalance, and consume everything;
#   9. a member subscribed to a topic that does not exist yet gets its partitions once it is
#      created (the leader watches partition counts every metadata.max.age.ms);
#  10. kc_consumer_pause on a consumer assigned by hand (client_groups pause checks itself): a
#      paused partition delivers nothing although records wait, the other one goes on, and the
#      resumed one continues exactly where it stopped;
#  11. kc_delete_records (client_groups delete-records checks itself): one call over partitions
#      with records to delete, past the end, unknown, answers once with each partition's low
#      watermark or error, and the log starts moved;
#  12. a consumer long-polling (fetch.max.wait.ms=30000) does not hold up a producer of the same
#      client (client_groups longpoll checks itself): each record is acknowledged and consumed
#      within 10 s (not after the 30 s poll), although the broker takes one request at a time per connection.
# usage: client_groups.sh path/to/eddy path/to/client_groups   (KEEP_WORK=1 keeps the temp dir)
set -euo pipefail
EDDY=${1:?usage: client_groups.sh EDDY CLIENT_GROUPS}
CG=${2:?usage: client_groups.sh EDDY CLIENT_GROUPS}
WORK=$(mktemp -d /tmp/eddy-client-groups-XXXXXX)
BROKER_PID=""
declare -A PID=()
T0=$(date +%s%3N)

cleanup() {
    local p
    for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

now_ms() { date +%s%3N; }
note() { echo "[client_groups $(( ($(now_ms) - T0) / 1000 ))s] $*" >&2; }
fail() {
    echo "FAIL [client_groups]: $*" >&2
    local f
    for f in "$WORK"/*.out; do
        [ -e "$f" ] || continue
        echo "--- $(basename "$f"): $(grep -vc ' REC ' "$f") lines besides records" >&2
        grep -v ' REC ' "$f" | tail -n 8 >&2
        tail -n 5 "${f%.out}.err" >&2 || true
    done
    echo "--- broker" >&2
    tail -n 30 "$WORK/broker.log" >&2 || true
    exit 1
}
T() { timeout -k 5 60 "$@"; }

: > "$WORK/broker.log" # exists before the loop below reads it (the shell opens it in the background)
"$EDDY" broker --listen 127.0.0.1:0 --data-dir "$WORK/data" \
    --set group.initial.rebalance.delay.ms=0 >> "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
PORT=""
for _ in $(seq 1 200); do
    PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/broker.log")
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "the broker did not start"
B=127.0.0.1:$PORT
TOPIC=orders

# ---- helpers around the consumer processes ----

# start NAME member|rdkafka GROUP [OPTIONS...]: a background consumer, output in $WORK/NAME.out
start() {
    local name=$1 kind=$2 group=$3
    shift 3
    : > "$WORK/$name.out"
    "$CG" "$kind" "$B" "$group" "$TOPIC" --name="$name" --lifetime=150 "$@" \
        >> "$WORK/$name.out" 2>> "$WORK/$name.err" < /dev/null &
    PID[$name]=$!
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

# stop NAME: SIGTERM, then the process must exit within 20 s and print EXIT.
stop() {
    local p=${PID[$1]} i
    kill -TERM "$p" 2>/dev/null || true
    for i in $(seq 1 200); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$p" 2>/dev/null && fail "$1 did not exit within 20 s of SIGTERM"
    wait "$p" 2>/dev/null || fail "$1 exited with an error: $(tail -n 3 "$WORK/$1.err")"
    unset "PID[$1]"
    tail -n 1 "$WORK/$1.out" | grep -q ' EXIT$' || fail "$1 printed no EXIT"
}

kill9() {
    kill -9 "${PID[$1]}" 2>/dev/null || true
    wait "${PID[$1]}" 2>/dev/null || true
    unset "PID[$1]"
}

# wait_exit NAME SECONDS: a consumer that stops on its own (--max)
wait_exit() {
    local p=${PID[$1]} i
    for i in $(seq 1 $(($2 * 10))); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$p" 2>/dev/null && fail "$1 did not finish within $2 s"
    wait "$p" 2>/dev/null || fail "$1 exited with an error: $(tail -n 3 "$WORK/$1.err")"
    unset "PID[$1]"
}

last_assign() { awk '$2 == "ASSIGN" { a = $4 } END { print a }' "$WORK/$1.out"; }
assign_count() { grep -c ' ASSIGN ' "$WORK/$1.out" || true; }
revoke_count() { grep -c ' REVOKE ' "$WORK/$1.out" || true; }
last_member() { awk '$2 == "MEMBER" { m = $3 } END { print m }' "$WORK/$1.out"; }
last_leader() { awk '$2 == "MEMBER" { l = $5 } END { print l }' "$WORK/$1.out"; }
nparts() { case $1 in "" | -) echo 0 ;; *) echo $(($(tr -cd , <<< "$1" | wc -c) + 1)) ;; esac }

# wait_settled SECONDS EACH NAMES...: every NAME holds EACH partitions, together all 6 once, and
# nothing changed for 1.5 s.
wait_settled() {
    local limit=$1 each=$2
    shift 2
    local t0 state last="" since=0 n a all why
    t0=$(now_ms)
    while [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ]; do
        state="" why="" all=""
        for n in "$@"; do
            alive "$n" || fail "$n died: $(tail -n 3 "$WORK/$n.err")"
            a=$(last_assign "$n")
            state="$state $n=$a"
            [ "$(nparts "$a")" = "$each" ] || why="$n has '$a'"
            [ -n "$a" ] && [ "$a" != - ] && all="$all,$a"
        done
        [ "$(tr , '\n' <<< "${all#,}" | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 " ] || why="${why:-union is ${all#,}}"
        if [ -z "$why" ]; then
            if [ "$state" != "$last" ]; then
                last=$state
                since=$(now_ms)
            elif [ $(($(now_ms) - since)) -ge 1500 ]; then
                note "settled:$state"
                return 0
            fi
        else
            last=""
        fi
        sleep 0.1
    done
    fail "not settled within $limit s ($why):$state"
}

# recs LO HI NAMES...: record values in LO..HI the NAMES printed, one per line (with repeats)
recs() {
    local lo=$1 hi=$2
    shift 2
    local files=() n
    for n in "$@"; do files+=("$WORK/$n.out"); done
    awk -v lo="$lo" -v hi="$hi" '$2 == "REC" && $5 >= lo && $5 <= hi { print $5 }' "${files[@]}"
}

# wait_covered SECONDS LO HI NAMES...: every record LO..HI consumed at least once
wait_covered() {
    local limit=$1 lo=$2 hi=$3
    shift 3
    local t0 got
    t0=$(now_ms)
    while [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ]; do
        got=$(recs "$lo" "$hi" "$@" | sort -u | wc -l)
        [ "$got" = $((hi - lo + 1)) ] && return 0
        sleep 0.2
    done
    fail "$*: consumed $got distinct records of $lo..$hi within $limit s"
}

exactly_once() { # LO HI NAMES...
    local lo=$1 hi=$2 total dup
    shift 2
    total=$(recs "$lo" "$hi" "$@" | wc -l)
    dup=$(recs "$lo" "$hi" "$@" | sort | uniq -d | head -n 5 | tr '\n' ' ')
    [ "$total" = $((hi - lo + 1)) ] || fail "$*: $total records for $((hi - lo + 1)) (repeated: $dup)"
}

T "$CG" create "$B" "$TOPIC" 6 || fail "create $TOPIC"
T "$CG" produce "$B" "$TOPIC" 0 600 || fail "produce 0..599"

# ---- 1. three Eddy members per assignor: 2/2/2, exactly once ----
STRATS="range roundrobin sticky"
for s in $STRATS; do
    for i in 1 2 3; do start "$s$i" member "g-$s" --strategy="$s"; done
done
for s in $STRATS; do wait_settled 40 2 "${s}1" "${s}2" "${s}3"; done
T "$CG" produce "$B" "$TOPIC" 600 600 || fail "produce 600..1199"
for s in $STRATS; do
    wait_covered 30 0 1199 "${s}1" "${s}2" "${s}3"
    sleep 0.5
    exactly_once 0 1199 "${s}1" "${s}2" "${s}3"
done
note "1: 2/2/2 with range, roundrobin and sticky; 1200 records exactly once each"

# ---- 2. kill -9 one member per group: failover, at least once ----
declare -A BEFORE=()
for s in $STRATS; do
    BEFORE[${s}1]=$(last_assign "${s}1")
    BEFORE[${s}2]=$(last_assign "${s}2")
    kill9 "${s}3"
done
for s in $STRATS; do wait_settled 40 3 "${s}1" "${s}2"; done
for n in sticky1 sticky2; do
    for p in $(tr , ' ' <<< "${BEFORE[$n]}"); do
        grep -qE "(^|,)$p(,|$)" <<< "$(last_assign $n)" ||
            fail "sticky: $n had ${BEFORE[$n]} and lost $p: now $(last_assign $n)"
    done
done
T "$CG" produce "$B" "$TOPIC" 1200 600 || fail "produce 1200..1799"
for s in $STRATS; do wait_covered 30 0 1799 "${s}1" "${s}2" "${s}3"; done
for s in $STRATS; do stop "${s}1"; stop "${s}2"; done
note "2: after kill -9 the survivors hold 3/3 (sticky kept its own) and consumed everything"

# ---- 3. mixed groups: Eddy and librdkafka ----
start mixr-eddy member g-mixed-range --strategy=range
wait_settled 20 6 mixr-eddy
start mixr-rk1 rdkafka g-mixed-range --strategy=range
start mixr-rk2 rdkafka g-mixed-range --strategy=range
start mixo-rk1 rdkafka g-mixed-rr --strategy=roundrobin
wait_settled 30 6 mixo-rk1
start mixo-eddy member g-mixed-rr --strategy=roundrobin
start mixo-rk2 rdkafka g-mixed-rr --strategy=roundrobin
wait_settled 40 2 mixr-eddy mixr-rk1 mixr-rk2
wait_settled 40 2 mixo-eddy mixo-rk1 mixo-rk2
[ "$(last_leader mixr-eddy)" = 1 ] || fail "mixed range: the Eddy member should lead"
[ "$(last_leader mixo-eddy)" = 0 ] || fail "mixed roundrobin: librdkafka should lead"
wait_covered 30 0 1799 mixr-eddy mixr-rk1 mixr-rk2
wait_covered 30 0 1799 mixo-eddy mixo-rk1 mixo-rk2
for n in mixr-eddy mixr-rk1 mixr-rk2 mixo-eddy mixo-rk1 mixo-rk2; do stop "$n"; done
note "3: mixed groups 2/2/2 with an Eddy leader (range) and a librdkafka leader (roundrobin)"

# ---- 4. commit, leave, restart at the committed offsets ----
start rs1 member g-restart --max=700 --auto-commit=0 --commit-on-max
wait_exit rs1 30
grep -q ' COMMIT 0$' "$WORK/rs1.out" || fail "rs1: the commit at --max failed: $(grep COMMIT "$WORK/rs1.out")"
[ "$(recs 0 1799 rs1 | wc -l)" = 700 ] || fail "rs1 consumed $(recs 0 1799 rs1 | wc -l) records, not 700"
T "$CG" committed "$B" g-restart "$TOPIC" | sort -n > "$WORK/committed1" || fail "committed"
awk '$2 == "REC" { if (!($3 in last) || $4 > last[$3]) last[$3] = $4 }
     END { for (p = 0; p < 6; p++) print p, (p in last) ? last[p] + 1 : 0 }' "$WORK/rs1.out" |
    sort -n > "$WORK/expect1"
# A partition rs1 never read from may have no commit (-1) instead of 0.
join "$WORK/expect1" "$WORK/committed1" | awk '$2 != $3 && !($2 == 0 && $3 == -1) { bad = 1 } END { exit bad }' ||
    fail "committed offsets $(tr '\n' ' ' < "$WORK/committed1") are not the positions $(tr '\n' ' ' < "$WORK/expect1")"
start rs2 member g-restart
wait_covered 30 0 1799 rs1 rs2
exactly_once 0 1799 rs1 rs2
awk '$2 == "REC" && !($3 in first) { first[$3] = $4 } END { for (p in first) print p, first[p] }' \
    "$WORK/rs2.out" | sort -n > "$WORK/first2"
join "$WORK/first2" "$WORK/committed1" | awk '$2 != $3 && !($3 == -1 && $2 == 0) { bad = 1 } END { exit bad }' ||
    fail "rs2 did not start at the committed offsets: started at $(tr '\n' ' ' < "$WORK/first2"), committed $(tr '\n' ' ' < "$WORK/committed1")"
stop rs2
T "$CG" committed "$B" g-restart "$TOPIC" | sort -n > "$WORK/committed2" || fail "committed"
[ "$(awk '{ print $2 }' "$WORK/committed2" | sort -u | tr '\n' ' ')" = "300 " ] ||
    fail "after rs2's close the commits should be at 300 everywhere: $(tr '\n' ' ' < "$WORK/committed2")"
note "4: commit at 700 records, restart resumed there (1800 exactly once), close committed the end"

# ---- 5. a plug-in assignor with userData both ways ----
for i in 1 2 3; do start "cu$i" member g-custom --custom; done
wait_settled 30 2 cu1 cu2 cu3
leader=""
for i in 1 2 3; do [ "$(last_leader "cu$i")" = 1 ] && leader=cu$i; done
[ -n "$leader" ] || fail "custom: no member says it leads"
seen=$(awk '$2 == "SEEN" { print $3, $4 }' "$WORK/$leader.out" | tail -n 3 | sort)
want=$(for i in 1 2 3; do echo "$(last_member "cu$i") ud:cu$i"; done | sort)
[ "$seen" = "$want" ] || fail "custom: the leader saw
$seen
instead of
$want"
ids=$(for i in 1 2 3; do last_member "cu$i"; done | sort)
for i in 1 2 3; do
    ud=$(awk '$2 == "ASSIGNUD" { u = $4 } END { print u }' "$WORK/cu$i.out")
    [ "$ud" = "for:$(last_member "cu$i")" ] || fail "custom: cu$i got userData '$ud'"
    slot=$(($(grep -nx "$(last_member "cu$i")" <<< "$ids" | cut -d: -f1) - 1))
    [ "$(last_assign "cu$i")" = "$slot,$((slot + 3))" ] ||
        fail "custom: cu$i (slot $slot) has $(last_assign "cu$i"): not eddytest's assignment"
done
for i in 1 2 3; do stop "cu$i"; done
note "5: plug-in assignor: the leader saw every member's userData, each member got its own"

# ---- 6. static membership ----
# A 30 s session: the return below must come before st1's session expires,
# whatever the machine's load (the test's default is 6 s).
start st1 member g-static --instance=static-1 --session=30000
wait_settled 20 6 st1
start dy1 member g-static
wait_settled 30 3 st1 dy1
revokes=$(revoke_count dy1)
before=$(last_assign st1)
stop st1
sleep 2
[ "$(revoke_count dy1)" = "$revokes" ] || fail "static: st1's close made dy1 rebalance (a LeaveGroup was sent)"
start st1b member g-static --instance=static-1 --session=30000
wait_settled 20 3 st1b dy1
[ "$(last_assign st1b)" = "$before" ] || fail "static: st1 came back with $(last_assign st1b), had $before"
[ "$(revoke_count dy1)" = "$revokes" ] || fail "static: st1's return made dy1 rebalance"
stop st1b
stop dy1
note "6: a static member leaves no gap and comes back to its partitions without a rebalance"

# ---- 7. a fatal group error: INVALID_SESSION_TIMEOUT ----
start bad member g-bad --session=1000
for _ in $(seq 1 100); do
    grep -q ' ERROR 26 1 ' "$WORK/bad.out" && break
    sleep 0.1
done
grep -q ' ERROR 26 1 ' "$WORK/bad.out" || fail "session.timeout.ms=1000: no fatal INVALID_SESSION_TIMEOUT (26)"
# The Kafka code and Eddy's error come apart: kafka_err 26, err -EIO (-5).
grep -q ' ERROR 26 1 .*(err -5)$' "$WORK/bad.out" ||
    fail "the member's error callback did not give kafka_err 26 with err -EIO: $(grep ERROR "$WORK/bad.out")"
stop bad
note "7: INVALID_SESSION_TIMEOUT stops the member with a fatal error; it still closes"

# ---- 7b. two members with one group.instance.id: the older one is fenced ----
start fa member g-fence --instance=fence-1 --heartbeat=500
wait_settled 30 6 fa
start fb member g-fence --instance=fence-1 --heartbeat=500
for _ in $(seq 1 150); do
    grep -q ' ERROR 82 1 ' "$WORK/fa.out" && break
    sleep 0.1
done
grep -q ' ERROR 82 1 .*group.instance.id .fence-1.' "$WORK/fa.out" ||
    fail "fencing: the replaced member got no fatal FENCED_INSTANCE_ID (82) naming its instance id"
wait_settled 20 6 fb
fb_assigns=$(assign_count fb)
sleep 2
[ "$(assign_count fb)" = "$fb_assigns" ] || fail "fencing: the new member keeps being reassigned"
[ "$(grep -c 'static member fence-1 rejoined' "$WORK/broker.log")" = 1 ] ||
    fail "fencing: the two members took turns: $(grep -c 'static member fence-1 rejoined' "$WORK/broker.log") rejoins"
stop fa
stop fb
note "7b: a second member with the same group.instance.id fences the first (FENCED_INSTANCE_ID, fatal)"

# ---- 8. the coordinator goes away: broker kill -9 and restart ----
for i in 1 2; do start "co$i" member g-coord; done
wait_settled 30 3 co1 co2
old_ids="$(last_member co1) $(last_member co2)"
revokes="$(revoke_count co1) $(revoke_count co2)"
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null || true
echo "--- restart" >> "$WORK/broker.log"
"$EDDY" broker --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    --set group.initial.rebalance.delay.ms=0 >> "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 200); do
    [ "$(grep -c "listening on 127.0.0.1:$PORT" "$WORK/broker.log")" = 2 ] && break
    sleep 0.05
done
[ "$(grep -c "listening on 127.0.0.1:$PORT" "$WORK/broker.log")" = 2 ] || fail "the broker did not restart"
T "$CG" produce "$B" "$TOPIC" 1800 600 || fail "produce 1800..2399"
wait_covered 40 0 2399 co1 co2
wait_settled 30 3 co1 co2
# The restarted coordinator loaded the group with its members (as Kafka's does): both
# heartbeat on under their member ids, with no rebalance.
[ "$(last_member co1) $(last_member co2)" = "$old_ids" ] ||
    fail "the members came back as $(last_member co1) $(last_member co2), were $old_ids: they rejoined"
[ "$(revoke_count co1) $(revoke_count co2)" = "$revokes" ] ||
    fail "the restart made the group rebalance (revocations $revokes -> $(revoke_count co1) $(revoke_count co2))"
stop co1
stop co2
note "8: after the broker restarted the members found it again under their member ids, with no rebalance, and consumed everything"

# ---- 9. a topic created after the subscription ----
TOPIC=later start lt1 member g-later --metadata-age=1000
for _ in $(seq 1 150); do
    [ "$(last_assign lt1)" = - ] && break
    sleep 0.1
done
[ "$(last_assign lt1)" = - ] || fail "lt1: no empty assignment for a topic that does not exist"
T "$CG" create "$B" later 3 || fail "create later"
for _ in $(seq 1 150); do
    [ "$(last_assign lt1)" = 0,1,2 ] && break
    sleep 0.1
done
[ "$(last_assign lt1)" = 0,1,2 ] || fail "lt1: the leader did not rebalance for the new topic: '$(last_assign lt1)'"
TOPIC=later T "$CG" produce "$B" later 0 30 || fail "produce to later"
wait_covered 15 0 29 lt1
stop lt1
note "9: the leader saw the new topic's partitions (metadata.max.age.ms) and rebalanced"

# ---- 10. pause and resume ----
T "$CG" pause "$B" paused > "$WORK/pause.out" 2> "$WORK/pause.err" ||
    fail "pause: $(tail -n 3 "$WORK/pause.err")"
tail -n 1 "$WORK/pause.out" | grep -q ' PAUSE ok$' || fail "pause: it did not finish"
note "10: a paused partition stayed silent, the other went on, the resume lost and repeated nothing"

# ---- 11. DeleteRecords ----
T "$CG" delete-records "$B" purged > "$WORK/dr.out" 2> "$WORK/dr.err" ||
    fail "delete-records: $(tail -n 3 "$WORK/dr.err")"
tail -n 1 "$WORK/dr.out" | grep -q ' DELETE-RECORDS ok$' || fail "delete-records: it did not finish"
note "11: DeleteRecords moved the log starts and reported each partition's result"

# ---- 12. a long poll beside a producer ----
T "$CG" longpoll "$B" longpoll > "$WORK/longpoll.out" 2> "$WORK/longpoll.err" ||
    fail "longpoll: $(tail -n 3 "$WORK/longpoll.err")"
tail -n 1 "$WORK/longpoll.out" | grep -q ' LONGPOLL ok$' || fail "longpoll: it did not finish"
note "12: $(grep -o 'slowest.*' "$WORK/longpoll.out")"

note "all passed"
