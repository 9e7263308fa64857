#!/usr/bin/env bash
# Eddy's client, CLI and a streams app against Apache Kafka's security
# listeners: one 1-node KRaft cluster of the pinned release started once with
# scripts/kafka.sh start --security (SASL_PLAINTEXT, SSL and SASL_SSL
# listeners; users alice and admin for PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512; certificates from tests/security/certs.sh).
#
#  1. eddy topic create/produce/consume over SASL_PLAINTEXT and SASL_SSL with
#     each of PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (settings by -X, by
#     --command-config FILE with librdkafka's sasl.mechanisms or the Java
#     client's sasl.jaas.config): every line
#     comes back in order, and the same records are on Kafka (read over its
#     PLAINTEXT listener).
#  2. A wrong password, an unknown user, a mechanism the listener lacks:
#     the command fails within seconds with status 1 and a message naming
#     the broker, the mechanism and Kafka's own words; a setting error
#     (GSSAPI, no password) fails before connecting.
#  3. Word count (examples/wordcount) through SASL_SSL with SCRAM-SHA-512:
#     the counts equal an awk reference.
#  4. The same app with a wrong password keeps running and retries with
#     backoff: its log holds a few rate-limited error lines naming the
#     broker and the mechanism, not one per attempt.
#
#   kafka_security.sh EDDY WORDCOUNT
# Needs java (17+), openssl and kcat; scripts/install-deps.sh installs them.
. "$(dirname "$0")/../compat/lib.sh"
compat_init kafka_security "$1"
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
WC=$(abs "$2")
KAFKA_SH=$(cd "$(dirname "$0")/../.." && pwd)/scripts/kafka.sh
need awk sort timeout kcat java openssl
export LC_ALL=C
export KAFKA_HEAP=${KAFKA_HEAP:-384m}

kafka_workdir kafka-sec # the cluster outside $WORK, stopped by its PIDs at exit (lib.sh)

timeout 600 "$KAFKA_SH" fetch || fail "could not fetch Apache Kafka's jars (scripts/kafka.sh fetch)"
timeout 180 "$KAFKA_SH" start "$KC" 1 --security >"$WORK/listeners" ||
    fail "the Kafka cluster with security listeners did not start"
KB=$(cat "$KC/bootstrap")
for p in sasl_plaintext sasl_ssl; do
    [ -s "$KC/bootstrap.$p" ] || fail "kafka.sh start --security printed no ${p^^} listener: $(cat "$WORK/listeners")"
done
CA=$KC/certs/ca.pem
[ -s "$CA" ] || fail "no CA certificate in $KC/certs"
log "Kafka up: $(tr '\n' ' ' <"$WORK/listeners")"

bs_of() { cat "$KC/bootstrap.$(echo "$1" | tr 'A-Z' 'a-z')"; }
# E PROTO MECH USER PASSWORD ARGS...: eddy over a security listener, settings by -X
E() {
    local proto=$1 mech=$2 user=$3 pass=$4
    shift 4
    local tls=()
    [ "$proto" = SASL_SSL ] && tls=(-X "ssl.ca.location=$CA")
    timeout 30 "$EDDY" -b "$(bs_of "$proto")" -X "security.protocol=$proto" \
        -X "sasl.mechanism=$mech" -X "sasl.username=$user" -X "sasl.password=$pass" \
        ${tls[@]+"${tls[@]}"} "$@"
}
EP() { timeout 30 "$EDDY" -b "$KB" "$@"; } # the PLAINTEXT listener

