#!/usr/bin/env bash
# Builds the fuzzers (clang: libFuzzer + ASan + UBSan) if needed and runs
# them for a bounded time against scratch copies of their seed corpora, so
# the checked-in corpora never change behind anyone's back: fuzz_requests
# (the request decoders, corpus/requests), fuzz_conns (the broker's
# connection layer with real sockets, corpus/conns) and fuzz_tls (the TLS
# engine's handshakes and records, both roles, corpus/tls).
#
#   tests/fuzz/run.sh [seconds=60] [extra libFuzzer flags...]
#   EDDY_FUZZ_BUILD=dir   build directory (default: build-fuzz at the root)
#
# Exit status: 0 when the time ran out without a finding, nonzero on a
# crash, leak, timeout or UB; the input that caused it is kept in
# $EDDY_FUZZ_BUILD/fuzz-artifacts/ (replay: fuzz_requests <file>, fuzz_conns <file>, ...).
set -euo pipefail

secs=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EDDY_FUZZ_BUILD:-$root/build-fuzz}

if ! grep -q '^EDDY_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    CC=clang cmake -S "$root" -B "$build" -DEDDY_FUZZ=ON -DEDDY_TESTS=OFF -DEDDY_BENCH=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target fuzz_requests fuzz_conns fuzz_tls -j"$(nproc)" >/dev/null

# One target for its share of the time against a scratch copy of its seeds.
run_one() {
    local name=$1 seeds=$2 secs=$3
    local fuzzer=$build/bin/$name work rc
    work=$(mktemp -d)
    mkdir -p "$work/corpus" "$build/fuzz-artifacts"
    cp "$root"/tests/fuzz/corpus/"$seeds"/* "$work/corpus/"
    echo "$name: ${secs}s on $(ls "$work/corpus" | wc -l) seeds (log: $work/log while running)"
    set +e
    "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz-artifacts/$name-" "${extra[@]}" "$work/corpus" >"$work/log" 2>&1
    rc=$?
    set -e
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
    echo "$name: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$work/corpus" | wc -l) inputs, exit $rc"
    if [ "$rc" -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written|fuzz_conns:| in [A-Za-z_].* [^ ]+\.c:[0-9]+' \
            "$work/log" | head -40 >&2 || true
        echo "$name: FAILED; artifacts in $build/fuzz-artifacts/" >&2
    fi
    rm -rf "$work"
    return "$rc"
}

extra=("$@")
# The decoders get half of the time, the connection layer and the TLS engine a
# quarter each.
conn_secs=$((secs / 4 > 5 ? secs / 4 : 5))
rc=0
run_one fuzz_requests requests $((secs - 2 * (secs / 4))) || rc=$?
run_one fuzz_conns conns "$conn_secs" || rc=$?
run_one fuzz_tls tls "$conn_secs" || rc=$?
exit "$rc"
