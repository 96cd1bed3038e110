"""SIGHUP storms during load (issue 8): reloads must never fail a request.

Sixteen keep-alive clients post varied comments for 10 s while the test
sends SIGHUP every 5 ms and, at the same time, POST /v1/admin/reload on
the admin socket back to back, swapping the policy file between two valid
versions of the default policy that decide a marker comment differently
(reject in one, queue in the other).  Every answer must be a 200 naming
one of the two policies and giving exactly the decision that policy gives
the comment offline (commentd --eval), no client may see a reset or a 5xx,
and the slowest answer must come within the request deadline.  A second
storm makes every other reload a broken policy: the last good policy keeps
serving, no request fails, and the errors are logged.  Each storm prints
its counts.

The two versions drop the default policy's stateful rules (rate limits,
duplicates, new commenters): with them a comment's decision would depend
on what came before it in Redis, and the test could no longer know which
answer each policy owes each comment.  Redis is up all along, so every
check still goes through the check and enqueue scripts.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

from conftest import (COMMENTD, SOURCE, caught_up, lost_and_twice, readyz,
                      stream_ids, wait_for)
from timed_load import TimedLoad

MARKER = "zqx storm marker"
MARKER_RULE = ("  - {id: storm.marker, regex: 'zqx storm marker', "
               "action: %s, category: test,\n"
               "     message: \"The reload storm's marker.\"}\n")
# The request deadline: limits.header_timeout_ms at its default (5 s),
# set below.  No answer may take longer, however many reloads hold the
# loop meanwhile: a reload is synchronous, so a storm of them that is not
# coalesced keeps every request waiting behind all of them.
DEADLINE_S = 5.0
STORM_S = 10
HUP_EVERY_S = 0.005
CLIENTS = 16


def cases():
    """The comments the clients cycle through: the sample comments, the
    marker alone, in a sentence and beside a rejected word, and a few
    more shapes; each with the author name the rules may read."""
    out = []
    with open(os.path.join(SOURCE, "tests", "data",
                           "sample-comments.jsonl")) as f:
        for line in f:
            c = json.loads(line)
            out.append((c["body"], c["author"].get("name", "")))
    out += [(MARKER, "Ben"),
            (f"I read the whole piece twice. {MARKER}. Thanks.", "Ann"),
            (f"{MARKER} and what the f*ck is this", "Pete"),
            ("You are an idiot", "Rex"),
            ("Nice article", "The Moderator"),
            ("ok " * 400, "Jo"),
            ("Short.", "Jo")]
    return out


def policy_versions(tmp_path):
    """Writes the two valid versions and three broken ones beside a copy of
    the default policy's word lists; returns their paths, by name."""
    pdir = tmp_path / "policies"
    shutil.copytree(os.path.join(SOURCE, "policies"), pdir)
    with open(pdir / "default.yaml") as f:
        text = f.read()
    start, end = text.index("\nrate_limits:"), text.index("\nexamples:")
    text = text[:start] + text[end:]
    rules = text.index("\nrules:\n") + len("\nrules:\n")
    valid = {v: text[:rules] + MARKER_RULE % action + text[rules:]
             for v, action in (("A", "reject"), ("B", "queue"))}
    broken = {
        # an unknown key: loads as YAML, refused by the schema
        "broken-key": valid["A"] + "thresholdz: {queue: 1}\n",
        # a regex PCRE2 does not compile
        "broken-regex": valid["B"].replace("regex: 'zqx storm marker'",
                                           "regex: 'zqx (storm marker'"),
        # not YAML at all
        "broken-yaml": valid["A"] + "rules: [{id: [unclosed\n",
    }
    paths = {}
    for name, body in {**valid, **broken}.items():
        paths[name] = pdir / f"{name}.yaml"
        with open(paths[name], "w") as f:
            f.write(body)
    return pdir / "live.yaml", paths


