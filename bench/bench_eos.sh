#!/usr/bin/env bash
# bench_eos.sh: the cost of exactly-once processing. Word count throughput
# with processing.guarantee=exactly_once_v2 against at_least_once, as a
# ratio, for
#   kstreams-kafka  the Kafka Streams (Java) word count of
#                   bench/kafka-streams-wordcount on Apache Kafka (the anchor)
#   eddy-kafka      Eddy's examples/wordcount on Apache Kafka
#   eddy-eddy       Eddy's examples/wordcount on Eddy's broker
# Prints figures and ratios, never pass/fail.
#
#   bench/bench_eos.sh [BUILD_DIR]          (default build; needs bin/eddy and
#                                            examples/wordcount; builds
#                                            bench/kafka-streams-wordcount with mvn)
#
# The brokers and the apps are those of bench_kafka.sh part 6 (kafka_lib.sh):
# a single-node Eddy broker and a single-node Apache Kafka side by side, one
# corpus of WORDS words in topic `lines` (4 partitions) on each, 1 stream
# thread, 10 MiB cache, a fresh application.id and output topic per run.
# Configurations (CONFIGS):
#   alos     at_least_once, commit.interval.ms not set (its default: 30000 in
#            Kafka Streams and Eddy)
#   eos      exactly_once_v2, commit.interval.ms not set (Kafka Streams'
#            default under EOS is 100)
#   alos100  at_least_once, commit.interval.ms=100
#   eos100   exactly_once_v2, commit.interval.ms=100 (the same as eos where
#            the app's EOS default is 100: left out of CONFIGS by default)
# So eos/alos is the cost a user sees when turning EOS on with the defaults,
# and eos/alos100 the cost of the transactions alone at the same commit rate.
#
# Each run is timed from app start until the output's latest counts, read by
# kcat with isolation.level=read_committed, sum to the corpus's words. Two
# throughput figures per run:
#   wall     words / that time. With a cache that holds the whole vocabulary
#            the output appears at commits only, so with commit.interval.ms
#            30000 this is the time to the first commit after the input is
#            processed, not a processing rate.
#   cpu      words / (CPU seconds of the app + CPU seconds of the broker over
#            the same time, less the broker's idle CPU rate, measured for
#            IDLE_SECS before the runs, times the run's length): the work per
#            word, which waiting for a commit does not inflate; on a machine
#            that is CPU bound this is what bounds throughput.
# Ratios are eos/alos: the median of the per-round ratios (with their range);
# above 1 EOS is faster (wall) or cheaper per word (cpu).
# Correctness: after each run the app is stopped (SIGTERM, it commits and
# closes) and the read_committed sum of the latest counts is printed beside
# the corpus's words, with any sum above it seen on the way.
#
# Rounds: every run ROUNDS times; odd rounds run the systems on Kafka's broker
# first, even rounds Eddy's broker first, and the guarantees in the opposite
# order, so that neither broker nor guarantee always runs on a fresher
# machine. Before round 1, uncounted: a transactional Java producer
# (ProducerPerformance --transactional-id) on each broker, so that the first
# EOS run does not pay for creating the transaction log, and one Eddy word
# count on each broker (the offsets topic).
#
# Environment: ROUNDS (2), WORDS (4000000), SYSTEMS ("kstreams-kafka
# eddy-kafka eddy-eddy"), CONFIGS ("alos eos alos100"), KAFKA_HEAP (1g),
# KS_HEAP (1g, the Kafka Streams app's JVM), WC_TIMEOUT (300 s per run),
# IDLE_SECS (10),
# KEEP=1 keeps the scratch dir (the apps' logs).
set -u

HERE=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
EDDY=$BUILD/bin/eddy
WC=$BUILD/examples/wordcount
ROUNDS=${ROUNDS:-2}
WORDS=${WORDS:-4000000}
SYSTEMS=${SYSTEMS:-kstreams-kafka eddy-kafka eddy-eddy}
CONFIGS=${CONFIGS:-alos eos alos100}
export KAFKA_HEAP=${KAFKA_HEAP:-1g}
KS_HEAP=${KS_HEAP:-1g}
IDLE_SECS=${IDLE_SECS:-10}
for f in "$EDDY" "$WC"; do
    if [ ! -x "$f" ]; then
        echo "bench_eos.sh: $f not found (cmake --build $BUILD --target eddy wordcount)" >&2
        exit 2
    fi
done
for c in kcat java mvn python3; do
    command -v "$c" >/dev/null || { echo "bench_eos.sh: $c not found (scripts/install-deps.sh)" >&2; exit 2; }
done
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/eddy
WC=$(cd "$(dirname "$WC")" && pwd)/wordcount
BENCH=bench_eos.sh
. "$HERE/bench/kafka_lib.sh"
. "$HERE/bench/corpus.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-eos.XXXXXX")
START=$(date +%s)
trap cleanup EXIT
trap 'exit 130' INT TERM

say "scratch $ROOT; $(load)"
LOAD0=$(load)
say "busiest processes now: $(busy)"
build_tools || exit 2

