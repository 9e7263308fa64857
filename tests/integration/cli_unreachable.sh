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

# A streams app keeps retrying (it must ride out a cluster restart), with a bounded log.
RC=0
timeout --preserve-status -k 10 -s TERM 13 "$WC" -X bootstrap.servers="$DEAD" \
    -X state.dir="$WORK/s0" >"$WORK/app.out" 2>&1 </dev/null || RC=$?
[ "$RC" = 0 ] || { cat "$WORK/app.out" >&2; fail "app: exit $RC after SIGTERM, expected 0"; }
grep -q "cannot connect to $DEAD: Connection refused" "$WORK/app.out" ||
    { cat "$WORK/app.out" >&2; fail "app: the refusal is not logged"; }
grep -q "more like it in the last" "$WORK/app.out" ||
    { cat "$WORK/app.out" >&2; fail "app: no line with the count of attempts left out"; }
client_lines=$(grep -c "\[client\]" "$WORK/app.out" || true)
all_lines=$(wc -l <"$WORK/app.out")
[ "$client_lines" -le 4 ] && [ "$all_lines" -le 12 ] ||
    { cat "$WORK/app.out" >&2; fail "app: $client_lines client lines, $all_lines in all in 13 s"; }
log "streams app: retried, $client_lines client line(s) with counts, stopped cleanly on SIGTERM"

# The same app on an unknown host: the resolver is asked with the same growing backoff, and
# the log says so once per interval, not 20 times a second.
RC=0
timeout --preserve-status -k 10 -s TERM 13 "$WC" -X bootstrap.servers=no-such-host.invalid:9092 \
    -X state.dir="$WORK/s1" >"$WORK/app2.out" 2>&1 </dev/null || RC=$?
[ "$RC" = 0 ] || { cat "$WORK/app2.out" >&2; fail "app, unknown host: exit $RC after SIGTERM"; }
grep -q "cannot resolve no-such-host.invalid.*more like it in the last" "$WORK/app2.out" ||
    { cat "$WORK/app2.out" >&2; fail "app, unknown host: no line with the count of attempts"; }
client_lines=$(grep -c "\[client\]" "$WORK/app2.out" || true)
all_lines=$(wc -l <"$WORK/app2.out")
[ "$client_lines" -le 4 ] && [ "$all_lines" -le 12 ] ||
    { head -n 20 "$WORK/app2.out" >&2; fail "app, unknown host: $client_lines client lines, $all_lines in all"; }
log "streams app, unknown host: $client_lines client line(s) with counts, stopped cleanly"
log "PASS"
