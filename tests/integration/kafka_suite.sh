#!/usr/bin/env bash
# Eddy on Apache Kafka: one 3-node KRaft cluster of the pinned release
# (scripts/kafka.sh, tests/kafka/pom.xml; default.replication.factor=3,
# min.insync.replicas=2), started once, and an Eddy broker beside it. Every
# case runs against that cluster; where the outcome does not depend on the
# broker, the same commands against the Eddy broker must give the same output.
#
#  1. CLI: eddy topic create/list/describe/produce/consume, eddy group
#     list/describe/reset-offsets and eddy app reset print the same on both
#     (leaders, replicas and ISR aside, which describe must show for Kafka's
#     3 copies); describe marks only what was set on the topic as "(set on
#     the topic)", not Kafka's broker settings.
#  2. Eddy's producer (acks=all) while the partition's leader is killed with
#     kill -9: it finishes soon after the cluster elects a new leader (not
#     request.timeout.ms later) and every acknowledged record is there, once
#     (the producer is idempotent by default).
#  3. Word count, 2 instances with num.standby.replicas=1: exact counts; its
#     changelog and repartition topics have the cluster's 3 replicas; kill -9
#     of an instance: every count >= the reference; kill -9 of the Kafka node
#     leading input and changelog partitions mid-run: the instances go on
#     without a restart, every count >= the reference; eddy app reset and a
#     rerun: exact.
#  4. windowed_count and orders_join: the same output on Kafka as on Eddy's
#     broker, both equal to an awk model.
#
#   kafka_suite.sh EDDY WORDCOUNT WINDOWED_COUNT ORDERS_JOIN KAFKA_PRODUCE
# Needs java (17+), mvn (first run only: fetches the jars into
# tests/kafka/lib) and kcat; scripts/install-deps.sh installs them.
. "$(dirname "$0")/../compat/lib.sh"
compat_init kafka_suite "$1"
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
WC=$(abs "$2")
WCNT=$(abs "$3")
OJ=$(abs "$4")
KP=$(abs "$5")
KAFKA_SH=$(cd "$(dirname "$0")/../.." && pwd)/scripts/kafka.sh
need awk sort join timeout kcat java
export LC_ALL=C

kafka_workdir kafka # the cluster outside $WORK, stopped by its PIDs at exit (lib.sh)

timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
start_broker "$WORK/eddy"
EB=$BOOTSTRAP
KB=$(timeout 180 "$KAFKA_SH" start "$KC" 3) || fail "the 3-node Kafka cluster did not start"
log "Eddy broker at $EB; Kafka $(ls "$(dirname "$KAFKA_SH")/../tests/kafka/lib" | sed -n 's/^kafka_2.13-\(.*\)\.jar$/\1/p') (3 nodes) at $KB"

EE() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$EB" "$@"; }
EK() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$KB" "$@"; }
on() { # e|k ARGS...: eddy against the Eddy broker or the Kafka cluster
    local w=$1
    shift
    if [ "$w" = e ]; then EE "$@"; else EK "$@"; fi
}
bs() { if [ "$1" = e ]; then echo "$EB"; else echo "$KB"; fi; }

# Nodes that answer Metadata (kcat), and a wait until all 3 are back with
# every replica of TOPIC in sync.
brokers_up() { kcat -b "$KB" -L -m 3 2>/dev/null | sed -n 's/^ \([0-9]*\) brokers:.*/\1/p'; }
wait_cluster_whole() { # TOPIC...
    local i t ok
    for i in $(seq 1 120); do
        ok=1
        [ "$(brokers_up)" = 3 ] || ok=0
        for t in "$@"; do
            [ "$ok" = 1 ] || break
            kcat -b "$KB" -L -t "$t" -m 3 2>/dev/null |
                awk '/^ *partition / { n++; r = $0; sub(/.*replicas: /, "", r); sub(/,? isrs:.*/, "", r);
                                       s = $0; sub(/.*isrs: /, "", s);
                                       if (split(r, x, ",") != 3 || split(s, y, ",") != 3) bad = 1 }
                     END { exit bad || !n }' || ok=0
        done
        [ "$ok" = 1 ] && return 0
        sleep 0.5
    done
    fail "the Kafka cluster did not get its 3 nodes and full ISRs back within 60 s"
}
restart_node() { # N TOPIC...
    local n=$1
    shift
    "$KAFKA_SH" restart "$KC" "$n"
    wait_cluster_whole "$@"
}