setup_brokers || exit 2
T=$(now); start_eddy; ES=$(wait_answer "$EB" "$T")
T=$(now); start_kafka; KS=$(wait_answer "$KB" "$T")
[ "$ES" = - ] && { say "Eddy's broker did not answer:"; tail "$ROOT/eddy.log"; exit 1; }
[ "$KS" = - ] && { say "Kafka did not answer:"; tail "$ROOT/kafka/node1/server.log"; exit 1; }
say "brokers: eddy $EB (pid $EPID), kafka $KB (pid $KPID, -Xmx$KAFKA_HEAP)"

LINES=$((WORDS / 10))
make_corpus "$ROOT/corpus" "$LINES"
NW=$(tr -c 'a-zA-Z0-9\n' ' ' <"$ROOT/corpus" | wc -w)
say "corpus: $LINES lines, $NW words, $(du -h "$ROOT/corpus" | cut -f1)"
for B in "$KB" "$EB"; do
    E "$B" topic create lines -p 4 >/dev/null || { say "topic create lines on $(name "$B") failed"; exit 1; }
    run kcat -P -b "$B" -t lines -l "$ROOT/corpus" || { say "loading the corpus into $(name "$B") failed"; exit 1; }
done

# ---------------------------------------------------------------- warm-up
for B in "$KB" "$EB"; do
    E "$B" topic create warm -p 4 >/dev/null || exit 1
    run java -Xms256m -Xmx256m -XX:+UseG1GC -cp "$HERE/tests/kafka/lib/*" org.apache.kafka.tools.ProducerPerformance \
        --topic warm --num-records 20000 --record-size 100 --throughput -1 \
        --transactional-id "warm-$(name "$B")" --transaction-duration-ms 100 \
        --producer-props "bootstrap.servers=$B" max.block.ms=20000 >"$ROOT/warm-txn-$(name "$B").log" 2>&1 ||
        say "warm-up transactional producer on $(name "$B") failed: $(grep -m1 -E 'Exception|ERROR' "$ROOT/warm-txn-$(name "$B").log")"
    run_wc eddy "$B" "warm-$(name "$B")" "$NW" commit.interval.ms=100
    say "warm-up word count on $(name "$B"): ${WC_EL} s, sum $WC_SUM"
done

# the brokers' CPU when idle (a JVM's background threads, Kafka's periodic
# tasks), taken off each run's broker CPU: a run that waits 30 s for its
# commit would otherwise be charged 30 s of it
sleep 2
KC0=$(cpu "$KPID"); EC0=$(cpu "$EPID")
sleep "$IDLE_SECS"
KIDLE=$(awk -v a="$KC0" -v b="$(cpu "$KPID")" -v t="$IDLE_SECS" 'BEGIN { printf "%.4f", (b - a) / t }')
EIDLE=$(awk -v a="$EC0" -v b="$(cpu "$EPID")" -v t="$IDLE_SECS" 'BEGIN { printf "%.4f", (b - a) / t }')
say "idle broker CPU over $IDLE_SECS s: kafka $KIDLE s/s, eddy $EIDLE s/s"
idle_rate() { [ "$1" = "$EB" ] && echo "$EIDLE" || echo "$KIDLE"; }

# ---------------------------------------------------------------- runs
# settings CONFIG: the app's settings for a configuration
settings() {
    case $1 in
    alos) echo processing.guarantee=at_least_once ;;
    eos) echo processing.guarantee=exactly_once_v2 ;;
    alos100) echo processing.guarantee=at_least_once commit.interval.ms=100 ;;
    eos100) echo processing.guarantee=exactly_once_v2 commit.interval.ms=100 ;;
    *) say "unknown configuration $1 (alos, eos, alos100, eos100)"; exit 2 ;;
    esac
}
for c in $CONFIGS; do settings "$c" >/dev/null; done
rev() { local a=() x; for x in "$@"; do a=("$x" "${a[@]}"); done; echo "${a[@]}"; }
# one line per run: round system config wall_wps first_s el_s app_cpu broker_cpu
# (less its idle CPU) cpu_wps sum over rss_kib
: >"$ROOT/runs.txt"
say "== runs: $ROUNDS rounds of [$SYSTEMS] x [$CONFIGS]; $(load)"
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then sys=$SYSTEMS; cfgs=$CONFIGS; else sys=$(rev $SYSTEMS); cfgs=$(rev $CONFIGS); fi
    for s in $sys; do
        case $s in
        kstreams-kafka) kind=kstreams; B=$KB ;;
        eddy-kafka) kind=eddy; B=$KB ;;
        eddy-eddy) kind=eddy; B=$EB ;;
        *) say "unknown system $s (kstreams-kafka, eddy-kafka, eddy-eddy)"; exit 2 ;;
        esac
        for c in $cfgs; do
            id=$s-$c-$r
            # shellcheck disable=SC2046
            run_wc "$kind" "$B" "$id" "$NW" $(settings "$c") || continue
            wps=0; cwps=0
            if [ "$WC_EL" != - ]; then
                wps=$(awk -v n="$NW" -v s="$WC_EL" 'BEGIN { printf "%.0f", n / s }')
                WC_BCPU=$(awk -v b="$WC_BCPU" -v i="$(idle_rate "$B")" -v t="$WC_EL" 'BEGIN { b -= i * t; printf "%.2f", b < 0 ? 0 : b }')
                cwps=$(awk -v n="$NW" -v a="$WC_CPU" -v b="$WC_BCPU" 'BEGIN { printf "%.0f", n / (a + b) }')
            fi
            echo "$r $s $c $wps $WC_FIRST $WC_EL $WC_CPU $WC_BCPU $cwps $WC_SUM ${WC_OVER:--} $WC_RSS" >>"$ROOT/runs.txt"
            say "round $r $s $c: $WC_EL s = $wps words/s (first output $WC_FIRST s); CPU app $WC_CPU s + broker $WC_BCPU s (beyond idle) = $cwps words/CPU-s; read_committed sum after stop $WC_SUM of $NW$([ -n "$WC_OVER" ] && echo ", up to $WC_OVER on the way"); app VmRSS $(mib "$WC_RSS") MiB; $(load)"
        done
    done
