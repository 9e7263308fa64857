#!/usr/bin/env bash
# bench_security.sh: what security costs, on one broker in one run.
#
#   bench/bench_security.sh [path/to/eddy]      (default build/bin/eddy)
#
# One Eddy broker with four listeners: PLAINTEXT, SSL, SASL_PLAINTEXT and
# SASL_SSL (certificates made for the run by tests/security/certs.sh, EC
# P-256; SASL: SCRAM-SHA-512, one user made with `eddy user add`, 4096
# iterations, Kafka's minimum and the CLI's default).
#
# 1. Throughput. kcat (librdkafka) produces RECORDS records of VALUE bytes
#    from a file into a fresh one-partition topic (acks=1, linger.ms=5),
#    then reads them back from the start (-e, to /dev/null), over PLAINTEXT,
#    SSL and SASL_SSL; each round does the three, in an order that rotates
#    every round, and deletes its topics. Figures: the median records/s and
#    MB/s of each listener, the broker's CPU seconds (utime+stime from
#    /proc/PID/stat) per GB moved, and the medians of the per-round ratios
#    to PLAINTEXT.
# 2. Logins. A client in Python (this script, no library) opens LOGINS
#    connections (and for at least 2 s) one after the other on each listener and on each does what
#    a client does before its first real request: (TLS handshake,)
#    ApiVersions v3, (SaslHandshake v1, SCRAM-SHA-512 client-first and
#    client-final in SaslAuthenticate v2, the server's signature checked,)
#    then Metadata v1 for no topics, and closes. Figures: connections per
#    second, and the broker's CPU milliseconds per connection. The client's
#    own PBKDF2 (4096 x HMAC-SHA-512, hashlib, in C) is in the connection
#    rate, as every SCRAM client pays it per connection.
#
# 3. Commands: the median wall time of `eddy topic list` (a process that
#    starts, connects, logs in, asks Metadata and exits) on each listener.
#
# Environment: RECORDS (default 500000), VALUE (default 1000 bytes), ROUNDS
# (default 3), VERBOSE (non-empty: each run's seconds and CPU ticks too), LOGINS (default 200; each listener runs at
# least 2 s), COMMANDS (default 20). Prints figures; exits 1 only when a
# step fails or a record count is wrong.
set -u

EDDY=${1:-build/bin/eddy}
HERE=$(cd "$(dirname "$0")" && pwd)
RECORDS=${RECORDS:-500000}
VALUE=${VALUE:-1000}
ROUNDS=${ROUNDS:-3}
LOGINS=${LOGINS:-200}

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/eddy-bench-security.XXXXXX")
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
die() { echo "bench_security: $*" >&2; exit 1; }

sh "$HERE/../tests/security/certs.sh" "$ROOT/certs" || die "certs.sh failed"
C=$ROOT/certs
"$EDDY" broker --data-dir "$ROOT/data" \
    --set "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0" \
    --set "ssl.keystore.location=$C/server-keystore.pem" --set "ssl.key.password=eddy-test-pass" \
    --set "sasl.enabled.mechanisms=SCRAM-SHA-512" \
    --set "log.flush.interval.ms=9223372036854775807" 2>"$ROOT/broker.log" &
BROKER_PID=$!
declare -A PORT
for _ in $(seq 100); do
    for l in PLAINTEXT SSL SASL_PLAINTEXT SASL_SSL; do
        PORT[$l]=$(sed -n "s/.*listener $l ($l) on 127\.0\.0\.1:\([0-9]*\),.*/\1/p" "$ROOT/broker.log")
    done
    [ -n "${PORT[SASL_SSL]}" ] && break
    sleep 0.1
done
[ -n "${PORT[SASL_SSL]}" ] || { cat "$ROOT/broker.log"; die "broker did not start"; }
PP=${PORT[PLAINTEXT]}
echo 'bench-secret' | "$EDDY" -b "127.0.0.1:$PP" user add bench --mechanism SCRAM-SHA-512 --password-stdin \
    >/dev/null || die "eddy user add"

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
    local proto=$1 r=$2 port=${PORT[$1]} args t0 t1 t1b t2 c0 c1 c1b c2 n
    case $proto in
    SSL) args=(-X security.protocol=ssl -X "ssl.ca.location=$C/ca.pem") ;;
    SASL_SSL) args=(-X security.protocol=sasl_ssl -X "ssl.ca.location=$C/ca.pem" -X sasl.mechanisms=SCRAM-SHA-512
        -X sasl.username=bench -X sasl.password=bench-secret) ;;
    *) args=() ;;
    esac
    local topic=sec-$proto-$r
    "$EDDY" -b "127.0.0.1:$PP" topic create "$topic" -p 1 >/dev/null || die "create $topic"
    # The kernel's writeback of the last run's 500 MB would land in this one's
    # time (log.flush.interval.ms is off, so the broker never syncs): start clean.
    sync
    c0=$(cpu); t0=$(now)
    kcat -P -b "127.0.0.1:$port" "${args[@]}" -t "$topic" -X linger.ms=5 -X acks=1 \
        -X queue.buffering.max.kbytes=1048576 < "$ROOT/in" || die "produce over $proto"
    c1=$(cpu); t1=$(now)
    sync
    c1b=$(cpu); t1b=$(now)
    n=$(kcat -C -b "127.0.0.1:$port" "${args[@]}" -t "$topic" -o beginning -e -q \
        -X fetch.max.bytes=52428800 -X max.partition.fetch.bytes=8388608 | wc -l)
    c2=$(cpu); t2=$(now)
    [ "$n" = "$RECORDS" ] || die "consumed $n of $RECORDS records over $proto"
    "$EDDY" -b "127.0.0.1:$PP" topic delete "$topic" >/dev/null || die "delete $topic"
    awk -v p="$proto" -v r="$r" -v t0="$t0" -v t1="$t1" -v t1b="$t1b" -v t2="$t2" -v u1=$((c1 - c0)) -v u2=$((c2 - c1b)) \
        'BEGIN { print p, r, t1 - t0, t2 - t1b, u1, u2 }' >> "$ROOT/runs"
}

