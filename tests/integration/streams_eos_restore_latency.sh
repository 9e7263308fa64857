#!/usr/bin/env bash
# processing.guarantee=exactly_once_v2 with commit.interval.ms at its EOS
# default (100): a task that restores its state while its thread processes
# input must start running once restored, so that committed output follows
# every ~100 ms. The word count's store task restores a changelog of 200,000
# counts (its state directory wiped) while its stateless task, running at
# once, works through input that keeps coming and so has a transaction open
# at every commit. Committed counts must follow while the input still comes,
# not only once it runs dry.
#
#   streams_eos_restore_latency.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_eos_restore_latency "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout seq
export LC_ALL=C

start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=0
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create lines -p 4 >/dev/null
E topic create counts -p 4 >/dev/null

app() { # STATE_DIR LOG
    "$WC" --input lines --output counts -X "bootstrap.servers=$BOOTSTRAP" -X application.id=rl \
        -X "state.dir=$1" -X processing.guarantee=exactly_once_v2 \
        -X num.stream.threads=1 >"$2" 2>&1 </dev/null &
    APP=$!
    bg_started $APP
}
alive() { kill -0 "$APP" 2>/dev/null || { tail -n 20 "$WORK/app$RUN.log" >&2; fail "the app died"; }; }
stop_app() {
    kill -TERM "$APP"
    timeout 30 tail --pid="$APP" -f /dev/null || fail "the app did not stop within 30 s of SIGTERM"
    local rc=0
    wait "$APP" || rc=$?
    [ "$rc" = 0 ] || fail "the app exited $rc after SIGTERM"
    bg_done $APP
}
changelog_records() { # the sum of the changelog's end offsets
    E topic describe rl-counts-changelog 2>/dev/null |
        awk '$1 ~ /^[0-9]+$/ && NF >= 4 { s += $4 } END { print s + 0 }'
}

# 1. 200,000 distinct words counted: a changelog to restore later.
seq 1 200000 | sed 's/^/k/' | E topic produce lines >/dev/null || fail "producing the first lines failed"
RUN=1
app "$WORK/state1" "$WORK/app1.log"
for _ in $(seq 1 300); do
    alive
    [ "$(changelog_records)" -ge 200000 ] && break
    sleep 0.2
done
[ "$(changelog_records)" -ge 200000 ] || { E topic describe rl-counts-changelog >&2; fail "the changelog did not reach 200000 records within 60 s"; }
stop_app
log "first run: changelog of $(changelog_records) records"

# 2. Restarts on an empty state directory (the store task restores the
# changelog) with a backlog of lines f1..f10 and a writer that keeps adding
# lines (at most ~250,000 a second) while the test waits: a committed count
# of f1 above the previous total must appear while the writer still runs.
# The wait is on state, not on time: the writer stops once the count is
# seen, so lines keep coming after the app's first commit whatever the
# machine's speed. A restored task that waited for the input to run dry
# (its restore ended during a commit, and every later tick landed inside
# one) committed nothing until the writer's WRITER_LINES were all written
# and processed. Where the restore ends (during a commit or between two) is
# up to timing, hence ATTEMPTS restarts; the right behaviour passes every
# one of them.
ATTEMPTS=${ATTEMPTS:-4}
BACKLOG=${BACKLOG:-100000}
WRITER_LINES=${WRITER_LINES:-3000000}
LINE="f1 f2 f3 f4 f5 f6 f7 f8 f9 f10"
f1_lines() { # lines holding f1: every line past the first 200,000 (k1..k200000)
    E topic describe lines 2>/dev/null |
        awk '$1 ~ /^[0-9]+$/ && NF >= 4 { s += $4 } END { print s - 200000 }'
}
f1_committed() { # the last committed count of f1, 0 if none
    E topic consume counts -o beginning -e --isolation read_committed -f '%k %v\n' \
        --value-format int64 2>/dev/null | awk '$1 == "f1" { c = $2 } END { print c + 0 }'
}
for RUN in $(seq 2 $((ATTEMPTS + 1))); do
    prev=$(f1_lines)
    awk -v n="$BACKLOG" -v l="$LINE" 'BEGIN { for (i = 0; i < n; i++) print l }' |
        E topic produce lines >/dev/null ||
        fail "producing the backlog failed"
    rm -rf "$WORK/state" "$WORK/stop"
    # The writer: 5,000 lines every 20 ms until $WORK/stop exists or
    # WRITER_LINES are written; the producer ends (and flushes) when the
    # writer does.
    awk -v n="$WRITER_LINES" -v l="$LINE" -v stop="$WORK/stop" 'BEGIN {
        for (i = 0; i < n; i++) {
            print l
            if (i % 5000 == 4999) {
                if (system("test -e " stop) == 0)
                    exit
                system("sleep 0.02")
            }
        }
    }' | "$EDDY" -b "$BOOTSTRAP" topic produce lines >"$WORK/writer$RUN.log" 2>&1 &
    WRITER=$!
    bg_started $WRITER
    app "$WORK/state" "$WORK/app$RUN.log"
    seen=0
    while kill -0 "$WRITER" 2>/dev/null; do
        alive
        seen=$(f1_committed)
        [ "$seen" -gt "$prev" ] && break
        sleep 0.2
    done
    running=0
    kill -0 "$WRITER" 2>/dev/null && running=1
    touch "$WORK/stop"
    timeout 60 tail --pid="$WRITER" -f /dev/null || fail "the writer did not stop within 60 s"
    wait "$WRITER" || { cat "$WORK/writer$RUN.log" >&2; fail "restart $((RUN - 1)): the writer's producer failed"; }
    bg_done $WRITER
    log "restart $((RUN - 1)): first committed count of f1 $seen after $prev, with the input still coming: $running ($(grep -o 'restored [0-9]* records in [0-9.]* s' "$WORK/app$RUN.log" | tail -n 1))"
    [ "$running" = 1 ] && [ "$seen" -gt "$prev" ] || {
        grep -E 'restored|ready' "$WORK/app$RUN.log" >&2
        fail "restart $((RUN - 1)): no count of f1 above $prev was committed while the input kept coming (the restored task waited for the input to run dry)"
    }
    # Every line counted once: the final committed count is the true total.
    total=$(f1_lines)
    last=0
    for _ in $(seq 1 300); do
        alive
        last=$(f1_committed)
        [ "$last" -ge "$total" ] && break
        sleep 0.2
    done
    [ "$last" = "$total" ] || fail "restart $((RUN - 1)): f1 counted $last, expected $total"
    stop_app
done
log "PASS"
