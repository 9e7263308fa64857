#!/usr/bin/env bash
# Keys of any length, the empty key included, through every kind of store:
# a count, an aggregate, a windowed count and a stream-stream join, with keys
# of 0, 1, 511, 512, 4,096 and 100,000 bytes (and two that share their first
# 4,095 / 99,999 bytes with others), checked against a model on the output
# topics and through the interactive queries (eddy_app_store_get/range, the
# range in key byte order); then the app is stopped, its state dir wiped,
# and restarted: the stores come back from their changelogs (whose keys are
# the record keys) and new records add to the restored state.
#
#   streams_keys.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_keys "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
for t in in inb out-counts out-sums out-wcounts out-join; do E topic create "$t" -p 1 >/dev/null; done

QF=$WORK/queries.txt
start_app() {
    rm -f "$QF"
    timeout 600 "$APP" "$BOOTSTRAP" "$WORK/state" "$QF" >>"$WORK/app.log" 2>&1 </dev/null &
    APP_PID=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"
}
stop_app() {
    kill -TERM "$APP_PID"
    local rc=0
    wait "$APP_PID" || rc=$?
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
}

# poll_ok: 0 while the wait may go on (60 s, and the app still running)
poll_ok() {
    if ! kill -0 "$APP_PID" 2>/dev/null; then
        tail -n 20 "$WORK/app.log" >&2
        fail "the app stopped (log above) $1"
    fi
    [ $SECONDS -lt "$DEADLINE" ]
}

