#!/usr/bin/env bash
# bench_kafka.sh: a single-node Eddy broker beside a single-node Apache Kafka
# (scripts/kafka.sh, the release of tests/kafka/pom.xml) on the same machine,
# in one run. Prints figures and Eddy/Kafka ratios, never pass/fail.
#
#   bench/bench_kafka.sh [BUILD_DIR]        (default build; needs bin/eddy and
#                                            examples/wordcount; builds
#                                            bench_kclient with cc + librdkafka and
#                                            bench/kafka-streams-wordcount with mvn)
#
# Same client code against both brokers (bench_kclient, librdkafka; and Kafka's
# own ProducerPerformance for the JAVA_PRODUCE configurations); both brokers
# leave log flushing to the OS (log.flush.interval.* set to Long.MAX, Kafka's default), 1 GiB
# segments, fetch.max.bytes 55 MiB, group.initial.rebalance.delay.ms=0.
#
# 1. start: time from exec to the first answered Metadata (kcat, polled every
#    20 ms), START_ROUNDS times each; Kafka's node is formatted beforehand.
# 2. resident memory (VmRSS) idle, then its maximum during each broker's own
#    load (sampled every 0.2 s), and after the load.
# 3. produce: bench_kclient, 1 and 32 partitions x 100 B and 1 KiB x acks=1
#    and acks=all; ROUNDS rounds, brokers alternating first and second.
# 4. consume: the records of 3 (N100 or N1K of them), from the beginning, no group.
# 5. end-to-end latency at E2E_RATE records/s of 100 B, 1 partition, acks=1.
# 6. streams: Eddy's examples/wordcount and the Kafka Streams word count of
#    bench/kafka-streams-wordcount on the same Kafka broker (same corpus, same
#    input topic, 4 partitions, at_least_once, 1 thread, commit.interval.ms
#    1000, 10 MiB cache), and Eddy's word count on Eddy's broker; words/s from
#    app start until the output's latest counts sum to the corpus's words; the
#    app's maximum VmRSS.
# Every ratio is Eddy/Kafka: in parts 3-5 the median of the per-round ratios
# (with their range), elsewhere the ratio of the medians; for throughputs > 1
# means Eddy is faster, for latency, memory and start time < 1 means Eddy is lower.
#
# Environment: ROUNDS (3), N100 (3000000 records of 100 B per run), N1K
# (600000 of 1 KiB), E2E_RATE (50000), E2E_SECS (8), WORDS (4000000),
# STREAMS_ROUNDS (2), START_ROUNDS (2), KAFKA_HEAP (1g), KS_HEAP (1g, the
# Kafka Streams app's JVM), JAVA_PRODUCE ("32:100:1", P:SIZE:ACKS list for
# ProducerPerformance, "" for none), KEEP=1 keeps the scratch dir.
set -u

HERE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
EDDY=$BUILD/bin/eddy
WC=$BUILD/examples/wordcount
ROUNDS=${ROUNDS:-3}
N100=${N100:-3000000}
N1K=${N1K:-600000}
E2E_RATE=${E2E_RATE:-50000}
E2E_SECS=${E2E_SECS:-8}
WORDS=${WORDS:-4000000}
STREAMS_ROUNDS=${STREAMS_ROUNDS:-2}
START_ROUNDS=${START_ROUNDS:-2}
export KAFKA_HEAP=${KAFKA_HEAP:-1g}
KS_HEAP=${KS_HEAP:-1g}
JAVA_PRODUCE=${JAVA_PRODUCE-32:100:1}
for f in "$EDDY" "$WC"; do
    if [ ! -x "$f" ]; then
        echo "bench_kafka.sh: $f not found (cmake --build $BUILD --target eddy wordcount)" >&2
        exit 2
    fi
done
for c in cc pkg-config kcat java mvn python3; do
    command -v "$c" >/dev/null || { echo "bench_kafka.sh: $c not found (scripts/install-deps.sh)" >&2; exit 2; }
done
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/eddy
WC=$(cd "$(dirname "$WC")" && pwd)/wordcount
BENCH=bench_kafka.sh
. "$HERE/bench/kafka_lib.sh"
. "$HERE/bench/corpus.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-kafka.XXXXXX")
START=$(date +%s)
SUMMARY=()
trap cleanup EXIT
trap 'exit 130' INT TERM

say "scratch $ROOT; $(load)"
LOAD0=$(load)
say "busiest processes now: $(busy)"

