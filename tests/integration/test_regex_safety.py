"""Regex safety: the patterns that took real sites down are refused when a
policy loads (commentd -t, start, reload), or, at a length where one loads,
every match on the longest comment allowed stays within its limits and
budget; and a comment that drives a rule into a PCRE2 limit or past the
time budget is queued with the reason engine.limit, counted and stored,
never accepted, never a crash.  Each test prints what it ran.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import (COMMENTD, SANITIZER_MARKS, SOURCE, WAIT_SCALE, WRAPPER,
                      Daemon)

DATA = os.path.join(SOURCE, "tests", "integration", "data")
CATASTROPHIC = os.path.join(DATA, "regex-catastrophic.yaml")
LIMITS = os.path.join(DATA, "regex-limits.yaml")

# Sanitizer reports are fatal whoever runs the test (ctest alone, or make).
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}

# Each catastrophic rule of regex-catastrophic.yaml: what refuses it.
REFUSALS = {
    "so2016.literal": "regex is too slow on adversarial input",
    "so2016.escaped": "regex is too slow on adversarial input",
    "so2016.javascript": "regex does not compile",
    "cloudflare2019": "regex is too slow on adversarial input",
    "nested.plus": "regex is too slow on adversarial input",
}


def run_commentd(*argv, stdin=b""):
    """Runs commentd (under COMMENTD_WRAPPER, as the fixtures do); returns
    (rc, stdout, stderr), failing the test on a sanitizer report or a
    death by signal."""
    env = dict(os.environ)
    for k, v in SANITIZER_ENV.items():
        env.setdefault(k, v)
    p = subprocess.run([*WRAPPER, COMMENTD, *argv], input=stdin, env=env,
                       capture_output=True, timeout=300 * WAIT_SCALE)
    err = p.stderr.decode("utf-8", "replace")
    assert not any(m in err for m in SANITIZER_MARKS), err
    assert p.returncode >= 0, f"{argv} died of signal {-p.returncode}"
    return p.returncode, p.stdout, err


def regex_spans(path):
    """Rule id -> (line, first column, last column) of its regex's text."""
    out, rule = {}, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r"\s*- id: (\S+)", line)
            if m:
                rule = m.group(1)
            m = re.match(r"(\s*regex: )(.*)$", line)
            if m and rule:
                out[rule] = (n, len(m.group(1)) + 1,
                             len(m.group(1)) + len(m.group(2)))
    return out


def test_catastrophic_patterns_refused_by_commentd_t():
    """Every rule is refused, each at its regex's line and column."""
    rc, out, err = run_commentd("-t", "-p", CATASTROPHIC)
    print(f"\ncommentd -t -p regex-catastrophic.yaml: rc={rc}\n{err}")
    assert rc == 1 and out == b""
    where = regex_spans(CATASTROPHIC)
    assert set(where) == set(REFUSALS)
    for rule, why in REFUSALS.items():
        line, first, last = where[rule]
        m = re.search(r"^%s:%d:(\d+): rule %s: %s" % (re.escape(
            CATASTROPHIC), line, re.escape(rule), why), err, re.M)
        assert m and first <= int(m.group(1)) <= last, (rule, err)
    assert f"policy test failed, {len(REFUSALS)} errors" in err


def test_catastrophic_policy_refused_at_start(tmp_path):
    """A daemon configured with the policy never becomes ready."""
    d = Daemon(tmp_path, policy=CATASTROPHIC).start(wait=False)
    try:
        rc = d.proc.wait(60 * WAIT_SCALE)
    finally:
        d.log_file.close()
    log = d.log()
    print(f"\ncommentd -c with regex-catastrophic.yaml: exit {rc}")
    assert rc != 0 and "ready" not in log
    assert all(f"rule {rule}: {why}" in log
               for rule, why in REFUSALS.items()), log
    d.assert_clean()


def test_catastrophic_policy_refused_at_reload(make_daemon):
    """Reloading into the policy fails with every error; the old serves."""
    d = make_daemon().start()
    before = json.loads(d.get("/readyz")[1])["sites"][0]["digest"]
    d.write_config(policy=CATASTROPHIC)
    status, data, _ = d.request("POST", "/v1/admin/reload", which="admin")
    answer = json.loads(data)
    print(f"\nreload into regex-catastrophic.yaml: {status} "
          f"{answer['error']['code']}, {len(answer['errors'])} errors")
    assert status == 422 and answer["error"]["code"] == "reload_failed"
    assert len(answer["errors"]) == len(REFUSALS), answer["errors"]
    # The running policy keeps serving.
    assert json.loads(d.get("/readyz")[1])["sites"][0]["digest"] == before
    status, data = d.check({"id": "c-1", "author": {"id": "u"},
                            "body": "What the f*ck is this"})
    assert status == 200 and json.loads(data)["decision"] == "reject"


# The inputs each pattern is known for, built to exactly n characters.
KILLERS = {
    "so2016.literal": lambda n: [" " * (n - 1) + "x",
                                 "\u200c" * (n - 1) + "x",
                                 (" \u200c" * n)[:n - 1] + "x"],
    "cloudflare2019": lambda n: ["x=" + "x" * (n - 2),
                                 "0" * (n - 2) + "!=",
                                 "-" * (n - 2) + "!="],
    "nested.plus": lambda n: ["a" * (n - 1) + "!", "a" * n],
}
KILLERS["so2016.escaped"] = KILLERS["so2016.literal"]
LENGTHS = [16, 64, 100, 256, 1000, 5000, 100_000]