# The keys by name: N 'k' bytes, or N-1 'k' and the letter after the number.
NAMES="0 1 511 512 4096j 4096 100000j 100000"
key_of() {
    local n=${1%%[a-z]*} last=${1##*[0-9]}
    if [ -n "$last" ]; then
        head -c $((n - 1)) /dev/zero | tr '\0' k
        printf '%s' "$last"
    else
        head -c "$n" /dev/zero | tr '\0' k
    fi
}

# The model.
declare -A COUNT SUM WCOUNT LEFT RIGHT
JOIN=()
# add_in NAME MS TAG: a record on "in" (a line in $WORK/in.txt)
add_in() {
    local v="$2 $3"
    printf '%s:%s\n' "$(key_of "$1")" "$v" >>"$WORK/in.txt"
    COUNT[$1]=$((${COUNT[$1]:-0} + 1))
    SUM[$1]=$((${SUM[$1]:-0} + ${#v}))
    local w="$1@$(($2 / 10000 * 10000))"
    WCOUNT[$w]=$((${WCOUNT[$w]:-0} + 1))
    local r
    for r in ${RIGHT[$1]:-}; do JOIN+=("$1 $v|${r//_/ }"); done
    LEFT[$1]="${LEFT[$1]:-} ${v// /_}"
}
add_inb() {
    local v="$2 $3"
    printf '%s:%s\n' "$(key_of "$1")" "$v" >>"$WORK/inb.txt"
    local l
    for l in ${LEFT[$1]:-}; do JOIN+=("$1 ${l//_/ }|$v"); done
    RIGHT[$1]="${RIGHT[$1]:-} ${v// /_}"
}

# wait_last TOPIC MODEL_ARRAY: until each key's last record (int64) is the model's
wait_last() {
    local topic=$1 want got
    local -n m=$2
    want=$(for k in "${!m[@]}"; do echo "$k ${m[$k]}"; done | sort)
    DEADLINE=$((SECONDS + 60))
    while poll_ok "($topic)"; do
        got=$(E topic consume "$topic" -o beginning -e -f '%k %v\n' --value-format int64 2>/dev/null |
            awk '{ last[$1] = $2 } END { for (k in last) print k, last[k] }' | sort)
        [ "$got" = "$want" ] && return 0
        sleep 0.2
    done
    tail -n 20 "$WORK/app.log" >&2
    diff <(echo "$want") <(echo "$got") >&2
    fail "$topic: the last record per key is not the model's (diff above: < model, > topic)"
}
wait_join() {
    local want got
    want=$(printf '%s\n' "${JOIN[@]}" | sort)
    DEADLINE=$((SECONDS + 60))
    while poll_ok "(out-join)"; do
        got=$(E topic consume out-join -o beginning -e -f '%k %v\n' 2>/dev/null | sort)
        [ "$got" = "$want" ] && return 0
        sleep 0.2
    done
    tail -n 20 "$WORK/app.log" >&2
    diff <(echo "$want") <(echo "$got") >&2
    fail "out-join: the joined pairs are not the model's (diff above: < model, > topic)"
}
# The interactive queries' answers the model expects (streams_keys_app.c).
expected_queries() {
    local s n
    for s in counts sums; do
        for n in $NAMES 700; do
            if [ "$s" = counts ]; then echo "get $s $n ${COUNT[$n]:--}"; else echo "get $s $n ${SUM[$n]:--}"; fi
        done
    done
    printf 'range counts'
    for n in $NAMES; do [ -z "${COUNT[$n]:-}" ] || printf ' %s=%s' "$n" "${COUNT[$n]}"; done
    printf '\nrange512 counts'
    for n in 512 4096j 4096; do [ -z "${COUNT[$n]:-}" ] || printf ' %s=%s' "$n" "${COUNT[$n]}"; done
    printf '\n'
}
wait_queries() {
    local want
    want=$(expected_queries)
    DEADLINE=$((SECONDS + 60))
    while poll_ok "$1"; do
        [ -f "$QF" ] && [ "$(cat "$QF")" = "$want" ] && return 0
        sleep 0.2
    done
    tail -n 20 "$WORK/app.log" >&2
    diff <(echo "$want") "$QF" >&2
    fail "interactive queries: answers are not the model's (diff above: < model, > app) $1"
}
check_all() {
    wait_last out-counts COUNT
    wait_last out-sums SUM
    wait_last out-wcounts WCOUNT
    wait_join
    wait_queries "$1"
}

start_app
# Phase 1: 1 to 3 records per key on "in" over two windows, one on "inb".
i=0
: >"$WORK/in.txt"
: >"$WORK/inb.txt"
for n in $NAMES; do
    add_inb "$n" $((5000 + i)) "b$i.0"
    for j in $(seq 0 $((i % 3))); do add_in "$n" $((1000 + 9000 * j + i)) "a$i.$j"; done
    i=$((i + 1))
done
E topic produce inb -k : <"$WORK/inb.txt" >/dev/null
E topic produce in -k : <"$WORK/in.txt" >/dev/null
check_all "(before the restore)"
log "count, aggregate, windowed count, join and queries agree with the model for keys of 0 to 100000 bytes"

stop_app
rm -rf "$WORK/state"
start_app
# The restored stores answer as before, from their changelogs alone.
wait_queries "(right after the restore)"
grep -q "restored" "$WORK/app.log" || fail "the app did not restore"
log "after a wipe, the stores are restored from the changelogs: queries as before"

# Phase 2: one more record per key on each side, joined with the restored
# buffers, added to the restored counts.
i=0
: >"$WORK/in.txt"
: >"$WORK/inb.txt"
for n in $NAMES; do
    add_in "$n" $((30000 + i)) "a$i.x"
    add_inb "$n" $((31000 + i)) "b$i.1"
    i=$((i + 1))
done
E topic produce in -k : <"$WORK/in.txt" >/dev/null
E topic produce inb -k : <"$WORK/inb.txt" >/dev/null
check_all "(after the restore)"
log "after the restore, new records add to the restored counts, sums, windows and join buffers"
if grep -E "write failed|lost to a rebalance|exceeds" "$WORK/app.log" >&2; then
    fail "the app logged a store failure (above)"
fi
stop_app
log "PASS"
