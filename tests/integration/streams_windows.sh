#!/usr/bin/env bash
# Windowed streams against a real broker, each result checked against
# a model computed here with awk from Kafka Streams' documented semantics (and
# the rules streams/windows.c and streams/join.c state), independently of
# Eddy, over randomized out-of-order input with late records. Event times
# come from the values (the apps' timestamp extractors) on a 1 s (100 ms for
# joins) grid, so records land on window bounds and stream time on closing
# times. Input order is processing order: topics have one partition, or the
# model runs per partition (one task, one stream time each: the largest event
# time seen so far).
#
#  1. windowed_count (tumbling 1 min, grace 10 s, final results only): every
#     closed window exactly once with the model's count; the late records
#     dropped (printed at exit) are the model's.
#  2. test app, same input: hopping windows (60 s / 20 s): every closed window
#     once with the model's count, late drops counted per window as Kafka;
#     re-keyed through a repartition topic (30 s, grace 0): the model's
#     windows and late count (event times survive the repartition); sliding
#     windows (10 s): each emitted window once, holding exactly the records
#     it covers that arrived while it was open, every open left window
#     emitted, the model's late count.
#  3. session windows (gap 5 s): every session emitted (start, end, count) is
#     the model's, including sessions a later record merged into a larger one
#     after they were emitted; the late count is the model's. Without
#     suppression: the latest update of each session left at the end is its
#     count, the merged ones end with a tombstone.
#  4. stream-stream joins (inner, left, outer; test app joining one topic
#     split in two sides; some records share key, side and time): the
#     multiset of (key, timestamp, joined value) is the model's, unmatched
#     records included; late counts are the model's. Left and outer joins
#     with asymmetric windows (before 2 s, after 6 s) over 2 partitions, one
#     of them 100 s behind, on 2 stream threads: the per-partition model.
#  5. click_join (two topics, 10 min windows): inner pairs and left-join
#     unmatched impressions equal the model's.
#  6. stream time per task: windowed_count over 3 partitions, one of them
#     200 s behind the others, equals the per-partition model (a single
#     stream time would drop that partition as late).
#  7. kill -9 and restore: windowed_count (tumbling), the session count and
#     the outer join killed after part of the input is committed, restarted
#     with their state dir kept or wiped (restored from the changelogs), fed
#     the rest: the final output equals the model's, and the restarted run's
#     late count is the model's for the rest of the input.
#  8. tumbling windows without suppression: the latest update of every
#     window (closed or not) is the model's count.
#  No app log may hold a sanitizer report.
#
#   streams_windows.sh EDDY WINDOWED_COUNT CLICK_JOIN STREAMS_WINDOWS_APP
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_windows "$1"
abspath() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
WC=$(abspath "$2")
CJ=$(abspath "$3")
APP=$(abspath "$4")
need awk sed sort timeout cmp
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

start_app() { # NAME BINARY APP_ID [args...]
    local name=$1 bin=$2 app=$3
    shift 3
    "$bin" -X "bootstrap.servers=$BOOTSTRAP" -X "application.id=$app" \
        -X "state.dir=$WORK/state-$app" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 "$@" \
        >>"$WORK/$name.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
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
kill9_app() { # NAME
    local pid
    eval "pid=\$PID_$1"
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    bg_done "$pid"
}
show_logs() {
    local n
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
}
# The late count an app printed at exit (its last line of counters).
late_of() { # NAME
    sed -n 's/.* \([0-9][0-9]*\) too late for their.*/\1/p; s/^streams_windows_app: processed [0-9]* late \([0-9]*\) .*/\1/p' \
        "$WORK/$1.log" | tail -n 1
}
# Waits until `consume TOPIC` (sorted, all records) equals MODEL.
#   wait_output NAME TOPIC MODEL FORMAT [consume args...]
wait_output() {
    local name=$1 topic=$2 model=$3 fmt=$4 i pid
    shift 4
    eval "pid=\$PID_$name"
    for i in $(seq 1 120); do
        E topic consume "$topic" -o beginning -e -f "$fmt" "$@" | sort >"$WORK/got.$name"
        cmp -s "$WORK/got.$name" "$model" && return 0
        kill -0 "$pid" 2>/dev/null || { show_logs "$name"; fail "$name exited early"; }
        sleep 1
    done
    echo "---- diff model got ($name, $topic) ----" >&2
    diff "$model" "$WORK/got.$name" | head -n 30 >&2 || true
    show_logs "$name"
    fail "$name: $topic is not the model's after 120 s ($(wc -l <"$model") lines expected, $(wc -l <"$WORK/got.$name") got)"
}
# Waits until the group APP_ID committed COUNT records of TOPIC (all partitions).
wait_committed() { # APP_ID TOPIC COUNT NAME
    local i c
    for i in $(seq 1 90); do
        c=$(E group describe "$1" 2>/dev/null |
            awk -v t="$2" '$1 == t && $3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' || true)
        [ "$c" = "$3" ] && return 0
        sleep 1
    done
    E group describe "$1" >&2 || true
    show_logs "$4"
    fail "$1 did not commit $3 records of $2 within 90 s (last seen: $c)"
}
check_late() { # NAME WANT WHAT
    local got
    got=$(late_of "$1")
    [ "$got" = "$2" ] || { show_logs "$1"; fail "$1: $got records too late printed at exit, the model has $2 ($3)"; }
}

# ---------------------------------------------------------------- input

# KEY:TIME VALUE lines, time in ms. Base time grows by STEP per record; most
# records come up to JITTER ms early (out of order, within grace), LATEPCT % of
# them LATEMIN..LATEMAX ms early (late for some windows). Times are multiples
# of 1000 ms, so that records land exactly on window bounds and stream time
# exactly on closing times (the off-by-one cases). Keys are k0..k(KEYS-1).
# gen SEED N KEYS STEP JITTER LATEPCT LATEMIN LATEMAX
gen() {
    awk -v seed="$1" -v n="$2" -v keys="$3" -v step="$4" -v jit="$5" -v latepct="$6" \
        -v lmin="$7" -v lmax="$8" 'BEGIN {
        srand(seed); t0 = 1000000;
        for (i = 0; i < n; i++) {
            base = t0 + i * step;
            if (rand() * 100 < latepct) t = base - lmin - int(rand() * (lmax - lmin));
            else                        t = base - int(rand() * jit);
            t = t < 0 ? 0 : int(t / 1000) * 1000;
            print "k" int(rand() * keys) ":" t " e" i;
        }
    }'
}

