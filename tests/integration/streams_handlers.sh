#!/usr/bin/env bash
# Error handlers, Kafka's names and defaults:
#  - a record a user function fails (eddy_fail_record) stops the app under
#    the default processing.exception.handler=log-and-fail, with a message
#    naming the operator and the record's topic, partition and offset;
#  - restarted with log-and-continue, the same app gets past it: its output
#    equals the model of the input without that record, and with
#    errors.dead.letter.queue.topic.name the record is in the dead-letter
#    topic with its raw key and value and KIP-1034's headers;
#  - a record that cannot be deserialized (default.deserialization.
#    exception.handler=log-and-continue) goes there too;
#  - both are counted in records_skipped;
#  - production.exception.handler: an output record the broker refuses
#    (over the topic's max.message.bytes) stops the app by default, and is
#    skipped with log-and-continue while the records batched with it still
#    get out; one over max.request.size is refused before sending and goes
#    to the dead-letter topic.
#
#   streams_handlers.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_handlers "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
for t in in-f in-n hfail-out hfail-out-n hfail-out-agg dlq; do E topic create "$t" -p 1 >/dev/null; done

printf 'a:x1\nb:y1\nb:boom1\na:x2\nc:z1\nb:y2\nc:bad2\na:x3\nc:z3\n' >"$WORK/in-f.txt"
E topic produce in-f -k : <"$WORK/in-f.txt" >/dev/null

# 1. log-and-fail: the app stops by itself, naming the operator and the record
rc=0
timeout 60 "$APP" "$BOOTSTRAP" "$WORK/state" fail hfail >"$WORK/app1.log" 2>&1 </dev/null || rc=$?
[ "$rc" = 1 ] || { tail -n 20 "$WORK/app1.log" >&2; fail "app exited $rc, want 1 (log-and-fail)"; }
for want in "checker failed: value 'boom1' is not allowed" "in-f-0 offset 2" \
    "processing.exception.handler=log-and-fail"; do
    grep -qF "$want" "$WORK/app1.log" || { tail -n 20 "$WORK/app1.log" >&2; fail "log lacks [$want]"; }
done
log "log-and-fail: stopped on in-f-0 offset 2, naming the operator 'checker'"

# 2. log-and-continue with a dead-letter topic: the same app gets past it
printf 'n1:12345678\nn2:abc\nn3:87654321\n' | E topic produce in-n -k : >/dev/null
timeout 120 "$APP" "$BOOTSTRAP" "$WORK/state" fail hfail \
    -X processing.exception.handler=log-and-continue \
    -X default.deserialization.exception.handler=log-and-continue \
    -X errors.dead.letter.queue.topic.name=dlq >"$WORK/app2.log" 2>&1 </dev/null &
APP_PID=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"

# the model: counts per key of the records without "boom"
awk -F: '$2 !~ /boom/ { n[$1]++ } END { for (k in n) print k, n[k] }' "$WORK/in-f.txt" | sort >"$WORK/want.txt"
got=
for _ in $(seq 300); do
    got=$(E topic consume hfail-out -o beginning -e -f '%k %v\n' --value-format int64 2>/dev/null |
        awk '{ last[$1] = $2 } END { for (k in last) print k, last[k] }' | sort)
    [ "$got" = "$(cat "$WORK/want.txt")" ] && break
    sleep 0.1
done
[ "$got" = "$(cat "$WORK/want.txt")" ] ||
    { tail -n 20 "$WORK/app2.log" >&2; fail "counts [$got], want [$(cat "$WORK/want.txt")]"; }
log "log-and-continue: counts equal the model without the failed record"

# the aggregate that failed on c:bad2 kept its value from before: the model
# joins the values without "boom" (it failed before reaching the aggregate)
# and without "bad"
awk -F: '$2 !~ /boom|bad/ { if ($1 in v) v[$1] = v[$1] "," $2; else v[$1] = $2 }
    END { for (k in v) print k, v[k] }' \
    "$WORK/in-f.txt" | sort >"$WORK/want-agg.txt"
for _ in $(seq 300); do
    got=$(E topic consume hfail-out-agg -o beginning -e -f '%k %v\n' 2>/dev/null |
        awk '{ last[$1] = $2 } END { for (k in last) print k, last[k] }' | sort)
    [ "$got" = "$(cat "$WORK/want-agg.txt")" ] && break
    sleep 0.1
done
[ "$got" = "$(cat "$WORK/want-agg.txt")" ] ||
    { tail -n 20 "$WORK/app2.log" >&2; fail "aggregates [$got], want [$(cat "$WORK/want-agg.txt")]"; }
log "log-and-continue: the aggregator's result for the failed record was not stored"

for _ in $(seq 300); do
    E topic consume dlq -o beginning -e -f '%k|%v|%h\n' >"$WORK/dlq.txt" 2>/dev/null || true
    [ "$(wc -l <"$WORK/dlq.txt")" -ge 3 ] && break
    sleep 0.1
