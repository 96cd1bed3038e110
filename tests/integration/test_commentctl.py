"""commentctl, the moderators' CLI, against the real daemon and a real
redis-server: every verb in human and --json form (the JSON parsed, never
grepped), the exit statuses, one clear line for every mistake with nothing
changed in Redis, the audit trail's peer uid, `check` as a dry run with the
normalised text, and `review` driven in a real terminal under tmux: two
sessions never see the same comment, and a comment claimed by a moderator
who left comes back after the timeout.

docs/moderation.md's transcript is checked here too: its commands are run
against a daemon fed the same comments and must print what the guide shows
(ages, times and digests aside).  COMMENTCTL_UPDATE_DOCS=1 rewrites the
transcript from the current build instead.

Some tests speak as a second moderator, uid and gid 65534 (nobody); they
need root and are skipped without it.
"""
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import COMMENTD, SOURCE, wait_for

COMMENTCTL = os.environ.get("COMMENTCTL_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(COMMENTD))),
    "client", "commentctl")
GUIDE = os.path.join(SOURCE, "docs", "moderation.md")
P = "commentd:{example}:"
NOBODY = 65534

# All three are held under the shipped policy: their authors are new.
COMMENTS = [
    ("c-101", "u-7", "Ben",
     "Write to me at ben@example.com and I will send you the documents."),
    ("c-102", "u-8", "Ana",
     "The council should publish the report before the vote."),
    ("c-103", "u-9", "Max",
     "Great deals on watches at http://cheap.example/deal today only!"),
]


def env(**extra):
    """The environment commentctl runs in: no socket from outside, a known
    width, a UTF-8 locale."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("COMMENTCTL_SOCKET", "NO_COLOR")}
    e.update(COLUMNS="100", LC_ALL="C.UTF-8")
    e.update(extra)
    return e


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")

    def __repr__(self):
        return f"rc={self.rc}\nstdout:\n{self.out}\nstderr:\n{self.err}"


class Ctl:
    """Runs commentctl against one daemon's admin socket."""

    def __init__(self, daemon, redis):
        self.d = daemon
        self.redis = redis

    def run(self, *args, stdin=None, sock=None, extra_env=None, user=None):
        argv = [COMMENTCTL, "-s", sock or self.d.admin, *args]
        kw = {}
        if user is not None:
            # Another moderator: the socket through a directory descriptor,
            # so the test directory's parents need not be open to it.
            dirfd = os.open(str(self.d.dir), os.O_PATH | os.O_DIRECTORY)
            argv[2] = f"/proc/self/fd/{dirfd}/admin.sock"

            def demote():
                os.setgroups([])
                os.setgid(user)
                os.setuid(user)
            kw = dict(pass_fds=(dirfd,), preexec_fn=demote, cwd="/")
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True,
                               timeout=60, env=env(**(extra_env or {})),
                               **kw)
        finally:
            if user is not None:
                os.close(dirfd)
        return Result(p)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.rc == 0 and r.err == "", r
        return r.out

    def json(self, *args, **kw):
        r = self.run(*args, "--json", **kw)
        assert r.rc == 0 and r.err == "", r
        return json.loads(r.out)

    def fails(self, rc, *args, **kw):
        """A failure: the exit status rc, one line on stderr, nothing out."""
        r = self.run(*args, **kw)
        assert r.rc == rc, r
        assert r.out == "", r
        lines = r.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("commentctl: "), r
        return lines[0]

    def submit(self, cid, author, name, body):
        status, data = self.d.check({"id": cid, "author": {"id": author,
                                     "name": name}, "body": body})
        assert status == 200, (status, data)
        return json.loads(data)

    def counted(self):
        """Waits until the daemon has flushed its decision counts to Redis
        (it does once a second), so stats show every decision made."""
        assert wait_for(lambda: re.search(
            rb"^commentd_stats_waiting 0$",
            self.d.get("/metrics")[1], re.M), 10)

    def submit_all(self, comments=COMMENTS):
        for c in comments:
            assert self.submit(*c)["decision"] == "queue", c

    def state(self):
        """Every commentd key in Redis and what it holds, claims included:
        to show that a refused command changed nothing.  The decisions
        made before it are counted first: the daemon adds them to the stats
        buckets a second later, which no command of the test did."""
        self.counted()
        r = self.redis.client()
        out = {}
        try:
            for key in sorted(r.cmd("KEYS", "commentd:*")):
                kind = r.cmd("TYPE", key)
                if kind == "stream":
                    value = [r.cmd("XRANGE", key, "-", "+")]
                    try:
                        value.append(r.cmd("XPENDING", key, "moderators",
                                           "-", "+", 100))
                    except Exception:
                        pass
                elif kind == "hash":
                    value = sorted(r.cmd("HGETALL", key))
                elif kind == "zset":
                    value = r.cmd("ZRANGE", key, 0, -1)
                else:
                    value = r.cmd("GET", key)
                out[key] = (kind, value)
        finally:
            r.close()
        return out


def need_root():
    if os.geteuid() != 0:
        pytest.skip("speaking as another uid needs root")


