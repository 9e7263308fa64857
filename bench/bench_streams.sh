#!/usr/bin/env bash
# bench_streams.sh: the streams runtime end to end, with examples/wordcount
# against an Eddy broker in its own process. Prints figures, never pass/fail.
#
#   bench/bench_streams.sh [BUILD_DIR]      (default build; needs bin/eddy,
#                                            examples/wordcount, bin/bench_wc_ref;
#                                            bin/bench_state is run if present)
#
# 1. throughput: a ~1.5M-word corpus (5,000-word vocabulary) in topic `lines`
#    (4 partitions), loaded before the app starts; 1 stream thread,
#    commit.interval.ms=1000; time from app start until the output's latest
#    counts sum to the number of words. Reference: bench_wc_ref, a plain
#    single-threaded in-memory word count of the same file, same run.
# 2. restore: wordcount over 1,000,000 distinct words with
#    cache.max.bytes.buffering=0 (every update goes to the changelog); stop;
#    wipe state.dir; start again; the runtime's "restored: N records" lines.
# 3. failover: 2 instances (session.timeout.ms=6000, heartbeat.interval.ms=1000,
#    commit.interval.ms=500), input produced continuously; kill -9 one; a
#    marker word goes to each input partition; the seconds until each marker's
#    count is in the output (the largest is the failover time).
#
#    1b. steady state: the running app gets the corpus STEADY_ROUNDS more
#    times; words/s from the start of that produce to complete output (18M
#    words by default: enough that the up to 1 s until the commit that
#    completes the output is a small part of it).
#
# Environment: KEEP=1 keeps the scratch dir (logs) at the end; WORDS (default 1500000), RESTORE_WORDS (default 1000000),
#              STEADY_ROUNDS (default 12; 0 skips 1b), PHASE_TIMEOUT (seconds per wait, default 300).
set -u
export LC_ALL=C

BUILD=${1:-build}
EDDY=$BUILD/bin/eddy
WC=$BUILD/examples/wordcount
REF=$BUILD/bin/bench_wc_ref
BSTATE=$BUILD/bin/bench_state
WORDS=${WORDS:-1500000}
RESTORE_WORDS=${RESTORE_WORDS:-1000000}
PHASE_TIMEOUT=${PHASE_TIMEOUT:-300}
STEADY_ROUNDS=${STEADY_ROUNDS:-12}
for f in "$EDDY" "$WC" "$REF"; do
    if [ ! -x "$f" ]; then
        echo "bench_streams.sh: $f not found (cmake --build $BUILD --target eddy wordcount bench_wc_ref)" >&2
        exit 2
    fi
