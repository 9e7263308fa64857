#!/usr/bin/env bash
# Transactions with Kafka's own Java software against Eddy's broker, or with
# "kafka" against a 1-node Apache Kafka (scripts/kafka.sh), the reference:
#
#  1. Kafka's Java transactional producer (tests/java/EddyTxn.java) commits,
#     aborts and commits transactions over the 3 partitions of a topic; a
#     read_committed Java consumer reads exactly the committed records, once
#     each, a read_uncommitted one all of them.
#  2. consume-transform-produce with sendOffsetsToTransaction in a consumer
#     group (Java consumer and producer): an aborted transaction leaves the
#     group without offsets and the output empty; after a committed one the
#     group's offsets are exactly those sent and the output holds each
#     transformed record once.
#  3. kafka-transactions (org.apache.kafka.tools.TransactionsCommand), list
#     and describe, while a Java producer holds a transaction open: list shows
#     its transactional.id as Ongoing, describe its producer id, state and the
#     partitions in the transaction.
#  4. that producer killed with kill -9: a successor with its transactional.id
#     commits; the killed one's records are never visible, describe shows the
#     successor's epoch and CompleteCommit.
#
#   java_txn.sh EDDY CLASSES_DIR [kafka]
# CLASSES_DIR: where tests/java/*.java are compiled. Needs java and javac
# (17+) and the jars (scripts/kafka.sh fetch).
. "$(dirname "$0")/../compat/lib.sh"
compat_init java_txn "$1"
mkdir -p "${2:?usage: java_txn.sh EDDY CLASSES_DIR [kafka]}"
CLS=$(cd "$2" && pwd)
TARGET=${3:-eddy}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$SRC/scripts/kafka.sh
LIB=$SRC/tests/kafka/lib
need sort uniq timeout java javac
export LC_ALL=C

timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
rm -rf "${CLS:?}"/*
javac -nowarn -d "$CLS" -cp "$LIB/*" "$SRC"/tests/java/*.java "$SRC"/tests/java/org/slf4j/impl/*.java \
    2>"$WORK/javac.err" || { cat "$WORK/javac.err" >&2; fail "javac tests/java failed"; }

if [ "$TARGET" = kafka ]; then
    kafka_workdir kjtxn
    BOOT=$(KAFKA_HEAP=384m timeout 180 "$KAFKA_SH" start "$KC" 1) || fail "the Kafka node did not start"
    log "Apache Kafka at $BOOT"
else
    start_broker "$WORK/eddy" --set group.initial.rebalance.delay.ms=0
    BOOT=$BOOTSTRAP
fi

JOPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true)
jrun() { timeout -k 5 60 java "${JOPTS[@]}" -cp "$CLS:$LIB/*" "$@"; }
run() { # NAME CMD...: stdout in $WORK/NAME.out, stderr in NAME.err; fails the test if CMD fails
    local n=$1
    shift
    "$@" >"$WORK/$n.out" 2>"$WORK/$n.err" ||
        { tail -n 30 "$WORK/$n.out" "$WORK/$n.err" >&2; fail "$n: '$*' failed"; }
}
ids() { # PREFIX TXN N
    local i
    for ((i = 0; i < $3; i++)); do echo "$1-$2-$i"; done
}
same_set() { # NAME EXPECTED_FILE WHAT: $WORK/NAME.out holds exactly the expected values, once each
    local got=$WORK/$1.got want=$WORK/$1.want dup
    sort "$WORK/$1.out" >"$got"
    sort "$2" >"$want"
    dup=$(uniq -d "$got" | head -n 3 | tr '\n' ' ')
    [ -z "$dup" ] || fail "$1: $3: values read more than once, e.g. $dup"
    cmp -s "$got" "$want" ||
        fail "$1: $3: read $(wc -l <"$got") values ($(comm -23 "$got" "$want" | wc -l) unexpected, $(comm -13 "$got" "$want" | wc -l) missing), expected exactly $(wc -l <"$want")"
}

timeout 60 "$EDDY" -b "$BOOT" topic create jt -p 3 >/dev/null || fail "topic create jt"

# ------------------------------------------------------------- 1. producer and consumer
run produce jrun EddyTxn produce "$BOOT" java-txn jt j 60 commit,abort,commit
printf 'init\ncommitted 0\naborted 1\ncommitted 2\n' | cmp -s - "$WORK/produce.out" ||
    { cat "$WORK/produce.out" >&2; fail "produce: not init, committed 0, aborted 1, committed 2"; }
{ ids j 0 60; ids j 2 60; } >"$WORK/committed"
{ ids j 0 60; ids j 1 60; ids j 2 60; } >"$WORK/all"
# The commit's answer may come before every marker is written (Kafka too): read again for a
# while when committed values are missing.
sort "$WORK/committed" >"$WORK/committed.sorted"
for _ in $(seq 1 20); do
    run rc jrun EddyTxn consume "$BOOT" jt read_committed
    sort "$WORK/rc.out" | comm -13 - "$WORK/committed.sorted" | grep -q . || break
    sleep 1
done
same_set rc "$WORK/committed" "Java read_committed consumer"
run ru jrun EddyTxn consume "$BOOT" jt read_uncommitted
same_set ru "$WORK/all" "Java read_uncommitted consumer"
log "1: Java transactional producer: the 120 committed records read once each by a read_committed Java consumer, none of the 60 aborted"

# ------------------------------------------------------------- 2. sendOffsetsToTransaction
timeout 60 "$EDDY" -b "$BOOT" topic create jin -p 3 >/dev/null || fail "topic create jin"
timeout 60 "$EDDY" -b "$BOOT" topic create jout -p 2 >/dev/null || fail "topic create jout"
run jin jrun EddyTxn produce "$BOOT" java-in jin in 30 commit
committed_is() { # NAME FILE [SECONDS]: the group's offsets on jin are FILE's lines
    local i
    for ((i = 0; i <= ${3:-0}; i++)); do
        [ "$i" = 0 ] || sleep 1
        run "$1" jrun EddyTxn committed "$BOOT" jgrp jin
        sort "$WORK/$1.out" | cmp -s - <(sort "$2") && return 0
    done
    cat "$WORK/$1.out" >&2
    fail "$1: the group's offsets are not $(tr '\n' ';' <"$2")"
}
printf 'jin 0 -1001\njin 1 -1001\njin 2 -1001\n' >"$WORK/none.offsets"
run eos_abort jrun EddyTxn eos "$BOOT" java-eos jgrp jin jout 30 abort
grep -qx 'aborted 0' "$WORK/eos_abort.out" || fail "eos_abort: no 'aborted 0'"
committed_is offs_abort "$WORK/none.offsets"
run jout_abort jrun EddyTxn consume "$BOOT" jout read_committed
[ ! -s "$WORK/jout_abort.out" ] || fail "jout_abort: the aborted transaction's output is visible"
run eos jrun EddyTxn eos "$BOOT" java-eos jgrp jin jout 30 commit
grep -qx 'committed 0' "$WORK/eos.out" || fail "eos: no 'committed 0'"
sed -n 's/^offset //p' "$WORK/eos.out" >"$WORK/sent.offsets"
[ "$(wc -l <"$WORK/sent.offsets")" = 3 ] || fail "eos: $(wc -l <"$WORK/sent.offsets") offsets sent, expected 3"
awk '$3 < 10 { bad = 1 } END { exit bad }' "$WORK/sent.offsets" ||
    fail "eos: an offset sent is below the 10 records of a partition: $(tr '\n' ';' <"$WORK/sent.offsets")"
committed_is offs_commit "$WORK/sent.offsets" 20
ids in 0 30 | sed 's/^/out-/' | sort >"$WORK/jout.expected"
for _ in $(seq 1 20); do
    run jout jrun EddyTxn consume "$BOOT" jout read_committed
    sort "$WORK/jout.out" | comm -13 - "$WORK/jout.expected" | grep -q . || break
    sleep 1
done
same_set jout "$WORK/jout.expected" "output of the committed consume-transform-produce transaction"
log "2: Java sendOffsetsToTransaction: nothing after an abort; after the commit the group's offsets are those sent ($(tr '\n' ';' <"$WORK/sent.offsets")) and the output holds the 30 records once"

# ------------------------------------------------------------- 3. kafka-transactions
java "${JOPTS[@]}" -cp "$CLS:$LIB/*" EddyTxn produce "$BOOT" java-open jt o 9 hang >"$WORK/open.out" 2>"$WORK/open.err" &
OPEN=$!
bg_started $OPEN
for _ in $(seq 1 600); do
    grep -qx 'open 0' "$WORK/open.out" && break
    kill -0 $OPEN 2>/dev/null || { tail -n 30 "$WORK/open.err" >&2; fail "open: the producer exited"; }
    sleep 0.1
done
grep -qx 'open 0' "$WORK/open.out" || fail "open: no open transaction within 60 s"
txns() { jrun org.apache.kafka.tools.TransactionsCommand --bootstrap-server "$BOOT" "$@"; }
run list txns list
awk '$1 == "java-open" && $NF == "Ongoing" { ok = 1 } END { exit !ok }' "$WORK/list.out" ||
    { cat "$WORK/list.out" >&2; fail "kafka-transactions list: no line 'java-open ... Ongoing'"; }
awk '$1 == "java-txn" && $NF == "CompleteCommit" { ok = 1 } END { exit !ok }' "$WORK/list.out" ||
    { cat "$WORK/list.out" >&2; fail "kafka-transactions list: no line 'java-txn ... CompleteCommit'"; }
run describe txns describe --transactional-id java-open
# The header names the columns; the row under it holds their values.
awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
     NR == 2 { if ($col["TransactionalId"] != "java-open" || $col["TransactionState"] != "Ongoing" ||
                   $col["ProducerId"] !~ /^[0-9]+$/ || $col["TransactionTimeoutMs"] != 60000) exit 1
               parts = $col["TopicPartitions"]; ok = 1 }
     END { if (!ok) exit 1; n = split(parts, p, ","); if (n != 3) exit 1
           for (i = 1; i <= n; i++) if (p[i] !~ /^jt-[012]$/) exit 1 }' "$WORK/describe.out" ||
    { cat "$WORK/describe.out" >&2; fail "kafka-transactions describe: not java-open Ongoing over jt-0,jt-1,jt-2 with timeout 60000"; }
log "3: kafka-transactions list and describe show the open transaction: $(sed -n 2p "$WORK/describe.out" | tr -s ' \t' ' ')"
kill -9 $OPEN 2>/dev/null || true
wait $OPEN 2>/dev/null || true
bg_done $OPEN

# ------------------------------------------------------------- 4. a successor fences it
# The producer holding the transaction was killed with kill -9; a successor with its
# transactional.id aborts that transaction (InitProducerId) and commits its own.
run heir jrun EddyTxn produce "$BOOT" java-open jt heir 9 commit
{ cat "$WORK/committed"; ids heir 0 9; } | sort >"$WORK/committed.sorted"
for _ in $(seq 1 20); do
    run rc2 jrun EddyTxn consume "$BOOT" jt read_committed
    sort "$WORK/rc2.out" | comm -13 - "$WORK/committed.sorted" | grep -q . || break
    sleep 1
done
same_set rc2 "$WORK/committed.sorted" "after the successor of the killed producer"
run txns2 txns describe --transactional-id java-open
awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
     NR == 2 && $col["TransactionState"] == "CompleteCommit" && $col["ProducerEpoch"] > 0 { ok = 1 }
     END { exit !ok }' "$WORK/txns2.out" ||
    { cat "$WORK/txns2.out" >&2; fail "kafka-transactions describe: java-open not CompleteCommit with a bumped epoch"; }
log "4: a Java successor fenced the killed producer: its 9 records never visible, the successor's 9 are; describe: $(sed -n 2p "$WORK/txns2.out" | tr -s ' \t' ' ')"
[ "$TARGET" = kafka ] || stop_broker
log "PASS on $([ "$TARGET" = kafka ] && echo "Apache Kafka" || echo "Eddy's broker")"
