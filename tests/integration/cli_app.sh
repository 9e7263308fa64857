#!/usr/bin/env bash
# `eddy app reset` end to end: the plan and --dry-run change nothing; a reset rewinds the input
# topics (--to-earliest, --to-offset, --shift-by, --to-datetime with Z and +hh:mm, --by-duration),
# keeps other topics' committed offsets, drops the internal topics' offsets and deletes those
# topics; refused (exit 1, member named) while the group has a live member; usage errors exit 2.
# usage: cli_app.sh path/to/eddy
set -euo pipefail
EDDY=${1:?usage: cli_app.sh EDDY}
WORK=$(mktemp -d /tmp/eddy-cli-app-XXXXXX)
BROKER_PID=""
MEMBER_PID=""
cleanup() {
    [ -n "$MEMBER_PID" ] && kill "$MEMBER_PID" 2>/dev/null
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [cli_app]: $*" >&2; tail -n 20 "$WORK/broker.log" >&2 || true; exit 1; }
T() { timeout -k 5 60 "$@"; }

"$EDDY" broker --data-dir "$WORK/data" --listen 127.0.0.1:0 --set group.initial.rebalance.delay.ms=0 \
    > "$WORK/broker.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\),.*/\1/p' "$WORK/broker.log" 2>/dev/null || true) # the shell creates the file in the background
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ] || fail "broker did not start"
B=127.0.0.1:$PORT
export EDDY_BOOTSTRAP_SERVER=$B

# The committed offset of group wc on TOPIC partition P ("none" when there is none).
committed() {
    T "$EDDY" group describe wc > "$WORK/desc" 2>&1 || true
    awk -v t="$1" -v p="$2" '$1 == t && $2 == p { print $3; found = 1 } END { if (!found) print "none" }' \
        "$WORK/desc"
}
expect_committed() { # TOPIC PARTITION WANT WHAT
    local got
    got=$(committed "$1" "$2")
    [ "$got" = "$3" ] || fail "$4: $1-$2 committed $got, want $3: $(cat "$WORK/desc")"
}
has_topic() { T "$EDDY" topic list | awk -v t="$1" '$1 == t { f = 1 } END { exit !f }'; }
# Puts group wc back where the tests start from: in 7/7, the repartition topic 2/2, other 3.
set_offsets() {
    T "$EDDY" group reset-offsets wc --topic in --to-offset 7 --execute > /dev/null
    T "$EDDY" group reset-offsets wc --topic other --to-offset 3 --execute > /dev/null
    if has_topic wc-counts-repartition; then
        T "$EDDY" group reset-offsets wc --topic wc-counts-repartition --to-offset 2 --execute > /dev/null
    fi
}
reset() { T "$EDDY" app reset --application-id wc "$@"; }

# Input `in`: p0 offsets 0-9 and p1 0-5 before MID, p0 10-14 and p1 6-9 after it.
T "$EDDY" topic create in -p 2 > /dev/null
seq 1 10 | T "$EDDY" topic produce in -p 0 2> /dev/null
seq 1 6 | T "$EDDY" topic produce in -p 1 2> /dev/null
sleep 0.5
MID_MS=$(date +%s%3N)
MID_S=$((MID_MS / 1000)).$(printf %03d $((MID_MS % 1000)))
MID_Z=$(date -u -d "@$MID_S" +%Y-%m-%dT%H:%M:%S.%3NZ)
MID_PLUS2=$(TZ=Etc/GMT-2 date -d "@$MID_S" +%Y-%m-%dT%H:%M:%S.%3N%:z)
sleep 0.5
seq 11 15 | T "$EDDY" topic produce in -p 0 2> /dev/null
seq 7 10 | T "$EDDY" topic produce in -p 1 2> /dev/null
# A second input without committed offsets, the app's internal topics, and topics that only look
# like them (another app's prefix, no name between the id and the suffix) or are unrelated.
T "$EDDY" topic create in2 -p 1 > /dev/null
seq 1 5 | T "$EDDY" topic produce in2 -p 0 2> /dev/null
for t in wc-counts-changelog wc-counts-repartition wcx-counts-changelog wc-changelog wc--repartition other; do
    T "$EDDY" topic create "$t" -p 2 > /dev/null
    seq 1 8 | T "$EDDY" topic produce "$t" -p 0 2> /dev/null
done
set_offsets
expect_committed in 0 7 "setup"
expect_committed wc-counts-repartition 0 2 "setup"

