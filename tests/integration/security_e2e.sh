#!/usr/bin/env bash
# The whole security stack end to end on one Eddy broker, with real clients:
# listeners SASL_SSL, SSL (ssl.client.auth=required) and PLAINTEXT; the StandardAuthorizer
# with super.users=User:admin and allow.everyone.if.no.acl.found=false; certificates from
# tests/security/certs.sh; the admin a PLAIN user of the SASL_SSL listener's JAAS text.
#  1. the admin adds the SCRAM users alice, bob and ops with `eddy user add` and Kafka's
#     kafka-configs, and ACLs with `eddy acl add` and Kafka's kafka-acls: alice producer on
#     orders and owner of the alice- prefix except alice-locked (a Deny that beats the
#     prefixed Allow), bob consumer of orders in group g1, carol a streams app (prefixed
#     on its application id), User:CN=alice (mutual TLS) reader of orders, ops no super user
#     but Alter and Describe on the cluster: ops adds carol.
#  2. alice produces and bob consumes in group g1 over SASL_SSL with PLAIN, SCRAM-SHA-256 and
#     SCRAM-SHA-512 through kcat, Eddy's CLI, kafkajs and Kafka's Java clients: each batch
#     arrives once, in g1 after the previous client's commits; kcat and the Java consumer
#     read orders over mutual TLS as User:CN=alice.
#  3. changes apply at once: an ACL removed with kafka-acls stops an open connection's next
#     Fetch; a deleted SCRAM mechanism and a changed password are refused, what is left works.
#  4. refusals with Kafka's errors and nothing changed: bob producing (idempotent or not),
#     alice consuming, alice in group g1, alice creating or deleting topics, bob altering a
#     topic's configs, alice adding a user (eddy, kafka-configs), bob adding ACLs; bob's topic
#     and group lists (eddy, kafka-topics, kafka-consumer-groups); wrong passwords and
#     unknown users; plaintext on the SASL_SSL port, TLS without SASL on it, TLS on the
#     PLAINTEXT port, no client certificate on the SSL port: closed, the broker still serving.
#  5. word count (examples/wordcount) as carol over SASL_SSL: the awk model's counts.
#  6. a restart: users, ACLs, committed offsets and data are there; alice and bob log in
#     again, bob's group goes on where it was; word count, running throughout, counts the
#     new lines exactly; the refusals still hold.
#
#   security_e2e.sh EDDY WORDCOUNT KAFKA_SH
. "$(dirname "$0")/../compat/lib.sh"
compat_init security_e2e "${1:?usage: security_e2e.sh EDDY WORDCOUNT KAFKA_SH}"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
KAFKA_SH=${3:?usage: security_e2e.sh EDDY WORDCOUNT KAFKA_SH}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
need kcat java javac node openssl awk timeout
[ -d "$SRC/tests/kafka/lib" ] && ls "$SRC/tests/kafka/lib/"kafka-clients-*.jar >/dev/null 2>&1 ||
    fail "no Kafka jars in tests/kafka/lib"
