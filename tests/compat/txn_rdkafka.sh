#!/usr/bin/env bash
# Transactions with librdkafka (tests/compat/txn_rdkafka.c), a client no one here wrote,
# against Eddy's broker, or with "kafka" against a 1-node Apache Kafka (scripts/kafka.sh),
# the reference the same checks are written against. Every record carries a unique value
# (PREFIX-TXN-I); each check reads the topics back with read_committed (and
# read_uncommitted) consumers and compares the exact sets of values, duplicates included.
#
#  1. commit and abort: one transaction committed, one aborted, by two producers on a
#     1-partition topic; then one producer commits, aborts and commits across 3 partitions
#     of one topic and 2 of another. read_committed sees exactly the committed records,
#     read_uncommitted all of them.
#  2. fencing: a producer killed (kill -9) with its transaction open, and a successor with
#     the same transactional.id: the successor commits, the dead one's records are never
#     visible. A zombie (alive, transaction open) whose successor initializes: its commit
#     fails as fenced, its records are never visible.
#  3. transaction timeout: a producer stops in the middle of a transaction
#     (transaction.timeout.ms=15000); a transaction committed after it by another producer
#     is held back (last stable offset) until the broker aborts the stalled one, then
#     read_committed consumers move past it and see the later records only.
#  4. send_offsets_to_transaction: consume-transform-produce in a consumer group. An aborted
#     transaction leaves the group's offsets and the output as they were; an open one
#     shows neither; once committed, the group's offsets are exactly those sent and the
#     output holds every transformed record once.
#  5. (Eddy's broker only) kill -9 of the broker right after each transaction coordinator
#     step (EDDY_TEST_TXN_CRASH=prepare|marker|complete in its environment: the broker
#     raises SIGKILL after that step), for a commit and for an abort, then a restart. The
#     restarted coordinator ends the transaction by itself: a later transaction of another
#     producer becomes visible, the committed records exactly once with it, the aborted ones
#     never; then a successor with the crashed producer's transactional.id commits. After
#     all the restarts the topics of sections 1 and 2 still read as before.
#
#   txn_rdkafka.sh EDDY TXN_RDKAFKA [kafka]
# Needs java (17+) and the jars (scripts/kafka.sh fetch) for "kafka".
. "$(dirname "$0")/lib.sh"
compat_init txn_rdkafka "$1"
TR=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
TARGET=${3:-eddy}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$ROOT/scripts/kafka.sh
need sort uniq comm timeout
export LC_ALL=C
export TXN_LIFETIME=100

if [ "$TARGET" = kafka ]; then
    need java
    kafka_workdir ktxn
    timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
    BOOT=$(KAFKA_HEAP=384m timeout 180 "$KAFKA_SH" start "$KC" 1) || fail "the Kafka node did not start"
    log "Apache Kafka at $BOOT"
else
    start_broker "$WORK/eddy" --set group.initial.rebalance.delay.ms=0
    BOOT=$BOOTSTRAP
fi