done

# ---------------------------------------------------------------- summary
# col SYSTEM CONFIG COLUMN: the values of a column over the rounds (complete runs)
col() { awk -v s="$1" -v c="$2" -v k="$3" '$2 == s && $3 == c && $4 > 0 { print $k }' "$ROOT/runs.txt"; }
# rr SYSTEM A B COLUMN: "median (range)" of the per-round ratios A/B of a column
rr() {
    awk -v s="$1" -v a="$2" -v b="$3" -v k="$4" '$2 == s && $4 > 0 { v[$1 " " $3] = $k; r[$1] = 1 }
        END { for (i in r) if (v[i " " a] > 0 && v[i " " b] > 0) print v[i " " a] / v[i " " b] }' "$ROOT/runs.txt" >"$ROOT/ratios"
    echo "$(median <"$ROOT/ratios") (rounds $(spread <"$ROOT/ratios"))"
}
# interval CONFIG: the commit.interval.ms set ("default": not set)
interval() { case $1 in *100) echo 100 ;; *) echo default ;; esac; }
echo
REV=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$HERE" diff --quiet HEAD 2>/dev/null || REV="$REV+changes"
KV=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/tests/kafka/pom.xml")
echo "== bench_eos summary ($(date -u +%Y-%m-%dT%H:%MZ), tree $REV, build $BUILD, Apache Kafka $KV, $(java -version 2>&1 | head -1))"
echo "load: at start $LOAD0; at end $(load); busiest at end: $(busy)"
echo "$NW words, 4 partitions, 1 stream thread, 10 MiB cache; medians of $ROUNDS rounds; wall = words / (app start to complete read_committed output), cpu = words / (app + broker CPU s, the broker's less its idle rate: kafka $KIDLE s/s, eddy $EIDLE s/s)"
for s in $SYSTEMS; do
    for c in $CONFIGS; do
        printf '%-15s %-8s commit.interval.ms %-7s wall %8s words/s  first output %5s s  cpu %8s words/CPU-s (app %s s, broker %s s)  sums %s\n' \
            "$s" "$c" "$(interval "$c")" "$(col "$s" "$c" 4 | median)" "$(col "$s" "$c" 5 | median)" \
            "$(col "$s" "$c" 9 | median)" "$(col "$s" "$c" 7 | median)" "$(col "$s" "$c" 8 | median)" \
            "$(awk -v s="$s" -v c="$c" '$2 == s && $3 == c { printf "%s%s", (n++ ? "," : ""), $10 }' "$ROOT/runs.txt")/$NW"
    done
done
for s in $SYSTEMS; do
    for p in eos:alos eos:alos100 eos100:alos100 alos100:alos; do
        a=${p%:*}; b=${p#*:}
        case " $CONFIGS " in *" $a "*) ;; *) continue ;; esac
        case " $CONFIGS " in *" $b "*) ;; *) continue ;; esac
        echo "$s $a/$b: wall $(rr "$s" "$a" "$b" 4), cpu $(rr "$s" "$a" "$b" 9)"
    done
done
x=$(awk -v n="$NW" '$10 != n' "$ROOT/runs.txt" | wc -l)
echo "read_committed sums after stop: $(($(wc -l <"$ROOT/runs.txt") - x)) of $(wc -l <"$ROOT/runs.txt") runs equal the corpus's $NW words$([ "$x" != 0 ] && echo "; the others: $(awk -v n="$NW" '$10 != n { printf "%s %s round %s: %s (max on the way %s); ", $2, $3, $1, $10, $11 }' "$ROOT/runs.txt")")"
w=$(grep -cE ' (WARN|ERROR) ' "$ROOT/eddy.log")
[ "${w:-0}" != 0 ] && { echo "eddy broker: $w WARN/ERROR lines, first 5:"; grep -E ' (WARN|ERROR) ' "$ROOT/eddy.log" | head -5; }
echo "total $(($(date +%s) - START)) s"
exit 0
