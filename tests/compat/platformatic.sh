#!/usr/bin/env bash
# @platformatic/kafka (pinned in package.json / package-lock.json) against a fresh Eddy
# broker: its Admin, Producer (default and idempotent, with compression) and a consumer
# group. See platformatic.js.
# With --produce-only (compat_platformatic_produce): the topic is created with `eddy topic
# create`, @platformatic/kafka's Admin reads it and its producers write, kcat reads back.
# usage: platformatic.sh path/to/eddy [--produce-only]
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
MODE=${2:-}
case "$MODE" in "" | --produce-only) ;; *) echo "usage: platformatic.sh EDDY [--produce-only]" >&2; exit 2 ;; esac
compat_init platformatic${MODE:+_produce} "${1:?usage: platformatic.sh EDDY [--produce-only]}"
need node npm timeout
[ -z "$MODE" ] || need kcat

# A fresh clone has no node_modules: install exactly what package-lock.json pins.
if [ ! -f "$COMPAT_DIR/node_modules/@platformatic/kafka/package.json" ]; then
    log "installing @platformatic/kafka (npm ci) in $COMPAT_DIR"
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi

start_broker "$WORK/data"
if [ -n "$MODE" ]; then
    timeout -k 5 30 "$EDDY" -b "$BOOTSTRAP" topic create pk-records -p 4 -c retention.ms=3600000 \
        >"$WORK/create.log" 2>&1 || fail "eddy topic create pk-records: $(cat "$WORK/create.log")"
fi
rc=0
(cd "$COMPAT_DIR" && timeout -k 5 140 node platformatic.js "$BOOTSTRAP" $MODE) || rc=$?
[ $rc = 0 ] || fail "platformatic.js exited with status $rc (124: timed out)"
broker_alive
stop_broker
echo "compat_platformatic${MODE:+_produce}: ok ($(($(date +%s) - _T0)) s)"
