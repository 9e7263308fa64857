#!/usr/bin/env bash
# librdkafka (rdkafka_test.c) against a fresh Eddy broker with 4 partitions per topic:
# acks 1/all/0, keyed partitioning, 1,000,000 records, timestamps, admin API.
# usage: rdkafka.sh path/to/eddy path/to/rdkafka_test
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init rdkafka "${1:?usage: rdkafka.sh EDDY RDKAFKA_TEST}"
PROG=${2:?usage: rdkafka.sh EDDY RDKAFKA_TEST}
[ -x "$PROG" ] || fail "$PROG is not executable"
need timeout

start_broker "$WORK/data" --set num.partitions=4
# librdkafka is not built with ASan: its leaks are not ours to report.
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    timeout -k 5 200 "$PROG" "$BOOTSTRAP" all || rc=$?
[ $rc = 0 ] || fail "rdkafka_test exited with status $rc (124: timed out)"
broker_alive
stop_broker
echo "compat_rdkafka: ok ($(($(date +%s) - _T0)) s)"