# ------------------------------------ 0. the listeners, seen by librdkafka
# kcat logs in with PLAIN over both SASL listeners (its librdkafka 2.0.2
# cannot do SCRAM against Kafka 4: docs/client.md, "SASL"), and is refused
# with a wrong password: the harness's users and TLS are what they claim.
for proto in SASL_PLAINTEXT SASL_SSL; do
    kcat -b "$(bs_of "$proto")" -X "security.protocol=$proto" -X "ssl.ca.location=$CA" \
        -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=alice-secret -L -m 10 \
        >"$WORK/kcat" 2>&1 && grep -q "^ 1 brokers:" "$WORK/kcat" ||
        fail "kcat cannot log in with PLAIN over $proto: $(head -n 5 "$WORK/kcat")"
    ! kcat -b "$(bs_of "$proto")" -X "security.protocol=$proto" -X "ssl.ca.location=$CA" \
        -X sasl.mechanisms=PLAIN -X sasl.username=alice -X sasl.password=wrong -L -m 3 \
        >"$WORK/kcat" 2>&1 || fail "kcat logged in over $proto with a wrong password"
done
log "0. kcat: PLAIN over SASL_PLAINTEXT and SASL_SSL logs in, a wrong password does not"

# ------------------------------------------- 1. the CLI with each mechanism
seq 1 300 | sed 's/^/record /' >"$WORK/lines"
n=0
for proto in SASL_PLAINTEXT SASL_SSL; do
    for mech in PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
        n=$((n + 1))
        t=sec-$n
        E "$proto" "$mech" alice alice-secret topic create "$t" -p 2 >"$WORK/out" 2>&1 ||
            fail "$proto $mech: topic create failed: $(cat "$WORK/out")"
        # produce through a properties file, as Kafka's tools take
        # --command-config: librdkafka's names (sasl.mechanisms), or for
        # SCRAM-SHA-256 the Java client's file (sasl.jaas.config)
        {
            echo "security.protocol=$proto"
            if [ "$mech" = SCRAM-SHA-256 ]; then
                echo "sasl.mechanism=$mech"
                echo 'sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \'
                echo '    username="alice" password="alice-secret";'
            else
                echo "sasl.mechanisms=$mech"
                echo "sasl.username=alice"
                echo "sasl.password=alice-secret"
            fi
            [ "$proto" = SASL_SSL ] && echo "ssl.ca.location=$CA"
        } >"$WORK/client-$n.properties"
        timeout 30 "$EDDY" -b "$(bs_of "$proto")" --command-config "$WORK/client-$n.properties" \
            topic produce "$t" -p 0 <"$WORK/lines" >"$WORK/out" 2>&1 ||
            fail "$proto $mech: produce failed: $(cat "$WORK/out")"
        E "$proto" "$mech" alice alice-secret topic consume "$t" -o beginning -e >"$WORK/got" 2>"$WORK/err" ||
            fail "$proto $mech: consume failed: $(cat "$WORK/err")"
        cmp -s "$WORK/got" "$WORK/lines" ||
            fail "$proto $mech: consumed $(wc -l <"$WORK/got") lines, not the 300 produced"
        EP topic consume "$t" -o beginning -e >"$WORK/got" 2>"$WORK/err" ||
            fail "$proto $mech: reading $t over PLAINTEXT failed: $(cat "$WORK/err")"
        cmp -s "$WORK/got" "$WORK/lines" || fail "$proto $mech: Kafka does not hold the 300 records"
    done
done
# a group's commit over SCRAM: the second read starts after the first
E SASL_SSL SCRAM-SHA-256 admin admin-secret topic consume sec-4 -g g-sec -o beginning -n 100 >"$WORK/got" 2>&1 ||
    fail "group consume over SASL_SSL failed: $(cat "$WORK/got")"
E SASL_SSL SCRAM-SHA-256 admin admin-secret topic consume sec-4 -g g-sec -e >"$WORK/got2" 2>&1 ||
    fail "second group consume over SASL_SSL failed: $(cat "$WORK/got2")"
[ "$(cat "$WORK/got" "$WORK/got2" | cmp - "$WORK/lines" && echo same)" = same ] ||
    fail "a group's two reads over SASL_SSL are not the 300 records once each"
log "1. create/produce/consume over SASL_PLAINTEXT and SASL_SSL with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512: all records, in order, on Kafka"

