# Sourced by bench_kafka.sh and bench_eos.sh: an Eddy broker beside a
# single-node Apache Kafka (scripts/kafka.sh), the processes they start, the
# statistics, and one word-count run (Eddy's examples/wordcount or the Kafka
# Streams one of bench/kafka-streams-wordcount).
#
# The sourcing script sets before sourcing: HERE (the tree), BENCH (its name,
# for messages), EDDY and WC (absolute paths), KS_HEAP; and after: ROOT (its
# scratch dir) before calling anything that writes there.

export LC_ALL=C
KAFKA_SH=$HERE/scripts/kafka.sh
KSDIR=$HERE/bench/kafka-streams-wordcount
KSJAR=$KSDIR/target/kafka-streams-wordcount.jar
PIDS=()
KAFKA_UP=0
EPID=
KPID=
EB=
KB=

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    done
    [ "$KAFKA_UP" = 1 ] && "$KAFKA_SH" stop "$ROOT/kafka"
    if [ "${KEEP:-0}" = 1 ]; then echo "$BENCH: kept $ROOT"; else rm -rf "$ROOT"; fi
}

now() { echo "${EPOCHREALTIME/,/.}"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
say() { echo "$BENCH: $*"; }
load() { echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs, $(ps -e --no-headers | wc -l) processes, $(pgrep -c java) JVMs"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; } # KiB
# cpu PID: user+system CPU seconds of the process so far (empty once it is gone)
CLK_TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
forget() { # PID: drop from PIDS once stopped
    local a=() p
    for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && a+=("$p"); done
    PIDS=("${a[@]}")
}
# run CMD...: runs it in the background and waits, so that Ctrl-C or SIGTERM
# reaches the script's trap at once (bash runs a trap only after a foreground
# command ends) and the cleanup stops CMD by its PID
run() {
    "$@" &
    local p=$! st
    PIDS+=("$p")
    wait "$p"
    st=$?
    forget "$p"
    return $st
}
stop_pid() { # PID: SIGTERM, wait up to 30 s, then SIGKILL
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    forget "$1"
}
# answered BOOT: the broker answered Metadata listing 1 broker (kcat only once
# the port accepts: a refused kcat would wait out its reconnect backoff)
answered() {
    (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null || return 1
    kcat -b "$1" -L -m 2 -X reconnect.backoff.ms=10 -X reconnect.backoff.max.ms=50 2>/dev/null | grep -q '^ 1 brokers:'
}
# median of the numbers on stdin (whole numbers from 1000 up, else 4 significant digits)
median() {
    sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        if (m >= 1000) printf "%.0f\n", m; else printf "%.4g\n", m }'
}
# spread of the numbers on stdin: "min-max"
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.3g-%.3g\n", lo, hi; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.3f", a / b }'; }
busy() { # the 5 busiest processes over 1 s (top's second sample)
    top -b -n 2 -d 1 -o %CPU 2>/dev/null | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && k++ < 5 { printf "%s%% %s; ", $9, $12 }'
}

# build_tools: the Kafka Streams word count's jar (mvn) and Kafka's jars
build_tools() {
    run mvn -q -B -f "$KSDIR/pom.xml" package >"$ROOT/mvn.log" 2>&1 || { cat "$ROOT/mvn.log" >&2; say "mvn package of $KSDIR failed"; return 2; }
    "$KAFKA_SH" fetch || return 2
}

# What both brokers get explicitly (Kafka's defaults, set on Eddy where Eddy's
# differ).
COMMON_SET=(log.flush.interval.messages=9223372036854775807 log.flush.interval.ms=9223372036854775807
    log.segment.bytes=1073741824 fetch.max.bytes=57671680 group.initial.rebalance.delay.ms=0
    auto.create.topics.enable=false num.partitions=1)
# setup_brokers: formats Kafka's node under ROOT/kafka (started once and
# stopped, so that start_kafka is a restart) and picks Eddy's address; sets
# KB and EB. start_eddy and start_kafka then start them in the background.
setup_brokers() {
    mkdir -p "$ROOT/kafka" "$ROOT/eddy"
    KAFKA_UP=1
    KB=$("$KAFKA_SH" start "$ROOT/kafka" 1 | tail -1) || { say "Kafka did not start"; return 1; }
    "$KAFKA_SH" stop "$ROOT/kafka"
    printf '%s\n' "${COMMON_SET[@]}" >>"$ROOT/kafka/node1/server.properties"
    EB=127.0.0.1:$(free_port)
    ESET=()
    local s
    for s in "${COMMON_SET[@]}"; do ESET+=(--set "$s"); done
}
start_eddy() {
    "$EDDY" broker --data-dir "$ROOT/eddy" --listen "$EB" "${ESET[@]}" >>"$ROOT/eddy.log" 2>&1 </dev/null &
    EPID=$!
    PIDS+=("$EPID")
}
start_kafka() {
    "$KAFKA_SH" restart "$ROOT/kafka" 1
    KPID=$(cat "$ROOT/kafka/node1/pid")
}
wait_answer() { # BOOT T0: seconds from T0 until answered, or "-"
    local t0=$2 i
    for i in $(seq 6000); do
        if answered "$1"; then secs "$t0" "$(now)"; return 0; fi
        sleep 0.02
    done
    echo "-"
}
name() { [ "$1" = "$EB" ] && echo eddy || echo kafka; }
broker_pid() { [ "$1" = "$EB" ] && echo "$EPID" || echo "$KPID"; }
E() { timeout 120 "$EDDY" -b "$1" "${@:2}"; }

# run_wc KIND BOOT ID NW [key=value...]: one word count (KIND eddy or
# kstreams) with application.id ID over topic `lines` into a fresh output
# topic wc-ID (4 partitions), 1 stream thread, WC_CACHE bytes of cache, plus
# the settings given; timed from app start until the output's latest counts,
# read with isolation.level=read_committed, sum to NW (the corpus's words),
# at most WC_TIMEOUT seconds. The app is then stopped (SIGTERM: it commits
# and closes) and the output read to its end once more. Sets:
#   WC_EL     seconds from app start to complete output, "-" if never
#   WC_FIRST  seconds from app start to the first output record
#   WC_RSS    the app's largest VmRSS (KiB, sampled every 0.1 s)
#   WC_CPU    the app's CPU seconds (user+system) until complete output
#   WC_BCPU   the broker's CPU seconds over the same time
#   WC_SUM    the sum of the latest counts after the app stopped (NW when
#             every word was counted exactly once)
#   WC_OVER   the largest sum seen above NW while it ran ("" if none)
WC_CACHE=${WC_CACHE:-10485760}
# mawk reads a pipe in whole blocks unless interactive: the sum must follow
# each record as it arrives
AWK_LINES=(awk)
awk -W version 2>&1 | grep -q mawk && AWK_LINES=(awk -W interactive)
WC_TIMEOUT=${WC_TIMEOUT:-300}
run_wc() {
    local kind=$1 b=$2 id=$3 nw=$4 out=wc-$3 pid kpid apid t0 tf= td= m=0 i x bpid c0 b0 kv args=()
    shift 4
    WC_EL=-; WC_FIRST=-; WC_RSS=0; WC_CPU=-; WC_BCPU=-; WC_SUM=-; WC_OVER=
    E "$b" topic create "$out" -p 4 >/dev/null || { say "topic create $out failed"; return 1; }
    # kcat into a FIFO read by awk, which keeps the sum of the latest counts
    # as records arrive and notes the first record, reaching nw and any sum
    # above it; both are stopped by PID
    mkfifo "$ROOT/$id.fifo"
    "${AWK_LINES[@]}" -v n="$nw" '{ s += $2 - c[$1]; c[$1] = $2 }
        NR == 1 { print "first"; fflush() }
        s >= n && !r { print "reached"; fflush(); r = 1 }
        s > n && s > o { o = s }
        END { print "final", s + 0, (o ? o : ""); fflush() }' <"$ROOT/$id.fifo" >"$ROOT/$id.status" &
    apid=$!; PIDS+=("$apid")
    kcat -C -u -q -b "$b" -t "$out" -o beginning -X isolation.level=read_committed \
        -s key=s -s 'value=>q' -f '%k %s\n' >"$ROOT/$id.fifo" 2>"$ROOT/$id.kcat.err" &
    kpid=$!; PIDS+=("$kpid")
    sleep 1
    for kv in "$@"; do args+=(-X "$kv"); done
    bpid=$(broker_pid "$b")
    b0=$(cpu "$bpid")
    t0=$(now)
    if [ "$kind" = kstreams ]; then
        java -Xms"$KS_HEAP" -Xmx"$KS_HEAP" -XX:+UseG1GC -cp "$KSJAR:$HERE/tests/kafka/lib/*" eddy.bench.WordCount \
            --input lines --output "$out" -X "bootstrap.servers=$b" -X "application.id=$id" \
            -X "state.dir=$ROOT/state-$id" -X statestore.cache.max.bytes="$WC_CACHE" \
            -X num.stream.threads=1 "${args[@]}" >"$ROOT/$id.log" 2>&1 </dev/null &
    else
        "$WC" --input lines --output "$out" -X "bootstrap.servers=$b" -X "application.id=$id" \
            -X "state.dir=$ROOT/state-$id" -X cache.max.bytes.buffering="$WC_CACHE" \
            -X num.stream.threads=1 "${args[@]}" >"$ROOT/$id.log" 2>&1 </dev/null &
    fi
    pid=$!; PIDS+=("$pid")
    for i in $(seq $((WC_TIMEOUT * 10))); do
        x=$(rss "$pid"); [ -n "$x" ] && [ "$x" -gt "$m" ] && m=$x
        if [ -z "$tf" ] && [ -s "$ROOT/$id.status" ]; then tf=$(now); fi
        if [ -n "$tf" ] && grep -q '^reached' "$ROOT/$id.status"; then
            td=$(now)
            WC_CPU=$(cpu "$pid"); x=$(cpu "$bpid")
            WC_BCPU=$(awk -v a="$b0" -v b="$x" 'BEGIN { printf "%.2f", b - a }')
            break
        fi
        kill -0 "$pid" 2>/dev/null || { say "$kind ($id) exited early:"; tail -5 "$ROOT/$id.log"; break; }
        sleep 0.1
    done
    stop_pid "$pid"
    # what the app committed on close is in the output too: 2 s more for
    # kcat to read it, then stop kcat (awk ends with its sum)
    sleep 2
    stop_pid "$kpid"
    for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$apid"
    rm -f "$ROOT/$id.fifo"
    WC_RSS=$m
    [ -n "$tf" ] && WC_FIRST=$(secs "$t0" "$tf")
    [ -n "$td" ] && WC_EL=$(secs "$t0" "$td")
    read -r _ WC_SUM WC_OVER < <(grep '^final' "$ROOT/$id.status")
    WC_SUM=${WC_SUM:--}
    return 0
}
