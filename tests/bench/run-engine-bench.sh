#!/bin/sh
# run-engine-bench.sh: the engine throughput benchmark, as docs/performance.md
# quotes it.
#
# usage: tests/bench/run-engine-bench.sh [SECONDS [POLICY]]
#
# Builds a Release tree without sanitizers or fuzzing instrumentation (either
# would measure the instrumentation, not the engine) in build-bench/, converts
# the OLID tweets to JSON Lines there, and runs bench_engine on one pinned
# core.  Environment: BUILD_DIR (default build-bench), BENCH_CPU (the core,
# default the last one), COMMENTD_SHARED_DATA (default ../shared/data).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-10}
policy=${2:-$root/policies/default.yaml}
build=${BUILD_DIR:-$root/build-bench}
data=${COMMENTD_SHARED_DATA:-$root/../shared/data}
tsv=$data/olid/olid-training-v1.0.tsv
cpu=${BENCH_CPU:-$(($(nproc) - 1))}

if [ ! -f "$tsv" ]; then
	echo "run-engine-bench: $tsv not found (set COMMENTD_SHARED_DATA)" >&2
	exit 77
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCOMMENTD_SANITIZE=OFF -DCOMMENTD_FUZZ=OFF >/dev/null
cmake --build "$build" --target bench_engine -j "$(nproc)" >/dev/null
python3 "$root/tests/tools/olid_to_jsonl.py" "$tsv" "$build/olid.jsonl"

# The record docs/performance.md asks for: what ran, where and when.
echo "date        $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine     $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
    "$(nproc) cpus, $(uname -sr)"
cc=$(sed -n 's/^CMAKE_C_COMPILER:FILEPATH=//p' "$build/CMakeCache.txt")
echo "compiler    $("$cc" --version | head -n 1), CMake Release"
echo "commit      $(git -C "$root" describe --always --dirty 2>/dev/null ||
    echo none)"
echo "command     bench_engine -c $cpu -s $seconds -p $policy olid.jsonl"
exec "$build/tests/bench/bench_engine" -c "$cpu" -s "$seconds" \
    -p "$policy" "$build/olid.jsonl"