def start(make_daemon, tmp_path, redis, admin_dir=None):
    """A daemon with the shipped policy whose admin socket the nobody group
    may use too (mode 0660, group nogroup), optionally in admin_dir."""
    d = make_daemon(redis=redis.socket)
    if admin_dir is not None:
        d.admin = os.path.join(admin_dir, "admin.sock")
    d.admin_access = {"mode": "0660", "group": "nogroup"}
    d.write_config()
    os.chmod(tmp_path, 0o711)
    return d.start()


@pytest.fixture
def ctl(make_daemon, redis_server, tmp_path):
    assert os.access(COMMENTCTL, os.X_OK), f"{COMMENTCTL} is not built"
    return Ctl(start(make_daemon, tmp_path, redis_server), redis_server)


# --- reading the queue --------------------------------------------------------

def test_queue_oldest_first_with_matches_highlighted(ctl):
    assert ctl.ok("queue").startswith("Nothing is waiting on example")
    ctl.submit_all()
    out = ctl.ok("queue")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "AGE", "AUTHOR", "RULES", "TEXT"]
    assert [l.split()[0] for l in lines[1:4]] == ["c-101", "c-102", "c-103"]
    # Not a terminal: no colour; the matched bytes are between [ and ].
    assert "\033" not in out
    assert "[ben@example.com]" in lines[1]
    assert "at [http://cheap.example/" in lines[3]
    assert "pii.email,new_commenters" in lines[1]
    assert "u-7 (Ben)" in lines[1]
    assert lines[4] == "3 of 3 pending on example, oldest first"
    # Sized to the terminal: COLUMNS=70 cuts the text, never the ids.
    narrow = ctl.run("queue", extra_env={"COLUMNS": "70"}).out.splitlines()
    assert all(len(l) <= 70 for l in narrow[1:4]), narrow
    assert narrow[1].startswith("c-101") and narrow[1].endswith("…")

    j = ctl.json("queue")
    assert j["depth"] == 3 and j["more"] is False
    assert [i["id"] for i in j["items"]] == ["c-101", "c-102", "c-103"]
    assert j["items"][0]["reasons"][0]["matched"] == "ben@example.com"
    j = ctl.json("queue", "--rule", "links.some")
    assert [i["id"] for i in j["items"]] == ["c-103"]
    j = ctl.json("queue", "--limit", "1")
    assert [i["id"] for i in j["items"]] == ["c-101"] and j["more"] is True
    assert "more with --limit" in ctl.ok("queue", "--limit", "1")
    assert ctl.ok("queue", "--rule", "nope").startswith(
        "Nothing is waiting on example for rule nope")


def test_show_the_whole_comment(ctl):
    ctl.submit_all()
    out = ctl.ok("show", "c-101")
    assert out.startswith("c-101  queued ")
    assert "author   u-7 (Ben)" in out
    assert "record   approved 0, rejected 0; not banned; not trusted" in out
    assert "verdict  queue, score 0, by news-default, stored via redis" in out
    assert "claim    none" in out
    assert ("  Write to me at [ben@example.com] and I will send you the "
            "documents.") in out.splitlines()
    # Each reason with its message and the matched text in context.
    reasons = out.split("\nreasons\n")[1]
    assert "  pii.email  privacy, queue" in reasons
    assert "Please do not post e-mail addresses." in reasons
    assert "new_commenters  new_commenter, queue" in reasons

    item = ctl.json("show", "c-101")["item"]
    assert item["id"] == "c-101" and item["body"] == COMMENTS[0][3]
    assert item["author"]["record"] == {"approved": 0, "rejected": 0,
                                        "banned": False, "trusted": False}
    assert [r["rule"] for r in item["reasons"]] == ["pii.email",
                                                    "new_commenters"]


def test_ids_are_percent_encoded(ctl):
    cid = "c/1 ü?&#"
    ctl.submit(cid, "u-1", "Odd", "mail odd@example.com")
    assert ctl.json("show", cid)["item"]["id"] == cid
    assert ctl.ok("approve", cid).startswith(f"approved {cid} as ")
    assert ctl.json("log")["entries"][0]["target"] == cid


def test_comment_text_cannot_steer_the_terminal(ctl):
    body = "evil \033[2J\033]0;pwned\007 text \u202eoot mail x@example.com"
    ctl.submit("c-evil", "u-6", "Eve\033[31m", body)
    for out in (ctl.ok("queue"), ctl.ok("show", "c-evil")):
        assert "\033" not in out and "\007" not in out and "\u202e" not in out
        assert "^[[2J" in out and "<U+202E>" in out
    assert ctl.json("show", "c-evil")["item"]["body"] == body


# --- deciding -------------------------------------------------------------------

def test_approve_and_reject(ctl):
    ctl.submit_all()
    out = ctl.ok("approve", "c-101", "--note", "fine, an address of his own")
    assert re.fullmatch(r"approved c-101 as root \(uid 0\); the author has 1 "
                        r"approved, 0 rejected\n", out), out
    out = ctl.ok("reject", "c-103", "--reason", "spam")
    assert out.startswith("rejected c-103 (spam) as root (uid 0)")
    j = ctl.json("reject", "c-102", "--reason", "off-topic", "--note", "n")
    assert len(j) == 1 and j[0]["id"] == "c-102"
    assert (j[0]["outcome"], j[0]["reason"], j[0]["note"]) == (
        "reject", "off-topic", "n")
    assert j[0]["uid"] == 0 and j[0]["moderator"] == "root"
    assert ctl.json("queue")["depth"] == 0
    # The backend sees the outcomes in the decisions feed.
    status, data = ctl.d.get("/v1/decisions")
    feed = json.loads(data)["decisions"]
    assert [(d["id"], d["outcome"], d["reason"]) for d in feed] == [
        ("c-101", "approve", None), ("c-103", "reject", "spam"),
        ("c-102", "reject", "off-topic")]


