#!/usr/bin/env bash
# Eddy's client over TLS (security.protocol=SSL, librdkafka's ssl.* settings), with
# certificates made for the run by tests/security/certs.sh:
#
#  1. Apache Kafka's SSL listener (scripts/kafka.sh start --security): the CLI creates,
#     produces, consumes (also in a group) and lists over TLS; a word count app runs over
#     TLS and its counts equal an awk model. A CA that did not sign the broker's
#     certificate, a host name the certificate does not name (127.1 reaches 127.0.0.1 but
#     is not in its subjectAltName), a plaintext client on the TLS port, a TLS client on
#     the plaintext port and a missing CA file each end the command at once, non-zero,
#     with a sentence naming the cause and the broker.
#  2. Eddy's broker with an SSL listener that requires client certificates
#     (ssl.client.auth=required): alice's certificate with its encrypted key
#     (ssl.key.password) gets in, and the broker logs her principal; without a
#     certificate the command fails at once.
#
#   client_tls.sh EDDY WORDCOUNT
# Needs java (17+) and mvn (first run only: scripts/kafka.sh fetch).
. "$(dirname "$0")/../compat/lib.sh"
compat_init client_tls "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$ROOT/scripts/kafka.sh
need java openssl timeout awk sort
export LC_ALL=C

kafka_workdir ktls # the cluster outside $WORK, stopped by its PIDs at exit (lib.sh)

# Runs the CLI; status in $RC, output in $WORK/NAME.out and .err; seconds taken in $SECS.
cli() { # NAME ARGS...
    local name=$1 t0
    shift
    t0=$(date +%s)
    RC=0
    timeout -k 5 60 "$EDDY" "$@" <"${IN:-/dev/null}" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
    SECS=$(($(date +%s) - t0))
}
ok() { # NAME: exit 0
    [ "$RC" = 0 ] || fail "$1: exit $RC: $(head -c 800 "$WORK/$1.err")"
}
refused() { # NAME PATTERN: exit 1 within 10 s, PATTERN on stderr
    [ "$RC" = 1 ] || fail "$1: exit $RC, expected 1 (124: it hung): $(head -c 800 "$WORK/$1.err")"
    [ "$SECS" -le 10 ] || fail "$1: took $SECS s to fail"
    grep -q -- "$2" "$WORK/$1.err" || fail "$1: stderr does not say '$2': $(head -c 800 "$WORK/$1.err")"
}

# ------------------------------------------------------------ 1. Apache Kafka's SSL listener

KAFKA_HEAP=${KAFKA_HEAP:-384m} timeout 240 "$KAFKA_SH" start "$KC" 1 --security >"$WORK/kstart.log" 2>&1 ||
    fail "Kafka did not start: $(tail -n 20 "$WORK/kstart.log")"
KB=$(cat "$KC/bootstrap")
SB=$(cat "$KC/bootstrap.ssl")
CA=$KC/certs/ca.pem
[ -n "$SB" ] && [ -f "$CA" ] || fail "the harness made no SSL listener or CA: $(cat "$WORK/kstart.log")"
SSL=(-X security.protocol=SSL -X "ssl.ca.location=$CA")
log "Kafka up: PLAINTEXT $KB, SSL $SB"

cli create -b "$SB" "${SSL[@]}" topic create tls-t -p 3
ok create
awk 'BEGIN { for (i = 0; i < 3000; i++) print "k" (i % 97) ":v" i }' >"$WORK/in"
IN=$WORK/in cli produce -b "$SB" "${SSL[@]}" topic produce tls-t -k :
ok produce
grep -q "produced 3000 records" "$WORK/produce.err" || fail "produce: $(cat "$WORK/produce.err")"
cli consume -b "$SB" "${SSL[@]}" topic consume tls-t -e -f '%k:%v\n'
ok consume
sort "$WORK/in" | cmp -s - <(sort "$WORK/consume.out") ||
    fail "records read over TLS differ from those written ($(wc -l <"$WORK/consume.out") lines)"
