#!/usr/bin/env bash
# Several listeners at once, in Kafka's syntax: two listeners with names of their own, mapped
# to PLAINTEXT by listener.security.protocol.map, one advertised under another host name.
# Metadata (kcat -L) and FindCoordinator answer each client with the address of the listener
# it came in on; records written through one listener are read through the other; settings
# that name no protocol, or a listener twice, stop the start with a sentence.
# usage: broker_listeners.sh path/to/eddy
set -euo pipefail
EDDY=${1:?usage: broker_listeners.sh EDDY}
command -v kcat > /dev/null || { echo "FAIL [broker_listeners]: kcat is not installed" >&2; exit 1; }
WORK=$(mktemp -d /tmp/eddy-listeners-XXXXXX)
BROKER_PID=""
cleanup() {
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [broker_listeners]: $*" >&2; tail -n 20 "$WORK/broker.log" >&2 || true; exit 1; }
T() { timeout -k 5 60 "$@"; }

"$EDDY" broker --data-dir "$WORK/data" \
    --set "listeners=INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0" \
    --set "listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT" \
    --set "advertised.listeners=EXTERNAL://localhost:0" > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
P1="" P2=""
for _ in $(seq 1 100); do
    # the shell creates the file in the background
    P1=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/broker.log" 2>/dev/null || true)
    P2=$(sed -n 's/.*listener EXTERNAL (PLAINTEXT) on 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/broker.log" 2>/dev/null || true)
    [ -n "$P1" ] && [ -n "$P2" ] && break
    sleep 0.05
done
[ -n "$P1" ] && [ -n "$P2" ] || fail "broker did not start with two listeners"
[ "$P1" != "$P2" ] || fail "both listeners on port $P1"
grep -q "listener INTERNAL (PLAINTEXT) on 127.0.0.1:$P1, advertising 127.0.0.1:$P1" "$WORK/broker.log" ||
    fail "no log line for listener INTERNAL"

# Metadata: each listener's client is told its own listener's address.
T kcat -L -b "127.0.0.1:$P1" > "$WORK/md1" 2>&1 || fail "kcat -L on INTERNAL: $(cat "$WORK/md1")"
grep -q "broker 0 at 127.0.0.1:$P1" "$WORK/md1" || fail "INTERNAL metadata: $(cat "$WORK/md1")"
T kcat -L -b "127.0.0.1:$P2" > "$WORK/md2" 2>&1 || fail "kcat -L on EXTERNAL: $(cat "$WORK/md2")"
grep -q "broker 0 at localhost:$P2" "$WORK/md2" || fail "EXTERNAL metadata: $(cat "$WORK/md2")"

# FindCoordinator v0, by hand: the coordinator's address is the asking listener's.
coordinator() {
    timeout -k 5 30 python3 - "$1" <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
group = b"g1"
body = struct.pack(">hhih", 10, 0, 7, 1) + b"t" + struct.pack(">h", len(group)) + group
s.sendall(struct.pack(">i", len(body)) + body)
def recv(n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            sys.exit("connection closed")
        out += chunk
    return out
(size,) = struct.unpack(">i", recv(4))
r = recv(size)
corr, err, node, hlen = struct.unpack(">ihih", r[:12])
host = r[12:12 + hlen].decode()
(port,) = struct.unpack(">i", r[12 + hlen:16 + hlen])
print("%d %d %s:%d" % (err, node, host, port))
EOF
}
c1=$(coordinator "$P1") || fail "FindCoordinator on INTERNAL"
[ "$c1" = "0 0 127.0.0.1:$P1" ] || fail "FindCoordinator on INTERNAL answered '$c1'"
c2=$(coordinator "$P2") || fail "FindCoordinator on EXTERNAL"
[ "$c2" = "0 0 localhost:$P2" ] || fail "FindCoordinator on EXTERNAL answered '$c2'"

# Records written through one listener are read through the other.
seq 1 100 | T kcat -P -b "127.0.0.1:$P2" -t both > /dev/null 2>&1 || fail "produce on EXTERNAL"
[ "$(T kcat -C -b "127.0.0.1:$P1" -t both -e -q | wc -l)" = 100 ] || fail "consume on INTERNAL"
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "the broker did not stop cleanly"
BROKER_PID=""

# Settings the broker refuses, with a sentence naming the setting.
refused() {
    local says=$1
    shift
    set +e
    T "$EDDY" broker --data-dir "$WORK/data" "$@" > "$WORK/refused.log" 2>&1
    local rc=$?
    set -e
    [ $rc != 0 ] || fail "started with $*"
    grep -q "$says" "$WORK/refused.log" || fail "with $*: $(cat "$WORK/refused.log")"
}
refused "no security protocol for the listener name CLIENTS" --set "listeners=CLIENTS://127.0.0.1:0"
refused "the name PLAINTEXT appears twice" --set "listeners=PLAINTEXT://127.0.0.1:0,plaintext://127.0.0.1:0"
refused "advertised.listeners: SSL is not the name of one of the listeners" \
    --set "listeners=PLAINTEXT://127.0.0.1:0" --set "advertised.listeners=SSL://h:1"
echo "broker_listeners: ok"