def test_approve_several_at_once(ctl):
    ctl.submit_all()
    j = ctl.json("approve", "c-101", "c-102")
    assert [d["id"] for d in j] == ["c-101", "c-102"]
    assert [i["id"] for i in ctl.json("queue")["items"]] == ["c-103"]


def test_unknown_ids_and_bad_arguments_change_nothing(ctl):
    ctl.submit_all()
    ctl.ok("approve", "c-102")
    before = ctl.state()
    line = ctl.fails(1, "approve", "c-101", "c-999")
    assert line == ("commentctl: approve: c-999: no comment with this id was "
                    "queued on this site (unknown_comment); nothing was "
                    "approved")
    line = ctl.fails(1, "reject", "c-102", "c-101", "--reason", "spam")
    assert "c-102: this comment was already decided" in line
    assert "nothing was rejected" in line
    assert "unknown_comment" in ctl.fails(1, "show", "c-999")
    assert "already_decided" in ctl.fails(1, "show", "c-102")
    assert ctl.fails(1, "queue", "--site", "nowhere") == (
        "commentctl: queue: no such site is configured (unknown_site, site)")
    assert ctl.fails(2, "reject", "c-101") == (
        "commentctl: reject: --reason is required: offensive, abuse, hate, "
        "threat, spam, ad, privacy, off-topic or other")
    assert "not a reason code" in ctl.fails(2, "reject", "c-101", "--reason",
                                            "rude")
    assert "given twice" in ctl.fails(2, "approve", "c-101", "c-101")
    assert "--note is 1001 bytes" in ctl.fails(2, "approve", "c-101",
                                               "--note", "x" * 1001)
    assert "not an action" in ctl.fails(2, "author", "u-7", "frob")
    assert "--note goes with an action" in ctl.fails(2, "author", "u-7",
                                                     "--note", "x")
    assert "bad_value" in ctl.fails(1, "queue", "--limit", "501")
    assert ctl.state() == before


def test_usage_errors_exit_2_with_one_line(ctl):
    cases = {
        ("frob",): "unknown command \"frob\"",
        ("queue", "--bogus"): "unknown option --bogus",
        ("queue", "--site"): "--site needs a value",
        ("queue", "--note", "x"): "--note is not an option of queue",
        ("queue", "--limit", "ten"): "--limit must be a whole number",
        ("queue", "extra"): "too many arguments",
        ("show",): "too few arguments",
        ("review", "--json"): "--json is not an option of review",
        ("--json", "review"): "--json is not an option of review",
        ("approve", "c-1", "--note", b"\xff"): "--note is not UTF-8",
        ("review", "--timeout", "0"): "--timeout must be",
        ("--site", "x", "queue"): "--site is not an option of commentctl",
        (): "no command",
    }
    for args, text in cases.items():
        assert text in ctl.fails(2, *args), args


def test_help_for_every_verb():
    verbs = ["queue", "show", "approve", "reject", "review", "check",
             "author", "stats", "log", "policy", "reload"]
    p = subprocess.run([COMMENTCTL, "--help"], capture_output=True, env=env())
    assert p.returncode == 0
    listed = [l.split()[0] for l in p.stdout.decode().split("commands:\n")[1]
              .split("\n\n")[0].splitlines()]
    assert listed == verbs
    for verb in verbs:
        for argv in ([verb, "--help"], ["help", verb]):
            p = subprocess.run([COMMENTCTL, *argv], capture_output=True,
                               env=env())
            out = p.stdout.decode()
            assert p.returncode == 0 and p.stderr == b"", (argv, p)
            assert out.startswith(f"usage: commentctl {verb} "), out
            assert "-s SOCKET" in out


def test_the_socket_missing_or_wrong(ctl, tmp_path):
    missing = str(tmp_path / "nowhere.sock")
    assert ctl.fails(1, "queue", sock=missing) == (
        f"commentctl: queue: cannot connect to {missing}: No such file or "
        f"directory")
    # COMMENTCTL_SOCKET is used when -s is not given.
    p = subprocess.run([COMMENTCTL, "policy", "--json"], capture_output=True,
                       env=env(COMMENTCTL_SOCKET=ctl.d.admin), timeout=30)
    assert p.returncode == 0, p
    assert json.loads(p.stdout)["default_site"] == "example"
    plain = tmp_path / "plain-file"
    plain.write_text("")
    assert "cannot connect" in ctl.fails(1, "queue", sock=str(plain))
    assert "longer than" in ctl.fails(1, "queue", sock="/" + "x" * 200)
    # The submit socket refuses every admin route.
    assert "(not_found)" in ctl.fails(1, "queue", sock=ctl.d.submit)
    assert "(not_found)" in ctl.fails(1, "stats", sock=ctl.d.submit)
    assert "(not_found)" in ctl.fails(1, "approve", "c-1", sock=ctl.d.submit)


