#!/usr/bin/env bash
# kcat (librdkafka) against a fresh Eddy broker: metadata, produce/consume order per
# partition, -o beginning / end / relative / s@timestamp, -Q (ListOffsets), keys, headers,
# null values, explicit partitions, every compression codec, a large record.
# usage: kcat.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init kcat "${1:?usage: kcat.sh EDDY}"
need kcat timeout awk

start_broker "$WORK/data" --set num.partitions=3

# ---------------------------------------------------------------------------------------
# 1. 10,000 keyed lines, auto-created topic with 3 partitions.
N=10000
seq 1 $N | awk '{ printf "k%d:%d\n", $1 % 97, $1 }' > "$WORK/in1"
kc -P -t t1 -K: -X acks=all -l "$WORK/in1" 2> "$WORK/p1.err" ||
    fail "kcat -P t1 failed: $(cat "$WORK/p1.err")"
log "produced $N keyed lines to t1"

# Metadata: the broker (its real port, as controller) and the topic with 3 partitions.
kc -L > "$WORK/meta" 2>&1 || fail "kcat -L failed: $(cat "$WORK/meta")"
grep -q "broker 0 at $BOOTSTRAP" "$WORK/meta" || fail "kcat -L does not list broker 0 at $BOOTSTRAP: $(cat "$WORK/meta")"
grep -q 'topic "t1" with 3 partitions' "$WORK/meta" || fail "kcat -L: no t1 with 3 partitions: $(cat "$WORK/meta")"
for p in 0 1 2; do
    grep -q "partition $p, leader 0, replicas: 0, isrs: 0" "$WORK/meta" ||
        fail "kcat -L: partition $p not led by broker 0: $(cat "$WORK/meta")"
done
kc -L -J > "$WORK/meta.json" 2>&1 || fail "kcat -L -J failed"
grep -q '"controllerid":0' "$WORK/meta.json" || fail "metadata controller id is not 0: $(cat "$WORK/meta.json")"
log "kcat -L ok"

# Consume everything: -o beginning -e.
kc -C -t t1 -o beginning -e -f '%p %o %k %s\n' > "$WORK/out1" 2> "$WORK/c1.err" ||
    fail "kcat -C t1 failed: $(cat "$WORK/c1.err")"
n=$(wc -l < "$WORK/out1")
[ "$n" = $N ] || fail "t1: consumed $n records, produced $N"
awk -v N=$N '
    { p = $1; o = $2; k = $3; v = $4 + 0
      if (!(p in next_off)) next_off[p] = 0
      if (o != next_off[p]) { printf "partition %s: offset %s where %s expected\n", p, o, next_off[p]; bad = 1; exit }
      next_off[p] = o + 1
      if (p in last && v <= last[p]) { printf "partition %s: value %d after %d (order)\n", p, v, last[p]; bad = 1; exit }
      last[p] = v
      if (k in kp && kp[k] != p) { printf "key %s on partitions %s and %s\n", k, kp[k], p; bad = 1; exit }
      kp[k] = p
      if (k != "k" (v % 97)) { printf "offset %s/%s: key %s for value %d\n", p, o, k, v; bad = 1; exit }
      if (seen[v]++) { printf "value %d twice\n", v; bad = 1; exit }
    }
    END { if (bad) exit 1
          for (i = 1; i <= N; i++) if (!(i in seen)) { printf "value %d missing\n", i; exit 1 }
          np = 0; for (p in next_off) { np++; printf "%s %d\n", p, next_off[p] > "/dev/stderr" }
          if (np != 3) { printf "records on %d partitions, expected 3\n", np; exit 1 } }
' "$WORK/out1" > "$WORK/check1" 2> "$WORK/ends1" || fail "t1 read back: $(cat "$WORK/check1")"
log "t1: $N records read back, per-partition order and offsets ok ($(sort "$WORK/ends1" | tr '\n' ' '))"

# -Q: ListOffsets (-1 = end) agrees with what was consumed.
while read -r p end; do
    got=$(kc -Q -t "t1:$p:-1" 2>&1) || fail "kcat -Q t1:$p:-1 failed: $got"
    echo "$got" | grep -q "^t1 \[$p\] offset $end\$" || fail "kcat -Q t1:$p:-1: '$got', expected offset $end"
    got=$(kc -Q -t "t1:$p:-2" 2>&1) || fail "kcat -Q t1:$p:-2 failed: $got"
    echo "$got" | grep -q "^t1 \[$p\] offset 0\$" || fail "kcat -Q t1:$p:-2: '$got', expected offset 0"
done < "$WORK/ends1"

# Relative and absolute start offsets on one partition.
end0=$(awk '$1 == 0 { print $2 }' "$WORK/ends1")
kc -C -t t1 -p 0 -o -3 -e -f '%o\n' > "$WORK/rel" 2> "$WORK/rel.err" || fail "kcat -o -3: $(cat "$WORK/rel.err")"
printf '%d\n%d\n%d\n' $((end0 - 3)) $((end0 - 2)) $((end0 - 1)) | cmp -s - "$WORK/rel" ||
    fail "kcat -p 0 -o -3 gave offsets $(tr '\n' ' ' < "$WORK/rel"), expected the last 3 before $end0"