# ------------------------------------------------- 0. protocol versions
# Kafka 4.x removed old versions of many requests (KIP-896): every request
# Eddy's client sends (the table it shares with Eddy's broker,
# wire/api_versions.c) must have a version both sides speak.
"$KAFKA_SH" class org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$KB" \
    2>/dev/null | tr ',' '\n' | sed -n 's/^[[:space:]]*\([A-Za-z]*\)([0-9]*): \([0-9]*\) to \([0-9]*\).*/\1 \2 \3/p;
                                     s/^[[:space:]]*\([A-Za-z]*\)([0-9]*): \([0-9]*\) \[.*/\1 \2 \2/p' |
    sort -u >"$WORK/kafka_versions"
[ "$(wc -l <"$WORK/kafka_versions")" -gt 20 ] || fail "could not read the cluster's ApiVersions"
awk -F'[{}, ]+' '/^    \{API_/ { n = tolower($2); sub(/^api_/, "", n); m = split(n, p, "_"); c = "";
        for (i = 1; i <= m; i++) c = c toupper(substr(p[i], 1, 1)) substr(p[i], 2); print c, $3, $4 }' \
    "$(dirname "$KAFKA_SH")/../wire/api_versions.c" | sort >"$WORK/eddy_versions"
[ "$(wc -l <"$WORK/eddy_versions")" -gt 10 ] || fail "could not read wire/api_versions.c"
join -a1 "$WORK/eddy_versions" "$WORK/kafka_versions" |
    awk 'NF < 5 { print $1 ": Kafka does not serve it"; bad = 1; next }
         { lo = $2 > $4 ? $2 : $4; hi = $3 < $5 ? $3 : $5;
           if (lo > hi) { print $1 ": Eddy speaks v" $2 "-" $3 ", Kafka v" $4 "-" $5; bad = 1 }
           else used = used " " $1 " v" hi }
         END { print used > "/dev/stderr"; exit bad }' 2>"$WORK/versions_used" >"$WORK/versions_bad" ||
    fail "requests with no version in common with Kafka: $(cat "$WORK/versions_bad")"
log "0. every request has a version Kafka serves:$(cat "$WORK/versions_used")"

# ------------------------------------------------------------------ 1. CLI