# ---- model: time windows (KStreamWindowAggregate + final results) ----
# Stream time = the largest time seen, including the record's own. A window
# [s, s + size) is closed when s + size <= stream time - grace; a record is
# counted in each of its windows (starts: multiples of advance in
# (t - size, t]) that is not closed, and dropped (counted once per closed
# window) from those that are. Output: the windows closed at the end, once.
# Prints KEY@START<TAB>COUNT lines (ALL=1: of every window, closed or not);
# the late count to stderr.
model_time() { # SIZE ADVANCE GRACE FILE [ALL]
    awk -F: -v size="$1" -v adv="$2" -v grace="$3" -v all="${5:-0}" '
        {
            k = $1; split($2, f, " "); t = f[1] + 0;
            if (t > st) st = t;
            close_ = st - grace;
            first = t - size + adv; if (first < 0) first = 0;
            first = int(first / adv) * adv;
            for (s = first; s <= t; s += adv) {
                if (s + size <= close_) { late++; continue }
                c[k "@" s]++; end[k "@" s] = s + size;
            }
        }
        END {
            for (w in c) if (all || end[w] <= st - grace) printf "%s\t%d\n", w, c[w];
            print late + 0 >"/dev/stderr"
        }' "$4"
}

# ---- check: sliding windows (KStreamSlidingWindowAggregate + final) ----
# Windows [s, s + d] (both ends included) are made by the records: not a
# model of which windows exist, but of what they must hold. A record at t is
# dropped (late, once) when t + 1 + d <= stream time - grace (even its right
# window is closed); a window closes when s + d <= stream time - grace and a
# record counts in the windows containing it that are open when it arrives.
# Checked: every emitted window once, with count = the records of its key in
# [s, s + d] that arrived while it was open (>= 1); every record whose left
# window [t - d, t] was open at its arrival has that window emitted; the late
# count. Prints the problems (none: nothing) and the number of windows and
# the late count to stderr.
check_sliding() { # D GRACE INPUT OUTPUT
    awk -v d="$1" -v grace="$2" '
        NR == FNR {
            split($0, a, ":"); k = a[1]; split(a[2], f, " "); t = f[1] + 0;
            if (t > st) st = t;
            n++; rk[n] = k; rt[n] = t; rc[n] = st - grace;
            if (t + 1 + d <= st - grace) late++;
            next
        }
        {
            split($1, w, "@"); k = w[1]; s = w[2] + 0;
            if ($1 in seen) { print "window " $1 " emitted twice"; bad = 1 }
            seen[$1] = 1; nw++;
            want = 0;
            for (i = 1; i <= n; i++)
                if (rk[i] == k && rt[i] >= s && rt[i] <= s + d && s + d > rc[i]) want++;
            if (want < 1 || $2 != want) { print "window " $1 ": count " $2 ", want " want; bad = 1 }
        }
        END {
            for (i = 1; i <= n; i++)
                if (rt[i] > rc[i] && rt[i] <= st - grace && !((rk[i] "@" (rt[i] - d)) in seen)) {
                    print "record " rk[i] "@" rt[i] ": its left window was not emitted"; bad = 1
                }
            print nw + 0, late + 0 >"/dev/stderr";
            exit bad
        }' "$3" FS='\t' "$4"
}

