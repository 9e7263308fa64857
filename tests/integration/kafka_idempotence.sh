#!/usr/bin/env bash
# Eddy's producer is idempotent by default: numbered records (kafka_produce,
# acks=all, its default settings otherwise) to a topic of 3 partitions while
# the broker is killed with kill -9 and started again, twice. A request the
# broker appended but could not answer is sent again; with producer ids and
# sequence numbers the broker drops the copy. Then every record must be
# acknowledged and be in the topic exactly once: no duplicate, no gap.
#
#  1. a 1-node Apache Kafka (scripts/kafka.sh; its one node leads every
#     partition), the reference implementation of the broker side;
#  2. Eddy's broker, once it serves InitProducerId (wire/api_versions.c lists
#     it): the same, with the broker started again on the same port and data,
#     and its answers lost for a moment before each kill (drop_proxy.py).
#
#   kafka_idempotence.sh EDDY KAFKA_PRODUCE
# Needs java (17+), mvn (first run only: scripts/kafka.sh fetch) and kcat.
. "$(dirname "$0")/../compat/lib.sh"
compat_init kafka_idempotence "$1"
KP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$ROOT/scripts/kafka.sh
need sort uniq comm timeout kcat java
export LC_ALL=C
N=${IDEM_RECORDS:-200000}
RATE=${IDEM_RATE:-20000}

kafka_workdir kidem # the cluster outside $WORK, stopped by its PIDs at exit (lib.sh)

# Waits until the producer has N_ACKED more acknowledged lines than now.
wait_acked() { # OUT MORE
    local base i
    base=$(wc -l <"$1")
    for i in $(seq 1 300); do
        [ "$(wc -l <"$1")" -ge $((base + $2)) ] && return 0
        kill -0 "$ppid" 2>/dev/null || return 0
        sleep 0.1
    done
    fail "the producer acknowledged fewer than $2 records in 30 s"
}

# Runs the producer against BOOTSTRAP while KILL and START (shell commands)
# take the broker down and up twice; checks the topic with CONSUME. The
# producer is paced (RATE records a second, N in all) so that it is still
# writing at both kills.
run_case() { # NAME BOOTSTRAP KILL START CONSUME
    local name=$1 boot=$2 kill_cmd=$3 start_cmd=$4 consume=$5 out=$WORK/$1.out rc=0 kills=0
    : >"$out"
    timeout 300 "$KP" "$boot" idem "$N" rate="$RATE" linger.ms=5 retry.backoff.ms=100 \
        >"$out" 2>"$WORK/$name.err" &
    ppid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $ppid"
    for _ in 1 2; do
        wait_acked "$out" 2000
        kill -0 "$ppid" 2>/dev/null || break
        eval "$kill_cmd"
        kills=$((kills + 1))
        log "$name: broker killed with kill -9 after $(wc -l <"$out") acknowledgements"
        sleep 0.5
        eval "$start_cmd"
    done
    [ "$kills" = 2 ] || fail "$name: the producer finished before the second kill"
    timeout 280 tail --pid="$ppid" -f /dev/null || fail "$name: the producer did not finish"
    wait "$ppid" || rc=$?
    [ "$rc" = 0 ] || { tail -n 5 "$WORK/$name.err" >&2; fail "$name: the producer exited $rc"; }
    grep -q 'without idempotence' "$WORK/$name.err" &&
        fail "$name: the producer fell back to producing without idempotence"
    [ "$(wc -l <"$out")" = "$N" ] || fail "$name: $(wc -l <"$out") of $N records acknowledged"
    eval "$consume" >"$WORK/$name.got" || fail "$name: consuming the topic failed"
    sort "$WORK/$name.got" | uniq -d >"$WORK/$name.dup"
    [ ! -s "$WORK/$name.dup" ] ||
        fail "$name: $(wc -l <"$WORK/$name.dup") records are in the topic twice, e.g. $(head -n 1 "$WORK/$name.dup")"
    awk '{ print $1 }' "$out" | sort | comm -23 - <(sort -u "$WORK/$name.got") >"$WORK/$name.missing"
    [ ! -s "$WORK/$name.missing" ] ||
        fail "$name: $(wc -l <"$WORK/$name.missing") acknowledged records are missing, e.g. $(head -n 1 "$WORK/$name.missing")"
    [ "$(wc -l <"$WORK/$name.got")" = "$N" ] ||
        fail "$name: the topic holds $(wc -l <"$WORK/$name.got") records, $N were produced"
    log "$name: $N records acknowledged across 2 kills -9 of the broker, each in the topic exactly once"
}

# ------------------------------------------------------------- 1. Kafka
timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
KB=$(KAFKA_HEAP=384m timeout 180 "$KAFKA_SH" start "$KC" 1) || fail "the Kafka node did not start"
timeout 60 "$EDDY" -b "$KB" topic create idem -p 3 >/dev/null || fail "kafka: topic create"
kafka_up() {
    local i
    for i in $(seq 1 240); do
        kcat -b "$KB" -L -t idem -m 3 2>/dev/null | grep -q 'partition 2, leader 1' && return 0
        sleep 0.5
    done
    fail "the Kafka node did not come back within 120 s"
}
run_case kafka "$KB" '"$KAFKA_SH" kill "$KC" 1' 'KAFKA_HEAP=384m "$KAFKA_SH" restart "$KC" 1; kafka_up' \
    'timeout 120 "$EDDY" -b "$KB" topic consume idem -o beginning -e -f "%v\n"'
timeout 60 "$KAFKA_SH" stop "$KC" >/dev/null 2>&1 || true

# ------------------------------------------------------------- 2. Eddy's broker
if ! grep -q 'API_INIT_PRODUCER_ID' "$ROOT/wire/api_versions.c"; then
    log "eddy: skipped, Eddy's broker does not serve InitProducerId in this build"
    exit 0
fi
# The broker is reached through drop_proxy.py (tests/compat), which can lose
# its answers: before each kill -9 they are dropped for a moment while
# appends go on, so that batches the broker appended are never acknowledged
# and are sent again to the restarted broker (Eddy's broker answers too fast
# for a bare kill to catch many). A free port for the broker first (a start
# on port 0), then the proxy, then the broker for real, advertising the proxy.
need python3
start_broker "$WORK/eddy"
EPORT=$BROKER_PORT
stop_broker
python3 "$COMPAT_DIR/drop_proxy.py" "$EPORT" "$WORK/proxy.port" 2>"$WORK/proxy.err" &
proxy=$!
bg_started $proxy
for _ in $(seq 1 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
[ -s "$WORK/proxy.port" ] || fail "drop_proxy.py did not start: $(cat "$WORK/proxy.err")"
PROXY=127.0.0.1:$(cat "$WORK/proxy.port")
EARGS=(--set "advertised.listeners=PLAINTEXT://$PROXY")
BROKER_PORT=$EPORT start_broker "$WORK/eddy" "${EARGS[@]}"
timeout 60 "$EDDY" -b "$PROXY" topic create idem -p 3 >/dev/null || fail "eddy: topic create"
run_case eddy "$PROXY" 'kill -USR1 $proxy; sleep 0.3; kill9_broker; kill -USR2 $proxy' \
    'BROKER_PORT=$EPORT start_broker "$WORK/eddy" "${EARGS[@]}"' \
    'timeout 120 "$EDDY" -b "$PROXY" topic consume idem -o beginning -e -f "%v\n"'
stop_broker
kill "$proxy" 2>/dev/null || true
wait "$proxy" 2>/dev/null || true
bg_done "$proxy"