# ----------------------------------------------- 2. refused logins, bad settings
refused() { # WHAT MUST_MATCH... (the command's stderr is in $WORK/err, status in $rc)
    local what=$1 m
    shift
    [ "$rc" = 1 ] || fail "$what: exit status $rc, expected 1 ($(cat "$WORK/err"))"
    for m in "$@"; do
        grep -q -- "$m" "$WORK/err" || fail "$what: the message lacks '$m': $(cat "$WORK/err")"
    done
}
for proto in SASL_PLAINTEXT SASL_SSL; do
    for mech in PLAIN SCRAM-SHA-512; do
        s=$SECONDS
        rc=0
        E "$proto" "$mech" alice wrong-secret topic produce sec-1 <"$WORK/lines" >/dev/null 2>"$WORK/err" || rc=$?
        # Kafka's own words: "Authentication failed: Invalid username or
        # password" (PLAIN), "... due to invalid credentials ..." (SCRAM)
        refused "$proto $mech wrong password" "$(bs_of "$proto")" "$mech" SASL_AUTHENTICATION_FAILED \
            "(Authentication failed"
        [ $((SECONDS - s)) -le 5 ] || fail "$proto $mech wrong password: took $((SECONDS - s)) s to fail"
    done
done
rc=0
E SASL_PLAINTEXT SCRAM-SHA-256 mallory whatever topic list >/dev/null 2>"$WORK/err" || rc=$?
refused "unknown user" "'mallory'" SCRAM-SHA-256 SASL_AUTHENTICATION_FAILED
# A listener that lacks the mechanism: Kafka names the ones it has.
rc=0
timeout 30 "$EDDY" -b "$(bs_of SASL_PLAINTEXT)" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanism=OAUTHBEARER -X sasl.username=alice -X sasl.password=x topic list \
    >/dev/null 2>"$WORK/err" || rc=$?
refused "sasl.mechanism OAUTHBEARER" "OAUTHBEARER" "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
rc=0
timeout 30 "$EDDY" -b "$(bs_of SASL_PLAINTEXT)" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.username=alice -X sasl.password=x topic list >/dev/null 2>"$WORK/err" || rc=$?
refused "no sasl.mechanism (Kafka's default GSSAPI)" "GSSAPI" "set sasl.mechanism"
rc=0
timeout 30 "$EDDY" -b "$(bs_of SASL_PLAINTEXT)" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanism=PLAIN -X sasl.username=alice topic list >/dev/null 2>"$WORK/err" || rc=$?
refused "no sasl.password" "sasl.password"
rc=0
timeout 30 "$EDDY" -b "$(bs_of SASL_PLAINTEXT)" -X security.protocol=SASL_PLAINTEXT \
    -X sasl.mechanism=PLAIN -X sasl.mechanisms=SCRAM-SHA-256 -X sasl.username=alice \
    -X sasl.password=alice-secret topic list >/dev/null 2>"$WORK/err" || rc=$?
refused "sasl.mechanism and sasl.mechanisms disagreeing" "sasl.mechanisms=SCRAM-SHA-256"
log "2. wrong password, unknown user, unknown mechanism: status 1 within seconds, naming broker, mechanism and Kafka's message; setting errors named"

