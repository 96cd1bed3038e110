"""The operator and client documentation, held to the current build.

  man         every page in docs/man/ renders with `man --warnings` and
              groff -ww without a warning; commentd(8) names every option
              of `commentd -h`, commentd.yaml(5) every setting `commentd -t
              -v` prints, with its default
  api_curl, api_python, api_node
              the client examples in docs/api.md ("Client examples"), run
              as written against a real daemon (only the socket path is
              changed)
  operations  docs/operations.md: the exposure level it quotes, every
              metric name it uses (looked up in a live /metrics page), and
              its Redis ACL, applied to a real Redis that the daemon then
              uses without a refused command
"""
import json
import os
import pathlib
import re
import sys
import tempfile

from harness import Running, check, main, need, run, show

EXAMPLE_SOCKET = "/run/commentd/submit.sock"
LANGUAGES = {"api_curl": "sh", "api_python": "python", "api_node": "js"}


def render(page, width=250):
    """A manual page as text, without hyphenation; hyphens as ASCII."""
    p = run(["man", "--nh", "--nj", "-l", str(page)],
            env={"MANWIDTH": str(width), "LC_ALL": "C.UTF-8"})
    check(p.returncode == 0, f"man -l {page}: {show(p)}")
    return p.stdout.replace("\u2010", "-").replace("\u2212", "-")


def squash(text):
    """text without white space, where a line break cannot hide a match."""
    return re.sub(r"\s+", "", text)


def entries(text):
    """Tag -> its paragraph, for the tagged lists of an mdoc page."""
    found, tag, body = {}, None, []
    for line in text.splitlines():
        m = re.fullmatch(r" {5}(\S+)", line)
        if m or not line.startswith("      "):
            if tag is not None:
                found[tag] = " ".join(body)
            tag, body = (m.group(1) if m else None), []
        elif tag is not None:
            body.append(line.strip())
    if tag is not None:
        found[tag] = " ".join(body)
    return found


def case_man(args):
    """The pages render cleanly and cover the options and settings."""
    need("man")
    need("groff")
    pages = sorted(pathlib.Path(args.source, "docs", "man").glob("*.[1-9]"))
    check(pages, "no manual pages in docs/man")
    for page in pages:
        p = run(["man", "--warnings", "-l", str(page)],
                env={"MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
        check(p.returncode == 0 and not p.stderr,
              f"man --warnings -l {page.name}: {show(p)}")
        p = run(["groff", "-mandoc", "-ww", "-z", "-Tutf8", str(page)])
        check(p.returncode == 0 and not p.stderr,
              f"groff -ww {page.name}: {show(p)}")
    man_options(args)
    man_commands(args)
    man_settings(args)


def man_options(args):
    """commentd(8) describes every option `commentd -h` lists."""
    p = run([args.commentd, "-h"])
    check(p.returncode == 0, f"commentd -h: {show(p)}")
    options = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", p.stdout))
    check(len(options) > 5, f"no options found in commentd -h:\n{p.stdout}")
    text = render(pathlib.Path(args.source, "docs/man/commentd.8"))
    missing = sorted(o for o in options
                     if not re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])",
                                      text))
    check(not missing, f"commentd.8 does not describe {missing}")


def man_commands(args):
    """commentctl(1) describes every command and variable of its --help."""
    ctl = os.path.join(args.build, "client", "commentctl")
    check(os.path.exists(ctl), f"{ctl} was not built")
    p = run([ctl, "--help"])
    check(p.returncode == 0, f"commentctl --help: {show(p)}")
    words = re.findall(r"^  (\w+) ", p.stdout, re.M)
    words += re.findall(r"\$(COMMENTCTL_\w+)", p.stdout)
    words += re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", p.stdout)
    check(len(words) > 10, f"no commands found in commentctl --help:\n"
          f"{p.stdout}")
    text = render(pathlib.Path(args.source, "docs/man/commentctl.1"))
    missing = sorted({w for w in words
                      if not re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])",
                                       text)})
    check(not missing, f"commentctl.1 does not describe {missing}")


