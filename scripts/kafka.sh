#!/usr/bin/env bash
# kafka.sh: Apache Kafka clusters on loopback, for Eddy's tests and benchmarks.
#
#   scripts/kafka.sh fetch                 jars into tests/kafka/lib (Maven Central, pom:
#                                          tests/kafka/pom.xml); nothing if already there
#   scripts/kafka.sh start DIR [NODES]     NODES (1 or 3, default 1) combined broker+controller
#                                          KRaft nodes on free 127.0.0.1 ports, data and logs
#                                          under DIR; waits until every broker is registered;
#                                          prints the bootstrap address (also in DIR/bootstrap)
#   scripts/kafka.sh stop DIR              SIGTERM to each node by PID, SIGKILL after 30 s
#   scripts/kafka.sh kill DIR NODE         kill -9 of one node (1-based), for fault tests
#   scripts/kafka.sh restart DIR NODE      starts a killed node again with its data
#   scripts/kafka.sh leader DIR TOPIC P    node id leading partition P of TOPIC
#   scripts/kafka.sh class CLASS ARGS...   runs a Kafka tool's class from the jars (the
#                                          kafka-*.sh scripts are these classes)
#
# A 3-node cluster has default.replication.factor=3 and min.insync.replicas=2
# (internal topics too), as a production cluster would; a 1-node cluster 1 and
# 1. Each JVM gets KAFKA_HEAP (default 512m). Processes are stopped by the
# PIDs in DIR/nodeN/pid, never by name.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
KDIR=$HERE/tests/kafka
LIB=$KDIR/lib
HEAP=${KAFKA_HEAP:-512m}

die() { echo "kafka.sh: $*" >&2; exit 1; }

fetch() {
    if [ -f "$LIB/.complete" ]; then return 0; fi
    command -v mvn >/dev/null || die "mvn not found (scripts/install-deps.sh installs Maven and a JDK)"
    rm -rf "$LIB"
    (cd "$KDIR" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime) ||
        die "mvn could not fetch Kafka's jars (tests/kafka/pom.xml)"
    ls "$LIB"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar in $LIB after mvn"
    touch "$LIB/.complete"
}

java_run() { java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true -cp "$LIB/*" "$@"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts node n of DIR in the background with the properties already written.
launch() {
    local dir=$1 n=$2 nd=$1/node$2
    cat >"$nd/log4j2.properties" <<EOF
status = error
appender.f.type = File
appender.f.name = f
appender.f.fileName = $nd/server.log
appender.f.layout.type = PatternLayout
appender.f.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.f.ref = f
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
    (
        cd "$nd"
        KAFKA_LOG4J_OPTS= exec java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true \
            -Dlog4j2.configurationFile="$nd/log4j2.properties" -cp "$LIB/*" kafka.Kafka \
            "$nd/server.properties" >"$nd/stdout.log" 2>&1
    ) &
    echo $! >"$nd/pid"
}

# Waits until the cluster at $1 answers Metadata with $2 brokers (kcat).
wait_brokers() {
    local boot=$1 want=$2 deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
    while [ $SECONDS -lt $deadline ]; do
        if kcat -b "$boot" -L -m 3 2>/dev/null | grep -q "^ $want brokers:"; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

start() {
    local dir=$1 nodes=${2:-1}
    [ "$nodes" = 1 ] || [ "$nodes" = 3 ] || die "NODES is 1 or 3"
    fetch
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    local rf=1 isr=1
    [ "$nodes" = 3 ] && rf=3 && isr=2
    local voters="" i
    declare -a bport cport
    for i in $(seq 1 "$nodes"); do
        bport[$i]=$(free_port)
        cport[$i]=$(free_port)
        voters="$voters${voters:+,}$i@127.0.0.1:${cport[$i]}"
    done
    local boot=""
    for i in $(seq 1 "$nodes"); do
        boot="$boot${boot:+,}127.0.0.1:${bport[$i]}"
    done
    local cid
    cid=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    for i in $(seq 1 "$nodes"); do
        local nd=$dir/node$i
        mkdir -p "$nd/data"
        cat >"$nd/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${bport[$i]},CONTROLLER://127.0.0.1:${cport[$i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${bport[$i]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$nd/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
EOF
        java_run kafka.tools.StorageTool format -t "$cid" -c "$nd/server.properties" >"$nd/format.log" 2>&1 ||
            { cat "$nd/format.log" >&2; die "formatting node $i failed"; }
        launch "$dir" "$i"
    done
    echo "$boot" >"$dir/bootstrap"
    echo "$nodes" >"$dir/nodes"
    if ! wait_brokers "$boot" "$nodes"; then
        for i in $(seq 1 "$nodes"); do tail -20 "$dir/node$i/server.log" >&2 || true; done
        stop "$dir"
        die "cluster did not answer with $nodes brokers in time"
    fi
    echo "$boot"
}

stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

stop() {
    local dir=$1 f
    for f in "$dir"/node*/pid; do
        [ -f "$f" ] || continue
        stop_pid "$(cat "$f")" &
    done
    wait
    rm -f "$dir"/node*/pid
}

kill_node() {
    local f=$1/node$2/pid
    [ -f "$f" ] || die "node $2 of $1 is not running"
    kill -KILL "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
}

leader() {
    local boot
    boot=$(cat "$1/bootstrap")
    kcat -b "$boot" -L -t "$2" -m 5 2>/dev/null |
        sed -n "s/^ *partition $3, leader \([0-9-]*\),.*/\1/p" | head -1
}

cmd=${1:-}
shift || true
case "$cmd" in
fetch) fetch ;;
start) start "$@" ;;
stop) stop "$@" ;;
kill) kill_node "$@" ;;
restart) launch "$(cd "$1" && pwd)" "$2" ;;
leader) leader "$@" ;;
class) fetch; c=$1; shift; java_run "$c" "$@" ;;
*) sed -n '2,22p' "$0" >&2; exit 2 ;;
esac
