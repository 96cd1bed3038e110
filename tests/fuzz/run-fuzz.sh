#!/bin/sh
# run-fuzz.sh: runs one libFuzzer target for a while on a copy of its seeds.
#
# usage: run-fuzz.sh FUZZER SEED_DIR SECONDS [DICT] [-- EXTRA_SEED_FILE...]
#
# libFuzzer adds every new interesting input to the first corpus directory it
# is given, so the checked-in seeds are copied to a scratch directory first:
# a test run must never change the tree.  Exits non-zero on any crash, leak,
# timeout, out-of-memory or sanitizer report (libFuzzer's own exit status),
# and then keeps the scratch directory with the reproducer in it.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 FUZZER SEED_DIR SECONDS [DICT] [-- EXTRA_SEED_FILE...]" >&2
	exit 2
fi
fuzzer=$1 seeds=$2 seconds=$3
shift 3
dict=
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
	dict=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

work=$(mktemp -d "${TMPDIR:-/tmp}/commentd-fuzz.XXXXXX") || exit 2
mkdir "$work/corpus" "$work/artifacts" || exit 2
cp "$seeds"/* "$work/corpus/" 2>/dev/null
for f in "$@"; do
	[ -f "$f" ] && cp "$f" "$work/corpus/"
done

# -timeout: one input may not take 10 s; -rss_limit_mb: nor 2 GiB.  Both are
# failures: a comment or policy that hangs or bloats the engine is a bug.
set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/"
[ -n "$dict" ] && set -- "$@" -dict="$dict"

"$fuzzer" "$@" "$work/corpus"
rc=$?
if [ $rc -ne 0 ]; then
	echo "run-fuzz: $fuzzer failed (exit $rc); reproducer in $work/artifacts:" >&2
	ls -l "$work/artifacts" >&2
	echo "run-fuzz: reproduce with: $fuzzer $work/artifacts/<file>" >&2
	exit 1
fi
rm -rf "$work"
exit 0
