#!/usr/bin/env bash
# bench_client.sh: runs bench_client (Eddy's client vs librdkafka) against
# one Eddy broker process it starts.
#
#   bench/bench_client.sh [path/to/eddy] [bench_client options...]
#
# Builds nothing. Starts one broker from path/to/eddy (default
# build/bin/eddy) on 127.0.0.1 with a free port and a fresh data dir under a
# temp dir, runs bench_client from the same bin/ directory (or
# $BENCH_CLIENT), stops the broker with SIGTERM, removes the temp dir and
# prints a summary block to paste into a note.
#
# Environment: BENCH_TIMEOUT (seconds, default 170) bounds bench_client.
# Exit status: bench_client's (0 ran, 1 a call failed or records were
#              missing), or 2 if the broker would not start.
set -u

EDDY=build/bin/eddy
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    EDDY=$1
    shift
fi
BENCH=${BENCH_CLIENT:-$(dirname "$EDDY")/bench_client}
TIMEOUT=${BENCH_TIMEOUT:-170}
for f in "$EDDY" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "bench_client.sh: $f not found (build it: cmake --build build --target eddy bench_client)" >&2
        exit 2
    fi
done

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-cbench.XXXXXX")
BROKER_PID=
BENCH_PID=
START=$(date +%s)

stop_broker() {
    [ -n "$BROKER_PID" ] || return 0
    kill -TERM "$BROKER_PID" 2>/dev/null
    STOP_CODE=
    for _ in $(seq 100); do
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            wait "$BROKER_PID" 2>/dev/null
            STOP_CODE=$?
            break
        fi
        sleep 0.1
    done
    if [ -z "$STOP_CODE" ]; then
        echo "bench_client.sh: broker $BROKER_PID still running 10 s after SIGTERM; killing it" >&2
        kill -KILL "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    BROKER_PID=
}
cleanup() {
    if [ -n "$BENCH_PID" ]; then
        kill -TERM "$BENCH_PID" 2>/dev/null
        wait "$BENCH_PID" 2>/dev/null
        BENCH_PID=
    fi
    stop_broker
    rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$ROOT/data"
"$EDDY" broker --data-dir "$ROOT/data" --listen 127.0.0.1:0 2>"$ROOT/broker.log" &
BROKER_PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ROOT/broker.log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    echo "bench_client.sh: broker did not start; its log:" >&2
    cat "$ROOT/broker.log" >&2
    exit 2
fi
ADDR=127.0.0.1:$PORT
echo "bench_client.sh: broker $ADDR (pid $BROKER_PID), data under $ROOT"

# In the background, so that a signal to this script is handled at once.
timeout --signal=TERM "$TIMEOUT" "$BENCH" -b "$ADDR" "$@" >"$ROOT/bench.out" 2>&1 &
BENCH_PID=$!
tail -n +1 -f --pid="$BENCH_PID" "$ROOT/bench.out" 2>/dev/null &
TAIL_PID=$!
wait "$BENCH_PID"
RC=$?
BENCH_PID=
wait "$TAIL_PID"
[ "$RC" = 124 ] && echo "bench_client.sh: bench_client stopped after ${TIMEOUT} s" >&2

DU=$(du -sh "$ROOT/data" 2>/dev/null | cut -f1)
stop_broker
LOG=$ROOT/broker.log
WARNS=$(grep -c -E ' (WARN|ERROR) ' "$LOG")
if [ -z "$STOP_CODE" ]; then
    STOP="broker: did not stop within 10 s of SIGTERM; $WARNS WARN/ERROR lines"
elif grep -q 'stopped cleanly' "$LOG"; then
    STOP="broker: stopped cleanly (exit $STOP_CODE); $WARNS WARN/ERROR lines"
else
    STOP="broker: exit $STOP_CODE without 'stopped cleanly'; $WARNS WARN/ERROR lines"
fi
if [ "$WARNS" != 0 ]; then
    echo "--- broker WARN/ERROR lines (first 20):"
    grep -E ' (WARN|ERROR) ' "$LOG" | head -20
fi

echo
REV=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || REV="$REV+changes"
BUILT=$(date -u -r "$EDDY" +%Y-%m-%dT%H:%MZ 2>/dev/null || echo '?')
echo "== bench_client summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r), librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), tree $REV, $EDDY built $BUILT)"
sed -n '/^== summary$/,$p' "$ROOT/bench.out" | sed 1d
echo "data at the end: $DU"
echo "$STOP"
[ "$RC" != 0 ] && echo "bench_client exit status $RC (see the messages above)"
echo "total $(($(date +%s) - START)) s"
exit "$RC"