topic() { # NAME PARTITIONS
    timeout 60 "$EDDY" -b "$BOOT" topic create "$1" -p "$2" >/dev/null || fail "topic create $1"
}
# ids PREFIX TXN N: the values transaction TXN of a produce with PREFIX wrote.
ids() {
    local i
    for ((i = 0; i < $3; i++)); do echo "$1-$2-$i"; done
}
# run NAME CMD...: stdout in $WORK/NAME.out, stderr in NAME.err; fails the test if CMD fails.
run() {
    local n=$1
    shift
    local rc=0
    timeout -k 5 110 "$@" >"$WORK/$n.out" 2>"$WORK/$n.err" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/$n.err" >&2; fail "$n: '$*' exited $rc"; }
}
# bgrun NAME CMD...: in the background, pid in PID_NAME.
bgrun() {
    local n=$1
    shift
    "$@" >"$WORK/$n.out" 2>"$WORK/$n.err" &
    bg_started $!
    eval "PID_$n=$!"
}
# wait_line NAME LINE SECONDS: until NAME.out has LINE (the process must stay alive).
wait_line() {
    local i pid
    pid=$(eval echo "\$PID_$1")
    for ((i = 0; i < $3 * 10; i++)); do
        grep -qx "$2" "$WORK/$1.out" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$WORK/$1.err" >&2; fail "$1 exited before '$2'"; }
        sleep 0.1
    done
    tail -n 20 "$WORK/$1.err" >&2
    fail "$1 did not print '$2' within $3 s"
}
# reap NAME SECONDS: waits for NAME to exit, its status in RC.
reap() {
    local i pid
    pid=$(eval echo "\$PID_$1")
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { tail -n 20 "$WORK/$1.err" >&2; fail "$1 still runs after $2 s"; }
    RC=0
    wait "$pid" || RC=$?
    bg_done "$pid"
}
kill9() { # NAME
    local pid
    pid=$(eval echo "\$PID_$1")
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    bg_done "$pid"
}
# read_set NAME SPEC ISOLATION: the values in SPEC's partitions, sorted, in $WORK/NAME.got.
read_set() {
    timeout -k 5 60 "$TR" consume "$BOOT" "$2" "$3" 30 >"$WORK/$1.raw" 2>"$WORK/$1.cerr" ||
        { tail -n 20 "$WORK/$1.cerr" >&2; fail "$1: consuming $2 ($3) failed"; }
    sort "$WORK/$1.raw" >"$WORK/$1.got"
}
# same_set NAME EXPECTED_FILE WHAT: $WORK/NAME.got holds each expected value exactly once
# and nothing else.
same_set() {
    local got=$WORK/$1.got want=$WORK/$1.want dup
    sort "$2" >"$want"
    dup=$(uniq -d "$got" | head -n 3 | tr '\n' ' ')
    [ -z "$dup" ] || fail "$1: $3: values read more than once, e.g. $dup"
    if ! cmp -s "$got" "$want"; then
        echo "missing: $(comm -13 "$got" "$want" | wc -l) (e.g. $(comm -13 "$got" "$want" | head -n 3 | tr '\n' ' '))" >&2
        echo "extra:   $(comm -23 "$got" "$want" | wc -l) (e.g. $(comm -23 "$got" "$want" | head -n 3 | tr '\n' ' '))" >&2
        fail "$1: $3: read $(wc -l <"$got") values, expected exactly $(wc -l <"$want")"
    fi
}
# wait_set NAME SPEC EXPECTED_FILE SECONDS WHAT: reads SPEC read_committed until every
# expected value is there (markers reach the partitions of a transaction one after the
# other, so a reader may see a part of it first), then same_set.
wait_set() {
    local i
    sort "$3" >"$WORK/$1.want"
    for ((i = 0; i < $4; i++)); do
        read_set "$1" "$2" read_committed
        [ -z "$(comm -13 "$WORK/$1.got" "$WORK/$1.want" | head -n 1)" ] && break
        sleep 1
    done
    same_set "$1" "$3" "$5"
}
# check NAME SPEC ISOLATION EXPECTED_FILE WHAT. A commit returns once the coordinator has
# logged its decision, before every marker is written (Kafka too): read_committed is read
# again for a while when expected values are missing.
check() {
    if [ "$3" = read_committed ] && [ -s "$4" ]; then
        wait_set "$1" "$2" "$4" 30 "$5"
        return
    fi
    read_set "$1" "$2" "$3"
    same_set "$1" "$4" "$5"
}

# ------------------------------------------------------------- 1. commit, abort, mix
topic one 1
run commit "$TR" produce "$BOOT" t-commit one:1 c 40 commit
run abort "$TR" produce "$BOOT" t-abort one:1 a 40 abort
grep -qx 'committed 0' "$WORK/commit.out" || fail "commit: no 'committed 0'"
grep -qx 'aborted 0' "$WORK/abort.out" || fail "abort: no 'aborted 0'"
ids c 0 40 >"$WORK/one.committed"
{ ids c 0 40; ids a 0 40; } >"$WORK/one.all"
check one_rc one:1 read_committed "$WORK/one.committed" "read_committed after a commit and an abort"
check one_ru one:1 read_uncommitted "$WORK/one.all" "read_uncommitted after a commit and an abort"
log "1: a committed transaction is visible, an aborted one is not (read_uncommitted sees both)"

topic mixa 3
topic mixb 2
MIX=mixa:3,mixb:2
run mix "$TR" produce "$BOOT" t-mix "$MIX" m 50 commit,abort,commit,abort,commit
{ ids m 0 50; ids m 2 50; ids m 4 50; } >"$WORK/mix.committed"
{ for t in 0 1 2 3 4; do ids m $t 50; done; } >"$WORK/mix.all"
check mix_rc "$MIX" read_committed "$WORK/mix.committed" "3 committed and 2 aborted transactions over 5 partitions"
check mix_ru "$MIX" read_uncommitted "$WORK/mix.all" "read_uncommitted of 5 transactions over 5 partitions"
log "1: commit, abort, commit, abort, commit over 2 topics and 5 partitions: read_committed sees the 150 committed records once, none of the 100 aborted"

# ------------------------------------------------------------- 2. fencing
topic fence 3
bgrun deadone "$TR" produce "$BOOT" t-fence fence:3 dead 30 hang
wait_line deadone 'open 0' 60
kill9 deadone
log "2: producer with an open transaction killed with kill -9"
run successor "$TR" produce "$BOOT" t-fence fence:3 succ 30 commit
grep -qx 'committed 0' "$WORK/successor.out" || fail "successor: no 'committed 0'"

