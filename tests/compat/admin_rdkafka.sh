#!/usr/bin/env bash
# librdkafka's admin API and static consumers against one Eddy broker (admin_rdkafka.c):
#   groups   ListConsumerGroups sees Stable and Empty (with a state filter),
#            DescribeConsumerGroups gives a static member's group.instance.id;
#   fence    a second consumer with a group.instance.id in use fences the first one
#            (FENCED_INSTANCE_ID, fatal for it) and keeps the partitions;
#   grow     CreatePartitions 2 -> 4 (validate-only, shrink and a foreign broker refused),
#            the group takes the new partitions and reads records written to them;
#   offsets  DeleteConsumerGroupOffsets (OffsetDelete): refused for a live subscribed group,
#            done once it is empty;
# then the broker restarts: the grown topic still has 4 partitions and its records.
# usage: admin_rdkafka.sh path/to/eddy path/to/admin_rdkafka
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init admin_rdkafka "${1:?usage: admin_rdkafka.sh EDDY ADMIN_RDKAFKA}"
AR=${2:?usage: admin_rdkafka.sh EDDY ADMIN_RDKAFKA}
[ -x "$AR" ] || fail "$AR is not executable"
need timeout kcat
# librdkafka is not built with ASan: its leaks are not ours to report.
AR_ASAN=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

start_broker "$WORK/data" --set group.initial.rebalance.delay.ms=0
for mode in groups fence grow offsets; do
    ASAN_OPTIONS=$AR_ASAN timeout -k 5 150 "$AR" "$mode" "$BOOTSTRAP" >"$WORK/$mode.out" 2>"$WORK/$mode.err" ||
        fail "admin_rdkafka $mode: $(tail -n 15 "$WORK/$mode.err")"
    log "$(cat "$WORK/$mode.out")"
done
fenced=$(grep -c 'static member inst-f rejoined' "$BROKER_LOG" || true)
[ "$fenced" = 1 ] || fail "the static member took turns: $fenced 'rejoined' lines in the broker log"
broker_alive
stop_broker

start_broker "$WORK/data"
kc -L -t adm-grow >"$WORK/md.txt" 2>&1 || fail "kcat -L: $(cat "$WORK/md.txt")"
grep -q 'topic "adm-grow" with 4 partitions' "$WORK/md.txt" ||
    fail "after a restart: $(grep adm-grow "$WORK/md.txt")"
for p in 2 3; do
    n=$(kc -C -t adm-grow -p $p -o beginning -e -q 2>/dev/null | wc -l)
    [ "$n" = 20 ] || fail "after a restart partition $p has $n records, want 20"
done
stop_broker
echo "admin_rdkafka: ok ($(($(date +%s) - _T0)) s)"
