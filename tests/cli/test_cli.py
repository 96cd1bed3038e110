#!/usr/bin/env python3
"""Regression tests of commentd's command line: -t, --eval and usage.

Run by ctest, one case per test:
    test_cli.py --commentd BIN --source DIR --data DIR CASE
Exit 0 pass, 1 fail, 77 skipped (the shared corpora are absent).  Standard
library only.  Every run of commentd is also checked for sanitizer reports,
so under `make check` a leak or an overflow fails the case that caused it.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77

# Sanitizer reports are fatal whoever runs the test (ctest alone, or make).
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}

VERDICT_KEYS = ["id", "decision", "score", "reasons", "policy",
                "retry_after_s", "took_us"]
REASON_KEYS = ["rule", "category", "action", "message", "field", "matched",
               "span"]
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Failure(Exception):
    """A check that did not hold."""


def check(cond, msg):
    """Fail the case with msg unless cond holds."""
    if not cond:
        raise Failure(msg)


class Cli:
    """How to run commentd, and where the sources and corpora are."""

    def __init__(self, args):
        self.bin = args.commentd
        self.source = args.source
        self.data = args.data

    def run(self, *argv, stdin=b""):
        """Runs commentd in the source tree; returns (rc, stdout, stderr)."""
        env = dict(os.environ)
        for k, v in SANITIZER_ENV.items():
            env.setdefault(k, v)
        p = subprocess.run([self.bin, *argv], input=stdin, cwd=self.source,
                           env=env, capture_output=True, timeout=900)
        err = p.stderr.decode("utf-8", "replace")
        check("Sanitizer" not in err and "runtime error:" not in err,
              f"sanitizer report from {argv}:\n{err}")
        check(p.returncode >= 0,
              f"{argv} died of signal {-p.returncode}:\n{err}")
        return p.returncode, p.stdout, err


def verdicts(out):
    """The output lines, each parsed as JSON."""
    lines = out.decode("utf-8").splitlines()
    result = []
    for i, line in enumerate(lines, 1):
        try:
            result.append(json.loads(line))
        except ValueError as e:
            raise Failure(f"output line {i} is not JSON ({e}): {line!r}")
    return result


def check_verdict(v, comment):
    """The /v1/check shape, and every reason's match taken from its field."""
    check(list(v) == VERDICT_KEYS, f"verdict keys {list(v)}: {v}")
    check(v["id"] == comment.get("id"), f"id {v['id']!r}, wanted {comment.get('id')!r}")
    check(v["decision"] in ("accept", "queue", "reject"), f"decision: {v}")
    check(isinstance(v["score"], int), f"score: {v}")
    check(v["retry_after_s"] == 0, f"retry_after_s: {v}")
    check(isinstance(v["took_us"], int) and v["took_us"] >= 0, f"took_us: {v}")
    pol = v["policy"]
    check(list(pol) == ["name", "version", "digest"], f"policy: {pol}")
    check(DIGEST.match(pol["digest"]) is not None, f"digest: {pol}")
    for r in v["reasons"]:
        check(list(r) == REASON_KEYS, f"reason keys {list(r)}: {r}")
        for k in ("rule", "category", "action", "message", "field"):
            check(isinstance(r[k], str) and r[k], f"reason {k}: {r}")
        check(r["action"] in ("queue", "reject", "score"), f"action: {r}")
        if r["field"] == "author.name":
            text = (comment.get("author") or {}).get("name") or ""
        else:
            check(r["field"] == "body", f"field: {r}")
            text = comment["body"]
        raw = text.encode("utf-8")
        start, end = r["span"]
        check(0 <= start <= end <= len(raw), f"span {r['span']} outside {len(raw)} bytes: {r}")
        check(r["matched"] == raw[start:end].decode("utf-8"),
              f"matched {r['matched']!r} is not bytes {start}..{end} of {text!r}")