[ -d "$SRC/tests/compat/node_modules/kafkajs" ] ||
    (cd "$SRC/tests/compat" && timeout 180 npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    fail "kafkajs is not installed (npm ci in tests/compat)"
export NODE_PATH=$SRC/tests/compat/node_modules LC_ALL=C
T() { timeout -k 5 "$CLIENT_TIMEOUT" "$@"; }

sh "$SRC/tests/security/certs.sh" "$WORK/certs" || fail "certs.sh"
CA=$WORK/certs/ca.pem
JAAS_ADMIN='org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret";'

# ------------------------------------------------------------------ the broker
SASL_PORT=0 SSL_PORT=0 PLAIN_PORT=0
broker() {
    start_broker "$WORK/data" \
        --set "listeners=SASL_SSL://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT,PLAINTEXT://127.0.0.1:$PLAIN_PORT" \
        --set "ssl.keystore.location=$WORK/certs/server-keystore.pem" --set ssl.key.password=eddy-test-pass \
        --set "listener.name.ssl.ssl.truststore.location=$CA" --set listener.name.ssl.ssl.client.auth=required \
        --set sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN \
        --set "listener.name.sasl_ssl.plain.sasl.jaas.config=$JAAS_ADMIN" \
        --set authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer \
        --set super.users=User:admin --set allow.everyone.if.no.acl.found=false \
        --set group.initial.rebalance.delay.ms=0 --set connection.failed.authentication.delay.ms=20
    SASL_PORT=$(sed -n 's/.*listener SASL_SSL (SASL_SSL) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$BROKER_LOG")
    SSL_PORT=$(sed -n 's/.*listener SSL (SSL) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$BROKER_LOG")
    PLAIN_PORT=$(sed -n 's/.*listener PLAINTEXT (PLAINTEXT) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$BROKER_LOG")
    [ -n "$SASL_PORT" ] && [ -n "$SSL_PORT" ] && [ -n "$PLAIN_PORT" ] || fail "listeners: $(cat "$BROKER_LOG")"
    BS=127.0.0.1:$SASL_PORT
}
broker

# Clients. Eddy's CLI as the admin (a --command-config file in the Java client's form) and
# as a user (-X, librdkafka's names); kcat; Kafka's tools with a properties file.
cat >"$WORK/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=PLAIN
sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\
    username="admin" password="admin-secret";
ssl.ca.location=$CA
EOF
jprops() { # FILE USER PASSWORD MECHANISM: a Java client's properties
    local module=scram.ScramLoginModule
    [ "$4" = PLAIN ] && module=plain.PlainLoginModule
    cat >"$1" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=$4
sasl.jaas.config=org.apache.kafka.common.security.$module required username="$2" password="$3";
ssl.truststore.type=PEM
ssl.truststore.location=$CA
EOF
}
jprops "$WORK/admin-java.properties" admin admin-secret PLAIN
jprops "$WORK/bob-java.properties" bob bob-secret SCRAM-SHA-256
EA() { T "$EDDY" -b "$BS" --command-config "$WORK/admin.properties" "$@"; }
EU() { # USER PASSWORD MECHANISM eddy-args...
    local u=$1 p=$2 m=$3
    shift 3
    T "$EDDY" -b "$BS" -X security.protocol=SASL_SSL -X "ssl.ca.location=$CA" -X "sasl.mechanism=$m" \
        -X "sasl.username=$u" -X "sasl.password=$p" "$@"
}
KC() { # USER PASSWORD MECHANISM kcat-args...
    local u=$1 p=$2 m=$3
    shift 3
    T kcat -b "$BS" -X security.protocol=SASL_SSL -X "ssl.ca.location=$CA" -X "sasl.mechanisms=$m" \
        -X "sasl.username=$u" -X "sasl.password=$p" "$@"
}
KTOOL() { # CLASS args...: a Kafka tool against the SASL_SSL listener
    local cls=$1
    shift
    KAFKA_HEAP=256m timeout -k 5 120 "$KAFKA_SH" class "$cls" --bootstrap-server "$BS" "$@"
}
# wait_log TEXT [SECONDS]: the broker's log shows TEXT
wait_log() {
    for _ in $(seq 1 $((${2:-10} * 20))); do
        grep -qF -- "$1" "$BROKER_LOG" && return 0
        sleep 0.05
    done
    fail "no broker log line with '$1'"
}
ends() { EA topic describe "$1" | awk '$1 ~ /^[0-9]+$/ { s += $4 } END { print s + 0 }'; }
committed() { EA group describe "$1" | awk -v t="$2" '$1 == t { s += $3 } END { print s + 0 }'; }
# denied WANT cmd...: the command fails and its output names WANT
denied() {
    local want=$1
    shift
    if "$@" >"$WORK/out" 2>&1; then fail "allowed: $* ($(cat "$WORK/out"))"; fi
    grep -q -- "$want" "$WORK/out" || fail "$*: want $want, got: $(head -c 2000 "$WORK/out")"
    [ "${E2E_VERBOSE:-0}" = 0 ] || { echo "---- $*" | cut -c1-160; grep -v "^SLF4J\|^\s*at " "$WORK/out" | head -n 4; } >&2
}

# ------------------------------------------------------------------ 1. users and ACLs
log "1. users and ACLs, set up by the admin (User:admin, PLAIN from the listener's JAAS text)"
EA topic create orders -p 2 >/dev/null || fail "admin: create orders"
EA topic create alice-events -p 1 >/dev/null || fail "admin: create alice-events"
EA topic create alice-locked -p 1 >/dev/null || fail "admin: create alice-locked"
EA topic create secret -p 1 >/dev/null || fail "admin: create secret"
echo "top secret" | EA topic produce secret 2>/dev/null || fail "admin: produce to secret"
EA topic consume secret -g g-admin -n 1 >/dev/null 2>&1 || fail "admin: consume secret in g-admin"

# Users: alice (both SCRAM mechanisms) and ops with eddy user; bob with kafka-configs.
EA user add alice --mechanism SCRAM-SHA-256 --password-stdin <<<'alice-secret' >/dev/null ||
    fail "eddy user add alice"
EA user add alice --mechanism SCRAM-SHA-512 --iterations 8192 --password 'alice-secret' >/dev/null ||
    fail "eddy user add alice SCRAM-SHA-512"
EA user add ops --mechanism SCRAM-SHA-512 --password 'ops-secret' >/dev/null || fail "eddy user add ops"
KTOOL kafka.admin.ConfigCommand --command-config "$WORK/admin-java.properties" --alter \
    --add-config 'SCRAM-SHA-256=[iterations=8192,password=bob-secret],SCRAM-SHA-512=[password=bob-secret]' \
    --entity-type users --entity-name bob >"$WORK/kcfg" 2>&1 || fail "kafka-configs --alter bob: $(cat "$WORK/kcfg")"
KTOOL kafka.admin.ConfigCommand --command-config "$WORK/admin-java.properties" --describe \
    --entity-type users >"$WORK/kcfg-describe" 2>&1 || fail "kafka-configs --describe: $(cat "$WORK/kcfg-describe")"
# What each tool set, as kafka-configs reads it back (the mechanisms in any order).
for want in "alice SCRAM-SHA-256=iterations=4096 SCRAM-SHA-512=iterations=8192" \
    "bob SCRAM-SHA-256=iterations=8192 SCRAM-SHA-512=iterations=4096"; do
    got=$(sed -n "s/^SCRAM credential configs for user-principal '${want%% *}' are //p" "$WORK/kcfg-describe" |
        tr -d ',' | tr ' ' '\n' | sort | tr '\n' ' ')
    [ "${want%% *} $got" = "$want " ] || fail "kafka-configs --describe: want $want, got: $(cat "$WORK/kcfg-describe")"
done
# ops is no super user: Alter and Describe on the cluster (kafka-acls --cluster) let ops manage
# users (Kafka's rule for the SCRAM credential APIs); ops adds carol.
denied CLUSTER_AUTHORIZATION_FAILED EU ops ops-secret SCRAM-SHA-512 user add carol --password 'carol-secret'
KTOOL org.apache.kafka.tools.AclCommand --command-config "$WORK/admin-java.properties" --add \
    --allow-principal User:ops --operation Alter --operation Describe --cluster >"$WORK/kacl" 2>&1 ||
    fail "kafka-acls --cluster: $(cat "$WORK/kacl")"
EU ops ops-secret SCRAM-SHA-512 user add carol --mechanism SCRAM-SHA-512 --password 'carol-secret' >/dev/null ||
    fail "ops adding carol"
EA user list >"$WORK/users" || fail "eddy user list"
for u in alice bob carol ops; do grep -q "^$u " "$WORK/users" || fail "eddy user list: no $u: $(cat "$WORK/users")"; done
log "   users: $(awk 'NR > 1 { printf "%s ", $0 }' "$WORK/users")"

# ACLs with eddy acl: alice's, and carol's for the streams app (application id wcapp).
EA acl add --allow --principal User:alice --operation write --topic orders >/dev/null || fail "acl alice write orders"
EA acl add --allow --principal User:alice --operation all --topic alice- --prefixed >/dev/null ||
    fail "acl alice prefixed"
EA acl add --deny --principal User:alice --operation write --topic alice-locked >/dev/null || fail "acl deny"
EA acl add --allow --principal User:carol --operation read --topic wc-lines >/dev/null || fail "acl carol read"
EA acl add --allow --principal User:carol --operation write --topic wc-counts >/dev/null || fail "acl carol write"
EA acl add --allow --principal User:carol --operation all --topic wcapp --prefixed >/dev/null ||
    fail "acl carol internal topics"
EA acl add --allow --principal User:carol --operation read --group wcapp --prefixed >/dev/null ||
    fail "acl carol group"
# ACLs with kafka-acls: bob consumes orders in g1 (Read and Describe on the topic, Read on
# the group); the mutual-TLS principal of alice's certificate reads orders.
KTOOL org.apache.kafka.tools.AclCommand --command-config "$WORK/admin-java.properties" --add \
    --allow-principal User:bob --consumer --topic orders --group g1 >"$WORK/kacl" 2>&1 ||
    fail "kafka-acls --consumer: $(cat "$WORK/kacl")"
KTOOL org.apache.kafka.tools.AclCommand --command-config "$WORK/admin-java.properties" --add \
    --allow-principal User:CN=alice --operation Read --topic orders >"$WORK/kacl" 2>&1 ||
    fail "kafka-acls --add CN=alice: $(cat "$WORK/kacl")"
EA acl list >"$WORK/acls0" || fail "eddy acl list"
grep -Eq "^Allow +User:bob +\* +Read +Group +LITERAL +g1$" "$WORK/acls0" &&
    grep -Eq "^Allow +User:bob +\* +Describe +Topic +LITERAL +orders$" "$WORK/acls0" &&
    grep -Eq "^Allow +User:CN=alice +\* +Read +Topic +LITERAL +orders$" "$WORK/acls0" &&
    grep -Eq "^Deny +User:alice +\* +Write +Topic +LITERAL +alice-locked$" "$WORK/acls0" ||
    fail "eddy acl list after kafka-acls: $(cat "$WORK/acls0")"
NACLS=$(grep -Ec "^(Allow|Deny) " "$WORK/acls0" || true)
[ "$NACLS" -ge 13 ] || fail "want at least 13 ACLs, got $NACLS: $(cat "$WORK/acls0")"
log "   $NACLS ACLs"

# ------------------------------------------------------------------ 2. produce and consume
log "2. alice produces, bob consumes in g1: kcat, eddy, kafkajs, Java; PLAIN, SCRAM-SHA-256/512"
TOTAL=0
# check_batch NAME FILE: FILE holds exactly the N values NAME-1..NAME-N, each once
check_batch() {
    local name=$1 file=$2 n=$3
    seq 1 "$n" | sed "s/^/$name-/" | sort >"$WORK/want"
    sort "$file" >"$WORK/got"
    cmp -s "$WORK/want" "$WORK/got" ||
        fail "$name: bob got $(wc -l <"$WORK/got") records, want $n once each: $(diff "$WORK/want" "$WORK/got" | head -n 5)"
    TOTAL=$((TOTAL + n))
}
N=40
for m in PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    seq 1 $N | sed "s/^/kcat-$m-/" | KC alice alice-secret "$m" -P -t orders >"$WORK/out" 2>&1 ||
        fail "kcat $m: alice produce: $(cat "$WORK/out")"
    KC bob bob-secret "$m" -G g1 orders -c $N -q -f '%s\n' -X auto.offset.reset=earliest \
        >"$WORK/got-kcat" 2>"$WORK/err" || fail "kcat $m: bob consume in g1: $(cat "$WORK/err")"
    check_batch "kcat-$m" "$WORK/got-kcat" $N
    [ "$(committed g1 orders)" = $TOTAL ] || fail "kcat $m: g1 committed $(committed g1 orders), want $TOTAL"
done
log "   kcat: 3 mechanisms, $TOTAL records"
for m in PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    seq 1 $N | sed "s/^/eddy-$m-/" | EU alice alice-secret "$m" topic produce orders >"$WORK/out" 2>&1 ||
        fail "eddy $m: alice produce: $(cat "$WORK/out")"
    EU bob bob-secret "$m" topic consume orders -g g1 -n $N >"$WORK/got-eddy" 2>"$WORK/err" ||
        fail "eddy $m: bob consume in g1: $(cat "$WORK/err")"
    check_batch "eddy-$m" "$WORK/got-eddy" $N
    [ "$(committed g1 orders)" = $TOTAL ] || fail "eddy $m: g1 committed $(committed g1 orders), want $TOTAL"
done
log "   eddy CLI: 3 mechanisms, $TOTAL records"

cat >"$WORK/e2e.js" <<'EOF'
// alice produces N records with each mechanism, bob reads them back in group g1.
const fs = require('fs');
const { Kafka, logLevel } = require('kafkajs');
const [addr, ca, n] = [process.argv[2], process.argv[3], parseInt(process.argv[4], 10)];
const client = (mechanism, username, password) => new Kafka({
  clientId: 'e2e-' + username, brokers: [addr], logLevel: logLevel.NOTHING,
  ssl: { ca: [fs.readFileSync(ca)] }, sasl: { mechanism, username, password },
});
async function main() {
  for (const m of ['plain', 'scram-sha-256', 'scram-sha-512']) {
    const producer = client(m, 'alice', 'alice-secret').producer();
    await producer.connect();
    const messages = [];
    for (let i = 1; i <= n; i++) messages.push({ value: `kafkajs-${m}-${i}` });
    await producer.send({ topic: 'orders', messages });
    await producer.disconnect();
    const consumer = client(m, 'bob', 'bob-secret').consumer({ groupId: 'g1', sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    let got = 0;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${m}: only ${got} of ${n}`)), 30000);
      consumer.run({ eachMessage: async ({ message }) => {
        console.log(message.value.toString());
        if (++got === n) { clearTimeout(timer); resolve(); }
      } }).catch(reject);
    });
    await consumer.disconnect();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e.stack || String(e)); process.exit(1); });
EOF
T node "$WORK/e2e.js" "$BS" "$CA" $N >"$WORK/got-js" 2>"$WORK/err" || fail "kafkajs: $(cat "$WORK/err")"
for m in plain scram-sha-256 scram-sha-512; do
    grep "^kafkajs-$m-" "$WORK/got-js" >"$WORK/got-js-$m" || true
    check_batch "kafkajs-$m" "$WORK/got-js-$m" $N
done
[ "$(wc -l <"$WORK/got-js")" = $((3 * N)) ] || fail "kafkajs: bob read records of other batches: $(grep -v '^kafkajs' "$WORK/got-js" | head -n 3)"
[ "$(committed g1 orders)" = $TOTAL ] || fail "kafkajs: g1 committed $(committed g1 orders), want $TOTAL"
log "   kafkajs: 3 mechanisms, $TOTAL records"

mkdir -p "$WORK/java"
cat >"$WORK/java/E2e.java" <<'EOF'
import java.io.FileReader;
import java.time.Duration;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.*;

// java E2e BOOTSTRAP CA N: alice produces N records to orders with each mechanism (idempotent,
// acks=all: Kafka's defaults), bob reads them in group g1 and commits; prints what bob read.
public class E2e {
    static Properties props(String bs, String ca, String mech, String user, String pass) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bs);
        p.put("security.protocol", "SASL_SSL");
        p.put("sasl.mechanism", mech);
        String module = mech.equals("PLAIN") ? "plain.PlainLoginModule" : "scram.ScramLoginModule";
        p.put("sasl.jaas.config", "org.apache.kafka.common.security." + module
              + " required username=\"" + user + "\" password=\"" + pass + "\";");
        p.put("ssl.truststore.type", "PEM");
        p.put("ssl.truststore.location", ca);
        return p;
    }
    public static void main(String[] a) throws Exception {
        int n = Integer.parseInt(a[2]);
        for (String mech : new String[] {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
            Properties pp = props(a[0], a[1], mech, "alice", "alice-secret");
            try (Producer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
                for (int i = 1; i <= n; i++) p.send(new ProducerRecord<>("orders", "java-" + mech + "-" + i)).get();
            }
            Properties cp = props(a[0], a[1], mech, "bob", "bob-secret");
            cp.put("group.id", "g1");
            cp.put("auto.offset.reset", "earliest");
            cp.put("enable.auto.commit", "false");
            cp.put("session.timeout.ms", "6000");
            try (Consumer<String, String> c = new KafkaConsumer<>(cp, new StringDeserializer(), new StringDeserializer())) {
                c.subscribe(List.of("orders"));
                int got = 0;
                long end = System.currentTimeMillis() + 30000;
                while (got < n && System.currentTimeMillis() < end) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
                        System.out.println(r.value());
                        got++;
                    }
                }
                c.commitSync();
                if (got < n) throw new IllegalStateException(mech + ": only " + got + " of " + n);
            }
        }
        // Mutual TLS on the SSL listener: alice's certificate (PKCS#12: Java 17 cannot read the
        // PBES2-encrypted key of the PEM keystore) is
        // User:CN=alice, who may read orders; no group, so assign the partitions.
        Properties tp = new Properties();
        tp.put("bootstrap.servers", a[3]);
        tp.put("security.protocol", "SSL");
        tp.put("ssl.truststore.type", "PEM");
        tp.put("ssl.truststore.location", a[1]);
        tp.put("ssl.keystore.type", "PKCS12");
        tp.put("ssl.keystore.location", a[4]);
        tp.put("ssl.keystore.password", "eddy-test-pass");
        try (Consumer<String, String> c = new KafkaConsumer<>(tp, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = List.of(new TopicPartition("orders", 0), new TopicPartition("orders", 1));
            c.assign(tps);
            c.seekToBeginning(tps);
            long want = 0;
            for (long e : c.endOffsets(tps).values()) want += e;
            long got = 0, end = System.currentTimeMillis() + 30000;
            while (got < want && System.currentTimeMillis() < end) got += c.poll(Duration.ofMillis(500)).count();
            System.out.println("mtls " + got + " of " + want);
        }
    }
}
EOF
T javac -cp "$SRC/tests/kafka/lib/*" -d "$WORK/java" "$WORK/java/E2e.java" 2>"$WORK/err" || fail "javac: $(cat "$WORK/err")"
T java -Xmx256m -cp "$WORK/java:$SRC/tests/kafka/lib/*" -Dorg.slf4j.simpleLogger.defaultLogLevel=error E2e "$BS" "$CA" $N \
    "127.0.0.1:$SSL_PORT" "$WORK/certs/client.p12" \
    >"$WORK/got-java" 2>"$WORK/err" || fail "Java clients: $(tail -n 20 "$WORK/err")"
for m in PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    grep "^java-$m-" "$WORK/got-java" >"$WORK/got-java-$m" || true
    check_batch "java-$m" "$WORK/got-java-$m" $N
done
[ "$(grep -c "^java-" "$WORK/got-java")" = $((3 * N)) ] && [ "$(grep -vc "^java-" "$WORK/got-java")" = 1 ] ||
    fail "Java: bob read records of other batches: $(grep -v '^java' "$WORK/got-java" | head -n 3)"
grep -qx "mtls $TOTAL of $TOTAL" "$WORK/got-java" ||
    fail "Java over mutual TLS as User:CN=alice: $(grep '^mtls' "$WORK/got-java"), want $TOTAL"
[ "$(committed g1 orders)" = $TOTAL ] || fail "Java: g1 committed $(committed g1 orders), want $TOTAL"
[ "$(ends orders)" = $TOTAL ] || fail "orders holds $(ends orders) records, $TOTAL were produced"
log "   Java producer and consumer: 3 mechanisms; orders holds $TOTAL records, g1 committed all"

# Mutual TLS: alice's certificate is the principal User:CN=alice, which may read orders
# (and nothing else); no certificate, no connection.
SSLC=(-X security.protocol=ssl -X "ssl.ca.location=$CA")
T kcat -b "127.0.0.1:$SSL_PORT" "${SSLC[@]}" -X "ssl.certificate.location=$WORK/certs/client.pem" \
    -X "ssl.key.location=$WORK/certs/client.key" -C -t orders -e -q >"$WORK/got-mtls" 2>"$WORK/err" ||
    fail "User:CN=alice reading orders over SSL: $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/got-mtls")" = $TOTAL ] || fail "User:CN=alice read $(wc -l <"$WORK/got-mtls") of $TOTAL"
if T kcat -b "127.0.0.1:$SSL_PORT" "${SSLC[@]}" -X "ssl.certificate.location=$WORK/certs/client.pem" \
    -X "ssl.key.location=$WORK/certs/client.key" -P -t orders <<<"x" >"$WORK/out" 2>&1; then
    fail "User:CN=alice wrote to orders"
fi
grep -qi "authoriz" "$WORK/out" || fail "User:CN=alice writing orders: $(cat "$WORK/out")"
log "   mutual TLS: User:CN=alice reads orders, may not write"

ALICE=(alice alice-secret SCRAM-SHA-512)
ALICE0=(alice alice-secret SCRAM-SHA-256)
BOB=(bob bob-secret SCRAM-SHA-256)
# ------------------------------------------------------------------ 3. changes
log "3. changes take effect at once: a revoked ACL on an open connection, credentials"
# A consumer that stays connected as User:CN=alice sees a record; the admin removes its ACL
# with kafka-acls; the next Fetch of the same connection is refused (Kafka authorizes each
# request, not each connection), and the record produced after that is not delivered.
T kcat -b "127.0.0.1:$SSL_PORT" "${SSLC[@]}" -X "ssl.certificate.location=$WORK/certs/client.pem" \
    -X "ssl.key.location=$WORK/certs/client.key" -C -t orders -o end -q -u >"$WORK/live" 2>"$WORK/live.err" &
LIVE_PID=$!
bg_started $LIVE_PID
# It starts at the end: records go out until one of them reaches it.
for i in $(seq 1 100); do
    echo "live-$i" | KC "${ALICE0[@]}" -P -t orders -p 0 2>/dev/null || fail "alice producing live-$i"
    grep -q "^live-" "$WORK/live" && break
    sleep 0.1
done
grep -q "^live-" "$WORK/live" || fail "the mutual-TLS consumer got nothing: $(cat "$WORK/live.err")"
KTOOL org.apache.kafka.tools.AclCommand --command-config "$WORK/admin-java.properties" --remove --force \
    --allow-principal User:CN=alice --operation Read --topic orders >"$WORK/kacl" 2>&1 ||
    fail "kafka-acls --remove: $(cat "$WORK/kacl")"
wait_log "Principal = User:CN=alice is Denied operation = Read"
echo "after-revoke" | KC "${ALICE0[@]}" -P -t orders -p 0 2>/dev/null || fail "alice producing after-revoke"
NACLS=$((NACLS - 1))
[ "$(EA acl list | grep -Ec "^(Allow|Deny) ")" = "$NACLS" ] || fail "kafka-acls --remove: $(EA acl list)"
# A negative: give the consumer a few fetch rounds (librdkafka backs off 500 ms on an error).
for _ in $(seq 1 15); do
    grep -q "^after-revoke" "$WORK/live" && fail "a revoked consumer got a record"
    sleep 0.1
done
grep -q "Topic authorization failed" "$WORK/live.err" || fail "the revoked consumer was not told: $(cat "$WORK/live.err")"
kill -TERM $LIVE_PID 2>/dev/null || true
wait $LIVE_PID 2>/dev/null || true
bg_done $LIVE_PID
grep -q "^after-revoke" "$WORK/live" && fail "a revoked consumer got a record"
# bob's group g1 reads what was produced meanwhile, and is at the end again.
EU "${BOB[@]}" topic consume orders -g g1 -n $((i + 1)) >"$WORK/got-live" 2>"$WORK/err" ||
    fail "bob consuming the live records: $(cat "$WORK/err")"
{ seq 1 "$i" | sed 's/^/live-/'; echo after-revoke; } | sort >"$WORK/want"
sort "$WORK/got-live" | cmp -s - "$WORK/want" || fail "bob read $(cat "$WORK/got-live")"
TOTAL=$(ends orders)
[ "$(committed g1 orders)" = "$TOTAL" ] || fail "g1 committed $(committed g1 orders), want $TOTAL"
# Credentials: bob loses SCRAM-SHA-512 (kafka-configs); SCRAM-SHA-256 and PLAIN (checked
# against what is left) still let him in. alice's SCRAM-SHA-256 password changes (eddy user
# add again): the old one is refused, the new one works.
KTOOL kafka.admin.ConfigCommand --command-config "$WORK/admin-java.properties" --alter \
    --delete-config SCRAM-SHA-512 --entity-type users --entity-name bob >"$WORK/kcfg" 2>&1 ||
    fail "kafka-configs --delete-config: $(cat "$WORK/kcfg")"
denied SASL_AUTHENTICATION_FAILED EU bob bob-secret SCRAM-SHA-512 topic list
EU bob bob-secret SCRAM-SHA-256 topic list >/dev/null || fail "bob SCRAM-SHA-256 after the delete"
EU bob bob-secret PLAIN topic list >/dev/null || fail "bob PLAIN after deleting his SCRAM-SHA-512"
EA user add alice --mechanism SCRAM-SHA-256 --password 'alice-new' >/dev/null || fail "changing alice's password"
denied SASL_AUTHENTICATION_FAILED EU alice alice-secret SCRAM-SHA-256 topic list
EU alice alice-new SCRAM-SHA-256 topic list >/dev/null || fail "alice's new SCRAM-SHA-256 password"
EU alice alice-secret SCRAM-SHA-512 topic list >/dev/null || fail "alice's SCRAM-SHA-512 password changed too"
EA user list >"$WORK/users" || fail "eddy user list"
grep -q "^bob .*SCRAM-SHA-512" "$WORK/users" && fail "bob still has SCRAM-SHA-512: $(cat "$WORK/users")"
log "   revoked ACL applies to an open connection; deleted and changed credentials apply"

# ------------------------------------------------------------------ 4. refusals
log "4. refusals, each with Kafka's error, nothing changed"
ENDS=$(ends orders)
G1=$(committed g1 orders)
# An idempotent producer (Eddy's default, as Kafka's) is refused its producer id first: bob may
# write no topic (Kafka: CLUSTER_AUTHORIZATION_FAILED); without idempotence, the Produce itself.
# The reason reaches the producer's delivery reports (the CLI's last line), not only the log.
denied "records not delivered (CLUSTER_AUTHORIZATION_FAILED)" EU "${BOB[@]}" topic produce orders <<<"bob was here"
denied "records not delivered (TOPIC_AUTHORIZATION_FAILED)" \
    EU "${BOB[@]}" -X enable.idempotence=false topic produce orders <<<"bob was here"
if KC "${BOB[@]}" -P -t orders <<<"bob was here" >"$WORK/out" 2>&1; then fail "kcat: bob wrote to orders"; fi
grep -q "Topic authorization failed" "$WORK/out" || fail "kcat bob producing: $(cat "$WORK/out")"
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic consume orders -n 1
denied GROUP_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic consume orders -g g1 -n 1
denied GROUP_AUTHORIZATION_FAILED EU "${ALICE[@]}" group reset-offsets g1 --topic orders --to-earliest --execute
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic create payments -p 1
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic delete orders
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic produce alice-locked <<<"x" # Deny over prefixed Allow
denied TOPIC_AUTHORIZATION_FAILED EU "${BOB[@]}" topic alter orders -c retention.ms=1000
denied CLUSTER_AUTHORIZATION_FAILED EU "${ALICE[@]}" user add mallory --mechanism SCRAM-SHA-256 --password x
denied CLUSTER_AUTHORIZATION_FAILED EU "${BOB[@]}" acl add --allow --principal User:bob --operation all --topic secret
jprops "$WORK/alice-java-256.properties" alice alice-new SCRAM-SHA-256
denied ClusterAuthorizationException KTOOL kafka.admin.ConfigCommand --command-config "$WORK/alice-java-256.properties" \
    --alter --add-config 'SCRAM-SHA-256=[password=mallory]' --entity-type users --entity-name mallory
# What alice owns through the prefix works.
echo "event" | EU "${ALICE[@]}" topic produce alice-events 2>/dev/null || fail "alice producing to alice-events"
EU "${ALICE[@]}" topic create alice-new -p 1 >/dev/null || fail "alice creating alice-new (prefixed All)"
[ "$(EU "${ALICE[@]}" topic consume alice-events -n 1 -e)" = event ] || fail "alice reading alice-events"
# Bob sees only what he may describe.
EU "${BOB[@]}" topic list >"$WORK/bob-topics" || fail "bob: topic list"
[ "$(awk 'NR > 1 || $1 != "NAME" { print $1 }' "$WORK/bob-topics" | grep -v '^NAME$' | tr '\n' ' ')" = "orders " ] ||
    fail "bob's topic list: $(cat "$WORK/bob-topics")"
# Groups as bob: he lists and describes g1 (Read on it implies Describe), and no other group.
EU "${BOB[@]}" group list >"$WORK/bob-groups" || fail "bob: group list"
EA group list >"$WORK/all-groups" || fail "admin: group list"
[ "$(awk 'NR > 1 { print $1 }' "$WORK/bob-groups" | tr '\n' ' ')" = "g1 " ] && [ "$(grep -c . "$WORK/all-groups")" -gt 2 ] ||
    fail "bob's group list: $(cat "$WORK/bob-groups") (all: $(cat "$WORK/all-groups"))"
[ "$(EU "${BOB[@]}" group describe g1 | awk -v t=orders '$1 == t { s += $3 } END { print s + 0 }')" = "$G1" ] ||
    fail "bob describing g1: $(EU "${BOB[@]}" group describe g1 2>&1)"
# Kafka's tools as bob: kafka-topics lists what he may describe; kafka-consumer-groups describes
# his group, caught up; as alice (no Describe on g1) it is refused.
KTOOL org.apache.kafka.tools.TopicCommand --command-config "$WORK/bob-java.properties" --list \
    >"$WORK/ktopics" 2>"$WORK/err" || fail "kafka-topics --list as bob: $(cat "$WORK/err")"
[ "$(tr '\n' ' ' <"$WORK/ktopics")" = "orders " ] || fail "kafka-topics --list as bob: $(cat "$WORK/ktopics")"
KTOOL org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --command-config "$WORK/bob-java.properties" \
    --describe --group g1 >"$WORK/kgroups" 2>"$WORK/err" || fail "kafka-consumer-groups as bob: $(cat "$WORK/err")"
[ "$(awk '$1 == "g1" && $2 == "orders" { n++; lag += $6 } END { print n + 0, lag + 0 }' "$WORK/kgroups")" = "2 0" ] ||
    fail "kafka-consumer-groups --describe g1 as bob: $(cat "$WORK/kgroups")"
jprops "$WORK/alice-java-512.properties" alice alice-secret SCRAM-SHA-512
# (kafka-consumer-groups prints the error and exits 0 all the same)
KTOOL org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --command-config "$WORK/alice-java-512.properties" \
    --describe --group g1 >"$WORK/out" 2>&1 || true
grep -q "GroupAuthorizationException" "$WORK/out" && ! grep -q "^g1 " "$WORK/out" ||
    fail "kafka-consumer-groups --describe g1 as alice: $(cat "$WORK/out")"
# Nothing changed.
[ "$(ends orders)" = "$ENDS" ] || fail "orders: end $(ends orders), was $ENDS"
[ "$(committed g1 orders)" = "$G1" ] || fail "g1: committed $(committed g1 orders), was $G1"
EA topic describe orders | grep -q "retention.ms *1000" && fail "bob's alter reached orders"
EA topic list | grep -q "^payments " && fail "alice created payments"
EA user list | grep -q "^mallory " && fail "mallory was added"
[ "$(EA acl list | grep -Ec "^(Allow|Deny) ")" = "$NACLS" ] || fail "the ACLs changed: $(EA acl list)"
log "   bob producing, alice consuming / in g1 / creating / deleting / on alice-locked, bob altering,"
log "   users and ACLs by non-admins: refused; bob lists only orders; nothing changed"

# Logins that fail.
denied SASL_AUTHENTICATION_FAILED EU alice wrong-password SCRAM-SHA-512 topic list
denied SASL_AUTHENTICATION_FAILED EU mallory whatever SCRAM-SHA-256 topic list
denied SASL_AUTHENTICATION_FAILED EU bob wrong-password PLAIN topic list
if KC alice nope SCRAM-SHA-256 -L -m 2 >"$WORK/out" 2>&1; then fail "kcat logged in with a wrong password"; fi
grep -qi "authentication failed" "$WORK/out" || fail "kcat wrong password: $(cat "$WORK/out")"
# Protocol mix-ups are closed; the broker goes on serving.
if T kcat -b "$BS" -L -m 2 >"$WORK/out" 2>&1; then fail "a plaintext client got Metadata from the SASL_SSL port"; fi
denied "the broker closed the connection without answering ApiVersions (is this port a TLS listener?" \
    T "$EDDY" -b "$BS" topic list
# TLS without SASL on the SASL_SSL port: ApiVersions is answered, Metadata before a login closes.
if T kcat -b "$BS" "${SSLC[@]}" -L -m 2 >"$WORK/out" 2>&1; then fail "a TLS client without SASL got Metadata"; fi
if T kcat -b "127.0.0.1:$PLAIN_PORT" "${SSLC[@]}" -L -m 2 >"$WORK/out" 2>&1; then
    fail "a TLS client got Metadata from the PLAINTEXT port"
fi
if T kcat -b "127.0.0.1:$SSL_PORT" "${SSLC[@]}" -L -m 2 >"$WORK/out" 2>&1; then
    fail "a client without a certificate got Metadata from the SSL port (ssl.client.auth=required)"
fi
for line in "on listener SASL_SSL (SASL_SSL): the client does not speak TLS" \
    "a TLS client on a plaintext listener?" "the client sent no certificate, and this server requires one" \
    "before the SASL login (only ApiVersions, SaslHandshake and SaslAuthenticate are served"; do
    wait_log "$line"
done
# PLAINTEXT is User:ANONYMOUS, who has no ACL.
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" -b "127.0.0.1:$PLAIN_PORT" topic produce orders <<<"anon"
broker_alive
EA topic list | grep -q "^orders " || fail "the broker does not serve the admin any more"
[ "$(ends orders)" = "$ENDS" ] || fail "orders: end $(ends orders), was $ENDS"
log "   wrong passwords, unknown user, plaintext/TLS mix-ups, anonymous: refused; broker serving"

# ------------------------------------------------------------------ 5. a streams app
log "5. word count as carol (SCRAM-SHA-512) over SASL_SSL"
EA topic create wc-lines -p 2 >/dev/null || fail "create wc-lines"
EA topic create wc-counts -p 2 >/dev/null || fail "create wc-counts"
corpus() { # SEED: 600 lines
    awk -v seed="$1" 'BEGIN { srand(seed); split("order paid shipped alice bob carol kafka eddy stream count", v, " ");
        for (i = 0; i < 600; i++) { l = ""; for (j = 0; j < 2 + int(rand() * 6); j++)
            l = l (j ? " " : "") v[1 + int(rand() * rand() * 10)]; print l } }'
}
reference() { # FILE...: the word count of the lines, as the example defines a word
    cat "$@" | tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' |
        awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
corpus 18 >"$WORK/corpus"
reference "$WORK/corpus" >"$WORK/ref"
EA topic produce wc-lines <"$WORK/corpus" 2>/dev/null || fail "produce the corpus"
latest() {
    EA topic consume wc-counts -o beginning -e -f '%k %v\n' --value-format int64 2>/dev/null |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}
"$WC" --input wc-lines --output wc-counts -X "bootstrap.servers=$BS" -X security.protocol=SASL_SSL \
    -X "ssl.ca.location=$CA" -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=carol \
    -X sasl.password=carol-secret -X application.id=wcapp -X "state.dir=$WORK/state" \
    -X commit.interval.ms=300 -X session.timeout.ms=6000 >"$WORK/wc.log" 2>&1 </dev/null &
WC_PID=$!
bg_started $WC_PID
for _ in $(seq 1 60); do
    latest >"$WORK/got"
    cmp -s "$WORK/got" "$WORK/ref" && break
    kill -0 $WC_PID 2>/dev/null || { tail -n 20 "$WORK/wc.log" >&2; fail "wordcount as carol exited"; }
    sleep 1
done
cmp -s "$WORK/got" "$WORK/ref" || { diff "$WORK/ref" "$WORK/got" | head >&2; tail -n 20 "$WORK/wc.log" >&2
    fail "wordcount as carol: counts differ from the awk model"; }
EA topic list | awk '{ print $1 }' | grep -q '^wcapp-.*-repartition$' || fail "no wcapp repartition topic: $(EA topic list)"
denied TOPIC_AUTHORIZATION_FAILED EU carol carol-secret SCRAM-SHA-512 topic consume orders -n 1
log "   counts equal the awk model ($(wc -l <"$WORK/ref") words); carol may not read orders; it keeps running"

# ------------------------------------------------------------------ 6. restart
log "6. restart: users, ACLs, offsets and data survive; the refusals hold"
EA acl list | sort >"$WORK/acls1" || fail "eddy acl list"
stop_broker
broker
EA user list >"$WORK/users2" || fail "eddy user list after the restart"
cmp -s "$WORK/users" "$WORK/users2" || fail "users changed: $(diff "$WORK/users" "$WORK/users2")"
EA acl list | sort >"$WORK/acls2" || fail "eddy acl list after the restart"
[ "$(grep -Ec "^(Allow|Deny) " "$WORK/acls2")" = "$NACLS" ] && cmp -s "$WORK/acls1" "$WORK/acls2" ||
    fail "ACLs changed across the restart: $(diff "$WORK/acls1" "$WORK/acls2")"
[ "$(ends orders)" = "$ENDS" ] || fail "orders after the restart: $(ends orders), want $ENDS"
[ "$(committed g1 orders)" = "$G1" ] || fail "g1 after the restart: $(committed g1 orders), want $G1"
latest >"$WORK/got"
cmp -s "$WORK/got" "$WORK/ref" || fail "word counts changed across the restart"
# Word count ran on through the restart: it logs in again and counts what comes now.
corpus 19 >"$WORK/corpus2"
reference "$WORK/corpus" "$WORK/corpus2" >"$WORK/ref2"
EA topic produce wc-lines <"$WORK/corpus2" 2>/dev/null || fail "produce the second corpus"
for _ in $(seq 1 60); do
    latest >"$WORK/got"
    cmp -s "$WORK/got" "$WORK/ref2" && break
    kill -0 $WC_PID 2>/dev/null || { tail -n 20 "$WORK/wc.log" >&2; fail "wordcount exited across the restart"; }
    sleep 1
done
cmp -s "$WORK/got" "$WORK/ref2" || { diff "$WORK/ref2" "$WORK/got" | head >&2; tail -n 20 "$WORK/wc.log" >&2
    fail "wordcount across the broker restart: counts differ from the awk model"; }
kill -TERM $WC_PID
timeout 30 tail --pid=$WC_PID -f /dev/null || fail "wordcount did not stop within 30 s of SIGTERM"
rc=0
wait $WC_PID || rc=$?
bg_done $WC_PID
[ $rc = 0 ] || { tail -n 20 "$WORK/wc.log" >&2; fail "wordcount exited $rc after SIGTERM"; }
log "   word count, running through the restart, counted the new lines exactly"
TOTAL=$ENDS
seq 1 $N | sed "s/^/after-/" | KC "${ALICE[@]}" -P -t orders >"$WORK/out" 2>&1 ||
    fail "alice producing after the restart: $(cat "$WORK/out")"
EU "${BOB[@]}" topic consume orders -g g1 -n $N >"$WORK/got-after" 2>"$WORK/err" ||
    fail "bob consuming after the restart: $(cat "$WORK/err")"
check_batch after "$WORK/got-after" $N
ENDS=$(ends orders)
denied TOPIC_AUTHORIZATION_FAILED EU "${BOB[@]}" -X enable.idempotence=false topic produce orders <<<"bob again"
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic consume orders -n 1
denied GROUP_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic consume orders -g g1 -n 1
denied TOPIC_AUTHORIZATION_FAILED EU "${ALICE[@]}" topic produce alice-locked <<<"x"
denied CLUSTER_AUTHORIZATION_FAILED EU "${ALICE[@]}" user add mallory --mechanism SCRAM-SHA-256 --password x
denied SASL_AUTHENTICATION_FAILED EU alice alice-secret SCRAM-SHA-256 topic list # the old password
denied SASL_AUTHENTICATION_FAILED EU bob bob-secret SCRAM-SHA-512 topic list      # deleted
EU alice alice-new SCRAM-SHA-256 topic list >/dev/null || fail "alice's new password after the restart"
[ "$(ends orders)" = "$ENDS" ] || fail "orders changed by a refused produce after the restart"
stop_broker
log "PASS: $TOTAL records through 4 clients x 3 mechanisms, refusals, streams, restart"
