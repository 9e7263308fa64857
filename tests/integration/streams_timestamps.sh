#!/usr/bin/env bash
# Output timestamps follow Kafka Streams' rules, and survive a restore:
#  - a count's result carries the largest timestamp of the key's records, not
#    the latest record's (records arrive out of order);
#  - a table-table join's result carries the larger timestamp of the two
#    sides;
#  - the count's changelog holds the plain 8-byte value with that timestamp as
#    the record's (Kafka's format for timestamped stores);
#  - after the state is wiped and restored from the changelog, a new record
#    with an older time still gives the restored largest timestamp.
#
#   streams_timestamps.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_timestamps "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
for t in in ina inb out-counts out-join; do E topic create "$t" -p 1 >/dev/null; done

start_app() {
    timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" >>"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"
}
stop_app() {
    kill -TERM "$APP_PID"
    local rc=0
    wait "$APP_PID" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
}
# wait_for TOPIC FORMAT LINE: until the topic's last record for the line's
# first field prints as LINE
wait_for() {
    local got=
    for _ in $(seq 300); do
        got=$(E topic consume "$1" -o beginning -e -f "$2" --value-format "$3" 2>/dev/null |
            awk -v k="${4%% *}" '$1 == k { last = $0 } END { print last }')
        [ "$got" = "$4" ] && return 0
        sleep 0.1
    done
    tail -n 20 "$WORK/app.log" >&2
    fail "$1: last record for ${4%% *} is [$got], want [$4]"
}

start_app
printf 'k1:5000\nk1:9000\nk1:7000\nk2:3000\n' | E topic produce in -k : >/dev/null
wait_for out-counts '%k %v %T\n' int64 "k1 3 9000"
wait_for out-counts '%k %v %T\n' int64 "k2 1 3000"
log "count: k1's result carries 9000, the largest of 5000, 9000, 7000"

printf 'x:100 a1\n' | E topic produce ina -k : >/dev/null
printf 'x:400 b1\n' | E topic produce inb -k : >/dev/null
wait_for out-join '%k %v %T\n' string "x 100 a1|400 b1 400"
printf 'x:200 a2\n' | E topic produce ina -k : >/dev/null
wait_for out-join '%k %v %T\n' string "x 200 a2|400 b1 400"
log "table-table join: results carry the larger side's time (400)"

wait_for tsapp-counts-changelog '%k %v %T\n' int64 "k1 3 9000"
log "changelog: plain int64 3 with timestamp 9000"

stop_app
rm -rf "$WORK/state"
start_app
printf 'k1:1000\n' | E topic produce in -k : >/dev/null
wait_for out-counts '%k %v %T\n' int64 "k1 4 9000"
grep -q "restored" "$WORK/app.log" || fail "the app did not restore"
log "after a wipe and restore, k1 counts 4 and keeps 9000"
stop_app
log "PASS"