def catastrophic_rule(rule):
    """The YAML text of one rule of regex-catastrophic.yaml."""
    with open(CATASTROPHIC, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^  - id: %s\n(?:    .*\n)+" % re.escape(rule), text, re.M)
    return m.group(0)


@pytest.mark.parametrize("rule", sorted(KILLERS))
def test_catastrophic_pattern_refused_or_within_budget(tmp_path, rule):
    """At each max_length the pattern is refused at load, or it loads and
    then every match on comments of exactly max_length characters (the
    inputs it is known for) ends within the limits and the time budget:
    no engine.limit.  From the default length (5,000) up, it is refused."""
    seen = []
    for n in LENGTHS:
        policy = tmp_path / f"{rule}-{n}.yaml"
        policy.write_text(f"policy: one\nlimits: {{max_length: {n}, "
                          f"min_length: 0}}\nrules:\n" +
                          catastrophic_rule(rule), encoding="utf-8")
        rc, _, err = run_commentd("-t", "-p", str(policy))
        if rc != 0:
            assert f"rule {rule}: {REFUSALS[rule]}" in err, err
            seen.append(f"{n}: refused")
            continue
        assert n < 5000, f"{rule} loads with max_length {n}"
        lines = [json.dumps({"id": f"k{i}", "author": {"id": "u"},
                             "body": body})
                 for i, body in enumerate(KILLERS[rule](n))]
        assert all(len(json.loads(x)["body"]) == n for x in lines)
        rc, out, err = run_commentd("--eval", "-p", str(policy), "-",
                                    stdin="\n".join(lines).encode() + b"\n")
        assert rc == 0, err
        verdicts = [json.loads(x) for x in out.decode().splitlines()]
        assert len(verdicts) == len(lines)
        over = [v for v in verdicts
                if any(r["rule"] == "engine.limit" for r in v["reasons"])]
        assert not over, over
        seen.append(f"{n}: loads, {len(lines)} inputs, max took_us "
                    f"{max(v['took_us'] for v in verdicts)}")
    print(f"\n{rule}: " + "; ".join(seen))


# One policy per limit: the control's, with that one limit lowered.
VARIANTS = {
    "match": ("limits: {", "limits: {regex_match_limit: 1000, "),
    "depth": ("limits: {", "limits: {regex_depth_limit: 100, "),
    "heap": ("limits: {", "limits: {regex_heap_limit_kib: 64, "),
    "time": ("time_budget_us: 10000000", "time_budget_us: 100"),
}
HEAVY = "xy" * 4900 + "!z"
PER_LIMIT = 25


def limits_daemon(make_daemon, tmp_path, redis=None):
    """A daemon serving the control policy as site `example` and each
    variant as a site of its name."""
    with open(LIMITS, encoding="utf-8") as f:
        control = f.read()
    sites = {}
    for name, (was, now) in VARIANTS.items():
        assert control.count(was) == 1, was
        path = tmp_path / f"limits-{name}.yaml"
        path.write_text(control.replace(was, now), encoding="utf-8")
        sites[name] = str(path)
    d = make_daemon(policy=LIMITS, sites=sites, redis=redis).start()

    def check(site, cid, body):
        status, data = d.check({"id": cid, "site": site,
                                "author": {"id": "u-1"}, "body": body})
        assert status == 200, data
        v = json.loads(data)
        return v["decision"], [r["rule"] for r in v["reasons"]]
    return d, check


def test_each_pcre2_limit_queues_and_counts(make_daemon, redis_server,
                                            tmp_path):
    """Each lowered limit turns the same comment, which the control site
    accepts, into `queue` with engine.limit: answered, counted in the
    metrics and stored in the site's queue in Redis, every time."""
    d, check = limits_daemon(make_daemon, tmp_path, redis_server.socket)
    r = redis_server.client()
    for site in VARIANTS:
        answers = [check(site, f"{site}-{i}", HEAVY) for i in range(PER_LIMIT)]
        stored = r.cmd("XLEN", f"commentd:{{{site}}}:queue")
        print(f"\n{site} limit: comments={PER_LIMIT} of {len(HEAVY)} "
              f"characters, answers={sorted(set(map(str, answers)))}, "
              f"stored in the queue {stored}")
        assert answers == [("queue", ["engine.limit"])] * PER_LIMIT, answers
        assert stored == PER_LIMIT
    # The same comment, with every limit at its default, is accepted; and
    # the rules still match under the lowered limits (the time budget is
    # left out: a short comment may take 100 us on a busy machine).
    assert check("example", "control-1", HEAVY) == ("accept", [])
    for site in ("example", "match", "depth", "heap"):
        assert check(site, f"{site}-short", "xyxyz") == (
            "queue", ["jit.xy", "interp.xy"])
    page = d.get("/metrics")[1].decode()
    for site in VARIANTS:
        assert (f'commentd_rule_hits_total{{site="{site}",'
                f'rule="engine.limit"}} {PER_LIMIT}') in page
        assert re.search(r'commentd_decisions_total\{site="%s",'
                         r'decision="accept"\} 0$' % site, page, re.M)
    assert 'rule="engine.limit"} ' not in "\n".join(
        x for x in page.splitlines() if 'site="example"' in x)
    assert d.proc.poll() is None


def test_heap_limit_holds_after_another_sites_match(make_daemon, tmp_path):
    """A policy's heap limit holds whatever another site's rules did
    before.  PCRE2 (10.41 on) keeps its backtracking frames in the match
    data between matches and checks the heap limit only when it must
    grow them; the daemon matches every site with one match data."""
    d, check = limits_daemon(make_daemon, tmp_path)
    first = check("heap", "heap-1", HEAVY)
    control = check("example", "control-1", HEAVY)
    after = check("heap", "heap-2", HEAVY)
    print(f"\nheap site first: {first}; control site: {control}; "
          f"heap site after the control: {after}")
    assert first == ("queue", ["engine.limit"])
    assert control == ("accept", [])
    assert after == ("queue", ["engine.limit"])
