#!/usr/bin/env bash
# Repartition topics keep what the app has not read yet, whatever the records'
# event time, and lose what it has committed. Events 30 days old (older than
# the broker's default 7-day retention, which runs every second here) go
# through a timestamp extractor and a key change (group_by + count):
#  1. a replay of such history gives exactly the counts of an awk model, also
#     when the app is stopped in the middle of a stream of them and started
#     again after the broker's retention has run (the records the app wrote
#     to its repartition topic but had not read yet are still there); the
#     repartition topic was created with retention.ms=-1;
#  2. with current events (which retention would keep), the repartition
#     topic's log start offsets still advance after commits, up to the group's
#     committed offsets and never past them (DeleteRecords after commits,
#     repartition.purge.interval.ms).
#
#   streams_repartition.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_repartition "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

# The default retention (7 days), run every second; groups form without delay.
start_broker "$WORK/data" --set log.retention.check.interval.ms=100 \
    --set group.initial.rebalance.delay.ms=0
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
# The input and output keep their records (they carry the old event times too).
E topic create events -p 2 -c retention.ms=-1 >/dev/null
E topic create user-counts -p 1 -c retention.ms=-1 >/dev/null

start_app() {
    timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" -X commit.interval.ms=200 \
        -X repartition.purge.interval.ms=300 \
        >>"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"
}
stop_app() {
    kill -TERM "$APP_PID"
    local rc=0
    wait "$APP_PID" || rc=$?
    bg_done "$APP_PID"
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
}

# gen FIRST_ID COUNT BASE_MS: events e<i> with time BASE_MS + i for 33 users,
# unevenly (u00 the most, u32 the least)
gen() {
    awk -v first="$1" -v n="$2" -v base="$3" 'BEGIN {
        for (i = first; i < first + n; i++)
            printf "e%d:%.0f u%02d\n", i, base + i, int((i % 100) * (i % 100) * 33 / 10000)
    }'
}
# produce FIRST_ID COUNT BASE_MS: those events, also appended to $WORK/events
# for the model
produce() {
    gen "$@" >"$WORK/batch"
    cat "$WORK/batch" >>"$WORK/events"
    E topic produce events -k : <"$WORK/batch" >/dev/null
}
# feed FIRST_ID BASE_MS: a steady stream of events (20 every 20 ms) through
# one producer, until $WORK/feed-stop exists
feed() {
    local i=$1
    while [ ! -e "$WORK/feed-stop" ] && [ "$i" -lt $(($1 + 100000)) ]; do
        gen "$i" 20 "$2"
        i=$((i + 20))
        sleep 0.02
    done | tee -a "$WORK/events" | E topic produce events -k : >/dev/null
}
# The model: events per user.
model() { awk -F'[: ]' '{ n[$3]++ } END { for (u in n) print u, n[u] }' "$WORK/events" | sort; }
# The app's output: each user's last count.
output() {
    E topic consume user-counts -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ last[$1] = $2 } END { for (u in last) print u, last[u] }' | sort
}
# "TOPIC PARTITION COMMITTED END" of the group's partitions.
committed() {
    E group describe rpapp 2>/dev/null |
        awk '$2 ~ /^[0-9]+$/ && $3 ~ /^-?[0-9]+$/ { print $1, $2, $3, $4 }'
}
# Until the app has committed everything to the end of its inputs and the
# output stayed the same for a second; then the output must equal the model.
check_counts() {
    local what=$1 prev="" out="" stable=0
    for _ in $(seq 120); do
        kill -0 "$APP_PID" 2>/dev/null || { tail -n 20 "$WORK/app.log" >&2; fail "the app died"; }
        out=$(output)
        if [ "$out" = "$(model)" ]; then
            log "$what: $(echo "$out" | wc -l) users, counts equal the model's"
            return 0
        fi
        local c
        c=$(committed || true)
        if [ -n "$c" ] && echo "$c" | awk '$3 != $4 { lag = 1 } END { exit lag }' &&
            [ "$out" = "$prev" ]; then
            stable=$((stable + 1))
            [ "$stable" -lt 3 ] || break
        else
            stable=0
        fi
        prev=$out
        sleep 0.5
    done
    tail -n 20 "$WORK/app.log" >&2
    diff <(model) <(echo "$out") >&2 || true
    fail "$what: the counts differ from the model (< model, > app output; $(model | wc -l) users" \
        "in the model, $(echo "$out" | grep -c . || true) in the output)"
}
# "PARTITION START END" of the repartition topic.
repartition_offsets() {
    E topic describe "$RP" | awk '$1 ~ /^[0-9]+$/ && $NF == "online" { print $1, $3, $4 }'
}

