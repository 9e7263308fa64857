#!/usr/bin/env bash
# processing.guarantee=exactly_once_v2 when the transaction coordinator
# aborts a stream thread's transaction and fences its producer: the
# word-count example (commit.interval.ms 1000, producer.transaction.timeout.ms
# 2000) is stopped with SIGSTOP while its transaction is open until the
# broker has aborted it on timeout (bumping the producer's epoch), then
# resumed. It stays in its group (the session timeout is 45 s) but its
# producer is fenced: the thread must drop the work since its last commit
# (its LMDB transaction and caches), replace its producer with a new one,
# reopen its tasks from the committed offsets and go on. The counts read
# with read_committed must then be exact: each update 1..N of each word
# once, N the reference count (awk).
#
#   streams_eos_fenced.sh EDDY_BINARY WORDCOUNT_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_eos_fenced "$1"
WC=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
need awk timeout sort
export LC_ALL=C

# The coordinator looks for timed-out transactions every 0.5 s (Kafka's
# default, 10 s, would make the test wait that long).
start_broker "$WORK/data" --set transaction.abort.timed.out.transaction.cleanup.interval.ms=500
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create lines -p 2 >/dev/null
E topic create counts -p 2 >/dev/null

"$WC" --input lines --output counts -X "bootstrap.servers=$BOOTSTRAP" -X application.id=fenced \
    -X "state.dir=$WORK/state" -X processing.guarantee=exactly_once_v2 \
    -X cache.max.bytes.buffering=0 -X commit.interval.ms=1000 \
    -X producer.transaction.timeout.ms=2000 >"$WORK/app.log" 2>&1 </dev/null &
APP=$!
bg_started $APP
alive() { kill -0 "$APP" 2>/dev/null || { tail -n 20 "$WORK/app.log" >&2; fail "the app died"; }; }
committed() {
    E topic consume counts -o beginning -e --isolation read_committed -f '%k %v\n' \
        --value-format int64 2>/dev/null || true
}

# Lines all along, until told to stop.
(
    i=0
    while [ ! -e "$WORK/stop" ] && [ "$i" -lt 3000 ]; do
        i=$((i + 1))
        seq "$i" $((i + 9)) | sed 's/^/w/' >"$WORK/l$i"
        timeout 30 "$EDDY" -b "$BOOTSTRAP" topic produce lines <"$WORK/l$i" >/dev/null 2>&1 || exit 1
        echo "$i" >"$WORK/n"
        sleep 0.05
    done
) &
PRODUCER=$!
bg_started $PRODUCER
for _ in $(seq 1 150); do
    alive
    [ "$(committed | wc -l)" -ge 50 ] && break
    sleep 0.2
done
[ "$(committed | wc -l)" -ge 50 ] || fail "no committed output within 30 s"

# Stopped while its transaction is open, until the broker aborted it on
# timeout. The moment matters: stopped just after a commit, the app has no
# transaction open (the next one begins with the next input record) and
# nothing times out. Such a moment is what a stop chosen by the clock hits
# (the committed output just grew; or one commit interval after a resume,
# whose catch-up commit restarts the app's commit timer), so the state is
# read instead: with cache.max.bytes.buffering=0 every record processed is
# output at once, so output records that read_uncommitted sees and
# read_committed does not are an open transaction's. The app is stopped once
# there are some; then either the coordinator aborts that transaction on
# timeout (the line in the broker's log), or the records turn out committed
# (a commit was in flight at the stop and landed): the app is resumed and
# stopped again.
all_out() { E topic consume counts -o beginning -e -f '%k\n' 2>/dev/null | wc -l || true; }
open_txn() { [ "$(all_out)" -gt "$(committed | wc -l)" ]; }
fenced=0
for attempt in $(seq 1 10); do
    for _ in $(seq 1 100); do
        alive
        open_txn && break
        sleep 0.1
    done
    kill -STOP "$APP"
    for _ in $(seq 1 150); do
        grep -q 'ran longer than transaction.timeout.ms' "$BROKER_LOG" && { fenced=1; break; }
        open_txn || break
        sleep 0.2
    done
    [ "$fenced" = 1 ] && break
    kill -CONT "$APP"
    log "stopped between two transactions (attempt $attempt): resumed"
done
kill -CONT "$APP"
[ "$fenced" = 1 ] || fail "the app was never stopped with a transaction open that the broker then aborted (10 attempts)"
log "the coordinator aborted the stopped app's transaction"
for _ in $(seq 1 100); do
    alive
    grep -q 'replacing it with a new one' "$WORK/app.log" && break
    sleep 0.2
done
grep -q 'replacing it with a new one' "$WORK/app.log" || {
    tail -n 20 "$WORK/app.log" >&2
    fail "the thread did not replace its fenced producer within 20 s"
}
log "the thread replaced its fenced producer"
sleep 1 # a little more input processed by the new producer
touch "$WORK/stop"
wait "$PRODUCER" || fail "producing the input failed"
bg_done $PRODUCER
N=$(cat "$WORK/n")
cat $(for i in $(seq 1 "$N"); do echo "$WORK/l$i"; done) >"$WORK/lines"
awk '{ c[$1]++ } END { for (w in c) print w, c[w] }' "$WORK/lines" | sort >"$WORK/ref"
TOTAL=$(wc -l <"$WORK/lines")

for _ in $(seq 1 150); do
    alive
    committed >"$WORK/out"
    [ "$(wc -l <"$WORK/out")" -ge "$TOTAL" ] && break
    sleep 0.2
done
awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' "$WORK/out" | sort >"$WORK/latest"
diff "$WORK/ref" "$WORK/latest" >"$WORK/diff" || {
    head -n 10 "$WORK/diff" >&2
    tail -n 20 "$WORK/app.log" >&2
    fail "the committed counts differ from the reference (< reference, > app)"
}
sort "$WORK/out" | uniq -d >"$WORK/dup"
[ ! -s "$WORK/dup" ] || fail "$(wc -l <"$WORK/dup") committed updates appear twice, e.g. '$(head -n 1 "$WORK/dup")'"
[ "$(wc -l <"$WORK/out")" = "$TOTAL" ] || fail "$(wc -l <"$WORK/out") committed updates for $TOTAL words"
log "the counts are exact: $TOTAL committed updates, each once"
kill -TERM "$APP"
timeout 30 tail --pid="$APP" -f /dev/null || fail "the app did not stop within 30 s of SIGTERM"
rc=0
wait "$APP" || rc=$?
[ "$rc" = 0 ] || fail "the app exited $rc after SIGTERM"
bg_done $APP
log "PASS"