# ---- model: session windows (KStreamSessionWindowAggregate + final) ----
# A record at t merges the live sessions of its key with end >= t - gap and
# start <= t + gap into one [min start, max end] with the summed count plus
# one, unless that merged session's end < stream time - grace: then it is
# dropped (late, once). Sessions expire from the store (retention gap + grace)
# when end < stream time - gap - grace. Final results: before each record,
# the sessions whose end became < stream time - grace are emitted, once each,
# as they are then (a session emitted and later merged into a larger one
# appears twice: the emitted one and the merged one).
# Prints KEY@START-END<TAB>COUNT (ALIVE=1: of the sessions not merged into
# others at the end, instead of the emitted ones); the late count to stderr.
model_session() { # GAP GRACE FILE [ALIVE]
    awk -F: -v gap="$1" -v grace="$2" -v alive="${4:-0}" '
        BEGIN { emitted = -1; st = -1 }
        {
            k = $1; split($2, f, " "); t = f[1] + 0;
            if (t > st) st = t;
            close_ = st - grace;
            upto = close_ - 1;
            if (upto >= 0 && upto > emitted) {
                for (id in sk) if (!alive && se[id] > emitted && se[id] <= upto)
                    printf "%s@%d-%d\t%d\n", sk[id], ss[id], se[id], sc[id];
                emitted = upto;
            }
            ms = t; me = t; mc = 0; nf = 0;
            for (id in sk) {
                if (sk[id] != k || se[id] < st - gap - grace) continue;
                if (se[id] >= t - gap && ss[id] <= t + gap) {
                    found[++nf] = id;
                    if (ss[id] < ms) ms = ss[id];
                    if (se[id] > me) me = se[id];
                    mc += sc[id];
                }
            }
            if (me < close_) { late++; next }
            for (i = 1; i <= nf; i++) { id = found[i]; delete sk[id]; delete ss[id]; delete se[id]; delete sc[id] }
            id = ++nid; sk[id] = k; ss[id] = ms; se[id] = me; sc[id] = mc + 1;
        }
        END {
            if (alive) for (id in sk) printf "%s@%d-%d\t%d\n", sk[id], ss[id], se[id], sc[id];
            print late + 0 >"/dev/stderr"
        }' "$3"
}

# ---- model: stream-stream joins (KStreamKStreamJoin, streams/join.c) ----
# A left record at t joins the right records in [t - B, t + A], a right one
# the left records in [t - A, t + B]; a record's own window ends at t + A
# (left) or t + B (right). A record (stream time first advanced to it) is late
# when its window end + grace < stream time: dropped, counted. Else it is
# buffered, then (left/outer) every waiting unmatched record (several may
# share key, side and time) whose window end
# + grace < stream time is emitted joined with null (timestamp its own);
# then it joins each buffered record of the other side and key in its range
# that the buffer still holds (retention B + A + grace: time >= stream time -
# B - A - grace), timestamp the larger; each partner stops waiting. A record
# that found none waits if its side keeps unmatched records (left: the left
# side; outer: both).
# Prints KEY<TAB>TIMESTAMP<TAB>LEFT|RIGHT; the late count to stderr.
model_join() { # KIND B A GRACE FILE
    awk -F: -v kind="$1" -v B="$2" -v A="$3" -v grace="$4" '
        function wend(side, t) { return side == "L" ? t + A : t + B }
        BEGIN { st = -1 }
        {
            k = $1; v = $2; split(v, f, " "); t = f[1] + 0; side = f[2];
            if (t > st) st = t;
            if (wend(side, t) + grace < st) { late++; next }
            n[side, k]++; bt[side, k, n[side, k]] = t; bv[side, k, n[side, k]] = v;
            if (kind != "inner")
                for (p in pend) {
                    split(p, q, SUBSEP);
                    if (wend(q[2], q[1]) + grace < st) {
                        nv = split(pend[p], vs, "\001");
                        for (j = 1; j <= nv; j++)
                            if (q[2] == "L") printf "%s\t%d\t%s|null\n", q[3], q[1], vs[j];
                            else             printf "%s\t%d\tnull|%s\n", q[3], q[1], vs[j];
                        delete pend[p];
                    }
                }
            o = side == "L" ? "R" : "L"; m = 0;
            lo = side == "L" ? t - B : t - A; hi = side == "L" ? t + A : t + B;
            for (i = 1; i <= n[o, k]; i++) {
                pt = bt[o, k, i];
                if (pt < lo || pt > hi || pt < st - B - A - grace) continue;
                m++;
                delete pend[pt, o, k];
                ts = pt > t ? pt : t;
                if (side == "L") printf "%s\t%d\t%s|%s\n", k, ts, v, bv[o, k, i];
                else             printf "%s\t%d\t%s|%s\n", k, ts, bv[o, k, i], v;
            }
            if (m == 0 && (kind == "outer" || (kind == "left" && side == "L"))) {
                if ((t, side, k) in pend) pend[t, side, k] = pend[t, side, k] "\001" v;
                else                      pend[t, side, k] = v;
            }
        }
        END { print late + 0 >"/dev/stderr" }' "$5"
}

