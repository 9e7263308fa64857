#!/usr/bin/env bash
# `eddy topic` end to end against a real broker: create, list, describe, produce (keys, explicit
# partition, acks), consume (offsets, timestamps, counts, formats, int64 and msgpack values),
# delete; -b before or after the subcommand and EDDY_BOOTSTRAP_SERVER; exit codes; keys placed
# on the partitions librdkafka's murmur2_random partitioner picks (as Kafka's Java client).
# usage: cli_topic.sh path/to/eddy
set -euo pipefail
EDDY=${1:?usage: cli_topic.sh EDDY}
WORK=$(mktemp -d /tmp/eddy-cli-topic-XXXXXX)
BROKER_PID=""
cleanup() {
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [cli_topic]: $*" >&2; tail -n 20 "$WORK/broker.log" >&2 || true; exit 1; }
T() { timeout -k 5 60 "$@"; }

"$EDDY" broker --data-dir "$WORK/data" --listen 127.0.0.1:0 > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/broker.log" 2>/dev/null || true) # the shell creates the file in the background
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "broker did not start"
B=127.0.0.1:$PORT

# create / list / describe, -b before and after the subcommand.
T "$EDDY" -b "$B" topic create orders -p 4 -c retention.ms=3600000 > /dev/null || fail "create"
T "$EDDY" topic list -b "$B" | grep -q "^orders  *4$" || fail "list: $(T "$EDDY" topic list -b "$B")"
EDDY_BOOTSTRAP_SERVER=$B T "$EDDY" topic describe orders > "$WORK/desc" || fail "describe"
grep -q "4 partition(s)" "$WORK/desc" || fail "describe partitions: $(cat "$WORK/desc")"
grep -q "retention.ms *3600000  (set on the topic)" "$WORK/desc" || fail "describe settings: $(cat "$WORK/desc")"
set +e
T "$EDDY" -b "$B" topic create orders -p 4 2> "$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q TOPIC_ALREADY_EXISTS "$WORK/err" || fail "create twice: rc $rc, $(cat "$WORK/err")"

# produce keyed lines; the same keys through kcat's murmur2_random land on the same partitions.
for i in $(seq 1 2000); do echo "user$i:value-$i"; done > "$WORK/in"
T "$EDDY" -b "$B" topic produce orders -k : < "$WORK/in" 2> "$WORK/perr" || fail "produce: $(cat "$WORK/perr")"
grep -q "produced 2000 records" "$WORK/perr" || fail "produce count: $(cat "$WORK/perr")"
T "$EDDY" -b "$B" topic consume orders -e -f '%k %p %o %v\n' > "$WORK/out" || fail "consume"
[ "$(wc -l < "$WORK/out")" = 2000 ] || fail "consumed $(wc -l < "$WORK/out") of 2000"
sort "$WORK/in" | cmp -s - <(awk '{ print $1 ":" $4 }' "$WORK/out" | sort) || fail "records differ"
kcat -b "$B" -P -t orders -K: -X partitioner=murmur2_random < "$WORK/in"
T kcat -b "$B" -C -t orders -e -q -f '%k %p %s\n' | awk '$3 ~ /^value/ { n[$1]++; p[$1 " " n[$1]] = $2 }
    END { for (k in n) if (n[k] != 2 || p[k " 1"] != p[k " 2"]) bad++; exit bad > 0 }' ||
    fail "a key went to a different partition than librdkafka's murmur2_random chose"

# explicit partition, acks 0 and 1, null keys spread (sticky) but all arrive.
seq 1 100 | T "$EDDY" -b "$B" topic produce orders -p 3 --acks 1 2> /dev/null || fail "produce -p 3"
seq 1 50 | T "$EDDY" -b "$B" topic produce orders --acks 0 2> /dev/null || fail "produce acks 0"
T "$EDDY" -b "$B" topic describe orders > "$WORK/desc2"
total=$(awk '$1 ~ /^[0-3]$/ { s += $4 } END { print s }' "$WORK/desc2")
[ "$total" = 4150 ] || fail "expected 4150 records in all partitions, describe says $total"

# consume: -n, -o OFFSET, -o end with -e, -o @timestamp.
[ "$(T "$EDDY" -b "$B" topic consume orders -n 7 -f '%v\n' | wc -l)" = 7 ] || fail "-n 7"
first=$(T "$EDDY" -b "$B" topic consume orders -o 5 -n 1 -f '%o\n')
[ "$first" = 5 ] || fail "-o 5 gave offset $first"
[ "$(T "$EDDY" -b "$B" topic consume orders -o end -e | wc -l)" = 0 ] || fail "-o end -e"
sleep 0.05
ts=$(date +%s%3N)
sleep 0.05
echo "late:after" | T "$EDDY" -b "$B" topic produce orders -k : 2> /dev/null
T "$EDDY" -b "$B" topic consume orders -o "@$ts" -e -f '%k=%v\n' > "$WORK/late"
[ "$(cat "$WORK/late")" = "late=after" ] || fail "-o @ts gave: $(cat "$WORK/late")"

# int64 and msgpack value formats.
T "$EDDY" -b "$B" topic create typed -p 1 > /dev/null
# (values written by kcat from files: one int64 and one msgpack map)
printf '\x00\x00\x00\x00\x00\x00\x01\x2c' > "$WORK/v1"
printf '\x82\xa4name\xa3eve\xa3age\x1e' > "$WORK/v2"
kcat -b "$B" -P -t typed -p 0 "$WORK/v1"
kcat -b "$B" -P -t typed -p 0 "$WORK/v2"
[ "$(T "$EDDY" -b "$B" topic consume typed -n 1 --value-format int64)" = 300 ] || fail "int64 format"
[ "$(T "$EDDY" -b "$B" topic consume typed -o 1 -n 1 --value-format msgpack)" = '{"name":"eve","age":30}' ] ||
    fail "msgpack format: $(T "$EDDY" -b "$B" topic consume typed -o 1 -n 1 --value-format msgpack)"

# group offsets: consume with -g commits; the next run continues after it.
T "$EDDY" -b "$B" topic consume orders -g g1 -n 10 > /dev/null || fail "consume -g"
sleep 0.2
T "$EDDY" -b "$B" topic consume orders -g g1 -n 1 -f '%p %o\n' > "$WORK/g1"
[ -s "$WORK/g1" ] || fail "second -g run read nothing"

# follow mode into a pipe: every record read shows up while it still runs
# (stdout flushed at the last record the broker has, not held in stdio's
# block buffer), also records that arrive after the follower caught up.
T "$EDDY" -b "$B" topic create follow -p 2 > /dev/null || fail "create follow"
printf 'a\nb\nc\n' | T "$EDDY" -b "$B" topic produce follow -p 0 > /dev/null 2>&1 || fail "produce follow"
( "$EDDY" -b "$B" topic consume follow -f '%v\n' | cat > "$WORK/follow" ) &
FOLLOW=$!
wait_lines() { # N: up to 10 s for N lines in $WORK/follow
    for _ in $(seq 100); do
        [ "$(wc -l < "$WORK/follow")" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
wait_lines 3 || fail "follow into a pipe: $(wc -l < "$WORK/follow") of 3 records out"
sleep 0.5
printf 'd\ne\n' | T "$EDDY" -b "$B" topic produce follow -p 1 > /dev/null 2>&1 || fail "produce follow"
printf 'f\n' | T "$EDDY" -b "$B" topic produce follow -p 0 > /dev/null 2>&1 || fail "produce follow"
wait_lines 6 || fail "follow into a pipe: $(wc -l < "$WORK/follow") of 6 records out after new ones came"
pkill -TERM -P "$FOLLOW" 2>/dev/null
wait "$FOLLOW" 2>/dev/null || true

# delete; errors and exit codes.
T "$EDDY" -b "$B" topic delete typed > /dev/null || fail "delete"
set +e
T "$EDDY" -b "$B" topic describe typed 2> "$WORK/err"; rc1=$?
T "$EDDY" -b "$B" topic create x 2> /dev/null; rc2=$?
T "$EDDY" -b "$B" topic frobnicate 2> /dev/null; rc3=$?
T "$EDDY" -b 127.0.0.1:1 topic list 2> "$WORK/err2"; rc4=$?
set -e
[ $rc1 = 1 ] || fail "describe of a deleted topic: exit $rc1"
[ $rc2 = 2 ] || fail "create without -p: exit $rc2"
[ $rc3 = 2 ] || fail "unknown action: exit $rc3"
[ $rc4 = 1 ] && grep -q "127.0.0.1:1" "$WORK/err2" || fail "unreachable broker: exit $rc4, $(cat "$WORK/err2")"
T "$EDDY" topic --help | grep -q "produce NAME" || fail "--help"

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "broker exit status"
BROKER_PID=""
echo "cli_topic: ok"