def test_a_silent_daemon_is_a_deadline_not_a_hang(ctl, tmp_path):
    """A socket that accepts and never answers: commentctl gives up."""
    import socket
    path = str(tmp_path / "silent.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    try:
        t0 = time.monotonic()
        line = ctl.fails(1, "queue", sock=path,
                         extra_env={"COMMENTCTL_TIMEOUT": "2"})
        took = time.monotonic() - t0
    finally:
        s.close()
    assert "did not answer in time" in line
    assert 1.9 < took < 10, took
    assert "COMMENTCTL_TIMEOUT must be" in ctl.fails(
        2, "queue", extra_env={"COMMENTCTL_TIMEOUT": "soon"})


# --- the audit trail and authors -----------------------------------------------

def test_the_audit_trail_records_the_peer_uid(ctl):
    need_root()
    ctl.submit_all()
    ctl.ok("approve", "c-101")
    r = ctl.run("reject", "c-102", "--reason", "abuse", "--note", "as nobody",
                user=NOBODY)
    assert r.rc == 0, r
    assert r.out.startswith("rejected c-102 (abuse) as nobody (uid 65534)")
    r = ctl.run("author", "u-9", "ban", "--note", "spam farm", user=NOBODY)
    assert r.rc == 0 and "as nobody (uid 65534)" in r.out, r
    entries = ctl.json("log")["entries"]
    assert [(e["action"], e["target"], e["moderator"], e["uid"])
            for e in entries] == [("ban", "u-9", "nobody", NOBODY),
                                  ("reject", "c-102", "nobody", NOBODY),
                                  ("approve", "c-101", "root", 0)]
    assert entries[1]["reason"] == "abuse" and entries[1]["note"] == "as nobody"
    out = ctl.ok("log")
    lines = out.splitlines()
    assert lines[0].split() == ["WHEN", "MODERATOR", "UID", "ACTION",
                                "TARGET", "REASON", "NOTE"]
    assert lines[1].split()[2:] == ["nobody", "65534", "ban", "u-9", "spam",
                                    "farm"]
    assert lines[3].split()[2:] == ["root", "0", "approve", "c-101"]
    j = ctl.json("log", "--limit", "1")
    assert len(j["entries"]) == 1 and j["more"] is True


def test_author_show_and_actions(ctl):
    ctl.submit_all()
    out = ctl.ok("author", "u-7")
    assert out == ("u-7 on example\nrecord   approved 0, rejected 0; "
                   "not banned; not trusted\n")
    assert ctl.json("author", "u-7", "show")["record"] == {
        "approved": 0, "rejected": 0, "banned": False, "trusted": False}
    out = ctl.ok("author", "u-7", "ban", "--note", "doxxing")
    assert out.startswith("banned u-7 on example as root (uid 0)\n")
    assert "BANNED" in out
    j = ctl.json("author", "u-7", "unban")
    assert j["action"] == "unban" and j["record"]["banned"] is False
    j = ctl.json("author", "u-7", "trust")
    assert j["record"]["trusted"] is True
    assert ctl.json("author", "u-7")["record"]["trusted"] is True
    assert ctl.json("author", "u-7", "untrust")["record"]["trusted"] is False
    # The shipped policy limits authors; a reset forgets that state.
    out = ctl.ok("author", "u-7", "reset-limits")
    assert re.search(r"\d+ rate-limit keys? forgotten", out), out
    assert [e["action"] for e in ctl.json("log")["entries"]] == [
        "reset-limits", "untrust", "trust", "unban", "ban"]


# --- check: the dry run and the normalised text ---------------------------------

def test_check_explains_without_charging_or_queueing(ctl):
    before = ctl.state()
    text = "What a load of ƒüçk1ng nonsense, mail me at x@example.com"
    j = ctl.json("check", text)
    assert j["decision"] == "reject"
    by_rule = {r["rule"]: r for r in j["reasons"]}
    strong = by_rule["profanity.strong"]
    assert strong["matched"] == "ƒüçk1ng"
    assert strong["normalized"] == "fuck1ng"
    assert by_rule["pii.email"]["normalized"] == "x@example.com"
    assert j["normalized"]["body"] == ("what a load of fuck1ng nonsense, "
                                       "mail me at x@example.com")
    # A reason that needs state has no normalised text of its own.
    assert "normalized" not in by_rule["new_commenters"]
    out = ctl.ok("check", text)
    assert out.startswith("reject  score 0, policy news-default")
    assert "What a load of [ƒüçk1ng] nonsense" in out
    assert "    normalised: fuck1ng" in out
    assert "normalised text\n  what a load of fuck1ng nonsense" in out
    assert "A dry run" in out
    # A queueing text, checked again and again: nothing queued or charged.
    for _ in range(5):
        assert ctl.json("check", "mail me at y@example.com")["decision"] == \
            "queue"
    assert ctl.state() == before
    assert ctl.json("queue")["depth"] == 0


def test_check_reads_stdin_and_knows_the_author(ctl):
    ctl.submit_all()
    ctl.ok("approve", "c-102")
    # u-8 posted seconds ago: the daemon would refuse another so soon.
    j = ctl.json("check", "--author", "u-8", "A calm comment.")
    assert j["decision"] == "reject" and j["retry_after_s"] > 0
    assert [r["rule"] for r in j["reasons"]] == ["flood.author.fast"]
    # Once the limits are forgotten, and with a comment approved, u-8 is
    # neither limited nor held as a new commenter.
    ctl.ok("author", "u-8", "reset-limits")
    j = ctl.json("check", "--author", "u-8", "-", stdin=b"A calm comment.")
    assert j["decision"] == "accept" and j["reasons"] == []
    assert "no rule matched" in ctl.ok("check", "--author", "u-8",
                                       "A calm comment.")
    ctl.ok("author", "u-8", "ban")
    j = ctl.json("check", "--author", "u-8", "A calm comment.")
    assert j["decision"] == "reject"
    assert [r["rule"] for r in j["reasons"]] == ["author.banned"]
    assert "not UTF-8" in ctl.fails(1, "check", "-", stdin=b"bad \xff byte")
    assert "over 1048576 bytes" in ctl.fails(1, "check", "-",
                                             stdin=b"x" * (1024 * 1024 + 1))
    assert "unknown_site" in ctl.fails(1, "check", "--site", "nowhere", "hi")


def test_the_explain_route(ctl):
    """POST /v1/admin/explain, which check uses: the admin socket only."""
    body = json.dumps({"id": "x", "author": {"id": "u", "name": "ƒred"},
                       "body": "ƒüçk this"})
    h = {"Content-Type": "application/json"}
    status, data, _ = ctl.d.request("POST", "/v1/admin/explain", body, h,
                                    "admin")
    assert status == 200, data
    j = json.loads(data)
    assert j["site"] == "example" and j["decision"] == "reject"
    assert j["normalized"] == {"body": "fuck this", "author.name": "fred"}
    r = [r for r in j["reasons"] if r["rule"] == "profanity.strong"][0]
    assert (r["matched"], r["span"], r["normalized"]) == ("ƒüçk", [0, 7],
                                                          "fuck")
    for which in ("submit",):
        status, _, _ = ctl.d.request("POST", "/v1/admin/explain", body, h,
                                     which)
        assert status == 404
    status, data, _ = ctl.d.request("POST", "/v1/admin/explain", "{", h,
                                    "admin")
    assert status == 400 and json.loads(data)["error"]["code"] == \
        "invalid_json"
    status, data, _ = ctl.d.request("POST", "/v1/admin/explain", body,
                                    {"Content-Type": "text/plain"}, "admin")
    assert status == 415
    status, data, _ = ctl.d.request("GET", "/v1/admin/explain", None, {},
                                    "admin")
    assert status == 405
    status, data, _ = ctl.d.request("POST", "/v1/admin/explain?x=1", body, h,
                                    "admin")
    assert json.loads(data)["error"]["code"] == "unknown_parameter"


# --- stats, policy, reload --------------------------------------------------------

def test_stats_show_which_rules_moderators_overturn(ctl):
    ctl.submit_all()
    ctl.ok("approve", "c-101")
    ctl.ok("reject", "c-103", "--reason", "spam")
    ctl.counted()
    j = ctl.json("stats")
    assert j["queue"]["depth"] == 1 and j["queue"]["claimed"] == 0
    # The daemon's own decisions: the three comments it queued.
    for window in ("last_hour", "last_day"):
        v = j["verdicts"][window]
        assert (v["accept"], v["queue"], v["reject"]) == (0, 3, 0)
        assert v["by_rule"]["new_commenters"] == {"accept": 0, "queue": 3,
                                                  "reject": 0}
    day = j["decisions"]["last_day"]
    assert (day["approve"], day["reject"]) == (1, 1)
    assert day["by_rule"]["new_commenters"] == {"approve": 1, "reject": 1}
    assert day["by_rule"]["pii.email"] == {"approve": 1, "reject": 0}
    assert j["decisions"]["last_hour"]["by_rule"]["links.some"] == {
        "approve": 0, "reject": 1}
    # This daemon's own decisions since it started, from /metrics.
    assert j["since_start"]["decisions"]["queue"] == 3
    assert j["since_start"]["rule_hits"]["new_commenters"] == 3
    out = ctl.ok("stats")
    assert out.startswith("example: 1 pending, the oldest for ")
    lines = out.splitlines()
    assert lines[lines.index("decisions               last hour   last day")
                 + 2].split() == ["queued", "3", "3"]
    heads = [i for i, l in enumerate(lines) if l.startswith("RULE ")]
    assert len(heads) == 2
    assert lines[heads[0]].split() == ["RULE", "HITS", "1H", "ACCEPTED", "1D",
                                       "QUEUED", "1D", "REJECTED", "1D"]
    assert lines[heads[0] + 1].split() == ["new_commenters", "3", "0", "3",
                                           "0"]
    head = heads[1]
    assert lines[head].split() == ["RULE", "APPROVED", "1H", "REJECTED", "1H",
                                   "APPROVED", "1D", "REJECTED", "1D",
                                   "OVERTURNED"]
    rows = {l.split()[0]: l.split()[1:] for l in lines[head + 1:head + 4]}
    assert rows["new_commenters"] == ["1", "1", "1", "1", "50%"]
    assert rows["pii.email"] == ["1", "0", "1", "0", "100%"]
    assert rows["links.some"] == ["0", "1", "0", "1", "0%"]
    assert "this daemon since it started, dry runs included: 0 accepted, " \
        "3 queued, 0 rejected" in out


def test_policy_and_reload(ctl, tmp_path):
    j = ctl.json("policy")
    site = j["sites"][0]
    assert (site["site"], site["policy"], site["default"]) == (
        "example", "news-default", True)
    assert site["counts"]["rules"] > 0 and site["digest"].startswith("sha256:")
    out = ctl.ok("policy")
    assert out.splitlines()[0].split()[:4] == ["SITE", "POLICY", "VERSION",
                                               "DIGEST"]
    assert out.splitlines()[1].startswith("example*  news-default")
    assert ctl.ok("reload") == "reloaded\n"
    assert ctl.json("reload") == {"status": "reloaded", "errors": []}
    # A policy with two mistakes: both are printed, and the old one serves.
    bad = tmp_path / "bad.yaml"
    bad.write_text("policy: broken\nthresholds: {queue: x}\nrules:\n"
                   "  - {id: r1, regex: '(', action: queue}\n")
    ctl.d.write_config(policy=str(bad))
    r = ctl.run("reload")
    assert r.rc == 1 and r.out == "", r
    lines = r.err.splitlines()
    assert len(lines) >= 3, r
    assert sum(str(bad) in l for l in lines) >= 2, r
    assert lines[-1] == ("commentctl: reload: the reload failed; the running "
                         "configuration keeps serving")
    assert ctl.json("policy")["sites"][0]["digest"] == site["digest"]
    r = ctl.run("reload", "--json")
    assert r.rc == 1
    assert json.loads(r.out)["error"]["code"] == "reload_failed"


# --- review, in a real terminal ------------------------------------------------------

class Tmux:
    """A private tmux server whose panes run commentctl review.  A pane
    stays on screen after its command ends (remain-on-exit), and the
    command's exit status is written to a file beside it: tmux's own
    #{pane_dead_status} is lost when the pane's output ends first."""

    def __init__(self, tmp_path):
        assert shutil.which("tmux"), "tmux is needed for the review tests"
        self.dir = tmp_path
        self.sock = str(tmp_path / "tmux.sock")
        self.conf = tmp_path / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\n"
                             "set -g history-limit 10000\n")
        self.started = False

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-S", self.sock, "-f", str(self.conf),
                            *args], capture_output=True, timeout=30,
                           env=env(TERM="xterm-256color"))
        assert p.returncode == 0, (args, p)
        return p.stdout.decode("utf-8", "replace")

    def start(self, name, argv, extra_env=None, width=100):
        assigns = [f"{k}={v}" for k, v in (extra_env or {}).items()]
        status = self.dir / f"{name}.status"
        cmd = (f"{shlex.join(['env', *assigns, *argv])}; "
               f"echo $? > {shlex.quote(str(status))}")
        self.tmux("new-session", "-d", "-s", name, "-x", str(width), "-y",
                  "200", cmd)
        self.started = True

    def screen(self, name):
        return self.tmux("capture-pane", "-p", "-J", "-t", name, "-S", "-")

    def keys(self, name, *keys):
        for k in keys:
            self.tmux("send-keys", "-t", name, k)
            time.sleep(0.15)

    def wait(self, name, pattern, timeout=15):
        """Waits until the screen matches; the match."""
        found = []

        def seen():
            m = re.search(pattern, self.screen(name), re.M)
            if m:
                found.append(m)
            return m is not None
        assert wait_for(seen, timeout), (pattern, self.screen(name))
        return found[0]

    def exit_status(self, name, timeout=10):
        status = self.dir / f"{name}.status"

        def done():
            return status.exists() and status.read_text().strip() != ""
        assert wait_for(done, timeout), self.screen(name)
        return int(status.read_text())

    def stop(self):
        if self.started:
            subprocess.run(["tmux", "-S", self.sock, "kill-server"],
                           capture_output=True, timeout=30)


