#!/usr/bin/env bash
# The aggregate and orders_join examples against a real broker, each checked
# against a model computed here with awk, independently of Eddy:
#  - aggregate: per key count/sum/min/max/mean of random decimals (negative,
#    fractional, exponents, some values not numbers) equal the model's; the
#    number of skipped records printed at exit is the model's;
#  - orders_join: the inner join drops orders of unknown customers and uses a
#    customer's latest name; --left writes "by unknown" for them; inputs with
#    different partition counts make the app exit 1 naming both topics.
#
#   streams_examples.sh EDDY_BINARY AGGREGATE_BINARY ORDERS_JOIN_BINARY
. "$(dirname "$0")/../compat/lib.sh"
compat_init streams_examples "$1"
AGG=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
OJ=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
need awk sed sort timeout
export LC_ALL=C

start_broker "$WORK/data"
E() { timeout "$CLIENT_TIMEOUT" "$EDDY" -b "$BOOTSTRAP" "$@"; }

start_app() { # NAME BINARY APP_ID [args...]
    local name=$1 bin=$2 app=$3
    shift 3
    "$bin" -X "bootstrap.servers=$BOOTSTRAP" -X "application.id=$app" \
        -X "state.dir=$WORK/state-$name" -X commit.interval.ms=300 \
        -X session.timeout.ms=6000 -X heartbeat.interval.ms=1000 "$@" \
        >"$WORK/$name.log" 2>&1 </dev/null &
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
show_logs() {
    local n
    for n in "$@"; do echo "---- $n log ----" >&2; tail -n 30 "$WORK/$n.log" >&2; done
}

# ---------------------------------------------------------------- aggregate

# KEY:VALUE lines: 2000 records over 50 keys; about 4% of the values are not
# numbers (including ones strtod would take: inf, nan, hex).
awk 'BEGIN {
    srand(11);
    split("abc|1.2.3|NaN|inf|-inf|0x10|12abc|--3|.|+|1e|e5|- 4|one", bad, "|");
    for (i = 0; i < 2000; i++) {
        k = "key" int(rand() * 50);
        r = rand();
        if (r < 0.04)       v = bad[1 + int(rand() * 14)];
        else if (r < 0.10)  v = int((rand() - 0.5) * 200);
        else if (r < 0.13)  v = sprintf("%.3e", (rand() - 0.5) * 1e4);
        else if (r < 0.15)  v = sprintf("%s.%d", (rand() < 0.5 ? "" : "-"), int(rand() * 100));
        else                v = sprintf("%.2f", (rand() - 0.5) * 2000);
        print k ":" v;
    }
}' >"$WORK/numbers"
# The model: KEY COUNT SUM MIN MAX MEAN, and the number of skipped records.
awk -F: '
    $2 ~ /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/ {
        v = $2 + 0; k = $1;
        if (!(k in n) || v < mn[k]) mn[k] = v;
        if (!(k in n) || v > mx[k]) mx[k] = v;
        n[k]++; s[k] += v; next
    }
    { skipped++ }
    END {
        for (k in n) printf "%s %d %.17g %.17g %.17g %.17g\n", k, n[k], s[k], mn[k], mx[k], s[k] / n[k];
        print skipped + 0 >"/dev/stderr"
    }' "$WORK/numbers" 2>"$WORK/agg_skipped" | sort >"$WORK/agg_model"
AGG_SKIPPED=$(cat "$WORK/agg_skipped")
[ "$AGG_SKIPPED" -gt 20 ] || fail "the generator made only $AGG_SKIPPED non-numbers"
log "aggregate input: 2000 records, $(wc -l <"$WORK/agg_model") keys, $AGG_SKIPPED not numbers"

# The latest statistics per key in the output, as KEY COUNT SUM MIN MAX MEAN
# (the JSON fields picked by name, so their order does not matter).
agg_latest() {
    E topic consume number-stats -o beginning -e -f '%k\t%v\n' --value-format msgpack |
        awk -F'\t' '
            function field(s, name,    m) {
                if (!match(s, "\"" name "\":[^,}]*")) return "MISSING";
                m = substr(s, RSTART, RLENGTH); sub(/^[^:]*:/, "", m); return m
            }
            { last[$1] = $2 }
            END {
                for (k in last) {
                    v = last[k];
                    print k, field(v, "count"), field(v, "sum"), field(v, "min"),
                          field(v, "max"), field(v, "mean")
                }
            }' | sort
}
# Same keys, equal counts, doubles within 1e-9 relative (1e-9 absolute near 0).
agg_matches() { # MODEL GOT
    awk '
        function close_to(a, b,    d, m) {
            if (a !~ /^-?[0-9.eE+-]+$/ || b !~ /^-?[0-9.eE+-]+$/) return 0;
            d = a - b; if (d < 0) d = -d;
            m = a < 0 ? -a : a; if (m < 1) m = 1;
            return d <= 1e-9 * m
        }
        NR == FNR { want[$1] = $0; nwant++; next }
        {
            ngot++;
            if (!($1 in want)) { print "unexpected key " $1; bad = 1; next }
            split(want[$1], w, " ");
            if ($2 != w[2]) { print $1 ": count " $2 ", want " w[2]; bad = 1 }
            for (i = 3; i <= 6; i++)
                if (!close_to($i, w[i])) { print $1 ": field " i " is " $i ", want " w[i]; bad = 1 }
        }
        END { if (ngot != nwant) { print ngot " keys, want " nwant; bad = 1 } exit bad }
    ' "$1" "$2"
}

