#!/usr/bin/env bash
# Repartition topics keep what the app has not read yet, whatever the records'
# event time, and lose what it has committed:
#  1. a replay of events 30 days old (older than the broker's default 7-day
#     retention, checked every second here) through a timestamp extractor and
#     a key change (group_by + count) gives exactly the counts of an awk model;
#     the repartition topic was created with retention.ms=-1;
#  2. with current events (which retention would keep), the repartition
#     topic's log start offsets still advance after commits, up to the group's
#     committed offsets and never past them (DeleteRecords after commits,
#     repartition.purge.interval.ms);
#  3. after a restart, the app carries on from there with exact counts.
#
#   streams_repartition.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_repartition "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

# The default retention (7 days); retention runs every second.
start_broker "$WORK/data" --set log.retention.check.interval.ms=100
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
# The input and output keep their records (they carry the old event times too).
E topic create events -p 2 -c retention.ms=-1 >/dev/null
E topic create user-counts -p 1 -c retention.ms=-1 >/dev/null

start_app() {
    timeout 120 "$APP" "$BOOTSTRAP" "$WORK/state" -X commit.interval.ms=200 \
        -X repartition.purge.interval.ms=300 -X session.timeout.ms=6000 \
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

# produce FIRST_ID COUNT BASE_MS: events e<i> with time BASE_MS + i for 33 users,
# unevenly (u00 the most, u32 the least); appended to $WORK/events for the model
produce() {
    awk -v first="$1" -v n="$2" -v base="$3" 'BEGIN {
        for (i = first; i < first + n; i++)
            printf "e%d:%d u%02d\n", i, base + i, int((i % 100) * (i % 100) * 33 / 10000)
    }' >"$WORK/batch"
    cat "$WORK/batch" >>"$WORK/events"
    E topic produce events -k : <"$WORK/batch" >/dev/null
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
        out=$(output)
        if [ "$out" = "$(model)" ]; then
            log "$what: $(echo "$out" | wc -l) users, counts equal the model's"
            return 0
        fi
        local c
        c=$(committed)
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
    E topic describe "$RP" | awk '$1 ~ /^[0-9]+$/ && NF == 4 { print $1, $3, $4 }'
}

: >"$WORK/events"
now=$(now_ms)
produce 0 20000 $((now - 30 * 86400000))
start_app
check_counts "replay of events 30 days old"
RP=$(E topic list | awk '/^rpapp-.*-repartition / { print $1 }')
[ -n "$RP" ] || fail "no repartition topic: $(E topic list)"
E topic describe "$RP" | grep -Eq '^ +retention\.ms +-1 +\(set on the topic\)' ||
    fail "$RP was not created with retention.ms=-1: $(E topic describe "$RP")"
log "$RP: retention.ms=-1"

# 2. Current events: retention keeps them, only the purge deletes them.
before=$(repartition_offsets)
produce 20000 3000 "$(now_ms)"
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

# 3. A restart resumes from the committed offsets, the log start.
stop_app
produce 23000 2000 $((now - 30 * 86400000))
start_app
check_counts "after a restart"
stop_app
grep -q "deleting consumed records.*failed" "$WORK/app.log" &&
    fail "a purge failed: $(grep 'deleting consumed records' "$WORK/app.log" | head -n 1)"
log "PASS"
