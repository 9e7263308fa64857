#!/usr/bin/env bash
# bench_tls.sh: produce and consume throughput over SSL against PLAINTEXT, on
# the same broker in the same run, as a ratio.
#
#   bench/bench_tls.sh [path/to/eddy]      (default build/bin/eddy)
#
# One Eddy broker with two listeners, PLAINTEXT and SSL (certificates made
# for the run by tests/security/certs.sh: EC P-256, TLS 1.3 as kcat and the
# broker negotiate it). kcat (librdkafka) produces RECORDS records of
# VALUE bytes from a file into a fresh one-partition topic (acks=1,
# linger.ms=5), then reads them back from the start (-e, to /dev/null);
# each round does both listeners, the order flipping every round, and
# deletes its topics. Figures:
# the median records/s and MB/s of each listener, and the median of the
# per-round ratios SSL/PLAINTEXT; beside them the broker's CPU seconds
# (utime+stime from /proc/PID/stat) per GB moved, the cost in the broker
# alone, since kcat's own TLS work is in the throughput figures too.
#
# Environment: RECORDS (default 500000), VALUE (default 1000 bytes), ROUNDS
# (default 3). Prints figures; exits 1 only when a step fails or a record
# count is wrong.
set -u

EDDY=${1:-build/bin/eddy}
HERE=$(cd "$(dirname "$0")" && pwd)
RECORDS=${RECORDS:-500000}
VALUE=${VALUE:-1000}
ROUNDS=${ROUNDS:-3}

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-tls.XXXXXX")
BROKER_PID=
cleanup() {
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null
        wait "$BROKER_PID" 2>/dev/null
    fi
    rm -rf "$ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench_tls: $*" >&2; exit 1; }

sh "$HERE/../tests/security/certs.sh" "$ROOT/certs" || die "certs.sh failed"
C=$ROOT/certs
"$EDDY" broker --data-dir "$ROOT/data" --set "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" \
    --set "ssl.keystore.location=$C/server-keystore.pem" --set "ssl.key.password=eddy-test-pass" \
    --set "log.flush.interval.ms=9223372036854775807" 2>"$ROOT/broker.log" &
BROKER_PID=$!
PP= SP=
for _ in $(seq 100); do
    PP=$(sed -n 's/.*listener PLAINTEXT (PLAINTEXT) on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$ROOT/broker.log")
    SP=$(sed -n 's/.*listener SSL (SSL) on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$ROOT/broker.log")
    [ -n "$PP" ] && [ -n "$SP" ] && break
    sleep 0.1
done
[ -n "$PP" ] && [ -n "$SP" ] || { cat "$ROOT/broker.log"; die "broker did not start"; }

python3 -c "import sys
v = 'x' * ($VALUE - 8)
w = sys.stdout.write
for i in range($RECORDS): w('%07d %s\n' % (i % 10000000, v))" > "$ROOT/in" || die "cannot write the input"
BYTES=$(stat -c %s "$ROOT/in")

cpu() { awk '{ print $14 + $15 }' "/proc/$BROKER_PID/stat"; } # clock ticks
TICK=$(getconf CLK_TCK)
now() { date +%s.%N; }

# run PROTO ROUND: produce then consume through one listener; appends
# "proto round produce_s consume_s produce_cpu_ticks consume_cpu_ticks" to $ROOT/runs.
run() {
    local proto=$1 r=$2 port args t0 t1 t2 c0 c1 c2 n
    if [ "$proto" = SSL ]; then
        port=$SP
        args=(-X security.protocol=ssl -X "ssl.ca.location=$C/ca.pem")
    else
        port=$PP
        args=()
    fi
    local topic=tls-$proto-$r
    "$EDDY" -b "127.0.0.1:$PP" topic create "$topic" -p 1 >/dev/null || die "create $topic"
    c0=$(cpu); t0=$(now)
    kcat -P -b "127.0.0.1:$port" "${args[@]}" -t "$topic" -X linger.ms=5 -X acks=1 \
        -X queue.buffering.max.kbytes=1048576 < "$ROOT/in" || die "produce over $proto"
    c1=$(cpu); t1=$(now)
    n=$(kcat -C -b "127.0.0.1:$port" "${args[@]}" -t "$topic" -o beginning -e -q \
        -X fetch.max.bytes=52428800 -X max.partition.fetch.bytes=8388608 | wc -l)
    c2=$(cpu); t2=$(now)
    [ "$n" = "$RECORDS" ] || die "consumed $n of $RECORDS records over $proto"
    "$EDDY" -b "127.0.0.1:$PP" topic delete "$topic" >/dev/null || die "delete $topic"
    awk -v p="$proto" -v r="$r" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v u1=$((c1 - c0)) -v u2=$((c2 - c1)) \
        'BEGIN { print p, r, t1 - t0, t2 - t1, u1, u2 }' >> "$ROOT/runs"
}

echo "== bench_tls ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), $(openssl version | cut -d' ' -f1-2), tree $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "-- $RECORDS records of $VALUE B ($((BYTES / 1000000)) MB), kcat, one partition, median of $ROUNDS rounds"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then run PLAINTEXT "$r"; run SSL "$r"; else run SSL "$r"; run PLAINTEXT "$r"; fi
done

awk -v recs="$RECORDS" -v bytes="$BYTES" -v tick="$TICK" '
function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ s[$1, $2, "p"] = $3; s[$1, $2, "c"] = $4; u[$1, $2, "p"] = $5; u[$1, $2, "c"] = $6; rounds[$2] = 1 }
END {
    n = 0; for (r in rounds) n++
    split("p c", phases, " ")
    name["p"] = "produce"; name["c"] = "consume"
    printf "%-8s %-10s %12s %9s %16s\n", "phase", "listener", "records/s", "MB/s", "broker CPU s/GB"
    for (k = 1; k <= 2; k++) {
        ph = phases[k]
        for (pi = 1; pi <= 2; pi++) {
            proto = pi == 1 ? "PLAINTEXT" : "SSL"
            delete a; delete cp
            for (r = 1; r <= n; r++) { a[r] = recs / s[proto, r, ph]; cp[r] = u[proto, r, ph] / tick / (bytes / 1e9) }
            med[proto] = median(a, n); medcpu[proto] = median(cp, n)
            printf "%-8s %-10s %12.0f %9.1f %16.2f\n", name[ph], proto, med[proto], med[proto] * bytes / recs / 1e6, medcpu[proto]
        }
        delete q; delete qc
        for (r = 1; r <= n; r++) { q[r] = s["PLAINTEXT", r, ph] / s["SSL", r, ph]
            qc[r] = u["PLAINTEXT", r, ph] > 0 ? u["SSL", r, ph] / u["PLAINTEXT", r, ph] : 0 }
        printf "%s SSL/PLAINTEXT: throughput %.2f, broker CPU per byte %.2f (medians of per-round ratios)\n", name[ph], median(q, n), median(qc, n)
    }
}' "$ROOT/runs"