awk 'BEGIN { for (i = 0; i < 1000; i++) print "k" (i % 37) ":v" i }' >"$WORK/keyed"
seq 1 200 | sed 's/^/line /' >"$WORK/unkeyed"
list_until() { # e|k FILE PRESENT ABSENT: eddy topic list into FILE (bounded wait)
    local i t ok
    for i in $(seq 1 40); do
        on "$1" topic list | grep -v '^__' >"$2" || fail "$1: topic list"
        ok=1
        for t in $3; do grep -q "^$t " "$2" || ok=0; done
        for t in $4; do grep -q "^$t " "$2" && ok=0; done
        [ "$ok" = 1 ] && return 0
        sleep 0.25
    done
    cat "$2" >&2
    fail "$1: topic list does not show $3 (and not $4) within 10 s"
}
cli_run() { # e|k: the same commands; output in $WORK/cli.<w>.*
    local w=$1 o=$WORK/cli.$1
    on "$w" topic create cli-a -p 3 >"$o.create" || fail "$w: topic create cli-a"
    on "$w" topic create cli-b -p 1 -c retention.ms=3600000 >>"$o.create" || fail "$w: topic create cli-b"
    # Kafka's brokers learn of a new or deleted topic from the controller a
    # moment after the call returns: list until it shows what was done.
    list_until "$w" "$o.list" 'cli-a cli-b' ''

    on "$w" topic produce cli-a -k : --acks all <"$WORK/keyed" 2>"$o.produce" || fail "$w: produce cli-a"
    on "$w" topic produce cli-b --acks all <"$WORK/unkeyed" 2>>"$o.produce" || fail "$w: produce cli-b"
    on "$w" topic describe cli-a >"$o.describe-a" || fail "$w: describe cli-a"
    on "$w" topic describe cli-b >"$o.describe-b" || fail "$w: describe cli-b"
    on "$w" topic consume cli-a -o beginning -e -f '%p %o %k %v\n' | sort >"$o.consume" || fail "$w: consume"
    on "$w" topic consume cli-a -g cli-g -o beginning -e -n 1000 -f '%v\n' | sort >"$o.consume-g" ||
        fail "$w: consume -g"
    on "$w" group list | grep -w cli-g >"$o.glist" || fail "$w: group list has no cli-g"
    on "$w" group describe cli-g >"$o.gdesc1" || fail "$w: group describe"
    on "$w" group reset-offsets cli-g --topic cli-a --to-offset 5 >"$o.reset-plan" || fail "$w: reset plan"
    on "$w" group reset-offsets cli-g --topic cli-a --to-offset 5 --execute >"$o.reset" || fail "$w: reset"
    on "$w" group describe cli-g >"$o.gdesc2" || fail "$w: group describe after the reset"
    on "$w" topic consume cli-a -g cli-g -e -f '%p %o %v\n' | sort >"$o.consume-after" ||
        fail "$w: consume after the reset"
    # eddy app reset on an application's leftovers: its group's offsets,
    # its changelog and repartition topics (deleted), its input (rewound).
    on "$w" topic create wapp-store-changelog -p 3 >/dev/null || fail "$w: create a changelog"
    on "$w" topic create wapp-by-key-repartition -p 3 >/dev/null || fail "$w: create a repartition topic"
    on "$w" topic consume cli-a -g wapp -o beginning -e -n 1000 >/dev/null || fail "$w: consume -g wapp"
    on "$w" app reset --application-id wapp --input-topics cli-a --to-earliest >"$o.appreset" 2>&1 ||
        { cat "$o.appreset" >&2; fail "$w: eddy app reset"; }
    list_until "$w" "$o.list2" 'cli-a cli-b' 'wapp-store-changelog wapp-by-key-repartition'
    on "$w" group describe wapp >"$o.gdesc3" || fail "$w: group describe wapp"
}
cli_run e
cli_run k
# Leaders, replicas and ISR are the cluster's: compare the rest.
for f in create list produce consume consume-g glist gdesc1 reset-plan reset gdesc2 consume-after appreset list2 gdesc3; do
    cmp -s "$WORK/cli.e.$f" "$WORK/cli.k.$f" ||
        { diff "$WORK/cli.e.$f" "$WORK/cli.k.$f" | head -n 20 >&2 || true; fail "cli: '$f' differs between Eddy's broker and Kafka"; }
done
[ "$(wc -l <"$WORK/cli.k.consume")" = 1000 ] || fail "cli: consume read $(wc -l <"$WORK/cli.k.consume") of 1000 records"
[ "$(wc -l <"$WORK/cli.k.consume-after")" = $((1000 - 15)) ] ||
    fail "cli: after --to-offset 5 the group read $(wc -l <"$WORK/cli.k.consume-after") records, want 985"
for d in describe-a describe-b; do
    for w in e k; do
        awk '$1 ~ /^[0-9]+$/ { print $1, $3, $4 }' "$WORK/cli.$w.$d" >"$WORK/cli.$w.$d.table"
    done
    cmp -s "$WORK/cli.e.$d.table" "$WORK/cli.k.$d.table" ||
        { diff "$WORK/cli.e.$d.table" "$WORK/cli.k.$d.table" >&2 || true; fail "cli: $d: partitions and offsets differ"; }