def man_settings(args):
    """commentd.yaml(5) has an entry, with the default, for each setting."""
    with tempfile.TemporaryDirectory() as d:
        config = os.path.join(d, "commentd.yaml")
        policy = os.path.join(args.source, "policies", "default.yaml")
        with open(config, "w") as f:
            f.write(f"sites:\n  list:\n    example: {{policy: {policy}}}\n")
        p = run([args.commentd, "-t", "-v", "-c", config])
    check(p.returncode == 0, f"commentd -t -v: {show(p)}")
    page = entries(render(pathlib.Path(args.source,
                                       "docs/man/commentd.yaml.5")))
    settings = 0
    for line in p.stdout.splitlines():
        m = re.fullmatch(r"(\S+) = (.*?)( \(default\))?", line)
        if not m or m.group(1).startswith("sites.list."):
            continue
        name, value, default = m.groups()
        settings += 1
        check(name in page, f"commentd.yaml.5 has no entry for {name}")
        value = value[1:-1] if value.startswith('"') else value
        # A default sites.default is printed resolved, as the only site.
        if default and value not in ("on", "off") and \
                name != "sites.default":
            want = value if value else '""'
            check(re.search(rf"default{re.escape(want)}[;,.]",
                            squash(page[name])),
                  f"commentd.yaml.5: {name} does not give its default "
                  f"{want}: {page[name]!r}")
    check(settings > 10, f"commentd -t -v printed no settings:\n{p.stdout}")


def example(args, language):
    """The one code block in `language` under "Client examples"."""
    with open(os.path.join(args.source, "docs", "api.md")) as f:
        text = f.read()
    m = re.search(r"^###? Client examples\n(.*?)(?=^#{1,3} )", text,
                  re.M | re.S)
    check(m, "docs/api.md has no \"Client examples\" section")
    blocks = re.findall(rf"^```{language}\n(.*?)^```", m.group(1),
                        re.M | re.S)
    check(len(blocks) == 1, f"docs/api.md: {len(blocks)} {language} "
          "blocks under Client examples, not one")
    check(EXAMPLE_SOCKET in blocks[0],
          f"the {language} example does not use {EXAMPLE_SOCKET}")
    return blocks[0]


def case_api_example(args, case):
    """Runs one of docs/api.md's client examples against a real daemon."""
    language = LANGUAGES[case]
    code = example(args, language)
    if language == "sh":
        argv = ["/bin/sh", "-c"]
        need("curl")
    elif language == "python":
        argv = [sys.executable, "-c"]
    else:
        argv = [need("node"), "-e"]
    with Running(args, args.commentd) as r:
        d = r.daemon
        d.start()
        p = run(argv + [code.replace(EXAMPLE_SOCKET, d.submit)], timeout=30)
    check(p.returncode == 0, f"the {language} example failed: {show(p)}")
    if language == "sh":
        verdict = json.loads(p.stdout)
        words = [verdict["decision"]] + [x["rule"] for x in
                                         verdict["reasons"]]
    else:
        words = p.stdout.split()
    check(words[:1] == ["queue"] and "pii.email" in words[1:],
          f"the {language} example printed {p.stdout!r}, not the "
          "`queue pii.email ...` docs/api.md promises")
    print(f"{language}: {p.stdout.strip()[:200]}")


def operations_text(args):
    with open(os.path.join(args.source, "docs", "operations.md")) as f:
        return f.read()


def case_operations(args):
    """docs/operations.md against the unit, a live daemon and Redis."""
    need("systemd-analyze")
    text = operations_text(args)
    quoted = re.search(r"exposure level of (\d+\.\d)", text)
    check(quoted, "docs/operations.md quotes no exposure level")
    p = run(["systemd-analyze", "security", "--offline=yes",
             os.path.join(args.source, "systemd", "commentd.service")])
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", p.stdout)
    check(m and m.group(1) == quoted.group(1),
          f"docs/operations.md says exposure {quoted.group(1)}, "
          f"systemd-analyze says {m.group(1) if m else show(p)}")
    section = re.search(r"^## Redis failures and several daemons\n\n(.*?)"
                        r"(?=^## |\Z)", text, re.M | re.S)
    check(section and section.group(1).strip().count(". ") == 0 and
          "(redis.md)" in section.group(1) and
          os.path.exists(os.path.join(args.source, "docs", "redis.md")),
          "the Redis failures section must be one sentence pointing to "
          "docs/redis.md, which must exist")
    acl = acl_rule(text)
    lua_commands_allowed(args, acl)
    with Running(args, args.commentd) as r:
        admin = restrict_redis(r.redis, acl)
        d = r.daemon
        d.start()
        for body in ("Thanks for the clear reporting.",
                     "Write to me at ben@example.com",
                     "What the f*ck is this"):
            status, answer = d.check({"id": f"c-{len(body)}", "body": body,
                                      "author": {"id": "u-1"}})
            check(status == 200, f"POST /v1/check: {status} {answer!r}")
        status, page = d.get("/metrics")
        check(status == 200, f"GET /metrics: {status}")
        refused = admin.cmd("ACL", "LOG")
        stats = admin.cmd("INFO", "commandstats").decode()
        admin.close()
    page = page.decode()
    check(not refused, f"Redis refused the daemon under the documented "
          f"ACL: {refused}")
    check(re.search(r"^cmdstat_eval(sha)?:calls=[1-9]", stats, re.M),
          f"the daemon ran no script in Redis:\n{stats}")
    check(re.search(r"^commentd_redis_up 1$", page, re.M),
          "the daemon was not connected to Redis")
    names = set(re.findall(r"\bcommentd_[a-z0-9_]+", text))
    live = set(re.findall(r"^(commentd_[a-z0-9_]+)", page, re.M))
    check(names and not names - live, "metrics in docs/operations.md that "
          f"/metrics does not have: {sorted(names - live)}")