def read_jsonl(path):
    """The comments of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def case_check_default(cli):
    """-t on the shipped policy prints policy OK with its counts."""
    rc, out, err = cli.run("-t", "-p", "policies/default.yaml")
    check(rc == 0, f"exit {rc}, wanted 0:\n{err}")
    text = out.decode("utf-8")
    pattern = (r"^policy OK: \S+ \(version \S+, digest sha256:[0-9a-f]{64}\): "
               r"\d+ word lists? \(\d+ terms?, \d+ allowlisted words?\), "
               r"\d+ regex rules?, \d+ checks?, \d+ rate limits?, "
               r"\d+ examples?\n"
               r"regex prefilter: (\d+) of (\d+) regex rules? filtered; .*\n$")
    m = re.match(pattern, text)
    check(m, f"stdout {text!r} does not match {pattern}")
    # The shipped policy's five regexes: three have literals (masked
    # profanity, e-mail, street addresses), but fewer than
    # PREFILTER_MIN_RULES (4) on the one text they read, where PCRE2 alone
    # is cheaper; phone and SSN numbers have none.  So none is filtered
    # (daemon/engine/regex_prefilter.h).
    check((m.group(1), m.group(2)) == ("0", "5"),
          f"0 of 5 regexes should be filtered: {text!r}")
    check(err == "", f"stderr not empty: {err!r}")


def case_check_mistakes(cli):
    """-t reports all three mistakes, each at its file:line:column."""
    rc, out, err = cli.run("-t", "-p", "tests/cli/data/three-mistakes.yaml")
    check(rc == 1, f"exit {rc}, wanted 1:\n{err}")
    check(out == b"", f"stdout not empty: {out!r}")
    where = re.compile(r"^.*three-mistakes\.yaml:([0-9]+):([0-9]+): (.*)$")
    found = [where.match(line) for line in err.splitlines()]
    found = [m for m in found if m]
    check(len(found) == 3, f"{len(found)} located errors, wanted 3:\n{err}")
    by_line = {int(m.group(1)): m.group(3) for m in found}
    check(sorted(by_line) == [5, 8, 13], f"error lines {sorted(by_line)}, wanted [5, 8, 13]:\n{err}")
    check("thresholdz" in by_line[5], f"line 5 should name the unknown key: {by_line[5]}")
    check("does-not-exist.txt" in by_line[8], f"line 8 should name the file: {by_line[8]}")
    check("broken.regex" in by_line[13], f"line 13 should name the rule: {by_line[13]}")
    check("policy test failed, 3 errors" in err, f"no summary line:\n{err}")


def case_check_config(cli):
    """-t -c: a good configuration loads with its sites; a bad one reports
    its own mistakes and its policy's, each at its file:line:column."""
    rc, out, err = cli.run("-t", "-c", "tests/cli/data/config-ok.yaml")
    check(rc == 0, f"exit {rc}, wanted 0:\n{err}")
    text = out.decode("utf-8")
    check(text.startswith("configuration OK: tests/cli/data/config-ok.yaml: 1 site, default example\n"),
          f"stdout: {text!r}")
    check("site example: policy news-default (version " in text, f"stdout: {text!r}")
    rc, out, err = cli.run("-t", "-v", "-c", "tests/cli/data/config-ok.yaml")
    check(rc == 0 and "limits.max_body_bytes" in out.decode("utf-8"),
          f"-v should print every setting: {out!r}")
    rc, out, err = cli.run("-t", "-c", "tests/cli/data/config-bad.yaml")
    check(rc == 1, f"exit {rc}, wanted 1:\n{err}")
    located = re.findall(r"^.*?([\w-]+\.yaml):([0-9]+):([0-9]+): ", err, re.M)
    files = sorted({f for f, _, _ in located})
    check(files == ["config-bad.yaml", "three-mistakes.yaml"], f"files {files}:\n{err}")
    check(len(located) == 5, f"{len(located)} located errors, wanted 5:\n{err}")
    check("configuration test failed, 5 errors" in err, f"no summary line:\n{err}")


def case_eval_samples(cli):
    """--eval on the samples: one verdict per comment, in order, from a file and from stdin."""
    path = os.path.join(cli.source, "tests", "data", "sample-comments.jsonl")
    comments = read_jsonl(path)
    rc, out, err = cli.run("--eval", "-p", "policies/default.yaml", path)
    check(rc == 0, f"exit {rc}, wanted 0:\n{err}")
    got = verdicts(out)
    check(len(got) == len(comments), f"{len(got)} verdicts for {len(comments)} comments")
    for v, c in zip(got, comments):
        check_verdict(v, c)
    decisions = {v["id"]: v["decision"] for v in got}
    check(decisions["c-clean"] == "accept", f"c-clean: {decisions['c-clean']}")
    check(decisions["c-profane"] == "reject", f"c-profane: {decisions['c-profane']}")
    for word in ("comments read", "accept", "reject", "errors", "throughput",
                 "rate limits", "duplicates", "new-commenter"):
        check(word in err, f"summary lacks {word!r}:\n{err}")

    with open(path, "rb") as f:
        rc, out2, err = cli.run("--eval", "-p", "policies/default.yaml", "-", stdin=f.read())
    check(rc == 0, f"stdin: exit {rc}, wanted 0:\n{err}")
    strip = [dict(v, took_us=0) for v in verdicts(out2)]
    check(strip == [dict(v, took_us=0) for v in got], "stdin and file runs differ")


