#!/usr/bin/env bash
# Processors and punctuation against a real broker (streams_punctuate_app):
#  - a stream-time punctuator (every 10,000 ms) fires at the first record
#    and then when the task's stream time reaches the next multiple of the
#    interval, once however far stream time jumps, with the records the
#    processor saw by then; event times come from the values through a
#    timestamp extractor, and a record whose extractor gives -1 is skipped;
#  - a wall-clock punctuator (every 200 ms) fires while no record arrives.
#
#   streams_punctuate.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_punctuate "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create in -p 1 >/dev/null
E topic create out -p 1 >/dev/null

timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" >"$WORK/app.log" 2>&1 </dev/null &
APP_PID=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"

# stream time: 1000 (first record: fires), 5000, x (skipped), 9999, 10000
# (fires), 10001, 25000 (fires once, not for 20000 too), 31000 (fires)
printf '1000\n5000\nx\n9999\n10000\n10001\n25000\n31000\n' | E topic produce in >/dev/null

got=
for _ in $(seq 300); do
    got=$(E topic consume out -o beginning -e -f '%k %v\n' 2>/dev/null | grep '^stream ' || true)
    [ "$(echo "$got" | grep -c '^stream')" -ge 4 ] && break
    sleep 0.1
done
want=$'stream 1000 1\nstream 10000 4\nstream 25000 6\nstream 31000 7'
[ "$got" = "$want" ] || { tail -n 20 "$WORK/app.log" >&2; fail "stream-time punctuations: got [$got], want [$want]"; }
log "stream-time punctuations at 1000, 10000, 25000, 31000 with 1, 4, 6, 7 records seen"
grep -q "skipping a record with timestamp -1" "$WORK/app.log" ||
    fail "the record with no timestamp was not reported as skipped"

# wall clock: no more input; the 200 ms punctuator keeps firing
# The window is measured, not assumed (a loaded machine sleeps longer):
# at least a third of the firings it allows.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)
n0=$(E topic consume out -o beginning -e -f '%k\n' 2>/dev/null | grep -c '^wall$' || true)
sleep 2
n1=$(E topic consume out -o beginning -e -f '%k\n' 2>/dev/null | grep -c '^wall$' || true)
t1=$(now_ms)
want=$(((t1 - t0) / 200 / 3))
[ "$((n1 - n0))" -ge "$want" ] && [ "$((n1 - n0))" -ge 4 ] ||
    fail "wall-clock punctuator fired $((n1 - n0)) times in $((t1 - t0)) ms without input (want >= $want and >= 4)"
log "wall-clock punctuations: $n0, then $n1 $((t1 - t0)) ms later"

kill -TERM "$APP_PID"
rc=0
wait "$APP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
log "PASS"