@pytest.fixture
def tmux(tmp_path):
    t = Tmux(tmp_path)
    yield t
    t.stop()


SHOWN = r"^(c-\d+)  queued "


def shown(t, name, n):
    """The id of the n-th comment (from 1) a pane has shown, once shown."""
    def count():
        return len(re.findall(SHOWN, t.screen(name), re.M)) >= n
    assert wait_for(count, 15), t.screen(name)
    return re.findall(SHOWN, t.screen(name), re.M)[n - 1]


def test_review_from_start_to_quit(ctl, tmux):
    ctl.submit_all()
    tmux.start("m", [COMMENTCTL, "-s", ctl.d.admin, "review"],
               {"NO_COLOR": "1"})
    assert shown(tmux, "m", 1) == "c-101"
    screen = tmux.screen("m")
    assert screen.startswith("Reviewing the default site: a approves")
    assert "  Write to me at [ben@example.com] and I will" in screen
    assert "claim    yours" in screen
    assert screen.rstrip().endswith("[a]pprove  [r]eject  [s]kip  [q]uit ?")
    tmux.keys("m", "a")
    assert shown(tmux, "m", 2) == "c-102"
    assert "approved c-101" in tmux.screen("m")
    tmux.keys("m", "r")
    tmux.wait("m", r"5 spam .*\? $")
    tmux.keys("m", "x")          # not a reason: back to the question
    tmux.wait("m", r"\[a\]pprove.*\? $")
    tmux.keys("m", "r", "6")
    tmux.wait("m", r"note \(Enter: none, Esc: back\): $")
    tmux.keys("m", "buy nowX", "BSpace", "Enter")
    assert shown(tmux, "m", 3) == "c-103"
    assert "rejected c-102 (ad)" in tmux.screen("m")
    tmux.keys("m", "s")
    tmux.wait("m", r"Nothing to review; waiting for comments \(q quits\)")
    # A comment that arrives while it waits is shown within a few seconds.
    ctl.submit("c-104", "u-10", "Zoe", "reach me on zoe@example.com")
    assert shown(tmux, "m", 4) == "c-104"
    tmux.keys("m", "q")
    assert tmux.exit_status("m") == 0
    screen = tmux.screen("m")
    assert "c-104 stays claimed by you" in screen
    assert "approved 1, rejected 1, skipped 1" in screen
    entries = ctl.json("log")["entries"]
    assert [(e["action"], e["target"], e["reason"], e["note"], e["uid"])
            for e in entries] == [
        ("reject", "c-102", "ad", "buy now", 0),
        ("approve", "c-101", None, None, 0)]
    # The skipped and the quit one are still pending, and still claimed.
    q = ctl.json("stats")["queue"]
    assert (q["depth"], q["claimed"]) == (2, 2)


