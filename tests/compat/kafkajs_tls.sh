#!/usr/bin/env bash
# kafkajs (pinned in package.json / package-lock.json) over TLS: an Eddy broker with two SSL
# listeners, one asking for client certificates (listener.name.mtls.ssl.client.auth=required);
# certificates made for the run by tests/security/certs.sh. See kafkajs_tls.test.js.
# usage: kafkajs_tls.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init kafkajs_tls "${1:?usage: kafkajs_tls.sh EDDY}"
need node npm openssl timeout

if [ ! -f "$COMPAT_DIR/node_modules/kafkajs/package.json" ]; then
    log "installing kafkajs (npm ci) in $COMPAT_DIR"
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi

C=$WORK/certs
sh "$COMPAT_DIR/../security/certs.sh" "$C" || fail "certs.sh"
start_broker "$WORK/data" --set "listeners=SSL://127.0.0.1:0,MTLS://127.0.0.1:0" \
    --set "listener.security.protocol.map=SSL:SSL,MTLS:SSL" \
    --set "ssl.keystore.location=$C/server-keystore.pem" --set "ssl.key.password=eddy-test-pass" \
    --set "listener.name.mtls.ssl.truststore.location=$C/ca.pem" \
    --set "listener.name.mtls.ssl.client.auth=required" \
    --set "group.initial.rebalance.delay.ms=0"
MTLS_PORT=$(sed -n 's/.*listener MTLS (SSL) on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$BROKER_LOG")
[ -n "$MTLS_PORT" ] || fail "no MTLS listener in the log"
rc=0
(cd "$COMPAT_DIR" && timeout -k 5 150 node kafkajs_tls.test.js "$BOOTSTRAP" "127.0.0.1:$MTLS_PORT" "$C") || rc=$?
[ $rc = 0 ] || fail "kafkajs_tls.test.js exited with status $rc (124: timed out)"
grep -q "on listener MTLS (SSL): the client sent no certificate" "$BROKER_LOG" ||
    fail "no log line for the client without a certificate"
grep -q "on listener MTLS: TLS client certificate accepted, principal User:CN=alice" "$BROKER_LOG" ||
    fail "no log line with alice's principal"
broker_alive
stop_broker
echo "compat_kafkajs_tls: ok ($(($(date +%s) - _T0)) s)"
