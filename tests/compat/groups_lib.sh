# shellcheck shell=bash
# Helpers for the consumer-group tests (sourced after lib.sh, bash), around groups_rdkafka
# (groups_rdkafka.c) run as separate processes so that one can be SIGKILLed.
#
#   groups_init NAME EDDY GROUPS_RDKAFKA   # compat_init + $GR
#   gr MODE ARGS...                    # groups_rdkafka MODE $BOOTSTRAP ARGS..., bounded
#   start_consumer NAME GROUP TOPIC [ARGS...]
#                                      # background consumer, output in $WORK/NAME.out,
#                                      # pid in PID_NAME (the consumer itself, for kill -9)
#   stop_consumer NAME                 # SIGTERM, wait, require its EXIT line
#   kill9_consumer NAME                # SIGKILL, wait
#   wait_consumer_exit NAME SECONDS    # for --max consumers
#   last_assign NAME                   # "0,3" / "-" / "" (never assigned)
#   rebalances NAME                    # rebalance callbacks so far
#   wait_settled SECONDS EACH NPART NAMES...
#                                      # every NAME's assignment has EACH partitions, the
#                                      # union is 0..NPART-1, and no NAME's assignment
#                                      # changed for 1.5 s; sets SETTLED_MS (wall clock,
#                                      # first seen so) and SETTLED_STATE (" NAME=P,P ...")
#   wait_coverage SECONDS LO HI FILES...
#                                      # the REC lines of FILES cover record ids LO..HI
#   covered LO HI FILES...             # how many of LO..HI the REC lines of FILES cover

# shellcheck source=tests/compat/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

groups_init() {
    compat_init "$1" "$2"
    GR=${3:?groups_init NAME EDDY GROUPS_RDKAFKA}
    [ -x "$GR" ] || fail "$GR is not executable"
    GR=$(cd "$(dirname "$GR")" && pwd)/$(basename "$GR")
    need timeout awk
    # librdkafka is not built with ASan: its leaks are not ours to report.
    GR_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
}

gr() {
    local mode=$1
    shift
    ASAN_OPTIONS=$GR_ASAN timeout -k 5 "$CLIENT_TIMEOUT" "$GR" "$mode" "$BOOTSTRAP" "$@"
}

start_consumer() {
    local name=$1 group=$2 topic=$3
    shift 3
    # Created here, not by the background job: a glob right after must see it.
    : >>"$WORK/$name.out"
    # No timeout(1) wrapper: $! must be the consumer itself. --lifetime bounds it instead.
    ASAN_OPTIONS=$GR_ASAN "$GR" consume "$BOOTSTRAP" "$group" "$topic" --name="$name" \
        --lifetime=200 "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.err" </dev/null &
    local pid=$!
    printf -v "PID_${name//-/_}" %s "$pid"
    bg_started "$pid"
}

_cpid() {
    local v="PID_${1//-/_}"
    echo "${!v:-}"
}

stop_consumer() {
    local pid
    pid=$(_cpid "$1")
    [ -n "$pid" ] || fail "stop_consumer $1: not started"
    kill -TERM "$pid" 2>/dev/null || true
    local rc=0
    _wait_pid "$pid" 30 || fail "consumer $1 did not stop within 30 s of SIGTERM"
    wait "$pid" 2>/dev/null || rc=$?
    bg_done "$pid"
    [ $rc = 0 ] || fail "consumer $1 exited with status $rc: $(tail -n 5 "$WORK/$1.err")"
    tail -n 1 "$WORK/$1.out" | grep -q ' EXIT$' || fail "consumer $1: no EXIT line"
}

kill9_consumer() {
    local pid
    pid=$(_cpid "$1")
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    bg_done "$pid"
}

wait_consumer_exit() {
    local pid rc=0
    pid=$(_cpid "$1")
    _wait_pid "$pid" "$2" || fail "consumer $1 did not finish within $2 s"
    wait "$pid" 2>/dev/null || rc=$?
    bg_done "$pid"
    [ $rc = 0 ] || fail "consumer $1 exited with status $rc: $(tail -n 5 "$WORK/$1.err")"
}

_wait_pid() {
    local i
    for i in $(seq 1 $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$1" 2>/dev/null
}

last_assign() { awk '$2 == "ASSIGN" { a = $4 } END { print a }' "$WORK/$1.out"; }
rebalances() { awk '$2 == "ASSIGN" { a = $3 } END { print a + 0 }' "$WORK/$1.out"; }
assign_lines() { grep -c ' ASSIGN ' "$WORK/$1.out" || true; }

_nparts() { # "0,3" -> 2, "-" or "" -> 0
    case $1 in "" | -) echo 0 ;; *) echo $(($(tr -cd , <<<"$1" | wc -c) + 1)) ;; esac
}

# shellcheck disable=SC2034 # SETTLED_MS, SETTLED_STATE: for the tests
wait_settled() {
    local limit=$1 each=$2 npart=$3
    shift 3
    local t0 state last="" since=0 n a union why
    t0=$(now_ms)
    while [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ]; do
        state=""
        why=""
        union=""
        for n in "$@"; do
            kill -0 "$(_cpid "$n")" 2>/dev/null ||
                fail "consumer $n died: $(tail -n 5 "$WORK/$n.err")"
            a=$(last_assign "$n")
            state="$state $n=$a"
            [ "$(_nparts "$a")" = "$each" ] || why="$n has '$a'"
            [ "$a" = - ] || union="$union,$a"
        done
        [ -n "$why" ] || [ "$(tr , '\n' <<<"$union" | sed '/^$/d' | sort -n | tr '\n' ' ')" = \
            "$(seq 0 $((npart - 1)) | tr '\n' ' ')" ] || why="union is '$union'"
        if [ -z "$why" ] && [ "$state" = "$last" ]; then
            if [ $(($(now_ms) - since)) -ge 1500 ]; then
                SETTLED_STATE=$state
                return 0
            fi
        else
            since=$(now_ms)
            SETTLED_MS=$since
        fi
        last=$state
        sleep 0.2
    done
    fail "consumers did not settle on $each partition(s) each within $limit s: $state ($why)"
}

covered() {
    local lo=$1 hi=$2
    shift 2
    awk -v lo="$lo" -v hi="$hi" '$2 == "REC" && $5 >= lo && $5 <= hi && !seen[$5]++ { n++ }
        END { print n + 0 }' "$@"
}

wait_coverage() {
    local limit=$1 lo=$2 hi=$3
    shift 3
    local t0 c
    t0=$(now_ms)
    while :; do
        c=$(covered "$lo" "$hi" "$@")
        [ "$c" = $((hi - lo + 1)) ] && return 0
        [ $(($(now_ms) - t0)) -lt $((limit * 1000)) ] || break
        sleep 0.2
    done
    fail "records $lo..$hi: only $c of $((hi - lo + 1)) consumed within $limit s"
}
