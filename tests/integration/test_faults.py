"""Faults under load, each printing what it submitted, what was answered
`queue`, what was found in Redis and what was lost (the target is 0):
Redis killed with SIGKILL three times during 20,000 submissions from 64
concurrent clients; Redis stopped with SIGSTOP for 10 s under load; Redis
at its maxmemory.  The daemon runs under the sanitizers in `make check`,
and the fixture fails the test on any report in its log."""
import json
import os
import re
import threading
import time

from conftest import (QUEUE, SOURCE, Load, caught_up, readyz, report,
                      stream_ids, wait_for)

POLICY = os.path.join(SOURCE, "tests", "integration", "data", "faults.yaml")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def aof_redis(tmp_path, name):
    from redisproc import RedisProc
    d = tmp_path / name
    d.mkdir()
    # appendfsync always: every acknowledged write is on disk first.  With
    # everysec, Redis 7.0 postpones its AOF write while a background fsync
    # runs yet still acknowledges, so a SIGKILL lost acknowledged entries
    # here (1 in 3 runs on 2026-11-24): a property of Redis, not commentd.
    return RedisProc(d, {"appendonly": "yes", "appendfsync": "always"})


def test_redis_killed_three_times_under_load(make_daemon, tmp_path):
    redis = aof_redis(tmp_path, "redis-kill").start()
    d = make_daemon(policy=POLICY, redis=redis.socket).start()

    def killer(load):
        for mark in (5000, 10000, 15000):
            wait_for(lambda: load.done >= mark, 120)
            redis.kill()
            time.sleep(0.3)
            redis.start()

    try:
        load = Load(d, 20000, 64).run(during=killer)
        assert wait_for(lambda: caught_up(d), 30), readyz(d)
        lost, twice = report("redis SIGKILL x3", load, stream_ids(redis))
        assert load.done == 20000 and not load.errors, load.errors[:5]
        assert set(load.statuses()) == {200}, load.statuses()
        # Every fifth asked to be held; on a starved machine a few more
        # may be queued by the engine's time budget (engine.limit).
        held = {f"c{i}" for i in range(0, 20000, 5)}
        assert held <= load.queued(), sorted(held - load.queued())[:5]
        assert not lost and not twice, (lost[:5], twice[:5])
        # The daemon's own wait for Redis is bounded by its deadlines.
        assert load.max_took_ms() < 1000, load.max_took_ms()
        assert d.proc.poll() is None
    finally:
        redis.stop()


def test_redis_stopped_for_10s_under_load(make_daemon, tmp_path):
    redis = aof_redis(tmp_path, "redis-stop").start()
    # AddressSanitizer keeps freed memory in a quarantine (256 MiB by
    # default), which would look like growth: keep it small here.
    asan = os.environ.get("ASAN_OPTIONS", "")
    d = make_daemon(policy=POLICY, redis=redis.socket, extra_env={
        "ASAN_OPTIONS": (asan + ":" if asan else "") +
        "quarantine_size_mb=8"}).start()
    try:
        Load(d, 5000, 16, prefix="warm").run()
        before = rss_kib(d.proc.pid)
        stopped = {}

        def pause(load):
            wait_for(lambda: load.done >= 200, 60)
            redis.pause()
            stopped["at"] = time.monotonic()
            time.sleep(10)
            redis.resume()

        # Keep submitting for the whole pause.
        load = Load(d, 1_000_000, 16, prefix="s")
        runner = threading.Thread(target=load.run, args=(pause,))
        runner.start()
        wait_for(lambda: "at" in stopped, 60)
        wait_for(lambda: time.monotonic() - stopped["at"] > 11, 30)
        load.total = load.next          # stop handing out new comments
        runner.join(120)
        after = rss_kib(d.proc.pid)
        assert wait_for(lambda: caught_up(d), 30), readyz(d)
        lost, twice = report("redis SIGSTOP 10s", load, stream_ids(redis))
        print(f"rss_kib before={before} after={after}")
        assert not load.errors, load.errors[:5]
        assert set(load.statuses()) == {200}, load.statuses()
        assert not lost and not twice, (lost[:5], twice[:5])
        assert load.max_took_ms() < 1000, load.max_took_ms()
        # Thousands of comments went through the spool; memory did not
        # grow with them (the spool is a file; commands are bounded).
        assert after - before < 32 * 1024, (before, after)
    finally:
        redis.stop()


def test_redis_at_maxmemory_answers_503(make_daemon, redis_server):
    d = make_daemon(policy=POLICY, redis=redis_server.socket).start()
    r = redis_server.client()
    r.cmd("SET", "ballast", "x" * (4 << 20))
    r.cmd("CONFIG", "SET", "maxmemory-policy", "noeviction")
    r.cmd("CONFIG", "SET", "maxmemory", str(1 << 20))
    # A comment that needs no storage is still decided.
    status, data = d.check({"id": "m1", "author": {"id": "u"},
                            "body": "a fine comment"})
    assert status == 200 and json.loads(data)["decision"] == "accept"
    # One that must be queued cannot be stored: 503, never a false queue.
    status, data, resp = d.request(
        "POST", "/v1/check", json.dumps({"id": "m2", "author": {"id": "u"},
                                         "body": "please hold me"}),
        {"Content-Type": "application/json"})
    assert status == 503, data
    assert resp.getheader("Retry-After") == "5"
    assert json.loads(data)["error"]["code"] == "unavailable"
    assert r.cmd("XLEN", QUEUE) == 0
    assert readyz(d)["spool_pending"] == 0
    metrics = d.get("/metrics")[1].decode()
    assert "commentd_queue_refused_total 1" in metrics
    # Room again: the same comment is queued and stored.
    r.cmd("CONFIG", "SET", "maxmemory", "0")
    status, data = d.check({"id": "m2", "author": {"id": "u"},
                            "body": "please hold me"})
    assert status == 200 and json.loads(data)["decision"] == "queue"
    assert stream_ids(redis_server) == {"m2": 1}
