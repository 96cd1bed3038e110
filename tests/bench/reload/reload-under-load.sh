#!/bin/bash
# reload-under-load.sh: issue 9's reload benchmark.  wrk posts new comments
# to commentd (with a Redis of its own: rate limits, duplicates, the author
# record and the queue live) while the policy is reloaded again and again,
# alternating the shipped policy and the large one (10,000 terms, 1,000
# regexes, tests/bench/make-large-policy.py), so that every reload really
# changes the rules, and alternating SIGHUP and POST /v1/admin/reload.
#
# usage: tests/bench/reload/reload-under-load.sh [SECONDS [CONNECTIONS [INTERVAL]]]
#
# SECONDS of load (default 60) over CONNECTIONS keep-alive connections
# (default 16), a reload every INTERVAL seconds (default 2).  INTERVAL 0
# reloads nothing: a control run, with the policy BENCH_POLICY names
# (default or large), for the latency the same load has without reloads.
# Reports:
# - each reload's duration, from the daemon's own systemd notifications:
#   it sends RELOADING=1 with MONOTONIC_USEC (the clock read as the reload
#   starts) and READY=1 when it is done; a listener on NOTIFY_SOCKET stamps
#   READY=1 with the same clock (CLOCK_MONOTONIC) as it arrives;
# - that each reload succeeded and that /readyz then names the policy just
#   written;
# - wrk's non-2xx answers and socket errors (must be 0), and its slowest
#   request against the daemon's deadlines (limits.header_timeout_ms, 5 s,
#   the deadline of a request's headers, and redis.command_timeout_ms,
#   250 ms, past which a Redis command is given up);
# - from /metrics, reloads and failed reloads, Redis commands past their
#   deadline, decisions made without Redis and comments spooled.
#
# The daemon and Redis share one core, wrk the other, as in
# run-http-bench.sh.  Environment: BUILD_DIR (default build-bench),
# BENCH_SERVER_CPU, BENCH_CLIENT_CPU, BENCH_AUTHORS (default 1,000,000),
# COMMENTD_SHARED_DATA.  Exits 77 when the corpus is absent, 1 when a
# target is missed or anything failed, 0 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck disable=SC2034  # bench-lib.sh's bench_say reads it
bench_name="reload-under-load"
# shellcheck source-path=SCRIPTDIR source=../http/bench-lib.sh
. "$root/tests/bench/http/bench-lib.sh"
seconds=${1:-60}
conns=${2:-16}
interval=${3:-2}
bench_env "$root"
bench_numbers "SECONDS, CONNECTIONS and BENCH_AUTHORS" "$seconds" "$conns" \
    "$authors"
case $interval in '' | *[!0-9]*)
	bench_say "INTERVAL is a whole number of seconds (0: no reloads)"
	exit 2 ;;
esac
case ${BENCH_POLICY:=default} in default | large) ;; *)
	bench_say "BENCH_POLICY is default or large"
	exit 2 ;;
esac
bench_require "$tsv" redis

bench_build "$root" "$build" "" "$tsv"
python3 "$root/tests/bench/make-large-policy.py" "$build/large" >/dev/null
default_policy=$root/policies/default.yaml
large_policy=$build/large/large.yaml

run=$build/reload-bench
rm -rf "$run"
mkdir -m 700 "$run"
mkdir -m 700 "$run/redis"
trap bench_cleanup EXIT
read -r port < <(bench_free_ports 1)

# The systemd notification listener: one line per datagram, "MONO_US
# MESSAGE" with newlines in MESSAGE made spaces, MONO_US when it arrived.
python3 - "$run/notify.sock" "$run/notify.log" "$((seconds + 300))" <<'EOF' &
import os, socket, sys, time
path, log, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(1.0)
end = time.monotonic() + limit
with open(log, "a", buffering=1) as out:
    while time.monotonic() < end:
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        now = time.monotonic_ns() // 1000
        out.write("%d %s\n" % (now, msg.decode(errors="replace").replace("\n", " ")))
EOF
notify_pid=$!
bench_pids="$bench_pids $notify_pid"
for _ in $(seq 50); do
	[ -S "$run/notify.sock" ] && break
	sleep 0.1