# A group: the coordinator's connection and the fetch connection are TLS too.
cli group -b "$SB" "${SSL[@]}" topic consume tls-t -g tls-g -e -f '%v\n'
ok group
[ "$(wc -l <"$WORK/group.out")" = 3000 ] || fail "group consume read $(wc -l <"$WORK/group.out") of 3000"
cli list -b "$SB" "${SSL[@]}" topic list
ok list
grep -q "^tls-t  *3$" "$WORK/list.out" || fail "list: $(cat "$WORK/list.out")"
# Lower case as librdkafka writes it; the same records through the plaintext listener.
cli lower -b "$SB" -X security.protocol=ssl -X "ssl.ca.location=$CA" topic describe tls-t
ok lower
cli plain -b "$KB" topic consume tls-t -e -f '%v\n'
ok plain
[ "$(wc -l <"$WORK/plain.out")" = 3000 ] || fail "plaintext listener read $(wc -l <"$WORK/plain.out")"
log "1a. CLI over Kafka's SSL listener: create, produce 3000, consume (alone and in a group), list"

cli wrong_ca -b "$SB" -X security.protocol=SSL -X "ssl.ca.location=$KC/certs/other-ca.pem" topic list
refused wrong_ca "cannot connect to $SB: certificate verify failed: the server's certificate"
SB_ALIAS=127.1:${SB##*:}
cli mismatch -b "$SB_ALIAS" "${SSL[@]}" topic list
refused mismatch "cannot connect to $SB_ALIAS: host name mismatch: the server's certificate does not name '127.1'"
# Without the check (librdkafka's none, Java's empty value) the same address is accepted;
# the metadata's own address (127.0.0.1) is in the certificate.
cli nocheck -b "$SB_ALIAS" "${SSL[@]}" -X ssl.endpoint.identification.algorithm=none topic list
ok nocheck
cli plain_on_tls -b "$SB" topic list
refused plain_on_tls "cannot connect to $SB: the broker answered with TLS"
cli tls_on_plain -b "$KB" "${SSL[@]}" topic list
refused tls_on_plain "cannot connect to $KB: the broker closed the connection during the TLS handshake"
cli no_ca_file -b "$SB" -X security.protocol=SSL -X "ssl.ca.location=$WORK/nope.pem" topic list
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "no_ca_file: exit $RC"
grep -q "ssl.ca.location: CA file $WORK/nope.pem: No such file or directory" "$WORK/no_ca_file.err" ||
    fail "no_ca_file: $(cat "$WORK/no_ca_file.err")"
cli bad_eia -b "$SB" "${SSL[@]}" -X ssl.endpoint.identification.algorithm=dns topic list
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "bad_eia: exit $RC"
grep -q "ssl.endpoint.identification.algorithm: 'dns' is not https or none" "$WORK/bad_eia.err" ||
    fail "bad_eia: $(cat "$WORK/bad_eia.err")"
log "1b. wrong CA, host name mismatch, plaintext/TLS mix-ups, missing CA file: each fails at once, named"

# A streams app over TLS: every one of its clients (main, restore, admin) speaks it.
awk 'BEGIN { srand(7); split("alpha beta gamma delta epsilon zeta eta theta", w, " ");
             for (i = 0; i < 2000; i++) { n = 1 + int(rand() * 6); l = "";
                 for (j = 0; j < n; j++) l = l (j ? " " : "") w[1 + int(rand() * 8)]; print l } }' \
    >"$WORK/lines"
tr ' ' '\n' <"$WORK/lines" | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort >"$WORK/want"
cli mk_lines -b "$SB" "${SSL[@]}" topic create lines -p 2
ok mk_lines
IN=$WORK/lines cli p_lines -b "$SB" "${SSL[@]}" topic produce lines
ok p_lines
"$WC" --input lines --output counts -X "bootstrap.servers=$SB" "${SSL[@]}" \
    -X application.id=tls-wc -X "state.dir=$WORK/wc-state" -X commit.interval.ms=300 \
    >"$WORK/wc.log" 2>&1 </dev/null &
