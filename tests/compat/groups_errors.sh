#!/usr/bin/env bash
# A consumer-group error a client can hit: librdkafka with session.timeout.ms=1000 (below
# group.min.session.timeout.ms, 6000) gets INVALID_SESSION_TIMEOUT from JoinGroup, which
# librdkafka hands the application as a consumer error event; meanwhile valid consumers in
# the same group and in another one join, consume every record, and are not rebalanced by
# the failing joins (groups_rdkafka badsession, see groups_rdkafka.c). The broker stays up
# and stops cleanly. (The raw error codes are in tests/integration/test_broker.c.)
# usage: groups_errors.sh path/to/eddy path/to/groups_rdkafka
# shellcheck source=tests/compat/groups_lib.sh
. "$(dirname "$0")/groups_lib.sh"
groups_init groups_errors "${1:?usage: groups_errors.sh EDDY GROUPS_RDKAFKA}" "${2:-}"

start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=0
rc=0
ASAN_OPTIONS=$GR_ASAN timeout -k 5 100 "$GR" badsession "$BOOTSTRAP" || rc=$?
[ $rc = 0 ] || fail "groups_rdkafka badsession exited with status $rc (124: timed out)"
grep -q 'group g-bad: generation 1 with 1 member(s)' "$BROKER_LOG" ||
    fail "group g-bad: expected one generation with the valid consumer alone"
broker_alive
stop_broker
echo "compat_groups_errors: ok ($(($(date +%s) - _T0)) s)"