done
[ -S "$run/notify.sock" ] || { bench_say "notify listener did not start"; exit 1; }

bench_redis_start "$run/redis" "$server_cpu" || exit 1
bench_redis_seed "$run/redis/redis.sock" example "$authors" || exit 1

# Writes the configuration with policy $1, as an operator would: a new
# file renamed over the old one.
write_config() {
	bench_config "$run/commentd.yaml" "$run" "$port" "$1" \
	    "$run/redis/redis.sock" warning 1024
}

# Both policies must load before anything is timed.
for policy in "$large_policy" "$default_policy"; do
	write_config "$policy"
	"$build/daemon/commentd" -t -c "$run/commentd.yaml" >/dev/null
done
[ "$BENCH_POLICY" = default ] || write_config "$large_policy"
NOTIFY_SOCKET=$run/notify.sock bench_daemon_start "$build/daemon/commentd" \
    "$run/commentd.yaml" "$server_cpu" "$run/commentd.log" "$port" || exit 1
daemon_pid=$bench_daemon_pid

# Lines in the notification log that say $1.
notify_count() {
	grep -c -- "$1" "$run/notify.log" || true
}

# Waits until the daemon has sent $1 READY=1 notifications, 60 s at most.
wait_ready() {
	for _ in $(seq 600); do
		[ "$(notify_count 'READY=1')" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# The policy /readyz names for the site now.
serving_policy() {
	timeout 10 curl -s "http://127.0.0.1:$port/readyz" |
	    sed -n 's/.*"policy":"\([^"]*\)".*/\1/p'
}

bench_record "$root"
echo "command     wrk -t1 -c$conns -d${seconds}s --timeout 30s -s post.lua" \
    "URL -- olid.jsonl $authors 0 1;" \
    "$([ "$interval" -gt 0 ] && echo "a reload every ${interval} s;" ||
    echo "no reload (a control run);")" \
    "commentd and Redis on cpu $server_cpu, wrk on cpu $client_cpu"
echo "policies    $(serving_policy) ($default_policy) and" \
    "bench-large ($large_policy)"

timeout $((seconds + 60)) taskset -c "$client_cpu" wrk -t1 -c"$conns" \
    -d"${seconds}s" --timeout 30s -s "$root/tests/bench/http/post.lua" \
    "http://127.0.0.1:$port" -- "$build/olid.jsonl" "$authors" 0 1 \
    >"$run/wrk.out" 2>&1 &
wrk_pid=$!
bench_pids="$bench_pids $wrk_pid"
sleep 2

# Reloads until the load is nearly over: the large policy, then the
# default, and so on; SIGHUP and the admin route in the pattern S A A S,
# so each kind loads each policy.  One line per reload in $run/reloads:
# "n kind policy outcome serving".
failed=0
: >"$run/reloads"
end=$((SECONDS + seconds - 2 - interval))
i=0
while [ "$interval" -gt 0 ] && [ "$SECONDS" -lt "$end" ] &&
    kill -0 "$wrk_pid" 2>/dev/null; do
	if [ $((i % 2)) -eq 0 ]; then
		policy=$large_policy want=bench-large
	else
		policy=$default_policy want=news-default
	fi
	write_config "$policy"
	ready=$(notify_count 'READY=1')
	if [ $(((i + i / 2) % 2)) -eq 0 ]; then
		kind=SIGHUP
		kill -HUP "$daemon_pid"
		outcome=ok
		wait_ready $((ready + 1)) || outcome=no-READY
	else
		kind="admin"
		code=$(timeout 60 curl -s -o "$run/admin.out" -w '%{http_code}' \
		    --unix-socket "$run/admin.sock" -X POST \
		    http://localhost/v1/admin/reload || echo fail)
		outcome=ok
		[ "$code" = 200 ] || outcome="HTTP-$code"
		wait_ready $((ready + 1)) || outcome="$outcome,no-READY"
	fi
	serving=$(serving_policy)
	[ "$serving" = "$want" ] || outcome="$outcome,serving-$serving"
	[ "$outcome" = ok ] || failed=1
	echo "$i $kind $want $outcome $serving" >>"$run/reloads"
	i=$((i + 1))
	sleep "$interval"
done
wait "$wrk_pid" || { bench_say "wrk failed:"; cat "$run/wrk.out" >&2; exit 1; }
bench_pids=$(echo " $bench_pids " | sed "s/ $wrk_pid / /")

# Each reload's duration: from RELOADING=1's MONOTONIC_USEC to the arrival
# of the READY=1 after it, paired with the reloads in order.
awk '
	/RELOADING=1/ { for (f = 2; f <= NF; f++)
		if ($f ~ /^MONOTONIC_USEC=/) { split($f, a, "="); start = a[2] } }
	/READY=1/ && start != "" { printf "%.1f\n", ($1 - start) / 1000; start = "" }
' "$run/notify.log" >"$run/durations"

if [ "$i" -gt 0 ]; then
	echo
	printf '%-7s %-7s %-13s %12s  %s\n' reload kind policy 'duration ms' \
	    outcome
	paste -d' ' "$run/reloads" "$run/durations" | while read -r n kind \
	    want outcome serving ms; do
		printf '%-7s %-7s %-13s %12s  %s\n' "$n" "$kind" "$want" \
		    "${ms:--}" "$outcome"
	done
fi

echo
sed -n 's/^\(requests\|latency\|errors\)/wrk \1/p' "$run/wrk.out"
bench_metrics "$port"
metrics=$(bench_metrics "$port" raw)
echo
result=$(sed -n 's/^result //p' "$run/wrk.out")
paste -d' ' "$run/reloads" "$run/durations" | awk \
    -v result="$result" -v metrics="$metrics" -v n="$i" '
	{ ms = $6 + 0; if (ms > max[$3]) max[$3] = ms; sum[$3] += ms;
	  cnt[$3]++; if ($4 != "ok") bad++ }
	END {
		split(result " " metrics, kv, " ")
		for (k in kv) { split(kv[k], p, "="); v[p[1]] = p[2] }
		for (pol in max)
			printf "%-11s %d reloads to %s: mean %.1f ms, max %.1f " \
			    "ms\n", "reloads", cnt[pol], pol, sum[pol] / cnt[pol],
			    max[pol]
		# INTERVAL 0, a control run: no reload to time.
		load_ok = n == 0 || cnt["bench-large"] > 0 && \
		    max["bench-large"] < 1000
		fails = v["non2xx"] + v["errors"] + bad + \
		    v["reload_failures_total"]
		late = v["max_ms"] >= 5000
		if (n > 0)
			printf "target      loading the large policy under " \
			    "1 s: %s\n", load_ok ? "met" : "not met"
		printf "target      no request failed: non-2xx %d, socket " \
		    "errors %d, failed reloads %d (%d in /metrics): %s\n",
		    v["non2xx"], v["errors"], bad, v["reload_failures_total"],
		    fails == 0 ? "met" : "not met"
		printf "target      slowest request %.1f ms against the " \
		    "5,000 ms header deadline: %s; %s Redis\47s 250 ms " \
		    "command deadline (%d commands past it, %d decisions " \
		    "without Redis)\n", v["max_ms"], late ? "not met" : "met",
		    v["max_ms"] < 250 ? "under" : "over",
		    v["redis_timeouts_total"],
		    v["decisions_without_redis_total"]
		if (v["reloads_total"] != n)
			printf "warning     /metrics counts %d reloads, the " \
			    "script made %d\n", v["reloads_total"], n
		printf "result reloads=%d large_max_ms=%.1f default_max_ms=" \
		    "%.1f non2xx=%d errors=%d max_ms=%.1f\n", n,
		    max["bench-large"], max["news-default"], v["non2xx"],
		    v["errors"], v["max_ms"]
		exit (load_ok && fails == 0 && !late) ? 0 : 1
	}' || failed=1

bench_stop "$daemon_pid" commentd "$run/commentd.log" || failed=1
bench_log_warnings "$run/commentd.log"
exit "$failed"
