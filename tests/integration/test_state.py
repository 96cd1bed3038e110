"""Redis-backed state through the real daemon and a real redis-server:
rate limits exact at the boundary, shared by two daemons, dry runs and
retries never charged; duplicates; new commenters queued and stored once;
Redis away at start-up and during a queued comment (the spool, then the
replay)."""
import json
import os
import time

from conftest import SOURCE, wait_for

DATA = os.path.join(SOURCE, "tests", "integration", "data")
LIMITS = os.path.join(DATA, "state-limits.yaml")
NEW = os.path.join(DATA, "state-new.yaml")
FAST = os.path.join(DATA, "state-fast.yaml")


def submit(d, cid, author, body, dry_run=False, thread=None):
    payload = {"id": cid, "site": "example", "author": {"id": author},
               "body": body, "dry_run": dry_run}
    if thread:
        payload["thread"] = thread
    status, data = d.check(payload)
    assert status == 200, (status, data)
    return json.loads(data)


def rules(answer):
    return [r["rule"] for r in answer["reasons"]]


def entry_fields(entry):
    """A stream entry's fields as a dict of str."""
    kv = entry[1]
    return {k.decode(): v.decode() for k, v in zip(kv[0::2], kv[1::2])}


def readyz(d):
    return json.loads(d.get("/readyz")[1])


def test_rate_limit_exact_at_the_boundary(make_daemon, redis_server):
    d = make_daemon(policy=LIMITS, redis=redis_server.socket).start()
    assert readyz(d)["redis"] == "up"
    # 1/1m with burst 2: three at once, the fourth waits a whole minute.
    for i in range(3):
        a = submit(d, f"c{i}", "u1", f"comment number {i}")
        assert a["decision"] == "accept", a
    a = submit(d, "c3", "u1", "comment number 3")
    assert a["decision"] == "reject" and rules(a) == ["flood.author"], a
    assert a["reasons"][0]["category"] == "rate"
    assert 59 <= a["retry_after_s"] <= 60, a
    # The limit is per author.
    assert submit(d, "c4", "u2", "another author")["decision"] == "accept"
    # The key holds a theoretical arrival time about 3 minutes ahead.
    pttl = redis_server.client().cmd(
        "PTTL", "commentd:{example}:rl:flood.author:u1")
    assert 170_000 < pttl <= 180_000, pttl


def test_allowed_again_after_retry_after(make_daemon, redis_server):
    d = make_daemon(policy=FAST, redis=redis_server.socket).start()
    assert submit(d, "f1", "u1", "first")["decision"] == "accept"
    a = submit(d, "f2", "u1", "second")
    assert a["decision"] == "reject" and rules(a) == ["flood.fast"], a
    assert 1 <= a["retry_after_s"] <= 2, a
    # The answer is a promise: waiting that long is enough.
    time.sleep(a["retry_after_s"])
    assert submit(d, "f3", "u1", "third")["decision"] == "accept"


def test_dry_runs_and_retries_are_never_charged(make_daemon, redis_server):
    d = make_daemon(policy=LIMITS, redis=redis_server.socket).start()
    for i in range(5):
        assert submit(d, f"dry{i}", "u1", f"trying {i}",
                      dry_run=True)["decision"] == "accept"
    # The same id five times is one comment.
    for _ in range(5):
        assert submit(d, "c0", "u1", "first")["decision"] == "accept"
    assert submit(d, "c1", "u1", "second")["decision"] == "accept"
    assert submit(d, "c2", "u1", "third")["decision"] == "accept"
    assert submit(d, "c3", "u1", "fourth")["decision"] == "reject"
    # A retry of a rejected comment is answered the same.
    assert submit(d, "c3", "u1", "fourth")["decision"] == "reject"


def test_two_daemons_enforce_one_limit(make_daemon, redis_server, tmp_path):
    d1 = make_daemon(policy=LIMITS, redis=redis_server.socket).start()
    other = tmp_path / "second"
    other.mkdir()
    from conftest import Daemon
    d2 = Daemon(other, policy=LIMITS, redis=redis_server.socket).start()
    try:
        decisions = [submit((d1, d2)[i % 2], f"c{i}", "u1",
                            f"text {i}")["decision"] for i in range(8)]
    finally:
        d2.stop()
    assert decisions.count("accept") == 3, decisions
    assert decisions[:3] == ["accept"] * 3