# ---------------------------------------------------------------- tools
KC=$ROOT/bench_kclient
# shellcheck disable=SC2046
cc -O2 -Wall -o "$KC" "$HERE/bench/bench_kclient.c" $(pkg-config --cflags --libs rdkafka) -lpthread ||
    { say "cannot build bench_kclient (librdkafka-dev)"; exit 2; }
build_tools || exit 2

# ---------------------------------------------------------------- 1. start
say "== 1. start (exec to first answered Metadata)"
setup_brokers || exit 2
for r in $(seq "$START_ROUNDS"); do
    if [ "$r" -gt 1 ]; then
        stop_pid "$EPID"
        "$KAFKA_SH" stop "$ROOT/kafka"
        sleep 1
    fi
    T=$(now); start_eddy; ES=$(wait_answer "$EB" "$T")
    T=$(now); start_kafka; KS=$(wait_answer "$KB" "$T")
    [ "$ES" = - ] && { say "Eddy's broker did not answer:"; tail "$ROOT/eddy.log"; exit 1; }
    [ "$KS" = - ] && { say "Kafka did not answer:"; tail "$ROOT/kafka/node1/server.log"; exit 1; }
    say "round $r: eddy $ES s (pid $EPID, $( [ "$r" = 1 ] && echo 'empty data dir' || echo 'restart')), kafka $KS s (pid $KPID, formatted node, $( [ "$r" = 1 ] && echo 'first start' || echo 'restart'))"
    echo "$ES $KS" >>"$ROOT/start.txt"
done
ESM=$(cut -d' ' -f1 "$ROOT/start.txt" | median)
KSM=$(cut -d' ' -f2 "$ROOT/start.txt" | median)
SUMMARY+=("start to first answered request (median of $START_ROUNDS): eddy $ESM s, kafka $KSM s, ratio $(ratio "$ESM" "$KSM")")

# RSS sampler: "time eddy_kib kafka_kib" every 0.2 s for the whole run
(
    while :; do e=$(rss "$EPID"); k=$(rss "$KPID"); echo "$(now) ${e:-0} ${k:-0}"; sleep 0.2; done
) >"$ROOT/rss.txt" &
PIDS+=($!)
# max_rss COL T0 T1: the largest sample of column COL (2 eddy, 3 kafka) in [T0, T1]
max_rss() { awk -v c="$1" -v a="$2" -v b="$3" '$1 >= a && $1 <= b && $c + 0 > m { m = $c + 0 } END { print m + 0 }' "$ROOT/rss.txt"; }
sleep 5
E_IDLE=$(rss "$EPID"); K_IDLE=$(rss "$KPID")
say "== 2. resident memory idle (5 s after answering): eddy $(mib "$E_IDLE") MiB, kafka $(mib "$K_IDLE") MiB (KAFKA_HEAP=$KAFKA_HEAP)"

for B in "$EB" "$KB"; do
    for P in 1 32; do
        for S in 100 1024; do
            E "$B" topic create "t$P-$S" -p "$P" >/dev/null || { say "topic create t$P-$S on $B failed"; exit 1; }
        done
    done
    E "$B" topic create lat -p 1 >/dev/null || exit 1
done
# order R: the two brokers, Eddy first in odd rounds
order() { if [ $(($1 % 2)) = 1 ]; then echo "$EB $KB"; else echo "$KB $EB"; fi; }
# the load windows of each broker, for max_rss
: >"$ROOT/windows.txt"
win() { echo "$(name "$1") $2 $(now)" >>"$ROOT/windows.txt"; }

# ---------------------------------------------------------------- 3. produce
# warm-up, not counted: a JVM compiles its hot paths during the first runs
for B in "$EB" "$KB"; do
    run "$KC" produce "$B" t32-100 "$N100" 100 1 >/dev/null 2>>"$ROOT/kclient.err"
    run "$KC" consume "$B" t32-100 "$N100" >/dev/null 2>>"$ROOT/kclient.err"
