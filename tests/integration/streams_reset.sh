#!/usr/bin/env bash
# Local state after `eddy app reset`, in every order of restarts. Two
# instances of the word-count example (each with its own state.dir) run and
# stop; the app is reset to the end of its input; then:
#   1. A starts alone and writes more changelog records than B's old
#      checkpoints cover, stops; B starts alone with its old local state;
#   2. the same with B first, then A (with two stream threads);
#   3. both start at once.
# Each round's output counts must equal the reference (awk) of the records
# read since its reset exactly: an instance that trusted its pre-reset state
# would add the old counts: each round's bulk uses words of its own, and its
# last batch words of the round before. The cache is off, so every update is one
# changelog record and the changelogs of a bigger batch are longer.
# Also: the reset warns about changelogs whose inputs it does not rewind.
#
#   streams_reset.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_reset "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

corpus() { # SEED LINES PREFIX: words of a vocabulary of 40, each with PREFIX in front
    awk -v seed="$1" -v n="$2" -v pre="$3" 'BEGIN {
        srand(seed);
        split("the quick brown fox jumps over lazy dog kafka stream table join window count " \
              "eddy broker log segment index offset partition replica leader follower commit " \
              "state store lmdb changelog restore task thread group member rebalance 42 2026", v, " ");
        for (i = 0; i < n; i++) {
            line = "";
            k = 3 + int(rand() * 9);
            for (j = 0; j < k; j++)
                line = line (j ? " " : "") pre v[1 + int(rand() * rand() * 40)];
            print line ".";
        }
    }'
}
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
latest() { # TOPIC
    E topic consume "$1" -o beginning -e -f '%k %v\n' --value-format int64 |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort
}

start_app() { # NAME OUTPUT [-X ...]
    local name=$1 out=$2
    shift 2
    "$WC" --input lines --output "$out" -X "bootstrap.servers=$BOOTSTRAP" \
        -X application.id=wr -X "state.dir=$WORK/state-$name" -X commit.interval.ms=200 \
        -X cache.max.bytes.buffering=0 -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 \
        "$@" >>"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    bg_started "$pid"
    eval "PID_$name=$pid"
}
stop_app() { # NAME: SIGTERM, must exit 0
    local pid rc=0
    eval "pid=\$PID_$1"
    kill -TERM "$pid"
    timeout 30 tail --pid="$pid" -f /dev/null || fail "$1 did not stop within 30 s of SIGTERM"
    wait "$pid" || rc=$?
    bg_done "$pid"
    [ "$rc" = 0 ] || { tail -n 20 "$WORK/$1.log" >&2; fail "$1 exited $rc after SIGTERM"; }
}
wait_counts() { # TOPIC EXPECTED_FILE LOGNAME...
    local topic=$1 want=$2 i
    shift 2
    for i in $(seq 1 60); do
        latest "$topic" >"$WORK/got"
        cmp -s "$WORK/got" "$want" && return 0
        sleep 1
    done
    echo "word, reference, output (where they differ):" >&2
    join -a1 -a2 -e - -o 0,1.2,2.2 "$want" "$WORK/got" | awk '$2 != $3' | head -n 20 >&2 || true
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
    fail "$topic: counts are not the reference after 60 s"
}
reset() {
    E app reset --application-id wr --input-topics lines --to-latest >"$WORK/reset.out" 2>&1 ||
        { cat "$WORK/reset.out" >&2; fail "eddy app reset failed"; }
}
produce() { # SEED LINES PREFIX -> appends to the round's input file
    corpus "$1" "$2" "$3" | tee -a "$WORK/round" | E topic produce lines >/dev/null
}

E topic create lines -p 4 >/dev/null

# Both instances run and keep state for their tasks.
E topic create out0 -p 4 >/dev/null
: >"$WORK/round"
produce 1 600 a
reference <"$WORK/round" >"$WORK/ref"
start_app a out0
start_app b out0
wait_counts out0 "$WORK/ref" a b
stop_app a
stop_app b
log "two instances: counts equal the reference"
# A restart without a reset keeps the state: nothing is wiped.
start_app b out0
produce 7 100 a
reference <"$WORK/round" >"$WORK/ref"
wait_counts out0 "$WORK/ref" b
stop_app b
grep -q "stale" "$WORK/b.log" && fail "b wiped its state on a restart without a reset"

# Round 1: reset; A alone writes past B's checkpoints; then B alone.
reset
: >"$WORK/round"
E topic create out1 -p 4 >/dev/null
produce 2 1800 b
start_app a out1
reference <"$WORK/round" >"$WORK/ref"
wait_counts out1 "$WORK/ref" a
stop_app a
start_app b out1
produce 3 300 a
reference <"$WORK/round" >"$WORK/ref"
wait_counts out1 "$WORK/ref" b
stop_app b
grep -q "stale" "$WORK/b.log" || fail "b did not say that it wiped its stale state"
log "reset, A alone then B alone: counts equal the reference"

# Round 2: the other order, A with two stream threads.
reset
: >"$WORK/round"
E topic create out2 -p 4 >/dev/null
produce 4 3000 c
start_app b out2
reference <"$WORK/round" >"$WORK/ref"
wait_counts out2 "$WORK/ref" b
stop_app b
start_app a out2 -X num.stream.threads=2
produce 5 300 b
reference <"$WORK/round" >"$WORK/ref"
wait_counts out2 "$WORK/ref" a
stop_app a
log "reset, B alone then A alone: counts equal the reference"

# Round 3: both at once.
reset
: >"$WORK/round"
E topic create out3 -p 4 >/dev/null
start_app a out3
start_app b out3
produce 6 800 c
reference <"$WORK/round" >"$WORK/ref"
wait_counts out3 "$WORK/ref" a b
stop_app a
stop_app b
log "reset, both at once: counts equal the reference"

# A reset that does not rewind the store's input warns, naming the
# changelog and the input; one that does, does not.
E topic create other -p 1 >/dev/null
E app reset --application-id wr --input-topics other --dry-run >"$WORK/warn.out" 2>&1 ||
    { cat "$WORK/warn.out" >&2; fail "eddy app reset --dry-run failed"; }
grep -q "warning: changelog wr-counts-changelog .*filled from lines, not rewound" "$WORK/warn.out" ||
    { cat "$WORK/warn.out" >&2; fail "no warning naming the changelog and its input 'lines'"; }
# A changelog without an incarnation record (empty here): its inputs are
# not known, so the warning says what the rebuilt store will hold.
E topic create wr-extra-changelog -p 2 >/dev/null
E app reset --application-id wr --input-topics lines --dry-run >"$WORK/nowarn.out" 2>&1 ||
    { cat "$WORK/nowarn.out" >&2; fail "eddy app reset --dry-run failed"; }
grep -q "warning: changelog wr-counts-changelog" "$WORK/nowarn.out" &&
    { cat "$WORK/nowarn.out" >&2; fail "a warning although the input is rewound"; }
grep -q "warning: changelog wr-extra-changelog .*not known.*rewound inputs (lines)" "$WORK/nowarn.out" ||
    { cat "$WORK/nowarn.out" >&2; fail "no warning for a changelog whose inputs are not known"; }
log "reset warns about changelogs whose inputs stay where they are"
stop_broker
log "ok"
