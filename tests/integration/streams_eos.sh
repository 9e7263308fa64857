#!/usr/bin/env bash
# processing.guarantee=exactly_once_v2 through crashes, after Kafka's streams
# EOS system test: the word-count example runs as two instances with
# exactly_once_v2 and, beside it on the same input, two with at_least_once;
# lines are produced while an instance of each pair is killed with kill -9
# three times (both of a pair in turn) and started again on its state
# directory (each instance keeps a standby of the other's tasks, which a
# takeover starts from); then the second exactly-once instance is stopped (SIGSTOP)
# for longer than the session and transaction timeouts and resumed (a zombie). The
# at-least-once pair gets no zombie: at_least_once promises nothing about one (a
# stalled instance that resumes can write counts from its stale state after its
# successor wrote newer ones, in Kafka Streams too; fencing it is what
# exactly_once_v2 is for), while through kills alone no count may end below the
# reference. Then:
#   - exactly_once_v2 (a 1 s commit interval, so that a kill finds up to a
#     second of work in an open transaction): the count topic read with
#     isolation.level=read_committed holds, per word, each count 1..N
#     exactly once (the record cache is off, so every update is an output
#     record) and N is the reference count (awk): no update lost, none
#     written twice, none of an aborted transaction visible; and the topics
#     do hold records of aborted transactions (the kills hit open ones).
#     LMDB commits on its own every 50 writes here (eddy.state.txn.max.writes),
#     so a kill finds LMDB holding updates of the open transaction: the
#     restarted task must see the mark of those commits and rebuild its
#     state from the committed changelog;
#   - at_least_once (the same crashes, a 10 s commit interval so that each
#     crash redoes work): some word's count ends above the reference. This
#     shows the test can tell the two apart; if it ever passed with exact
#     counts the crashes would not have tested anything.
#
#   streams_eos.sh EDDY_BINARY WORDCOUNT_BINARY [eddy|kafka]
# eddy (default): Eddy's broker; kafka: a 1-node Apache Kafka (scripts/kafka.sh;
# needs java, and mvn on the first run).
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_eos "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
TARGET=${3:-eddy}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$ROOT/scripts/kafka.sh
need awk timeout sort
export LC_ALL=C

case $TARGET in
kafka)
    need java
    kafka_workdir keos
    timeout 600 "$KAFKA_SH" fetch >/dev/null || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
    BOOT=$(KAFKA_HEAP=384m timeout 180 "$KAFKA_SH" start "$KC" 1) || fail "the Kafka node did not start"
    ;;
eddy)
    start_broker "$WORK/data"
    BOOT=$BOOTSTRAP
    ;;
*) fail "third argument: eddy or kafka, not '$TARGET'" ;;
esac
log "cluster: $TARGET at $BOOT"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOT" "$@"; }

corpus() { # SEED LINES
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed);
        split("the quick brown fox jumps over lazy dog kafka stream table join window count " \
              "eddy broker log segment index offset partition replica leader follower commit " \
              "state store lmdb changelog restore task thread group member rebalance", v, " ");
        for (i = 0; i < n; i++) {
            line = "";
            k = 3 + int(rand() * 6);
            for (j = 0; j < k; j++)
                line = line (j ? " " : "") v[1 + int(rand() * rand() * 38)];
            print line;
        }
    }'
}
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
# "word count" per output record, committed data only
records() { # TOPIC
    E topic consume "$1" -o beginning -e --isolation read_committed -f '%k %v\n' --value-format int64
}
latest() { awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort; }

dump_logs() { for n in "$@"; do echo "---- $n log ----" >&2; tail -n 25 "$WORK/$n.log" >&2; done; }