# ------------------------------------------- 1. windowed_count, tumbling

gen 7 3000 15 400 8000 6 10000 120000 >"$WORK/events"
FLUSH_T=$(awk -F: '{ split($2, f, " "); if (f[1] > m) m = f[1] } END { print m + 100000000 }' "$WORK/events")
echo "~flush:$FLUSH_T flush" >>"$WORK/events"
model_time 60000 60000 10000 "$WORK/events" 2>"$WORK/tumbling_late" | sort >"$WORK/tumbling_model"
TUMBLING_LATE=$(cat "$WORK/tumbling_late")
n_windows=$(wc -l <"$WORK/tumbling_model")
[ "$TUMBLING_LATE" -gt 50 ] && [ "$n_windows" -gt 100 ] ||
    fail "the generator gave $TUMBLING_LATE late records and $n_windows windows"
log "tumbling model: 3001 records, $n_windows windows, $TUMBLING_LATE late"

E topic create events -p 1 >/dev/null
E topic create event-counts -p 1 >/dev/null
E topic produce events -k : <"$WORK/events" >/dev/null
start_app wc "$WC" wc1 --time-from-value --grace-ms 10000
wait_output wc event-counts "$WORK/tumbling_model" '%k\t%v\n' --value-format int64
log "windowed_count: every closed window once, with the model's count"

# ------------------------------------------- 2. hopping windows (test app)

model_time 60000 20000 10000 "$WORK/events" 2>"$WORK/hopping_late" | sort >"$WORK/hopping_model"
HOPPING_LATE=$(cat "$WORK/hopping_late")
E topic create hop-counts -p 1 >/dev/null
start_app hop "$APP" hop1 --mode hopping --input events --output hop-counts \
    --size-ms 60000 --advance-ms 20000 --grace-ms 10000
# Without suppression: the latest update of each window is the model's count
# of every window, closed or not.
model_time 60000 60000 10000 "$WORK/events" 1 2>/dev/null | sort >"$WORK/updates_model"
E topic create update-counts -p 1 >/dev/null
start_app upd "$APP" upd1 --mode tumbling-updates --input events --output update-counts \
    --size-ms 60000 --grace-ms 10000
# Re-keyed through a repartition topic (k<n> -> g<n % 4>), 30 s windows and
# no grace: the repartitioned records keep their event times.
awk -F: '{ k = $1; if (k !~ /^~/) k = "g" (substr(k, 2) % 4); print k ":" $2 }' "$WORK/events" >"$WORK/events_rekeyed"
model_time 30000 30000 0 "$WORK/events_rekeyed" 2>"$WORK/rekey_late" | sort >"$WORK/rekey_model"
REKEY_LATE=$(cat "$WORK/rekey_late")
E topic create rekey-counts -p 1 >/dev/null
start_app rek "$APP" rek1 --mode tumbling-rekey --input events --output rekey-counts \
    --size-ms 30000 --grace-ms 0
# Sliding windows of 10 s.
E topic create sliding-counts -p 1 >/dev/null
start_app sli "$APP" sli1 --mode sliding --input events --output sliding-counts \
    --size-ms 10000 --grace-ms 10000

# ------------------------------------------- 3. session windows (test app)

gen 13 2500 40 400 8000 6 10000 60000 >"$WORK/sessions"
FLUSH_T=$(awk -F: '{ split($2, f, " "); if (f[1] > m) m = f[1] } END { print m + 100000000 }' "$WORK/sessions")
echo "~flush:$FLUSH_T flush" >>"$WORK/sessions"
model_session 5000 10000 "$WORK/sessions" 2>"$WORK/session_late" | sort >"$WORK/session_model"
SESSION_LATE=$(cat "$WORK/session_late")
n_sessions=$(wc -l <"$WORK/session_model")
[ "$SESSION_LATE" -gt 50 ] && [ "$n_sessions" -gt 200 ] ||
    fail "the session generator gave $SESSION_LATE late records and $n_sessions sessions"
log "session model: 2501 records, $n_sessions sessions emitted, $SESSION_LATE late"
E topic create sessions -p 1 >/dev/null
E topic create session-counts -p 1 >/dev/null
E topic produce sessions -k : <"$WORK/sessions" >/dev/null
start_app ses "$APP" ses1 --mode session --input sessions --output session-counts \
    --gap-ms 5000 --grace-ms 10000

# Without suppression: the latest update of each session that was not merged
# away is its count; the others end with a tombstone (or never appear).
model_session 5000 10000 "$WORK/sessions" 1 2>/dev/null | sort >"$WORK/session_alive_model"
E topic create session-updates -p 1 >/dev/null
start_app sesu "$APP" sesu1 --mode session-updates --input sessions --output session-updates \
    --gap-ms 5000 --grace-ms 10000

