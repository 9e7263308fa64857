# Shared helpers for the client compatibility tests (sourced, bash).
#
#   . "$(dirname "$0")/lib.sh"
#   compat_init NAME EDDY_BINARY    # temp root in $WORK, cleanup trap, log prefix
#   start_broker DIR [eddy broker args...]
#                                   # sets BROKER_PID, BROKER_PORT, BOOTSTRAP, BROKER_LOG;
#                                   # BROKER_PORT=N beforehand asks for that port (else 0)
#   stop_broker                     # SIGTERM, wait, require exit status 0
#   kill9_broker                    # SIGKILL, wait
#   kc ARGS...                      # kcat -b $BOOTSTRAP with a timeout
#   fail MESSAGE                    # print, dump the broker log tail, exit 1
#
# Every test binds 127.0.0.1 only, starts its own broker on a free port with a fresh data
# dir, and the EXIT trap kills whatever broker is left and removes $WORK.

set -euo pipefail

CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-60}   # seconds any one client command may take
BROKER_PID=""
BROKER_LOG=""
BROKER_PORT="" # set it (e.g. BROKER_PORT=$PORT start_broker ...) to ask for a port
BOOTSTRAP=""
_BROKER_N=0
_BROKER_WD=""
_T0=$(date +%s)

log() { echo "[$COMPAT_NAME +$(($(date +%s) - _T0))s] $*" >&2; }

fail() {
    echo "FAIL [$COMPAT_NAME]: $*" >&2
    if [ -n "$BROKER_LOG" ] && [ -f "$BROKER_LOG" ]; then
        echo "---- last lines of the broker log ($BROKER_LOG) ----" >&2
        tail -n 30 "$BROKER_LOG" >&2 || true
    fi
    exit 1
}

_stop_watchdog() {
    if [ -n "$_BROKER_WD" ]; then
        kill "$_BROKER_WD" 2>/dev/null || true
        wait "$_BROKER_WD" 2>/dev/null || true
        _BROKER_WD=""
    fi
}

_compat_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    _stop_watchdog
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -9 "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    # Client processes the test left in the background (by pid, never by name). They run
    # under timeout(1), which passes SIGTERM on to the client.
    local p
    for p in ${COMPAT_BG_PIDS:-}; do
        kill -TERM "$p" 2>/dev/null || true
    done
    [ -z "${COMPAT_BG_PIDS// /}" ] || sleep 0.5
    for p in ${COMPAT_BG_PIDS:-}; do
        kill -9 "$p" 2>/dev/null || true
    done
    if [ "${COMPAT_KEEP:-0}" = 1 ]; then
        echo "[$COMPAT_NAME] keeping $WORK" >&2
    elif [ -n "${WORK:-}" ]; then
        rm -rf "$WORK"
    fi
    exit "$rc"
}

compat_init() {
    COMPAT_NAME=$1
    EDDY=$2
    [ -x "$EDDY" ] || { echo "FAIL [$COMPAT_NAME]: eddy binary '$EDDY' not executable" >&2; exit 1; }
    EDDY=$(cd "$(dirname "$EDDY")" && pwd)/$(basename "$EDDY")
    # shellcheck disable=SC2034 # used by the tests
    COMPAT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-compat-$COMPAT_NAME-XXXXXX")
    COMPAT_BG_PIDS=""
    trap _compat_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            fail "'$c' is not installed (scripts/install-deps.sh installs the test dependencies)"
    done
}

# Is something accepting connections on 127.0.0.1:$1?
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_broker() {
    local dir=$1
    shift
    [ -z "$BROKER_PID" ] || fail "start_broker: a broker is already running (pid $BROKER_PID)"
    _BROKER_N=$((_BROKER_N + 1))
    BROKER_LOG=$WORK/broker.$_BROKER_N.log
    local want=${BROKER_PORT:-0}
    "$EDDY" broker --data-dir "$dir" --listen "127.0.0.1:$want" "$@" >"$BROKER_LOG" 2>&1 </dev/null &
    BROKER_PID=$!
    # Should this script be killed outright (SIGKILL, no trap), the watchdog takes the
    # broker down with it.
    (
        trap - EXIT INT TERM
        while kill -0 $$ 2>/dev/null; do sleep 1; done
        kill -9 "$BROKER_PID" 2>/dev/null
        [ "${COMPAT_KEEP:-0}" = 1 ] || { sleep 0.5; rm -rf "$WORK"; }
    ) >/dev/null 2>&1 </dev/null &
    _BROKER_WD=$!
    local port="" i
    for i in $(seq 1 200); do # 20 s (i: shown in the failure message)
        # The background shell may not have created the log yet.
        port=$(sed -n 's/.*node [0-9]* listening on 127\.0\.0\.1:\([0-9][0-9]*\),.*/\1/p' "$BROKER_LOG" 2>/dev/null | head -n 1 || true)
        [ -n "$port" ] && break
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then
            local rc=0
            wait "$BROKER_PID" || rc=$?
            BROKER_PID=""
            _stop_watchdog
            fail "broker exited (status $rc) before listening"
        fi
        sleep 0.1
    done
    [ -n "$port" ] || fail "broker did not log its listening address within 20 s ($i polls)"
    [ "$want" = 0 ] || [ "$port" = "$want" ] || fail "broker listens on $port, asked for $want"
    for _ in $(seq 1 100); do
        port_open "$port" && break
        sleep 0.1
    done
    port_open "$port" || fail "broker logged port $port but does not accept connections"
    BROKER_PORT=$port
    BOOTSTRAP=127.0.0.1:$port
    log "broker $_BROKER_N up: pid $BROKER_PID, $BOOTSTRAP, data $dir"
}