bgrun zombie "$TR" produce "$BOOT" t-zombie fence:3 zomb 20 "wait:$WORK/zombie.go"
wait_line zombie 'open 0' 60
run heir "$TR" produce "$BOOT" t-zombie fence:3 heir 20 commit
touch "$WORK/zombie.go"
reap zombie 60
[ "$RC" = 3 ] || { cat "$WORK/zombie.out" >&2; tail -n 5 "$WORK/zombie.err" >&2; fail "zombie: the fenced producer's commit exited $RC (expected 3: fenced)"; }
grep -q '^error commit_transaction' "$WORK/zombie.out" || fail "zombie: no commit_transaction error"
{ ids succ 0 30; ids heir 0 20; } >"$WORK/fence.committed"
{ ids dead 0 30; ids succ 0 30; ids zomb 0 20; ids heir 0 20; } >"$WORK/fence.all"
check fence_rc fence:3 read_committed "$WORK/fence.committed" "after fencing"
check fence_ru fence:3 read_uncommitted "$WORK/fence.all" "read_uncommitted after fencing"
log "2: the killed producer's and the zombie's records are never visible ($(sed -n 's/^error //p' "$WORK/zombie.out")), their successors' are"

# ------------------------------------------------------------- 3. transaction timeout
topic tmo 2
bgrun stalled "$TR" produce "$BOOT" t-stalled tmo:2 stall 20 hang transaction.timeout.ms=15000 message.timeout.ms=15000
wait_line stalled 'open 0' 60
t_open=$(date +%s)
run later "$TR" produce "$BOOT" t-later tmo:2 later 20 commit
: >"$WORK/empty"
# Checked while the stalled transaction surely is still open (15 s timeout;
# a loaded machine may take a few seconds to get here).
if [ $(($(date +%s) - t_open)) -le 8 ]; then
    check tmo_held tmo:2 read_committed "$WORK/empty" "a commit behind an open transaction"
    log "3: a transaction committed after a stalled one is not visible yet (last stable offset)"
fi
ids later 0 20 >"$WORK/tmo.committed"
wait_set tmo_rc tmo:2 "$WORK/tmo.committed" 60 "after the stalled transaction timed out (60 s)"
kill -0 "$PID_stalled" 2>/dev/null || fail "tmo: the stalled producer exited (it should hang until killed)"
log "3: the broker aborted the stalled transaction after $(($(date +%s) - t_open)) s; read_committed sees only the later one"
kill9 stalled

# ------------------------------------------------------------- 4. send_offsets_to_transaction
topic ein 3
topic eout 2
run ein "$TR" produce "$BOOT" t-ein ein:3 in 30 commit
# committed_is NAME FILE [SECONDS]: the group's committed offsets equal FILE's "TOPIC
# PARTITION OFFSET" lines (asked again for up to SECONDS: the marker that makes offsets of a
# committed transaction visible may follow the commit's answer).
committed_is() {
    local i
    for ((i = 0; i <= ${3:-0}; i++)); do
        [ "$i" = 0 ] || sleep 1
        run "$1" "$TR" committed "$BOOT" grp ein:3
        sort "$WORK/$1.out" >"$WORK/$1.sorted"
        sort "$2" | cmp -s - "$WORK/$1.sorted" && return 0
    done
    cat "$WORK/$1.out" >&2
    fail "$1: the group's committed offsets are not $(tr '\n' ';' <"$2")"
}
printf 'ein 0 -1001\nein 1 -1001\nein 2 -1001\n' >"$WORK/none.offsets"
run eos_abort "$TR" eos "$BOOT" t-eos grp ein:3 eout 30 abort
grep -qx 'aborted 0' "$WORK/eos_abort.out" || fail "eos_abort: no 'aborted 0'"
committed_is offs_abort "$WORK/none.offsets"
check eout_abort eout:2 read_committed "$WORK/empty" "output of an aborted consume-transform-produce transaction"
log "4: an aborted transaction with offsets: no offset committed, no output"

bgrun eos "$TR" eos "$BOOT" t-eos grp ein:3 eout 30 "wait:$WORK/eos.go"
wait_line eos 'open 0' 60
committed_is offs_open "$WORK/none.offsets"
check eout_open eout:2 read_committed "$WORK/empty" "output of an open transaction"
touch "$WORK/eos.go"
reap eos 60
[ "$RC" = 0 ] || { tail -n 20 "$WORK/eos.err" >&2; fail "eos: exited $RC"; }
grep -qx 'committed 0' "$WORK/eos.out" || fail "eos: no 'committed 0'"
sed -n 's/.*eos: sending offset \([^ ]*\) \[\([0-9]*\)\] \([0-9-]*\)$/\1 \2 \3/p' "$WORK/eos.err" >"$WORK/sent.offsets"
[ "$(wc -l <"$WORK/sent.offsets")" = 3 ] || fail "eos: $(wc -l <"$WORK/sent.offsets") offsets sent, expected 3"
awk '$3 < 10 { bad = 1 } END { exit bad }' "$WORK/sent.offsets" ||
    fail "eos: an offset sent is below 10 records a partition: $(tr '\n' ';' <"$WORK/sent.offsets")"