def test_two_reviews_never_see_the_same_comment(ctl, tmux):
    ctl.submit_all()
    ctl.submit("c-104", "u-10", "Zoe", "reach me on zoe@example.com")
    argv = [COMMENTCTL, "-s", ctl.d.admin, "review"]
    tmux.start("a", argv)
    tmux.start("b", argv)
    first = {shown(tmux, "a", 1), shown(tmux, "b", 1)}
    assert len(first) == 2, first
    # On a terminal there is colour, and matches are highlighted with it,
    # not with brackets.
    for name in ("a", "b"):
        assert "\033[" in tmux.tmux("capture-pane", "-p", "-e", "-t", name)
        assert not re.search(r"\[\S*@example\.com\]", tmux.screen(name))
    tmux.keys("a", "s")
    tmux.keys("b", "s")
    second = {shown(tmux, "a", 2), shown(tmux, "b", 2)}
    assert len(first | second) == 4, (first, second)
    tmux.keys("a", "a")
    tmux.keys("b", "a")
    for name in ("a", "b"):
        tmux.wait(name, r"Nothing to review")
        tmux.keys(name, "q")
        assert tmux.exit_status(name) == 0
    seen = {m for n in ("a", "b") for m in re.findall(SHOWN, tmux.screen(n),
                                                      re.M)}
    assert seen == {"c-101", "c-102", "c-103", "c-104"}
    assert ctl.json("queue")["depth"] == 2