# Wait up to $1 seconds for the broker to exit; sets _BROKER_RC (empty: still running).
_wait_broker() {
    _BROKER_RC=""
    for _ in $(seq 1 $(($1 * 10))); do
        kill -0 "$BROKER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$BROKER_PID" 2>/dev/null; then
        return 0
    fi
    _BROKER_RC=0
    wait "$BROKER_PID" 2>/dev/null || _BROKER_RC=$?
}

stop_broker() {
    [ -n "$BROKER_PID" ] || fail "stop_broker: no broker running"
    kill -TERM "$BROKER_PID" 2>/dev/null || fail "stop_broker: broker (pid $BROKER_PID) already gone"
    _wait_broker 30
    [ -n "$_BROKER_RC" ] || fail "broker did not stop within 30 s of SIGTERM"
    BROKER_PID=""
    _stop_watchdog
    [ "$_BROKER_RC" = 0 ] || fail "broker exited with status $_BROKER_RC after SIGTERM (expected 0)"
    grep -q "stopped cleanly" "$BROKER_LOG" || log "note: no 'stopped cleanly' line in $BROKER_LOG"
    log "broker $_BROKER_N stopped cleanly (exit 0)"
}

kill9_broker() {
    [ -n "$BROKER_PID" ] || fail "kill9_broker: no broker running"
    kill -9 "$BROKER_PID" 2>/dev/null || true
    _wait_broker 10
    [ -n "$_BROKER_RC" ] || fail "broker survived SIGKILL for 10 s"
    BROKER_PID=""
    _stop_watchdog
    log "broker $_BROKER_N killed with SIGKILL"
}

# Fails the test if the broker died under us.
broker_alive() {
    [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null ||
        fail "the broker died (see its log)"
}

# kcat against the running broker, bounded in time. Quiet unless it fails.
kc() {
    timeout -k 5 "$CLIENT_TIMEOUT" kcat -b "$BOOTSTRAP" "$@"
}

# Background clients: remembered for cleanup until waited for.
bg_started() { COMPAT_BG_PIDS="$COMPAT_BG_PIDS $1"; }
bg_done() { COMPAT_BG_PIDS=$(echo " $COMPAT_BG_PIDS " | sed "s/ $1 / /"); }

now_ms() { date +%s%3N; }

# An Apache Kafka cluster's home for a test (scripts/kafka.sh start "$KC" N):
# KWORK, a temp dir outside $WORK, and KC=$KWORK/cluster. The cleanup at exit
# stops the cluster (by the PIDs in its node dirs, after a clean stop is
# tried), removes KWORK, then does the usual cleanup; a watchdog kills the
# nodes should the test be killed outright. Needs KAFKA_SH (scripts/kafka.sh).
kafka_workdir() { # NAME (in the temp dir's name)
    KWORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-$1-XXXXXX")
    KC=$KWORK/cluster
    trap _kafka_cleanup EXIT
    (
        trap - EXIT INT TERM
        while kill -0 $$ 2>/dev/null; do sleep 1; done
        kafka_nodes_kill
        sleep 1
        rm -rf "$KWORK"
    ) >/dev/null 2>&1 </dev/null &
}
kafka_nodes_kill() {
    local f
    for f in "$KC"/node*/pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    return 0
}
_kafka_cleanup() {
    local rc=$?
    set +e # (exit "$rc") below must not end the handler before _compat_cleanup
    [ -d "$KC" ] && timeout 60 "$KAFKA_SH" stop "$KC" >/dev/null 2>&1
    kafka_nodes_kill
    [ "${COMPAT_KEEP:-0}" = 1 ] || rm -rf "$KWORK"
    (exit "$rc")
    _compat_cleanup
}
