#!/usr/bin/env bash
# @platformatic/kafka (pinned in package.json / package-lock.json) against a fresh Eddy
# broker: its Admin, Producer (default and idempotent, with compression) and a consumer
# group. See platformatic.js.
# usage: platformatic.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init platformatic "${1:?usage: platformatic.sh EDDY}"
need node npm timeout

# A fresh clone has no node_modules: install exactly what package-lock.json pins.
if [ ! -f "$COMPAT_DIR/node_modules/@platformatic/kafka/package.json" ]; then
    log "installing @platformatic/kafka (npm ci) in $COMPAT_DIR"
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi

start_broker "$WORK/data"
rc=0
(cd "$COMPAT_DIR" && timeout -k 5 140 node platformatic.js "$BOOTSTRAP") || rc=$?
[ $rc = 0 ] || fail "platformatic.js exited with status $rc (124: timed out)"
broker_alive
stop_broker
echo "compat_platformatic: ok ($(($(date +%s) - _T0)) s)"
