#!/usr/bin/env bash
# Eddy's client against addresses where no broker answers. The CLI fails at once, non-zero,
# naming the reason (a refused connection is "refused", not a timeout; an unknown host is
# "cannot resolve" with a handful of lines, not one per attempt); a bootstrap list whose first
# address is dead still reaches the live one; a streams app keeps retrying, logs a bounded
# number of lines that carry the count of attempts left out, and stops cleanly on SIGTERM (on a
# closed port and on an unknown host).
#
#   cli_unreachable.sh EDDY_BINARY WORDCOUNT_BINARY
#
# `timeout 30` only guards against a hang: the assertions are exit status and messages.
. "$(dirname "$0")/../compat/lib.sh"
compat_init cli_unreachable "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

# A loopback port nothing listens on: bound, then released.
closed_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DEAD=127.0.0.1:$closed_port

# Runs the CLI with its stdin from $IN (default /dev/null); status in $RC, output in $WORK/NAME.
cli() { # NAME ARGS...
    local name=$1
    shift
    RC=0
    timeout -k 5 30 "$EDDY" "$@" <"${IN:-/dev/null}" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
}
expect_refused() { # NAME
    local name=$1
    [ "$RC" = 1 ] || fail "$name: exit $RC, expected 1 (124: it hung): $(head -c 600 "$WORK/$name.err")"
    grep -q "cannot connect to $DEAD: Connection refused" "$WORK/$name.err" ||
        fail "$name: stderr does not say refused: $(head -c 600 "$WORK/$name.err")"
    ! grep -qi "timed out" "$WORK/$name.err" || fail "$name: a refusal reported as a timeout"
    [ ! -s "$WORK/$name.out" ] || fail "$name: printed on stdout: $(head -c 300 "$WORK/$name.out")"
}

cli list -b "$DEAD" topic list
expect_refused list
cli describe -b "$DEAD" topic describe t
expect_refused describe
echo "a line" >"$WORK/in"
IN=$WORK/in cli produce -b "$DEAD" topic produce t
expect_refused produce
# produce with standard input still open (a terminal, a pipe not yet written): it must not
# wait for the input to end before saying the cluster cannot be reached.
mkfifo "$WORK/stdin"
sleep 60 >"$WORK/stdin" &
writer=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $writer"
IN=$WORK/stdin cli produce_open -b "$DEAD" topic produce t
kill "$writer" 2>/dev/null || true
expect_refused produce_open
cli consume -b "$DEAD" topic consume t -e
expect_refused consume
cli group_list -b "$DEAD" group list
expect_refused group_list
cli group_describe -b "$DEAD" group describe g
expect_refused group_describe
log "closed port: topic list/describe/produce/consume, group list/describe fail at once, refused"

cli unknown -b no-such-host.invalid:9092 topic list
[ "$RC" = 1 ] || fail "unknown host: exit $RC, expected 1: $(head -c 600 "$WORK/unknown.err")"
grep -q "cannot resolve no-such-host.invalid" "$WORK/unknown.err" ||
    fail "unknown host: no 'cannot resolve': $(head -c 600 "$WORK/unknown.err")"
lines=$(wc -l <"$WORK/unknown.err")
[ "$lines" -le 3 ] || fail "unknown host: $lines lines on stderr: $(head -n 5 "$WORK/unknown.err")"
cli both -b "no-such-host.invalid:9092,$DEAD" group list
[ "$RC" = 1 ] && grep -q "cannot resolve no-such-host.invalid" "$WORK/both.err" &&
    grep -q "cannot connect to $DEAD: Connection refused" "$WORK/both.err" ||
    fail "two dead addresses: exit $RC, $(head -c 600 "$WORK/both.err")"
log "unknown host: cannot resolve, $lines line(s); two dead addresses: both named"

# A dead first address does not keep the command from the live one.
start_broker "$WORK/data"
cli live -b "$DEAD,$BOOTSTRAP" topic create live -p 1
[ "$RC" = 0 ] || fail "dead then live address: exit $RC, $(cat "$WORK/live.err")"
cli live2 -b "no-such-host.invalid:9092,$DEAD,$BOOTSTRAP" topic list
[ "$RC" = 0 ] && grep -q "^live " "$WORK/live2.out" ||
    fail "two dead then a live address: exit $RC, $(cat "$WORK/live2.err")"
stop_broker
log "dead addresses before a live one: the command succeeds"

# A streams app keeps retrying (it must ride out a cluster restart), with a bounded log:
# one line per 10 s interval (KC_LOG_INTERVAL_MS) at most, with the count of the
# attempts left out. The app runs until that count line shows (at most 60 s), then
# gets SIGTERM; the line budget grows with the time it ran.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
run_app() { # OUT PATTERN ARGS...: run the app until PATTERN is in OUT, then SIGTERM it
    local out=$1 pattern=$2 pid t0 rc=0
    shift 2
    t0=$(now_ms)
    "$WC" "$@" >"$out" 2>&1 </dev/null &
    pid=$!
    bg_started $pid
    for _ in $(seq 1 300); do
        grep -q "$pattern" "$out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -TERM "$pid" 2>/dev/null || true
    timeout 30 tail --pid="$pid" -f /dev/null || fail "app: did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    bg_done $pid
    RAN_S=$((($(now_ms) - t0) / 1000))
    [ "$rc" = 0 ] || { cat "$out" >&2; fail "app: exit $rc after SIGTERM, expected 0"; }
    grep -q "$pattern" "$out" || { cat "$out" >&2; fail "app: no line with the count of attempts left out in 60 s"; }
}
check_lines() { # OUT WHAT: client lines and all lines bounded by the time the app ran
    local client_lines all_lines
    client_lines=$(grep -c "\[client\]" "$1" || true)
    all_lines=$(wc -l <"$1")
    [ "$client_lines" -le $((3 + RAN_S / 10)) ] && [ "$all_lines" -le $((11 + RAN_S / 10)) ] ||
        { head -n 20 "$1" >&2; fail "$2: $client_lines client lines, $all_lines in all in $RAN_S s"; }
    CLIENT_LINES=$client_lines
}
run_app "$WORK/app.out" "more like it in the last" -X bootstrap.servers="$DEAD" -X state.dir="$WORK/s0"
grep -q "cannot connect to $DEAD: Connection refused" "$WORK/app.out" ||
    { cat "$WORK/app.out" >&2; fail "app: the refusal is not logged"; }
check_lines "$WORK/app.out" "app"
log "streams app: retried for $RAN_S s, $CLIENT_LINES client line(s) with counts, stopped cleanly on SIGTERM"

# The same app on an unknown host: the resolver is asked with the same growing backoff, and
# the log says so once per interval, not 20 times a second.
run_app "$WORK/app2.out" "cannot resolve no-such-host.invalid.*more like it in the last" \
    -X bootstrap.servers=no-such-host.invalid:9092 -X state.dir="$WORK/s1"
check_lines "$WORK/app2.out" "app, unknown host"
log "streams app, unknown host: $RAN_S s, $CLIENT_LINES client line(s) with counts, stopped cleanly"
log "PASS"