done
# Kafka keeps 3 copies of each partition, all in sync: describe shows them.
awk '$1 ~ /^[0-9]+$/ && (split($5, r, ",") != 3 || split($6, s, ",") != 3) { bad = 1 } END { exit bad }' \
    "$WORK/cli.k.describe-a" || { cat "$WORK/cli.k.describe-a" >&2; fail "cli: describe does not show Kafka's 3 replicas and ISR"; }
# Only retention.ms was set on the topic, on both.
for w in e k; do
    set_here=$(grep -c '(set on the topic)' "$WORK/cli.$w.describe-b" || true)
    grep -q 'retention.ms *3600000  (set on the topic)' "$WORK/cli.$w.describe-b" && [ "$set_here" = 1 ] ||
        { grep '(set' "$WORK/cli.$w.describe-b" >&2; fail "cli: $w: describe marks $set_here settings as set on the topic, want retention.ms alone"; }
done
# KRaft keeps min.insync.replicas as a cluster-wide dynamic default (DescribeConfigs source 3).
grep -Eq 'min.insync.replicas *2  \((broker setting|dynamic cluster-wide broker default)\)' "$WORK/cli.k.describe-b" ||
    fail "cli: Kafka's min.insync.replicas=2 is not shown as the broker's setting"
log "1. CLI: topic/group/app commands print the same on Kafka as on Eddy's broker; describe shows 3 replicas, ISR and where settings come from"

# ------------------------------------------------ 2. produce while the leader dies
# Eddy's producer (kafka_produce: acks=all, one line per acknowledged record)
# with request.timeout.ms=90000: the cluster elects a new leader within
# seconds of the kill (broker.session.timeout.ms, 9 s), and the producer must
# follow it then, not once a request queued for the dead leader times out.
EK topic create acked -p 1 >/dev/null
leader=$("$KAFKA_SH" leader "$KC" acked 0)
[ -n "$leader" ] && [ "$leader" -ge 1 ] || fail "no leader for acked-0"
t0=$(date +%s%N)
"$KP" "$KB" acked 300000 request.timeout.ms=90000 delivery.timeout.ms=180000 >"$WORK/acked.out" 2>"$WORK/acked.err" &
ppid=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $ppid"
sleep 0.5
"$KAFKA_SH" kill "$KC" "$leader"
tk=$(date +%s%N)
rc=0
timeout 200 tail --pid="$ppid" -f /dev/null || fail "the producer did not finish within 200 s of the kill"
wait "$ppid" || rc=$?
tend=$(date +%s%N)
[ "$rc" = 0 ] || { tail -n 5 "$WORK/acked.err" >&2; fail "the producer exited $rc: some records were not acknowledged within delivery.timeout.ms"; }
after_kill=$(((tend - tk) / 1000000))
[ "$after_kill" -lt 60000 ] ||
    fail "the producer took $after_kill ms after the leader's kill (requests waited out request.timeout.ms for the dead node)"
n_acked=$(wc -l <"$WORK/acked.out")
[ "$n_acked" = 300000 ] || fail "$n_acked of 300000 records acknowledged"
EK topic consume acked -o beginning -e -f '%v\n' | sort >"$WORK/acked.all"
# The producer is idempotent (the default): a batch the dead leader had
# replicated but not answered, sent again to the new one, is not written twice.
uniq -d "$WORK/acked.all" >"$WORK/acked.dup"
[ ! -s "$WORK/acked.dup" ] ||
    fail "$(wc -l <"$WORK/acked.dup") records are in the topic twice after the leader's kill -9, e.g. $(head -n 1 "$WORK/acked.dup")"
uniq "$WORK/acked.all" >"$WORK/acked.got"
awk '{ print $1 }' "$WORK/acked.out" | sort -u | comm -23 - "$WORK/acked.got" >"$WORK/acked.missing"
[ ! -s "$WORK/acked.missing" ] ||
    fail "$(wc -l <"$WORK/acked.missing") acknowledged records are missing after the leader's kill -9, e.g. $(head -n 1 "$WORK/acked.missing")"
