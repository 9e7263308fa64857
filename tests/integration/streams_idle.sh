#!/usr/bin/env bash
# A task with two inputs (a stream of clicks left-joined with a table of
# users) processes their records in timestamp order, as Kafka Streams does,
# not in the order the fetches bring them:
#  1. both topics written before the app starts, the users first: every
#     click joins the user's value as of the click's time (the model merges
#     the two topics by time);
#  2. with the app running and max.task.idle.ms=60000, the clicks written
#     first and the users they interleave with only after them: the task
#     waits for the users' data instead of joining the clicks with the old
#     values (a minute: however slow the machine, the users come sooner);
# with input buffers of 16 records, so full ones pause their partitions;
# and eddy_app_stats' active_tasks, printed at exit, says the tasks the log's
# "assigned N active" line gave (the open tasks were counted, 0 at exit).
#
#   streams_idle.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_idle "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
for t in users clicks joined; do E topic create "$t" -p 2 >/dev/null; done

# gen SEED FIRST N: N events from time FIRST on, 2 ms apart, each either a
# user's new value ("U key time value") or a click ("C key time value"), in
# time order; a click's value carries its number so every output differs.
# Then a new value of every user, later than every click: each users
# partition holds data past the last click, so the task never has to wait
# out max.task.idle.ms for a users partition to process the last clicks.
gen() {
    awk -v seed="$1" -v first="$2" -v n="$3" 'BEGIN {
        srand(seed);
        for (i = 0; i < n; i++) {
            t = first + 2 * i; u = "u" (1 + int(rand() * 6));
            if (rand() < 0.35) print "U", u, t, "name-" u "-" t;
            else print "C", u, t + 1, "click-" seed "-" i;
        }
        for (k = 1; k <= 6; k++) print "U", "u" k, first + 2 * n + k, "name-u" k "-last";
    }'
}
# The join as timestamp order gives it: each click sees the user's latest
# value before it ("none" without one).
model() {
    sort -k3,3n "$@" | awk '
        $1 == "U" { v[$2] = $3 " " $4 }
        $1 == "C" { print $2, $3 " " $4 " -> " (($2 in v) ? v[$2] : "none") }' | sort
}
produce() { # KIND TOPIC EVENTS
    awk -v k="$1" '$1 == k { print $2 ":" $3 " " $4 }' "$3" | E topic produce "$2" -k : >/dev/null
}
# wait_joined N: until "joined" holds N records, then they go to $WORK/got
wait_joined() {
    local n=0
    for _ in $(seq 600); do
        E topic consume joined -o beginning -e -f '%k %v\n' 2>/dev/null | sort >"$WORK/got"
        n=$(wc -l <"$WORK/got")
        [ "$n" -ge "$1" ] && return 0
        sleep 0.1
    done
    tail -n 20 "$WORK/app.log" >&2
    fail "joined holds $n records after 60 s, want $1"
}
check() { # WHAT
    if ! diff "$WORK/want" "$WORK/got" >"$WORK/diff"; then
        head -n 20 "$WORK/diff" >&2
        fail "$1: $(grep -c '^>' "$WORK/diff") joined record(s) differ from timestamp order"
    fi
}

gen 1 1000 400 >"$WORK/ev1"
produce U users "$WORK/ev1"
produce C clicks "$WORK/ev1"
model "$WORK/ev1" >"$WORK/want"

# Small input buffers: full ones pause their partitions and resume as they drain.
timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" -X max.task.idle.ms=60000 \
    -X buffered.records.per.partition=16 >"$WORK/app.out" 2>"$WORK/app.log" </dev/null &
APP_PID=$!
bg_started "$APP_PID"
wait_joined "$(wc -l <"$WORK/want")"
check "inputs written before the start"
log "written before the start, users first: $(wc -l <"$WORK/want") clicks joined in timestamp order"

gen 2 2000 400 >"$WORK/ev2"
produce C clicks "$WORK/ev2"
produce U users "$WORK/ev2"
model "$WORK/ev1" "$WORK/ev2" >"$WORK/want"
wait_joined "$(wc -l <"$WORK/want")"
check "clicks written before the users"
log "app running, clicks written first: the task waited for the users (max.task.idle.ms)"

kill -TERM "$APP_PID"
rc=0
wait "$APP_PID" || rc=$?
bg_done "$APP_PID"
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
want=$(sed -n 's/.*: assigned \([0-9]*\) active.*/\1/p' "$WORK/app.log" | tail -n 1)
got=$(sed -n 's/^active_tasks \([0-9]*\) .*/\1/p' "$WORK/app.out")
[ "$want" = 2 ] || fail "the log's last assignment gave [$want] active tasks, want 2 (2 partitions)"
[ "$got" = "$want" ] || fail "eddy_app_stats says [$got] active tasks, the log $want"
log "eddy_app_stats: $got active tasks, as the log's assignment"
log "PASS"
