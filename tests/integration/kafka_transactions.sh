#!/usr/bin/env bash
# Eddy's transactional producer and read_committed consumer on a 1-node
# Apache Kafka (scripts/kafka.sh), the reference for transactions:
#
#  - kafka_txn_app commits, aborts, sends offsets to transactions (visible
#    to the group only once committed; a read_committed consumer of the
#    group waits for them, OffsetFetch require_stable) and is fenced by a
#    second producer with the same transactional.id (each step checked
#    inside the app);
#  - `eddy topic consume --isolation read_committed` then shows exactly the
#    committed records (committed-*, committed2-*, after-*), and
#    read_uncommitted every record written, the aborted and fenced ones too;
#    neither shows a transaction marker (a control record) as a record;
#  - kcat with isolation.level=read_committed agrees with Eddy's CLI;
#  - then the same on Eddy's broker, once it serves transactions.
#
#   kafka_transactions.sh EDDY KAFKA_TXN_APP
# Needs java (17+), mvn (first run only: scripts/kafka.sh fetch) and kcat.
. "$(dirname "$0")/../compat/lib.sh"
compat_init kafka_transactions "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$ROOT/scripts/kafka.sh
need sort timeout kcat java
export LC_ALL=C

kafka_workdir ktxn # the cluster outside $WORK, stopped by its PIDs at exit (lib.sh)

# The app, then both consumers' views, against BOOTSTRAP (label NAME).
check_broker() { # NAME BOOTSTRAP
    local name=$1 boot=$2 p e end
    timeout 180 "$APP" "$boot" txn txn-group eddy-txn-test >"$WORK/$name.app.out" 2>"$WORK/$name.app.err" ||
        { cat "$WORK/$name.app.out" "$WORK/$name.app.err" >&2; fail "$name: kafka_txn_app failed"; }
    sed "s/^/$name: /" "$WORK/$name.app.out" >&2
    [ "$(grep -c '^step ' "$WORK/$name.app.out")" = 5 ] || fail "$name: kafka_txn_app did not run its 5 steps"
    consume() { # ISOLATION
        timeout 60 "$EDDY" -b "$boot" topic consume txn -o beginning -e --isolation "$1" -f '%v\n'
    }
    consume read_committed >"$WORK/$name.rc.raw" ||
        fail "$name: eddy topic consume --isolation read_committed failed"
    consume read_uncommitted >"$WORK/$name.ru.raw" ||
        fail "$name: eddy topic consume --isolation read_uncommitted failed"
    sort "$WORK/$name.rc.raw" >"$WORK/$name.rc"
    sort "$WORK/$name.ru.raw" >"$WORK/$name.ru"
    diff "$WORK/want_committed" "$WORK/$name.rc" >&2 ||
        fail "$name: read_committed: not exactly the committed records (diff above: < missing, > extra)"
    diff "$WORK/want_all" "$WORK/$name.ru" >&2 ||
        fail "$name: read_uncommitted: not exactly every record written (diff above)"
    log "$name: read_committed: the $(wc -l <"$WORK/$name.rc") committed records; read_uncommitted: all $(wc -l <"$WORK/$name.ru"), no marker"
    # The markers take offsets: the log's end is past the records, and the
    # consumer went over them to the end (-e returned), never printing them.
    end=0
    for p in 0 1 2; do
        e=$(kcat -b "$boot" -Q -t "txn:$p:-1" 2>/dev/null | awk '{ print $NF }')
        end=$((end + e))
    done
    [ "$end" -gt "$(wc -l <"$WORK/$name.ru")" ] ||
        fail "$name: the topic's end offsets ($end) leave no room for transaction markers"
    timeout 60 kcat -b "$boot" -C -t txn -o beginning -e -q -X isolation.level=read_committed -f '%s\n' |
        sort >"$WORK/$name.kcat_rc" || fail "$name: kcat read_committed failed"
    diff "$WORK/$name.kcat_rc" "$WORK/$name.rc" >&2 || fail "$name: kcat's read_committed view differs from Eddy's"
    log "$name: kcat's read_committed view is Eddy's"
}

seqs() { # PREFIX N
    local i
    for i in $(seq 0 $(($2 - 1))); do echo "$1-$i"; done
}
{ seqs committed 10; seqs committed2 10; seqs after 5; } | sort >"$WORK/want_committed"
{ cat "$WORK/want_committed"; seqs aborted 10; seqs fenced 4; } | sort >"$WORK/want_all"

# ------------------------------------------------------------- 1. Kafka
timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
KB=$(KAFKA_HEAP=384m timeout 180 "$KAFKA_SH" start "$KC" 1) || fail "the Kafka node did not start"
timeout 60 "$EDDY" -b "$KB" topic create txn -p 3 >/dev/null || fail "kafka: topic create"
check_broker kafka "$KB"
timeout 60 "$KAFKA_SH" stop "$KC" >/dev/null 2>&1 || true

# ------------------------------------------------------------- 2. Eddy's broker
if ! grep -q 'API_END_TXN' "$ROOT/wire/api_versions.c"; then
    log "eddy: skipped, Eddy's broker does not serve transactions in this build"
    exit 0
fi
start_broker "$WORK/eddy"
timeout 60 "$EDDY" -b "$BOOTSTRAP" topic create txn -p 3 >/dev/null || fail "eddy: topic create"
check_broker eddy "$BOOTSTRAP"
stop_broker
