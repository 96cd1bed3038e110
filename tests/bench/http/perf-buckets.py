#!/usr/bin/env python3
"""Where a server's time goes, from a `perf record --call-graph dwarf` file.

Usage: perf-buckets.py PERF.DATA

run-http-bench.sh (with BENCH_PERF=N) records commentd and the bare evhttp
server under the same load; this sorts every sample into one bucket, so the
two profiles can be compared line by line: the engine, decoding the request,
building and encoding the verdict, the socket calls and libevent.  A sample
goes to the bucket of the frame nearest its leaf that names one, so a
malloc() inside json_loadb() counts as decoding and the kernel's TCP work
under writev() counts as the socket write, whoever called it.  Then, across
buckets, the share of samples whose leaf is in the kernel, in jansson and in
malloc/free.  Standard library only; needs perf.
"""

import collections
import re
import subprocess
import sys

# (pattern on a frame's symbol, bucket), tried from the leaf up.
BUCKETS = [
    (r"^eval_comment$", "engine: eval_comment"),
    (r"^request_parse$", "decode: request_parse (scan, json_loadb)"),
    (r"^verdict_json$", "verdict: build the json_t tree"),
    (r"^json_dumps$", "verdict: json_dumps"),
    (r"^log_", "log"),
    (r"^metrics_", "metrics"),
    (r"^conns?_", "conn.c: limits and deadlines"),
    (r"__writev$", "socket write: writev, kernel TCP and loopback delivery"),
    (r"__readv$|^(__libc_)?read$", "socket read"),
    (r"epoll_ctl", "epoll_ctl"),
    (r"epoll_wait", "epoll_wait"),
    (r"^(evhttp_|evbuffer_|bufferevent_|event_)", "libevent: evhttp, buffers, events"),
]
BUCKETS = [(re.compile(p), name) for p, name in BUCKETS]
# PCRE2's JIT code has no unwind tables, so its samples stop there.
JIT = re.compile(r"/tmp/perf-\d+\.map")
ALLOC = re.compile(r"malloc|free|_int_|consolidate|unlink_chunk|calloc|realloc")


def stacks(path):
    """Yields each sample's frames, leaf first, as (symbol, dso) pairs."""
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"],
                         check=True, capture_output=True, text=True).stdout
    frames = []
    for line in out.splitlines() + [""]:
        line = line.strip()
        if not line:
            if frames:
                yield frames
            frames = []
            continue
        rest = line.split(None, 1)[1] if " " in line else ""
        sym, _, dso = rest.rpartition(" (")
        frames.append((sym, dso.rstrip(")")))


def bucket(frames):
    """The bucket of the frame nearest the leaf that names one."""
    for sym, dso in frames:
        if JIT.search(dso):
            return "engine: eval_comment"
        for pattern, name in BUCKETS:
            if pattern.search(sym):
                return name
    return "other: " + frames[0][1].rsplit("/", 1)[-1]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    counts = collections.Counter()
    leaf = collections.Counter()
    n = 0
    for frames in stacks(sys.argv[1]):
        n += 1
        counts[bucket(frames)] += 1
        sym, dso = frames[0]
        if "kernel" in dso:
            leaf["leaf in the kernel"] += 1
        elif "jansson" in dso:
            leaf["leaf in jansson"] += 1
        elif ALLOC.search(sym):
            leaf["leaf in malloc/free"] += 1
    if n == 0:
        sys.exit(f"{sys.argv[1]}: no samples")
    print(f"{n} samples")
    for name, k in counts.most_common():
        print(f"{100 * k / n:6.1f}%  {name}")
    print("across buckets:")
    for name in ("leaf in the kernel", "leaf in jansson", "leaf in malloc/free"):
        print(f"{100 * leaf[name] / n:6.1f}%  {name}")


if __name__ == "__main__":
    main()
