#!/usr/bin/env bash
# librdkafka's idempotent producer (enable.idempotence=true, rdkafka_test produce-idempotent)
# against a broker killed with kill -9 three times while it produces, and restarted on the
# same port and data dir each time. Retries of batches the broker had appended before it died
# must be recognised from the producer state it rebuilds at start (docs/broker.md,
# "Idempotent producers"): every record is acknowledged, each is in the log exactly once at
# the partition and offset of its acknowledgement, nothing unacknowledged is there, and each
# partition holds its records in the order they were produced (rdkafka_test verify ordered).
# usage: idempotence.sh path/to/eddy path/to/rdkafka_test
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init idempotence "${1:?usage: idempotence.sh EDDY RDKAFKA_TEST}"
PROG=${2:?usage: idempotence.sh EDDY RDKAFKA_TEST}
[ -x "$PROG" ] || fail "$PROG is not executable"
need timeout
# librdkafka is not built with ASan: its leaks are not ours to report (the broker's are).
RDK_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
# Small segments: the restarts load snapshots written at rolls, then replay the rest.
ARGS=(--set num.partitions=3 --set log.segment.bytes=262144)
DATA=$WORK/data
N=150000

# The producer talks to the broker through drop_proxy.py, which can lose the broker's
# answers: before each kill -9 it drops them for a moment, so batches the broker appended
# are never acknowledged and librdkafka retries them against the restarted broker. A free
# port for the broker first (a start on port 0), then the proxy, then the broker for real,
# advertising the proxy.
need python3
start_broker "$DATA" "${ARGS[@]}"
PORT=$BROKER_PORT
stop_broker
python3 "$COMPAT_DIR/drop_proxy.py" "$PORT" "$WORK/proxy.port" 2> "$WORK/proxy.err" &
proxy=$!
bg_started $proxy
for _ in $(seq 1 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
[ -s "$WORK/proxy.port" ] || fail "drop_proxy.py did not start: $(cat "$WORK/proxy.err")"
PROXY=127.0.0.1:$(cat "$WORK/proxy.port")
ARGS+=(--set "advertised.listeners=PLAINTEXT://$PROXY")
BROKER_PORT=$PORT start_broker "$DATA" "${ARGS[@]}"
ASAN_OPTIONS=$RDK_ASAN PRODUCE_PACE_US=20000 timeout -k 5 80 "$PROG" "$PROXY" \
    produce-idempotent idem $N "$WORK/acks" 2> "$WORK/produce.err" &
prod=$!
bg_started $prod
acks() { if [ -f "$WORK/acks" ]; then wc -l < "$WORK/acks"; else echo 0; fi; }
for round in 1 2 3; do
    # Some records acknowledged since the last restart; then answers lost for a moment
    # while appends go on, and the plug pulled.
    want=$(($(acks) + 15000))
    for _ in $(seq 1 200); do
        [ "$(acks)" -ge $want ] && break
        kill -0 $prod 2>/dev/null || break
        sleep 0.05
    done
    kill -0 $prod 2>/dev/null || fail "the producer ended before kill $round ($(acks) acks): $(tail -n 5 "$WORK/produce.err")"
    kill -USR1 $proxy
    sleep 0.3
    kill9_broker
    kill -USR2 $proxy
    log "kill $round: $(acks) records acknowledged"
    sleep 0.3
    BROKER_PORT=$PORT start_broker "$DATA" "${ARGS[@]}"
done
rc=0
wait $prod || rc=$?
bg_done $prod
acked=$(grep -vc ' err ' "$WORK/acks" || true)
log "producer exit $rc, $acked of $N acknowledged"
[ $rc = 0 ] && [ "$acked" = $N ] ||
    fail "not every record was acknowledged (exit $rc): $(grep -v '^\[' "$WORK/produce.err" | tail -n 5)"
grep -q "producer state: .*replayed" "$BROKER_LOG" ||
    fail "the last start did not rebuild any producer state"
out=$(ASAN_OPTIONS=$RDK_ASAN timeout -k 5 60 "$PROG" "$BOOTSTRAP" verify idem $N "$WORK/acks" ordered \
      2> "$WORK/verify.err") || fail "verify: $(tail -n 8 "$WORK/verify.err")"
set -- $out
# read N extra 0 acked N missing 0 dups 0 unacked 0
[ "$2" = $N ] && [ "$6" = $N ] && [ "$8" = 0 ] && [ "${10}" = 0 ] && [ "${12}" = 0 ] ||
    fail "after 3 kills: $out (want every record once, nothing else)"
log "after 3 kill -9: $out"
broker_alive
stop_broker
kill $proxy 2>/dev/null || true
wait $proxy 2>/dev/null || true
bg_done $proxy
echo "compat_idempotence: ok ($(($(date +%s) - _T0)) s)"