echo "== bench_security ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), $(openssl version | cut -d' ' -f1-2), tree $(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "-- 1. throughput: $RECORDS records of $VALUE B ($((BYTES / 1000000)) MB), kcat, one partition, median of $ROUNDS rounds"
LISTENERS=(PLAINTEXT SSL SASL_SSL)
for r in $(seq 1 "$ROUNDS"); do
    for k in 0 1 2; do run "${LISTENERS[$(((k + r) % 3))]}" "$r"; done
done

awk -v recs="$RECORDS" -v bytes="$BYTES" -v tick="$TICK" '
function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{ s[$1, $2, "p"] = $3; s[$1, $2, "c"] = $4; u[$1, $2, "p"] = $5; u[$1, $2, "c"] = $6; rounds[$2] = 1 }
END {
    n = 0; for (r in rounds) n++
    split("p c", phases, " "); split("PLAINTEXT SSL SASL_SSL", protos, " ")
    name["p"] = "produce"; name["c"] = "consume"
    printf "%-8s %-10s %12s %9s %16s %18s %14s\n", "phase", "listener", "records/s", "MB/s", "broker CPU s/GB", "throughput ratio", "CPU/B ratio"
    for (k = 1; k <= 2; k++) {
        ph = phases[k]
        for (pi = 1; pi <= 3; pi++) {
            proto = protos[pi]
            delete a; delete cp; delete q; delete qc
            for (r = 1; r <= n; r++) {
                a[r] = recs / s[proto, r, ph]; cp[r] = u[proto, r, ph] / tick / (bytes / 1e9)
                q[r] = s["PLAINTEXT", r, ph] / s[proto, r, ph]
                qc[r] = u["PLAINTEXT", r, ph] > 0 ? u[proto, r, ph] / u["PLAINTEXT", r, ph] : 0
            }
            m = median(a, n)
            printf "%-8s %-10s %12.0f %9.1f %16.2f %18.2f %14.2f\n", name[ph], proto, m, m * bytes / recs / 1e6, median(cp, n), median(q, n), median(qc, n)
        }
    }
    print "(ratios: to PLAINTEXT, medians of the per-round ratios)"
}' "$ROOT/runs"

[ -n "${VERBOSE:-}" ] && { echo "(per run: listener round produce_s consume_s produce_ticks consume_ticks)"; cat "$ROOT/runs"; }

echo "-- 2. logins: $LOGINS connections in a row per listener (ApiVersions, login, Metadata, close), Python client"
python3 - "$BROKER_PID" "$TICK" "$LOGINS" "$C/ca.pem" "${PORT[PLAINTEXT]}" "${PORT[SSL]}" \
    "${PORT[SASL_PLAINTEXT]}" "${PORT[SASL_SSL]}" <<'PY' || die "login loop failed"
import base64, hashlib, hmac, os, socket, ssl, struct, sys, time
pid, tick, n, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ports = dict(zip(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"], map(int, sys.argv[5:9])))
ctx = ssl.create_default_context(cafile=ca)

def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])

def recv_exact(s, k):
    b = b""
    while len(b) < k:
        c = s.recv(k - len(b))
        if not c:
            raise OSError("connection closed by the broker")
        b += c
    return b

corr = 0
def call(s, api, ver, body, flex):
    global corr
    corr += 1
    # header v1 (api, version, correlation id, client id), v2 adds empty tags
    h = struct.pack(">hhih", api, ver, corr, 5) + b"bench" + (b"\x00" if flex else b"")
    req = h + body
    s.sendall(struct.pack(">i", len(req)) + req)
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    resp = recv_exact(s, size)
    assert struct.unpack(">i", resp[:4])[0] == corr
    return resp[4:]

