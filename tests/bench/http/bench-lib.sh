# shellcheck shell=bash
# bench-lib.sh: what the benchmarks that run the daemon share
# (run-http-bench.sh, reload/reload-under-load.sh,
# memory/memory-under-load.sh): their settings, the Release build and the
# corpus, a private redis-server and its pool of authors, commentd's
# configuration, starting and stopping with deadlines, and reading
# /proc/PID/status, /metrics and Redis's command statistics.
#
# Sourced, never run.  Every process it starts is recorded in bench_pids and
# killed by bench_cleanup (the caller's EXIT trap), so nothing outlives the
# benchmark; it never touches a Redis or a daemon it did not start, and every
# wait has a deadline.

bench_pids=""

bench_say() { echo "${bench_name:-bench}: $*" >&2; }

# Kills whatever the benchmark started and is still running.
# shellcheck disable=SC2317  # called by the trap
bench_cleanup() {
	local pid
	for pid in $bench_pids; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $bench_pids; do
		timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || true
	done
	bench_pids=""
}

# The settings every benchmark here reads from the environment, for the
# source tree $1: build (BUILD_DIR, default build-bench; kept when the
# caller set it), tsv (the OLID corpus under COMMENTD_SHARED_DATA),
# server_cpu and client_cpu (BENCH_SERVER_CPU, default the last core;
# BENCH_CLIENT_CPU, default 0) and authors (BENCH_AUTHORS, default
# 1,000,000).
# shellcheck disable=SC2034  # the callers read them
bench_env() {
	build=${build:-${BUILD_DIR:-$1/build-bench}}
	tsv=${COMMENTD_SHARED_DATA:-$1/../shared/data}/olid/olid-training-v1.0.tsv
	server_cpu=${BENCH_SERVER_CPU:-$(($(nproc) - 1))}
	client_cpu=${BENCH_CLIENT_CPU:-0}
	authors=${BENCH_AUTHORS:-1000000}
}

# Exits 2 unless every argument is a whole number above zero; $1 names
# them for the message.
bench_numbers() {
	local what=$1 n
	shift
	for n in "$@"; do
		case $n in '' | *[!0-9]* | 0)
			bench_say "$what are whole numbers above zero"
			exit 2 ;;
		esac
	done
}

# What a run needs before it starts: the corpus $1 (exit 77 without it, as
# a test that cannot run), redis-server when $2 is "redis", and wrk.
bench_require() {
	if [ ! -f "$1" ]; then
		bench_say "$1 not found (set COMMENTD_SHARED_DATA)"
		exit 77
	fi
	if [ "${2:-}" = redis ] && ! command -v redis-server >/dev/null; then
		bench_say "needs redis-server (apt-get install redis-server)"
		exit 1
	fi
	bench_need_wrk
}

# The record docs/performance.md asks for: when, where, at what load, and
# which commit of source tree $1.
bench_record() {
	echo "date        $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "machine     $(lscpu | sed -n 's/^Model name: *//p' | head -n 1)," \
	    "$(nproc) cpus, $(uname -sr)"
	echo "load        $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)" \
	    "before the run"
	echo "commit      $(git -C "$1" describe --always --dirty \
	    2>/dev/null || echo none)"
}

# Shows the warnings and errors commentd logged to $1, the first ten.
bench_log_warnings() {
	if grep -q 'commentd: \(warning\|error\)' "$1"; then
		bench_say "commentd logged warnings during the run (first 10):"
		grep 'commentd: \(warning\|error\)' "$1" | head >&2
	fi
}

# Installs wrk with apt-get when it is missing (with sudo when not root).
bench_need_wrk() {
	local sudo="" apt
	command -v wrk >/dev/null && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	bench_say "installing wrk"
	apt="$sudo env DEBIAN_FRONTEND=noninteractive apt-get"
	$apt install -y wrk >/dev/null ||
	    { $apt update >/dev/null && $apt install -y wrk >/dev/null; }
}

# Builds commentd and bare_evhttp in the Release tree $2 of source tree $1
# (extra C flags $3), and converts OLID ($4, the TSV) to $2/olid.jsonl.
bench_build() {
	local root=$1 build=$2 cflags=$3 tsv=$4
	cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_C_FLAGS="$cflags" -DCOMMENTD_SANITIZE=OFF \
	    -DCOMMENTD_FUZZ=OFF >/dev/null
	cmake --build "$build" --target commentd bare_evhttp \
	    -j "$(nproc)" >/dev/null
	python3 "$root/tests/tools/olid_to_jsonl.py" "$tsv" "$build/olid.jsonl"
}

# Prints $1 loopback ports nobody listens on now.
bench_free_ports() {
	python3 -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))' "$1"
}

