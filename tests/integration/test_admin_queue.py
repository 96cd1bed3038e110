"""The moderators' admin routes and the decisions feed, through the real
daemon and a real redis-server: the queue (list, show, claim, approve,
reject), authors, the audit trail with the caller's uid from SO_PEERCRED,
stats, policy info, GET /v1/decisions (cursor and long-poll), and what
happens when Redis is away or the daemon stops.

Some tests speak as a second moderator: a child process that drops to
uid/gid 65534 (nobody) and reaches the admin socket through a directory
descriptor, so SO_PEERCRED sees another user.  They need root and are
skipped without it.
"""
import json
import os
import pwd
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import SOURCE, free_port, wait_for

NEW = os.path.join(SOURCE, "tests", "integration", "data", "state-new.yaml")
P = "commentd:{example}:"
NOBODY = 65534
TOKEN = "a-token-for-the-admin-tests"

# New commenters are held; an address queues too; one comment a minute per
# author (no burst), so reset-limits has something to forget.
POLICY = """\
policy: admin-test
new_commenters: {approved_needed: 1, action: queue}
rules:
  - {id: pii.email, regex: '[a-z]+@[a-z]+\\.[a-z]+', action: queue,
     category: privacy}
rate_limits:
  - {id: flood.author, key: author, rate: 1/1m, burst: 0, action: reject}
examples:
  - {body: "A fine comment.", expect: accept}
"""

ADMIN_ROUTES = [
    ("GET", "/v1/admin/queue"), ("GET", "/v1/admin/queue/c1"),
    ("POST", "/v1/admin/queue/c1/approve"), ("POST", "/v1/admin/queue/c1/reject"),
    ("POST", "/v1/admin/claim"), ("GET", "/v1/admin/authors/u1"),
    ("POST", "/v1/admin/authors/u1/ban"), ("POST", "/v1/admin/authors/u1/unban"),
    ("POST", "/v1/admin/authors/u1/trust"), ("POST", "/v1/admin/authors/u1/untrust"),
    ("POST", "/v1/admin/authors/u1/reset-limits"), ("GET", "/v1/admin/audit"),
    ("GET", "/v1/admin/stats"), ("GET", "/v1/admin/policy"),
]


def start(make_daemon, tmp_path, redis=None, policy=None, **kw):
    """A daemon whose admin socket the nobody group may use too."""
    if policy is None:
        policy = tmp_path / "admin-test.yaml"
        policy.write_text(POLICY)
    d = make_daemon(policy=str(policy), redis=redis, **kw)
    with open(d.config) as f:
        text = f.read()
    text = text.replace(f"admin: {{path: {d.admin}}}",
                        f"admin: {{path: {d.admin}, mode: \"0660\", "
                        f"group: nogroup}}")
    with open(d.config, "w") as f:
        f.write(text)
    os.chmod(tmp_path, 0o711)
    return d.start()


def call(d, method, path, body=None, which="admin", headers=None):
    """A request; the status, the JSON answer and the response."""
    h = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    status, data, r = d.request(method, path, body, h, which)
    try:
        answer = json.loads(data) if data.strip() else None
    except ValueError:
        answer = data
    return status, answer, r


def ok(d, method, path, body=None):
    status, answer, _ = call(d, method, path, body)
    assert status == 200, (method, path, status, answer)
    return answer


def refused(d, method, path, status, code, body=None, field=None, **kw):
    got, answer, r = call(d, method, path, body, **kw)
    assert got == status, (method, path, got, answer)
    assert answer["error"]["code"] == code, answer
    if field is not None:
        assert answer["error"].get("field") == field, answer
    return answer, r


def submit(d, cid, author, body="Hello there", thread=None):
    payload = {"id": cid, "author": {"id": author, "name": "Name " + author},
               "body": body}
    if thread:
        payload["thread"] = thread
    status, data = d.check(payload)
    assert status == 200, (status, data)
    return json.loads(data)


def queue_ids(d, query=""):
    return [i["id"] for i in ok(d, "GET", "/v1/admin/queue" + query)["items"]]


def need_root():
    if os.geteuid() != 0:
        pytest.skip("speaking as another uid needs root")


CHILD = r"""
import http.client, json, socket, sys
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(sys.argv[1])
c = Conn("localhost", timeout=10)
body = sys.argv[4] or None
c.request(sys.argv[2], sys.argv[3], body=body,
          headers={"Content-Type": "application/json"} if body else {})
r = c.getresponse()
print(json.dumps({"status": r.status, "body": r.read().decode()}))
"""


def as_nobody(d, method, path, body=None):
    """The request from uid and gid 65534: another moderator to SO_PEERCRED."""
    dirfd = os.open(str(d.dir), os.O_PATH | os.O_DIRECTORY)

    def demote():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, f"/proc/self/fd/{dirfd}/admin.sock",
             method, path, json.dumps(body) if body is not None else ""],
            pass_fds=(dirfd,), preexec_fn=demote, capture_output=True,
            timeout=30, cwd="/")
    finally:
        os.close(dirfd)
    assert out.returncode == 0, out.stderr.decode()
    got = json.loads(out.stdout)
    return got["status"], json.loads(got["body"])


