#!/usr/bin/env bash
# Kafka's own Java software against one Eddy broker: the clients, the
# command-line tools and Kafka Streams of the release pinned in
# tests/kafka/pom.xml (jars fetched by scripts/kafka.sh fetch), unchanged and
# with their default settings, the way a user would point them at Eddy.
#
#  1. clients: Kafka's producer (defaults: enable.idempotence=true, acks=all)
#     writes a corpus of numbered, keyed records; Kafka's consumer (defaults)
#     reads every one exactly once, offsets without a hole, each key on one
#     partition.
#  2. group: 3 Java consumers and 1 librdkafka consumer in one group share a
#     6-partition topic (disjoint assignments covering it); records produced
#     while they run are all consumed (at least once; duplicates reported).
#  3. CLI: kafka-topics (--create with --config, --describe, --alter
#     --partitions, --list, --delete), kafka-configs (--describe, --alter
#     --add-config/--delete-config), kafka-console-producer and
#     kafka-console-consumer with defaults, kafka-consumer-groups (--list,
#     --describe, --reset-offsets --to-earliest --execute, --delete),
#     kafka-get-offsets (--time -1, -2, -3 max-timestamp, -4 earliest-local),
#     kafka-delete-records: their outputs checked.
#  4. Kafka Streams, 2 instances of a word count and a windowed count
#     (tests/java/EddyStreams.java): internal topics created on Eddy with
#     Streams' settings, the repartition topic purged through DeleteRecords
#     (its log start offsets move), output equal to an awk model of the corpus.
#  5. Kafka Streams, kill -9 of one of 2 instances (it owns tasks) while
#     input arrives: the survivor takes over every task and every count ends
#     >= the model (at_least_once), none missing; over-counts are reported.
#
#   java_suite.sh EDDY GROUPS_RDKAFKA CLASSES_DIR
# CLASSES_DIR: where tests/java/*.java are compiled (javac, every run). Needs
# java and javac (17+) and the jars (scripts/kafka.sh fetch, run here if
# they are missing; no jars is a failure, not a skip).
. "$(dirname "$0")/../compat/lib.sh"
compat_init java_suite "$1"
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
GR=$(abs "${2:?usage: java_suite.sh EDDY GROUPS_RDKAFKA CLASSES_DIR}")
mkdir -p "${3:?usage: java_suite.sh EDDY GROUPS_RDKAFKA CLASSES_DIR}"
CLS=$(cd "$3" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
KAFKA_SH=$SRC/scripts/kafka.sh
LIB=$SRC/tests/kafka/lib
need awk sort timeout java javac
export LC_ALL=C

timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
KVER=$(ls "$LIB" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p')
[ -n "$KVER" ] || fail "no kafka-clients jar in $LIB"
rm -rf "$CLS"/*
javac -nowarn -d "$CLS" -cp "$LIB/*" "$SRC"/tests/java/*.java "$SRC"/tests/java/org/slf4j/impl/*.java \
    2>"$WORK/javac.err" || { cat "$WORK/javac.err" >&2; fail "javac tests/java failed"; }

# One JVM per tool call, as the kafka-*.sh scripts start them; small heaps
# and the client compiler only: most of these live a second or two.
JOPTS=(-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true)
jrun() { timeout -k 5 "${JT:-60}" java "${JOPTS[@]}" -cp "$CLS:$LIB/*" "$@"; }
# tool CLASS ARGS...: a Kafka command-line tool against the Eddy broker.
tool() { local c=$1; shift; jrun "$c" --bootstrap-server "$EB" "$@"; }
topics() { tool org.apache.kafka.tools.TopicCommand "$@"; }
configs() { tool kafka.admin.ConfigCommand "$@"; }
cgroups() { tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@"; }
get_offsets() { tool org.apache.kafka.tools.GetOffsetShell "$@"; }
# bgjava NAME CLASS ARGS...: a long-lived JVM in the background, stdout in
# $WORK/NAME.out, stderr in NAME.err, its pid in PID_NAME. Not under
# timeout(1), so that kill -9 of that pid kills the JVM itself; every wait on
# one is bounded, the cleanup stops them by pid, and a watchdog kills them
# should this script be killed outright.
JVM_PIDS=$WORK/jvm.pids
: >"$JVM_PIDS"
(
    trap - EXIT INT TERM
    pids=""
    while kill -0 $$ 2>/dev/null; do
        pids=$(cat "$JVM_PIDS" 2>/dev/null || echo "$pids")
        sleep 1
    done
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
) >/dev/null 2>&1 </dev/null &
bgjava() {
    local n=$1
    shift
    java "${JOPTS[@]}" -cp "$CLS:$LIB/*" "$@" >"$WORK/$n.out" 2>"$WORK/$n.err" &
    bg_started $!
    echo $! >>"$JVM_PIDS"
    eval "PID_$n=$!"
}
# wait_exit PID SECONDS: its exit status in RC, or fail if it is still running.
wait_exit() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && fail "process $1 did not exit within $2 s of SIGTERM"
    RC=0
    wait "$1" || RC=$?
    bg_done "$1"
}
# run NAME CMD...: CMD's stdout in $WORK/NAME.out, stderr in NAME.err;
# failing the test, with both, if it exits non-zero.
run() {
    local n=$1
    shift
    "$@" >"$WORK/$n.out" 2>"$WORK/$n.err" ||
        { cat "$WORK/$n.out" "$WORK/$n.err" >&2; fail "$n: '$*' failed (exit status above)"; }
}
expect() { # NAME ERE WHAT: $WORK/NAME.out must match ERE
    grep -Eq -- "$2" "$WORK/$1.out" || { cat "$WORK/$1.out" "$WORK/$1.err" >&2; fail "$1: $3"; }
}
# Java client warnings and errors (the slf4j binding in tests/java) go to
# the .err files: an API or version the broker does not answer shows there.
client_errors() { # FILE...: fail on a client-side ERROR or an unsupported request
    local f
    for f in "$@"; do
        if grep -E ' ERROR \[|UnsupportedVersionException|does not support' "$f" >&2; then
            fail "$(basename "$f"): the Java client logged the errors above"
        fi
    done
}

start_broker "$WORK/eddy" --set group.initial.rebalance.delay.ms=0 --set num.partitions=1
EB=$BOOTSTRAP
log "Eddy broker at $EB; Kafka $KVER's Java clients, tools and Streams from $LIB"

# The corpus: ID KEY TS TEXT..., IDs 0..N-1, 40 keys, event times 50 ms apart
# from the minute 10 minutes ago (5 tumbling windows per key), 2-6 words
# from a 30-word vocabulary. Deterministic apart from its start time.
N=4000
BASE=$(( ($(date +%s) - 600) / 60 * 60 * 1000 ))
awk -v n=$N -v base="$BASE" 'BEGIN {
    split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike " \
          "november oscar papa quebec romeo sierra tango uniform victor whiskey xray " \
          "yankee zulu eddy stream window count", w, " ")
    s = 7
    for (i = 0; i < n; i++) {
        line = i " user" (i * 7 % 40) " " sprintf("%.0f", base + i * 50)
        s = (s * 1103515245 + 12345) % 2147483648
        m = 2 + s % 5
        for (j = 0; j < m; j++) { s = (s * 1103515245 + 12345) % 2147483648; line = line " " w[1 + int(s / 65536) % 30] }
        print line
    }
}' >"$WORK/corpus"
# The models, from the corpus alone: count per word; count per key and
# 1-minute window ("KEY@START").
awk '{ for (i = 4; i <= NF; i++) c[$i]++ } END { for (k in c) print k, c[k] }' "$WORK/corpus" |
    sort >"$WORK/model.words"
awk '{ c[$2 "@" sprintf("%.0f", $3 - $3 % 60000)]++ } END { for (k in c) print k, c[k] }' "$WORK/corpus" |
    sort >"$WORK/model.windows"

# ------------------------------------------------------------ 1. clients
run create-corpus topics --create --topic corpus --partitions 4
expect create-corpus '^Created topic corpus\.' "kafka-topics --create did not say it created the topic"
run produce jrun EddyClients produce "$EB" corpus "$WORK/corpus"
client_errors "$WORK/produce.err"
expect produce "^ACKED $N\$" "the producer did not get $N acknowledgements"
run consume jrun EddyClients consume "$EB" corpus c1 c1 $N
client_errors "$WORK/consume.err"
awk -v n=$N '$2 == "REC" { seen[$5]++; if (next_off[$3] != $4) hole = hole " p" $3 "@" $4; next_off[$3] = $4 + 1 }
    END { for (i = 0; i < n; i++) if (seen[i] != 1) { print "id " i " seen " seen[i] + 0 " times"; bad = 1 }
          if (hole != "") { print "offsets not consecutive from 0 at" hole; bad = 1 }
          exit bad }' "$WORK/consume.out" >"$WORK/consume.check" ||
    { head "$WORK/consume.check" >&2; fail "clients: the consumer did not read each record once"; }
# Kafka's default partitioner: one partition per key.
awk 'NR == FNR { key[$1] = $2; next } $2 == "REC" { p[key[$5]] = p[key[$5]] " " $3 }
     END { for (k in p) { split(p[k], a, " "); for (i in a) if (a[i] != a[1]) { print k ":" p[k]; exit 1 } } }' \
    "$WORK/corpus" "$WORK/consume.out" >"$WORK/keys.check" ||
    fail "clients: a key's records are on more than one partition: $(head -c 300 "$WORK/keys.check")"
log "1. Java producer (defaults) wrote $N records, Java consumer (defaults) read each once"

# -------------------------------------------------------------- 2. group
run create-grp topics --create --topic grp --partitions 6
consumers=""
for c in j1 j2 j3; do bgjava $c EddyClients consume "$EB" grp mixed $c; done
timeout -k 5 180 "$GR" consume "$EB" mixed grp --name=rd --lifetime=170 >"$WORK/rd.out" 2>"$WORK/rd.err" &
PID_rd=$!
bg_started $PID_rd
# The last assignment of each of the 4: "NAME P,P,..." lines.
assignments() {
    for c in j1 j2 j3; do
        awk -v c=$c '$2 == "ASSIGN" { a = $3 } END { print c, (a == "" ? "none" : a) }' "$WORK/$c.out"
    done
    awk '$2 == "ASSIGN" { a = $4 } END { print "rd", (a == "" ? "none" : a) }' "$WORK/rd.out"
}
settled=0
for i in $(seq 1 120); do
    assignments >"$WORK/assign"
    # Each has partitions, none twice, all 6 covered.
    if awk '{ if ($2 == "none" || $2 == "-") bad = 1; n = split($2, p, ","); for (i = 1; i <= n; i++) if (seen[p[i]]++) bad = 1; tot += n }
            END { exit bad || tot != 6 }' "$WORK/assign"; then
        settled=1
        break
    fi
    sleep 0.5
done
[ $settled = 1 ] || { cat "$WORK/assign" >&2; fail "group: 3 Java and 1 librdkafka consumers did not settle on disjoint partitions covering the topic in 60 s"; }
log "2. group settled: $(tr '\n' ' ' <"$WORK/assign")"
# kafka-consumer-groups sees the 4 members (GROUP CONSUMER-ID HOST CLIENT-ID
# #PARTITIONS), the librdkafka one among them, holding the 6 partitions.
run g-members cgroups --describe --group mixed --members
awk '$1 == "mixed" { n++; s += $NF; if ($4 == "rdkafka" || $2 ~ /^rd-/) rd++ } END { exit n != 4 || s != 6 || rd != 1 }' \
    "$WORK/g-members.out" ||
    { cat "$WORK/g-members.out" >&2; fail "kafka-consumer-groups --describe --members: want 4 members (1 librdkafka) with 6 partitions"; }
run produce-grp jrun EddyClients produce "$EB" grp "$WORK/corpus"
covered=0
for i in $(seq 1 120); do
    n=$({ awk '$2 == "REC" { print $5 }' "$WORK"/j?.out; awk '$2 == "REC" { print $5 }' "$WORK/rd.out"; } | sort -u | wc -l)
    [ "$n" = $N ] && { covered=1; break; }
    sleep 0.5
done
for c in j1 j2 j3 rd; do
    p=$(eval echo "\$PID_$c")
    kill -TERM "$p" 2>/dev/null || true
done
for c in j1 j2 j3 rd; do
    wait_exit "$(eval echo "\$PID_$c")" 30
    rc=$RC
    # A JVM ends with 143 on SIGTERM once its shutdown hooks ran; the
    # consumer's hook closes it (commit, LeaveGroup) and prints EXIT.
    case "$c:$rc" in
    rd:0 | j?:143) ;;
    *) tail -n 20 "$WORK/$c.err" >&2; fail "group: consumer $c exited with status $rc after SIGTERM" ;;
    esac
    [ $c = rd ] || [ "$(tail -n 1 "$WORK/$c.out")" = "$c EXIT" ] || fail "group: consumer $c did not close"
done
[ $covered = 1 ] || fail "group: the 4 consumers read $n of the $N records within 60 s"
client_errors "$WORK"/j?.err
{ awk '$2 == "REC" { print $1, $5 }' "$WORK"/j?.out; awk '$2 == "REC" { print "rd", $5 }' "$WORK/rd.out"; } >"$WORK/grp.recs"
for c in j1 j2 j3 rd; do
    grep -q "^$c " "$WORK/grp.recs" || fail "group: consumer $c read nothing"
done
dups=$(awk '{ c[$2]++ } END { for (k in c) if (c[k] > 1) d++; print d + 0 }' "$WORK/grp.recs")
log "2. the group read all $N records ($(awk '{ c[$1]++ } END { for (k in c) printf "%s %d, ", k, c[k] }' "$WORK/grp.recs")$dups read twice)"

# ---------------------------------------------------------------- 3. CLI
run t-create topics --create --topic cli --partitions 2 --config retention.ms=3600000 \
    --config message.timestamp.type=LogAppendTime
expect t-create '^Created topic cli\.' "kafka-topics --create"
run t-describe topics --describe --topic cli
expect t-describe 'PartitionCount: 2[[:space:]]' "kafka-topics --describe: want 2 partitions"
expect t-describe 'Configs: .*retention\.ms=3600000' "kafka-topics --describe does not show retention.ms=3600000"
expect t-describe 'Configs: .*message\.timestamp\.type=LogAppendTime' \
    "kafka-topics --describe does not show message.timestamp.type=LogAppendTime"
run t-alter topics --alter --topic cli --partitions 4
run t-describe2 topics --describe --topic cli
expect t-describe2 'PartitionCount: 4[[:space:]]' "after --alter --partitions 4, --describe shows $(grep -o 'PartitionCount: [0-9]*' "$WORK/t-describe2.out")"
[ "$(grep -c 'Partition: [0-3][[:space:]]' "$WORK/t-describe2.out")" = 4 ] ||
    fail "kafka-topics --describe lists $(grep -c 'Partition: ' "$WORK/t-describe2.out") partitions, want 4"

run c-describe configs --entity-type topics --entity-name cli --describe
expect c-describe '^ *retention\.ms=3600000 ' "kafka-configs --describe does not show retention.ms=3600000"
run c-alter configs --entity-type topics --entity-name cli --alter --add-config retention.ms=7200000,max.message.bytes=200000
run c-describe2 configs --entity-type topics --entity-name cli --describe
expect c-describe2 '^ *retention\.ms=7200000 ' "kafka-configs --alter --add-config retention.ms=7200000 did not take"
expect c-describe2 '^ *max\.message\.bytes=200000 ' "kafka-configs --alter --add-config max.message.bytes did not take"
run c-delete configs --entity-type topics --entity-name cli --alter --delete-config max.message.bytes
run c-describe3 configs --entity-type topics --entity-name cli --describe
grep -q 'max\.message\.bytes=' "$WORK/c-describe3.out" &&
    { cat "$WORK/c-describe3.out" >&2; fail "kafka-configs --delete-config max.message.bytes: still set"; }
expect c-describe3 '^ *retention\.ms=7200000 ' "kafka-configs --delete-config removed more than it was asked to"

awk 'BEGIN { for (i = 0; i < 200; i++) print "k" (i % 13) ":line " i }' >"$WORK/lines"
run console-producer tool org.apache.kafka.tools.ConsoleProducer --topic cli \
    --property parse.key=true --property key.separator=: <"$WORK/lines"
client_errors "$WORK/console-producer.err"
run console-consumer tool org.apache.kafka.tools.consumer.ConsoleConsumer --topic cli --group cli-g \
    --from-beginning --max-messages 200 --timeout-ms 30000 \
    --property print.key=true --property key.separator=: --property print.timestamp=true \
    --property print.partition=true --property print.offset=true
client_errors "$WORK/console-consumer.err"
# Lines TIMESTAMP_TYPE:MS:Partition:P:Offset:O:KEY:VALUE (key.separator between fields).
sed 's/^[A-Za-z]*:[0-9]*:Partition:[0-9]*:Offset:[0-9]*://' "$WORK/console-consumer.out" | sort >"$WORK/consumed"
sort "$WORK/lines" | cmp -s - "$WORK/consumed" ||
    { diff <(sort "$WORK/lines") "$WORK/consumed" | head >&2; fail "kafka-console-consumer did not print the 200 lines kafka-console-producer sent"; }
# message.timestamp.type=LogAppendTime: the broker stamped them.
[ "$(grep -c '^LogAppendTime:[0-9]*:' "$WORK/console-consumer.out")" = 200 ] ||
    { head -3 "$WORK/console-consumer.out" >&2; fail "records of a LogAppendTime topic do not carry LogAppendTime"; }
# kafka-get-offsets --time -3 (max-timestamp, ListOffsets v7): per partition,
# the first offset holding its largest timestamp, as the consumer saw them.
run offsets-max get_offsets --topic cli --time -3
awk -F: '{ p = $4; if (!(p in m) || $2 > m[p] || ($2 == m[p] && $6 < o[p])) { m[p] = $2; o[p] = $6 } }
         END { for (p in m) print "cli:" p ":" o[p] }' "$WORK/console-consumer.out" | sort >"$WORK/offsets-max.want"
sort "$WORK/offsets-max.out" | cmp -s - "$WORK/offsets-max.want" ||
    { diff "$WORK/offsets-max.want" <(sort "$WORK/offsets-max.out") >&2 || true; fail "kafka-get-offsets --time -3: not the first offset of each partition's largest timestamp (want < > got)"; }

run g-list cgroups --list
expect g-list '^cli-g$' "kafka-consumer-groups --list does not show cli-g"
# describe: GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
lag_check() { # NAME WANT_CURRENT_SUM WANT_END_SUM WANT_LAG_SUM
    run "$1" cgroups --describe --group cli-g
    awk -v c="$2" -v e="$3" -v l="$4" '$1 == "cli-g" && $2 == "cli" { n++; cs += $4; es += $5; ls += $6 }
        END { if (n != 4 || cs != c || es != e || ls != l) { printf "partitions %d, current %d, end %d, lag %d; want 4, %d, %d, %d\n", n, cs, es, ls, c, e, l; exit 1 } }' \
        "$WORK/$1.out" >"$WORK/$1.check" ||
        { cat "$WORK/$1.out" >&2; fail "kafka-consumer-groups --describe: $(cat "$WORK/$1.check")"; }
}
lag_check g-describe 200 200 0
awk 'BEGIN { for (i = 200; i < 230; i++) print "k" (i % 13) ":line " i }' >"$WORK/lines2"
run console-producer2 tool org.apache.kafka.tools.ConsoleProducer --topic cli \
    --property parse.key=true --property key.separator=: <"$WORK/lines2"
lag_check g-describe2 200 230 30
run g-reset cgroups --reset-offsets --group cli-g --topic cli --to-earliest --execute
awk '$1 == "cli-g" && $2 == "cli" { n++; s += $4 } END { exit n != 4 || s != 0 }' "$WORK/g-reset.out" ||
    { cat "$WORK/g-reset.out" >&2; fail "kafka-consumer-groups --reset-offsets --to-earliest: want NEW-OFFSET 0 on 4 partitions"; }
lag_check g-describe3 0 230 230

run offsets get_offsets --topic cli
awk -F: '$1 == "cli" { n++; s += $3; e[$2] = $3 } END { if (n != 4 || s != 230) exit 1; for (p in e) print p, e[p] }' \
    "$WORK/offsets.out" | sort -k2,2nr >"$WORK/ends" ||
    { cat "$WORK/offsets.out" >&2; fail "kafka-get-offsets: want 4 partitions ending at 230 records in all"; }
# kafka-delete-records on the fullest partition, to its middle.
read -r P END <"$WORK/ends"
MID=$((END / 2))
echo "{\"partitions\": [{\"topic\": \"cli\", \"partition\": $P, \"offset\": $MID}], \"version\": 1}" >"$WORK/delete.json"
run delete-records tool org.apache.kafka.tools.DeleteRecordsCommand --offset-json-file "$WORK/delete.json"
expect delete-records "partition: cli-$P[[:space:]]+low_watermark: $MID" "kafka-delete-records: want low_watermark $MID on cli-$P"
run offsets2 get_offsets --topic cli --time -2
awk -F: -v p="$P" -v m=$MID '$1 == "cli" { n++; if ($3 != ($2 == p ? m : 0)) bad = 1 } END { exit bad || n != 4 }' "$WORK/offsets2.out" ||
    { cat "$WORK/offsets2.out" >&2; fail "kafka-get-offsets --time -2: want cli:$P:$MID and 0 elsewhere"; }
# -4 (earliest-local, ListOffsets v8): every segment is local, so the log start.
run offsets3 get_offsets --topic cli --time -4
cmp -s <(sort "$WORK/offsets2.out") <(sort "$WORK/offsets3.out") ||
    { cat "$WORK/offsets3.out" >&2; fail "kafka-get-offsets --time -4 differs from --time -2"; }

run g-delete cgroups --delete --group cli-g
expect g-delete "Deletion of requested consumer groups \('cli-g'\) was successful" "kafka-consumer-groups --delete"
run g-list2 cgroups --list
grep -q '^cli-g$' "$WORK/g-list2.out" && fail "kafka-consumer-groups --list still shows cli-g after --delete"
run t-delete topics --delete --topic cli
run t-list topics --list
grep -q '^cli$' "$WORK/t-list.out" && fail "kafka-topics --list still shows cli after --delete"
expect t-list '^corpus$' "kafka-topics --list does not show corpus"
log "3. kafka-topics, kafka-configs, console producer/consumer, kafka-consumer-groups, kafka-get-offsets, kafka-delete-records: outputs as expected"

# ----------------------------------------------------------- 4. streams
# The application's settings: Streams' defaults (at_least_once) but for a
# short commit and purge interval and session timeout, so that this test is
# quick and survives a kill within seconds.
SOPTS=(commit.interval.ms=500 repartition.purge.interval.ms=500 session.timeout.ms=6000 heartbeat.interval.ms=1000)
start_streams() { # NAME APP INPUT
    mkdir -p "$WORK/state-$1"
    bgjava "$1" EddyStreams "$EB" "$2" "$3" "$2-out" "$WORK/state-$1" "${SOPTS[@]}"
}
stop_streams() { # NAME...: SIGTERM, exit 0
    local n rc
    for n in "$@"; do kill -TERM "$(eval echo "\$PID_$n")" 2>/dev/null || true; done
    for n in "$@"; do
        wait_exit "$(eval echo "\$PID_$n")" 40
        rc=$RC
        [ $rc = 143 ] && grep -q '^CLOSED$' "$WORK/$n.out" ||
            { tail -n 30 "$WORK/$n.err" >&2; fail "streams instance $n did not close on SIGTERM (status $rc)"; }
    done
}
# latest APP KIND: the last value per key of APP-out-KIND, "KEY COUNT" sorted.
latest() {
    timeout 30 "$EDDY" -b "$EB" topic consume "$1-out-$2" -o beginning -e -f '%k %v\n' --value-format int64 2>/dev/null |
        awk '{ v[$1] = $2 } END { for (k in v) print k, v[k] }' | sort
}
# compare MODEL GOT: "equal", or "ge" (every model key present, count >=, some >),
# or "short" (a key missing or below the model).
compare() {
    join -a1 "$1" "$2" | awk 'NF < 3 || $3 < $2 { s = 1 } $3 > $2 { g++ } END { print s ? "short" : (g ? "ge " g : "equal") }'
}
wait_output() { # APP WANT(equal|ge) SECONDS
    local i w c
    for i in $(seq 1 $(($3 * 2))); do
        latest "$1" words >"$WORK/$1.words"
        latest "$1" windows >"$WORK/$1.windows"
        w=$(compare "$WORK/model.words" "$WORK/$1.words")
        c=$(compare "$WORK/model.windows" "$WORK/$1.windows")
        if [ "$2" = equal ]; then
            [ "$w" = equal ] && [ "$c" = equal ] && return 0
        else
            [ "$w" != short ] && [ "$c" != short ] && return 0
        fi
        sleep 0.5
    done
    return 1
}
run create-s1 topics --create --topic wc1-out-words --partitions 2
run create-s2 topics --create --topic wc1-out-windows --partitions 2
start_streams s1a wc1 corpus
start_streams s1b wc1 corpus
if ! wait_output wc1 equal 90; then
    join -a1 -a2 -e - -o 0,1.2,2.2 "$WORK/model.words" "$WORK/wc1.words" | awk '$2 != $3' | head >&2
    join -a1 -a2 -e - -o 0,1.2,2.2 "$WORK/model.windows" "$WORK/wc1.windows" | awk '$2 != $3' | head >&2
    tail -n 30 "$WORK/s1a.err" "$WORK/s1b.err" >&2
    fail "streams: the output of 2 instances is not the model's within 90 s (key model output above)"
fi
grep -q '^STATE RUNNING' "$WORK/s1a.out" && grep -q '^STATE RUNNING' "$WORK/s1b.out" ||
    fail "streams: an instance never reached RUNNING"
log "4. word count and windowed count, 2 instances: output = model ($(wc -l <"$WORK/model.words") words, $(wc -l <"$WORK/model.windows") windows)"
run s-list topics --list
for t in wc1-words-repartition wc1-word-counts-changelog wc1-window-counts-changelog; do
    grep -q "^$t\$" "$WORK/s-list.out" || { cat "$WORK/s-list.out" >&2; fail "streams: no internal topic $t on the broker"; }
done
run s-describe topics --describe --topic wc1-word-counts-changelog
expect s-describe 'PartitionCount: 4[[:space:]]' "the changelog does not have the input's 4 partitions"
expect s-describe 'Configs: .*cleanup\.policy=compact' "the changelog is not compacted (cleanup.policy=compact, as Streams asked)"
run s-describe2 topics --describe --topic wc1-words-repartition
expect s-describe2 'Configs: .*cleanup\.policy=delete' "the repartition topic has not Streams' cleanup.policy=delete"
# Streams purges what it consumed of the repartition topic (DeleteRecords
# after a commit): its log start offsets move from 0.
purged=0
for i in $(seq 1 30); do
    get_offsets --topic wc1-words-repartition --time -2 >"$WORK/purge.out" 2>"$WORK/purge.err" || true
    get_offsets --topic wc1-words-repartition --time -1 >"$WORK/purge-end.out" 2>>"$WORK/purge.err" || true
    s=$(awk -F: '{ s += $3 } END { print s + 0 }' "$WORK/purge.out")
    if [ "$s" -gt 0 ]; then purged=1; break; fi
    sleep 0.5
done
[ $purged = 1 ] || { cat "$WORK/purge.out" "$WORK/purge.err" >&2; fail "streams: the repartition topic's log start offsets stayed 0 (no purge)"; }
log "4. repartition topic purged: log start $(tr '\n' ' ' <"$WORK/purge.out")of end $(tr '\n' ' ' <"$WORK/purge-end.out")"
stop_streams s1a s1b
client_errors "$WORK/s1a.err" "$WORK/s1b.err"

# ---------------------------------------------------- 5. streams, kill -9
run create-in2 topics --create --topic corpus2 --partitions 4
run create-s3 topics --create --topic wc2-out-words --partitions 2
run create-s4 topics --create --topic wc2-out-windows --partitions 2
HALF=$((N / 2))
run produce-h1 jrun EddyClients produce "$EB" corpus2 "$WORK/corpus" 0 $HALF
start_streams s2a wc2 corpus2
start_streams s2b wc2 corpus2
active() { awk '$1 == "ACTIVE" { a = $2 } END { print a }' "$WORK/$1.out"; }
# Both instances own active tasks and the output has begun before the kill.
ok=0
for i in $(seq 1 120); do
    a=$(active s2a)
    b=$(active s2b)
    if [ -n "$a" ] && [ "$a" != - ] && [ -n "$b" ] && [ "$b" != - ] && [ -n "$(latest wc2 words | head -1)" ]; then
        ok=1
        break
    fi
    sleep 0.5
done
[ $ok = 1 ] || fail "streams: wc2's 2 instances did not both get tasks and write output within 60 s (s2a: '$a', s2b: '$b')"
all=$(echo "$a,$b" | tr ',' '\n' | sort | paste -sd, -)
# The third quarter, and the kill while the instances work on it (nothing
# waits for their commit): what s2a processed but did not commit is
# processed again by the survivor, which at_least_once allows.
Q3=$((N * 3 / 4))
run produce-q3 jrun EddyClients produce "$EB" corpus2 "$WORK/corpus" $HALF $Q3
kill -9 "$PID_s2a"
wait "$PID_s2a" 2>/dev/null || true
bg_done "$PID_s2a"
log "5. killed instance s2a (kill -9) owning tasks $a while it processed records $HALF-$((Q3 - 1)); s2b owns $b"
run produce-q4 jrun EddyClients produce "$EB" corpus2 "$WORK/corpus" $Q3 $N
# The survivor takes every task once the dead member's session expires.
for i in $(seq 1 120); do
    [ "$(active s2b | tr ',' '\n' | sort | paste -sd, -)" = "$all" ] && break
    sleep 0.5
done
[ "$(active s2b | tr ',' '\n' | sort | paste -sd, -)" = "$all" ] ||
    fail "streams: the survivor has tasks '$(active s2b)' 60 s after the kill, want all of '$all'"
log "5. the survivor took over every task: $all"
if ! wait_output wc2 ge 90; then
    join -a1 -e - -o 0,1.2,2.2 "$WORK/model.words" "$WORK/wc2.words" | awk '$3 == "-" || $3 < $2' | head >&2
    tail -n 30 "$WORK/s2b.err" >&2
    fail "streams: after the kill some count stayed below the model for 90 s (key model output above)"
fi
grep -q '^STATE ERROR' "$WORK/s2b.out" && fail "streams: the survivor went to ERROR"
log "5. after the kill every count >= the model: words $(compare "$WORK/model.words" "$WORK/wc2.words"), windows $(compare "$WORK/model.windows" "$WORK/wc2.windows") (ge N: N keys over-counted, allowed by at_least_once)"
stop_streams s2b
client_errors "$WORK/s2b.err"
broker_alive
stop_broker
log "PASS ($(($(date +%s) - _T0)) s)"