wait_output hop hop-counts "$WORK/hopping_model" '%k\t%v\n' --value-format int64
log "hopping: every closed window once, with the model's count"
wait_output ses session-counts "$WORK/session_model" '%k\t%v\n' --value-format int64
log "session: every session emitted once, with the model's bounds and count"

# Sliding: wait until the app committed the flush record (every input
# record, the flush last): at-least-once acknowledges the output of what it
# commits first, so every window the flush closed is in the topic then.
wait_committed sli1 events 3001 sli
E topic consume sliding-counts -o beginning -e -f '%k\t%v\n' --value-format int64 >"$WORK/got.sli"
check_sliding 10000 10000 "$WORK/events" "$WORK/got.sli" >"$WORK/sliding_problems" 2>"$WORK/sliding_stats" ||
    { head -n 20 "$WORK/sliding_problems" >&2; show_logs sli; fail "sliding windows: $(wc -l <"$WORK/sliding_problems") problems"; }
read -r n_sliding SLIDING_LATE <"$WORK/sliding_stats"
[ "$n_sliding" -gt 1000 ] || fail "sliding: only $n_sliding windows emitted"
log "sliding: $n_sliding windows emitted once each, each holding the records it covers, every open left window present"
stop_app sli
check_late sli "$SLIDING_LATE" "sliding"
wait_output rek rekey-counts "$WORK/rekey_model" '%k\t%v\n' --value-format int64
stop_app rek
check_late rek "$REKEY_LATE" "re-keyed, no grace"
log "re-keyed through a repartition topic, grace 0: every closed window once with the model's count; $REKEY_LATE late"
stop_app wc
check_late wc "$TUMBLING_LATE" "tumbling"
stop_app hop
check_late hop "$HOPPING_LATE" "hopping, per window"
stop_app ses
check_late ses "$SESSION_LATE" "session"
for i in $(seq 1 120); do
    E topic consume session-updates -o beginning -e -f '%k\t%v\n' --value-format int64 |
        awk -F'\t' '{ last[$1] = $2 } END { for (k in last) if (last[k] != "null") print k "\t" last[k] }' |
        sort >"$WORK/got.sesu"
    cmp -s "$WORK/got.sesu" "$WORK/session_alive_model" && break
    sleep 1
done
cmp -s "$WORK/got.sesu" "$WORK/session_alive_model" ||
    { diff "$WORK/session_alive_model" "$WORK/got.sesu" | head -n 20 >&2; show_logs sesu; fail "session updates: the latest values are not the model's sessions"; }
stop_app sesu
check_late sesu "$SESSION_LATE" "session without suppression"
log "session without suppression: the latest update of each of the $(wc -l <"$WORK/got.sesu") sessions left is its count, the merged ones are gone"
log "late records: tumbling $TUMBLING_LATE, hopping $HOPPING_LATE (per window), session $SESSION_LATE, as the model"

# ------------------------------------------- 4. stream-stream joins (test app)

# KEY:TIME SIDE PAYLOAD with distinct times; 40 keys, 5 s windows, grace 2 s.
awk 'BEGIN {
    srand(31); t0 = 1000000;
    for (i = 0; i < 2000; i++) {
        base = t0 + i * 100;
        if (rand() < 0.06) t = base - 4000 - int(rand() * 40000);
        else               t = base - int(rand() * 2500);
        # times on 100 ms: some records share key, side and time (they
        # wait for a partner under one entry of the shared store)
        t = int(t / 100) * 100; k = "k" int(rand() * 40); side = rand() < 0.5 ? "L" : "R";
        print k ":" t " " side " p" i;
        # and, now and then, two records of a rare key with one time and side
        if (i % 40 == 0) {
            k = "d" int(rand() * 100);
            print k ":" t " " side " p" i "a";
            print k ":" t " " side " p" i "b";
        }
    }
    print "~flush:" (t0 + 2000 * 100 + 100000000) " L flush";
}' >"$WORK/joinin"
for kind in inner left outer; do
    model_join $kind 5000 5000 2000 "$WORK/joinin" 2>"$WORK/join_${kind}_late" | sort >"$WORK/join_${kind}_model"
done
JOIN_LATE=$(cat "$WORK/join_inner_late")
n_inner=$(wc -l <"$WORK/join_inner_model")
n_left=$(grep -c '|null$' "$WORK/join_left_model" || true)
n_outer=$(grep -c 'null' "$WORK/join_outer_model" || true)
[ "$JOIN_LATE" -gt 30 ] && [ "$n_inner" -gt 200 ] && [ "$n_left" -gt 50 ] ||
    fail "the join generator gave $JOIN_LATE late, $n_inner pairs, $n_left unmatched left"
