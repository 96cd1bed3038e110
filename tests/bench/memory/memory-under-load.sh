#!/bin/bash
# memory-under-load.sh: issue 9's memory benchmark.  How much memory
# commentd holds with the shipped policy and with the large one (10,000
# terms, 1,000 regexes, tests/bench/make-large-policy.py), and whether
# anything grows without bound under a long load with Redis (rate limits,
# duplicates, the author record and the queue live).
#
# usage: tests/bench/memory/memory-under-load.sh [MINUTES [RATE]]
#
# 1. For each policy: start commentd, read VmRSS and VmHWM from
#    /proc/PID/status as soon as /readyz says ready, again after 10 s of
#    load, stop it.
# 2. Start commentd with the shipped policy and run wrk for MINUTES
#    (default 10) at about RATE comments a second (default 4,000: wrk's
#    connections each think 20 ms on average between requests, post.lua's
#    POST_THINK_MS; every request a new comment from a pool of
#    BENCH_AUTHORS authors, default 1,000,000, seeded as returning
#    commenters, so the rate limits, duplicates and queue see a normal
#    site's traffic).  Every 10 s a row: VmRSS, VmHWM, comments decided,
#    connections open, Redis's used memory.
# 3. The verdict: the mean VmRSS of the last minute's samples against the
#    first minute's.  More than 5% and 1 MiB above is growth.  The first
#    minute, not the idle daemon, is the baseline, because a loaded daemon
#    has buffers, allocator arenas and the Redis connection's pipeline the
#    idle one has not; what must not happen is that it keeps growing.
#
# Redis keeps the comments' state (24 h for seen ids and same-author
# duplicates), so its memory grows with the comments sent: about 1.3 KB a
# comment, 3 GB for the default run; it is shown, not judged.  commentd
# and Redis share one core, wrk the other.  Environment: BUILD_DIR
# (default build-bench), BENCH_SERVER_CPU, BENCH_CLIENT_CPU, BENCH_AUTHORS,
# COMMENTD_SHARED_DATA.  Exits 77 when the corpus is absent, 1 when memory
# grew or anything failed, 0 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck disable=SC2034  # bench-lib.sh's bench_say reads it
bench_name="memory-under-load"
# shellcheck source-path=SCRIPTDIR source=../http/bench-lib.sh
. "$root/tests/bench/http/bench-lib.sh"
minutes=${1:-10}
rate=${2:-4000}
think=20
sample_s=10
bench_env "$root"
bench_numbers "MINUTES, RATE and BENCH_AUTHORS" "$minutes" "$rate" "$authors"
if [ "$minutes" -lt 2 ]; then
	bench_say "MINUTES is at least 2: the verdict compares the first" \
	    "minute with the last"
	exit 2
fi
bench_require "$tsv" redis

bench_build "$root" "$build" "" "$tsv"
python3 "$root/tests/bench/make-large-policy.py" "$build/large" >/dev/null
default_policy=$root/policies/default.yaml
large_policy=$build/large/large.yaml
# Connections that, thinking $think ms on average, offer about $rate a second.
conns=$(((rate * think + 999) / 1000))

run=$build/memory-bench
rm -rf "$run"
mkdir -m 700 "$run"
mkdir -m 700 "$run/redis"
trap bench_cleanup EXIT
read -r port < <(bench_free_ports 1)
bench_redis_start "$run/redis" "$server_cpu" || exit 1
bench_redis_seed "$run/redis/redis.sock" example "$authors" || exit 1

failed=0
next_start=0

# Runs wrk against the daemon for $1 (a wrk duration) into $2, numbering
# the comments on from the last run, so no comment is sent twice.
load() {
	POST_THINK_MS=$think timeout $(($(echo "$1" | tr -d 'sm') * 60 + 120)) \
	    taskset -c "$client_cpu" wrk -t1 -c"$conns" -d"$1" --timeout 30s \
	    -s "$root/tests/bench/http/post.lua" "http://127.0.0.1:$port" -- \
	    "$build/olid.jsonl" "$authors" "$next_start" 1 >"$2" 2>&1
}

# Checks wrk's output $1: every request answered 2xx, no socket error; and
# moves the numbering on.
load_check() {
	local result
	result=$(sed -n 's/^result //p' "$1")
	next_start=$(echo "$result" | sed -n 's/.*next_start=\([0-9]*\).*/\1/p')
	next_start=${next_start:-0}
	if ! echo "$result" | grep -q 'non2xx=0 errors=0'; then
		bench_say "failed requests:"
		cat "$1" >&2
		failed=1
	fi
}