# ------------------------------------------------- 3. word count over SASL_SSL
corpus() { # SEED LINES
    awk -v seed="$1" -v n="$2" 'BEGIN {
        srand(seed);
        split("the quick brown Fox jumps over lazy dog Kafka stream table join window count " \
              "eddy broker log segment index offset partition replica leader", v, " ");
        for (i = 0; i < n; i++) {
            line = "";
            k = 3 + int(rand() * 9);
            for (j = 0; j < k; j++)
                line = line (j ? " " : "") v[1 + int(rand() * rand() * 24)];
            print line ".";
        }
    }'
}
reference() {
    tr -c 'A-Za-z0-9' '\n' | tr 'A-Z' 'a-z' | awk 'NF { c[$1]++ } END { for (w in c) print w, c[w] }' | sort
}
S() { E SASL_SSL SCRAM-SHA-512 alice alice-secret "$@"; }
S topic create wc-lines -p 2 >/dev/null 2>&1 || fail "creating wc-lines over SASL_SSL failed"
S topic create wc-counts -p 2 >/dev/null 2>&1 || fail "creating wc-counts over SASL_SSL failed"
corpus 7 1500 >"$WORK/corpus"
reference <"$WORK/corpus" >"$WORK/ref"
S topic produce wc-lines <"$WORK/corpus" >/dev/null 2>"$WORK/err" || fail "producing the corpus: $(cat "$WORK/err")"
start_wc() { # NAME PASSWORD
    "$WC" --input wc-lines --output wc-counts -X "bootstrap.servers=$(bs_of SASL_SSL)" \
        -X security.protocol=SASL_SSL -X "ssl.ca.location=$CA" -X sasl.mechanism=SCRAM-SHA-512 \
        -X sasl.username=alice -X "sasl.password=$2" -X "application.id=wc-$1" \
        -X "state.dir=$WORK/state-$1" -X commit.interval.ms=300 >"$WORK/$1.log" 2>&1 </dev/null &
    local pid=$!
    COMPAT_BG_PIDS="$COMPAT_BG_PIDS $pid"
    eval "PID_$1=$pid"
}
start_wc ok alice-secret
for i in $(seq 1 60); do
    S topic consume wc-counts -o beginning -e -f '%k %v\n' --value-format int64 2>/dev/null |
        awk '{ c[$1] = $2 } END { for (w in c) print w, c[w] }' | sort >"$WORK/got"
    cmp -s "$WORK/got" "$WORK/ref" && break
    kill -0 "$PID_ok" 2>/dev/null || { tail -n 20 "$WORK/ok.log" >&2; fail "wordcount over SASL_SSL exited"; }
    sleep 1
done
cmp -s "$WORK/got" "$WORK/ref" || {
    diff "$WORK/ref" "$WORK/got" | head -n 10 >&2
    tail -n 20 "$WORK/ok.log" >&2
    fail "word counts over SASL_SSL are not the reference after 60 s"
}
kill -TERM "$PID_ok"
timeout 30 tail --pid="$PID_ok" -f /dev/null || fail "wordcount did not stop within 30 s of SIGTERM"
log "3. word count through SASL_SSL (SCRAM-SHA-512): counts equal the reference"

# ----------------------------------- 4. an app with a wrong password backs off
start_wc bad wrong-secret
sleep 8
kill -0 "$PID_bad" 2>/dev/null || { tail -n 20 "$WORK/bad.log" >&2; fail "wordcount with a wrong password exited instead of retrying"; }
kill -TERM "$PID_bad"
timeout 30 tail --pid="$PID_bad" -f /dev/null || fail "wordcount (wrong password) did not stop within 30 s of SIGTERM"
nauth=$(grep -c "SASL_AUTHENTICATION_FAILED" "$WORK/bad.log" || true)
grep -q "SCRAM-SHA-512" "$WORK/bad.log" && grep -q "$(bs_of SASL_SSL)" "$WORK/bad.log" ||
    { cat "$WORK/bad.log" >&2; fail "the app's log does not name the broker and the mechanism"; }
[ "$nauth" -ge 1 ] && [ "$nauth" -le 6 ] ||
    { head -n 20 "$WORK/bad.log" >&2; fail "the app logged $nauth authentication errors in 8 s (rate limit: a few)"; }
# The client counts its attempts in its lines: with reconnect.backoff.max.ms
# (1 s) between them, 8 s hold at most a dozen, not thousands.
attempts=$(sed -n 's/.*(\([0-9]*\) failed attempts* in a row).*/\1/p' "$WORK/bad.log" | sort -n | tail -n 1)
[ -n "$attempts" ] && [ "$attempts" -le 15 ] ||
    { head -n 20 "$WORK/bad.log" >&2; fail "the app made ${attempts:-no counted} login attempts in 8 s"; }
log "4. an app with a wrong password keeps retrying with backoff ($attempts attempts, $nauth rate-limited error lines in 8 s)"
log "all cases passed"