committed_is offs_commit "$WORK/sent.offsets" 30
ids in 0 30 | sed 's/^/out-/' >"$WORK/eout.committed"
check eout_commit eout:2 read_committed "$WORK/eout.committed" "output after the commit"
log "4: offsets sent in a transaction are invisible while it is open and exactly those sent after the commit ($(tr '\n' ';' <"$WORK/sent.offsets")); the output holds the 30 transformed records once"

# ------------------------------------------------------------- 5. broker crash at each step
if [ "$TARGET" = kafka ]; then
    log "5: skipped on Apache Kafka (the crash hook is Eddy's)"
    log "PASS on Apache Kafka"
    exit 0
fi
topic crash 3
: >"$WORK/crash.committed"
: >"$WORK/crash.all"
for step in prepare marker complete; do
    for end in commit abort; do
        id=t-crash-$step-$end
        stop_broker
        export EDDY_TEST_TXN_CRASH=$step
        start_broker "$WORK/eddy" --set group.initial.rebalance.delay.ms=0
        unset EDDY_TEST_TXN_CRASH
        BOOT=$BOOTSTRAP
        bgrun crasher "$TR" produce "$BOOT" "$id" crash:3 "x$step$end" 30 "$end"
        _wait_broker 60
        [ -n "$_BROKER_RC" ] || { tail -n 20 "$WORK/crasher.err" >&2; fail "$step/$end: the broker did not crash within 60 s (EDDY_TEST_TXN_CRASH=$step)"; }
        BROKER_PID=""
        _stop_watchdog
        [ "$_BROKER_RC" = 137 ] || fail "$step/$end: the broker exited $_BROKER_RC, not by SIGKILL (137)"
        kill9 crasher
        grep -q 'EDDY_TEST_TXN_CRASH' "$BROKER_LOG" ||
            fail "$step/$end: the broker died without its EDDY_TEST_TXN_CRASH line"
        start_broker "$WORK/eddy" --set group.initial.rebalance.delay.ms=0
        BOOT=$BOOTSTRAP
        ids "x$step$end" 0 30 >>"$WORK/crash.all"
        [ "$end" = commit ] && ids "x$step$end" 0 30 >>"$WORK/crash.committed"
        # The restarted coordinator ends the crashed transaction by itself: a transaction
        # of another producer committed after it becomes visible (the last stable offset
        # moves past the crashed one), with the crashed records if it was a commit.
        run "other-$step-$end" "$TR" produce "$BOOT" "t-other-$step-$end" crash:3 "o$step$end" 10 commit
        ids "o$step$end" 0 10 >>"$WORK/crash.committed"
        ids "o$step$end" 0 10 >>"$WORK/crash.all"
        wait_set "crash-$step-$end" crash:3 "$WORK/crash.committed" 30 \
            "after kill -9 at $step of a transaction to $end and a restart (30 s)"
        # A successor with the crashed producer's transactional.id commits.
        run "succ-$step-$end" "$TR" produce "$BOOT" "$id" crash:3 "s$step$end" 10 commit
        ids "s$step$end" 0 10 >>"$WORK/crash.committed"
        ids "s$step$end" 0 10 >>"$WORK/crash.all"
        check "succ-$step-$end" crash:3 read_committed "$WORK/crash.committed" "after the successor of the crashed producer"
        log "5: broker killed right after '$step' ($end) and restarted: the 30 records $( [ "$end" = commit ] && echo "visible once" || echo "never visible"), another producer's and the successor's commits visible"
    done
done
check crash_ru crash:3 read_uncommitted "$WORK/crash.all" "read_uncommitted after the crashes"
# The aborted transactions of sections 1 and 2, written before the 12 restarts (6 of them
# kill -9), are still told apart from the committed ones.
check mix_after "$MIX" read_committed "$WORK/mix.committed" "the 2 topics of section 1 after the restarts"
check fence_after fence:3 read_committed "$WORK/fence.committed" "the topic of section 2 after the restarts"
check fence_after_ru fence:3 read_uncommitted "$WORK/fence.all" "the topic of section 2 after the restarts (read_uncommitted)"
log "5: after the restarts, read_committed still leaves out the aborted transactions of sections 1 and 2"
stop_broker
log "PASS on Eddy's broker"