# Starts the daemon with policy $1; sets daemon_pid.
start_daemon() {
	bench_config "$run/commentd.yaml" "$run" "$port" "$1" \
	    "$run/redis/redis.sock" warning 1024
	bench_daemon_start "$build/daemon/commentd" "$run/commentd.yaml" \
	    "$server_cpu" "$run/commentd.log" "$port" || exit 1
	daemon_pid=$bench_daemon_pid
}

# KiB as MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

bench_record "$root"
echo "memory      $(free -m | awk '/^Mem:/ { print $2 }') MiB, $(free -m |
    awk '/^Mem:/ { print $7 }') MiB available"
echo "command     POST_THINK_MS=$think wrk -t1 -c$conns --timeout 30s -s" \
    "post.lua URL -- olid.jsonl $authors START 1; commentd and Redis on" \
    "cpu $server_cpu, wrk on cpu $client_cpu; log level warning"

echo
printf '%-14s %-18s %10s %10s\n' policy when 'VmRSS MiB' 'VmHWM MiB'
for policy in "$default_policy" "$large_policy"; do
	start_daemon "$policy"
	name=$(basename "$policy" .yaml)
	read -r rss hwm < <(bench_mem "$daemon_pid")
	printf '%-14s %-18s %10s %10s\n' "$name" ready "$(mib "$rss")" \
	    "$(mib "$hwm")"
	load 10s "$run/wrk-$name.out"
	load_check "$run/wrk-$name.out"
	read -r rss hwm < <(bench_mem "$daemon_pid")
	printf '%-14s %-18s %10s %10s  (%s)\n' "$name" 'after 10 s of load' \
	    "$(mib "$rss")" "$(mib "$hwm")" "$(sed -n \
	    's/^requests *\(.*\) requests\/s.*/\1 requests\/s/p' \
	    "$run/wrk-$name.out")"
	bench_stop "$daemon_pid" commentd "$run/commentd.log" || failed=1
done

# The long run.  Samples go to $run/samples: "seconds rss hwm decided
# connections redis_bytes".
start_daemon "$default_policy"
total=$((minutes * 60))
load "${minutes}m" "$run/wrk-long.out" &
wrk_pid=$!
bench_pids="$bench_pids $wrk_pid"
t0=$SECONDS
: >"$run/samples"
echo
printf '%8s %10s %10s %10s %12s %12s\n' seconds 'VmRSS MiB' 'VmHWM MiB' \
    decided connections 'Redis MiB'
next=0
while [ "$next" -le "$total" ]; do
	while [ $((SECONDS - t0)) -lt "$next" ]; do
		sleep 0.2
	done
	read -r rss hwm < <(bench_mem "$daemon_pid")
	read -r decided open < <(timeout 10 curl -s \
	    "http://127.0.0.1:$port/metrics" | awk '
		/^commentd_decisions_total\{/ { d += $NF }
		/^commentd_connections_open / { o = $NF }
		END { printf "%d %d\n", d, o }')
	redis_bytes=$(timeout 10 redis-cli -s "$run/redis/redis.sock" info \
	    memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
	echo "$next $rss $hwm $decided $open $redis_bytes" >>"$run/samples"
	printf '%8s %10s %10s %10s %12s %12s\n' "$next" "$(mib "$rss")" \
	    "$(mib "$hwm")" "$decided" "$open" \
	    "$(mib $((redis_bytes / 1024)))"
	next=$((next + sample_s))
done
wait "$wrk_pid" || { bench_say "wrk failed:"; cat "$run/wrk-long.out" >&2;
    failed=1; }
bench_pids=$(echo " $bench_pids " | sed "s/ $wrk_pid / /")
load_check "$run/wrk-long.out"

echo
sed -n 's/^\(requests\|latency\|errors\)/wrk \1/p' "$run/wrk-long.out"
bench_metrics "$port"

# First minute (the samples at 10 to 60 s: the one at 0 s is before the
# load) against the last (the final 60 s).
awk -v total="$total" '
	$1 >= 10 && $1 <= 60 { f += $2; nf++ }
	$1 >= total - 60 { l += $2; nl++ }
	END {
		first = f / nf; last = l / nl; grow = last - first
		pct = 100 * grow / first
		grew = grow > 1024 && pct > 5
		printf "\nverdict     VmRSS first minute %.1f MiB, last minute " \
		    "%.1f MiB: %+.1f MiB (%+.1f%%): %s\n", first / 1024,
		    last / 1024, grow / 1024, pct,
		    grew ? "GROWS" : "no growth"
		printf "result first_mib=%.1f last_mib=%.1f growth_pct=%.2f\n",
		    first / 1024, last / 1024, pct
		exit grew ? 1 : 0
	}' "$run/samples" || failed=1

bench_stop "$daemon_pid" commentd "$run/commentd.log" || failed=1
bench_log_warnings "$run/commentd.log"
exit "$failed"