new_leader=$("$KAFKA_SH" leader "$KC" acked 0)
log "2. acks=all, leader node $leader killed: all 300000 acknowledged and there once, done $after_kill ms after the kill (total $(((tend - t0) / 1000000)) ms), new leader $new_leader"
restart_node "$leader" acked

# ------------------------------------------------------------- 3. word count

corpus() { # SEED LINES
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed);
        split("the quick brown Fox jumps over lazy dog Kafka stream table join window count " \
              "eddy broker log segment index offset partition replica leader follower commit " \
              "state store LMDB changelog restore task thread group member rebalance 42 2026", v, " ");
        for (i = 0; i < n; i++) {
            line = "";
            k = 3 + int(rand() * 9);
            for (j = 0; j < k; j++) {
                w = v[1 + int(rand() * rand() * 40)];
                line = line (j ? (rand() < 0.2 ? ", " : " ") : "") w;
            }
            print line ".";
        }
    }'
}
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
latest() { # TOPIC
    EK topic consume "$1" -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}
start_wc() { # NAME APP_ID OUTPUT [extra -X ...]
    local name=$1 app=$2 out=$3
    shift 3
    "$WC" --input lines --output "$out" -X "bootstrap.servers=$KB" \
        -X "application.id=$app" -X "state.dir=$WORK/state-$name" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 -X num.standby.replicas=1 "$@" \
        >"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$name=$pid"
}
stop_app() { # NAME: SIGTERM, must exit 0
    local pid rc=0
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$1 did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/$1.log" >&2; fail "$1 exited $rc after SIGTERM"; }
}
alive() { # NAME...
    local n pid
    for n in "$@"; do
        eval "pid=\$PID_$n"
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$n.log" >&2; fail "$n exited during the run"; }
    done
}
wait_counts() { # TOPIC EXPECTED_FILE eq|ge NAME...
    local topic=$1 want=$2 mode=$3 i n
    shift 3
    for i in $(seq 1 90); do
        latest "$topic" >"$WORK/got"
        if [ "$mode" = eq ]; then
            cmp -s "$WORK/got" "$want" && return 0
        elif join -a1 "$want" "$WORK/got" | awk 'NF < 3 || $3 < $2 { bad = 1 } END { exit bad }'; then
            return 0
        fi
        alive "$@"
        sleep 1
    done
    diff "$want" "$WORK/got" | head -n 20 >&2 || true
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
    fail "$topic: counts are not the reference after 90 s ($mode)"
}

EK topic create lines -p 4 >/dev/null
EK topic create counts -p 4 >/dev/null
for s in 1 2 3; do corpus "$s" 2000 >"$WORK/batch$s"; done
reference <"$WORK/batch1" >"$WORK/ref1"
cat "$WORK/batch1" "$WORK/batch2" | reference >"$WORK/ref12"
cat "$WORK/batch1" "$WORK/batch2" "$WORK/batch3" | reference >"$WORK/ref123"
EK topic produce lines <"$WORK/batch1" >/dev/null 2>&1
start_wc w1 wck counts
start_wc w2 wck counts
wait_counts counts "$WORK/ref1" eq w1 w2
grep -Eq "assigned [0-9]+ active and [1-9][0-9]* standby" "$WORK/w1.log" "$WORK/w2.log" ||
    fail "word count: no instance was given a standby task"
# The internal topics were created with replication.factor -1: the cluster's
# default of 3 copies.
EK topic list | awk '$1 ~ /^wck-.*-(changelog|repartition)$/ { print $1 }' >"$WORK/internal"
[ "$(wc -l <"$WORK/internal")" -ge 2 ] || { EK topic list >&2; fail "word count created no changelog and repartition topics"; }
while read -r t; do
    EK topic describe "$t" >"$WORK/idesc"
    awk '$1 ~ /^[0-9]+$/ && split($5, r, ",") != 3 { bad = 1 } END { exit bad }' "$WORK/idesc" ||
        { cat "$WORK/idesc" >&2; fail "internal topic $t does not have the cluster's 3 replicas"; }