n_shared=$(awk -F: '{ split($2, f, " "); n[$1, f[1], f[2]]++ } END { for (x in n) if (n[x] > 1) c++; print c + 0 }' "$WORK/joinin")
[ "$n_shared" -gt 10 ] || fail "only $n_shared (key, time, side) triples are shared by several records"
log "join model: $(wc -l <"$WORK/joinin") records ($n_shared key/time/side triples shared), $JOIN_LATE late, $n_inner pairs, $n_left unmatched left, $n_outer unmatched (outer)"
E topic create joinin -p 1 >/dev/null
for kind in inner left outer; do E topic create "joined-$kind" -p 1 >/dev/null; done
E topic produce joinin -k : <"$WORK/joinin" >/dev/null
for kind in inner left outer; do
    start_app "j$kind" "$APP" "j$kind" --mode $kind --input joinin --output "joined-$kind" \
        --window-ms 5000 --grace-ms 2000
done
for kind in inner left outer; do
    wait_output "j$kind" "joined-$kind" "$WORK/join_${kind}_model" '%k\t%T\t%v\n'
    log "$kind join: the model's $(wc -l <"$WORK/join_${kind}_model") results (key, timestamp, values)"
done
for kind in inner left outer; do
    stop_app "j$kind"
    check_late "j$kind" "$JOIN_LATE" "$kind join"
done
log "joins: $JOIN_LATE late records dropped by each, as the model"

# Asymmetric windows (before 2 s, after 6 s) on 2 partitions, keys k<n> in
# partition n % 2, partition 1 running 100 s behind, 2 stream threads: per
# partition the model's results and, in all, its late count.
awk -F: -v dir="$WORK" '{
    if ($1 ~ /^~/) { print >(dir "/joinin2.0"); print "~flush1:" $2 >(dir "/joinin2.1"); next }
    p = substr($1, 2) % 2; split($2, f, " "); t = f[1];
    if (p == 1) t -= 100000;
    print $1 ":" t " " f[2] " " f[3] >(dir "/joinin2." p);
}' "$WORK/joinin"
for kind in left outer; do
    : >"$WORK/asym_${kind}_model"
    late=0
    for p in 0 1; do
        model_join $kind 2000 6000 2000 "$WORK/joinin2.$p" 2>"$WORK/asym_late" >>"$WORK/asym_${kind}_model"
        late=$((late + $(cat "$WORK/asym_late")))
    done
    sort -o "$WORK/asym_${kind}_model" "$WORK/asym_${kind}_model"
    eval "ASYM_LATE_$kind=$late"
done
model_join outer 5000 5000 2000 "$WORK/joinin2.0" 2>/dev/null | sort >"$WORK/sym_check"
cmp -s "$WORK/sym_check" <(grep -v '^k[0-9]*[13579]	' "$WORK/asym_outer_model" || true) &&
    fail "asymmetric windows give the same results as symmetric ones: the input tells nothing"
E topic create joinin2 -p 2 >/dev/null
for kind in left outer; do E topic create "asym-$kind" -p 2 >/dev/null; done
for p in 0 1; do E topic produce joinin2 -k : -p $p <"$WORK/joinin2.$p" >/dev/null; done
for kind in left outer; do
    start_app "a$kind" "$APP" "a$kind" --mode $kind --input joinin2 --output "asym-$kind" \
        --before-ms 2000 --after-ms 6000 --grace-ms 2000 -X num.stream.threads=2
done
for kind in left outer; do
    wait_output "a$kind" "asym-$kind" "$WORK/asym_${kind}_model" '%k\t%T\t%v\n'
    stop_app "a$kind"
    eval "want=\$ASYM_LATE_$kind"
    check_late "a$kind" "$want" "asymmetric $kind join"
    log "$kind join, before 2 s / after 6 s, 2 partitions (one 100 s behind), 2 threads: the model's $(wc -l <"$WORK/asym_${kind}_model") results, $want late"
done

# ------------------------------------------- 5. click_join (two topics)

# Impressions over 2 hours; clicks near some of them (within or beyond 10
# minutes) and some at random. Grace 2 h: nothing is late or closes before the
# flush, so the result does not depend on how the two topics interleave.
awk 'BEGIN {
    srand(43); W = 600000;
    for (i = 0; i < 400; i++) {
        do t = int(rand() * 7200000); while (t in used); used[t] = 1;
        ad = "ad" int(rand() * 60); imp_ad[i] = ad; imp_t[i] = t;
        print ad ":" t " imp" i >"/dev/stdout";
    }
    for (j = 0; j < 300; j++) {
        if (rand() < 0.7) { i = int(rand() * 400); ad = imp_ad[i]; t = imp_t[i] + int((rand() - 0.3) * 2 * W) }
        else { ad = "ad" int(rand() * 60); t = int(rand() * 7200000) }
        if (t < 0) t = 0;
        while (t in used) t++;
        used[t] = 1;
        print ad ":" t " click" j >"/dev/stderr";
    }
}' >"$WORK/impressions" 2>"$WORK/clicks"
awk -F: 'NR == FNR { n[$1]++; ct[$1, n[$1]] = $2; next }
    { split($2, f, " "); ti = f[1] + 0; m = 0;
      for (i = 1; i <= n[$1]; i++) {
          split(ct[$1, i], g, " "); tc = g[1] + 0;
          if (tc >= ti - 600000 && tc <= ti + 600000) { m++; print $1 "\t" $2 "|" ct[$1, i] > "/dev/stdout" }
      }
      if (!m) print $1 "\t" $2 "|null" > "/dev/stderr" }' "$WORK/clicks" "$WORK/impressions" \
    2>"$WORK/cj_unmatched" | sort >"$WORK/cj_inner_model"