# instance NAME GUARANTEE: app eos-<guarantee>, state dir per NAME (a restart
# keeps it, and with it the process id and so the transactional.id)
start_app() { # NAME GUARANTEE EXTRA...
    local name=$1 g=$2
    shift 2
    "$WC" --input lines --output "counts-$g" -X "bootstrap.servers=$BOOT" \
        -X "application.id=eos-$g" -X "state.dir=$WORK/state-$name" \
        -X processing.guarantee="$g" -X cache.max.bytes.buffering=0 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1500 -X num.standby.replicas=1 "$@" \
        >>"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$name=$pid"
    echo "---- started (pid $pid) ----" >>"$WORK/$name.log"
}
EOS=exactly_once_v2
ALO=at_least_once
start_e() { start_app "$1" $EOS -X commit.interval.ms=1000 -X eddy.state.txn.max.writes=50; }
start_a() { start_app "$1" $ALO -X commit.interval.ms=10000; }
kill9() { # NAME
    local pid
    eval "pid=\$PID_$1"
    kill -0 "$pid" 2>/dev/null || { dump_logs "$1"; fail "$1 had died before its kill -9"; }
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    bg_done "$pid"
}
alive() { # NAME...
    local n pid
    for n in "$@"; do
        eval "pid=\$PID_$n"
        kill -0 "$pid" 2>/dev/null || { dump_logs "$n"; fail "$n died"; }
    done
}
# Output records of the app so far (uncommitted ones included: progress only).
produced() { # GUARANTEE
    E topic describe "counts-$1" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ && NF >= 4 { s += $4 } END { print s + 0 }'
}
# Waits until both apps wrote MORE output records than at the call.
wait_progress() { # MORE WHEN
    local e0 a0 e a
    e0=$(produced $EOS)
    a0=$(produced $ALO)
    for _ in $(seq 1 200); do
        alive e1 e2 a1 a2
        e=$(produced $EOS)
        a=$(produced $ALO)
        [ "$e" -ge $((e0 + $1)) ] && [ "$a" -ge $((a0 + $1)) ] && return 0
        sleep 0.2
    done
    dump_logs e1 e2 a1 a2
    fail "$2: no progress (exactly_once_v2 output $e0 -> $e, at_least_once $a0 -> $a)"
}

# Waits until the instances (started again) are in the group with tasks.
wait_assigned() { # WHEN NAME...
    local when=$1 n ok
    shift
    for _ in $(seq 1 300); do
        ok=1
        for n in "$@"; do
            alive "$n"
            awk '/^---- started/ { a = 0 } /assigned [1-9][0-9]* active/ { a = 1 } END { exit !a }' \
                "$WORK/$n.log" || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.2
    done
    dump_logs "$@"
    fail "$when: $* got no tasks within 60 s"
}

E topic create lines -p 4 >/dev/null
E topic create counts-$EOS -p 4 >/dev/null
E topic create counts-$ALO -p 4 >/dev/null

# Lines arrive all along, in small batches one after another, until the
# kills are over, so that every kill hits instances in the middle of
# processing (and, under exactly-once, of a transaction).
BL=20
(
    b=0
    while [ ! -e "$WORK/stop" ] && [ "$b" -lt 2000 ]; do
        b=$((b + 1))
        corpus "$b" $BL >"$WORK/b$b"
        timeout 30 "$EDDY" -b "$BOOT" topic produce lines <"$WORK/b$b" >/dev/null || exit 1
        echo "$b" >"$WORK/batches"
        sleep 0.05
    done
) 2>"$WORK/producer.err" &
PRODUCER=$!
bg_started $PRODUCER

