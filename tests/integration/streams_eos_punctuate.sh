#!/usr/bin/env bash
# A wall-clock punctuator under processing.guarantee=exactly_once_v2 with
# commit.interval.ms=100 (the EOS default) fires while input keeps coming:
# streams_punctuate_app's 200 ms punctuator forwards "wall" records, which
# must be committed (read_committed) at about that rate while records
# arrive every ~20 ms, i.e. while every commit has a transaction to end.
#
#   streams_eos_punctuate.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_eos_punctuate "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout seq
export LC_ALL=C

start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=0
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create in -p 1 >/dev/null
E topic create out -p 1 >/dev/null

timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" processing.guarantee=exactly_once_v2 \
    commit.interval.ms=100 >"$WORK/app.log" 2>&1 </dev/null &
APP_PID=$!
bg_started $APP_PID
alive() { kill -0 "$APP_PID" 2>/dev/null || { tail -n 20 "$WORK/app.log" >&2; fail "the app died"; }; }
walls() {
    E topic consume out -o beginning -e --isolation read_committed -f '%k\n' 2>/dev/null |
        grep -c '^wall$' || true
}
for _ in $(seq 1 600); do
    alive
    grep -q 'all active tasks ready\|assigned 1 active' "$WORK/app.log" && break
    sleep 0.1
done
grep -q 'assigned 1 active' "$WORK/app.log" || fail "the app got no task within 60 s"

# Records all along: 5 every ~20 ms (event times 10 ms apart) until the
# count below is done ($WORK/stop), at most 10,000 rounds.
(
    t=0
    for _ in $(seq 1 10000); do
        [ -e "$WORK/stop" ] && break
        for _ in 1 2 3 4 5; do t=$((t + 10)); echo "$t"; done
        sleep 0.02
    done | timeout 600 "$EDDY" -b "$BOOTSTRAP" topic produce in >/dev/null || exit 1
) &
FEED=$!
bg_started $FEED
# Wait for the records to flow, then count the punctuations over >= 3 s.
# The window is measured, not assumed (a loaded machine sleeps longer): the
# 200 ms punctuator must have fired at least a third of the times the
# window allows.
for _ in $(seq 1 600); do
    alive
    [ "$(E topic consume in -o beginning -e -f '%v\n' 2>/dev/null | wc -l)" -ge 100 ] && break
    sleep 0.1
done
sleep 0.5
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)
n0=$(walls)
in0=$(E topic consume in -o beginning -e -f '%v\n' 2>/dev/null | wc -l)
sleep 3
in1=$(E topic consume in -o beginning -e -f '%v\n' 2>/dev/null | wc -l)
n1=$(walls)
t1=$(now_ms)
kill -0 "$FEED" 2>/dev/null || fail "the records stopped before the count ended (producing them failed?)"
[ "$in1" -gt "$in0" ] || fail "no records arrived during the count ($in0 before, $in1 after)"
want=$(((t1 - t0) / 200 / 3))
log "wall-clock punctuations committed: $n0, then $n1 $((t1 - t0)) ms later (want >= $want more), records arriving all along ($in0 -> $in1)"
[ "$((n1 - n0))" -ge "$want" ] && [ "$((n1 - n0))" -ge 6 ] ||
    fail "the 200 ms wall-clock punctuator fired $((n1 - n0)) times in $((t1 - t0)) ms while records kept coming (want >= $want and >= 6): it waits for a moment between two commits"
touch "$WORK/stop"
wait "$FEED" || fail "producing the records failed"
bg_done $FEED
kill -TERM "$APP_PID"
timeout 30 tail --pid="$APP_PID" -f /dev/null || fail "the app did not stop within 30 s of SIGTERM"
rc=0
wait "$APP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "the app exited $rc after SIGTERM"; }
bg_done $APP_PID
log "PASS"