def test_duplicates_same_author_and_a_wave(make_daemon, redis_server):
    d = make_daemon(policy=LIMITS, redis=redis_server.socket).start()
    assert submit(d, "a1", "u1", "Buy my book!")["decision"] == "accept"
    # Normalised: case and punctuation do not make it new.
    a = submit(d, "a2", "u1", "buy MY book")
    assert a["decision"] == "reject" and "duplicates.same_author" in rules(a)
    # The same text from three authors within the window queues the third.
    assert submit(d, "b1", "u2", "Buy my book!")["decision"] == "accept"
    a = submit(d, "b2", "u3", "Buy my book!")
    assert a["decision"] == "queue", a
    assert "duplicates.many_authors" in rules(a)
    r = redis_server.client()
    assert r.cmd("HGET", "commentd:{example}:queued", "b2") is not None


def test_new_commenter_is_queued_and_stored_once(make_daemon, redis_server):
    d = make_daemon(policy=NEW, redis=redis_server.socket).start()
    for _ in range(3):
        a = submit(d, "n1", "newbie", "Hello there", thread="t/1")
        assert a["decision"] == "queue" and rules(a) == ["new_commenters"]
    r = redis_server.client()
    entries = r.cmd("XRANGE", "commentd:{example}:queue", "-", "+")
    assert len(entries) == 1, entries
    fields = entry_fields(entries[0])
    assert fields["id"] == "n1" and fields["body"] == "Hello there"
    assert fields["thread"] == "t/1" and fields["via"] == "redis"
    assert json.loads(fields["reasons"])[0]["rule"] == "new_commenters"
    groups = r.cmd("XINFO", "GROUPS", "commentd:{example}:queue")
    assert groups and b"moderators" in groups[0]
    # A dry run is judged the same and stored nowhere.
    a = submit(d, "n2", "newbie", "Hello again", dry_run=True)
    assert a["decision"] == "queue"
    assert r.cmd("XLEN", "commentd:{example}:queue") == 1
    # An author with an approved comment is no longer new.
    r.cmd("HSET", "commentd:{example}:author:regular", "approved", "1")
    assert submit(d, "n3", "regular", "Hi")["decision"] == "accept"


def test_redis_absent_at_start_then_back(make_daemon, tmp_path):
    from redisproc import RedisProc
    rdir = tmp_path / "late-redis"
    rdir.mkdir()
    late = RedisProc(rdir)
    d = make_daemon(policy=NEW, redis=late.socket).start()
    ready = readyz(d)
    assert ready["status"] == "degraded" and ready["redis"] != "up", ready
    # Without Redis the author is unknown: a human decides (the spool).
    a = submit(d, "x1", "someone", "Hello")
    assert a["decision"] == "queue" and rules(a) == ["new_commenters"], a
    late.start()
    try:
        assert wait_for(lambda: readyz(d)["redis"] == "up", 10), d.log()
        # The spooled comment is replayed into the stream, once.
        r = late.client()
        assert wait_for(lambda: r.cmd(
            "XLEN", "commentd:{example}:queue") == 1, 10), d.log()
        entries = r.cmd("XRANGE", "commentd:{example}:queue", "-", "+")
        fields = entry_fields(entries[0])
        assert fields["id"] == "x1" and fields["via"] == "spool"
        metrics = d.get("/metrics")[1].decode()
        assert "commentd_spooled_total 1" in metrics
        assert "commentd_redis_up 1" in metrics
    finally:
        late.stop()


def test_redis_killed_then_restarted(make_daemon, redis_server):
    d = make_daemon(policy=NEW, redis=redis_server.socket).start()
    assert submit(d, "k1", "u", "one")["decision"] == "queue"
    redis_server.kill()
    assert wait_for(lambda: readyz(d)["redis"] != "up", 10), d.log()
    a = submit(d, "k2", "u", "two")
    assert a["decision"] == "queue"
    redis_server.start()   # empty: --save '' and no AOF
    assert wait_for(lambda: redis_server.client().cmd(
        "HGET", "commentd:{example}:queued", "k2") is not None, 10), d.log()