@pytest.fixture
def admin(make_daemon, redis_server, tmp_path):
    return start(make_daemon, tmp_path, redis=redis_server.socket)


# --- where the routes answer ------------------------------------------------

def test_admin_routes_only_on_the_admin_socket(make_daemon, redis_server, tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    os.chmod(token, 0o600)
    d = start(make_daemon, tmp_path, redis=redis_server.socket,
              tcp={"port": free_port(), "token_file": str(token)})
    submit(d, "c1", "u1")
    auth = {"Authorization": "Bearer " + TOKEN}
    for method, path in ADMIN_ROUTES:
        for which, headers in (("submit", {}), ("tcp", auth)):
            status, answer, _ = call(d, method, path, which=which,
                                     headers=headers)
            assert status == 404, (which, method, path, status, answer)
            assert answer["error"]["code"] == "not_found"
        status, answer, _ = call(d, method, path)
        assert status not in (404, 405), (method, path, status, answer)
    # The decisions feed is a submit-side route: every listener has it.
    for which, headers in (("submit", {}), ("admin", {}), ("tcp", auth)):
        status, answer, _ = call(d, "GET", "/v1/decisions", which=which,
                                 headers=headers)
        assert status == 200, (which, answer)
        assert [x["id"] for x in answer["decisions"]] == ["c1"], answer
    # A known path with another method is 405, with Allow.
    _, r = refused(d, "POST", "/v1/admin/queue/c1", 405, "method_not_allowed")
    assert r.getheader("Allow") == "GET"
    _, r = refused(d, "GET", "/v1/admin/queue/c1/approve", 405,
                   "method_not_allowed")
    assert r.getheader("Allow") == "POST"
    _, r = refused(d, "POST", "/v1/decisions", 405, "method_not_allowed",
                   which="submit")
    # A segment too many or too few is no route at all.
    for path in ("/v1/admin/queue/c1/approve/x", "/v1/admin/queue//approve",
                 "/v1/admin/authors/", "/v1/admin/queue/c1/promote"):
        refused(d, "POST", path, 404, "not_found")


# --- the queue --------------------------------------------------------------

def test_queue_list_oldest_first_filtered_and_paged(admin):
    d = admin
    for i in range(5):
        body = "write to me at ben@example.com" if i in (1, 3) else f"hello {i}"
        assert submit(d, f"c{i}", f"u{i}", body)["decision"] == "queue"
    listing = ok(d, "GET", "/v1/admin/queue")
    assert listing["depth"] == 5 and listing["more"] is False
    assert [i["id"] for i in listing["items"]] == [f"c{i}" for i in range(5)]
    first = listing["items"][1]
    assert first["author"] == {"id": "u1", "name": "Name u1"}
    assert first["rules"] == ["pii.email", "new_commenters"]
    email = first["reasons"][0]
    assert email["matched"] == "ben@example.com"
    start_, end = email["span"]
    assert first["excerpt"][start_:end] == "ben@example.com"
    assert first["age_s"] >= 0 and "body" not in first
    # By rule, in the daemon, oldest first.
    assert queue_ids(d, "?rule=pii.email") == ["c1", "c3"]
    assert queue_ids(d, "?rule=nothing.fires") == []
    # Pages: a cursor, and whether more may follow.
    page = ok(d, "GET", "/v1/admin/queue?limit=2")
    assert [i["id"] for i in page["items"]] == ["c0", "c1"] and page["more"]
    page = ok(d, "GET", "/v1/admin/queue?limit=2&after=" + page["cursor"])
    assert [i["id"] for i in page["items"]] == ["c2", "c3"] and page["more"]
    page = ok(d, "GET", "/v1/admin/queue?limit=2&after=" + page["cursor"])
    assert [i["id"] for i in page["items"]] == ["c4"] and not page["more"]
    page = ok(d, "GET", "/v1/admin/queue?rule=pii.email&limit=1")
    assert [i["id"] for i in page["items"]] == ["c1"] and page["more"]
    page = ok(d, "GET", "/v1/admin/queue?rule=pii.email&limit=1&after="
              + page["cursor"])
    assert [i["id"] for i in page["items"]] == ["c3"]


def test_queue_list_refuses_bad_parameters(admin):
    d = admin
    for query, code, field in (
            ("?limit=0", "bad_value", "limit"), ("?limit=501", "bad_value", "limit"),
            ("?limit=-1", "bad_value", "limit"), ("?limit=1e2", "bad_value", "limit"),
            ("?after=abc", "bad_value", "after"), ("?after=1-", "bad_value", "after"),
            ("?after=1-2-3", "bad_value", "after"),
            ("?after=18446744073709551616-0", "bad_value", "after"),
            ("?rule=", "bad_value", "rule"), ("?limit=1&limit=2", "bad_value", "limit"),
            ("?site=ex%00ample", "bad_value", "site"), ("?site=%zz", "bad_value", "site"),
            ("?colour=red", "unknown_parameter", "colour"),
            ("?site=nosuchsite", "unknown_site", "site")):
        refused(d, "GET", "/v1/admin/queue" + query, 400, code, field=field)
    # The default site named explicitly is the same queue.
    submit(d, "c1", "u1")
    assert queue_ids(d, "?site=example") == ["c1"]


def test_excerpt_is_cut_on_a_character(admin):
    d = admin
    body = "a" * 239 + "é" + "b" * 100         # é straddles byte 240
    submit(d, "long", "u1", body)
    item = ok(d, "GET", "/v1/admin/queue")["items"][0]
    assert item["excerpt"] == "a" * 239 and item["excerpt_truncated"] is True
    whole = ok(d, "GET", "/v1/admin/queue/long")["item"]
    assert whole["body"] == body and whole["excerpt_truncated"] is True


def test_show_the_whole_comment(admin, redis_server):
    d = admin
    submit(d, "c1", "u1", "mail ben@example.com please", thread="news/1")
    item = ok(d, "GET", "/v1/admin/queue/c1")["item"]
    assert item["body"] == "mail ben@example.com please"
    assert item["thread"] == "news/1" and item["decision"] == "queue"
    assert item["author"]["record"] == {"approved": 0, "rejected": 0,
                                        "banned": False, "trusted": False}
    assert item["policy"]["name"] == "admin-test" and item["via"] == "redis"
    assert item["claim"] is None
    assert [r["rule"] for r in item["reasons"]] == ["pii.email", "new_commenters"]
    # Once claimed, show says by whom.
    claimed = ok(d, "POST", "/v1/admin/claim")["item"]
    assert claimed["id"] == "c1"
    item = ok(d, "GET", "/v1/admin/queue/c1")["item"]
    me = pwd.getpwuid(os.getuid()).pw_name
    assert item["claim"]["moderator"] == me and item["claim"]["deliveries"] == 1
    refused(d, "GET", "/v1/admin/queue/nope", 404, "unknown_comment")
    refused(d, "GET", "/v1/admin/queue/c1?site=nosuch", 400, "unknown_site")


def test_ids_in_the_path_are_percent_decoded_and_bounded(admin):
    d = admin
    odd = "a/b c%é"
    submit(d, odd, "u1")
    enc = "a%2Fb%20c%25%C3%A9"
    assert ok(d, "GET", "/v1/admin/queue/" + enc)["item"]["id"] == odd
    assert queue_ids(d) == [odd]
    longest = "x" * 128
    submit(d, longest, "u2")
    assert ok(d, "GET", "/v1/admin/queue/" + longest)["item"]["id"] == longest
    for bad in ("%zz", "%4", "a%00b", "%C3", "%FF", "x" * 129, "%78" * 129):
        answer, _ = refused(d, "GET", "/v1/admin/queue/" + bad, 400, "bad_value")
        assert "id in the path" in answer["error"]["message"]
    answer = ok(d, "POST", f"/v1/admin/queue/{enc}/approve")
    assert answer["id"] == odd
    assert ok(d, "GET", "/v1/admin/authors/u%31")["id"] == "u1"


# --- deciding ----------------------------------------------------------------

def test_approve_counts_for_the_author_and_admits_the_next(make_daemon,
                                                          redis_server, tmp_path):
    d = start(make_daemon, tmp_path, redis=redis_server.socket, policy=NEW)
    r = redis_server.client()
    assert submit(d, "n1", "newbie", thread="t/1")["decision"] == "queue"
    # A second comment before approval is held too.
    assert submit(d, "n2", "newbie")["decision"] == "queue"
    answer = ok(d, "POST", "/v1/admin/queue/n1/approve", {"note": "welcome"})
    me = pwd.getpwuid(os.getuid())
    assert answer["outcome"] == "approve" and answer["note"] == "welcome"
    assert answer["reason"] is None and answer["author"]["approved"] == 1
    assert answer["moderator"] == me.pw_name and answer["uid"] == os.getuid()
    assert ok(d, "GET", "/v1/admin/authors/newbie")["record"]["approved"] == 1
    assert r.cmd("HGET", P + "author:newbie", "approved") == b"1"
    # approved_needed is 1: the newcomer is a regular now.
    assert submit(d, "n3", "newbie")["decision"] == "accept"
    # The decided entry left the queue; the other is still there.
    assert queue_ids(d) == ["n2"]
    assert r.cmd("XLEN", P + "queue") == 1
    assert r.cmd("HGET", P + "queued", "n1") == b"decided"
    (sid, fields), = r.cmd("XRANGE", P + "decisions", "-", "+")
    f = {k.decode(): v.decode() for k, v in zip(fields[0::2], fields[1::2])}
    assert f["id"] == "n1" and f["outcome"] == "approve"
    assert f["author_id"] == "newbie" and f["thread"] == "t/1"
    assert f["rules"] == "new_commenters" and f["uid"] == str(os.getuid())
    assert sid.decode() == answer["entry"]
    # Deciding again, or something never queued, changes nothing.
    refused(d, "POST", "/v1/admin/queue/n1/approve", 409, "already_decided")
    refused(d, "POST", "/v1/admin/queue/n1/reject", 409, "already_decided",
            body={"reason": "spam"})
    refused(d, "GET", "/v1/admin/queue/n1", 409, "already_decided")
    refused(d, "POST", "/v1/admin/queue/never/approve", 404, "unknown_comment")
    assert r.cmd("XLEN", P + "decisions") == 1
    assert ok(d, "GET", "/v1/admin/authors/newbie")["record"]["approved"] == 1


def test_reject_needs_a_reason_code(admin, redis_server):
    d = admin
    r = redis_server.client()
    submit(d, "c1", "u1")
    for body, status, code, field in (
            (None, 400, "missing_field", "reason"),
            ({"reason": "rude"}, 400, "bad_value", "reason"),
            ({"reason": 3}, 400, "bad_type", "reason"),
            ({"reason": "spam", "note": 5}, 400, "bad_type", "note"),
            ({"reason": "spam", "note": "x" * 1001}, 400, "bad_value", "note"),
            ({"reason": "spam", "colour": "red"}, 400, "unknown_field", None),
            (b'{"reason": "spam"', 400, "invalid_json", None),
            (b'{"reason": "spam", "reason": "ad"}', 400, "invalid_json", None),
            (b'["spam"]', 400, "bad_type", None),
            (b'{"reason": "spam", "note": "\\u0000"}', 400, "invalid_json", None)):
        refused(d, "POST", "/v1/admin/queue/c1/reject", status, code,
                body=body, field=field,
                headers={"Content-Type": "application/json"} if body else None)
    refused(d, "POST", "/v1/admin/queue/c1/reject", 415, "bad_content_type",
            body=b'{"reason": "spam"}', headers={"Content-Type": "text/plain"})
    refused(d, "POST", "/v1/admin/queue/c1/approve", 400, "bad_value",
            body={"reason": "spam"}, field="reason")
    # None of that touched the queue or the record.
    assert queue_ids(d) == ["c1"] and r.cmd("XLEN", P + "decisions") == 0
    assert r.cmd("EXISTS", P + "author:u1") == 0
    for code in ("offensive", "abuse", "hate", "threat", "spam", "ad",
                 "privacy", "off-topic", "other"):
        submit(d, "r-" + code, "a-" + code)
        answer = ok(d, "POST", f"/v1/admin/queue/r-{code}/reject",
                    {"reason": code, "note": "é note"})
        assert answer["reason"] == code and answer["author"]["rejected"] == 1
    answer = ok(d, "POST", "/v1/admin/queue/c1/reject", {"reason": "spam"})
    assert answer["author"] == {"approved": 0, "rejected": 1}
    assert queue_ids(d) == []


def test_a_decided_comment_sent_again_is_not_queued_again(admin, redis_server):
    d = admin
    r = redis_server.client()
    assert submit(d, "c1", "u1")["decision"] == "queue"
    ok(d, "POST", "/v1/admin/queue/c1/reject", {"reason": "spam"})
    for _ in range(3):
        # The same id is answered as the first time, and stored nowhere.
        assert submit(d, "c1", "u1")["decision"] == "queue"
    assert r.cmd("XLEN", P + "queue") == 0
    assert r.cmd("HGET", P + "queued", "c1") == b"decided"
    assert queue_ids(d) == []
    assert r.cmd("XLEN", P + "decisions") == 1


# --- claims ------------------------------------------------------------------

def test_two_claims_never_return_the_same_item(admin):
    d = admin
    for i in range(4):
        submit(d, f"c{i}", f"u{i}")
    results = []

    def claim():
        status, answer, _ = call(d, "POST", "/v1/admin/claim")
        results.append((status, answer))
    threads = [threading.Thread(target=claim) for _ in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert all(status == 200 for status, _ in results), results
    got = [a["item"]["id"] for _, a in results if a["item"] is not None]
    assert sorted(got) == ["c0", "c1", "c2", "c3"], results
    assert sum(1 for _, a in results if a["item"] is None) == 3
    # Claimed items are still pending, and listed, until decided.
    assert len(queue_ids(d)) == 4


def test_two_moderators_claim_apart(admin):
    need_root()
    d = admin
    submit(d, "c0", "u0")
    submit(d, "c1", "u1")
    mine = ok(d, "POST", "/v1/admin/claim")["item"]
    status, theirs = as_nobody(d, "POST", "/v1/admin/claim")
    assert status == 200, theirs
    assert {mine["id"], theirs["item"]["id"]} == {"c0", "c1"}
    assert theirs["item"]["claim"]["moderator"] == "nobody"
    assert theirs["item"]["claim"]["uid"] == NOBODY
    status, none = as_nobody(d, "POST", "/v1/admin/claim")
    assert status == 200 and none["item"] is None
    shown = ok(d, "GET", "/v1/admin/queue/" + theirs["item"]["id"])["item"]
    assert shown["claim"]["moderator"] == "nobody"


def test_a_claim_comes_back_after_the_timeout(admin):
    need_root()
    d = admin
    submit(d, "c0", "u0")
    mine = ok(d, "POST", "/v1/admin/claim")["item"]
    assert mine["id"] == "c0" and mine["claim"]["reclaimed"] is False
    # Held for less than the timeout: nobody else gets it.
    status, answer = as_nobody(d, "POST", "/v1/admin/claim?timeout_s=5")
    assert status == 200 and answer["item"] is None
    time.sleep(1.3)
    # The first moderator left: after 1 s it is anyone's again.
    status, answer = as_nobody(d, "POST", "/v1/admin/claim?timeout_s=1")
    assert status == 200 and answer["item"]["id"] == "c0", answer
    assert answer["item"]["claim"]["reclaimed"] is True
    shown = ok(d, "GET", "/v1/admin/queue/c0")["item"]
    assert shown["claim"]["moderator"] == "nobody"
    assert shown["claim"]["deliveries"] == 2
    for bad in ("0", "86401", "x"):
        refused(d, "POST", "/v1/admin/claim?timeout_s=" + bad, 400,
                "bad_value", field="timeout_s")


def test_claim_on_an_empty_site(admin):
    assert ok(admin, "POST", "/v1/admin/claim") == {"item": None}


# --- authors -----------------------------------------------------------------

def test_author_ban_trust_and_reset_limits(admin, redis_server):
    d = admin
    r = redis_server.client()
    record = ok(d, "GET", "/v1/admin/authors/u8")
    assert record == {"site": "example", "id": "u8", "record": {
        "approved": 0, "rejected": 0, "banned": False, "trusted": False}}
    answer = ok(d, "POST", "/v1/admin/authors/u8/ban", {"note": "troll"})
    assert answer["record"]["banned"] is True and answer["action"] == "ban"
    assert answer["note"] == "troll"
    a = submit(d, "b1", "u8")
    assert a["decision"] == "reject" and "author.banned" in [
        x["rule"] for x in a["reasons"]]
    assert r.cmd("HGET", P + "author:u8", "banned") == b"1"
    assert ok(d, "POST", "/v1/admin/authors/u8/unban")["record"]["banned"] is False
    assert r.cmd("HGET", P + "author:u8", "banned") is None
    # Trusted: not held as a new commenter.
    assert ok(d, "POST", "/v1/admin/authors/u9/trust")["record"]["trusted"]
    assert submit(d, "t1", "u9")["decision"] == "accept"
    # One a minute: the next waits, until a moderator forgets the limit.
    a = submit(d, "t2", "u9")
    assert a["decision"] == "reject" and a["reasons"][0]["rule"] == "flood.author"
    assert r.cmd("EXISTS", P + "rl:flood.author:u9") == 1
    answer = ok(d, "POST", "/v1/admin/authors/u9/reset-limits")
    assert answer["deleted_keys"] == 1
    assert r.cmd("EXISTS", P + "rl:flood.author:u9") == 0
    assert submit(d, "t3", "u9")["decision"] == "accept"
    assert ok(d, "POST", "/v1/admin/authors/u9/reset-limits")["deleted_keys"] == 1
    assert ok(d, "POST", "/v1/admin/authors/u9/untrust")["record"]["trusted"] is False
    actions = [(e["action"], e["target"])
               for e in ok(d, "GET", "/v1/admin/audit")["entries"]]
    assert actions == [("untrust", "u9"), ("reset-limits", "u9"),
                       ("reset-limits", "u9"), ("trust", "u9"),
                       ("unban", "u8"), ("ban", "u8")]
    refused(d, "POST", "/v1/admin/authors/u9/ban", 400, "unknown_field",
            body={"reason": "spam"})
    refused(d, "POST", "/v1/admin/authors/u9/ban", 400, "bad_value",
            body={"note": "n" * 1001}, field="note")
    assert len(ok(d, "GET", "/v1/admin/audit")["entries"]) == 6


# --- the audit trail -----------------------------------------------------------

def test_audit_records_the_callers_uid_and_name(admin):
    d = admin
    submit(d, "c0", "u0")
    submit(d, "c1", "u1")
    ok(d, "POST", "/v1/admin/queue/c0/approve", {"note": "fine by me"})
    me = pwd.getpwuid(os.getuid())
    (entry,) = ok(d, "GET", "/v1/admin/audit")["entries"]
    assert entry["moderator"] == me.pw_name and entry["uid"] == os.getuid()
    assert entry["action"] == "approve" and entry["target"] == "c0"
    assert entry["note"] == "fine by me" and entry["reason"] is None
    if os.geteuid() != 0:
        return
    status, answer = as_nobody(d, "POST", "/v1/admin/queue/c1/reject",
                               {"reason": "off-topic", "note": "not here"})
    assert status == 200 and answer["moderator"] == "nobody", answer
    status, answer = as_nobody(d, "POST", "/v1/admin/authors/u1/ban")
    assert status == 200 and answer["uid"] == NOBODY
    entries = ok(d, "GET", "/v1/admin/audit")["entries"]
    assert [(e["moderator"], e["uid"], e["action"], e["target"])
            for e in entries] == [
        ("nobody", NOBODY, "ban", "u1"),
        ("nobody", NOBODY, "reject", "c1"),
        (me.pw_name, os.getuid(), "approve", "c0")]
    assert entries[1]["reason"] == "off-topic"
    feed = ok(d, "GET", "/v1/decisions")["decisions"]
    assert [(x["id"], x["moderator"], x["uid"]) for x in feed] == [
        ("c0", me.pw_name, os.getuid()), ("c1", "nobody", NOBODY)]
    # Pages, newest first.
    page = ok(d, "GET", "/v1/admin/audit?limit=2")
    assert len(page["entries"]) == 2 and page["more"] is True
    page = ok(d, "GET", "/v1/admin/audit?limit=2&before=" + page["cursor"])
    assert [e["target"] for e in page["entries"]] == ["c0"]
    refused(d, "GET", "/v1/admin/audit?before=0-0", 400, "bad_value",
            field="before")


# --- stats and policy ------------------------------------------------------------

def test_stats_by_outcome_and_rule(admin):
    d = admin
    stats = ok(d, "GET", "/v1/admin/stats")
    assert stats["queue"] == {"depth": 0, "oldest_age_s": None, "claimed": 0}
    assert stats["decisions"]["last_day"] == {"approve": 0, "reject": 0,
                                              "by_rule": {}}
    submit(d, "c0", "u0", "mail ben@example.com")
    submit(d, "c1", "u1")
    submit(d, "c2", "u2")
    submit(d, "c3", "u3")
    ok(d, "POST", "/v1/admin/claim")
    ok(d, "POST", "/v1/admin/queue/c0/approve")
    ok(d, "POST", "/v1/admin/queue/c1/approve")
    ok(d, "POST", "/v1/admin/queue/c2/reject", {"reason": "spam"})
    stats = ok(d, "GET", "/v1/admin/stats")
    assert stats["queue"]["depth"] == 1 and stats["queue"]["claimed"] == 0
    assert stats["queue"]["oldest_age_s"] >= 0
    for window in ("last_hour", "last_day"):
        w = stats["decisions"][window]
        assert w["approve"] == 2 and w["reject"] == 1
        assert w["by_rule"] == {"pii.email": {"approve": 1, "reject": 0},
                                "new_commenters": {"approve": 2, "reject": 1}}
    assert stats["decisions_read"] == 3 and stats["truncated"] is False
    ok(d, "POST", "/v1/admin/claim")
    assert ok(d, "GET", "/v1/admin/stats")["queue"]["claimed"] == 1


def verdict_totals(answers):
    """What the stats should count for these answers: by decision, by rule."""
    want = {"accept": 0, "queue": 0, "reject": 0, "by_rule": {}}
    for a in answers:
        want[a["decision"]] += 1
        for r in a["reasons"]:
            by = want["by_rule"].setdefault(
                r["rule"], {"accept": 0, "queue": 0, "reject": 0})
            by[a["decision"]] += 1
    return want


def test_stats_count_the_daemons_own_decisions(admin):
    """Every decision is counted once by decision and by rule, in both
    windows: retries and dry runs are not counted, and counts reach Redis
    within about a second (the daemon flushes them once a second)."""
    d = admin
    stats = ok(d, "GET", "/v1/admin/stats")
    empty = {"accept": 0, "queue": 0, "reject": 0, "by_rule": {}}
    assert stats["verdicts"] == {"last_hour": empty, "last_day": empty}
    ok(d, "POST", "/v1/admin/authors/u9/trust")
    answers = [submit(d, "c9", "u9", "A fine comment."),
               submit(d, "c0", "u0", "mail ben@example.com"),
               submit(d, "c1", "u0", "A second comment, too soon.")]
    assert [a["decision"] for a in answers] == ["accept", "queue", "reject"]
    # A retry of c0 and a dry run: answered, and counted by nothing.
    again = submit(d, "c0", "u0", "mail ben@example.com")
    assert (again["decision"], again["reasons"]) == (answers[1]["decision"],
                                                     answers[1]["reasons"])
    status, data = d.check({"id": "c-dry", "author": {"id": "u5"},
                            "body": "mail amy@example.com", "dry_run": True})
    assert status == 200 and json.loads(data)["decision"] == "queue"
    want = verdict_totals(answers)
    assert want["by_rule"]["pii.email"] == {"accept": 0, "queue": 1, "reject": 0}
    assert wait_for(lambda: ok(d, "GET", "/v1/admin/stats")["verdicts"][
        "last_hour"] != empty, timeout=10)
    # One more flush interval: nothing else arrives.
    time.sleep(1.5)
    got = ok(d, "GET", "/v1/admin/stats")["verdicts"]
    assert got == {"last_hour": want, "last_day": want}, got
    metrics = d.request("GET", "/metrics", None, {}, "admin")[1].decode()
    assert re.search(r"^commentd_stats_flushes_total [1-9]", metrics, re.M)
    assert re.search(r"^commentd_stats_waiting 0$", metrics, re.M)
    assert re.search(r"^commentd_stats_lost_total 0$", metrics, re.M)


def test_stats_counts_wait_while_redis_is_away(admin, redis_server):
    """Decisions made without Redis are counted when it returns."""
    d = admin
    redis_server.kill()
    assert wait_for(lambda: b'"redis":"up"' not in d.get("/readyz")[1], 10)
    answers = [submit(d, f"w{i}", f"u{i}", "mail ben@example.com")
               for i in range(3)]
    assert {a["decision"] for a in answers} == {"queue"}
    time.sleep(1.5)   # a flush interval with Redis away: the counts wait
    assert re.search(r"^commentd_stats_waiting [1-9]",
                     d.get("/metrics")[1].decode(), re.M)
    redis_server.start()
    want = verdict_totals(answers)
    def counted():
        status, stats, _ = call(d, "GET", "/v1/admin/stats")
        return status == 200 and stats["verdicts"]["last_day"] == want
    assert wait_for(counted, 15), d.log()
    assert ok(d, "GET", "/v1/admin/stats")["verdicts"]["last_hour"] == want


def test_policy_info(admin):
    info = ok(admin, "GET", "/v1/admin/policy")
    (site,) = info["sites"]
    assert info["default_site"] == "example" and site["default"] is True
    assert site["policy"] == "admin-test" and site["digest"].startswith("sha256:")
    assert site["counts"]["regexes"] == 1 and site["counts"]["rate_limits"] == 1
    assert site["counts"]["examples"] == 1
    refused(admin, "GET", "/v1/admin/policy?site=example", 400,
            "unknown_parameter")


# --- the decisions feed ----------------------------------------------------------

def test_decisions_feed_resumes_from_a_cursor(admin):
    d = admin
    for i in range(3):
        submit(d, f"c{i}", f"u{i}", thread=f"t/{i}")
    ok(d, "POST", "/v1/admin/queue/c0/approve", {"note": "ok"})
    ok(d, "POST", "/v1/admin/queue/c1/reject", {"reason": "abuse"})
    feed = ok(d, "GET", "/v1/decisions")
    got = feed["decisions"]
    assert [(x["id"], x["outcome"], x["reason"]) for x in got] == [
        ("c0", "approve", None), ("c1", "reject", "abuse")]
    assert got[0]["note"] == "ok" and got[0]["thread"] == "t/0"
    assert got[0]["author_id"] == "u0" and got[0]["rules"] == ["new_commenters"]
    assert feed["cursor"] == got[1]["entry"]
    one = ok(d, "GET", "/v1/decisions?limit=1")
    assert [x["id"] for x in one["decisions"]] == ["c0"]
    rest = ok(d, "GET", "/v1/decisions?after=" + one["cursor"])
    assert [x["id"] for x in rest["decisions"]] == ["c1"]
    # Caught up: nothing, and the cursor stays.
    empty = ok(d, "GET", "/v1/decisions?after=" + feed["cursor"])
    assert empty == {"site": "example", "decisions": [], "cursor": feed["cursor"]}
    ok(d, "POST", "/v1/admin/queue/c2/approve")
    after = ok(d, "GET", "/v1/decisions?after=" + feed["cursor"])
    assert [x["id"] for x in after["decisions"]] == ["c2"]
    for query, field in (("after=abc", "after"), ("after=1", "after"),
                         ("after=-1", "after"), ("after=1-2-3", "after"),
                         ("after=18446744073709551615-18446744073709551615",
                          "after"),
                         ("wait=31", "wait"), ("wait=-1", "wait"),
                         ("limit=0", "limit"), ("limit=1001", "limit")):
        refused(d, "GET", "/v1/decisions?" + query, 400, "bad_value",
                field=field, which="submit")
    refused(d, "GET", "/v1/decisions?site=nosuch", 400, "unknown_site",
            which="submit")


def test_decisions_feed_long_polls(admin):
    d = admin
    submit(d, "c0", "u0")
    cursor = ok(d, "GET", "/v1/decisions")["cursor"]
    assert cursor == "0-0"
    # Nothing arrives: answered empty when the wait is over, not before.
    t0 = time.monotonic()
    answer = ok(d, "GET", "/v1/decisions?wait=1&after=" + cursor)
    took = time.monotonic() - t0
    assert answer["decisions"] == [] and answer["cursor"] == cursor
    assert 0.9 <= took < 3, took
    # A decision made during the wait is answered at once.
    box = {}

    def poll():
        t = time.monotonic()
        box["answer"] = call(d, "GET", "/v1/decisions?wait=20&after=" + cursor,
                             which="submit")[1]
        box["took"] = time.monotonic() - t
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.6)
    assert t.is_alive()
    ok(d, "POST", "/v1/admin/queue/c0/approve")
    t.join(10)
    assert not t.is_alive()
    assert [x["id"] for x in box["answer"]["decisions"]] == ["c0"]
    assert 0.5 <= box["took"] < 3, box


def test_a_waiting_feed_survives_a_reload_and_is_answered_at_a_stop(
        make_daemon, redis_server, tmp_path):
    d = start(make_daemon, tmp_path, redis=redis_server.socket)
    submit(d, "c0", "u0")
    box = {}

    def poll(after):
        t = time.monotonic()
        box["status"], box["answer"], _ = call(
            d, "GET", "/v1/decisions?wait=30&after=" + after, which="submit")
        box["took"] = time.monotonic() - t
    t = threading.Thread(target=poll, args=("0-0",))
    t.start()
    time.sleep(0.5)
    # A reload frees the old config; the waiting request holds its own.
    assert ok(d, "POST", "/v1/admin/reload")["status"] == "reloaded"
    ok(d, "POST", "/v1/admin/queue/c0/approve")
    t.join(10)
    assert box["status"] == 200 and [x["id"] for x in
                                     box["answer"]["decisions"]] == ["c0"]
    cursor = box["answer"]["cursor"]
    box.clear()
    t = threading.Thread(target=poll, args=(cursor,))
    t.start()
    time.sleep(0.5)
    assert t.is_alive() and box == {}
    # A stop answers it at once, with nothing and the same cursor.
    t0 = time.monotonic()
    assert d.stop() == 0, d.log()
    t.join(10)
    assert box["status"] == 200, box
    assert box["answer"] == {"site": "example", "decisions": [],
                             "cursor": cursor}
    assert time.monotonic() - t0 < 2 and box["took"] < 3, box
    d.assert_clean()


# --- without Redis -------------------------------------------------------------

def test_redis_away_is_503_with_retry_after(admin, redis_server):
    d = admin
    submit(d, "c0", "u0")
    redis_server.kill()
    assert wait_for(lambda: json.loads(d.get("/readyz")[1])["redis"] != "up",
                    10), d.log()
    for method, path in ADMIN_ROUTES:
        if path == "/v1/admin/policy":
            continue
        answer, r = refused(d, method, path, 503, "unavailable")
        assert r.getheader("Retry-After") == "5"
    _, r = refused(d, "GET", "/v1/decisions?wait=5", 503, "unavailable",
                   which="submit")
    assert r.getheader("Retry-After") == "5"
    # The policy needs no Redis.
    assert ok(d, "GET", "/v1/admin/policy")["sites"][0]["policy"] == "admin-test"


def test_redis_frozen_mid_request(admin, redis_server):
    d = admin
    submit(d, "c0", "u0")
    box = {}

    def poll():
        box["status"], box["answer"], box["r"] = call(
            d, "GET", "/v1/decisions?wait=10", which="submit")
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    redis_server.pause()
    try:
        t0 = time.monotonic()
        status, answer, r = call(d, "GET", "/v1/admin/queue/c0")
        assert status == 503 and answer["error"]["code"] == "unavailable"
        assert time.monotonic() - t0 < 3
        t.join(10)
        assert box["status"] == 503 and box["r"].getheader("Retry-After") == "5"
    finally:
        redis_server.resume()
    assert wait_for(lambda: call(d, "GET", "/v1/admin/queue")[0] == 200, 10)


def test_without_redis_configured(make_daemon, tmp_path):
    d = start(make_daemon, tmp_path)
    answer, r = refused(d, "GET", "/v1/admin/queue", 503, "no_redis")
    assert r.getheader("Retry-After") is None
    refused(d, "GET", "/v1/decisions", 503, "no_redis", which="submit")
    assert ok(d, "GET", "/v1/admin/policy")["sites"][0]["site"] == "example"


def test_a_client_that_leaves_a_long_poll(make_daemon, redis_server, tmp_path):
    import socket
    d = start(make_daemon, tmp_path, redis=redis_server.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.submit)
    s.sendall(b"GET /v1/decisions?wait=30&after=0-0 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    s.close()
    time.sleep(0.3)
    # The daemon forgets the request at once: nothing is left at the stop.
    assert d.stop() == 0, d.log()
    d.assert_clean()


def test_decide_script_writes_nothing_when_it_refuses(redis_server):
    """decide.lua called as the daemon calls it, on a queue it did not read."""
    with open(os.path.join(SOURCE, "daemon", "redis", "decide.lua"), "rb") as f:
        text = f.read()
    r = redis_server.client()
    keys = [P + "queue", P + "queued", P + "decisions", P + "audit",
            P + "author:u1"]
    sid = r.cmd("XADD", P + "queue", "*", "id", "c1", "author_id", "u1",
                "thread", "t").decode()
    r.cmd("HSET", P + "queued", "c1", sid)

    def decide(cid, stream_id, author="u1", outcome="approve"):
        return r.cmd("EVAL", text, len(keys), *keys, cid, stream_id, outcome,
                     "", "", "mod", "0", author, "rules")
    assert decide("c9", sid) == [b"unknown"]
    assert decide("c1", "1-1") == [b"changed"]
    assert decide("c1", sid, author="u2") == [b"changed"]
    for key in keys[2:]:
        assert r.cmd("EXISTS", key) == 0, key
    assert r.cmd("XLEN", P + "queue") == 1
    with pytest.raises(Exception, match="commentd decide"):
        decide("c1", sid, outcome="maybe")
    ok_ = decide("c1", sid)
    assert ok_[0] == b"ok" and ok_[3:] == [1, 0]
    assert decide("c1", sid) == [b"decided"]
    assert r.cmd("XLEN", P + "decisions") == 1 and r.cmd("XLEN", P + "audit") == 1
    assert r.cmd("XLEN", P + "queue") == 0