n_cj=$(wc -l <"$WORK/cj_inner_model")
n_cju=$(wc -l <"$WORK/cj_unmatched")
[ "$n_cj" -gt 150 ] && [ "$n_cju" -gt 50 ] || fail "the click generator gave $n_cj pairs, $n_cju unclicked"
FT=$((7200000 + 600000 + 7200000 + 1000000))
printf '~flush\t%s flush|%s flush\n' "$FT" "$FT" >>"$WORK/cj_inner_model"
sort -o "$WORK/cj_inner_model" "$WORK/cj_inner_model"
sort "$WORK/cj_inner_model" "$WORK/cj_unmatched" >"$WORK/cj_left_model"
for t in impressions clicks clicked clicked-left; do E topic create "$t" -p 1 >/dev/null; done
E topic produce impressions -k : <"$WORK/impressions" >/dev/null
E topic produce clicks -k : <"$WORK/clicks" >/dev/null
start_app cj "$CJ" cj1 --time-from-value --grace-ms 7200000 --output clicked
start_app cjl "$CJ" cj2 --time-from-value --grace-ms 7200000 --output clicked-left --left
for g in cj1 cj2; do
    wait_committed $g impressions 400 cj
    wait_committed $g clicks 300 cj
done
echo "~flush:$FT flush" | E topic produce impressions -k : >/dev/null
echo "~flush:$FT flush" | E topic produce clicks -k : >/dev/null
wait_output cj clicked "$WORK/cj_inner_model" '%k\t%v\n'
log "click_join: the model's $n_cj impression-click pairs (+ the flush pair)"
wait_output cjl clicked-left "$WORK/cj_left_model" '%k\t%v\n'
log "click_join --left: the pairs and the $n_cju unclicked impressions, once their window closed"
stop_app cj
stop_app cjl
check_late cj 0 "click_join"

# ------------------------------------------- 6. stream time per task

# Three partitions, keys k<n> in partition n % 3; partition 2 runs 200 s
# behind the others. Stream time is per task (partition): a model with one
# stream time for all would drop nearly all of partition 2 as late.
awk -F: -v dir="$WORK" '{
    n = substr($1, 2) % 3; split($2, f, " "); t = f[1];
    if ($1 ~ /^~/) next;
    if (n == 2) t -= 200000;
    print $1 ":" t " " f[2] >(dir "/events3." n);
    print $1 ":" t " " f[2] >(dir "/events3.all");
}' "$WORK/events"
: >"$WORK/per_task_model"
PT_LATE=0
for p in 0 1 2; do
    echo "~flush$p:$FLUSH_T flush" >>"$WORK/events3.$p"
    model_time 60000 60000 10000 "$WORK/events3.$p" 2>"$WORK/pt_late" >>"$WORK/per_task_model"
    PT_LATE=$((PT_LATE + $(cat "$WORK/pt_late")))
done
sort -o "$WORK/per_task_model" "$WORK/per_task_model"
model_time 60000 60000 10000 "$WORK/events3.all" 2>"$WORK/global_late" >/dev/null
[ "$(cat "$WORK/global_late")" -gt $((PT_LATE + 300)) ] ||
    fail "the per-task input does not tell per-task from global stream time"
E topic create events3 -p 3 >/dev/null
E topic create event-counts3 -p 2 >/dev/null
for p in 0 1 2; do E topic produce events3 -k : -p $p <"$WORK/events3.$p" >/dev/null; done
start_app wcp "$WC" wcp --time-from-value --input events3 --output event-counts3
wait_output wcp event-counts3 "$WORK/per_task_model" '%k\t%v\n' --value-format int64
stop_app wcp
check_late wcp "$PT_LATE" "per-task stream time"
log "3 partitions, one 200 s behind: the windows and the $PT_LATE late records of a stream time per task"

# ------------------------------------------- 7. kill -9 and restore