def install(live, source):
    """Puts a version in place in one rename, so a reload never reads a
    file half written."""
    tmp = live.with_suffix(".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, live)


def expected(path, comments):
    """What commentd --eval decides for each comment: index -> decision,
    and the policy's digest."""
    lines = "".join(json.dumps({"id": str(i), "body": b,
                                "author": {"id": "u", "name": n}}) + "\n"
                    for i, (b, n) in enumerate(comments))
    r = subprocess.run([COMMENTD, "--eval", "-p", str(path)], input=lines,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    verdicts = [json.loads(line) for line in r.stdout.splitlines()]
    return verdicts[0]["policy"]["digest"], \
        {int(v["id"]): v["decision"] for v in verdicts}


def owed_decisions(paths, comments):
    """digest -> (version, index -> decision) for the two valid versions."""
    owed = {}
    for v in "AB":
        digest, decisions = expected(paths[v], comments)
        owed[digest] = (v, decisions)
    assert len(owed) == 2
    return owed


def make_body(comments, prefix):
    def body(i):
        text, name = comments[i % len(comments)]
        cid = f"{prefix}{i}"
        return cid, i % len(comments), json.dumps({
            "id": cid, "site": "example", "thread": f"t{i % 7}",
            "author": {"id": f"u{i % 101}", "name": name}, "body": text})
    return body


def metric_value(d, name):
    for line in d.get("/metrics")[1].decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def metric(d, name):
    return int(metric_value(d, name))


def storm(d, live, order, paths):
    """SIGHUP every HUP_EVERY_S and admin reloads back to back for STORM_S,
    installing the versions of `order` in turn before each; returns the
    number of SIGHUPs and the admin answers' statuses."""
    admin = {}
    stop = threading.Event()
    turn = [0]
    lock = threading.Lock()

    def next_version():
        with lock:
            install(live, paths[order[turn[0] % len(order)]])
            turn[0] += 1

    def admin_reloads():
        while not stop.is_set():
            next_version()
            try:
                status = d.request("POST", "/v1/admin/reload", b"",
                                   which="admin")[0]
            except OSError as e:
                status = repr(e)
            admin[status] = admin.get(status, 0) + 1

    t = threading.Thread(target=admin_reloads, daemon=True)
    t.start()
    hups = 0
    end = time.monotonic() + STORM_S
    while time.monotonic() < end:
        next_version()
        d.signal(signal.SIGHUP)
        hups += 1
        time.sleep(HUP_EVERY_S)
    stop.set()
    t.join(30)
    return hups, admin


def judge(name, d, load, comments, owed, redis, reloads, failures, hups,
          admin):
    """Prints a storm's counts and checks every answer against the policy
    it names; returns the per-version count of marker answers."""
    # A Redis command that passed its deadline while the loop reloaded
    # sends its comment to the spool: wait for the replay.
    assert wait_for(lambda: caught_up(d), 30), readyz(d)
    answers = load.snapshot()
    bad, markers = [], {}
    for a in answers:
        if a.error is not None or a.status != 200:
            bad.append((a.cid, a.status, a.error))
            continue
        digest = a.body.get("policy", {}).get("digest")
        version = owed.get(digest)
        rules = [r.get("rule") for r in a.body.get("reasons", [])]
        if version is None:
            bad.append((a.cid, "unknown policy", digest))
        elif a.decision != version[1][a.case] and not (
                a.decision == "queue" and "engine.limit" in rules):
            bad.append((a.cid, comments[a.case][0][:40], a.decision,
                        version[0], version[1][a.case]))
        if MARKER in comments[a.case][0] and version is not None:
            key = f"{version[0]}:{a.decision}"
            markers[key] = markers.get(key, 0) + 1
    queued = load.queued()
    found = stream_ids(redis)
    lost, twice = lost_and_twice(queued, found)
    print(f"\n{name}: clients={CLIENTS} seconds={STORM_S} "
          f"answered={len(answers)} statuses={load.statuses()} "
          f"failed={len(bad)} sighups={hups} admin_reloads={admin} "
          f"reloads_total+={reloads} reload_failures+={failures} "
          f"marker_answers={markers} answered_queue={len(queued)} "
          f"lost={len(lost)} twice={len(twice)} "
          f"max_client_wait_s={load.max_wait():.3f} "
          f"max_took_ms={load.max_took_ms():.1f}")
    assert not bad, bad[:5]
    assert not lost and not twice, (lost[:5], twice[:5])
    assert load.max_wait() < DEADLINE_S, load.max_wait()
    return markers


def start(make_daemon, redis, live, paths):
    install(live, paths["A"])
    return make_daemon(policy=str(live), redis=redis.socket, limits={
        "header_timeout_ms": int(DEADLINE_S * 1000),
        "body_timeout_ms": 10000, "idle_timeout_ms": 30000}).start()


def run_storm(name, make_daemon, redis, tmp_path, order):
    """Starts a daemon on version A, loads it through a storm installing
    the versions of `order` in turn, checks and prints every answer;
    returns the daemon, the versions and the storm's counts."""
    live, paths = policy_versions(tmp_path)
    comments = cases()
    owed = owed_decisions(paths, comments)
    d = start(make_daemon, redis, live, paths)
    reloads0 = metric(d, "commentd_reloads_total")
    load = TimedLoad(d.submit, make_body(comments, name[0]), CLIENTS).start()
    hups, admin = storm(d, live, order, paths)
    load.stop()
    # What the clients saw, before anything else asks the daemon.
    errors = [(a.cid, a.error) for a in load.snapshot() if a.error]
    print(f"\n{name}, clients' view: answered={len(load.snapshot())} "
          f"statuses={load.statuses()} sighups={hups} admin_reloads={admin} "
          f"max_client_wait_s={load.max_wait():.3f}")
    assert not errors, (len(errors), errors[:5])
    reloads = metric(d, "commentd_reloads_total") - reloads0
    failures = metric(d, "commentd_reload_failures_total")
    markers = judge(name, d, load, comments, owed, redis, reloads, failures,
                    hups, admin)
    return d, live, paths, owed, admin, reloads, failures, markers


def test_sighup_storm_fails_no_request(make_daemon, redis_server, tmp_path):
    d, live, paths, owed, admin, reloads, failures, markers = run_storm(
        "SIGHUP storm", make_daemon, redis_server, tmp_path, ["B", "A"])
    assert set(admin) == {200}, admin
    assert failures == 0
    # Reloads took effect: the marker was decided by both versions.
    assert markers.get("A:reject") and markers.get("B:queue"), markers
    assert reloads >= sum(admin.values()) + 1, (reloads, admin)
    # The daemon is still itself: the last version is the one serving.
    install(live, paths["A"])
    d.signal(signal.SIGHUP)
    digest_a = next(k for k, v in owed.items() if v[0] == "A")
    assert wait_for(lambda: readyz(d)["sites"][0]["digest"] == digest_a), \
        readyz(d)


def test_storm_of_broken_reloads_keeps_the_good_policy(make_daemon,
                                                       redis_server,
                                                       tmp_path):
    d, live, paths, owed, admin, reloads, failures, _ = run_storm(
        "broken-reload storm", make_daemon, redis_server, tmp_path,
        ["broken-key", "B", "broken-regex", "A", "broken-yaml", "B",
         "broken-key", "A"])
    # Admin reloads of a broken version answer 422 and change nothing.
    assert set(admin) <= {200, 422} and admin.get(422), admin
    assert failures >= admin[422] and reloads >= sum(admin.values()) + 1, \
        (reloads, failures, admin)
    log = d.log()
    assert "reload failed" in log
    assert 'unknown key "thresholdz"' in log
    # A last broken reload: still the good policy, deciding as it should.
    serving = readyz(d)["sites"][0]["digest"]
    assert serving in owed
    install(live, paths["broken-yaml"])
    d.signal(signal.SIGHUP)
    assert wait_for(lambda: metric(d, "commentd_reload_last_successful")
                    == 0), d.log()[-2000:]
    # A failed reload is timed too: more than nothing, far less than the
    # storm's deadlines.
    took = metric_value(d, "commentd_reload_last_duration_seconds")
    assert 0 < took < 5, took
    assert readyz(d)["sites"][0]["digest"] == serving
    status, data = d.check({"id": "last", "author": {"id": "u"},
                            "body": MARKER})
    want = {"A": "reject", "B": "queue"}[owed[serving][0]]
    assert status == 200 and json.loads(data)["decision"] == want, data
