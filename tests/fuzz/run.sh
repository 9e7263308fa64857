#!/usr/bin/env bash
# Builds the request fuzzer (clang: libFuzzer + ASan + UBSan) if needed and
# runs it for a bounded time against a scratch copy of the seed corpus, so
# the checked-in corpus never changes behind anyone's back.
#
#   tests/fuzz/run.sh [seconds=60] [extra libFuzzer flags...]
#   EDDY_FUZZ_BUILD=dir   build directory (default: build-fuzz at the root)
#
# Exit status: 0 when the time ran out without a finding, nonzero on a
# crash, leak, timeout or UB; the input that caused it is kept in
# $EDDY_FUZZ_BUILD/fuzz-artifacts/ (replay: fuzz_requests <file>).
set -euo pipefail

secs=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${EDDY_FUZZ_BUILD:-$root/build-fuzz}

if ! grep -q '^EDDY_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    CC=clang cmake -S "$root" -B "$build" -DEDDY_FUZZ=ON -DEDDY_TESTS=OFF -DEDDY_BENCH=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target fuzz_requests -j"$(nproc)" >/dev/null
fuzzer=$build/bin/fuzz_requests

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$build/fuzz-artifacts"
cp "$root"/tests/fuzz/corpus/requests/* "$work/corpus/"

echo "fuzz_requests: ${secs}s on $(ls "$work/corpus" | wc -l) seeds (log: $work/log while running)"
set +e
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/" "$@" "$work/corpus" >"$work/log" 2>&1
rc=$?
set -e

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
echo "fuzz_requests: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$work/corpus" | wc -l) inputs, exit $rc"
if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written| in [A-Za-z_].* [^ ]+\.c:[0-9]+' \
        "$work/log" | head -40 >&2 || true
    echo "fuzz_requests: FAILED; artifacts in $build/fuzz-artifacts/" >&2
fi
exit "$rc"