done <"$WORK/internal"
changelog=$(grep -- '-changelog$' "$WORK/internal" | head -n 1)
log "3a. word count, 2 instances with standbys: counts equal the reference; $(tr '\n' ' ' <"$WORK/internal")with 3 replicas"

kill -9 "$PID_w1"
wait "$PID_w1" 2>/dev/null || true
EK topic produce lines <"$WORK/batch2" >/dev/null 2>&1
wait_counts counts "$WORK/ref12" ge w2
log "3b. kill -9 of one instance: the survivor's counts are all >= the reference"
start_wc w3 wck counts
sleep 8 # the rebalance that takes w3 in

# The node leading the most partitions of the input and of the changelog.
victim=$(for t in lines "$changelog"; do
    for p in 0 1 2 3; do "$KAFKA_SH" leader "$KC" "$t" "$p"; done | sort -u | sed "s/^/$t /"
done | awk '{ n[$2]++ } END { for (k in n) if (n[k] > best) { best = n[k]; v = k } print v }')
in_leads=$(for p in 0 1 2 3; do "$KAFKA_SH" leader "$KC" lines "$p"; done | grep -cx "$victim" || true)
cl_leads=$(for p in 0 1 2 3; do "$KAFKA_SH" leader "$KC" "$changelog" "$p"; done | grep -cx "$victim" || true)
# (Kafka spreads the leaders of 4 partitions over all 3 nodes.)
[ "$in_leads" -ge 1 ] && [ "$cl_leads" -ge 1 ] ||
    fail "node $victim leads $in_leads input and $cl_leads changelog partitions, want some of each"
head -n 1000 "$WORK/batch3" >"$WORK/batch3a"
tail -n +1001 "$WORK/batch3" >"$WORK/batch3b"
EK topic produce lines <"$WORK/batch3a" >/dev/null 2>&1
"$KAFKA_SH" kill "$KC" "$victim"
EK topic produce lines <"$WORK/batch3b" >/dev/null 2>&1 || fail "produce during the broker's kill failed"
wait_counts counts "$WORK/ref123" ge w2 w3
alive w2 w3
log "3c. kill -9 of Kafka node $victim (leader of $in_leads input and $cl_leads changelog partitions): both instances went on, counts all >= the reference"
restart_node "$victim" lines "$changelog"

stop_app w2
stop_app w3
EK app reset --application-id wck --input-topics lines --to-earliest >"$WORK/reset.out" 2>&1 ||
    { cat "$WORK/reset.out" >&2; fail "eddy app reset on Kafka failed"; }
EK topic create counts2 -p 4 >/dev/null
start_wc r1 wck counts2
start_wc r2 wck counts2
wait_counts counts2 "$WORK/ref123" eq r1 r2
stop_app r1
stop_app r2
log "3d. eddy app reset, rerun: counts equal the reference"

# --------------------------------------------- 4. windowed and join examples

start_ex() { # e|k NAME BINARY APP_ID [args...]
    local w=$1 name=$2 bin=$3 app=$4
    shift 4
    "$bin" -X "bootstrap.servers=$(bs "$w")" -X "application.id=$app" \
        -X "state.dir=$WORK/state-$w-$name" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 "$@" \
        >"$WORK/$w-$name.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$w$name=$pid"
}
wait_model() { # e|k NAME TOPIC MODEL FORMAT [consume args...]
    local w=$1 name=$2 topic=$3 model=$4 fmt=$5 i pid
    shift 5
    eval "pid=\$PID_$w$name"
    for i in $(seq 1 90); do
        on "$w" topic consume "$topic" -o beginning -e -f "$fmt" "$@" | sort >"$WORK/$w.$name.got"
        cmp -s "$WORK/$w.$name.got" "$model" && return 0
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/$w-$name.log" >&2; fail "$w: $name exited early"; }
        sleep 1
    done
    diff "$model" "$WORK/$w.$name.got" | head -n 20 >&2 || true
    tail -n 30 "$WORK/$w-$name.log" >&2
    fail "$w: $name: the output is not the model's after 90 s"
}
stop_ex() {
    local pid rc=0
    eval "pid=\$PID_$1$2"
    kill -TERM "$pid"
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$1: $2 did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/$1-$2.log" >&2; fail "$1: $2 exited $rc after SIGTERM"; }
}