start_e e1
start_e e2
start_a a1
start_a a2
wait_assigned "start" e1 e2 a1 a2
wait_progress 300 "start"
log "4 instances processing"
for k in e1:a1 e2:a2 e1:a1; do
    e=${k%%:*} a=${k##*:}
    kill9 "$e"
    kill9 "$a"
    log "killed $e and $a with kill -9 while processing"
    start_e "$e"
    start_a "$a"
    wait_assigned "after the kill of $e and $a" "$e" "$a"
    wait_progress 200 "after the kill of $e and $a"
done
# A zombie: e2 stopped (SIGSTOP) past the session timeout and
# exactly-once's transaction.timeout.ms (10 s), then resumed. The group
# has moved its tasks and the coordinator aborted its transaction; its
# offsets are refused, its transaction aborts, it rejoins and goes on.
kill -STOP "$PID_e2"
log "e2 stopped (SIGSTOP) for 12 s"
sleep 12
kill -CONT "$PID_e2"
wait_progress 200 "after e2 resumed"
touch "$WORK/stop"
wait "$PRODUCER" || fail "producing the input failed: $(cat "$WORK/producer.err")"
bg_done $PRODUCER
NB=$(cat "$WORK/batches")
cat $(for b in $(seq 1 "$NB"); do echo "$WORK/b$b"; done) | reference >"$WORK/ref"
TOTAL=$(awk '{ s += $2 } END { print s }' "$WORK/ref")
log "all $((NB * BL)) lines produced ($TOTAL words)"

# The end: the exactly-once count topic reaches every word's reference count
# (the sum of the latest counts is the number of words), the at-least-once
# one at least that.
for _ in $(seq 1 300); do
    alive e1 e2 a1 a2
    records counts-$EOS >"$WORK/eos.out" 2>/dev/null || true
    records counts-$ALO >"$WORK/alo.out" 2>/dev/null || true
    es=$(latest <"$WORK/eos.out" | awk '{ s += $2 } END { print s + 0 }')
    as=$(latest <"$WORK/alo.out" | awk '{ s += $2 } END { print s + 0 }')
    [ "$es" -ge "$TOTAL" ] && [ "$as" -ge "$TOTAL" ] && break
    sleep 0.3
done
sleep 1 # anything still on its way (an over-count) shows now
records counts-$EOS >"$WORK/eos.out" || fail "reading counts-$EOS with read_committed failed"
records counts-$ALO >"$WORK/alo.out" || fail "reading counts-$ALO with read_committed failed"

latest <"$WORK/eos.out" >"$WORK/eos.latest"
if ! diff "$WORK/ref" "$WORK/eos.latest" >"$WORK/eos.diff"; then
    head -n 10 "$WORK/eos.diff" >&2
    dump_logs e1 e2
    fail "exactly_once_v2: the committed counts differ from the reference (< reference, > app)"
fi
sort "$WORK/eos.out" | uniq -d >"$WORK/eos.dup"
[ ! -s "$WORK/eos.dup" ] || fail "exactly_once_v2: $(wc -l <"$WORK/eos.dup") committed updates appear twice, e.g. '$(head -n 1 "$WORK/eos.dup")'"
[ "$(wc -l <"$WORK/eos.out")" = "$TOTAL" ] ||
    fail "exactly_once_v2: $(wc -l <"$WORK/eos.out") committed updates for $TOTAL words"
# The kills hit open transactions: their records are in the topics, and
# read_committed hid them.
aborted=0
for t in counts-$EOS eos-$EOS-counts-repartition; do
    all=$(E topic consume "$t" -o beginning -e --isolation read_uncommitted -f '%o\n' | wc -l)
    committed=$(E topic consume "$t" -o beginning -e --isolation read_committed -f '%o\n' | wc -l)
    aborted=$((aborted + all - committed))
done
[ "$aborted" -gt 0 ] ||
    fail "exactly_once_v2: no record of an aborted transaction in the topics: the kills hit no open transaction, so the test proved little"
log "exactly_once_v2: every count exact through 3 kills -9; $TOTAL committed updates, each once; $aborted records of aborted transactions hidden"

latest <"$WORK/alo.out" >"$WORK/alo.latest"
over=$(join "$WORK/ref" "$WORK/alo.latest" | awk '$3 > $2 { n++ } END { print n + 0 }')
under=$(join -a 1 "$WORK/ref" "$WORK/alo.latest" | awk 'NF < 3 || $3 < $2 { n++ } END { print n + 0 }')
[ "$under" = 0 ] || fail "at_least_once: $under word(s) counted below the reference (lost updates)"
[ "$over" -gt 0 ] || fail "at_least_once: no over-count after 3 kills -9: the crashes redid no work, so the exactly-once result above proves nothing"
log "at_least_once: $over word(s) over-counted after the same kills (as expected without transactions)"
log "PASS"