done
say "== 3. produce (bench_kclient: librdkafka, linger.ms=5, no compression, not idempotent; after an uncounted warm-up produce+consume of $N100 records on each); $(load)"
: >"$ROOT/produce.txt"
for r in $(seq "$ROUNDS"); do
    for P in 1 32; do
        for S in 100 1024; do
            N=$N100; [ "$S" = 1024 ] && N=$N1K
            for A in 1 all; do
                for B in $(order "$r"); do
                    T=$(now)
                    run "$KC" produce "$B" "t$P-$S" "$N" "$S" "$A" >"$ROOT/out" 2>>"$ROOT/kclient.err" ||
                        say "produce on $(name "$B") failed: $(cat "$ROOT/out")"
                    out=$(cat "$ROOT/out")
                    win "$B" "$T"
                    rps=$(echo "$out" | awk '{ print $8 }'); mbs=$(echo "$out" | awk '{ print $10 }')
                    echo "$r $P $S $A $(name "$B") ${rps:-0} ${mbs:-0}" >>"$ROOT/produce.txt"
                    say "round $r ${P}p ${S}B acks=$A $(name "$B"): $out"
                done
            done
        done
    done
    # Kafka's Java producer, the same settings, for the JAVA_PRODUCE configurations
    for cfg in $JAVA_PRODUCE; do
        IFS=: read -r P S A <<<"$cfg"
        N=$N100; [ "$S" = 1024 ] && N=$N1K
        for B in $(order "$r"); do
            T=$(now)
            run java -Xms512m -Xmx512m -XX:+UseG1GC -cp "$HERE/tests/kafka/lib/*" org.apache.kafka.tools.ProducerPerformance \
                --topic "t$P-$S" --num-records "$N" --record-size "$S" --throughput -1 --producer-props "bootstrap.servers=$B" \
                "acks=$A" linger.ms=5 enable.idempotence=false compression.type=none >"$ROOT/out" 2>&1
            out=$(grep '99.9th' "$ROOT/out" | tail -1)
            win "$B" "$T"
            rps=$(echo "$out" | awk '{ print $4 }'); mbs=$(echo "$out" | sed 's/.*(\([0-9.]*\) MB\/sec.*/\1/')
            echo "$r $P $S $A $(name "$B") ${rps:-0} ${mbs:-0} java" >>"$ROOT/produce.txt"
            say "round $r ${P}p ${S}B acks=$A $(name "$B") ProducerPerformance: ${out:-failed}"
        done
    done
done
# table: per configuration, the median of each side and of the per-round ratios
table() { # FILE LABEL [FILTER: awk condition on the line]
    local f=$1 label=$2 filt=${3:-1}
    awk "$filt" "$f" | awk '{ k = $2 " " $3 " " $4 " " ($8 == "" ? "librdkafka" : $8); print k }' | sort -u |
        while read -r P S A CL; do
            local e k rr
            e=$(awk -v p="$P" -v s="$S" -v a="$A" -v c="$CL" '$2 == p && $3 == s && $4 == a && ($8 == "" ? "librdkafka" : $8) == c && $5 == "eddy" { print $6 }' "$f" | median)
            k=$(awk -v p="$P" -v s="$S" -v a="$A" -v c="$CL" '$2 == p && $3 == s && $4 == a && ($8 == "" ? "librdkafka" : $8) == c && $5 == "kafka" { print $6 }' "$f" | median)
            awk -v p="$P" -v s="$S" -v a="$A" -v c="$CL" '$2 == p && $3 == s && $4 == a && ($8 == "" ? "librdkafka" : $8) == c { v[$1 " " $5] = $6; r[$1] = 1 }
                END { for (i in r) if (v[i " kafka"] > 0) print v[i " eddy"] / v[i " kafka"] }' "$f" >"$ROOT/ratios"
            rr="$(median <"$ROOT/ratios") (rounds $(spread <"$ROOT/ratios"))"
            local em km
            em=$(awk -v p="$P" -v s="$S" -v a="$A" -v c="$CL" '$2 == p && $3 == s && $4 == a && ($8 == "" ? "librdkafka" : $8) == c && $5 == "eddy" { print $7 }' "$f" | median)
            km=$(awk -v p="$P" -v s="$S" -v a="$A" -v c="$CL" '$2 == p && $3 == s && $4 == a && ($8 == "" ? "librdkafka" : $8) == c && $5 == "kafka" { print $7 }' "$f" | median)
            printf '%s %3sp %5sB %s%-4s %-11s eddy %8.0f rec/s %6s MB/s | kafka %8.0f rec/s %6s MB/s | ratio %s\n' \
                "$label" "$P" "$S" "$([ "$A" = - ] || echo acks=)" "$([ "$A" = - ] || echo "$A")" "$CL" "$e" "$em" "$k" "$km" "$rr"
        done
}
say "produce, medians of $ROUNDS rounds (ratio: median of per-round eddy/kafka):"
table "$ROOT/produce.txt" produce | tee "$ROOT/produce.sum"
while read -r l; do SUMMARY+=("$l"); done <"$ROOT/produce.sum"