# windowed_count: events in time order (no late ones), keys k0..k11, over
# 30 minutes; a last record an hour later closes every window.
awk 'BEGIN { srand(5); t = 1700000000000;
    for (i = 0; i < 3000; i++) { t += int(rand() * 1200); printf "k%d:%.0f e%d\n", int(rand() * 12), t, i }
    printf "zz:%.0f flush\n", t + 3600000 }' >"$WORK/events"
awk -F: '$1 != "zz" { split($2, f, " "); s = sprintf("%.0f", f[1] - f[1] % 60000); c[$1 "@" s]++ }
    END { for (k in c) printf "%s\t%d\n", k, c[k] }' "$WORK/events" | sort >"$WORK/events.model"
# orders_join: customers first, then orders, some of unknown customers.
awk 'BEGIN { srand(23); for (i = 1; i <= 30; i++) print "c" i ":name" i "-" int(rand() * 1000);
    for (i = 0; i < 8; i++) { c = 1 + int(rand() * 30); print "c" c ":renamed" c "-" i } }' >"$WORK/customers"
awk 'BEGIN { srand(29); split("book pen lamp desk chair mug plant clock", item, " ");
    for (i = 0; i < 600; i++) print "c" (1 + int(rand() * 40)) ":order" i "-" item[1 + int(rand() * 8)] }' >"$WORK/orders"
awk -F: -v OFS='\t' 'NR == FNR { name[$1] = $2; next }
    ($1 in name) { print $1, $2 " by " name[$1] }' "$WORK/customers" "$WORK/orders" | sort >"$WORK/join.model"
n_cust=$(wc -l <"$WORK/customers")

for w in e k; do
    for t in events event-counts; do on "$w" topic create "$t" -p 1 >/dev/null; done
    for t in customers orders enriched; do on "$w" topic create "$t" -p 3 >/dev/null; done
    on "$w" topic produce events -k : <"$WORK/events" >/dev/null 2>&1
    on "$w" topic produce customers -k : <"$WORK/customers" >/dev/null 2>&1
    start_ex "$w" wcnt "$WCNT" wcnt1 --time-from-value --grace-ms 0
    start_ex "$w" join "$OJ" join1 --output enriched
done
for w in e k; do
    # the table must hold every customer before the orders come
    ok=0
    for i in $(seq 1 60); do
        c=$(on "$w" group describe join1 2>/dev/null |
            awk '$1 == "customers" && $3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' || true)
        [ "$c" = "$n_cust" ] && { ok=1; break; }
        sleep 1
    done
    [ "$ok" = 1 ] || { tail -n 30 "$WORK/$w-join.log" >&2; fail "$w: orders_join did not take in the customers within 60 s"; }
    on "$w" topic produce orders -k : <"$WORK/orders" >/dev/null 2>&1
done
for w in e k; do
    wait_model "$w" wcnt event-counts "$WORK/events.model" '%k\t%v\n' --value-format int64
    wait_model "$w" join enriched "$WORK/join.model" '%k\t%v\n'
    stop_ex "$w" wcnt
    stop_ex "$w" join
done
cmp -s "$WORK/e.wcnt.got" "$WORK/k.wcnt.got" && cmp -s "$WORK/e.join.got" "$WORK/k.join.got" ||
    fail "the examples' outputs differ between Eddy's broker and Kafka"
log "4. windowed_count ($(wc -l <"$WORK/events.model") windows) and orders_join ($(wc -l <"$WORK/join.model") orders): the same output on Kafka as on Eddy's broker"

timeout 60 "$KAFKA_SH" stop "$KC" || fail "the Kafka cluster did not stop"
stop_broker
log "ok"
