#!/bin/sh
# Runs the integration suite with every commentd it starts under valgrind
# (memcheck): zero errors and zero leaks expected.
#
#   tests/integration/run-valgrind.sh [BUILD_DIR] [PYTEST_ARGS...]
#
# BUILD_DIR (default build-valgrind) gets a build without sanitizers, which
# cannot share a process with valgrind.  PYTEST_ARGS narrow the run
# (default: every test_*.py).  Each commentd writes its own report,
# BUILD_DIR/valgrind/vg.PID.log; at the end every report is read and the
# script exits 1 if any holds an error or a leak, 2 if valgrind is clean
# but a test failed (tests that measure time can fail under valgrind's
# slowdown without a memory error), 0 otherwise.
#
# Under valgrind PCRE2's JIT runs tens of times slower, so the vetting of
# regex rules at load would refuse ordinary rules as too slow for their
# regex_rule_budget_us (docs/policy.md), and comments would run past their
# time_budget_us.  The daemon is not changed for that: the suite runs
# against a mirror of the source tree (BUILD_DIR/valgrind-source, links to
# every file) in which each policy's limits raise those two budgets to
# their maxima.  The other limits, and every other byte, are the source's.
#
# PCRE2's JIT compares whole words, past the end of a subject it was given,
# and ignores the bytes that are not the subject's; memcheck cannot know
# that and reports a "conditional jump on uninitialised value" from the
# JIT's code, which has no object file.  Those reports, and only those
# (the top frame in code of no object), are suppressed.  Invalid reads are
# not suppressed.
#
# commentctl is built too: its tests drive a daemon under valgrind with it;
# commentctl itself runs as it is.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-valgrind}
[ $# -gt 0 ] && shift
mkdir -p "$build"
build=$(cd "$build" && pwd)
logs=$build/valgrind
pytest=/usr/bin/pytest-3
[ -x "$pytest" ] || pytest="pytest-3"

cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCOMMENTD_SANITIZE=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target commentd commentctl \
    >/dev/null

rm -rf "$logs"
mkdir -p "$logs"

# The mirror: links to the source's files, the policies copied with the
# two budgets raised (added to a policy's limits unless it sets them).
mirror=$build/valgrind-source
rm -rf "$mirror"
mkdir -p "$mirror"
for e in "$src"/* "$src"/.[!.]*; do
	case ${e##*/} in build*|.git|'.[!.]*') continue ;; esac
	cp -rs "$e" "$mirror/"
done
for f in "$mirror"/policies/*.yaml "$mirror"/tests/integration/data/*.yaml; do
	grep -q '^policy:' "$f" || continue
	real=$(readlink "$f")
	rm "$f"
	sed -e '/^limits: {/{
/regex_rule_budget_us:/!s/^limits: {/limits: {regex_rule_budget_us: 1000000, /
/time_budget_us:/!s/^limits: {/limits: {time_budget_us: 10000000, /
}' "$real" >"$f"
	grep -q '^limits:' "$f" || printf 'limits: {regex_rule_budget_us: 1000000, time_budget_us: 10000000}\n' >>"$f"
done
cat >"$logs/pcre2-jit.supp" <<'EOF'
{
   pcre2-jit-reads-whole-words
   Memcheck:Cond
   obj:???
}
EOF

# Leaks of every kind but "still reachable" are errors, and any error makes
# commentd exit 99, which the fixtures fail as a non-zero exit.
COMMENTD_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 \
--leak-check=full --show-leak-kinds=definite,indirect,possible \
--errors-for-leak-kinds=definite,indirect,possible \
--suppressions=$logs/pcre2-jit.supp --log-file=$logs/vg.%p.log"
COMMENTD_WAIT_SCALE=${COMMENTD_WAIT_SCALE:-10}
export COMMENTD_WRAPPER COMMENTD_WAIT_SCALE
export COMMENTD_BIN="$build/daemon/commentd" COMMENTD_SOURCE="$mirror"
export COMMENTD_SHARED_DATA="${COMMENTD_SHARED_DATA:-$src/../shared/data}"

cd "$src/tests/integration"
if [ $# -eq 0 ]; then
	set -- test_*.py
fi
status=0
"$pytest" -q -rfE -p no:cacheprovider "$@" || status=2

runs=0
bad=0
for f in "$logs"/vg.*.log; do
	[ -e "$f" ] || continue
	runs=$((runs + 1))
	if ! grep -q "ERROR SUMMARY: 0 errors" "$f"; then
		bad=$((bad + 1))
		echo "valgrind: $f:"
		grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|Invalid|uninitialised" "$f" | head -20
	fi
done
suppressed=$(cat "$logs"/vg.*.log 2>/dev/null | sed -n 's/.*suppressed: \([0-9]*\) from.*/\1/p' |
    awk '{ n += $1 } END { print n + 0 }')
echo "valgrind: $runs commentd runs, $bad with errors or leaks," \
    "$suppressed JIT reports suppressed; reports in $logs"
[ "$runs" -gt 0 ] || { echo "valgrind: no commentd ran under valgrind" >&2; exit 1; }
[ "$bad" -eq 0 ] || exit 1
exit $status