def test_a_claim_comes_back_after_the_timeout(make_daemon, redis_server,
                                              tmp_path, tmux):
    """Root reviews and leaves; nobody, reviewing later with a 1 s claim
    timeout, gets the comment root left on screen."""
    need_root()
    shared = tempfile.mkdtemp(prefix="commentctl-")
    try:
        os.chmod(shared, 0o711)
        ctl = Ctl(start(make_daemon, tmp_path, redis_server, shared),
                  redis_server)
        ctl.submit_all(COMMENTS[:1])
        tmux.start("root", [COMMENTCTL, "-s", ctl.d.admin, "review"])
        assert shown(tmux, "root", 1) == "c-101"
        tmux.keys("root", "q")
        assert tmux.exit_status("root") == 0
        nobody = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY),
                  "--clear-groups", "--", COMMENTCTL, "-s", ctl.d.admin,
                  "review"]
        # Within the timeout nobody else gets it.
        tmux.start("early", nobody + ["--timeout", "300"])
        tmux.wait("early", r"Nothing to review")
        tmux.keys("early", "q")
        assert tmux.exit_status("early") == 0
        time.sleep(1.2)
        tmux.start("late", nobody + ["--timeout", "1"])
        assert shown(tmux, "late", 1) == "c-101"
        assert "claim    yours (taken back from a moderator who left)" in \
            tmux.screen("late")
        tmux.keys("late", "a")
        tmux.wait("late", r"approved c-101")
        tmux.keys("late", "q")
        assert tmux.exit_status("late") == 0
        e = ctl.json("log")["entries"][0]
        assert (e["action"], e["moderator"], e["uid"]) == ("approve",
                                                           "nobody", NOBODY)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_review_ignores_other_keys_and_ends_on_a_signal(ctl, tmux):
    ctl.submit_all(COMMENTS[:1])
    tmux.start("m", [COMMENTCTL, "-s", ctl.d.admin, "review"])
    shown(tmux, "m", 1)
    # Arrow keys send Esc [ A: the A must not approve.
    tmux.keys("m", "Up", "Down", "Right", "Left", "F1", "x", "Enter")
    time.sleep(0.5)
    tmux.keys("m", "C-c")
    assert tmux.exit_status("m") == 0
    screen = tmux.screen("m")
    assert "approved 0, rejected 0, skipped 0" in screen
    assert "approve\n" not in screen
    assert ctl.json("log")["entries"] == []
    assert ctl.json("queue")["depth"] == 1