# kill9_case NAME BINARY INPUT_FILE N_FIRST MODEL_FN FORMAT UNIQUE WIPE [app args...]
# Feeds the first N_FIRST records, waits until the output is the model's for
# them and the input is committed, kills the app with SIGKILL, wipes its
# state dir (WIPE=1: restored from the changelogs) or keeps it, restarts it,
# feeds the rest and waits for the model's output for the whole input.
# UNIQUE=1 compares the distinct output lines (a window may be emitted again
# after the crash, with the same count); 0 the exact multiset. The restarted
# run's late count must be the model's for the rest (stream time carried
# over). MODEL_FN is called as MODEL_FN FILE.
kill9_case() {
    local name=$1 bin=$2 file=$3 nfirst=$4 modelfn=$5 fmt=$6 uniq=$7 wipe=$8 i pid late_a late_all
    shift 8
    head -n "$nfirst" "$file" >"$WORK/$name.a"
    tail -n +"$((nfirst + 1))" "$file" >"$WORK/$name.b"
    $modelfn "$WORK/$name.a" 2>"$WORK/$name.late_a" | sort >"$WORK/$name.model_a"
    $modelfn "$file" 2>"$WORK/$name.late_all" | sort >"$WORK/$name.model"
    late_a=$(cat "$WORK/$name.late_a")
    late_all=$(cat "$WORK/$name.late_all")
    E topic create "$name-in" -p 1 >/dev/null
    E topic create "$name-out" -p 1 >/dev/null
    E topic produce "$name-in" -k : <"$WORK/$name.a" >/dev/null
    start_app "$name" "$bin" "$name" --input "$name-in" --output "$name-out" "$@"
    wait_output "$name" "$name-out" "$WORK/$name.model_a" "$fmt" --value-format int64
    wait_committed "$name" "$name-in" "$nfirst" "$name"
    sleep 1
    kill9_app "$name"
    [ "$wipe" = 0 ] || rm -rf "$WORK/state-$name"
    start_app "$name" "$bin" "$name" --input "$name-in" --output "$name-out" "$@"
    E topic produce "$name-in" -k : <"$WORK/$name.b" >/dev/null
    eval "pid=\$PID_$name"
    for i in $(seq 1 120); do
        E topic consume "$name-out" -o beginning -e -f "$fmt" --value-format int64 |
            if [ "$uniq" = 1 ]; then sort -u; else sort; fi >"$WORK/got.$name"
        cmp -s "$WORK/got.$name" "$WORK/$name.model" && break
        kill -0 "$pid" 2>/dev/null || { show_logs "$name"; fail "$name exited early after its restart"; }
        sleep 1
    done
    cmp -s "$WORK/got.$name" "$WORK/$name.model" || {
        diff "$WORK/$name.model" "$WORK/got.$name" | head -n 30 >&2
        show_logs "$name"
        fail "$name: after kill -9 and restart (state dir $([ "$wipe" = 1 ] && echo wiped || echo kept)) the output is not the model's"
    }
    stop_app "$name"
    check_late "$name" "$((late_all - late_a))" "$name, after the restart"
    log "kill -9 $name (state dir $([ "$wipe" = 1 ] && echo wiped || echo kept)): the model's $(wc -l <"$WORK/$name.model") results; $((late_all - late_a)) late after the restart"
}
tumbling_model() { model_time 60000 60000 10000 "$1"; }
session_model() { model_session 5000 10000 "$1"; }
outer_model() { model_join outer 5000 5000 2000 "$1"; }
# The value format does not matter for the join's string values.
kill9_case k9_tumbling_kept "$WC" "$WORK/events" 1500 tumbling_model '%k\t%v\n' 1 0 --time-from-value
kill9_case k9_tumbling_wiped "$WC" "$WORK/events" 1500 tumbling_model '%k\t%v\n' 1 1 --time-from-value
kill9_case k9_session_wiped "$APP" "$WORK/sessions" 1200 session_model '%k\t%v\n' 1 1 \
    --mode session --gap-ms 5000 --grace-ms 10000
kill9_case k9_outer_wiped "$APP" "$WORK/joinin" 1000 outer_model '%k\t%T\t%v\n' 0 1 \
    --mode outer --window-ms 5000 --grace-ms 2000

# ------------------------------------------- 8. updates without suppression

# (Last, because it catches a window store that drops an expired segment's
# cached updates without forwarding them: the last update of a window that
# closed while its updates sat in the record cache never reaches the topic.)
for i in $(seq 1 120); do
    E topic consume update-counts -o beginning -e -f '%k\t%v\n' --value-format int64 |
        awk -F'\t' '{ last[$1] = $2 } END { for (k in last) print k "\t" last[k] }' | sort >"$WORK/got.upd"
    cmp -s "$WORK/got.upd" "$WORK/updates_model" && break
    sleep 1
done
cmp -s "$WORK/got.upd" "$WORK/updates_model" ||
    { diff "$WORK/updates_model" "$WORK/got.upd" | head -n 20 >&2; show_logs upd; fail "tumbling updates: the latest count of each window is not the model's"; }
log "tumbling without suppression: the latest update of each of $(wc -l <"$WORK/got.upd") windows is the model's count"
stop_app upd
check_late upd "$TUMBLING_LATE" "tumbling without suppression"

# No sanitizer report in any app's log (a sanitizer build runs this test too).
if grep -l 'runtime error:\|Sanitizer' "$WORK"/*.log >&2; then
    fail "sanitizer reports in the logs above"
fi

stop_broker
log "ok"