WC_PID=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $WC_PID"
for _ in $(seq 1 90); do
    cli counts -b "$SB" "${SSL[@]}" topic consume counts -e -f '%k %v\n' --value-format int64
    awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' "$WORK/counts.out" | sort >"$WORK/got"
    cmp -s "$WORK/got" "$WORK/want" && break
    kill -0 "$WC_PID" 2>/dev/null || fail "wordcount exited: $(tail -n 20 "$WORK/wc.log")"
    sleep 1
done
cmp -s "$WORK/got" "$WORK/want" ||
    fail "word counts over TLS differ from the model: $(diff "$WORK/want" "$WORK/got" | head -n 10); $(tail -n 10 "$WORK/wc.log")"
kill -TERM "$WC_PID"
rc=0
wait "$WC_PID" || rc=$?
[ "$rc" = 0 ] || fail "wordcount exited $rc after SIGTERM: $(tail -n 20 "$WORK/wc.log")"
log "1c. word count over TLS: $(wc -l <"$WORK/want") words, counts equal the model"
timeout 60 "$KAFKA_SH" stop "$KC" >/dev/null 2>&1 || true

# ---------------------------------------- 2. Eddy's broker, client certificates required

C=$WORK/certs
sh "$ROOT/tests/security/certs.sh" "$C" >/dev/null || fail "certs.sh"
start_broker "$WORK/eddy" --set "listeners=MTLS://127.0.0.1:0" \
    --set "listener.security.protocol.map=MTLS:SSL" \
    --set "ssl.keystore.location=$C/server-keystore.pem" --set "ssl.key.password=eddy-test-pass" \
    --set "ssl.truststore.location=$C/ca.pem" --set "ssl.client.auth=required"
MB=$BOOTSTRAP
ALICE=(-X security.protocol=SSL -X "ssl.ca.location=$C/ca.pem"
    -X "ssl.certificate.location=$C/client.pem" -X "ssl.key.location=$C/client-enc.key"
    -X ssl.key.password=eddy-test-pass)
cli m_create -b "$MB" "${ALICE[@]}" topic create m-t -p 1
ok m_create
seq 1 500 >"$WORK/m_in"
IN=$WORK/m_in cli m_produce -b "$MB" "${ALICE[@]}" topic produce m-t
ok m_produce
cli m_consume -b "$MB" "${ALICE[@]}" topic consume m-t -e -f '%v\n'
ok m_consume
cmp -s "$WORK/m_in" "$WORK/m_consume.out" || fail "mutual TLS: records differ"
grep -q "principal User:CN=alice" "$BROKER_LOG" || fail "the broker did not log alice's principal"
cli m_nocert -b "$MB" -X security.protocol=SSL -X "ssl.ca.location=$C/ca.pem" topic list
[ "$RC" = 1 ] && [ "$SECS" -le 10 ] || fail "m_nocert: exit $RC after $SECS s: $(cat "$WORK/m_nocert.err")"
grep -q "cannot connect to $MB" "$WORK/m_nocert.err" || fail "m_nocert: $(cat "$WORK/m_nocert.err")"
cli m_badpass -b "$MB" "${ALICE[@]}" -X ssl.key.password=wrong topic list
[ "$RC" != 0 ] && [ "$RC" != 124 ] || fail "m_badpass: exit $RC"
grep -q "ssl.key.location: private key $C/client-enc.key: cannot decrypt it" "$WORK/m_badpass.err" || fail "m_badpass: $(cat "$WORK/m_badpass.err")"
broker_alive
stop_broker
log "2. Eddy's broker with client certificates required: alice in (User:CN=alice), no certificate refused at once, a wrong key password named"
echo "client_tls: ok ($(($(date +%s) - _T0)) s)"
