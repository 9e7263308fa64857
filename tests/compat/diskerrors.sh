#!/usr/bin/env bash
# A disk that fails under the broker, and data directories it cannot use:
#  1. a segment cut under the running broker: Fetch answers KAFKA_STORAGE_ERROR for that
#     partition (never bytes it did not read), kcat does not abort, `eddy topic consume`
#     says so, the other partition is still served, and the broker logs a bounded number
#     of lines that name the file;
#  2. a segment deleted while the broker is stopped: at start the partition is named in
#     an ERROR line and stays offline (no produce, no fetch from offset 0) until the
#     operator removes log.checkpoint, as docs/log.md says;
#  3. data directories the broker cannot write (run as nobody: root ignores permissions)
#     stop start-up with a message naming the directory and the reason;
#  4. a full disk (a 4 MB tmpfs; skipped where it cannot be mounted): producers hammering
#     it make the broker write a few lines with counts, not one per refused request.
# usage: diskerrors.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init diskerrors "${1:?usage: diskerrors.sh EDDY}"
need kcat timeout setpriv

# A broker with an offline partition stops with status 1 ("stopped with errors").
stop_broker_offline() {
    kill -TERM "$BROKER_PID"
    _wait_broker 30
    [ "$_BROKER_RC" = 1 ] || fail "broker with an offline partition: status '$_BROKER_RC' after SIGTERM"
    grep -q "stopped with errors" "$BROKER_LOG" || fail "no 'stopped with errors' line"
    BROKER_PID=""
    _stop_watchdog
}

DATA=$WORK/data
start_broker "$DATA"
"$EDDY" -b "$BOOTSTRAP" topic create cut -p 2 > /dev/null || fail "topic create cut"
"$EDDY" -b "$BOOTSTRAP" topic create gone -p 1 > /dev/null || fail "topic create gone"
for p in 0 1; do
    seq 1 1000 | awk -v p=$p '{ printf "p%d-value-%06d\n", p, $1 }' > "$WORK/in$p"
    kc -P -t cut -p $p -X acks=all -l "$WORK/in$p" 2> "$WORK/p.err" || fail "kcat -P cut-$p: $(cat "$WORK/p.err")"
done
kc -P -t gone -p 0 -X acks=all -l "$WORK/in0" 2> "$WORK/p.err" || fail "kcat -P gone-0: $(cat "$WORK/p.err")"
log "produced 1000 records to each of cut-0, cut-1, gone-0"

# ---------------------------------------------------------------------------------------
# 1. Cut cut-0's segment to 100 bytes under the running broker (the broker's fd sees it).
seg=$DATA/cut-0/00000000000000000000.log
[ -f "$seg" ] || fail "no segment $seg"
truncate -s 100 "$seg"
lines_before=$(wc -l < "$BROKER_LOG")

# kcat: no assertion abort (status 134), and not one record from the cut partition.
set +e
timeout -k 2 8 kcat -b "$BOOTSTRAP" -C -t cut -p 0 -o beginning -e -f '%o %s\n' > "$WORK/k0.out" 2> "$WORK/k0.err"
rc=$?
set -e
[ $rc -ne 134 ] && ! grep -qi "assert" "$WORK/k0.err" || fail "kcat aborted (status $rc): $(tail -n 5 "$WORK/k0.err")"
[ ! -s "$WORK/k0.out" ] || fail "kcat got records from the cut partition: $(head -n 3 "$WORK/k0.out" | od -c | head -n 5)"
# The other partition is served whole.
kc -C -t cut -p 1 -o beginning -e -f '%s\n' > "$WORK/k1.out" 2> "$WORK/k1.err" || fail "kcat -C cut-1: $(cat "$WORK/k1.err")"
cmp -s "$WORK/in1" "$WORK/k1.out" || fail "cut-1 not served whole after cut-0 failed ($(wc -l < "$WORK/k1.out") lines)"
log "kcat: cut-0 gives nothing (status $rc), cut-1 gives its 1000 records"