done
EDDY=$(cd "$(dirname "$EDDY")" && pwd)/eddy
. "$(dirname "$0")/corpus.sh"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-streams.XXXXXX")
PIDS=()
START=$(date +%s)
SUMMARY=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    if [ "${KEEP:-0}" = 1 ]; then echo "bench_streams.sh: kept $ROOT"; else rm -rf "$ROOT"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mawk reads a pipe in blocks; -W interactive makes it read line by line
AWK_LINES=(awk)
awk -W version 2>&1 | grep -q mawk && AWK_LINES=(awk -W interactive)
now() { echo "${EPOCHREALTIME/,/.}"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
say() { echo "bench_streams.sh: $*"; }

mkdir -p "$ROOT/data"
"$EDDY" broker --data-dir "$ROOT/data" --listen 127.0.0.1:0 >"$ROOT/broker.log" 2>&1 </dev/null &
BROKER_PID=$!
PIDS+=("$BROKER_PID")
PORT=
for _ in $(seq 200); do
    PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$ROOT/broker.log" | head -1)
    [ -n "$PORT" ] && break
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$PORT" ]; then
    say "broker did not start:"; cat "$ROOT/broker.log" >&2; exit 2
fi
BOOT=127.0.0.1:$PORT
say "broker $BOOT (pid $BROKER_PID), scratch $ROOT"
E() { timeout 120 "$EDDY" -b "$BOOT" "$@"; }

# start_app NAME APP_ID INPUT OUTPUT [-X ...]: sets APP_PID
start_app() {
    local name=$1 app=$2 in=$3 out=$4
    shift 4
    "$WC" --input "$in" --output "$out" -X "bootstrap.servers=$BOOT" -X "application.id=$app" \
        -X "state.dir=$ROOT/state-$name" "$@" >>"$ROOT/$name.log" 2>&1 </dev/null &
    APP_PID=$!
    PIDS+=("$APP_PID")
}
stop_pid() { # PID: SIGTERM, wait up to 30 s
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# follow TOPIC TOTAL EVENTFILE: consumes TOPIC (int64 values) from the
# beginning; writes "first T" at the first record and "done T" once the latest
# counts sum to TOTAL, and "word W T" for words starting with "mark".
# Sets FOLLOW_PID (the consumer; the pipeline ends with it).
follow() {
    local topic=$1 total=$2 ev=$3
    : >"$ev"
    (
        # `topic consume` flushes its stdout whenever it has caught up
        "$EDDY" -b "$BOOT" topic consume "$topic" -o beginning -f '%k %v\n' --value-format int64 |
            "${AWK_LINES[@]}" -v total="$total" '
                !seen { print "first"; seen = 1; fflush() }
                { sum += $2 - c[$1]; c[$1] = $2 }
                $1 ~ /^mark/ { print "word", $1, $2; fflush() }
                !done && sum == total { print "done"; done = 1; fflush() }' |
            while read -r a b c; do echo "$a $(now) $b $c" >>"$ev"; done
    ) &
    FOLLOW_PID=$!
    PIDS+=("$FOLLOW_PID")
}
stop_follow() { # kill the subshell's consumer too
    pkill -TERM -P "$FOLLOW_PID" 2>/dev/null
    kill -TERM "$FOLLOW_PID" 2>/dev/null
    wait "$FOLLOW_PID" 2>/dev/null
}
wait_event() { # EVENTFILE PATTERN TIMEOUT: prints the event's time or nothing
    local i
    for i in $(seq $(($3 * 20))); do
        if grep -q "$2" "$1"; then grep "$2" "$1" | head -1 | awk '{ print $2 }'; return 0; fi
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- 1. throughput
say "== 1. word count throughput"
LINES1=$((WORDS / 10))
make_corpus "$ROOT/corpus1" "$LINES1"
REFOUT=$("$REF" "$ROOT/corpus1" 3)
N1=$(echo "$REFOUT" | awk '{ print $2 }')
REF_WPS=$(echo "$REFOUT" | awk '{ print $8 }')
say "corpus: $LINES1 lines, $N1 words, $(echo "$REFOUT" | awk '{ print $4 }') distinct, $(du -h "$ROOT/corpus1" | cut -f1)"
say "reference (bench_wc_ref, in-memory, 1 thread): $REFOUT"
E topic create lines -p 4 >/dev/null || exit 1
E topic create word-counts -p 4 >/dev/null || exit 1
T=$(now)
E topic produce lines <"$ROOT/corpus1" >/dev/null || { say "produce failed"; exit 1; }
say "loaded into lines (4 partitions) in $(secs "$T" "$(now)") s"
follow word-counts "$N1" "$ROOT/ev1"
sleep 1
T0=$(now)
start_app tp wordcount-app lines word-counts -X commit.interval.ms=1000
TP_PID=$APP_PID
TFIRST=$(wait_event "$ROOT/ev1" '^first' "$PHASE_TIMEOUT")
TDONE=$(wait_event "$ROOT/ev1" '^done' "$PHASE_TIMEOUT")
if [ -n "$TDONE" ]; then
    EL=$(secs "$T0" "$TDONE")
    WPS=$(awk -v n="$N1" -v s="$EL" 'BEGIN { printf "%.0f", n / s }')
    RATIO=$(awk -v a="$WPS" -v b="$REF_WPS" 'BEGIN { printf "%.4f", a / b }')
    FIRST=$(secs "$T0" "$TFIRST")
    L1="throughput (1 thread, commit.interval.ms=1000, default cache): $N1 words in $EL s from app start = $WPS words/s; reference in-memory $REF_WPS words/s; ratio $RATIO (target >= 0.1)"
    # tasks ready = the last "restored:" line of the app's log (UTC timestamps)
    TREADY=$(grep 'restored: ' "$ROOT/tp.log" | tail -n 1 | cut -d' ' -f1)
    TREADY=$(date -u -d "$TREADY" +%s.%N 2>/dev/null)
    if [ -n "$TREADY" ]; then
        PEL=$(secs "$TREADY" "$TDONE")
        PWPS=$(awk -v n="$N1" -v s="$PEL" 'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
        PRATIO=$(awk -v a="$PWPS" -v b="$REF_WPS" 'BEGIN { printf "%.4f", a / b }')
        L1b="  startup (join + empty restore): tasks ready $(secs "$T0" "$TREADY") s after app start (app log); processing from tasks ready to complete: $PEL s = $PWPS words/s, ratio $PRATIO; first output $FIRST s after app start"
    else
        L1b="  startup+join: first output $FIRST s after app start"
    fi
else
    L1="throughput: output not complete after $PHASE_TIMEOUT s (events: $(tr '\n' ';' <"$ROOT/ev1"))"
    L1b=
fi
say "$L1"; [ -n "$L1b" ] && say "$L1b"
SUMMARY+=("$L1" "$L1b")
# 1b. steady state: the same app, running and caught up, gets the corpus
# STEADY_ROUNDS more times; from the start of that produce until the output
# is complete (no startup; includes the produce, which runs alongside, and
# the last commit's latency, at most commit.interval.ms).
if [ -n "$TDONE" ] && [ "$STEADY_ROUNDS" -gt 0 ]; then
    for _ in $(seq "$STEADY_ROUNDS"); do cat "$ROOT/corpus1"; done >"$ROOT/corpus1s"
    FOLLOW1=$FOLLOW_PID
    follow word-counts $((N1 * (STEADY_ROUNDS + 1))) "$ROOT/ev1s"
    sleep 1
    T0=$(now)
    E topic produce lines <"$ROOT/corpus1s" >/dev/null || say "produce failed"
    TPROD=$(secs "$T0" "$(now)")
    TDONE=$(wait_event "$ROOT/ev1s" '^done' "$PHASE_TIMEOUT")
    NS=$((N1 * STEADY_ROUNDS))
    if [ -n "$TDONE" ]; then
        EL=$(secs "$T0" "$TDONE")
        SWPS=$(awk -v n="$NS" -v s="$EL" 'BEGIN { printf "%.0f", n / s }')
        L1c="steady state (app running and caught up, $STEADY_ROUNDS x the corpus again): $NS words counted in $EL s from the start of their produce (itself $TPROD s) to complete output = $SWPS words/s; ratio $(awk -v a="$SWPS" -v b="$REF_WPS" 'BEGIN { printf "%.4f", a / b }') (vs the same reference)"
    else
        L1c="steady state: output not complete after $PHASE_TIMEOUT s"
    fi
    say "$L1c"
    SUMMARY+=("$L1c")
    stop_follow
    FOLLOW_PID=$FOLLOW1
fi
grep -E 'WARN|ERROR' "$ROOT/tp.log" | head -5
stop_pid "$TP_PID"
stop_follow word-counts

# ---------------------------------------------------------------- 2. restore
say "== 2. restore"
awk -v n="$RESTORE_WORDS" 'BEGIN {
    for (i = 0; i < n; i++) printf "u%07d%s", (i * 7919) % n, (i % 10 == 9 || i == n - 1) ? "\n" : " ";
}' >"$ROOT/corpus2"
E topic create lines2 -p 4 >/dev/null || exit 1
E topic create counts2 -p 4 >/dev/null || exit 1
E topic produce lines2 <"$ROOT/corpus2" >/dev/null || exit 1
follow counts2 "$RESTORE_WORDS" "$ROOT/ev2"
T0=$(now)
start_app rs wc-restore lines2 counts2 -X commit.interval.ms=1000 -X cache.max.bytes.buffering=0
RS_PID=$APP_PID
TDONE=$(wait_event "$ROOT/ev2" '^done' "$PHASE_TIMEOUT")
if [ -n "$TDONE" ]; then
    EL=$(secs "$T0" "$TDONE")
    L2a="restore setup: $RESTORE_WORDS distinct words, cache.max.bytes.buffering=0: counted in $EL s ($(awk -v n="$RESTORE_WORDS" -v s="$EL" 'BEGIN { printf "%.0f", n / s }') words/s)"
else
    L2a="restore setup: output not complete after $PHASE_TIMEOUT s"
fi
say "$L2a"
stop_pid "$RS_PID"
stop_follow counts2
E topic describe wc-restore-counts-changelog >"$ROOT/changelog.desc" 2>&1
rm -rf "$ROOT/state-rs"
: >"$ROOT/rs.log.2"
mv "$ROOT/rs.log" "$ROOT/rs.log.1"
T0=$(now)
start_app rs wc-restore lines2 counts2 -X commit.interval.ms=1000 -X cache.max.bytes.buffering=0
RS_PID=$APP_PID
# the store's tasks are those of sub-topology 1 (after the repartition); 4 of them
TR=
for _ in $(seq $((PHASE_TIMEOUT * 10))); do
    if [ "$(grep -c 'restored: ' "$ROOT/rs.log" 2>/dev/null)" -ge 4 ]; then TR=$(now); break; fi
    sleep 0.1
done
grep 'restored: ' "$ROOT/rs.log" | sed 's/^/  /'
if [ -n "$TR" ]; then
    L2=$(grep 'restored: ' "$ROOT/rs.log" | awk -v wall="$(secs "$T0" "$TR")" '
        { for (i = 1; i <= NF; i++) if ($i == "restored:") { n += $(i + 1); s = $(i + 4); if (s + 0 > mx) mx = s + 0; tot += s } }
        END { printf "per task: %d records in %d tasks; sum of task times %.2f s = %.0f records/s; longest task %.2f s = %.0f records/s; wall clock from restart to last task restored %s s (includes startup+join)", n, NR, tot, (tot > 0) ? n / tot : 0, mx, (mx > 0) ? n / mx : 0, wall }')
    # the tasks of the one thread restore together: the window from the
    # assignment to the last task restored is the figure
    TA=$(grep ' assigned ' "$ROOT/rs.log" | tail -n 1 | cut -d' ' -f1)
    TL=$(grep 'restored: ' "$ROOT/rs.log" | tail -n 1 | cut -d' ' -f1)
    TA=$(date -u -d "$TA" +%s.%N 2>/dev/null); TL=$(date -u -d "$TL" +%s.%N 2>/dev/null)
    if [ -n "$TA" ] && [ -n "$TL" ]; then
        RN=$(grep 'restored: ' "$ROOT/rs.log" | awk '{ for (i = 1; i <= NF; i++) if ($i == "restored:") n += $(i + 1) } END { print n }')
        RW=$(secs "$TA" "$TL")
        L2="restore: $RN records, assignment to last task restored $RW s = $(awk -v n="$RN" -v s="$RW" 'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }') records/s (target >= 1,000,000 records/s); $L2"
    else
        L2="$L2 (target >= 1,000,000 records/s)"
    fi
else
    L2="restore: fewer than 4 'restored:' lines after $PHASE_TIMEOUT s"
fi
say "$L2"
SUMMARY+=("$L2a" "$L2")
stop_pid "$RS_PID"
if [ -x "$BSTATE" ]; then
    say "bench_state (same machine, same run):"
    mkdir -p "$ROOT/bench_state"
    "$BSTATE" "$ROOT/bench_state" >"$ROOT/bench_state.out" 2>&1
    sed 's/^/  /' "$ROOT/bench_state.out" | tail -n 12
    SUMMARY+=("bench_state: $(grep -i 'median' "$ROOT/bench_state.out" | tail -n 1)")
fi

# ---------------------------------------------------------------- 3. failover
say "== 3. failover"
E topic create lines3 -p 4 >/dev/null || exit 1
E topic create counts3 -p 4 >/dev/null || exit 1
FO_X=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 -X commit.interval.ms=500)
start_app f1 wc-failover lines3 counts3 "${FO_X[@]}"
F1_PID=$APP_PID
start_app f2 wc-failover lines3 counts3 "${FO_X[@]}"
F2_PID=$APP_PID
follow counts3 -1 "$ROOT/ev3"
# continuous input: 20 lines every 0.2 s, round the partitions
(
    i=0
    while :; do
        head -n $((i % 5000 * 20 + 20)) "$ROOT/corpus1" | tail -n 20 | "$EDDY" -b "$BOOT" topic produce lines3 -p $((i % 4)) >/dev/null 2>&1
        i=$((i + 1))
        sleep 0.2
    done
) &
PROD_PID=$!
PIDS+=("$PROD_PID")
# warm-up: a marker in each partition, all counted = both instances are running
for p in 0 1 2 3; do echo "markwarm$p" | E topic produce lines3 -p $p >/dev/null; done
OK=1
for p in 0 1 2 3; do wait_event "$ROOT/ev3" "^word [0-9.]* markwarm$p " 60 >/dev/null || OK=0; done
[ $OK = 1 ] || say "warm-up markers not all counted after 60 s"
sleep 3
E group describe wc-failover >"$ROOT/group.before" 2>&1
sed 's/^/  /' "$ROOT/group.before"
TK=$(now)
kill -9 "$F1_PID"
wait "$F1_PID" 2>/dev/null
# 8 marker words per partition: the repartition step sends each word to the
# partition of its hash, so at least one of the 8 most likely lands on a
# survivor's repartition partition; the first of them counted times the partition.
for p in 0 1 2 3; do
    echo "markkill${p}a markkill${p}b markkill${p}c markkill${p}d markkill${p}e markkill${p}f markkill${p}g markkill${p}h" |
        E topic produce lines3 -p $p >/dev/null 2>&1
done
# the killed instance's input partitions: its member id carries its process id's first 8 hex digits
DEADID=$(sed -n 's/.*process id \([0-9a-f]\{8\}\).*/\1/p' "$ROOT/f1.log" | head -n 1)
DEADP=$(grep "member wc-failover-$DEADID-" "$ROOT/group.before" | grep -o 'lines3-[0-9]*' | sed 's/lines3-//' | tr '\n' ' ')
L3="failover (kill -9 of 1 of 2, session.timeout.ms=6000): first marker counted in output, seconds after the kill, by input partition (killed instance owned: ${DEADP:-?}):"
MAX=0
for p in 0 1 2 3; do
    t=$(wait_event "$ROOT/ev3" "^word [0-9.]* markkill$p" 60)
    if [ -n "$t" ]; then
        d=$(secs "$TK" "$t")
        case " $DEADP " in *" $p "*) L3="$L3 p$p (killed's) $d s;" ;; *) L3="$L3 p$p $d s;" ;; esac
        MAX=$(awk -v a="$MAX" -v b="$d" 'BEGIN { print (b > a) ? b : a }')
    else
        L3="$L3 p$p >60 s;"
        MAX=">60"
    fi
done
L3="$L3 failover time (largest) $MAX s (target < 8 s)"
say "$L3"
SUMMARY+=("$L3")
E group describe wc-failover >"$ROOT/group.after" 2>&1
say "group after:"; sed 's/^/  /' "$ROOT/group.after"
kill -TERM "$PROD_PID" 2>/dev/null; wait "$PROD_PID" 2>/dev/null
stop_pid "$F2_PID"
stop_follow counts3

for n in tp rs.log.1 rs f1 f2; do
    f=$ROOT/$n; [ -f "$f" ] || f=$ROOT/$n.log
    w=$(grep -cE ' (WARN|ERROR) ' "$f" 2>/dev/null)
    [ "${w:-0}" != 0 ] && { say "$n: $w WARN/ERROR lines, first 5:"; grep -E ' (WARN|ERROR) ' "$f" | head -5; }
done

echo
REV=$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$(dirname "$0")" diff --quiet HEAD 2>/dev/null || REV="$REV+changes"
echo "== bench_streams summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, tree $REV, build $BUILD)"
for s in "${SUMMARY[@]}"; do [ -n "$s" ] && echo "$s"; done
echo "total $(($(date +%s) - START)) s"
exit 0
