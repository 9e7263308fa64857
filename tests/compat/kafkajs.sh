#!/usr/bin/env bash
# kafkajs (pinned in package.json / package-lock.json) against a fresh Eddy broker; records
# are read back with kcat. See kafkajs.test.js.
# usage: kafkajs.sh path/to/eddy
# shellcheck source=tests/compat/lib.sh
. "$(dirname "$0")/lib.sh"
compat_init kafkajs "${1:?usage: kafkajs.sh EDDY}"
need node npm kcat timeout

# A fresh clone has no node_modules: install exactly what package-lock.json pins.
if [ ! -f "$COMPAT_DIR/node_modules/kafkajs/package.json" ]; then
    log "installing kafkajs (npm ci) in $COMPAT_DIR"
    (cd "$COMPAT_DIR" && timeout -k 5 180 npm ci --no-audit --no-fund) > "$WORK/npm.log" 2>&1 ||
        fail "npm ci in $COMPAT_DIR failed: $(tail -n 20 "$WORK/npm.log")"
fi

start_broker "$WORK/data" --set num.partitions=3
rc=0
(cd "$COMPAT_DIR" && timeout -k 5 170 node kafkajs.test.js "$BOOTSTRAP") || rc=$?
[ $rc = 0 ] || fail "kafkajs.test.js exited with status $rc (124: timed out)"
broker_alive
stop_broker
echo "compat_kafkajs: ok ($(($(date +%s) - _T0)) s)"
