"""The Redis Lua scripts (daemon/redis/*.lua) against a real redis-server.

The scripts are read from the source tree and called with EVALSHA exactly
as docs/redis.md lays out their keys and arguments.  Times come from Redis's
TIME, which the test cannot set, so assertions about waits are bounded by
TIME read just before and just after a call, and by the rate-limit TAT the
script stored, rather than by sleeping; the one sleep (waiting out a 1/1s
limit) is about a second and asserts only that the comment is allowed again.
"""
import math
import os
import re
import time

import pytest

from redisproc import RedisError, RedisProc

SOURCE = os.environ.get("COMMENTD_SOURCE",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPTS = os.path.join(SOURCE, "daemon", "redis")
P = "commentd:{example}:"
HOUR_US = 3600 * 1000000


def script_text(name):
    with open(os.path.join(SCRIPTS, name + ".lua"), "rb") as f:
        return f.read()


@pytest.fixture
def redis(tmp_path):
    proc = RedisProc(tmp_path).start()
    c = proc.client()
    c.check_sha = c.cmd("SCRIPT", "LOAD", script_text("check")).decode()
    c.enqueue_sha = c.cmd("SCRIPT", "LOAD", script_text("enqueue")).decode()
    yield c
    c.close()
    proc.stop()


def now_us(r):
    sec, usec = r.cmd("TIME")
    return int(sec) * 1000000 + int(usec)


def limit(name, count, period_s, burst=0):
    """A rate limit as the daemon passes it: key, emission, tolerance (us)."""
    t = period_s * 1000000 // count
    return (P + "rl:" + name + ":u1", t, burst * t)


def check(r, cid, limits=(), dry=False, seen_ttl=86400, same=0, many=0,
          author="u1", fp="fp1"):
    """Calls check.lua; returns its facts as a dict."""
    keys = [P + "seen:" + cid, P + "author:" + author]
    keys += [k for k, _, _ in limits]
    if same:
        keys.append("%sdup:a:%d:%s:%s" % (P, len(author), author, fp))
    if many:
        keys.append(P + "dup:f:" + fp)
    argv = ["1" if dry else "0", len(limits), seen_ttl]
    for _, t, tau in limits:
        argv += [t, tau]
    argv += [same, many, author]
    raw = r.cmd("EVALSHA", r.check_sha, len(keys), *keys, *argv)
    assert len(raw) == 5 + 2 * len(limits) + 2
    assert all(isinstance(x, int) for x in raw)
    n = len(limits)
    return {"raw": raw, "seen": raw[0], "banned": raw[1], "trusted": raw[2],
            "approved": raw[3], "rejected": raw[4],
            "allowed": raw[5:5 + 2 * n:2], "retry_ms": raw[6:6 + 2 * n:2],
            "dup_same": raw[-2], "dup_authors": raw[-1]}


def tat(r, lim):
    v = r.cmd("GET", lim[0])
    return None if v is None else int(v)


# --- rate limits -----------------------------------------------------------

def test_burst_plus_one_allowed_then_limited_with_its_wait(redis):
    lim = limit("flood", 1, 3600, burst=2)
    t, tau = lim[1], lim[2]
    t0 = now_us(redis)
    tats = []
    for i in range(3):
        f = check(redis, "c%d" % i, [lim])
        assert f["allowed"] == [1] and f["retry_ms"] == [0], i
        tats.append(tat(redis, lim))
    t1 = now_us(redis)
    # The first charge is now + T; each next one adds exactly T.
    assert t0 + t <= tats[0] <= t1 + t
    assert tats[1] - tats[0] == t and tats[2] - tats[1] == t

    before = now_us(redis)
    f = check(redis, "c3", [lim])
    after = now_us(redis)
    assert f["allowed"] == [0]
    # wait = tat - tau - now, rounded up to whole ms, now within the call.
    lo = math.ceil((tats[2] - tau - after) / 1000)
    hi = math.ceil((tats[2] - tau - before) / 1000)
    assert lo <= f["retry_ms"][0] <= hi
    assert tat(redis, lim) == tats[2], "a refused comment charges nothing"


def test_boundary_is_tolerance_inclusive(redis):
    lim = limit("edge", 1, 3600, burst=1)
    tau = lim[2]
    # tat - now just under tau: allowed (now only grows after this TIME).
    stored = now_us(redis) + tau - 1
    redis.cmd("SET", lim[0], stored)
    f = check(redis, "a", [lim])
    assert f["allowed"] == [1]
    assert tat(redis, lim) == stored + lim[1]
    # Two seconds and half a millisecond over: refused, the wait rounded up.
    before = now_us(redis)
    stored = before + tau + 2000500
    redis.cmd("SET", lim[0], stored)
    f = check(redis, "b", [lim])
    after = now_us(redis)
    assert f["allowed"] == [0]
    assert math.ceil((stored - tau - after) / 1000) <= f["retry_ms"][0] \
        <= math.ceil((stored - tau - before) / 1000)
    assert 1000 <= f["retry_ms"][0] <= 2001
    # A TAT already past (its key not yet expired) counts from now.
    before = now_us(redis)
    redis.cmd("SET", lim[0], before - 10 * 1000000)
    assert check(redis, "c", [lim])["allowed"] == [1]
    assert tat(redis, lim) >= before + lim[1]


def test_allowed_again_once_the_wait_has_passed(redis):
    lim = limit("slow", 1, 1)
    assert check(redis, "a", [lim])["allowed"] == [1]
    f = check(redis, "b", [lim])
    assert f["allowed"] == [0]
    assert 0 < f["retry_ms"][0] <= 1000
    time.sleep(f["retry_ms"][0] / 1000 + 0.05)
    f = check(redis, "b", [lim])
    assert f["allowed"] == [1] and f["seen"] == 0


def test_key_expires_when_it_no_longer_limits(redis):
    lim = limit("exp", 5, 600, burst=2)       # T = 120 s
    before = now_us(redis)
    check(redis, "a", [lim])
    stored = tat(redis, lim)
    pttl = redis.cmd("PTTL", lim[0])
    assert 0 < pttl <= math.ceil((stored - before) / 1000)
    assert pttl > (lim[1] // 1000) - 5000


def test_all_or_nothing_across_limits(redis):
    loose = limit("loose", 1, 3600, burst=5)
    tight = limit("tight", 1, 3600)
    f = check(redis, "a", [loose, tight])
    assert f["allowed"] == [1, 1]
    tats = (tat(redis, loose), tat(redis, tight))
    f = check(redis, "b", [loose, tight])
    assert f["allowed"] == [1, 0]
    assert f["retry_ms"][0] == 0 and f["retry_ms"][1] > 3590000
    assert (tat(redis, loose), tat(redis, tight)) == tats
    assert redis.cmd("EXISTS", P + "seen:b") == 0


# --- dry runs and retried ids ----------------------------------------------

def test_dry_run_reads_and_charges_nothing(redis):
    lim = limit("dry", 1, 3600)
    f = check(redis, "d", [lim], dry=True, same=60, many=60)
    assert f["allowed"] == [1] and f["dup_same"] == 0
    assert f["dup_authors"] == 1
    assert redis.cmd("DBSIZE") == 0
    # After a real charge a dry run sees the limit but changes nothing.
    check(redis, "real", [lim], same=60, many=60)
    keys = sorted(redis.cmd("KEYS", "*"))
    stored = tat(redis, lim)
    f = check(redis, "d2", [lim], dry=True, same=60, many=60)
    assert f["allowed"] == [0] and f["dup_same"] == 1
    assert f["dup_authors"] == 1
    assert sorted(redis.cmd("KEYS", "*")) == keys
    assert tat(redis, lim) == stored


def test_seen_id_answers_the_same_and_charges_nothing(redis):
    lim = limit("seen", 1, 3600, burst=3)
    redis.cmd("HSET", P + "author:u1", "approved", 2)
    first = check(redis, "c-1", [lim], same=60, many=60)
    assert first["seen"] == 0 and first["approved"] == 2
    stored = tat(redis, lim)
    ttl = redis.cmd("TTL", P + "seen:c-1")
    assert 0 < ttl <= 86400
    redis.cmd("HSET", P + "author:u1", "approved", 7)
    again = check(redis, "c-1", [lim], same=60, many=60)
    assert again["raw"] == [1] + first["raw"][1:]
    assert tat(redis, lim) == stored
    assert redis.cmd("ZCARD", P + "dup:f:fp1") == 1
    # The stored facts are JSON (cjson), as docs/redis.md says.
    assert redis.cmd("GET", P + "seen:c-1").startswith(b"[0,")


def test_a_refused_id_is_checked_afresh(redis):
    lim = limit("again", 1, 3600)
    check(redis, "x", [lim])
    f = check(redis, "y", [lim])
    assert f["allowed"] == [0]
    assert redis.cmd("EXISTS", P + "seen:y") == 0
    redis.cmd("DEL", lim[0])
    f = check(redis, "y", [lim])
    assert f["seen"] == 0 and f["allowed"] == [1]


# --- the author's record and duplicates ------------------------------------

def test_author_record(redis):
    assert check(redis, "n", [])["raw"] == [0, 0, 0, 0, 0, 0, 0]
    redis.cmd("HSET", P + "author:u9", "approved", 4, "rejected", 2,
              "banned", 1, "trusted", 1)
    f = check(redis, "m", [], author="u9")
    assert (f["banned"], f["trusted"], f["approved"], f["rejected"]) == \
        (1, 1, 4, 2)
    redis.cmd("HSET", P + "author:u9", "approved", "lots", "rejected", 1e30,
              "banned", "yes")
    f = check(redis, "o", [], author="u9")
    assert (f["banned"], f["approved"], f["rejected"]) == (0, 0, 2 ** 32 - 1)


def test_same_author_duplicates(redis):
    assert check(redis, "1", same=600, fp="aa")["dup_same"] == 0
    assert check(redis, "2", same=600, fp="aa")["dup_same"] == 1
    assert check(redis, "3", same=600, fp="bb")["dup_same"] == 0
    assert check(redis, "4", same=600, fp="aa", author="u2")["dup_same"] == 0
    ttl = redis.cmd("TTL", "%sdup:a:2:u1:aa" % P)
    assert 0 < ttl <= 600


def test_many_authors_counts_distinct_authors_in_the_window(redis):
    counts = [check(redis, "m%d" % i, many=3600, author=a)["dup_authors"]
              for i, a in enumerate(["u1", "u2", "u1", "u3"])]
    assert counts == [1, 2, 2, 3]
    key = P + "dup:f:fp1"
    assert redis.cmd("ZCARD", key) == 3
    assert 0 < redis.cmd("TTL", key) <= 3600
    # Authors last seen just outside the window no longer count, not even
    # as themselves, and are dropped when the set is next written.
    old_ms = now_us(redis) // 1000 - 3600 * 1000 - 1
    redis.cmd("ZADD", key, old_ms, "u0", old_ms, "u5")
    assert check(redis, "m9", many=3600, author="u0")["dup_authors"] == 4
    assert redis.cmd("ZSCORE", key, "u5") is None
    assert int(redis.cmd("ZSCORE", key, "u0")) > old_ms
    assert check(redis, "m10", many=3600, author="u4")["dup_authors"] == 5


def test_bad_arguments_are_refused_and_change_nothing(redis):
    key = [P + "seen:z", P + "author:u1"]
    for keys, argv in [
            (key, ["0", 1, 60, 0, 0, "u1"]),             # N=1, no limit
            (key, ["2", 0, 60, 0, 0, "u1"]),             # dry run not 0/1
            (key, ["0", 0, 0, 0, 0, "u1"]),              # no seen TTL
            (key, ["0", 0, 60, 10, 0, "u1"]),            # dup:a key missing
            (key + ["k"], ["0", 1, 60, 0, 5, 0, 0, "u1"]),   # emission 0
            (key, ["0", 0, 60, "x", 0, "u1"]),
            (key, ["0", 0, 60, 0, "inf", "u1"]),
            (key, ["0", 0, 2 ** 31, 0, 0, "u1"]),            # TTL too long
            (key + ["k"], ["0", 1, 60, 1e20, 0, 0, 0, "u1"])]:
        with pytest.raises(RedisError, match="commentd check"):
            redis.cmd("EVALSHA", redis.check_sha, len(keys), *keys, *argv)
    assert redis.cmd("DBSIZE") == 0


# --- enqueue ----------------------------------------------------------------

def enqueue(r, cid, **fields):
    argv = [cid]
    for k, v in fields.items():
        argv += [k, v]
    sid, added = r.cmd("EVALSHA", r.enqueue_sha, 2, P + "queue", P + "queued",
                       *argv)
    return sid.decode(), added


def test_enqueue_is_idempotent_and_makes_the_group(redis):
    sid, added = enqueue(redis, "c-1", id="c-1", body="hello", via="redis")
    assert added == 1 and re.fullmatch(r"\d+-\d+", sid)
    groups = redis.cmd("XINFO", "GROUPS", P + "queue")
    assert len(groups) == 1
    g = dict(zip(groups[0][::2], groups[0][1::2]))
    assert g[b"name"] == b"moderators" and g[b"last-delivered-id"] == b"0-0"
    again, added = enqueue(redis, "c-1", id="c-1", body="hello", via="spool")
    assert (again, added) == (sid, 0)
    assert redis.cmd("XLEN", P + "queue") == 1
    assert redis.cmd("HGET", P + "queued", "c-1").decode() == sid
    [[eid, fields]] = redis.cmd("XRANGE", P + "queue", "-", "+")
    assert eid.decode() == sid
    assert fields == [b"id", b"c-1", b"body", b"hello", b"via", b"redis"]
    sid2, added = enqueue(redis, "c-2", id="c-2", body="more")
    assert added == 1 and sid2 != sid
    assert redis.cmd("XLEN", P + "queue") == 2
    # The group delivers every entry, from the first.
    got = redis.cmd("XREADGROUP", "GROUP", "moderators", "m1", "COUNT", 10,
                    "STREAMS", P + "queue", ">")
    assert [e[0].decode() for e in got[0][1]] == [sid, sid2]
    assert redis.cmd("TTL", P + "queue") == -1
    assert redis.cmd("TTL", P + "queued") == -1


def test_enqueue_refuses_bad_arguments(redis):
    for argv in [["c-1"], ["c-1", "body"], ["", "body", "x"]]:
        with pytest.raises(RedisError, match="commentd enqueue"):
            redis.cmd("EVALSHA", redis.enqueue_sha, 2, P + "queue",
                      P + "queued", *argv)
    assert redis.cmd("DBSIZE") == 0


# --- tally and tally_sum -----------------------------------------------------

def test_tally_adds_to_both_buckets_and_sums_the_windows(redis):
    add = redis.cmd("SCRIPT", "LOAD", script_text("tally")).decode()
    total = redis.cmd("SCRIPT", "LOAD", script_text("tally_sum")).decode()
    m5 = [P + "tally:5m:%d" % n for n in (100, 101)]
    h1 = [P + "tally:1h:%d" % n for n in (8, 9)]
    # Bad arguments change nothing.
    for argv in [[], ["queue"], ["queue", "0"], ["queue", "1.5"],
                 ["queue", "x"], ["queue", "1", "accept", "-2"]]:
        with pytest.raises(RedisError, match="commentd tally"):
            redis.cmd("EVALSHA", add, 2, m5[0], h1[0], *argv)
    assert redis.cmd("DBSIZE") == 0
    assert redis.cmd("EVALSHA", add, 2, m5[0], h1[0], "queue", 2,
                     "pii.email:queue", 1) == 2
    assert redis.cmd("EVALSHA", add, 2, m5[1], h1[1], "queue", 3,
                     "accept", 5) == 2
    assert redis.cmd("HGET", m5[0], "pii.email:queue") == b"1"
    assert 7000 < redis.cmd("TTL", m5[0]) <= 7200
    assert 93000 < redis.cmd("TTL", h1[0]) <= 93600

    def sums(nhour, keys):
        got = redis.cmd("EVALSHA", total, len(keys), *keys, nhour)
        return [dict(zip(w[::2], w[1::2])) for w in got]

    hour, day = sums(1, [m5[1], h1[0], h1[1], P + "tally:1h:7"])
    assert hour == {b"queue": 3, b"accept": 5}
    assert day == {b"queue": 5, b"accept": 5, b"pii.email:queue": 1}
    with pytest.raises(RedisError, match="commentd tally_sum"):
        redis.cmd("EVALSHA", total, 1, m5[0], 2)


# --- the daemon's copy -------------------------------------------------------

def test_embedded_scripts_are_the_lua_files():
    """The C strings CMake generated hold the .lua files byte for byte."""
    binary = os.environ.get("COMMENTD_BIN")
    if not binary:
        pytest.skip("COMMENTD_BIN not set: run through ctest")
    gen = os.path.join(os.path.dirname(binary), "redis", "redis_scripts.c")
    with open(gen) as f:
        text = f.read()
    for name in ("check", "enqueue", "decide", "author", "tally", "tally_sum"):
        m = re.search(r"redis_script_%s\[\] = \{([^}]*)\}" % name, text)
        assert m, name
        data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})",
                                                    m.group(1)))
        assert data == script_text(name) + b"\0", name