# ---------------------------------------------------------------- 4. consume
say "== 4. consume (bench_kclient: every partition from the beginning, no group); $(load)"
: >"$ROOT/consume.txt"
for r in $(seq "$ROUNDS"); do
    for P in 1 32; do
        for S in 100 1024; do
            N=$N100; [ "$S" = 1024 ] && N=$N1K
            for B in $(order "$r"); do
                T=$(now)
                run "$KC" consume "$B" "t$P-$S" "$N" >"$ROOT/out" 2>>"$ROOT/kclient.err" ||
                    say "consume on $(name "$B") failed: $(cat "$ROOT/out")"
                out=$(cat "$ROOT/out")
                win "$B" "$T"
                rps=$(echo "$out" | awk '{ print $8 }'); mbs=$(echo "$out" | awk '{ print $10 }')
                echo "$r $P $S - $(name "$B") ${rps:-0} ${mbs:-0}" >>"$ROOT/consume.txt"
                say "round $r ${P}p ${S}B $(name "$B"): $out"
            done
        done
    done
done
say "consume, medians of $ROUNDS rounds:"
table "$ROOT/consume.txt" consume | tee "$ROOT/consume.sum"
while read -r l; do SUMMARY+=("$l"); done <"$ROOT/consume.sum"

# ---------------------------------------------------------------- 5. latency
say "== 5. end-to-end latency ($E2E_RATE records/s of 100 B, 1 partition, acks=1, linger.ms=1, $E2E_SECS s, first second not counted); $(load)"
: >"$ROOT/e2e.txt"
for r in $(seq "$ROUNDS"); do
    for B in $(order "$r"); do
        T=$(now)
        run "$KC" e2e "$B" lat "$E2E_RATE" "$E2E_SECS" 100 1 >"$ROOT/out" 2>>"$ROOT/kclient.err" ||
            say "e2e on $(name "$B") incomplete: $(cat "$ROOT/out")"
        out=$(cat "$ROOT/out")
        win "$B" "$T"
        echo "$r $(name "$B") $(echo "$out" | awk '{ print $14, $17, $20, $23 }')" >>"$ROOT/e2e.txt"
        say "round $r $(name "$B"): $out"
    done