def acl_rule(text):
    """The ACL rules docs/operations.md gives the `default` user."""
    m = re.search(r"^user default (.+)$", text, re.M)
    check(m, "docs/operations.md gives no `user default` ACL line")
    return m.group(1).split()


def lua_commands_allowed(args, acl):
    """The commands the daemon's scripts call are in the ACL."""
    allowed = {r[1:].split("|")[0].lower() for r in acl if r.startswith("+")}
    called = {"evalsha", "eval"}
    for script in pathlib.Path(args.source, "daemon", "redis").glob("*.lua"):
        called |= {c.lower() for c in re.findall(
            r"redis\.p?call\(\s*['\"](\w+)['\"]", script.read_text())}
    check(not called - allowed, "commands the daemon calls that the "
          f"documented ACL refuses: {sorted(called - allowed)}")


def restrict_redis(redis, acl):
    """Applies the documented ACL to `default`; a client logged in as admin."""
    c = redis.client()
    c.cmd("ACL", "SETUSER", "admin", "on", ">test-password", "~*", "&*",
          "+@all")
    c.cmd("AUTH", "admin", "test-password")
    c.cmd("ACL", "SETUSER", "default", *acl)
    c.cmd("ACL", "LOG", "RESET")
    return c


def yaml_blocks(path):
    """The ```yaml blocks of a Markdown file, in order."""
    return re.findall(r"^```yaml\n(.*?)^```", path.read_text(),
                      re.M | re.S)


def case_policy(args):
    """docs/policy.md's examples are what the loader and the engine do.

    The blocks before the whole-policy examples are fragments of one
    policy: put together (the rules block continued by the check), they
    must load with `commentd -t`, every rule's own examples run.  The
    whole-policy examples must be what the shipped policy decides.
    """
    doc = pathlib.Path(args.source, "docs", "policy.md")
    blocks = yaml_blocks(doc)
    check(len(blocks) >= 5, f"{doc}: expected its 5 yaml examples, found "
          f"{len(blocks)}")
    fragments, examples = blocks[:-1], blocks[-1]
    check(examples.startswith("examples:"), "the last yaml block of "
          "docs/policy.md is no longer the whole-policy examples")
    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(args.source, "policies", "wordlists"),
                   os.path.join(tmp, "wordlists"))
        policy = os.path.join(tmp, "docs-example.yaml")
        with open(policy, "w") as f:
            f.write("policy: docs-example\n" + "".join(fragments))
        p = run([args.commentd, "-t", "-p", policy])
        check(p.returncode == 0, f"docs/policy.md's fragments do not load "
              f"as one policy:\n{open(policy).read()}\n{show(p)}")
    lines = []
    for m in re.finditer(r'\{body: "([^"]*)"(?:, author: \{name: "([^"]*)"\})?,'
                         r' expect: (\w+)(?:, rules: \[([^\]]*)\])?\}',
                         examples):
        body, name, expect, rules = m.groups()
        lines.append((body, name, expect, rules))
    check(len(lines) == examples.count("body:"), "cannot read every "
          "whole-policy example of docs/policy.md")
    jsonl = "".join(json.dumps({"id": str(i), "body": body,
                                "author": {"id": "a", "name": name}}) + "\n"
                    for i, (body, name, _, _) in enumerate(lines))
    p = run([args.commentd, "--eval", "-p",
             os.path.join(args.source, "policies", "default.yaml"), "-"],
            input=jsonl)
    check(p.returncode == 0, show(p))
    answers = [json.loads(line) for line in p.stdout.splitlines()
               if line.startswith("{")]
    check(len(answers) == len(lines), show(p))
    for (body, name, expect, rules), a in zip(lines, answers):
        got = {r["rule"] for r in a["reasons"]}
        want = {r.strip() for r in (rules or "").split(",") if r.strip()}
        check(a["decision"] == expect and want <= got,
              f"docs/policy.md says {body!r} ({name}) is {expect} "
              f"{sorted(want)}; the shipped policy says {a['decision']} "
              f"{sorted(got)}")


if __name__ == "__main__":
    cases = {"man": case_man, "operations": case_operations,
             "policy": case_policy}
    for name in LANGUAGES:
        cases[name] = (lambda n: lambda args: case_api_example(args, n))(name)
    main(cases)