# eddy topic consume says KAFKA_STORAGE_ERROR (instead of spinning silently) and still
# prints cut-1's records.
set +e
timeout -k 2 6 "$EDDY" -b "$BOOTSTRAP" topic consume cut -o beginning -e > "$WORK/e.out" 2> "$WORK/e.err"
set -e
grep -q "cut-0.*KAFKA_STORAGE_ERROR" "$WORK/e.err" || fail "eddy topic consume did not report the storage error: $(head -c 500 "$WORK/e.err")"
[ "$(grep -c '^p1-value-' "$WORK/e.out")" = 1000 ] || fail "eddy topic consume: cut-1 records $(grep -c '^p1-value-' "$WORK/e.out")"
grep -qv '^p1-value-' "$WORK/e.out" && fail "eddy topic consume printed records of cut-0: $(grep -v '^p1-value-' "$WORK/e.out" | head -n 2 | od -c | head)"

# A produce to the offline partition is refused, and logged through a limit.
# (The producer retries KAFKA_STORAGE_ERROR until its timeout: thousands of requests.)
for _ in 1 2; do
    echo x | timeout 3 "$EDDY" -b "$BOOTSTRAP" topic produce cut -p 0 > /dev/null 2>&1 || true
done
broker_alive
new_lines=$(($(wc -l < "$BROKER_LOG") - lines_before))
tail -n "$new_lines" "$BROKER_LOG" > "$WORK/new.log"
[ "$new_lines" -le 10 ] || fail "the broker wrote $new_lines log lines for one failing partition: $(head -n 5 "$WORK/new.log")"
grep -q "ERROR.*cut-0.*00000000000000000000.log.*the file is 100 bytes" "$WORK/new.log" ||
    fail "no ERROR line naming the cut segment and its size: $(cat "$WORK/new.log")"
[ "$(grep -c ' ERROR ' "$WORK/new.log")" = 1 ] || fail "more than one ERROR line: $(cat "$WORK/new.log")"
grep -q "Success" "$WORK/new.log" && fail "a stale errno in the log: $(grep Success "$WORK/new.log")"
log "broker: $new_lines new log lines, one ERROR naming the file"

# ---------------------------------------------------------------------------------------
# 2. gone-0's segment deleted while the broker is stopped.
stop_broker_offline
rm -f "$DATA"/gone-0/00000000000000000000.*
rm -rf "$DATA/cut-0" # cut-0 was left behind; start afresh for it (it comes back empty)
start_broker "$DATA"
grep -q "ERROR.*gone-0.*records \[0, 1000) are missing" "$BROKER_LOG" ||
    fail "no ERROR at start naming gone-0 and what is missing: $(grep gone "$BROKER_LOG")"
set +e
timeout -k 2 6 "$EDDY" -b "$BOOTSTRAP" topic consume gone -o beginning -e > "$WORK/g.out" 2> "$WORK/g.err"
rc=$?
set -e
grep -q "gone-0.*KAFKA_STORAGE_ERROR" "$WORK/g.err" || fail "gone-0 served silently (consume status $rc): $(cat "$WORK/g.err")"
echo again | timeout 4 "$EDDY" -b "$BOOTSTRAP" topic produce gone -p 0 --acks all > "$WORK/gp.out" 2>&1 &&
    fail "a produce to gone-0 was accepted over the gap: $(cat "$WORK/gp.out")"
log "gone-0: ERROR at start, consume and produce refused"

# The documented operator action: remove log.checkpoint to accept the loss.
stop_broker_offline
rm "$DATA/gone-0/log.checkpoint"
start_broker "$DATA"
echo again | timeout 20 "$EDDY" -b "$BOOTSTRAP" topic produce gone -p 0 --acks all > "$WORK/gp.out" 2>&1 ||
    fail "after removing log.checkpoint, produce to gone-0 fails: $(cat "$WORK/gp.out")"
timeout 20 "$EDDY" -b "$BOOTSTRAP" topic consume gone -o beginning -e > "$WORK/g.out" 2> "$WORK/g.err" ||
    fail "after removing log.checkpoint, consume gone fails: $(cat "$WORK/g.err")"
[ "$(cat "$WORK/g.out")" = again ] || fail "gone after the operator action: $(cat "$WORK/g.out")"
stop_broker
log "gone-0 served again after log.checkpoint was removed"