# Waits until something accepts on 127.0.0.1:$2 while process $1 lives;
# $3 names it, $4 is its log, shown when it does not come up.
bench_wait_port() {
	local pid=$1 port=$2 name=$3 log=$4
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			bench_say "$name exited at start:"
			cat "$log" >&2
			return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	bench_say "$name does not listen on port $port after 10 s:"
	cat "$log" >&2
	return 1
}

# Starts redis-server in directory $1 on the Unix socket $1/redis.sock,
# pinned to core $2: no TCP port, no persistence (the benchmark's state is
# thrown away), no memory limit.  Sets bench_redis_pid; waits for PING.
bench_redis_start() {
	local dir=$1 cpu=$2
	rm -f "$dir/redis.sock"
	taskset -c "$cpu" redis-server --port 0 --unixsocket "$dir/redis.sock" \
	    --unixsocketperm 700 --dir "$dir" --save "" --appendonly no \
	    --daemonize no --logfile "$dir/redis.log" &
	bench_redis_pid=$!
	bench_pids="$bench_pids $bench_redis_pid"
	for _ in $(seq 100); do
		if [ "$(timeout 2 redis-cli -s "$dir/redis.sock" ping \
		    2>/dev/null)" = PONG ]; then
			return 0
		fi
		kill -0 "$bench_redis_pid" 2>/dev/null || break
		sleep 0.1
	done
	bench_say "redis-server did not answer PING within 10 s:"
	cat "$dir/redis.log" >&2
	return 1
}

# Gives authors a0 .. a($3 - 1) of site $2 one approved comment each, in
# the Redis at socket $1, as returning commenters of a real site have: the
# policy's new-commenter rule then holds none of them, and the benchmark
# measures the path most comments take.  redis-cli --pipe, 5 minutes at most.
bench_redis_seed() {
	local sock=$1 site=$2 n=$3 out
	out=$(python3 - "$site" "$n" <<'EOF' |
import sys
site, n = sys.argv[1], int(sys.argv[2])
w = sys.stdout.buffer
for i in range(n):
    key = b"commentd:{%s}:author:a%d" % (site.encode(), i)
    w.write(b"*4\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$8\r\napproved\r\n$1\r\n1\r\n"
            % (len(key), key))
EOF
	    timeout 300 redis-cli -s "$sock" --pipe 2>&1) || {
		bench_say "seeding $n authors failed: $out"
		return 1
	}
	if ! echo "$out" | grep -q "errors: 0, replies: $n"; then
		bench_say "seeding $n authors: $out"
		return 1
	fi
}

# Writes commentd's configuration $1 for a benchmark: sockets in directory
# $2, TCP on 127.0.0.1:$3 without a token (allowed on loopback only), one
# site "example" with policy $4, Redis at $5 (a socket path, or none), log
# level $6, room for $7 connections.  The limits are the defaults, written
# out so the scripts can quote the deadlines they check against.
bench_config() {
	local file=$1 dir=$2 port=$3 policy=$4 redis=$5 level=$6 conns=$7
	local address=none tmp
	[ "$redis" = none ] || address="unix:$redis"
	tmp=$(mktemp "$file.XXXXXX")
	cat >"$tmp" <<EOF
# Written by a benchmark under tests/bench/ for one run; edits are lost.
listen:
  submit: {path: $dir/submit.sock}
  admin: {path: $dir/admin.sock}
  tcp: {address: 127.0.0.1, port: $port, token_file: ""}
sites:
  list:
    example: {policy: $policy}
state_dir: $dir
redis: {address: "$address", command_timeout_ms: 250}
log: {level: $level}
limits: {max_connections: $conns, header_timeout_ms: 5000,
         body_timeout_ms: 10000}
EOF
	mv "$tmp" "$file"
}

# Starts commentd (binary $1) with configuration $2 on core $3, its log to
# $4, listening on TCP port $5; sets bench_daemon_pid and returns once
# /readyz says "ready" (Redis up, when configured), 30 s at most.  The
# environment may hold NOTIFY_SOCKET, which the daemon then tells.
bench_daemon_start() {
	local bin=$1 conf=$2 cpu=$3 log=$4 port=$5 ready=""
	taskset -c "$cpu" "$bin" -c "$conf" 2>"$log" &
	bench_daemon_pid=$!
	bench_pids="$bench_pids $bench_daemon_pid"
	bench_wait_port "$bench_daemon_pid" "$port" commentd "$log" || return 1
	for _ in $(seq 300); do
		ready=$(timeout 2 curl -s "http://127.0.0.1:$port/readyz" || true)
		case $ready in *'"status":"ready"'*) return 0 ;; esac
		sleep 0.1
	done
	bench_say "commentd is not ready after 30 s: $ready"
	cat "$log" >&2
	return 1
}