done
[ "$(wc -l <"$WORK/dlq.txt")" = 3 ] || { cat "$WORK/dlq.txt" >&2; fail "dead-letter topic: want 3 records"; }
check_dlq() { # KEY|VALUE| then header fragments
    local line
    line=$(grep -F "$1" "$WORK/dlq.txt") || { cat "$WORK/dlq.txt" >&2; fail "no dead letter starting [$1]"; }
    shift
    for h in "$@"; do
        case "$line" in *"$h"*) ;; *) fail "dead letter [$line] lacks [$h]" ;; esac
    done
}
check_dlq "b|boom1|" "__streams.errors.exception=ProcessingException" \
    "__streams.errors.message=checker failed: value 'boom1' is not allowed" \
    "__streams.errors.topic=in-f" "__streams.errors.partition=0" "__streams.errors.offset=2"
check_dlq "n2|abc|" "__streams.errors.exception=DeserializationException" \
    "__streams.errors.message=the value is not int64" \
    "__streams.errors.topic=in-n" "__streams.errors.partition=0" "__streams.errors.offset=1"
check_dlq "c|bad2|" "__streams.errors.exception=ProcessingException" \
    "__streams.errors.message=concat failed: cannot add 'bad2'" "__streams.errors.offset=6"
log "dead-letter topic: the three records, raw, with KIP-1034 headers"

got=$(E topic consume hfail-out-n -o beginning -e -f '%k\n' 2>/dev/null | tr '\n' ' ')
[ "$got" = "n1 n3 " ] || fail "hfail-out-n has [$got], want [n1 n3 ]"

kill -TERM "$APP_PID"
rc=0
wait "$APP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app2.log" >&2; fail "app exited $rc after SIGTERM"; }
grep -q '^skipped=3$' "$WORK/app2.log" || { tail -n 5 "$WORK/app2.log" >&2; fail "records_skipped is not 3"; }
log "records_skipped counts the three"

# 3. production errors: a record over the topic's max.message.bytes (the
#    broker refuses it) and one over max.request.size (the producer does)
E topic create in-b -p 1 >/dev/null
E topic create hbig-out -p 1 -c max.message.bytes=400 >/dev/null
big=$(printf 'x%.0s' $(seq 300))   # 600 bytes out: over max.message.bytes=400
huge=$(printf 'y%.0s' $(seq 1500)) # 3000 bytes out: over max.request.size=2000
printf 's1:a\nbig:%s\ns2:b\n' "$big" | E topic produce in-b -k : >/dev/null
rc=0
timeout 60 "$APP" "$BOOTSTRAP" "$WORK/state-big" big hbig >"$WORK/app3.log" 2>&1 </dev/null || rc=$?
[ "$rc" = 1 ] || { tail -n 20 "$WORK/app3.log" >&2; fail "app exited $rc, want 1 (log-and-fail)"; }
for want in "producing to hbig-out-0 failed" "MESSAGE_TOO_LARGE" "max.message.bytes" \
    "production.exception.handler=log-and-fail"; do
    grep -qF "$want" "$WORK/app3.log" || { tail -n 20 "$WORK/app3.log" >&2; fail "log lacks [$want]"; }
done
log "production error, log-and-fail: stopped naming the topic and the broker's error"

printf 'huge:%s\ns3:c\n' "$huge" | E topic produce in-b -k : >/dev/null
timeout 120 "$APP" "$BOOTSTRAP" "$WORK/state-big" big hbig \
    -X production.exception.handler=log-and-continue -X producer.max.request.size=2000 \
    -X errors.dead.letter.queue.topic.name=dlq >"$WORK/app4.log" 2>&1 </dev/null &
APP_PID=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"
# the small records all get out, also those that shared a batch with the big one
for _ in $(seq 300); do
    got=$(E topic consume hbig-out -o beginning -e -f '%k\n' 2>/dev/null | sort -u | tr '\n' ' ')
    [ "$got" = "s1 s2 s3 " ] && break
    sleep 0.1
done
[ "$got" = "s1 s2 s3 " ] || { tail -n 20 "$WORK/app4.log" >&2; fail "hbig-out has [$got], want [s1 s2 s3 ]"; }
for _ in $(seq 300); do
    E topic consume dlq -o beginning -e -f '%k|%h\n' >"$WORK/dlq.txt" 2>/dev/null || true
    grep -q '^huge|' "$WORK/dlq.txt" && break
    sleep 0.1
done
check_dlq "huge|" "__streams.errors.exception=RecordTooLargeException" \
    "is larger than max.request.size (2000 bytes" "__streams.errors.topic=in-b" \
    "__streams.errors.offset=3"
kill -TERM "$APP_PID"
rc=0
wait "$APP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app4.log" >&2; fail "app exited $rc after SIGTERM"; }
grep -q '^skipped=2$' "$WORK/app4.log" || { tail -n 5 "$WORK/app4.log" >&2; fail "records_skipped is not 2"; }
log "production errors, log-and-continue: both skipped and counted, the others out, the one the producer refused in the dead-letter topic"
log "PASS"