def case_eval_malformed(cli):
    """Bad lines get error objects and exit 1; the lines around them are still judged."""
    lines = [
        (b'{"id": "ok-1", "body": "Thanks for the clear reporting.", "ignored": [1]}', None),
        (b'{"id": "bad-json", "body": ', "invalid_json"),
        (b'', None),   # blank lines are skipped, not answered
        (b'{"id": "no-body", "author": {"id": "u", "name": "x"}}', "missing_field"),
        (b'{"id": "num-body", "body": 42}', "bad_type"),
        (b'["not", "an", "object"]', "bad_type"),
        (b'{"id": "bad-utf8", "body": "caf\xc3"}', "bad_utf8"),
        (b'{"id": "huge", "body": "' + b"a" * (1024 * 1024) + b'"}', "too_large"),
        (b'{"id": "ok-2", "body": "This is fucking ridiculous, the mayor is full of shit.",'
         b' "author": {"id": "u-1", "name": "Dave"}, "label": "OFF"}\r', None),
    ]
    rc, out, err = cli.run("--eval", "-p", "policies/default.yaml", "-",
                           stdin=b"\n".join(line for line, _ in lines) + b"\n")
    check(rc == 1, f"exit {rc}, wanted 1:\n{err}")
    got = verdicts(out)
    wanted = [code for line, code in lines if line]
    check(len(got) == len(wanted), f"{len(got)} output lines, wanted {len(wanted)}")
    for v, code in zip(got, wanted):
        if code is None:
            check("decision" in v, f"wanted a verdict: {v}")
        else:
            check(list(v) == ["id", "error"], f"wanted an error object: {v}")
            check(v["error"]["code"] == code, f"code {v['error']['code']}, wanted {code}: {v}")
            check(isinstance(v["error"]["message"], str) and "line " in v["error"]["message"],
                  f"message should say the line: {v}")
    check(got[0]["id"] == "ok-1" and got[0]["decision"] == "accept", f"first line: {got[0]}")
    check(got[-1]["id"] == "ok-2" and got[-1]["decision"] == "reject", f"last line: {got[-1]}")
    check(got[2]["id"] == "no-body", f"the id of a line in error is echoed: {got[2]}")
    check(re.search(r"errors\s+6\b", err), f"summary should count 6 errors:\n{err}")


def case_eval_olid(cli):
    """--eval over the 13,240 OLID tweets: a verdict for each, no error."""
    tsv = os.path.join(cli.data, "olid", "olid-training-v1.0.tsv")
    if not os.path.exists(tsv):
        print(f"skipped: {tsv} is absent (see ../shared/data/README.md)")
        sys.exit(SKIP)
    tool = os.path.join(cli.source, "tests", "tools", "olid_to_jsonl.py")
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = os.path.join(tmp, "olid.jsonl")
        subprocess.run([sys.executable, tool, tsv, jsonl], check=True)
        comments = read_jsonl(jsonl)
        rc, out, err = cli.run("--eval", "-p", "policies/default.yaml", jsonl)
    check(rc == 0, f"exit {rc}, wanted 0:\n{err[-4000:]}")
    got = verdicts(out)
    check(len(comments) == 13240, f"{len(comments)} comments converted, wanted 13240")
    check(len(got) == 13240, f"{len(got)} verdicts, wanted 13240")
    for v, c in zip(got, comments):
        check_verdict(v, c)
    check(re.search(r"comments read\s+13240\b", err), f"summary:\n{err}")
    sys.stderr.write(err)


def case_usage(cli):
    """Wrong command lines exit 2 and say why; -h and -V exit 0."""
    for argv, rc_wanted, needle in [
        (["-c", "/nonexistent/commentd.yaml"], 1, "/nonexistent/commentd.yaml"),
        (["-p", "policies/default.yaml"], 2, "the daemon takes -c CONFIG"),
        (["--no-such-option"], 2, "usage:"),
        (["-t", "-p", "policies/default.yaml", "-c", "x.yaml"], 2, "not both"),
        (["-t", "-c", "/nonexistent/commentd.yaml"], 1, "/nonexistent/commentd.yaml"),
        (["--eval"], 2, "--eval needs -p POLICY"),
        (["-t", "--eval", "-p", "policies/default.yaml"], 2, "exclude"),
        (["-t", "-p", "policies/default.yaml", "extra"], 2, "no file arguments"),
        (["--eval", "-p", "policies/default.yaml", "a", "b"], 2, "one FILE"),
        (["--eval", "-p", "policies/default.yaml", "/nonexistent/x.jsonl"], 1,
         "/nonexistent/x.jsonl"),
        (["-t", "-p", "/nonexistent/policy.yaml"], 1, "/nonexistent/policy.yaml"),
    ]:
        rc, out, err = cli.run(*argv)
        check(rc == rc_wanted, f"{argv}: exit {rc}, wanted {rc_wanted}:\n{err}")
        check(needle in err, f"{argv}: stderr lacks {needle!r}:\n{err}")
        check(out == b"", f"{argv}: stdout not empty: {out!r}")
    rc, out, err = cli.run("-h")
    check(rc == 0 and out.startswith(b"usage: commentd"), f"-h: {rc} {out!r}")
    rc, out, err = cli.run("--version")
    check(rc == 0 and re.match(rb"^commentd \d+\.\d+", out), f"--version: {rc} {out!r}")


CASES = {name[len("case_"):]: fn for name, fn in globals().items()
         if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commentd", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    try:
        CASES[args.case](Cli(args))
    except (Failure, subprocess.SubprocessError, OSError) as e:
        print(f"FAIL {args.case}: {e}", file=sys.stderr)
        return 1
    print(f"ok {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
