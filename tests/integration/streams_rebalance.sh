#!/usr/bin/env bash
# Graceful rebalances lose and duplicate nothing, with commit.interval.ms
# at an hour so that only the rebalances and the stops commit (a timer
# commit would hide what a rebalance commits, and a loaded machine cannot
# be trusted to get there before the default 30 s): the word-count example counts part of the input alone,
# a second instance joins (the first commits the tasks it gives up, input
# offsets included, before it rejoins), more input, the second stops with
# SIGTERM (its tasks committed before it leaves, the first commits again
# before taking them over), more input. The sub-topology reading the input
# must have sent each word exactly once through the repartition topic after
# each step, the group's committed input offsets after each rebalance must
# be exactly the lines read so far, and the final counts must equal the
# reference (computed here with awk, independently of Eddy).
#
#   streams_rebalance.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_rebalance "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

APP=wcr
REPART=$APP-counts-repartition

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
# word count the way the example defines a word
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
words() { awk '{ s += $2 } END { print s + 0 }' "$1"; }
latest() { # TOPIC: the latest count per word
    E topic consume "$1" -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}
# Words sent through the repartition topic (0 before the app creates it):
# a combined record carries its partial count, any other record counts one.
repart_words() {
    { E topic consume "$REPART" -o beginning -e -f '%h|%v\n' --value-format int64 2>/dev/null || true; } |
        awk -F'|' '{ s += ($1 ~ /eddy.combined-count/) ? $2 : 1 } END { print s + 0 }'
}
# "TOPIC PARTITION COMMITTED END" per committed offset of the group
committed() {
    { E group describe "$APP" 2>/dev/null || true; } | awk '$1 ~ /^(lines|'"$REPART"')$/ && $2 ~ /^[0-9]+$/ { print $1, $2, $3, $4 }'
}

dump_logs() { for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done; }

start_app() { # NAME: default cache, commits only on rebalances and stops
    "$WC" --input lines --output counts -X "bootstrap.servers=$BOOTSTRAP" \
        -X "application.id=$APP" -X "state.dir=$WORK/state-$1" -X commit.interval.ms=3600000 \
        >"$WORK/$1.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$1=$pid"
}
stop_app() { # NAME: SIGTERM, must exit 0
    local pid rc=0
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$1 did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || { dump_logs "$1"; fail "$1 exited $rc after SIGTERM"; }
}
alive() { # NAME...
    local n pid
    for n in "$@"; do
        eval "pid=\$PID_$n"
        kill -0 "$pid" 2>/dev/null || { dump_logs "$n"; fail "$n died"; }
    done
}
# Waits until the input sub-topology has sent exactly WANT words through
# the repartition topic; more is a duplicate.
wait_repart() { # WANT LOGNAME...
    local want=$1 got=0
    shift
    for _ in $(seq 1 300); do
        alive "$@"
        got=$(repart_words)
        [ "$got" -ge "$want" ] && break
        sleep 0.2
    done
    [ "$got" = "$want" ] || { dump_logs "$@"; fail "$got words went through $REPART, expected $want"; }
}
# Waits until the group is stable with N members, each owning partitions.
wait_members() { # N LOGNAME...
    local n=$1
    shift
    for _ in $(seq 1 150); do
        alive "$@"
        E group describe "$APP" >"$WORK/desc" 2>/dev/null || true
        if grep -q "state: Stable .*members: $n\$" "$WORK/desc" &&
            [ "$(grep -c '  member .*: [1-9][0-9]* partition' "$WORK/desc")" = "$n" ]; then
            return 0
        fi
        sleep 0.2
    done
    cat "$WORK/desc" >&2
    dump_logs "$@"
    fail "the group did not settle with $n member(s) owning partitions"
}
# The group's committed offsets of lines add up to exactly N, and the
# repartition topic has committed offsets.
check_committed() { # N WHEN
    committed >"$WORK/committed"
    local lines rp
    lines=$(awk '$1 == "lines" { s += $3; n++ } END { print (n == 4) ? s : "missing" }' "$WORK/committed")
    rp=$(awk -v t="$REPART" '$1 == t { n++ } END { print n + 0 }' "$WORK/committed")
    { [ "$lines" = "$1" ] && [ "$rp" -gt 0 ]; } || {
        E group describe "$APP" >&2 || true
        fail "$2: committed offsets of lines add up to '$lines' (expected $1 on 4 partitions), $rp of $REPART"
    }
}

E topic create lines -p 4 >/dev/null
E topic create counts -p 4 >/dev/null
corpus 11 3000 >"$WORK/b1"
corpus 12 2000 >"$WORK/b2"
corpus 13 2000 >"$WORK/b3"
reference <"$WORK/b1" >"$WORK/r1"
cat "$WORK/b1" "$WORK/b2" | reference >"$WORK/r12"
cat "$WORK/b1" "$WORK/b2" "$WORK/b3" | reference >"$WORK/r123"
N1=3000 N2=5000 N3=7000

# One instance reads the first batch (no commit yet: the interval is an hour).
E topic produce lines <"$WORK/b1" >/dev/null
start_app a
wait_repart "$(words "$WORK/r1")" a
log "a alone read the first batch ($N1 lines)"

# A second instance joins: a gives its tasks up and commits them first.
start_app b
wait_members 2 a b
check_committed "$N1" "after b joined"
log "b joined: the lines a read are committed"
E topic produce lines <"$WORK/b2" >/dev/null
wait_repart "$(words "$WORK/r12")" a b
log "two instances read the second batch, no word twice"

# b stops gracefully: it commits, leaves; a commits again and takes over.
stop_app b
wait_members 1 a
check_committed "$N2" "after b stopped"
log "b stopped with SIGTERM: every line read is committed"
E topic produce lines <"$WORK/b3" >/dev/null
wait_repart "$(words "$WORK/r123")" a
log "a alone read the third batch, no word twice"

# a stops: its SIGTERM commit covers everything: no lag, and exact counts.
stop_app a
committed >"$WORK/committed"
awk -v n=$N3 '$1 == "lines" { s += $3 } $4 != $3 { lag = 1 } END { exit !(s == n && !lag && NR == 8) }' \
    "$WORK/committed" || { cat "$WORK/committed" >&2; dump_logs a; fail "after a stopped the group's offsets are not at the end of every input (lag 0)"; }
latest counts >"$WORK/got"
cmp -s "$WORK/got" "$WORK/r123" || { diff "$WORK/r123" "$WORK/got" | head -n 20 >&2; fail "counts differ from the reference after a stopped"; }
log "counts equal the reference exactly; committed offsets at the end of every input"
# The offsets came from the consumer's positions, not from the fallback
# for a position the consumer no longer knows.
if grep -h "does not know the position" "$WORK/a.log" "$WORK/b.log" >&2; then
    fail "a commit read input positions the consumer no longer knew"
fi
stop_broker
log "ok"