kc -C -t t1 -p 0 -o 5 -c 2 -f '%o %s\n' > "$WORK/abs" 2> "$WORK/abs.err" || fail "kcat -o 5: $(cat "$WORK/abs.err")"
awk '$1 == 0 && ($2 == 5 || $2 == 6) { print $2, $4 }' "$WORK/out1" | cmp -s - "$WORK/abs" ||
    fail "kcat -p 0 -o 5 -c 2: $(cat "$WORK/abs")"
log "-Q, -o -3, -o 5 ok"

# ---------------------------------------------------------------------------------------
# 2. -o end: a consumer started at the end sees only what is produced later.
seq 1 300 | awk '{ printf "k%d:old%d\n", $1, $1 }' > "$WORK/in2a"
kc -P -t t2 -K: -l "$WORK/in2a" 2> "$WORK/p2.err" || fail "kcat -P t2: $(cat "$WORK/p2.err")"
seq 1 60 | awk '{ printf "k%d:new%d\n", $1, $1 }' > "$WORK/in2b"
timeout -k 5 "$CLIENT_TIMEOUT" kcat -b "$BOOTSTRAP" -C -t t2 -o end -c 60 -f '%p %o %s\n' \
    > "$WORK/out2" 2> "$WORK/c2.err" &
cons=$!
bg_started $cons
# It is positioned once it reported end-of-partition for all three partitions.
for _ in $(seq 1 200); do
    [ "$(grep -c 'Reached end of topic t2' "$WORK/c2.err" || true)" -ge 3 ] && break
    kill -0 $cons 2>/dev/null || break
    sleep 0.1
done
[ "$(grep -c 'Reached end of topic t2' "$WORK/c2.err" || true)" -ge 3 ] ||
    fail "kcat -o end never reached the end of all t2 partitions: $(cat "$WORK/c2.err")"
kc -P -t t2 -K: -l "$WORK/in2b" 2> "$WORK/p2b.err" || fail "kcat -P t2 (new): $(cat "$WORK/p2b.err")"
rc=0
wait $cons || rc=$?
bg_done $cons
[ $rc = 0 ] || fail "kcat -o end -c 60 exited $rc (124: timed out): got $(wc -l < "$WORK/out2") records; $(tail -n 5 "$WORK/c2.err")"
grep -q old "$WORK/out2" && fail "kcat -o end returned old records: $(grep old "$WORK/out2" | head -n 3)"
awk '{ print $3 }' "$WORK/out2" | sort > "$WORK/got2"
sed 's/^[^:]*://' "$WORK/in2b" | sort | cmp -s - "$WORK/got2" || fail "kcat -o end: wrong new records: $(head "$WORK/got2")"
log "-o end ok"

# ---------------------------------------------------------------------------------------
# 3. -o s@T: batch A, T, batch B; reading from T returns exactly B.
seq 1 200 | awk '{ printf "k%d:A%d\n", $1, $1 }' > "$WORK/in3a"
seq 1 200 | awk '{ printf "k%d:B%d\n", $1, $1 }' > "$WORK/in3b"
kc -P -t t3 -K: -l "$WORK/in3a" 2> "$WORK/p3.err" || fail "kcat -P t3 A: $(cat "$WORK/p3.err")"
sleep 1.2
T=$(now_ms)
sleep 1.2
kc -P -t t3 -K: -l "$WORK/in3b" 2> "$WORK/p3.err" || fail "kcat -P t3 B: $(cat "$WORK/p3.err")"
kc -C -t t3 -o "s@$T" -e -f '%p %o %T %s\n' > "$WORK/out3" 2> "$WORK/c3.err" ||
    fail "kcat -o s@$T: $(cat "$WORK/c3.err")"
awk '{ print $4 }' "$WORK/out3" | sort > "$WORK/got3"
sed 's/^[^:]*://' "$WORK/in3b" | sort | cmp -s - "$WORK/got3" ||
    fail "kcat -o s@$T returned $(wc -l < "$WORK/got3") records, expected exactly batch B (200): $(head -n 3 "$WORK/out3")"
awk -v T="$T" '$3 < T { print "record before T:", $0; exit 1 }' "$WORK/out3" > "$WORK/chk3" || fail "$(cat "$WORK/chk3")"
# ListOffsets by timestamp per partition = the first B offset there.
for p in 0 1 2; do
    first=$(awk -v p=$p '$1 == p { print $2; exit }' "$WORK/out3")
    [ -n "$first" ] || continue
    got=$(kc -Q -t "t3:$p:$T" 2>&1) || fail "kcat -Q t3:$p:$T: $got"
    echo "$got" | grep -q "^t3 \[$p\] offset $first\$" || fail "kcat -Q t3:$p:$T: '$got', expected offset $first"
done
# A timestamp after everything: ListOffsets answers -1 (no such record).
late=$(($(now_ms) + 3600000))
got=$(kc -Q -t "t3:0:$late" 2>&1) || fail "kcat -Q t3:0:$late: $got"
echo "$got" | grep -q "^t3 \[0\] offset -1\$" || fail "kcat -Q with a future timestamp: '$got', expected offset -1"
log "-o s@T and -Q by timestamp ok"

