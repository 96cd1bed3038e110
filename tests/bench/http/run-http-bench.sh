#!/bin/bash
# run-http-bench.sh: the end-to-end benchmark, as docs/performance.md quotes
# it: wrk posting OLID comments to commentd's POST /v1/check over loopback
# TCP with keep-alive, beside a bare libevent evhttp server that answers a
# fixed verdict, in the same run.
#
# usage: tests/bench/http/run-http-bench.sh [SECONDS [CONNECTIONS]]
#
# Builds a Release tree without sanitizers or fuzzing instrumentation in
# build-bench/ (as run-engine-bench.sh does), converts the OLID tweets, and
# starts both servers pinned to one core, wrk pinned to the other.  Each
# server gets a 2 s warm-up, then CONNECTIONS connections (default 32) for
# SECONDS (default 10): the peak rate.  Then each gets 1, 2 and 4
# connections: wrk cannot hold a fixed rate, so these show the latency of a
# lightly loaded server instead of at half its peak.  commentd logs at
# warning: at info every decision is a log line, which is what a deployment
# pays, but not what this measures (BENCH_LOG_LEVEL=info measures that).
#
# Environment: BUILD_DIR (default build-bench), BENCH_SERVER_CPU (default
# the last core), BENCH_CLIENT_CPU (default core 0), BENCH_LOG_LEVEL
# (default warning), COMMENTD_SHARED_DATA (default ../shared/data).
# BENCH_PERF=N records N seconds of `perf record --call-graph dwarf` on
# commentd during its peak run, building with -g -fno-omit-frame-pointer in
# build-bench-perf/ (Debian's libevent and jansson have no frame pointers,
# hence DWARF unwinding); perf slows commentd, so that run's figures are not
# the benchmark's.
#
# Exits 77 when the corpus is absent, 1 when a server fails to start or
# stop cleanly or when any request failed; 0 otherwise, whatever the figures.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
seconds=${1:-10}
conns=${2:-32}
perf_seconds=${BENCH_PERF:-0}
if [ "$perf_seconds" -gt 0 ]; then
	build=${BUILD_DIR:-$root/build-bench-perf}
	cflags="-g -fno-omit-frame-pointer"
else
	build=${BUILD_DIR:-$root/build-bench}
	cflags=""
fi
data=${COMMENTD_SHARED_DATA:-$root/../shared/data}
tsv=$data/olid/olid-training-v1.0.tsv
server_cpu=${BENCH_SERVER_CPU:-$(($(nproc) - 1))}
client_cpu=${BENCH_CLIENT_CPU:-0}
log_level=${BENCH_LOG_LEVEL:-warning}
script=$root/tests/bench/http/post.lua

say() { echo "run-http-bench: $*" >&2; }

if [ ! -f "$tsv" ]; then
	say "$tsv not found (set COMMENTD_SHARED_DATA)"
	exit 77
fi
if [ "$server_cpu" = "$client_cpu" ]; then
	say "warning: servers and wrk share core $server_cpu; the figures" \
	    "measure both"
fi

if ! command -v wrk >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	say "installing wrk"
	apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get"
	$apt install -y wrk >/dev/null ||
	    { $apt update >/dev/null && $apt install -y wrk >/dev/null; }
fi
if [ "$perf_seconds" -gt 0 ] && ! command -v perf >/dev/null; then
	say "BENCH_PERF needs perf (apt-get install linux-perf)"
	exit 1
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="$cflags" -DCOMMENTD_SANITIZE=OFF \
    -DCOMMENTD_FUZZ=OFF >/dev/null
cmake --build "$build" --target commentd bare_evhttp -j "$(nproc)" >/dev/null
python3 "$root/tests/tools/olid_to_jsonl.py" "$tsv" "$build/olid.jsonl"

run=$build/http-bench
mkdir -p "$run"
chmod 700 "$run"

# Two loopback ports nobody listens on now.
read -r commentd_port bare_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

# The daemon as the benchmark runs it: sockets in the build tree, TCP on
# loopback without a token (allowed there only), the shipped policy, room
# for every connection wrk opens, and no Redis (redis.address none): this
# measures the daemon and its engine, so the policy's rate limits,
# duplicates and new-commenter rule are not enforced here.
max_connections=$((conns * 2 > 1024 ? conns * 2 : 1024))
cat >"$run/commentd.yaml" <<EOF
# Written by run-http-bench.sh for one run; edits are lost.
listen:
  submit: {path: $run/submit.sock}
  admin: {path: $run/admin.sock}
  tcp: {address: 127.0.0.1, port: $commentd_port, token_file: ""}