: >"$WORK/events"
now=$(now_ms)
old=$((now - 30 * 86400000))
produce 0 20000 "$old"
start_app
check_counts "replay of 20000 events 30 days old"
RP=$(E topic list | awk '/^rpapp-.*-repartition / { print $1 }')
[ -n "$RP" ] || fail "no repartition topic: $(E topic list)"
E topic describe "$RP" | grep -Eq '^ +retention\.ms +-1 +\(set on the topic\)' ||
    fail "$RP was not created with retention.ms=-1: $(E topic describe "$RP")"
log "$RP: retention.ms=-1"

# A stream of old events; the app stops in the middle of it. Its last commit
# sends what it has counted since its last flush through the repartition
# topic, where it waits for the next start (tried again should the app have
# had nothing waiting there when it stopped).
consumed() { committed | awk '$1 == "events" { n += $3 } END { print n + 0 }'; }
feed 100000 "$old" &
FEED_PID=$!
bg_started "$FEED_PID"
waiting=0
for attempt in 1 2 3 4 5; do
    from=$(consumed)
    for _ in $(seq 100); do
        [ "$(consumed)" -gt $((from + 200)) ] && break
        sleep 0.1
    done
    [ "$(consumed)" -gt $((from + 200)) ] || fail "the app does not process the stream of events"
    stop_app
    waiting=$(committed | awk -v t="$RP" '$1 == t { n += $4 - $3 } END { print n + 0 }')
    log "app stopped while events came in (attempt $attempt): $waiting record(s) wait in $RP"
    [ "$waiting" -gt 0 ] && break
    start_app
done
touch "$WORK/feed-stop"
wait "$FEED_PID" || fail "producing the stream of events failed"
bg_done "$FEED_PID"
[ "$waiting" -gt 0 ] || fail "the app never stopped with records waiting in $RP"
# Until the broker's retention has run since: a record in a topic that keeps
# records for 1 ms is gone.
E topic create retention-canary -p 1 -c retention.ms=1 >/dev/null
echo canary | E topic produce retention-canary >/dev/null
for _ in $(seq 100); do
    E topic describe retention-canary | awk '$1 == "0" && $3 == 1 { ok = 1 } END { exit !ok }' &&
        break
    sleep 0.1
done
E topic describe retention-canary | awk '$1 == "0" && $3 == 1 { ok = 1 } END { exit !ok }' ||
    fail "the broker's retention did not run within 10 s"
start_app
check_counts "after a stop in the middle and the broker's retention"

# 2. Current events: retention keeps them, only the purge deletes them.
before=$(repartition_offsets)
produce 30000 3000 "$(now_ms)"
check_counts "current events"
ok=0
for _ in $(seq 50); do
    after=$(repartition_offsets)
    if echo "$after" | awk '$2 != $3 || $3 == 0 { bad = 1 } END { exit bad }'; then
        ok=1
        break
    fi
    sleep 0.2
done
[ "$ok" = 1 ] || fail "$RP: the log start did not reach the committed end after commits" \
    "(PARTITION START END before: [$(echo $before)], now: [$(echo $after)])"
# The log start never passes what the group committed (start read first:
# committed offsets only grow).
start=$(repartition_offsets)
committed >"$WORK/committed"
while read -r p s _; do
    c=$(awk -v t="$RP" -v p="$p" '$1 == t && $2 == p { print $3 }' "$WORK/committed")
    [ -n "$c" ] && [ "$s" -le "$c" ] || fail "$RP-$p: log start $s, committed [$c]"
done < <(echo "$start")
log "$RP: log start offsets went from [$(echo $before)] to [$(echo $after)] (PARTITION START END)"
stop_app
grep -q "deleting consumed records.*failed" "$WORK/app.log" &&
    fail "a purge failed: $(grep 'deleting consumed records' "$WORK/app.log" | head -n 1)"
log "PASS"
