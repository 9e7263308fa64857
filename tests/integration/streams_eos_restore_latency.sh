#!/usr/bin/env bash
# processing.guarantee=exactly_once_v2 with commit.interval.ms at its EOS
# default (100): a task that restores its state while its thread processes
# input must start running once restored, so that committed output follows
# every ~100 ms. The word count's store task restores a changelog of 200,000
# counts (its state directory wiped) while its stateless task, running at
# once, works through a backlog of lines and so has a transaction open at
# every commit. The first committed count after the restart must come before
# the backlog is through, not with its final count.
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
# changelog) with a backlog of lines f1..f10: committed counts must come
# every commit while the backlog is processed, so the first committed count
# of f1 after a restart is below the count the backlog ends at. A restored
# task that waited for the input to run dry made the first commit after the
# restart carry the final counts already. Where the restore ends (during a
# commit or between two) is up to timing: ATTEMPTS restarts.
ATTEMPTS=${ATTEMPTS:-4}
BACKLOG=${BACKLOG:-300000}
total=0
for RUN in $(seq 2 $((ATTEMPTS + 1))); do
    prev=$total
    awk -v n="$BACKLOG" 'BEGIN { for (i = 0; i < n; i++) print "f1 f2 f3 f4 f5 f6 f7 f8 f9 f10" }' |
        E topic produce lines >/dev/null ||
        fail "producing the backlog failed"
    total=$((total + BACKLOG))
    rm -rf "$WORK/state"
    app "$WORK/state" "$WORK/app$RUN.log"
    last=0
    for _ in $(seq 1 300); do
        alive
        last=$(E topic consume counts -o beginning -e --isolation read_committed -f '%k %v\n' \
            --value-format int64 2>/dev/null | awk '$1 == "f1" { c = $2 } END { print c + 0 }')
        [ "$last" -ge "$total" ] && break
        sleep 0.2
    done
    [ "$last" = "$total" ] || fail "restart $((RUN - 1)): f1 counted $last, expected $total"
    stop_app
    first=$(E topic consume counts -o beginning -e --isolation read_committed -f '%k %v\n' \
        --value-format int64 2>/dev/null | awk -v p="$prev" '$1 == "f1" && $2 > p { print $2; exit }')
    log "restart $((RUN - 1)): first committed count of f1 $first, backlog ends at $total ($(grep -o 'restored [0-9]* records in [0-9.]* s' "$WORK/app$RUN.log" | tail -n 1))"
    [ "$first" -lt "$total" ] || {
        grep -E 'restored|ready' "$WORK/app$RUN.log" >&2
        fail "restart $((RUN - 1)): the first count committed after the restart is already the final one ($first): no transaction committed output while the backlog was processed (the restored task waited for the input to run dry)"
    }
done
log "PASS"
