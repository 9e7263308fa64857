#!/usr/bin/env bash
# Sliding windows (Kafka's SlidingWindows) against a model, with a real
# broker and streams_sliding_app: 400 records over 5 keys with event times
# in one minute, out of order (grace is wide enough that no window closes
# while they arrive), counted in sliding windows of 5 s. The model is the
# definition: for each record at t, a window [max(0, t - 5000), +5000] and,
# when another record of the key lies in (t, t + 5000], a window
# [t + 1, t + 5001]; each window's count is the number of records in it.
# Every window's last count must equal the model's, with no other windows.
# Then a record far ahead moves stream time, and a record too late for its
# windows (t + 1 + 5000 <= stream time - grace) is dropped and counted.
#
#   streams_sliding.sh EDDY_BINARY APP_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_sliding "$1"
APP=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
export LC_ALL=C
D=5000
G=120000
BASE=1700000000000

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }
E topic create in -p 1 >/dev/null
E topic create out -p 1 >/dev/null

# "key ts" lines: random order of event times within a minute
awk -v base="$BASE" 'BEGIN { srand(7); for (i = 0; i < 400; i++)
    printf "k%d %.0f\n", int(rand() * 5), base + 10000 + int(rand() * 60000) }' >"$WORK/records"
BUMP=$((BASE + 400000))
LATE=$((BASE + 1000))

# event times are 10 s or more past BASE, so no window is clamped at 0
# the model, from the definition above (the bump record counts, the late one not)
# (times relative to BASE: mawk prints large integers badly)
{ cat "$WORK/records"; echo "k0 $BUMP"; } | sort -k1,1 -k2,2n | awk -v d="$D" -v base="$BASE" '
    function flush(   i, j, s, c, w) {
        for (i = 1; i <= n; i++) {
            s = t[i] - d; w[s] = 1 # t >= 10000: no clamp at 0
            for (j = 1; j <= n; j++) if (t[j] > t[i] && t[j] <= t[i] + d) { w[t[i] + 1] = 1; break }
        }
        for (s in w) {
            c = 0
            for (j = 1; j <= n; j++) if (t[j] >= s + 0 && t[j] <= s + d) c++
            printf "%s@%s%s %d\n", key, substr(base, 1, 7), sprintf("%06d", s + 0), c
        }
        delete w; n = 0
    }
    $1 != key { if (n) flush(); key = $1 }
    { t[++n] = substr($2, 8) + 0 }
    END { if (n) flush() }' | sort >"$WORK/model"
log "model: $(wc -l <"$WORK/model") windows"

"$APP" "$BOOTSTRAP" "$WORK/state" "$D" "$G" >"$WORK/app.out" 2>"$WORK/app.log" </dev/null &
APP_PID=$!
COMPAT_BG_PIDS="$COMPAT_BG_PIDS $APP_PID"
# records: key and value (the event time) with ":" between
awk '{ print $1 ":" $2 }' "$WORK/records" | E topic produce in -k : >/dev/null
printf 'k0:%s\nk1:%s\n' "$BUMP" "$LATE" | E topic produce in -k : >/dev/null

BUMPKEY="k0@$((BUMP - D))"
for _ in $(seq 600); do
    E topic consume out -o beginning -e -f '%k %v\n' --value-format int64 >"$WORK/out" 2>/dev/null || true
    grep -q "^$BUMPKEY " "$WORK/out" && break
    sleep 0.2
done
grep -q "^$BUMPKEY " "$WORK/out" || { tail -n 20 "$WORK/app.log" >&2; fail "the bump record's window never came out"; }
sleep 1 # the late record is processed right after the bump
kill -TERM "$APP_PID"
rc=0
wait "$APP_PID" || rc=$?
[ "$rc" = 0 ] || { tail -n 20 "$WORK/app.log" >&2; fail "app exited $rc after SIGTERM"; }
E topic consume out -o beginning -e -f '%k %v\n' --value-format int64 >"$WORK/out"
awk '{ last[$1] = $2 } END { for (k in last) print k, last[k] }' "$WORK/out" | sort >"$WORK/got"
if ! diff -u "$WORK/model" "$WORK/got" >"$WORK/diff"; then
    head -n 30 "$WORK/diff" >&2
    fail "sliding-window counts differ from the model ($(grep -c '^[-+][^-+]' "$WORK/diff") lines)"
fi
log "all $(wc -l <"$WORK/got") sliding windows equal the model"
grep -qx "late_dropped 1" "$WORK/app.out" || fail "late records dropped: $(cat "$WORK/app.out"), want 1"
grep -q "dropping a record too late" "$WORK/app.log" || fail "the late record was not logged"
log "the late record was dropped, logged and counted; PASS"
