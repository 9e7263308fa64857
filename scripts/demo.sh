#!/usr/bin/env bash
# make demo: a broker, a text corpus in topic `lines` (4 partitions), the
# word-count example on 2 instances, the 10 most frequent words and the
# throughput; then everything stops.
#
#   scripts/demo.sh [EDDY_BINARY] [WORDCOUNT_BINARY]
set -euo pipefail
EDDY=${1:-build/bin/eddy}
WC=${2:-build/examples/wordcount}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/eddy-demo-XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
step() { printf '\n== %s\n' "$*"; }
export LC_ALL=C

step "start a broker on 127.0.0.1"
"$EDDY" broker --data-dir "$DIR/data" --listen 127.0.0.1:0 >"$DIR/broker.log" 2>&1 </dev/null &
PIDS+=($!)
port=""
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\),.*/\1/p' "$DIR/broker.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$DIR/broker.log"; exit 1; }
B=127.0.0.1:$port
echo "broker at $B"

step "load a corpus into topic 'lines' (4 partitions): this project's own docs, 40 times over"
"$EDDY" -b "$B" topic create lines -p 4
"$EDDY" -b "$B" topic create word-counts -p 4
for _ in $(seq 1 40); do cat "$ROOT"/README.md "$ROOT"/docs/*.md; done >"$DIR/corpus.txt"
"$EDDY" -b "$B" topic produce lines <"$DIR/corpus.txt" >/dev/null
words=$(tr -c 'A-Za-z0-9' '\n' <"$DIR/corpus.txt" | grep -c .)
echo "$(wc -l <"$DIR/corpus.txt") lines, $words words"

step "run wordcount on 2 instances"
t0=$(date +%s%N)
for i in 1 2; do
    "$WC" -X bootstrap.servers="$B" -X application.id=wordcount-demo -X state.dir="$DIR/state$i" \
        -X commit.interval.ms=200 >"$DIR/wc$i.log" 2>&1 </dev/null &
    PIDS+=($!)
done
latest() {
    "$EDDY" -b "$B" topic consume word-counts -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }'
}
total=0
for _ in $(seq 1 120); do
    total=$(latest | awk '{ s += $2 } END { print s + 0 }')
    [ "$total" -ge "$words" ] && break
    sleep 0.5
done
t1=$(date +%s%N)
[ "$total" -ge "$words" ] || { tail -n 20 "$DIR"/wc*.log; echo "word count did not finish"; exit 1; }
ms=$(((t1 - t0) / 1000000))
echo "counted $total words in $ms ms (including start-up and the group join): $((words * 1000 / (ms > 0 ? ms : 1))) words/s"

step "the 10 most frequent words"
# awk, not head: head exits after 10 lines and sort then dies of SIGPIPE,
# which pipefail turns into the demo's exit status (141).
latest | sort -k2,2nr -k1,1 | awk 'NR <= 10'


step "stop"
for p in "${PIDS[@]:1}"; do kill -TERM "$p"; done
for p in "${PIDS[@]:1}"; do wait "$p" || { echo "an instance exited with $?"; exit 1; }; done
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" || true
PIDS=()
echo "done"