sites:
  list:
    example: {policy: $root/policies/default.yaml}
state_dir: $run
redis: {address: none}
log: {level: $log_level}
limits: {max_connections: $max_connections}
EOF
"$build/daemon/commentd" -t -c "$run/commentd.yaml" >/dev/null

commentd_pid=""
bare_pid=""
# Whatever happens, the servers this script started do not outlive it.
# shellcheck disable=SC2317  # called by the trap
cleanup() {
	for pid in $commentd_pid $bare_pid; do
		kill "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT

# Waits until something accepts on 127.0.0.1:$2, while process $1 lives.
wait_port() {
	local pid=$1 port=$2 name=$3 log=$4
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			say "$name exited at start:"
			cat "$log" >&2
			exit 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	say "$name does not listen on port $port after 10 s:"
	cat "$log" >&2
	exit 1
}

taskset -c "$server_cpu" "$build/daemon/commentd" -c "$run/commentd.yaml" \
    2>"$run/commentd.log" &
commentd_pid=$!
taskset -c "$server_cpu" "$build/tests/bench/http/bare_evhttp" "$bare_port" \
    2>"$run/bare.log" &
bare_pid=$!
wait_port "$commentd_pid" "$commentd_port" commentd "$run/commentd.log"
wait_port "$bare_pid" "$bare_port" bare_evhttp "$run/bare.log"

# The steal and total ticks of core $1 so far (/proc/stat): time the
# hypervisor gave to another machine is time neither server had.
core_ticks() {
	awk -v cpu="cpu$1" '$1 == cpu {
		t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat
}

# CPU seconds process $1 has used (user + system).
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' \
	    "/proc/$1/stat"
}

failed=0
results=$run/results
: >"$results"
rm -f "$run"/wrk-*.out

# One wrk run: name, pid, port, connections, seconds; appends a result line
# "name conns rps p50 p99 server_cpu% wrk_cpu% steal%" unless it is a
# warm-up.  steal% is the hypervisor's share of the servers' core.
measure() {
	local name=$1 pid=$2 port=$3 c=$4 s=$5 out=$run/wrk-$1-$4.out
	local before after ticks0 ticks1 t result
	before=$(cpu_seconds "$pid")
	ticks0=$(core_ticks "$server_cpu")
	TIMEFORMAT='%R %U %S'
	t=$( { time taskset -c "$client_cpu" wrk -t1 -c"$c" -d"${s}s" \
	    -s "$script" "http://127.0.0.1:$port" -- "$build/olid.jsonl" \
	    >"$out" 2>&1; } 2>&1 ) || { say "wrk failed:"; cat "$out" >&2;
	    failed=1; return; }
	ticks1=$(core_ticks "$server_cpu")
	after=$(cpu_seconds "$pid")
	[ "$name" = warmup ] && return
	result=$(sed -n 's/^result //p' "$out")
	if [ -z "$result" ]; then
		say "$name, $c connections: no result from wrk:"
		cat "$out" >&2
		failed=1
		return
	fi
	if ! echo "$result" | grep -q 'non2xx=0 errors=0'; then
		say "$name, $c connections: failed requests:"
		cat "$out" >&2
		failed=1
	fi
	# $3-$8 wrk's result, $9 $10 server cpu s, $11-$13 wrk wall user
	# sys, $14-$17 steal and total ticks of the core before and after.
	echo "$name $c $result $before $after $t $ticks0 $ticks1" | awk '{
		split($3, r, "="); split($4, p50, "="); split($5, p99, "=")
		printf "%s %s %s %s %s %.0f %.0f %.0f\n", $1, $2, r[2], p50[2],
		    p99[2], 100 * ($10 - $9) / $11, 100 * ($12 + $13) / $11,
		    100 * ($16 - $14) / ($17 - $15) }' >>"$results"
}

# The record docs/performance.md asks for: what ran, where and when.
echo "date        $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine     $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
    "$(nproc) cpus, $(uname -sr)"
echo "load        $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) before the run"
cc=$(sed -n 's/^CMAKE_C_COMPILER:FILEPATH=//p' "$build/CMakeCache.txt")
echo "compiler    $("$cc" --version | head -n 1), CMake Release${cflags:+ ($cflags)}"
echo "libevent    $(pkg-config --modversion libevent), wrk" \
    "$(wrk -v 2>&1 | head -n 1 | cut -d' ' -f2)"