# ---- usage errors: exit 2, nothing contacted ----
usage_case() { # EXPECTED-TEXT ARGS...
    local want=$1 rc
    shift
    set +e
    T "$EDDY" app "$@" > /dev/null 2> "$WORK/err"; rc=$?
    set -e
    [ $rc = 2 ] || fail "eddy app $*: exit $rc, want 2: $(cat "$WORK/err")"
    grep -q -- "$want" "$WORK/err" || fail "eddy app $*: no '$want' in: $(cat "$WORK/err")"
}
usage_case "usage: eddy" # no action
usage_case "unknown action 'frobnicate'" frobnicate
usage_case "application-id ID is required" reset --input-topics in
usage_case "input-topics T1" reset --application-id wc
usage_case "unexpected argument '--bogus'" reset --application-id wc --input-topics in --bogus
usage_case "conflicts with --to-earliest" reset --application-id wc --input-topics in --to-earliest --to-offset 3
usage_case "'x3' is not a number" reset --application-id wc --input-topics in --shift-by x3
usage_case "is not a datetime" reset --application-id wc --input-topics in --to-datetime 2026-13-01T00:00:00
usage_case "is not a duration" reset --application-id wc --input-topics in --by-duration PT
usage_case "empty topic name" reset --application-id wc --input-topics in,,other
usage_case "--application-id needs a value" reset --input-topics in --application-id
usage_case "must be letters" reset --application-id 'w c' --input-topics in
T "$EDDY" app --help | grep -q "reset" || fail "app --help"
T "$EDDY" app reset --help > "$WORK/help" || fail "app reset --help exit"
grep -q -- "--by-duration" "$WORK/help" && grep -q "NOT touched" "$WORK/help" || fail "reset --help: $(cat "$WORK/help")"
T "$EDDY" --help | grep -q "^  app " || fail "eddy --help lists no app"

# ---- an input topic that does not exist: exit 1, named, nothing changed ----
set +e
reset --input-topics in,nosuch > "$WORK/out" 2> "$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "'nosuch' does not exist" "$WORK/err" && grep -q "nothing was changed" "$WORK/err" ||
    fail "missing input topic: rc $rc, $(cat "$WORK/err")"
expect_committed in 0 7 "after a refused reset"
has_topic wc-counts-changelog || fail "a refused reset deleted a topic"

# ---- --dry-run: the plan, and nothing changed ----
reset --input-topics in --dry-run > "$WORK/plan" || fail "dry run exit status"
grep -q "dry run: nothing was changed" "$WORK/plan" || fail "dry run: $(cat "$WORK/plan")"
[ "$(awk '$1 == "in" && $2 == 0 { print $3, $4 }' "$WORK/plan")" = "7 0" ] || fail "plan in-0: $(cat "$WORK/plan")"
[ "$(awk '$1 == "other" && $2 == 0 { print $3, $4 }' "$WORK/plan")" = "3 3" ] || fail "plan other: $(cat "$WORK/plan")"
grep -q "^wc-counts-repartition  *0  *2  *- .*dropped" "$WORK/plan" || fail "plan repartition: $(cat "$WORK/plan")"
[ "$(sed -n '/^internal topics to delete:/,$p' "$WORK/plan" | grep -c '^  wc-counts-')" = 2 ] ||
    fail "plan internal topics: $(cat "$WORK/plan")"
grep -q "wcx-counts-changelog\|^  wc-changelog\|wc--repartition" "$WORK/plan" && fail "plan deletes a look-alike: $(cat "$WORK/plan")"
expect_committed in 0 7 "dry run"
expect_committed wc-counts-repartition 0 2 "dry run"
has_topic wc-counts-changelog && has_topic wc-counts-repartition || fail "dry run deleted a topic"

# ---- a live member: refused, member named ----
timeout -s TERM 60 "$EDDY" topic consume in -g wc > /dev/null 2>&1 &
MEMBER_PID=$!
for _ in $(seq 1 100); do
    T "$EDDY" group describe wc 2> /dev/null | grep -q "members: 1" && break
    sleep 0.1
done
T "$EDDY" group describe wc > "$WORK/d-live"
MEMBER=$(sed -n 's/^  member \([^ ]*\) (client.*/\1/p' "$WORK/d-live")
[ -n "$MEMBER" ] || fail "the consumer did not join: $(cat "$WORK/d-live")"
set +e
reset --input-topics in --dry-run > "$WORK/out" 2> "$WORK/err"; rc=$?
set -e
[ $rc = 1 ] && grep -qF "$MEMBER" "$WORK/err" || fail "dry run with a live member: exit $rc: $(cat "$WORK/err")"
set +e
reset --input-topics in > "$WORK/out" 2> "$WORK/err"; rc=$?
set -e
[ $rc = 1 ] || fail "reset with a live member: exit $rc: $(cat "$WORK/err")"
grep -q "live member" "$WORK/err" && grep -qF "$MEMBER" "$WORK/err" && grep -q "client eddy-cli" "$WORK/err" &&
    grep -q "Stop every instance" "$WORK/err" || fail "refusal does not name the member: $(cat "$WORK/err")"
