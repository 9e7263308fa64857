#!/usr/bin/env bash
# bench_windows.sh: windowed count throughput against the non-windowed count
# of the same input, in the same run: what windowing costs. Prints figures,
# never pass/fail.
#
#   bench/bench_windows.sh [BUILD_DIR]   (default build; needs bin/eddy and
#                                         examples/wordcount, Release advised)
#
# The corpus is bench_streams.sh's (~1.5M words over a 5,000-word
# vocabulary, 10 words a line) in topic `lines` (4 partitions), loaded
# before the apps start. Each run is examples/wordcount with 1 stream thread
# and commit.interval.ms=1000, timed from app start until the output's
# latest counts sum to the number of words:
#   plain     : count per word (the streams-core figure; counts combined
#               before the repartition topic)
#   windowed  : count per word and 1-minute tumbling window (--window-ms 60000)
# Also timed from the app's tasks ready (its last "restored:" log line),
# which leaves out the ~3 s group join (the broker's
# group.initial.rebalance.delay.ms). Both runs read the same topic, one
# after the other; the ratio windowed/plain is the figure that counts on a
# shared machine.
#
# Environment: WORDS (default 1500000), ROUNDS (default 1: plain and
# windowed alternate this many times), KEEP=1 keeps the scratch dir.
set -u
export LC_ALL=C

BUILD=${1:-build}
EDDY=$BUILD/bin/eddy
WC=$BUILD/examples/wordcount
WORDS=${WORDS:-1500000}
ROUNDS=${ROUNDS:-1}
for f in "$EDDY" "$WC"; do
    [ -x "$f" ] || { echo "bench_windows.sh: $f not found (cmake --build $BUILD)" >&2; exit 2; }
done
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/eddy
. "$(dirname "$0")/corpus.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-windows.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    if [ "${KEEP:-0}" = 1 ]; then echo "bench_windows.sh: kept $ROOT"; else rm -rf "$ROOT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { echo "${EPOCHREALTIME/,/.}"; }
say() { echo "bench_windows.sh: $*"; }
AWK_LINES=(awk)
awk -W version 2>&1 | grep -q mawk && AWK_LINES=(awk -W interactive)

"$EDDY" broker --data-dir "$ROOT/data" --listen 127.0.0.1:0 >"$ROOT/broker.log" 2>&1 </dev/null &
PIDS+=($!)
PORT=
for _ in $(seq 200); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$ROOT/broker.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { say "broker did not start"; cat "$ROOT/broker.log" >&2; exit 2; }
BOOT=127.0.0.1:$PORT
E() { timeout 120 "$EDDY" -b "$BOOT" "$@"; }

make_corpus "$ROOT/corpus" $((WORDS / 10))
N=$(awk '{ n += NF } END { print n }' "$ROOT/corpus")
E topic create lines -p 4 >/dev/null || exit 1
E topic produce lines <"$ROOT/corpus" >/dev/null 2>&1 || exit 1
say "corpus: $N words in $(wc -l <"$ROOT/corpus") lines, loaded into lines (4 partitions)"

# run NAME [wordcount flags]: prints the seconds from app start until the
# output's latest counts sum to N, and from the app's tasks ready (its last
# "restored:" log line) until then; "timeout" when the output never completed
run() {
    local name=$1
    shift
    E topic create "out-$name" -p 4 >/dev/null || return 1
    : >"$ROOT/ev-$name"
    ( stdbuf -oL "$EDDY" -b "$BOOT" topic consume "out-$name" -o beginning -f '%k %v\n' --value-format int64 |
        "${AWK_LINES[@]}" -v total="$N" '{ sum += $2 - c[$1]; c[$1] = $2 }
            sum == total { print "done"; fflush(); exit }' >"$ROOT/ev-$name" ) &
    local fpid=$!
    PIDS+=("$fpid")
    local t0 t1
    t0=$(now)
    "$WC" --input lines --output "out-$name" -X "bootstrap.servers=$BOOT" \
        -X "application.id=bench-$name" -X "state.dir=$ROOT/state-$name" \
        -X commit.interval.ms=1000 "$@" >"$ROOT/$name.log" 2>&1 </dev/null &
    local apid=$!
    PIDS+=("$apid")
    for _ in $(seq 6000); do
        grep -q done "$ROOT/ev-$name" && { t1=$(now); break; }
        sleep 0.05
    done
    kill -TERM "$apid" 2>/dev/null
    wait "$apid" 2>/dev/null
    pkill -TERM -P "$fpid" 2>/dev/null
    kill -TERM "$fpid" 2>/dev/null
    wait "$fpid" 2>/dev/null
    local tr
    tr=$(grep 'restored: ' "$ROOT/$name.log" | tail -n 1 | cut -d' ' -f1)
    tr=$(date -u -d "$tr" +%s.%N 2>/dev/null)
    if [ -n "${t1:-}" ]; then
        awk -v a="$t0" -v b="$t1" -v r="${tr:-$t0}" 'BEGIN { printf "%.2f %.2f", b - a, b - r }'
    else
        echo "timeout timeout"
    fi
}

SUMMARY=()
for r in $(seq "$ROUNDS"); do
    read -r TP PP <<<"$(run "plain$r")"
    read -r TW PW <<<"$(run "win$r" --window-ms 60000)"
    LINE=$(awk -v n="$N" -v p="$TP" -v w="$TW" -v pp="$PP" -v pw="$PW" -v r="$r" 'BEGIN {
        if (p == "timeout" || w == "timeout") { printf "round %d: plain %s s, windowed %s s", r, p, w; exit }
        printf "round %d: from app start: plain count %s s = %.0f words/s, windowed count (1-min tumbling) %s s = %.0f words/s, ratio windowed/plain %.3f; from tasks ready: plain %s s = %.0f words/s, windowed %s s = %.0f words/s, ratio %.3f",
            r, p, n / p, w, n / w, p / w, pp, n / pp, pw, n / pw, pp / pw }')
    say "$LINE"
    SUMMARY+=("$LINE")
    grep -hE ' (WARN|ERROR) ' "$ROOT/plain$r.log" "$ROOT/win$r.log" | head -5
done
echo
REV=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')
echo "== bench_windows summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, tree $REV, build $BUILD, $N words, 1 stream thread; \"from app start\" includes the group join)"
for s in "${SUMMARY[@]}"; do echo "$s"; done