def review_pids(ctl):
    """The pids of review processes on this daemon's admin socket."""
    p = subprocess.run(["pgrep", "-f", f"{ctl.d.admin} review"],
                       capture_output=True, text=True)
    pids = []
    for pid in p.stdout.split():
        try:   # not the shell tmux runs it under
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == "commentctl":
                    pids.append(int(pid))
        except FileNotFoundError:
            pass
    return pids


@pytest.mark.parametrize("where", ["key", "note", "empty"])
def test_review_ends_when_its_terminal_goes(ctl, tmux, where):
    """A moderator who closes the terminal window (the pane dies: SIGHUP,
    then a terminal that reads nothing) leaves no review process behind,
    whether it waited for a key, typed a note, or waited for comments."""
    if where != "empty":
        ctl.submit_all(COMMENTS[:1])
    # LeakSanitizer's check at exit spins for ever in a process whose
    # terminal is gone (seen here: state R, its tracer on /proc/PID/task,
    # immune to SIGTERM), so this one process skips it; the other review
    # tests check for leaks.
    asan = os.environ.get("ASAN_OPTIONS", "")
    tmux.start("h", [COMMENTCTL, "-s", ctl.d.admin, "review"],
               {"ASAN_OPTIONS": f"{asan}:detect_leaks=0".lstrip(":")})
    if where == "empty":
        tmux.wait("h", "waiting for comments")
    else:
        shown(tmux, "h", 1)
    if where == "note":
        tmux.keys("h", "r")
        tmux.wait("h", r"reason")
    (pid,) = review_pids(ctl)
    tmux.tmux("kill-session", "-t", "h")
    assert wait_for(lambda: not review_pids(ctl), 10), \
        f"review {pid} still runs after its terminal went away"


def test_review_needs_a_terminal(ctl):
    assert "review needs a terminal" in ctl.fails(2, "review", stdin=b"a\n")


# --- the moderators' guide ------------------------------------------------------------

TRANSCRIPT = re.compile(
    r"<!-- transcript(?: keys=\"(?P<keys>[^\"]*)\")? -->\n```console\n"
    r"(?P<body>.*?)```\n", re.S)


def volatile(text):
    """Text with what changes from run to run masked: ages, times, stream
    ids, digests and the runs of spaces that column widths depend on."""
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", "TIME", text)
    text = re.sub(r"\b\d{13}-\d+\b", "ENTRY", text)
    text = re.sub(r"sha256:[0-9a-f]+", "sha256:DIGEST", text)
    text = re.sub(r"\b\d+[smhd]\b", "AGE", text)
    text = re.sub(r" {2,}", "  ", text)
    return [l.rstrip() for l in text.rstrip("\n").splitlines()]


def run_block(ctl, tmux, command, keys):
    """What a transcript command prints now: review in a terminal (typing
    keys, one tmux key name or string per space), the rest on a pipe."""
    argv = shlex.split(command)
    assert argv[0] == "commentctl", command
    if argv[1] == "review":
        name = f"doc{int(time.monotonic() * 1000)}"
        tmux.start(name, [COMMENTCTL, "-s", ctl.d.admin, *argv[1:]],
                   {"NO_COLOR": "1"})
        tmux.wait(name, r"\? $|waiting for comments")
        for k in keys.split():
            tmux.keys(name, k.replace("_", " "))
            time.sleep(0.3)
        assert tmux.exit_status(name) == 0
        # The session, up to its last line: then blank rows and tmux's own.
        lines = [l.rstrip() for l in tmux.screen(name).splitlines()]
        last = max(i for i, l in enumerate(lines)
                   if re.fullmatch(r"approved \d+, rejected \d+, skipped "
                                   r"\d+", l))
        return "".join(l + "\n" for l in lines[:last + 1])
    if argv[1] == "stats":
        ctl.counted()
    r = ctl.run(*argv[1:], stdin=None)
    assert r.rc == 0, (command, r)
    return r.out


def test_the_guide_transcript_is_real(ctl, tmux):
    with open(GUIDE, encoding="utf-8") as f:
        guide = f.read()
    blocks = list(TRANSCRIPT.finditer(guide))
    assert len(blocks) >= 4, "docs/moderation.md has lost its transcript"
    ctl.submit_all()
    commands = []
    pieces, at = [], 0
    for m in blocks:
        command, _, shown_text = m.group("body").partition("\n")
        assert command.startswith("$ "), command
        commands.append(command[2:].split()[1])
        now = run_block(ctl, tmux, command[2:], m.group("keys") or "")
        if os.environ.get("COMMENTCTL_UPDATE_DOCS"):
            pieces.append(guide[at:m.start("body")] + command + "\n" + now)
            at = m.end("body")
            continue
        diff = "\n".join(difflib.unified_diff(
            volatile(shown_text), volatile(now), "docs/moderation.md",
            "now", lineterm=""))
        assert diff == "", f"`{command[2:]}` prints otherwise now:\n{diff}"
    assert {"queue", "show", "review", "check"} <= set(commands)
    if os.environ.get("COMMENTCTL_UPDATE_DOCS"):
        with open(GUIDE, "w", encoding="utf-8") as f:
            f.write("".join(pieces) + guide[at:])
