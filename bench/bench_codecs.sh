#!/usr/bin/env bash
# bench_codecs.sh: compression, codec by codec, on one machine in one run.
#
#   bench/bench_codecs.sh [path/to/eddy]      (default build/bin/eddy)
#
# 1. Throughput: bench_client (Eddy's client against librdkafka, same Eddy
#    broker, same text values; see bench_client.c) once per codec:
#    none gzip snappy lz4 zstd. Figures: produce and consume records/s of
#    both clients and their ratio, per codec.
# 2. Bytes on disk: the word-count corpus (bench/corpus.sh, LINES lines of
#    text) produced line by line into one topic per codec, by Eddy's CLI
#    (`eddy topic produce -z CODEC`) and by kcat (`-z CODEC`), with the same
#    batching (linger 5 ms, batch.size 16384 on both); the sum of the
#    partition's segment (.log) bytes, and the ratio to the uncompressed
#    topic. Every topic is read back with `eddy topic consume` and compared
#    with the corpus, so a figure never comes from lost data.
#
# Environment: RECORDS (default 300000) and ROUNDS (default 3) for part 1,
# LINES (default 200000) for part 2. Builds nothing; prints figures and
# never decides pass or fail on them (exit 1 only when something failed).
set -u

EDDY=${1:-build/bin/eddy}
HERE=$(cd "$(dirname "$0")" && pwd)
RECORDS=${RECORDS:-300000}
ROUNDS=${ROUNDS:-3}
LINES=${LINES:-200000}
CODECS="none gzip snappy lz4 zstd"
. "$HERE/corpus.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-codecs.XXXXXX")
BROKER_PID=
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
FAIL=0

echo "== bench_codecs ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), tree $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "-- 1. throughput, $RECORDS text records of 100 B, median of $ROUNDS rounds"
for c in $CODECS; do
    if ! "$HERE/bench_client.sh" "$EDDY" -z "$c" -n "$RECORDS" -r "$ROUNDS" >"$ROOT/client-$c.out" 2>&1; then
        echo "$c: bench_client failed:"
        tail -5 "$ROOT/client-$c.out"
        FAIL=1
        continue
    fi
    # bench_client.sh repeats bench_client's summary lines: print each once.
    grep -E '^(produce|consume)  \(' "$ROOT/client-$c.out" | awk '!seen[$0]++' |
        sed -e "s/^/$c: /" -e 's/ (target >= 1.0)//'
done

echo "-- 2. bytes on disk, corpus of $LINES lines"
make_corpus "$ROOT/corpus.txt" "$LINES"
mkdir -p "$ROOT/data"
"$EDDY" broker --data-dir "$ROOT/data" --listen 127.0.0.1:0 2>"$ROOT/broker.log" &
BROKER_PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ROOT/broker.log" | head -1)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "broker did not start"; cat "$ROOT/broker.log"; exit 1; }
B=127.0.0.1:$PORT
log_bytes() { find "$ROOT/data/$1-0" -name '*.log' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
plain=
printf '%-7s %14s %7s %14s %7s\n' codec "eddy bytes" ratio "kcat bytes" ratio
for c in $CODECS; do
    for who in eddy kcat; do
        t=codec-$who-$c
        "$EDDY" -b "$B" topic create "$t" -p 1 >/dev/null || FAIL=1
        start=$(date +%s.%N)
        if [ "$who" = eddy ]; then
            "$EDDY" -b "$B" topic produce "$t" -z "$c" <"$ROOT/corpus.txt" >/dev/null || FAIL=1
        else
            kcat -b "$B" -P -t "$t" -z "$c" -X linger.ms=5 -X batch.size=16384 <"$ROOT/corpus.txt" || FAIL=1
        fi
        "$EDDY" -b "$B" topic consume "$t" -o beginning -e 2>/dev/null | cmp -s - "$ROOT/corpus.txt" ||
            { echo "$t: read back differs from the corpus"; FAIL=1; }
        eval "${who}_bytes=$(log_bytes "$t")"
    done
    [ "$c" = none ] && plain=$eddy_bytes && kplain=$kcat_bytes
    printf '%-7s %14s %7.3f %14s %7.3f\n' "$c" "$eddy_bytes" "$(awk -v a="$eddy_bytes" -v b="$plain" "BEGIN{print a/b}")" \
        "$kcat_bytes" "$(awk -v a="$kcat_bytes" -v b="$kplain" "BEGIN{print a/b}")"
done
echo "corpus: $(wc -c <"$ROOT/corpus.txt") bytes of text in $LINES lines"
exit $FAIL
