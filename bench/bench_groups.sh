#!/usr/bin/env bash
# bench_groups.sh: runs bench_groups against Eddy broker processes it starts.
#
#   bench/bench_groups.sh [path/to/eddy] [bench_groups options...]
#
# Builds nothing. Starts two brokers from path/to/eddy (default
# build/bin/eddy) on 127.0.0.1 with free ports and fresh data dirs under one
# temp dir: "d0" with group.initial.rebalance.delay.ms=0 (join, failover and
# commit tests) and "d3000" with the default delay (join test only). Runs
# bench_groups from the same bin/ directory (or $BENCH_GROUPS), stops the
# brokers with SIGTERM, removes the temp dir and prints a summary block to
# paste into a note.
#
# Environment: BENCH_TIMEOUT (seconds, default 170) bounds bench_groups.
# Exit status: bench_groups' (0 ran, 1 a call failed, a group did not settle
#              or an offset read back wrong), or 2 if a broker would not start.
set -u

EDDY=build/bin/eddy
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    EDDY=$1
    shift
fi
BENCH=${BENCH_GROUPS:-$(dirname "$EDDY")/bench_groups}
TIMEOUT=${BENCH_TIMEOUT:-170}
for f in "$EDDY" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "bench_groups.sh: $f not found (build it: cmake --build build --target eddy bench_groups)" >&2
        exit 2
    fi
done

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-gbench.XXXXXX")
PIDS=()
BENCH_PID=
START=$(date +%s)

stop_all() {
    if [ -n "$BENCH_PID" ]; then
        kill -TERM "$BENCH_PID" 2>/dev/null # timeout passes it on to bench_groups
        wait "$BENCH_PID" 2>/dev/null
        BENCH_PID=
    fi
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "bench_groups.sh: broker $pid still running 5 s after SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null
        fi
    done
}
cleanup() {
    stop_all
    rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_broker NAME [--set K=V ...]: sets BROKER_PID and BROKER_ADDR, or exits 2.
start_broker() {
    local name=$1 dir=$ROOT/$1
    shift
    mkdir -p "$dir/data"
    "$EDDY" broker --data-dir "$dir/data" --listen 127.0.0.1:0 "$@" 2>"$dir/broker.log" &
    BROKER_PID=$!
    PIDS+=("$BROKER_PID")
    local port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/broker.log" | head -1)
        [ -n "$port" ] && break
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "bench_groups.sh: broker $name did not start; its log:" >&2
        cat "$dir/broker.log" >&2
        exit 2
    fi
    BROKER_ADDR=127.0.0.1:$port
}

start_broker d0 --set group.initial.rebalance.delay.ms=0
D0_PID=$BROKER_PID D0_ADDR=$BROKER_ADDR
start_broker d3000
D3_PID=$BROKER_PID D3_ADDR=$BROKER_ADDR
echo "bench_groups.sh: brokers d0 $D0_ADDR (pid $D0_PID, group.initial.rebalance.delay.ms=0)," \
    "d3000 $D3_ADDR (pid $D3_PID, default delay), data under $ROOT"

# In the background, so that a signal to this script is handled at once.
timeout --signal=TERM "$TIMEOUT" "$BENCH" -b "$D0_ADDR" -B "$D3_ADDR" "$@" >"$ROOT/bench.out" 2>&1 &
BENCH_PID=$!
tail -n +1 -f --pid="$BENCH_PID" "$ROOT/bench.out" &
TAIL_PID=$!
wait "$BENCH_PID"
RC=$?
BENCH_PID=
wait "$TAIL_PID"
[ "$RC" = 124 ] && echo "bench_groups.sh: bench_groups stopped after ${TIMEOUT} s" >&2

# Stop the brokers and check each stopped cleanly.
STOPS=()
for name in d0 d3000; do
    pid=$([ $name = d0 ] && echo "$D0_PID" || echo "$D3_PID")
    kill -TERM "$pid" 2>/dev/null
    code=
    for _ in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            code=$?
            break
        fi
        sleep 0.1
    done
    log=$ROOT/$name/broker.log
    warns=$(grep -c -E ' (WARN|ERROR) ' "$log")
    groups=$(grep -c 'rebalancing (' "$log")
    if [ -z "$code" ]; then
        STOPS+=("$name broker: did not stop within 10 s of SIGTERM; $warns WARN/ERROR lines; $groups rebalances logged")
    elif grep -q 'stopped cleanly' "$log"; then
        STOPS+=("$name broker: stopped cleanly (exit $code); $warns WARN/ERROR lines; $groups rebalances logged")
    else
        STOPS+=("$name broker: exit $code without 'stopped cleanly'; $warns WARN/ERROR lines; $groups rebalances logged")
    fi
    if [ "$warns" != 0 ]; then
        echo "--- $name broker WARN/ERROR lines (first 20):"
        grep -E ' (WARN|ERROR) ' "$log" | head -20
    fi
done

echo
REV=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || REV="$REV+changes"
BUILT=$(date -u -r "$EDDY" +%Y-%m-%dT%H:%MZ 2>/dev/null || echo '?')
echo "== bench_groups summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r), librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), tree $REV, $EDDY built $BUILT)"
sed -n '/^== summary$/,$p' "$ROOT/bench.out" | sed 1d
for s in "${STOPS[@]}"; do
    echo "$s"
done
[ "$RC" != 0 ] && echo "bench_groups exit status $RC (see the messages above)"
echo "total $(($(date +%s) - START)) s"
PIDS=()
exit "$RC"
