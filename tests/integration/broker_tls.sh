#!/usr/bin/env bash
# TLS on the broker's SSL listeners, against kcat (librdkafka) and raw sockets, with
# certificates made for this run by tests/security/certs.sh:
#  - PLAINTEXT and SSL listeners at once, the SSL one configured through Kafka's per-listener
#    prefix (listener.name.ssl.ssl.*, over a plain ssl.keystore.location that does not exist):
#    each listener's Metadata gives its own port; records produced over SSL are consumed
#    over SSL and PLAINTEXT alike, small ones and fetches large enough to be read from the
#    segment files in chunks;
#  - a plaintext client on the SSL port, a TLS client on the PLAINTEXT port, garbage in the
#    handshake, a handshake that stalls past socket.request.timeout.ms: each connection is
#    closed with a log line naming the peer, and the broker goes on serving;
#  - ssl.client.auth=requested on a third listener (through its prefix): no certificate is let
#    in, alice's names her;
#  - ssl.client.auth=required with the keystore and truststore given as PEM text in a
#    properties file: a client without a certificate, or with one from another CA, is
#    refused; alice's certificate gets in, and the principal User:CN=alice is logged;
#  - a wrong ssl.key.password, a missing keystore and ssl.keystore.type=JKS stop the start
#    with a sentence naming what is wrong.
# usage: broker_tls.sh path/to/eddy
set -euo pipefail
EDDY=${1:?usage: broker_tls.sh EDDY}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v kcat > /dev/null || { echo "FAIL [broker_tls]: kcat is not installed" >&2; exit 1; }
command -v openssl > /dev/null || { echo "FAIL [broker_tls]: openssl is not installed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/eddy-tls-XXXXXX)
BROKER_PID=""
LOG=""
cleanup() {
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [broker_tls]: $*" >&2; [ -n "$LOG" ] && tail -n 20 "$LOG" >&2; exit 1; }
T() { timeout -k 5 60 "$@"; }

sh "$HERE/../security/certs.sh" "$WORK/certs" || fail "certs.sh"
C=$WORK/certs
SSL=(-X security.protocol=ssl -X "ssl.ca.location=$C/ca.pem")

# start NAME ARGS...: a broker whose log is $WORK/NAME.log; sets P1 (the first listener's
# port) and P2 (the second's, if any).
start() {
    local name=$1
    shift
    LOG=$WORK/$name.log
    "$EDDY" broker --data-dir "$WORK/$name-data" "$@" > "$LOG" 2>&1 &
    BROKER_PID=$!
    P1="" P2=""
    for _ in $(seq 1 200); do
        P1=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$LOG" 2>/dev/null || true)
        P2=$(sed -n 's/.*listener [A-Z_]* ([A-Z_]*) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$LOG" 2>/dev/null |
            sed -n 2p || true)
        [ -n "$P1" ] && break
        kill -0 "$BROKER_PID" 2>/dev/null || fail "broker $name did not start: $(cat "$LOG")"
        sleep 0.05
    done
    [ -n "$P1" ] || fail "broker $name did not start"
}
stop() {
    kill -TERM "$BROKER_PID"
    wait "$BROKER_PID" || fail "the broker did not stop cleanly"
    BROKER_PID=""
}
# wait_log TEXT: the broker's log shows TEXT within 10 s.
wait_log() {
    for _ in $(seq 1 200); do
        grep -qF -- "$1" "$LOG" && return 0
        sleep 0.05
    done
    fail "no log line with '$1'"
}
serves() { # serves PORT [kcat args]: Metadata comes back
    local port=$1
    shift
    T kcat -L -b "127.0.0.1:$port" "$@" -m 10 2>&1 | grep -q "broker 0 at 127.0.0.1:$port" ||
        fail "the broker does not serve on $port any more"
}

# ---- PLAINTEXT and SSL at once, the SSL settings under the listener's prefix ----
start a --set "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,REQ://127.0.0.1:0" \
    --set "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,REQ:SSL" \
    --set "listener.name.req.ssl.keystore.location=$C/server-keystore.pem" \
    --set "listener.name.req.ssl.key.password=eddy-test-pass" \
    --set "listener.name.req.ssl.truststore.location=$C/ca.pem" \
    --set "listener.name.req.ssl.client.auth=requested" \
    --set "ssl.keystore.location=$WORK/no-such-keystore.pem" \
    --set "listener.name.ssl.ssl.keystore.location=$C/server-keystore.pem" \
    --set "listener.name.ssl.ssl.key.password=eddy-test-pass" \
    --set "socket.request.timeout.ms=2000"
PP=$P1 SP=$P2
RP=$(sed -n 's/.*listener REQ (SSL) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$LOG")
[ -n "$SP" ] && [ "$SP" != "$PP" ] || fail "no second listener: $(cat "$LOG")"
[ -n "$RP" ] || fail "no REQ listener: $(cat "$LOG")"

# ssl.client.auth=requested (on REQ only): without a certificate a client gets in as
# User:ANONYMOUS; alice's certificate names her.
T kcat -L -b "127.0.0.1:$RP" "${SSL[@]}" > "$WORK/md-req" 2>&1 || fail "no certificate on REQ: $(cat "$WORK/md-req")"
grep -q "broker 0 at 127.0.0.1:$RP" "$WORK/md-req" || fail "REQ metadata: $(cat "$WORK/md-req")"
grep -q "principal User:CN=alice" "$LOG" && fail "a principal was logged before any client certificate"
T kcat -L -b "127.0.0.1:$RP" "${SSL[@]}" -X "ssl.certificate.location=$C/client.pem" \
    -X "ssl.key.location=$C/client.key" > "$WORK/md-req2" 2>&1 || fail "alice on REQ: $(cat "$WORK/md-req2")"
wait_log "on listener REQ: TLS client certificate accepted, principal User:CN=alice"

T kcat -L -b "127.0.0.1:$PP" > "$WORK/md-plain" 2>&1 || fail "metadata over PLAINTEXT: $(cat "$WORK/md-plain")"
grep -q "broker 0 at 127.0.0.1:$PP" "$WORK/md-plain" || fail "PLAINTEXT metadata: $(cat "$WORK/md-plain")"
T kcat -L -b "127.0.0.1:$SP" "${SSL[@]}" > "$WORK/md-ssl" 2>&1 || fail "metadata over SSL: $(cat "$WORK/md-ssl")"
grep -q "broker 0 at 127.0.0.1:$SP" "$WORK/md-ssl" || fail "SSL metadata: $(cat "$WORK/md-ssl")"

# Small records, then records large enough that fetches read the segment in chunks.
seq 1 2000 | T kcat -P -b "127.0.0.1:$SP" "${SSL[@]}" -t small || fail "produce over SSL"
T kcat -C -b "127.0.0.1:$SP" "${SSL[@]}" -t small -e -q > "$WORK/small-ssl" || fail "consume over SSL"
seq 1 2000 | cmp -s - "$WORK/small-ssl" || fail "records consumed over SSL differ"
T kcat -C -b "127.0.0.1:$PP" -t small -e -q > "$WORK/small-plain" || fail "consume over PLAINTEXT"
cmp -s "$WORK/small-ssl" "$WORK/small-plain" || fail "SSL and PLAINTEXT consumers read different records"
python3 -c 'import sys
for i in range(3000): sys.stdout.write("%06d %s\n" % (i, "x" * (1000 + i % 3000)))' > "$WORK/big-in"
T kcat -P -b "127.0.0.1:$SP" "${SSL[@]}" -t big -X message.max.bytes=1000000 < "$WORK/big-in" ||
    fail "produce large records over SSL"
T kcat -C -b "127.0.0.1:$SP" "${SSL[@]}" -t big -e -q -X fetch.max.bytes=8388608 \
    -X max.partition.fetch.bytes=4194304 > "$WORK/big-ssl" || fail "consume large records over SSL"
cmp -s "$WORK/big-in" "$WORK/big-ssl" || fail "large records consumed over SSL differ ($(wc -l < "$WORK/big-ssl") lines)"

# A plaintext client on the TLS port; a TLS client on the plaintext port.
set +e
T kcat -L -b "127.0.0.1:$SP" -X security.protocol=plaintext -m 3 > /dev/null 2>&1
rc_plain=$?
T kcat -L -b "127.0.0.1:$PP" "${SSL[@]}" -m 3 > /dev/null 2>&1
rc_tls=$?
set -e
[ $rc_plain != 0 ] || fail "a plaintext client got metadata from the SSL listener"
[ $rc_tls != 0 ] || fail "a TLS client got metadata from the PLAINTEXT listener"
wait_log "on listener SSL (SSL): the client does not speak TLS"
grep -q "closing connection from 127.0.0.1:[0-9]* on listener SSL (SSL): the client does not speak TLS" "$LOG" ||
    fail "the line does not name the peer"
wait_log "it looks like a TLS handshake: a TLS client on a plaintext listener?"
serves "$SP" "${SSL[@]}"
serves "$PP"

# Garbage inside a handshake record, and a handshake that stalls: both closed, named.
python3 - "$SP" <<'EOF' || fail "garbage in the handshake: the connection was not closed"
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
# A handshake record header, then bytes that are no ClientHello.
s.sendall(b"\x16\x03\x01\x01\x00" + os.urandom(256))
deadline = time.time() + 10
while time.time() < deadline:
    if not s.recv(4096):  # an alert may come first; then the close
        sys.exit(0)
sys.exit(1)
EOF
wait_log "on listener SSL (SSL): TLS handshake failed"
start_stall=$(date +%s)
python3 - "$SP" <<'EOF' || fail "a stalled handshake was not closed"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"\x16\x03\x01")  # the start of a record header, and nothing more
try:
    sys.exit(0 if not s.recv(4096) else 1)
except (socket.timeout, ConnectionResetError):
    sys.exit(1)
EOF
took=$(( $(date +%s) - start_stall ))
[ $took -ge 1 ] || fail "the stalled handshake was closed after ${took}s, before socket.request.timeout.ms"
wait_log "the TLS handshake did not finish within socket.request.timeout.ms (2000 ms)"
serves "$SP" "${SSL[@]}"
stop

# ---- mutual TLS, keystore and truststore as PEM text in a properties file ----
pem_prop() { # pem_prop KEY FILE: Kafka's form, one PEM line per \n\ continuation
    awk -v k="$1" 'BEGIN { printf "%s=", k } { printf "%s%s", (NR > 1 ? "\\n\\\n    " : ""), $0 }
        END { printf "\n" }' "$2"
}
{
    echo "listeners=SSL://127.0.0.1:0"
    echo "ssl.keystore.type=PEM"
    echo "ssl.truststore.type=PEM"
    pem_prop ssl.keystore.certificate.chain "$C/server-chain.pem"
    pem_prop ssl.keystore.key "$C/server.key"
    pem_prop ssl.truststore.certificates "$C/ca.pem"
    echo "ssl.client.auth=required"
} > "$WORK/mtls.properties"
start b --config "$WORK/mtls.properties"
MP=$P1
set +e
T kcat -L -b "127.0.0.1:$MP" "${SSL[@]}" -m 3 > "$WORK/nocert" 2>&1
rc_nocert=$?
T kcat -L -b "127.0.0.1:$MP" "${SSL[@]}" -X "ssl.certificate.location=$C/rogue-client.pem" \
    -X "ssl.key.location=$C/rogue-client.key" -m 3 > /dev/null 2>&1
rc_rogue=$?
set -e
[ $rc_nocert != 0 ] || fail "a client without a certificate got in with ssl.client.auth=required"
[ $rc_rogue != 0 ] || fail "a client with another CA's certificate got in"
wait_log "the client sent no certificate"
T kcat -L -b "127.0.0.1:$MP" "${SSL[@]}" -X "ssl.certificate.location=$C/client.pem" \
    -X "ssl.key.location=$C/client.key" > "$WORK/md-mtls" 2>&1 || fail "alice's certificate was refused: $(cat "$WORK/md-mtls")"
grep -q "broker 0 at 127.0.0.1:$MP" "$WORK/md-mtls" || fail "mutual TLS metadata: $(cat "$WORK/md-mtls")"
wait_log "TLS client certificate accepted, principal User:CN=alice"
stop

# ---- settings that stop the start ----
refused() {
    local says=$1
    shift
    set +e
    T "$EDDY" broker --data-dir "$WORK/refused-data" --set "listeners=SSL://127.0.0.1:0" "$@" > "$WORK/refused.log" 2>&1
    local rc=$?
    set -e
    [ $rc != 0 ] || fail "started with $*"
    grep -qF -- "$says" "$WORK/refused.log" || fail "with $*: $(cat "$WORK/refused.log")"
}
refused "server-keystore.pem" --set "ssl.keystore.location=$C/server-keystore.pem" --set "ssl.key.password=wrong"
refused "listener SSL (SSL) needs a certificate and its key"
refused "Eddy reads PEM stores only" --set "ssl.keystore.type=JKS" --set "ssl.keystore.location=$C/server-keystore.pem"
refused "no listener is named OTHER" --set "listener.name.other.ssl.keystore.location=$C/server-keystore.pem"
echo "broker_tls: ok"