def scram(s):
    # SaslHandshake v1: mechanism; error code first in the answer
    r = call(s, 17, 1, struct.pack(">h", 13) + b"SCRAM-SHA-512", False)
    assert r[:2] == b"\0\0", "SaslHandshake refused"
    nonce = base64.b64encode(os.urandom(24)).decode()
    bare = "n=bench,r=" + nonce
    def auth(token):
        # SaslAuthenticate v2 (flexible): compact bytes; the answer has its header tags byte
        body = bytes([len(token) + 1]) if len(token) + 1 < 128 else None
        if body is None:
            v, out = len(token) + 1, b""
            while v >= 128:
                out += bytes([(v & 0x7F) | 0x80]); v >>= 7
            body = out + bytes([v])
        r = call(s, 36, 2, body + token + b"\x00", True)
        r = r[1:]  # response header v1 tags
        err = struct.unpack(">h", r[:2])[0]
        assert err == 0, "SaslAuthenticate error %d" % err
        p = 2
        ln = r[p]; p += 1  # compact nullable string error message (null: 0)
        p += max(ln - 1, 0)
        ln = 0; shift = 0
        while True:
            c = r[p]; p += 1; ln |= (c & 0x7F) << shift; shift += 7
            if c < 128: break
        return r[p:p + ln - 1].decode()
    first = auth(("n,," + bare).encode())
    attrs = dict(kv.split("=", 1) for kv in first.split(","))
    salted = hashlib.pbkdf2_hmac("sha512", b"bench-secret", base64.b64decode(attrs["s"]), int(attrs["i"]))
    ckey = hmac.new(salted, b"Client Key", "sha512").digest()
    stored = hashlib.sha512(ckey).digest()
    final_bare = "c=biws,r=" + attrs["r"]
    msg = (bare + "," + first + "," + final_bare).encode()
    sig = hmac.new(stored, msg, "sha512").digest()
    proof = bytes(a ^ b for a, b in zip(ckey, sig))
    final = auth((final_bare + ",p=" + base64.b64encode(proof).decode()).encode())
    skey = hmac.new(salted, b"Server Key", "sha512").digest()
    want = base64.b64encode(hmac.new(skey, msg, "sha512").digest()).decode()
    assert final == "v=" + want, "bad server signature"

def one(proto):
    s = socket.create_connection(("127.0.0.1", ports[proto]))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if proto.endswith("SSL"):
        s = ctx.wrap_socket(s, server_hostname="localhost")
    call(s, 18, 3, b"\x06bench\x021\x00", True)  # ApiVersions v3: client software name, version, tags
    if proto.startswith("SASL"):
        scram(s)
    call(s, 3, 1, struct.pack(">i", 0), False)  # Metadata v1, no topics
    s.close()

res = {}
for rnd in range(2):  # two passes in opposite orders; the better of each listener's two
    order = list(ports) if rnd == 0 else list(reversed(ports))
    for proto in order:
        one(proto)  # warm up
        c0, t0, k = cpu(), time.perf_counter(), 0
        while k < n or time.perf_counter() - t0 < 2:  # at least 2 s: CPU is counted in ticks
            one(proto)
            k += 1
        t, c = time.perf_counter() - t0, cpu() - c0
        rate, ms = k / t, c * 1000.0 / tick / k
        if proto not in res or rate > res[proto][0]:
            res[proto] = (rate, ms)
base = res["PLAINTEXT"]
print("%-15s %12s %18s %18s %14s" % ("listener", "connections/s", "broker CPU ms/conn", "rate to PLAINTEXT", "CPU to PLAINTEXT"))
for proto in ports:
    rate, ms = res[proto]
    print("%-15s %12.0f %18.3f %18.3f %14s" % (proto, rate, ms, rate / base[0], "%.1f" % (ms / base[1]) if base[1] else "-"))
PY

# 3. What a user waits for: `eddy topic list` (a process: start, connect, log
# in, Metadata, exit), COMMANDS times per listener; the median wall time.
COMMANDS=${COMMANDS:-20}
echo "-- 3. \`eddy topic list\`, $COMMANDS runs per listener, median wall time"
printf '%-15s %10s %14s\n' listener ms "to PLAINTEXT"
base=
for l in PLAINTEXT SSL SASL_PLAINTEXT SASL_SSL; do
    args=()
    case $l in SSL | SASL_SSL) args+=(-X security.protocol=$l -X "ssl.ca.location=$C/ca.pem") ;; esac
    case $l in SASL_*) args+=(-X security.protocol=$l -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=bench
        -X sasl.password=bench-secret) ;; esac
    for _ in $(seq "$COMMANDS"); do
        t0=$(now)
        "$EDDY" -b "127.0.0.1:${PORT[$l]}" "${args[@]}" topic list >/dev/null || die "eddy topic list over $l"
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
    done | sort -n | awk -v l="$l" -v base="$base" '{ a[NR] = $1 } END {
        m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%-15s %10.1f %14s\n", l, m, base == "" ? "1.00" : sprintf("%.2f", m / base)
        print m > "/dev/stderr" }' 2>"$ROOT/median"
    [ -z "$base" ] && base=$(cat "$ROOT/median")
done
