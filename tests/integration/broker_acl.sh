#!/usr/bin/env bash
# Authorization end to end, on the principal every PLAINTEXT connection has
# (User:ANONYMOUS, a real principal in Kafka):
#  1. admin: the broker starts with super.users=User:ANONYMOUS; topics, data,
#     committed offsets, and ACLs for User:ANONYMOUS are set up with
#     `eddy acl add`, and Kafka's own kafka-acls tool adds, lists and removes
#     ACLs on Eddy (literal and prefixed).
#  2. restart without super.users: the ACLs survived; each denied operation
#     (produce, fetch (also of a write-only topic), create and delete topic, join and commit, describe,
#     reset-offsets, app reset, ACL listing) gets its Kafka error; a prefixed
#     ALLOW works and a literal DENY beats it; Metadata (eddy topic list,
#     kcat -L) and ListGroups hide what may not be described.
#  3. restart as super user: nothing a denied request touched changed (end
#     offsets, committed offsets, the topics).
#  4. a damaged ACL file stops the start with a sentence.
#   broker_acl.sh EDDY [KAFKA_SH]   (no KAFKA_SH or no jars: step 1 skips kafka-acls, said so)
set -euo pipefail
EDDY=${1:?usage: broker_acl.sh EDDY [KAFKA_SH]}
KAFKA_SH=${2:-}
WORK=$(mktemp -d /tmp/eddy-acl-XXXXXX)
BROKER_PID=""
cleanup() {
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [broker_acl]: $*" >&2; tail -n 20 "$WORK/broker.log" >&2 || true; exit 1; }
T() { timeout -k 5 60 "$@"; }
AUTH=(--set authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
      --set group.initial.rebalance.delay.ms=0)

start() {
    : > "$WORK/broker.log"
    "$EDDY" broker --data-dir "$WORK/data" --listen "127.0.0.1:${PORT:-0}" "${AUTH[@]}" "$@" \
        >> "$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    local p=""
    for _ in $(seq 1 200); do
        p=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/broker.log" 2>/dev/null || true)
        [ -n "$p" ] && break
        kill -0 "$BROKER_PID" 2>/dev/null || fail "broker exited: $(cat "$WORK/broker.log")"
        sleep 0.05
    done
    [ -n "$p" ] || fail "broker did not start"
    PORT=$p
    export EDDY_BOOTSTRAP_SERVER=127.0.0.1:$PORT
}
stop() {
    kill "$BROKER_PID"
    wait "$BROKER_PID" || true
    BROKER_PID=""
}
# The sum of a topic's end offsets (eddy topic describe: column END).
ends() { T "$EDDY" topic describe "$1" | awk '$1 ~ /^[0-9]+$/ { s += $4 } END { print s + 0 }'; }
# The sum of a group's committed offsets.
committed() { T "$EDDY" group describe "$1" | awk '$1 == "open" { s += $3 } END { print s + 0 }'; }
# Runs a command that must fail with a Kafka error named in its output.
denied() {
    local want=$1
    shift
    if "$@" > "$WORK/out" 2>&1; then fail "allowed: $* ($(cat "$WORK/out"))"; fi
    grep -q "$want" "$WORK/out" || fail "$*: want $want, got: $(cat "$WORK/out")"
}

# ---- 1. as super user ----
start --set super.users=User:ANONYMOUS
for t in open secret app-1 app-locked wo; do
    T "$EDDY" topic create "$t" -p 2 > /dev/null
    seq 1 10 | T "$EDDY" topic produce "$t" 2> /dev/null
done
T "$EDDY" topic consume open -g g-allowed -n 5 > /dev/null
T "$EDDY" topic consume open -g g-denied -n 7 > /dev/null
SECRET_END=$(ends secret)
LOCKED_END=$(ends app-locked)
DENIED_COMMITTED=$(committed g-denied)
[ "$SECRET_END" = 10 ] && [ "$DENIED_COMMITTED" = 7 ] ||
    fail "setup: secret end $SECRET_END, g-denied committed $DENIED_COMMITTED"
A=(--principal User:ANONYMOUS)
T "$EDDY" acl add --allow "${A[@]}" --operation read --operation write --topic open > /dev/null
T "$EDDY" acl add --allow "${A[@]}" --operation all --topic app- --prefixed > /dev/null
T "$EDDY" acl add --deny "${A[@]}" --operation write --topic app-locked > /dev/null
T "$EDDY" acl add --allow "${A[@]}" --operation read --group g-allowed > /dev/null
T "$EDDY" acl add --allow "${A[@]}" --operation write --topic wo > /dev/null # write-only
[ "$(T "$EDDY" acl list | grep -c ANONYMOUS)" = 6 ] || fail "acl list: $(T "$EDDY" acl list)"
T "$EDDY" acl list --topic app- --prefixed | grep -q "Allow .*All .*PREFIXED *app-$" ||
    fail "acl list --prefixed: $(T "$EDDY" acl list --topic app- --prefixed)"
# Wrong input is refused with Kafka's error and stores nothing.
denied INVALID_REQUEST T "$EDDY" acl add --allow --principal User: --operation read --topic x
[ "$(T "$EDDY" acl list | grep -c ANONYMOUS)" = 6 ] || fail "a refused add stored something"

if [ -n "$KAFKA_SH" ] && ls "$(dirname "$KAFKA_SH")/../tests/kafka/lib/"kafka-tools-*.jar > /dev/null 2>&1; then
    K=(env KAFKA_HEAP=256m timeout -k 5 120 "$KAFKA_SH" class org.apache.kafka.tools.AclCommand
       --bootstrap-server "127.0.0.1:$PORT")
    "${K[@]}" --add --allow-principal User:alice --operation Read --operation Describe \
        --group 'team-' --resource-pattern-type prefixed > "$WORK/k1" 2>&1 || fail "kafka-acls --add: $(cat "$WORK/k1")"
    T "$EDDY" acl list --group team- --prefixed | grep -q "User:alice .*Read .*Group .*PREFIXED" ||
        fail "kafka-acls --add did not reach Eddy: $(T "$EDDY" acl list)"
    "${K[@]}" --list > "$WORK/k2" 2>&1 || fail "kafka-acls --list: $(cat "$WORK/k2")"
    grep -q "resourceType=GROUP, name=team-, patternType=PREFIXED" "$WORK/k2" &&
        grep -q "principal=User:ANONYMOUS, host=\*, operation=WRITE, permissionType=DENY" "$WORK/k2" ||
        fail "kafka-acls --list: $(cat "$WORK/k2")"
    "${K[@]}" --remove --force --allow-principal User:alice --operation Read --group 'team-' \
        --resource-pattern-type prefixed > "$WORK/k3" 2>&1 || fail "kafka-acls --remove: $(cat "$WORK/k3")"
    [ "$(T "$EDDY" acl list --group team- --prefixed | grep -c alice)" = 1 ] ||
        fail "kafka-acls --remove: want only Describe left: $(T "$EDDY" acl list)"
    T "$EDDY" acl delete --group team- --prefixed > /dev/null
else
    echo "broker_acl: kafka-acls part skipped (no Kafka jars)"
fi
stop

# ---- 2. without super.users: the ACLs from the file decide ----
start
# Allowed: literal and prefixed.
seq 1 3 | T "$EDDY" topic produce open 2> /dev/null || fail "produce to open refused"
seq 1 3 | T "$EDDY" topic produce app-1 2> /dev/null || fail "produce to app-1 (prefixed ALLOW) refused"
[ "$(T "$EDDY" topic consume app-1 -n 13 -e | wc -l)" = 13 ] || fail "fetch app-1"
T "$EDDY" topic create app-new -p 1 > /dev/null || fail "create app-new (prefixed ALL)"
T "$EDDY" topic consume open -g g-allowed -n 3 > /dev/null || fail "group g-allowed"
# Denied, each with its error.
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic produce secret <<< "x"
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic produce app-locked <<< "x" # DENY over prefixed ALLOW
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic consume secret -n 1
# Write implies Describe (Metadata answers) but not Read: the Fetch itself is refused.
seq 1 2 | T "$EDDY" topic produce wo 2> /dev/null || fail "produce to wo (write-only) refused"
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic consume wo -n 1
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic describe secret
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic create newt -p 1
denied TOPIC_AUTHORIZATION_FAILED T "$EDDY" topic delete secret
denied GROUP_AUTHORIZATION_FAILED T "$EDDY" topic consume open -g g-denied -n 1
denied GROUP_AUTHORIZATION_FAILED T "$EDDY" group describe g-denied
denied GROUP_AUTHORIZATION_FAILED T "$EDDY" group reset-offsets g-denied --topic open --to-earliest --execute
denied GROUP_AUTHORIZATION_FAILED T "$EDDY" group delete g-denied
denied GROUP_AUTHORIZATION_FAILED T "$EDDY" app reset --application-id g-denied --input-topics open --to-earliest
denied CLUSTER_AUTHORIZATION_FAILED T "$EDDY" acl list
denied CLUSTER_AUTHORIZATION_FAILED T "$EDDY" acl add --allow "${A[@]}" --operation all --topic secret
# A third-party client sees the same refusals.
if kcat -b "127.0.0.1:$PORT" -P -t secret <<< "x" > "$WORK/kc" 2>&1; then
    fail "kcat produce to secret: $(cat "$WORK/kc")"
fi
grep -qi "authoriz" "$WORK/kc" || fail "kcat produce to secret: $(cat "$WORK/kc")"
# Auto-creation needs Create: granted through the prefixed ALL, refused elsewhere.
kcat -b "127.0.0.1:$PORT" -P -t app-auto <<< "x" > "$WORK/kc" 2>&1 || fail "kcat auto-create app-auto: $(cat "$WORK/kc")"
if kcat -b "127.0.0.1:$PORT" -P -t zzz <<< "x" > "$WORK/kc" 2>&1; then
    fail "kcat auto-created zzz: $(cat "$WORK/kc")"
fi
grep -qi "authoriz" "$WORK/kc" || fail "kcat produce to zzz: $(cat "$WORK/kc")"
# What may not be described is not listed.
T "$EDDY" topic list > "$WORK/topics"
grep -q "^open " "$WORK/topics" && grep -q "^app-1 " "$WORK/topics" || fail "topic list: $(cat "$WORK/topics")"
! grep -q "^secret " "$WORK/topics" || fail "topic list shows secret: $(cat "$WORK/topics")"
kcat -b "127.0.0.1:$PORT" -L > "$WORK/kl" 2>&1 || fail "kcat -L: $(cat "$WORK/kl")"
grep -q 'topic "open"' "$WORK/kl" || fail "kcat -L: $(cat "$WORK/kl")"
! grep -q 'topic "secret"' "$WORK/kl" || fail "kcat -L shows secret: $(cat "$WORK/kl")"
T "$EDDY" group list > "$WORK/groups"
grep -q "^g-allowed " "$WORK/groups" || fail "group list: $(cat "$WORK/groups")"
! grep -q "^g-denied " "$WORK/groups" || fail "group list shows g-denied: $(cat "$WORK/groups")"
grep -q "Principal = User:ANONYMOUS is Denied operation = Write from host = 127.0.0.1 on resource = Topic:LITERAL:" \
    "$WORK/broker.log" || fail "no authorizer log line for a refused produce"
stop

# ---- 3. as super user again: nothing denied changed anything ----
start --set super.users=User:ANONYMOUS
[ "$(ends secret)" = "$SECRET_END" ] || fail "secret end offsets changed: $(ends secret)"
[ "$(ends app-locked)" = "$LOCKED_END" ] || fail "app-locked end offsets changed"
[ "$(committed g-denied)" = "$DENIED_COMMITTED" ] || fail "g-denied offsets changed: $(committed g-denied)"
T "$EDDY" topic list > "$WORK/topics"
grep -q "^secret " "$WORK/topics" || fail "secret is gone"
! grep -q "^newt " "$WORK/topics" || fail "newt was created"
! grep -q "^zzz " "$WORK/topics" || fail "zzz was auto-created"
grep -q "^app-auto " "$WORK/topics" || fail "app-auto was not auto-created"
# Removing the DENY opens app-locked (through the prefixed ALLOW) for the next restart.
T "$EDDY" acl delete --topic app-locked --deny > "$WORK/del"
grep -q "Deny .*Write" "$WORK/del" || fail "acl delete: $(cat "$WORK/del")"
stop
start
seq 1 2 | T "$EDDY" topic produce app-locked 2> /dev/null || fail "app-locked after its DENY went"
stop

# ---- 4. a damaged ACL file stops the start ----
sed -i 's/Allow/Alloy/' "$WORK/data/acls"
if "$EDDY" broker --data-dir "$WORK/data" --listen 127.0.0.1:0 "${AUTH[@]}" > "$WORK/bad.log" 2>&1; then
    fail "broker started on a damaged ACL file"
fi
grep -q "acls is corrupt" "$WORK/bad.log" || fail "damaged file: $(cat "$WORK/bad.log")"
echo "broker_acl: ok"
