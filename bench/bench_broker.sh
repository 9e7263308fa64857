#!/usr/bin/env bash
# bench_broker.sh: runs bench_broker against Eddy broker processes it starts.
#
#   bench/bench_broker.sh [path/to/eddy] [bench_broker options...]
#
# Builds nothing. Starts two brokers from path/to/eddy (default
# build/bin/eddy) on 127.0.0.1 with free ports and fresh data dirs under one
# temp dir: the first for produce/consume/latency, the second, untouched, for
# the idle test with 10,000 partitions. Runs bench_broker from the same bin/
# directory (or $BENCH_BROKER), stops the brokers with SIGTERM, removes the
# temp dir and prints a summary block to paste into a note.
#
# Environment: PERF=1 records the first broker with `perf record -g` while
#              the benchmark runs and prints its top symbols.
#              BENCH_TIMEOUT (seconds, default 270) bounds bench_broker.
# Exit status: bench_broker's (0 ran, 1 a call failed or data was wrong),
#              or 2 if a broker would not start.
set -u

EDDY=build/bin/eddy
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    EDDY=$1
    shift
fi
BENCH=${BENCH_BROKER:-$(dirname "$EDDY")/bench_broker}
TIMEOUT=${BENCH_TIMEOUT:-270}
for f in "$EDDY" "$BENCH"; do
    if [ ! -x "$f" ]; then
        echo "bench_broker.sh: $f not found (build it: cmake --build build --target eddy bench_broker)" >&2
        exit 2
    fi
done

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench.XXXXXX")
PIDS=()
PERF_PID=
BENCH_PID=
START=$(date +%s)

stop_all() {
    if [ -n "$BENCH_PID" ]; then
        kill -TERM "$BENCH_PID" 2>/dev/null # timeout passes it on to bench_broker
        wait "$BENCH_PID" 2>/dev/null
        BENCH_PID=
    fi
    if [ -n "$PERF_PID" ]; then
        kill -INT "$PERF_PID" 2>/dev/null
        wait "$PERF_PID" 2>/dev/null
        PERF_PID=
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
            echo "bench_broker.sh: broker $pid still running 5 s after SIGTERM; killing it" >&2
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

# start_broker NAME: sets BROKER_PID and BROKER_ADDR, or exits 2.
start_broker() {
    local name=$1 dir=$ROOT/$1
    mkdir -p "$dir/data"
    "$EDDY" broker --data-dir "$dir/data" --listen 127.0.0.1:0 2>"$dir/broker.log" &
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
        echo "bench_broker.sh: broker $name did not start; its log:" >&2
        cat "$dir/broker.log" >&2
        exit 2
    fi
    BROKER_ADDR=127.0.0.1:$port
}

start_broker main
MAIN_PID=$BROKER_PID MAIN_ADDR=$BROKER_ADDR
start_broker idle
IDLE_PID=$BROKER_PID IDLE_ADDR=$BROKER_ADDR
echo "bench_broker.sh: brokers main $MAIN_ADDR (pid $MAIN_PID), idle $IDLE_ADDR (pid $IDLE_PID), data under $ROOT"

if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
    perf record -F 499 -g -p "$MAIN_PID" -o "$ROOT/perf.data" >"$ROOT/perf.log" 2>&1 &
    PERF_PID=$!
fi

# In the background, so that a signal to this script is handled at once.
timeout --signal=TERM "$TIMEOUT" "$BENCH" -b "$MAIN_ADDR" -p "$MAIN_PID" -i "$IDLE_ADDR" \
    -I "$IDLE_PID" "$@" >"$ROOT/bench.out" 2>&1 &
BENCH_PID=$!
tail -n +1 -f --pid="$BENCH_PID" "$ROOT/bench.out" &
TAIL_PID=$!
wait "$BENCH_PID"
RC=$?
BENCH_PID=
wait "$TAIL_PID"
[ "$RC" = 124 ] && echo "bench_broker.sh: bench_broker stopped after ${TIMEOUT} s" >&2

MAIN_DU=$(du -sh "$ROOT/main/data" 2>/dev/null | cut -f1)
IDLE_DU=$(du -sh "$ROOT/idle/data" 2>/dev/null | cut -f1)
IDLE_FILES=$(find "$ROOT/idle/data" -type f 2>/dev/null | wc -l)

PERF_TOP=
if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID" 2>/dev/null
    wait "$PERF_PID" 2>/dev/null
    PERF_PID=
    PERF_TOP=$(perf report -i "$ROOT/perf.data" --no-children --percent-limit 2 --stdio -g none \
        2>/dev/null | grep -v '^#' | grep -v '^$' | head -15)
fi

# Stop the brokers and check each stopped cleanly.
STOPS=()
for name in main idle; do
    pid=$([ $name = main ] && echo "$MAIN_PID" || echo "$IDLE_PID")
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
    if [ -z "$code" ]; then
        STOPS+=("$name broker: did not stop within 10 s of SIGTERM; $warns WARN/ERROR lines")
    elif grep -q 'stopped cleanly' "$log"; then
        STOPS+=("$name broker: stopped cleanly (exit $code); $warns WARN/ERROR lines")
    else
        STOPS+=("$name broker: exit $code without 'stopped cleanly'; $warns WARN/ERROR lines")
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
echo "== bench_broker summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(uname -r), librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), tree $REV, $EDDY built $BUILT)"
sed -n '/^== summary$/,$p' "$ROOT/bench.out" | sed 1d
echo "data: main broker $MAIN_DU; idle broker $IDLE_DU in $IDLE_FILES files"
for s in "${STOPS[@]}"; do
    echo "$s"
done
[ "$RC" != 0 ] && echo "bench_broker exit status $RC (see the messages above)"
echo "total $(($(date +%s) - START)) s"
if [ -n "$PERF_TOP" ]; then
    echo "perf, main broker, whole run:"
    echo "$PERF_TOP"
fi
PIDS=()
exit "$RC"