echo "commit      $(git -C "$root" describe --always --dirty 2>/dev/null ||
    echo none)"
echo "command     wrk -t1 -c$conns -d${seconds}s -s post.lua URL --" \
    "olid.jsonl; servers on cpu $server_cpu, wrk on cpu $client_cpu;" \
    "commentd log level $log_level"

# The peak run of one server, under perf when BENCH_PERF asks for it.
peak() {
	local name=$1 pid=$2 port=$3 perf_pid
	measure warmup "$pid" "$port" "$conns" 2
	if [ "$perf_seconds" -eq 0 ]; then
		measure "$name" "$pid" "$port" "$conns" "$seconds"
		return
	fi
	# Starts a second into the run, so it sees the steady state only.
	(sleep 1; perf record --call-graph dwarf,32768 -F 999 \
	    -o "$run/perf-$name.data" -p "$pid" -- sleep "$perf_seconds" \
	    >/dev/null 2>"$run/perf-$name.log") &
	perf_pid=$!
	measure "$name" "$pid" "$port" "$conns" "$seconds"
	if wait "$perf_pid"; then
		echo "profile     $run/perf-$name.data"
	else
		say "perf record failed:"
		cat "$run/perf-$name.log" >&2
	fi
}

peak bare "$bare_pid" "$bare_port"
peak commentd "$commentd_pid" "$commentd_port"
for c in 1 2 4; do
	measure bare "$bare_pid" "$bare_port" "$c" "$seconds"
	measure commentd "$commentd_pid" "$commentd_port" "$c" "$seconds"
done

# Proof that commentd decided real comments, from its own counters.
python3 - "$commentd_port" <<'EOF'
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read()
counts = {}
for line in page.decode().splitlines():
    if line.startswith("commentd_decisions_total{"):
        decision = line.split('decision="')[1].split('"')[0]
        counts[decision] = counts.get(decision, 0) + int(float(line.split()[-1]))
print("decisions   " + ", ".join(f"{d} {n}" for d, n in sorted(counts.items())))
EOF

echo
printf '%-9s %5s %11s %8s %8s %11s %8s %6s\n' server conns requests/s \
    'p50 ms' 'p99 ms' 'server cpu' 'wrk cpu' steal
while read -r name c rps p50 p99 scpu wcpu steal; do
	printf '%-9s %5s %11s %8s %8s %10s%% %7s%% %5s%%\n' "$name" "$c" \
	    "$rps" "$p50" "$p99" "$scpu" "$wcpu" "$steal"
done <"$results"
awk -v c="$conns" '
	$2 == c { rps[$1] = $3 }
	# A server that idles at its peak was waiting for wrk, so the
	# figure measures wrk, not the server.
	$2 == c && $6 < 90 {
		printf "warning     %s used its core %d%% of the run at %d " \
		    "connections: wrk set the pace\n", $1, $6, c
	}
	# Steal is time the hypervisor gave another machine: a low figure.
	$8 >= 5 {
		printf "warning     %d%% steal on the servers\47 core during " \
		    "%s at %d connections: run again\n", $8, $1, $2
	}
	END {
		if (rps["bare"] == 0)
			exit
		ratio = rps["commentd"] / rps["bare"]
		printf "\nratio       commentd / bare at %d connections: %.2f " \
		    "(issue 3 target: at least 0.50, %s)\n", c, ratio,
		    (ratio >= 0.5 ? "met" : "not met")
		printf "result commentd_rps=%d bare_rps=%d ratio=%.3f\n",
		    rps["commentd"], rps["bare"], ratio
	}' "$results"

# Both servers stop cleanly on SIGTERM, or the run is not trusted.
stop() {
	local name=$1 pid=$2
	kill -TERM "$pid"
	if ! wait "$pid"; then
		say "$name did not exit cleanly; its log:"
		cat "$run/$name.log" >&2
		failed=1
	fi
}
stop commentd "$commentd_pid"
stop bare "$bare_pid"
commentd_pid=""
bare_pid=""
if grep -q 'commentd: \(warning\|error\)' "$run/commentd.log"; then
	say "commentd logged warnings during the run:"
	grep 'commentd: \(warning\|error\)' "$run/commentd.log" >&2
fi
exit "$failed"