done
for q in 3:p50 4:p99 5:p99.9 6:max; do
    c=${q%%:*}; n=${q#*:}
    e=$(awk -v c="$c" '$2 == "eddy" { print $c }' "$ROOT/e2e.txt" | median)
    k=$(awk -v c="$c" '$2 == "kafka" { print $c }' "$ROOT/e2e.txt" | median)
    awk -v c="$c" '{ v[$1 " " $2] = $c; r[$1] = 1 } END { for (i in r) if (v[i " kafka"] > 0) print v[i " eddy"] / v[i " kafka"] }' "$ROOT/e2e.txt" >"$ROOT/ratios"
    l="e2e latency at $E2E_RATE/s $n: eddy $e ms, kafka $k ms, ratio $(median <"$ROOT/ratios") (median of $ROUNDS rounds; rounds $(spread <"$ROOT/ratios"))"
    say "$l"; SUMMARY+=("$l")
done

# ---------------------------------------------------------------- memory under load
ELOAD=0; KLOAD=0
while read -r who a b; do
    if [ "$who" = eddy ]; then m=$(max_rss 2 "$a" "$b"); [ "$m" -gt "$ELOAD" ] && ELOAD=$m
    else m=$(max_rss 3 "$a" "$b"); [ "$m" -gt "$KLOAD" ] && KLOAD=$m; fi
done <"$ROOT/windows.txt"
E_AFTER=$(rss "$EPID"); K_AFTER=$(rss "$KPID")
l="broker VmRSS: idle eddy $(mib "$E_IDLE") MiB, kafka $(mib "$K_IDLE") MiB, ratio $(ratio "$E_IDLE" "$K_IDLE"); max under own load (3-5) eddy $(mib "$ELOAD") MiB, kafka $(mib "$KLOAD") MiB, ratio $(ratio "$ELOAD" "$KLOAD"); after eddy $(mib "$E_AFTER") MiB, kafka $(mib "$K_AFTER") MiB (Kafka heap -Xms=-Xmx=$KAFKA_HEAP)"
say "$l"; SUMMARY+=("$l")

# ---------------------------------------------------------------- 6. streams
say "== 6. streams word count; $(load)"
LINES=$((WORDS / 10))
make_corpus "$ROOT/corpus" "$LINES"
NW=$(tr -c 'a-zA-Z0-9\n' ' ' <"$ROOT/corpus" | wc -w)
say "corpus: $LINES lines, $NW words, $(du -h "$ROOT/corpus" | cut -f1)"
for B in "$KB" "$EB"; do
    E "$B" topic create lines -p 4 >/dev/null || exit 1
    run kcat -P -b "$B" -t lines -l "$ROOT/corpus" || { say "loading the corpus into $(name "$B") failed"; exit 1; }
done
# wc_run KIND BOOT ID: one word count (kafka_lib.sh's run_wc); appends
# "KIND words/s first_output_s total_s max_rss_kib" to streams.txt
wc_run() {
    run_wc "$1" "$2" "$3" "$NW" commit.interval.ms=1000 processing.guarantee=at_least_once || return 1
    if [ "$WC_EL" = - ]; then
        say "$1 on $(name "$2") ($3): output incomplete (sum $WC_SUM of $NW)"
        echo "$1-$(name "$2") 0 - - $WC_RSS" >>"$ROOT/streams.txt"
        return 0
    fi
    local wps
    wps=$(awk -v n="$NW" -v s="$WC_EL" 'BEGIN { printf "%.0f", n / s }')
    say "$1 on $(name "$2") ($3): $NW words in $WC_EL s from app start = $wps words/s; first output after $WC_FIRST s; max VmRSS $(mib "$WC_RSS") MiB"
    echo "$1-$(name "$2") $wps $WC_FIRST $WC_EL $WC_RSS" >>"$ROOT/streams.txt"
}
: >"$ROOT/streams.txt"
for r in $(seq "$STREAMS_ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        wc_run eddy "$KB" "e-k-$r"; wc_run kstreams "$KB" "j-k-$r"; wc_run eddy "$EB" "e-e-$r"
    else
        wc_run eddy "$EB" "e-e-$r"; wc_run kstreams "$KB" "j-k-$r"; wc_run eddy "$KB" "e-k-$r"
    fi
done
sm() { awk -v k="$1" -v c="$2" '$1 == k && $2 > 0 { print $c }' "$ROOT/streams.txt" | median; }
EK=$(sm eddy-kafka 2); JK=$(sm kstreams-kafka 2); EE=$(sm eddy-eddy 2)
EKM=$(sm eddy-kafka 5); JKM=$(sm kstreams-kafka 5); EEM=$(sm eddy-eddy 5)
l="word count on Kafka's broker ($NW words, from app start): eddy $EK words/s, kafka streams $JK words/s, ratio $(ratio "$EK" "$JK"); first output eddy $(sm eddy-kafka 3) s, kafka streams $(sm kstreams-kafka 3) s"
say "$l"; SUMMARY+=("$l")
l="word count app max VmRSS: eddy $(mib "$EKM") MiB, kafka streams $(mib "$JKM") MiB (-Xmx$KS_HEAP), ratio $(ratio "$EKM" "$JKM")"
say "$l"; SUMMARY+=("$l")
l="eddy word count on eddy's broker $EE words/s vs on kafka's $EK words/s, ratio $(ratio "$EE" "$EK"); app VmRSS $(mib "$EEM") vs $(mib "$EKM") MiB"
say "$l"; SUMMARY+=("$l")

w=$(grep -cE ' (WARN|ERROR) ' "$ROOT/eddy.log")
[ "${w:-0}" != 0 ] && { say "eddy broker: $w WARN/ERROR lines, first 5:"; grep -E ' (WARN|ERROR) ' "$ROOT/eddy.log" | head -5; }
[ -s "$ROOT/kclient.err" ] && { say "client stderr (first 5 lines):"; head -5 "$ROOT/kclient.err"; }

echo
REV=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$HERE" diff --quiet HEAD 2>/dev/null || REV="$REV+changes"
KV=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/tests/kafka/pom.xml")
echo "== bench_kafka summary ($(date -u +%Y-%m-%dT%H:%MZ), tree $REV, build $BUILD, Apache Kafka $KV, $(java -version 2>&1 | head -1))"
echo "load: at start $LOAD0; at end $(load); busiest at end: $(busy)"
echo "ratios are eddy/kafka: above 1 Eddy is faster (throughput), below 1 Eddy is lower (latency, memory, start time)"
for s in "${SUMMARY[@]}"; do [ -n "$s" ] && echo "$s"; done
echo "total $(($(date +%s) - START)) s"
exit 0