# ---------------------------------------------------------------------------------------
# 4. Keys, headers, null values.
seq 1 500 | awk '{ printf "key%d:val%d\n", $1, $1 }' > "$WORK/in4"
kc -P -t t4 -K: -H h1=v1 -H 'h2=two words' -H empty= -l "$WORK/in4" 2> "$WORK/p4.err" ||
    fail "kcat -P -H: $(cat "$WORK/p4.err")"
printf 'tomb:\n' | kc -P -t t4 -p 0 -K: -Z 2> "$WORK/p4.err" || fail "kcat -P -Z: $(cat "$WORK/p4.err")"
printf 'nokey\n' | kc -P -t t4 -p 0 2> "$WORK/p4.err" || fail "kcat -P (no key): $(cat "$WORK/p4.err")"
printf ':emptykey\nemptyval:\n' | kc -P -t t4 -p 0 -K: 2> "$WORK/p4.err" || fail "kcat -P (empty key/value): $(cat "$WORK/p4.err")"
kc -C -t t4 -e -f '%K|%k|%h|%S|%s\n' > "$WORK/out4" 2> "$WORK/c4.err" || fail "kcat -C t4: $(cat "$WORK/c4.err")"
grep -v '^-1|' "$WORK/out4" | grep -v '^4|tomb|' | grep -v '^0|' | grep -v '|0|$' | sort > "$WORK/got4"
awk -F: '{ printf "%d|%s|h1=v1,h2=two words,empty=|%d|%s\n", length($1), $1, length($2), $2 }' "$WORK/in4" |
    sort | cmp -s - "$WORK/got4" || fail "keys/headers did not round-trip: $(head -n 3 "$WORK/got4")"
grep -qx '4|tomb||-1|' "$WORK/out4" || fail "null value (tombstone) did not round-trip: $(grep tomb "$WORK/out4")"
grep -qx -- '-1|||5|nokey' "$WORK/out4" || fail "null key did not round-trip: $(grep nokey "$WORK/out4")"
grep -qx -- '0|||8|emptykey' "$WORK/out4" || fail "empty key did not round-trip: $(grep emptykey "$WORK/out4")"
grep -qx -- '8|emptyval||0|' "$WORK/out4" || fail "empty value did not round-trip: $(grep emptyval "$WORK/out4")"
log "keys, headers, null and empty key/value ok"

# Explicit partition.
seq 1 100 | kc -P -t t1 -p 2 2> "$WORK/p5.err" || fail "kcat -P -p 2: $(cat "$WORK/p5.err")"
end2=$(awk '$1 == 2 { print $2 }' "$WORK/ends1")
kc -C -t t1 -p 2 -o "$end2" -e -f '%p %o %s\n' > "$WORK/out5" 2> "$WORK/c5.err" || fail "kcat -C -p 2: $(cat "$WORK/c5.err")"
seq 1 100 | awk -v e="$end2" '{ printf "2 %d %d\n", e + NR - 1, $1 }' | cmp -s - "$WORK/out5" ||
    fail "kcat -P -p 2: read back $(head -n 3 "$WORK/out5")"
log "explicit partition ok"

# ---------------------------------------------------------------------------------------
# 5. Compressed batches, one topic per codec.
for z in gzip snappy lz4 zstd; do
    seq 1 3000 | awk -v z=$z '{ printf "%s-%d-%s\n", z, $1, "padding padding padding padding" }' > "$WORK/inz"
    kc -P -t "tz-$z" -z $z -l "$WORK/inz" 2> "$WORK/pz.err" || fail "kcat -P -z $z: $(cat "$WORK/pz.err")"
    kc -C -t "tz-$z" -e -f '%s\n' > "$WORK/outz" 2> "$WORK/cz.err" || fail "kcat -C (-z $z): $(cat "$WORK/cz.err")"
    sort "$WORK/inz" > "$WORK/inz.s"
    sort "$WORK/outz" | cmp -s - "$WORK/inz.s" || fail "$z-compressed records did not round-trip ($(wc -l < "$WORK/outz") of 3000 lines)"
done
log "gzip, snappy, lz4, zstd ok"

# A large record (800 kB, under message.max.bytes).
head -c 600000 /dev/urandom | base64 -w 0 > "$WORK/big"
echo >> "$WORK/big"
kc -P -t tbig -l "$WORK/big" 2> "$WORK/pb.err" || fail "kcat -P 800 kB: $(cat "$WORK/pb.err")"
kc -C -t tbig -e -f '%s\n' > "$WORK/outbig" 2> "$WORK/cb.err" || fail "kcat -C 800 kB: $(cat "$WORK/cb.err")"
cmp -s "$WORK/big" "$WORK/outbig" || fail "800 kB record did not round-trip ($(wc -c < "$WORK/outbig") bytes back)"
log "800 kB record ok"

broker_alive
stop_broker
echo "compat_kcat: ok ($(($(date +%s) - _T0)) s)"
