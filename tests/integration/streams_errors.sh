#!/usr/bin/env bash
# Streams apps facing bad input and a bad environment: each gets a clear
# error naming the thing, or (log-and-continue) skips and counts.
#
#   streams_errors.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_errors "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

# Runs the app in the background for at most $1 seconds; status in $RC.
run_wc() { # SECONDS NAME ARGS...
    local secs=$1 name=$2
    shift 2
    RC=0
    timeout --preserve-status -k 10 -s TERM "$secs" "$WC" "$@" >"$WORK/$name.out" 2>&1 </dev/null || RC=$?
}
expect_err() { # NAME WANT_RC PATTERN...
    local name=$1 want=$2
    shift 2
    [ "$RC" = "$want" ] || { cat "$WORK/$name.out" >&2; fail "$name: exit $RC, expected $want"; }
    local p
    for p in "$@"; do
        grep -q -- "$p" "$WORK/$name.out" || { cat "$WORK/$name.out" >&2; fail "$name: output lacks '$p'"; }
    done
}

# The cluster cannot be reached: the app retries and says so; SIGTERM stops it cleanly.
closed_port=1 # nothing listens on port 1 of loopback
run_wc 10 unreachable -X bootstrap.servers=127.0.0.1:$closed_port -X state.dir="$WORK/s0"
expect_err unreachable 0 "cannot reach the cluster at 127.0.0.1:$closed_port" "retrying"
log "unreachable cluster: retried with backoff, clean stop on SIGTERM"

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
common=(-X "bootstrap.servers=$BOOTSTRAP" -X commit.interval.ms=200)

run_wc 20 unknown "${common[@]}" -X no.such.setting=1
expect_err unknown 2 "no.such.setting"
log "unknown setting: exit 2, named"

run_wc 20 noinput "${common[@]}" -X state.dir="$WORK/s1" --input nosuch
expect_err noinput 1 "input topic 'nosuch' does not exist" "eddy topic create nosuch"
log "missing input topic: exit 1, named with the command that creates it"

E topic create lines -p 2 >/dev/null
touch "$WORK/not-a-dir"
run_wc 20 statedir "${common[@]}" -X state.dir="$WORK/not-a-dir/state"
expect_err statedir 1 "$WORK/not-a-dir/state" "writable"
log "unwritable state.dir: exit 1, path named"

# A record that is not UTF-8 in a string stream.
E topic create bad -p 1 >/dev/null
E topic create bad-counts -p 1 >/dev/null
{ echo "good words here"; printf 'bad \377\376 bytes\n'; echo "more good words"; } | E topic produce bad >/dev/null
run_wc 30 fail "${common[@]}" -X state.dir="$WORK/s2" -X application.id=bad-fail --input bad --output bad-counts
expect_err fail 1 "bad-0 offset 1" "not string" "log-and-continue"
log "log-and-fail: the app stops naming the record"

timeout -s TERM 60 "$WC" "${common[@]}" -X state.dir="$WORK/s3" -X application.id=bad-skip \
    -X default.deserialization.exception.handler=log-and-continue --input bad --output bad-counts \
    >"$WORK/skip.out" 2>&1 </dev/null &
pid=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
got=""
for _ in $(seq 1 60); do
    got=$(E topic consume bad-counts -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { print c["good"] + 0, c["words"] + 0, c["bytes"] + 0 }')
    [ "$got" = "2 2 0" ] && break
    sleep 1
done
kill -TERM "$pid"
wait "$pid" || fail "log-and-continue app exited $?"
[ "$got" = "2 2 0" ] || { cat "$WORK/skip.out" >&2; fail "log-and-continue: counts 'good words bytes' = '$got', expected '2 2 0'"; }
grep -q "skipping a record that cannot be read.*1 skipped so far" "$WORK/skip.out" ||
    { cat "$WORK/skip.out" >&2; fail "log-and-continue: no line counting the skipped record"; }
log "log-and-continue: the bad record skipped and counted, the others counted"
stop_broker
log "ok"