has_topic wc-counts-changelog && has_topic wc-counts-repartition || fail "a refused reset deleted a topic"
expect_committed wc-counts-repartition 0 2 "refused reset"
kill -TERM "$MEMBER_PID"
wait "$MEMBER_PID" 2>/dev/null || true
MEMBER_PID=""
for _ in $(seq 1 100); do
    T "$EDDY" group describe wc 2> /dev/null | grep -q "members: 0" && break
    sleep 0.1
done
set_offsets # the consumer committed where it stopped
expect_committed in 1 7 "set again"

# ---- --to-earliest: inputs at 0, others kept, internal offsets and topics gone ----
reset --input-topics in --to-earliest > "$WORK/out" || fail "reset: $(cat "$WORK/out")"
grep -q "^reset application wc" "$WORK/out" || fail "reset output: $(cat "$WORK/out")"
expect_committed in 0 0 "to-earliest"
expect_committed in 1 0 "to-earliest"
expect_committed other 0 3 "to-earliest (not an input)"
expect_committed wc-counts-repartition 0 none "to-earliest (internal offsets)"
has_topic wc-counts-changelog && fail "wc-counts-changelog not deleted"
has_topic wc-counts-repartition && fail "wc-counts-repartition not deleted"
for t in in in2 other wcx-counts-changelog wc-changelog wc--repartition; do
    has_topic "$t" || fail "topic $t was deleted"
done
# A recreated repartition topic does not resume from a stale offset.
T "$EDDY" topic create wc-counts-repartition -p 2 > /dev/null
expect_committed wc-counts-repartition 0 none "recreated repartition topic"
T "$EDDY" topic delete wc-counts-repartition > /dev/null

# ---- --to-offset (clamped to the end), with no internal topics left ----
reset --input-topics in --to-offset 12 > "$WORK/out" || fail "to-offset: $(cat "$WORK/out")"
grep -q "internal topics to delete: none" "$WORK/out" || fail "to-offset plan: $(cat "$WORK/out")"
expect_committed in 0 12 "to-offset 12"
expect_committed in 1 10 "to-offset 12 (clamped to the end)"
expect_committed other 0 3 "to-offset (not an input)"

# ---- --shift-by: from the committed offset; from the start where none is committed ----
reset --input-topics in2,in --shift-by=2 > /dev/null || fail "shift-by=2"
expect_committed in 0 14 "shift-by 2"
expect_committed in 1 10 "shift-by 2 (clamped to the end)"
expect_committed in2 0 2 "shift-by 2 (nothing committed: from the start)"
reset --input-topics in,in2 --shift-by -3 > /dev/null || fail "shift-by -3"
expect_committed in 0 11 "shift-by -3"
expect_committed in 1 7 "shift-by -3"
expect_committed in2 0 0 "shift-by -3 (clamped to the start)"
reset --input-topics in --shift-by -100 > /dev/null || fail "shift-by -100"
expect_committed in 0 0 "shift-by -100 (clamped to the start)"
expect_committed in2 0 0 "in2 is not an input this time: kept"

# ---- --to-datetime (Z and +02:00 name the same instant) and --by-duration ----
reset --input-topics in --to-datetime "$MID_Z" > /dev/null || fail "to-datetime $MID_Z"
expect_committed in 0 10 "to-datetime $MID_Z"
expect_committed in 1 6 "to-datetime $MID_Z"
reset --input-topics in --to-datetime 2999-01-01T00:00:00 > /dev/null || fail "to-datetime 2999"
expect_committed in 0 15 "to-datetime in the future (the end)"
expect_committed in 1 10 "to-datetime in the future (the end)"
reset --input-topics in --to-datetime "$MID_PLUS2" > /dev/null || fail "to-datetime $MID_PLUS2"
expect_committed in 0 10 "to-datetime $MID_PLUS2"
expect_committed in 1 6 "to-datetime $MID_PLUS2"
reset --input-topics in --by-duration PT0S > /dev/null || fail "by-duration PT0S"
expect_committed in 0 15 "by-duration PT0S (now: the end)"
reset --input-topics in --by-duration P1DT1H > /dev/null || fail "by-duration P1DT1H"
expect_committed in 0 0 "by-duration P1DT1H"
expect_committed in 1 0 "by-duration P1DT1H"
# The default is --to-earliest.
reset --input-topics in --to-latest > /dev/null || fail "to-latest"
expect_committed in 0 15 "to-latest"
reset --input-topics in > /dev/null || fail "default"
expect_committed in 0 0 "default (--to-earliest)"
expect_committed other 0 3 "still kept at the end"

kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "broker exit status"
BROKER_PID=""
echo "cli_app: ok"