E topic create numbers -p 4 >/dev/null
E topic create number-stats -p 4 >/dev/null
E topic produce numbers -k : <"$WORK/numbers" >/dev/null
start_app agg "$AGG" agg1 --input numbers --output number-stats
ok=0
for i in $(seq 1 90); do
    agg_latest >"$WORK/agg_got"
    if agg_matches "$WORK/agg_model" "$WORK/agg_got" >"$WORK/agg_diff"; then ok=1; break; fi
    kill -0 "$PID_agg" 2>/dev/null || { show_logs agg; fail "aggregate exited early"; }
    sleep 1
done
[ "$ok" = 1 ] || { head -n 20 "$WORK/agg_diff" >&2; show_logs agg; fail "aggregate: the statistics are not the model's after 90 s"; }
log "aggregate: count/sum/min/max/mean of every key equal the model"
stop_app agg
got_skipped=$(sed -n 's/^aggregate: \([0-9]*\) records skipped.*/\1/p' "$WORK/agg.log")
[ "$got_skipped" = "$AGG_SKIPPED" ] ||
    { show_logs agg; fail "aggregate: reported '$got_skipped' skipped records, the model has $AGG_SKIPPED"; }
n_lines=$(grep -c 'is not a number' "$WORK/agg.log" || true)
[ "$n_lines" = "$AGG_SKIPPED" ] || fail "aggregate: logged $n_lines skips, want $AGG_SKIPPED"
log "aggregate: $got_skipped records skipped, as the model"

# ---------------------------------------------------------------- orders_join

# Customers c1..c30 (ids c31..c40 stay unknown); a few are renamed, the
# latest name counts.
awk 'BEGIN {
    srand(23);
    for (i = 1; i <= 30; i++) print "c" i ":name" i "-" int(rand() * 1000);
    for (i = 0; i < 8; i++) { c = 1 + int(rand() * 30); print "c" c ":renamed" c "-" i }
}' >"$WORK/customers"
awk 'BEGIN {
    srand(29);
    split("book pen lamp desk chair mug plant clock", item, " ");
    for (i = 0; i < 600; i++) print "c" (1 + int(rand() * 40)) ":order" i "-" item[1 + int(rand() * 8)];
}' >"$WORK/orders"
# model: KEY<TAB>ORDER by NAME, sorted; the inner join and the left join
awk -F: -v OFS='\t' 'NR == FNR { name[$1] = $2; next }
    ($1 in name) { print $1, $2 " by " name[$1] }' "$WORK/customers" "$WORK/orders" |
    sort >"$WORK/join_inner_model"
awk -F: -v OFS='\t' 'NR == FNR { name[$1] = $2; next }
    { print $1, $2 " by " (($1 in name) ? name[$1] : "unknown") }' "$WORK/customers" "$WORK/orders" |
    sort >"$WORK/join_left_model"
n_inner=$(wc -l <"$WORK/join_inner_model")
[ "$n_inner" -gt 300 ] && [ "$n_inner" -lt 600 ] || fail "the generator gave $n_inner inner matches"

for t in customers orders enriched enriched-left; do E topic create "$t" -p 3 >/dev/null; done
E topic produce customers -k : <"$WORK/customers" >/dev/null
n_cust=$(wc -l <"$WORK/customers")
start_app join "$OJ" join1 --output enriched
start_app left "$OJ" join2 --output enriched-left --left
# The table must hold every customer before the orders come (a stream-table
# join looks up the table as it is when the order is processed): wait until
# both apps committed all of the customers topic.
for g in join1 join2; do
    ok=0
    for i in $(seq 1 60); do
        c=$(E group describe "$g" 2>/dev/null |
            awk '$1 == "customers" && $3 ~ /^[0-9]+$/ { s += $3 } END { print s + 0 }' || true)
        [ "$c" = "$n_cust" ] && { ok=1; break; }
        sleep 1
    done
    [ "$ok" = 1 ] || { E group describe "$g" >&2 || true; show_logs join left; fail "$g did not take in the customers within 60 s"; }
done
log "join: both apps read the $n_cust customer records"
E topic produce orders -k : <"$WORK/orders" >/dev/null

wait_join() { # TOPIC MODEL LOGNAME
    local i
    for i in $(seq 1 90); do
        E topic consume "$1" -o beginning -e -f '%k\t%v\n' | sort >"$WORK/join_got"
        cmp -s "$WORK/join_got" "$2" && return 0
        sleep 1
    done
    diff "$2" "$WORK/join_got" | head -n 20 >&2 || true
    show_logs "$3"
    fail "$1: the joined orders are not the model's after 90 s"
}
wait_join enriched "$WORK/join_inner_model" join
log "inner join: $n_inner orders of known customers, with their latest names; the others dropped"
wait_join enriched-left "$WORK/join_left_model" left
log "left join: all 600 orders, unknown customers as 'unknown'"
stop_app join
stop_app left

# Not co-partitioned: exit 1 at start, naming both topics and their counts.
E topic create cust2 -p 2 >/dev/null
E topic create ord4 -p 4 >/dev/null
rc=0
timeout 60 "$OJ" --customers cust2 --orders ord4 --output enriched -X "bootstrap.servers=$BOOTSTRAP" \
    -X application.id=join3 -X "state.dir=$WORK/state-join3" >"$WORK/join3.log" 2>&1 </dev/null || rc=$?
[ "$rc" = 1 ] || { cat "$WORK/join3.log" >&2; fail "orders_join on 2 and 4 partitions exited $rc, want 1"; }
grep -q 'cust2 (2 partitions)' "$WORK/join3.log" && grep -q 'ord4 (4 partitions)' "$WORK/join3.log" ||
    { cat "$WORK/join3.log" >&2; fail "the co-partitioning error does not name both topics and counts"; }
log "co-partitioning mismatch: exit 1 with $(grep -m1 'partitions' "$WORK/join3.log")"

stop_broker
log "ok"