# ---------------------------------------------------------------------------------------
# 3. Unwritable data directories, as nobody.
chmod 755 "$WORK"
as_nobody_broker() { # DIR: runs the broker as nobody for at most 10 s; status in $rc
    set +e
    timeout -k 2 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        "$EDDY" broker --data-dir "$1" --listen 127.0.0.1:0 > "$WORK/nobody.log" 2>&1 < /dev/null
    rc=$?
    set -e
}
# An existing data directory with topics in it, owned by root.
chmod -R go-w "$DATA"
as_nobody_broker "$DATA"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "broker as nobody on a root-owned data dir: status $rc: $(tail -n 5 "$WORK/nobody.log")"
grep -q "$DATA: .*cannot read and write it: Permission denied" "$WORK/nobody.log" ||
    fail "no message naming $DATA and the reason: $(tail -n 5 "$WORK/nobody.log")"
# An existing empty one.
mkdir -m 755 "$WORK/empty"
as_nobody_broker "$WORK/empty"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "broker as nobody on an empty root-owned dir: status $rc"
grep -q "$WORK/empty: the data directory exists but .*Permission denied" "$WORK/nobody.log" ||
    fail "empty root-owned dir: $(tail -n 5 "$WORK/nobody.log")"
# A new one under a parent nobody cannot write.
as_nobody_broker "$WORK/empty/new"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "broker as nobody under a root-owned parent: status $rc"
grep -q "$WORK/empty/new: cannot create the data directory: Permission denied" "$WORK/nobody.log" ||
    fail "new dir under an unwritable parent: $(tail -n 5 "$WORK/nobody.log")"
log "unwritable data dirs stop start-up with the right message"

# ---------------------------------------------------------------------------------------
# 4. A full disk.
FULL=$WORK/full
mkdir "$FULL"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=4m tmpfs "$FULL" 2>/dev/null; then
    # The mount goes (lazily: the broker may still hold files) before the cleanup removes $WORK.
    trap 'rc=$?; umount -l "$FULL" 2>/dev/null; (exit $rc); _compat_cleanup' EXIT
    BROKER_PORT=0 start_broker "$FULL/data"
    "$EDDY" -b "$BOOTSTRAP" topic create full -p 1 > /dev/null || fail "topic create full"
    lines_before=$(wc -l < "$BROKER_LOG")
    seq 1 20000 | awk '{ printf "%06d-%0490d\n", $1, 0 }' > "$WORK/big" # 10 MB
    t0=$(date +%s)
    set +e
    # Two producers with retries until their timeout: hundreds of refused requests a second.
    timeout -k 2 25 kcat -b "$BOOTSTRAP" -P -t full -p 0 -X acks=1 -X message.timeout.ms=12000 \
        -X retry.backoff.ms=1 -l "$WORK/big" > /dev/null 2>&1 &
    k1=$!
    bg_started $k1
    echo x | timeout -k 2 12 "$EDDY" -b "$BOOTSTRAP" topic produce full -p 0 > /dev/null 2>&1
    wait $k1
    bg_done $k1
    set -e
    t1=$(date +%s)
    broker_alive
    tail -n "+$((lines_before + 1))" "$BROKER_LOG" > "$WORK/full.log"
    grep -q "refused.*No space left on device" "$WORK/full.log" ||
        fail "the disk never filled (no ENOSPC refusal): $(tail -n 3 "$WORK/full.log")"
    n=$(wc -l < "$WORK/full.log")
    # At most one refusal line (and one index line) per 10 s, plus a few others.
    max=$(( (t1 - t0) / 10 * 2 + 6 ))
    [ "$n" -le "$max" ] || fail "full disk: $n log lines in $((t1 - t0)) s (at most $max): $(head -n 5 "$WORK/full.log")"
    grep -q "more like it" "$WORK/full.log" || fail "full disk: no line with a count: $(cat "$WORK/full.log")"
    log "full disk: $n log lines in $((t1 - t0)) s, with counts"
    kill9_broker
else
    log "full disk: skipped (cannot mount a tmpfs here)"
fi
log "ok"