# Stops process $1 (named $2, log $3) with SIGTERM and waits, 30 s at most;
# returns 1 unless it exited with status 0.
bench_stop() {
	local pid=$1 name=$2 log=$3 rc=0
	kill -TERM "$pid" 2>/dev/null || true
	if ! timeout 30 tail --pid="$pid" -f /dev/null; then
		bench_say "$name did not stop within 30 s"
		kill -KILL "$pid" 2>/dev/null || true
		return 1
	fi
	wait "$pid" 2>/dev/null || rc=$?
	bench_pids=$(echo " $bench_pids " | sed "s/ $pid / /")
	if [ "$rc" -ne 0 ]; then
		bench_say "$name exited with status $rc; its log:"
		tail -n 20 "$log" >&2
		return 1
	fi
}

# Where Redis at socket $1 spent its time: its commands, most time first,
# with calls and microseconds a call (INFO commandstats, since it started).
bench_redis_cmdstats() {
	timeout 10 redis-cli -s "$1" info commandstats | tr -d '\r' | awk -F'[:,=]' '
		/^cmdstat_/ { sub("cmdstat_", "", $1); n++
			name[n] = $1; calls[n] = $3; usec[n] = $5; per[n] = $7 }
		END {
			for (i = 1; i <= n; i++)
				for (j = i + 1; j <= n; j++)
					if (usec[j] > usec[i]) {
						t = name[i]; name[i] = name[j]; name[j] = t
						t = calls[i]; calls[i] = calls[j]; calls[j] = t
						t = usec[i]; usec[i] = usec[j]; usec[j] = t
						t = per[i]; per[i] = per[j]; per[j] = t
					}
			line = "redis time "
			for (i = 1; i <= n && i <= 4; i++)
				line = line sprintf("%s%s %d calls, %.1f us a call",
				    i > 1 ? "; " : "", name[i], calls[i], per[i])
			print line
		}'
}

# VmRSS and VmHWM of process $1, in KiB.
bench_mem() {
	awk '$1 == "VmRSS:" { r = $2 } $1 == "VmHWM:" { h = $2 }
	    END { print r, h }' "/proc/$1/status"
}

# CPU seconds process $1 has used (user + system).
bench_cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' \
	    "/proc/$1/stat"
}

# What commentd's /metrics on port $1 says about the decisions: counts, and
# the share a rate limit refused, the duplicate or new-commenter rules held,
# and those decided without Redis, so no figure hides that most comments
# took a short cut.  With $2 = "raw", prints key=value pairs instead.
bench_metrics() {
	timeout 10 python3 - "$1" "${2:-}" <<'EOF'
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics",
                              timeout=5).read().decode()
dec, hits, other = {}, {}, {}
for line in page.splitlines():
    if line.startswith("#") or not line.strip():
        continue
    name, value = line.rsplit(" ", 1)
    value = int(float(value))
    if name.startswith("commentd_decisions_total{"):
        d = name.split('decision="')[1].split('"')[0]
        dec[d] = dec.get(d, 0) + value
    elif name.startswith("commentd_rule_hits_total{"):
        r = name.split('rule="')[1].split('"')[0]
        hits[r] = hits.get(r, 0) + value
    elif "{" not in name:
        other[name[len("commentd_"):]] = value
total = sum(dec.values())
groups = {
    "rate": sum(v for r, v in hits.items() if r.startswith("flood.")),
    "duplicate": sum(v for r, v in hits.items() if r.startswith("duplicates.")),
    "new_commenter": hits.get("new_commenters", 0),
}
keys = ["decisions_without_redis_total", "redis_timeouts_total",
        "redis_refused_total", "redis_failures_total", "spooled_total",
        "spool_refused_total", "queue_refused_total", "reloads_total",
        "reload_failures_total", "redis_commands_total"]
if sys.argv[2] == "raw":
    pairs = {"decisions": total, **{k: dec.get(k, 0) for k in
             ("accept", "queue", "reject")}, **groups,
             **{k: other.get(k, 0) for k in keys}}
    print(" ".join(f"{k}={v}" for k, v in pairs.items()))
    sys.exit(0)
def share(n):
    return f"{n} ({100 * n / total:.2f}%)" if total else str(n)
print("decisions   " + ", ".join(f"{d} {share(n)}" for d, n in sorted(dec.items())))
print("held by     rate limits " + share(groups["rate"]) + ", duplicates " +
      share(groups["duplicate"]) + ", new commenters " +
      share(groups["new_commenter"]) + " (rule hits)")
if "redis_commands_total" in other:
    print("redis       " + ", ".join(f"{k[:-6] if k.endswith('_total') else k} {other.get(k, 0)}"
                                    for k in keys[:7] + keys[9:]))
EOF
}
