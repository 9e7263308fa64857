#!/usr/bin/env bash
# `eddy group` end to end: list, describe (committed, end, lag, members and their partitions),
# reset-offsets (plan, --execute, refused while the group has a live member), delete.
# usage: cli_group.sh path/to/eddy
set -euo pipefail
EDDY=${1:?usage: cli_group.sh EDDY}
WORK=$(mktemp -d /tmp/eddy-cli-group-XXXXXX)
BROKER_PID=""
KCAT_PID=""
cleanup() {
    [ -n "$KCAT_PID" ] && kill "$KCAT_PID" 2>/dev/null
    [ -n "$BROKER_PID" ] && kill -9 "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL [cli_group]: $*" >&2; tail -n 20 "$WORK/broker.log" >&2 || true; exit 1; }
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
export EDDY_BOOTSTRAP_SERVER=127.0.0.1:$PORT

T "$EDDY" topic create events -p 2 > /dev/null
seq 1 100 | T "$EDDY" topic produce events -p 0 2> /dev/null
seq 1 50 | T "$EDDY" topic produce events -p 1 2> /dev/null

# 30 records through the group: committed 30 in one partition (fetch order), lag for the rest.
T "$EDDY" topic consume events -g reporting -n 30 > /dev/null
T "$EDDY" group list | grep -q "^reporting " || fail "group list: $(T "$EDDY" group list)"
T "$EDDY" group describe reporting > "$WORK/d1"
grep -q "state: Empty" "$WORK/d1" || fail "describe state: $(cat "$WORK/d1")"
committed=$(awk '$1 == "events" { c += $3 } END { print c }' "$WORK/d1")
lag=$(awk '$1 == "events" && $3 >= 0 { l += $5 } END { print l }' "$WORK/d1")
[ "$committed" = 30 ] || fail "committed sum $committed, want 30: $(cat "$WORK/d1")"

# reset-offsets: the plan changes nothing; --execute does.
T "$EDDY" group reset-offsets reporting --topic events --to-earliest > "$WORK/plan"
grep -q "plan only" "$WORK/plan" || fail "plan: $(cat "$WORK/plan")"
T "$EDDY" group describe reporting | awk '$1 == "events" { c += $3 } END { exit c != 30 }' ||
    fail "a plan changed offsets"
T "$EDDY" group reset-offsets reporting --topic events --to-offset 40 --execute > /dev/null
T "$EDDY" group describe reporting > "$WORK/d2"
awk '$1 == "events" && $2 == 0 { exit $3 != 40 } ' "$WORK/d2" || fail "to-offset 40: $(cat "$WORK/d2")"
awk '$1 == "events" && $2 == 1 { exit $3 != 40 } ' "$WORK/d2" || fail "to-offset 40 p1: $(cat "$WORK/d2")"
T "$EDDY" group reset-offsets reporting --topic events --shift-by -15 --execute > /dev/null
T "$EDDY" group describe reporting | awk '$1 == "events" { c += $3 } END { exit c != 50 }' ||
    fail "shift-by -15 (want 25 + 25)"
T "$EDDY" group reset-offsets reporting --topic events --to-datetime 2000-01-01T00:00:00Z --execute > /dev/null
T "$EDDY" group describe reporting | awk '$1 == "events" { c += $3 } END { exit c != 0 }' ||
    fail "to-datetime in the past = earliest"
# The next consumer of the group starts where the reset put it.
[ "$(T "$EDDY" topic consume events -g reporting -n 150 -e | wc -l)" = 150 ] || fail "resume after reset"

# A live member (kcat in the group): reset and delete are refused, offsets unchanged.
kcat -b "$EDDY_BOOTSTRAP_SERVER" -G reporting events -q > /dev/null 2>&1 &
KCAT_PID=$!
for _ in $(seq 1 100); do
    T "$EDDY" group describe reporting 2> /dev/null | grep -q "members: 1" && break
    sleep 0.1
done
T "$EDDY" group describe reporting > "$WORK/d3"
grep -q "members: 1" "$WORK/d3" || fail "kcat did not join: $(cat "$WORK/d3")"
grep -q "events-0" "$WORK/d3" || fail "describe shows no assignment: $(cat "$WORK/d3")"
set +e
T "$EDDY" group reset-offsets reporting --topic events --to-earliest --execute > /dev/null 2> "$WORK/err"; rc1=$?
T "$EDDY" group delete reporting 2> "$WORK/err2"; rc2=$?
set -e
[ $rc1 = 1 ] && grep -q "live member" "$WORK/err" || fail "reset with a member: rc $rc1, $(cat "$WORK/err")"
[ $rc2 = 1 ] && grep -q "NON_EMPTY_GROUP" "$WORK/err2" || fail "delete with a member: rc $rc2, $(cat "$WORK/err2")"
kill "$KCAT_PID"
wait "$KCAT_PID" 2>/dev/null || true
KCAT_PID=""
for _ in $(seq 1 100); do
    T "$EDDY" group describe reporting 2> /dev/null | grep -q "members: 0" && break
    sleep 0.1
done
T "$EDDY" group delete reporting > /dev/null || fail "delete"
set +e
T "$EDDY" group describe reporting 2> /dev/null; rc=$?
set -e
[ $rc = 1 ] || fail "describe of a deleted group: exit $rc"
# Two `eddy topic consume -g` share a group's partitions as members (2 + 2 of 4).
T "$EDDY" topic create split -p 4 > /dev/null
seq 1 400 | T "$EDDY" topic produce split 2> /dev/null
timeout -s TERM 20 "$EDDY" topic consume split -g splitters -f '%p %o\n' > "$WORK/s1" 2>/dev/null &
S1=$!
timeout -s TERM 20 "$EDDY" topic consume split -g splitters -f '%p %o\n' > "$WORK/s2" 2>/dev/null &
S2=$!
for _ in $(seq 1 150); do
    T "$EDDY" group describe splitters > "$WORK/d4" 2>/dev/null || true
    [ "$(grep -c ": 2 partition(s)" "$WORK/d4")" = 2 ] && break
    sleep 0.1
done
# Let them finish reading (a bound, not a measurement), then stop both.
for _ in $(seq 1 150); do
    [ "$(sort -u "$WORK/s1" "$WORK/s2" | wc -l)" = 400 ] && break
    sleep 0.1
done
kill -TERM $S1 $S2 2>/dev/null || true
wait $S1 $S2 2>/dev/null || true
[ "$(grep -c ": 2 partition(s)" "$WORK/d4")" = 2 ] || fail "two members did not split 4 partitions: $(cat "$WORK/d4")"
[ "$(sort -u "$WORK/s1" "$WORK/s2" | wc -l)" = 400 ] || fail "the two members did not read all 400 records"
# reset-offsets --to-earliest --execute, then a kcat group consumer (whose own reset policy
# says "latest") re-reads everything from the committed offsets.
T "$EDDY" topic consume events -g rereaders -e > /dev/null
T "$EDDY" group reset-offsets rereaders --topic events --to-earliest --execute > /dev/null
n=$(T kcat -b "$EDDY_BOOTSTRAP_SERVER" -G rereaders events -e -q -X auto.offset.reset=latest 2>/dev/null | wc -l)
[ "$n" = 150 ] || fail "kcat re-read $n of 150 records after the reset"
T "$EDDY" group --help | grep -q "reset-offsets" || fail "--help"
kill -TERM "$BROKER_PID"
wait "$BROKER_PID" || fail "broker exit status"
BROKER_PID=""
echo "cli_group: ok"
