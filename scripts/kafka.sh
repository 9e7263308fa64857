#!/usr/bin/env bash
# kafka.sh: Apache Kafka clusters on loopback, for Eddy's tests and benchmarks.
#
#   scripts/kafka.sh fetch                 jars into tests/kafka/lib (Maven Central, pom:
#                                          tests/kafka/pom.xml); nothing if already there
#   scripts/kafka.sh start DIR [NODES] [--security]
#                                          NODES (1 or 3, default 1) combined broker+controller
#                                          KRaft nodes on free 127.0.0.1 ports, data and logs
#                                          under DIR; waits until every broker is registered;
#                                          prints the bootstrap address (also in DIR/bootstrap)
#                                          --security: security listeners too (below)
#   scripts/kafka.sh stop DIR              SIGTERM to each node by PID, SIGKILL after 30 s
#   scripts/kafka.sh kill DIR NODE         kill -9 of one node (1-based), for fault tests
#   scripts/kafka.sh restart DIR NODE      starts a killed node again with its data
#   scripts/kafka.sh leader DIR TOPIC P    node id leading partition P of TOPIC
#   scripts/kafka.sh class CLASS ARGS...   runs a Kafka tool's class from the jars (the
#                                          kafka-*.sh scripts are these classes)
#
# With --security each node also listens with SASL_PLAINTEXT and, when
# tests/security/certs.sh exists, with SSL and SASL_SSL (PEM keystores,
# certificates made by certs.sh under DIR/certs for localhost and 127.0.0.1,
# the CA clients trust in DIR/certs/ca.pem).
# SASL mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; the users
# (KAFKA_SASL_USERS, default "alice:alice-secret admin:admin-secret") exist
# for all three: PLAIN ones in the listeners' JAAS config, SCRAM ones written
# into the metadata at format time (kafka-storage format --add-scram). Each
# listener's bootstrap address is printed as "PROTOCOL host:port,..." after
# the plaintext one and kept in DIR/bootstrap.<protocol> (lower case). The
# brokers talk to each other over PLAINTEXT.
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
SASL_USERS=${KAFKA_SASL_USERS:-alice:alice-secret admin:admin-secret}
CERTS=""

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

# The listener lines of a node's properties for --security: SASL's JAAS
# config per listener and mechanism, and TLS's PEM stores. $1 is a
# space-separated "PROTOCOL=port" list of the node's extra listeners.
security_props() {
    local l proto lname plain_users="" u
    for u in $SASL_USERS; do
        plain_users="$plain_users user_${u%%:*}=\"${u#*:}\""
    done
    echo "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
    for l in $1; do
        proto=${l%%=*}
        lname=$(echo "$proto" | tr 'A-Z' 'a-z')
        case "$proto" in
        SASL_*)
            echo "listener.name.$lname.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;"
            echo "listener.name.$lname.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
            echo "listener.name.$lname.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ;;
        esac
        case "$proto" in
        *SSL)
            echo "listener.name.$lname.ssl.keystore.type=PEM"
            echo "listener.name.$lname.ssl.keystore.location=$CERTS/kafka-keystore.pem"
            echo "listener.name.$lname.ssl.truststore.type=PEM"
            echo "listener.name.$lname.ssl.truststore.location=$CERTS/ca.pem"
            echo "listener.name.$lname.ssl.client.auth=none"
            ;;
        esac
    done
}

# Certificates for 127.0.0.1/localhost from tests/security/certs.sh into
# DIR/certs; prints that directory, or nothing when the generator is not in
# this tree (then there are no TLS listeners).
make_certs() {
    local dir=$1 gen=$HERE/tests/security/certs.sh
    [ -f "$gen" ] || return 0
    mkdir -p "$dir/certs"
    bash "$gen" "$dir/certs" >"$dir/certs/certs.log" 2>&1 ||
        { cat "$dir/certs/certs.log" >&2; die "tests/security/certs.sh failed"; }
    # Kafka's PEM keystore is one file: the private key (PKCS#8, here not
    # encrypted) and the certificate chain.
    cat "$dir/certs/server.key" "$dir/certs/server.pem" >"$dir/certs/kafka-keystore.pem"
    echo "$dir/certs"
}

start() {
    local dir="" nodes=1 security=0 a
    for a in "$@"; do
        case "$a" in
        --security) security=1 ;;
        *) if [ -z "$dir" ]; then dir=$a; else nodes=$a; fi ;;
        esac
    done
    [ -n "$dir" ] || die "start needs DIR"
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
    # --security: the extra listeners' protocols, their ports per node, and
    # the SCRAM users for the format.
    local protos="" p u
    declare -A sport
    local scram_args=()
    if [ "$security" = 1 ]; then
        CERTS=$(make_certs "$dir")
        protos="SASL_PLAINTEXT"
        [ -n "$CERTS" ] && protos="$protos SSL SASL_SSL"
        for i in $(seq 1 "$nodes"); do
            for p in $protos; do sport[$p.$i]=$(free_port); done
        done
        for u in $SASL_USERS; do
            scram_args+=(--add-scram "SCRAM-SHA-256=[name=${u%%:*},password=${u#*:}]"
                --add-scram "SCRAM-SHA-512=[name=${u%%:*},password=${u#*:}]")
        done
    fi
    local cid
    cid=$(java_run kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    for i in $(seq 1 "$nodes"); do
        local nd=$dir/node$i
        mkdir -p "$nd/data"
        local lis="PLAINTEXT://127.0.0.1:${bport[$i]}" map="PLAINTEXT:PLAINTEXT" plist=""
        for p in $protos; do
            lis="$lis,$p://127.0.0.1:${sport[$p.$i]}"
            map="$map,$p:$p"
            plist="$plist $p=${sport[$p.$i]}"
        done
        cat >"$nd/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=$lis,CONTROLLER://127.0.0.1:${cport[$i]}
advertised.listeners=$lis
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map,CONTROLLER:PLAINTEXT
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
        if [ "$security" = 1 ]; then security_props "$plist" >>"$nd/server.properties"; fi
        java_run kafka.tools.StorageTool format -t "$cid" -c "$nd/server.properties" \
            ${scram_args[@]+"${scram_args[@]}"} >"$nd/format.log" 2>&1 ||
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
    for p in $protos; do
        local b=""
        for i in $(seq 1 "$nodes"); do b="$b${b:+,}127.0.0.1:${sport[$p.$i]}"; done
        echo "$b" >"$dir/bootstrap.$(echo "$p" | tr 'A-Z' 'a-z')"
        echo "$p $b"
    done
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
*) sed -n '2,34p' "$0" >&2; exit 2 ;;
esac
