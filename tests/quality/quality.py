#!/usr/bin/env python3
"""Measures a policy on labelled corpora and on its own evasion and innocent suites.

Usage:
    quality.py --commentd BIN [--policy FILE] [--data DIR] report
    quality.py ... olid|sms [--min-precision P] [--min-recall R]
                            [--min-f1 F] [--max-fpr X]
    quality.py ... evasion|innocent

report  runs `commentd --eval` over both corpora of DIR (../shared/data):
        OLID tweets (NOT against OFF) and the SMS Spam Collection (ham
        against spam), and prints per corpus the decisions, precision,
        recall, F1 and the false-positive rate on the clean class (queue
        and reject both count as flagged), and the rules that fired most,
        with how many of their comments were labelled offensive or spam;
        then OLID once more without its @USER and URL placeholders, whose
        capitals make tweets look like SHOUTING.
olid, sms
        the same for one corpus, failing (exit 1) when a figure is below
        its floor: make check runs these with floors just under what the
        shipped policy reaches, so a regression fails.
evasion every line of evasion.txt (disguised forms of listed terms) must be
        rejected by a profanity or hate rule, and every disguise the
        comment policy names must have its section.
innocent
        every line of innocent.txt (innocent words and sentences that
        contain listed terms) must hold a term of a word list and be
        accepted.

Exit 0 pass, 1 fail, 77 skipped (a corpus is absent).  Standard library
only.  Every run of commentd is checked for sanitizer reports.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}

# The disguises docs/default-policy.md promises to undo: evasion.txt must
# hold a section for each, with at least this many lines.
DISGUISES = ["asterisks", "spaces", "symbols", "dashes", "leetspeak",
             "lookalikes", "stretched"]
MIN_PER_DISGUISE = 10
MIN_EVASION = 200
MIN_INNOCENT = 200
CAUGHT_CATEGORIES = ("profanity", "hate")
TOP_RULES = 10


class Failure(Exception):
    """A check that did not hold."""


def evaluate(commentd, policy, comments):
    """Runs `commentd --eval` on comments (dicts); returns their verdicts in order."""
    env = dict(os.environ)
    for k, v in SANITIZER_ENV.items():
        env.setdefault(k, v)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "comments.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for c in comments:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        p = subprocess.run([commentd, "--eval", "-p", policy, path],
                           env=env, capture_output=True, timeout=600)
    err = p.stderr.decode("utf-8", "replace")
    if "Sanitizer" in err or "runtime error:" in err:
        raise Failure(f"sanitizer report from commentd --eval:\n{err}")
    if p.returncode != 0:
        raise Failure(f"commentd --eval exited {p.returncode}:\n{err[-4000:]}")
    verdicts = [json.loads(line) for line in p.stdout.decode("utf-8").splitlines()]
    if len(verdicts) != len(comments):
        raise Failure(f"{len(verdicts)} verdicts for {len(comments)} comments")
    for c, v in zip(comments, verdicts):
        if v.get("id") != c["id"]:
            raise Failure(f"verdict {v.get('id')!r} answers comment {c['id']!r}")
    return verdicts


def read_olid(data):
    """OLID training tweets: (text, offensive?) pairs, or None when absent."""
    path = os.path.join(data, "olid", "olid-training-v1.0.tsv")
    if not os.path.exists(path):
        return None
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        # The tweets hold stray double quotes that are text, not quoting.
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        if header[:3] != ["id", "tweet", "subtask_a"]:
            raise Failure(f"{path}: unexpected header {header!r}")
        for n, row in enumerate(reader, 2):
            if len(row) < 3 or row[2] not in ("OFF", "NOT"):
                raise Failure(f"{path}:{n}: not ID<TAB>TWEET<TAB>OFF|NOT")
            rows.append((row[1], row[2] == "OFF"))
    return rows


def read_sms(data):
    """SMS Spam Collection: (text, spam?) pairs, or None when absent."""
    path = os.path.join(data, "sms_spam", "SMSSpamCollection")
    if not os.path.exists(path):
        return None
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            label, sep, text = line.rstrip("\r\n").partition("\t")
            if not sep or label not in ("ham", "spam"):
                raise Failure(f"{path}:{n}: not LABEL<TAB>TEXT")
            rows.append((text, label == "spam"))
    return rows


def read_olid_plain(data):
    """OLID without the placeholders its publishers put in for mentions and
    links ("@USER", "URL"): capitals that no real comment holds."""
    rows = read_olid(data)
    if rows is None:
        return None
    return [(re.sub(r"@USER|\bURL\b", "", text), off) for text, off in rows]


CORPORA = {
    "olid": ("OLID tweets", "OFF", "NOT", read_olid),
    "sms": ("SMS Spam Collection", "spam", "ham", read_sms),
}
# Reported, never held to a floor: how much of the OLID figures the
# anonymisation placeholders account for.
REPORT_ONLY = {
    "olid-plain": ("OLID tweets without @USER and URL placeholders", "OFF",
                   "NOT", read_olid_plain),
}


def measure(commentd, policy, rows):
    """Confusion counts, decisions and per-rule hits of a policy on labelled rows."""
    comments = [{"id": str(i), "body": text, "author": {"id": "corpus"}}
                for i, (text, _) in enumerate(rows)]
    verdicts = evaluate(commentd, policy, comments)
    m = {"tp": 0, "fp": 0, "fn": 0, "tn": 0, "n": len(rows), "rules": {},
         "decisions": {"accept": 0, "queue": 0, "reject": 0}}
    for (_, positive), v in zip(rows, verdicts):
        flagged = v["decision"] != "accept"
        m["decisions"][v["decision"]] += 1
        key = ("tp" if flagged else "fn") if positive else ("fp" if flagged else "tn")
        m[key] += 1
        for rule in {r["rule"] for r in v["reasons"]}:
            hits = m["rules"].setdefault(rule, [0, 0])
            hits[0 if positive else 1] += 1
    tp, fp, fn, tn = m["tp"], m["fp"], m["fn"], m["tn"]
    m["precision"] = tp / (tp + fp) if tp + fp else 0.0
    m["recall"] = tp / (tp + fn) if tp + fn else 0.0
    p, r = m["precision"], m["recall"]
    m["f1"] = 2 * p * r / (p + r) if p + r else 0.0
    m["fpr"] = fp / (fp + tn) if fp + tn else 0.0
    return m


def print_measure(name, pos, neg, m):
    """One corpus's figures, as docs/default-policy.md quotes them."""
    d = m["decisions"]
    print(f"{name}: {m['n']} comments ({m['tp'] + m['fn']} {pos}, {m['fp'] + m['tn']} {neg})")
    print(f"  decisions    accept {d['accept']}, queue {d['queue']}, reject {d['reject']}")
    print(f"  flagged      {m['tp']} of {m['tp'] + m['fn']} {pos}, {m['fp']} of {m['fp'] + m['tn']} {neg}")
    print(f"  precision    {m['precision']:.3f}")
    print(f"  recall       {m['recall']:.3f}")
    print(f"  F1           {m['f1']:.3f}")
    print(f"  FPR ({neg})   {m['fpr']:.4f}")
    top = sorted(m["rules"].items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    print(f"  top rules    comments each fired on ({pos} / {neg}):")
    for rule, (p, n) in top[:TOP_RULES]:
        print(f"    {p + n:6d}  {p:6d} / {n:<6d} {rule}")


def check_floors(m, args):
    """Fails when a figure is under its floor."""
    below = []
    for key, floor in (("precision", args.min_precision), ("recall", args.min_recall),
                       ("f1", args.min_f1)):
        if floor is not None and m[key] < floor:
            below.append(f"{key} {m[key]:.4f} < floor {floor}")
    if args.max_fpr is not None and m["fpr"] > args.max_fpr:
        below.append(f"false-positive rate {m['fpr']:.4f} > ceiling {args.max_fpr}")
    if below:
        raise Failure("; ".join(below))


def run_corpus(args, key):
    """One corpus, measured and held to its floors."""
    name, pos, neg, reader = CORPORA[key]
    rows = reader(args.data)
    if rows is None:
        print(f"skipped: the {name} corpus is absent from {args.data} "
              "(see ../shared/data/README.md)")
        sys.exit(SKIP)
    m = measure(args.commentd, args.policy, rows)
    print_measure(name, pos, neg, m)
    check_floors(m, args)


def run_report(args):
    """Every corpus present, figures only."""
    ran = 0
    for key, (name, pos, neg, reader) in {**CORPORA, **REPORT_ONLY}.items():
        rows = reader(args.data)
        if rows is None:
            print(f"{name}: absent from {args.data}, skipped")
            continue
        print_measure(name, pos, neg, measure(args.commentd, args.policy, rows))
        ran += 1
    if ran == 0:
        sys.exit(SKIP)


ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U\{([0-9a-fA-F]{1,6})\}")


def unescape(text):
    """Turns \\uXXXX and \\U{XXXXX} into the code points they name."""
    return ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def read_suite(name):
    """A suite file's lines as (section, text, line number); '#' lines are comments."""
    path = os.path.join(HERE, name)
    section, out = None, []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            text = line.rstrip("\n")
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            if text.startswith("[") and text.endswith("]"):
                section = text[1:-1]
                continue
            if section is None:
                raise Failure(f"{name}:{n}: a line before the first [section]")
            out.append((section, unescape(text), n))
    return out


def listed_terms(policy):
    """The terms of the word lists beside a policy, as lower-case letters only."""
    terms = set()
    folder = os.path.join(os.path.dirname(policy), "wordlists")
    for entry in sorted(os.listdir(folder)):
        if not entry.endswith(".txt") or entry == "allow.txt":
            continue
        with open(os.path.join(folder, entry), encoding="utf-8") as f:
            for line in f:
                term = re.sub(r"[^a-z]", "", line.split("#", 1)[0].lower())
                if len(term) >= 3:
                    terms.add(term)
    return terms


def run_suite(args, name, want_caught):
    """Every line of a suite judged: caught in full, or accepted in full."""
    cases = read_suite(name)
    if not want_caught:
        # An innocent line proves something only if it holds a listed term.
        terms = listed_terms(args.policy)
        for _, text, n in cases:
            letters = re.sub(r"[^a-z]", "", text.lower())
            if not any(t in letters for t in terms):
                raise Failure(f"{name}:{n}: holds no listed term: {text}")
    comments = [{"id": f"{name}:{n}", "body": text, "author": {"id": "suite"}}
                for _, text, n in cases]
    verdicts = evaluate(args.commentd, args.policy, comments)
    wrong, sections = [], {}
    for (section, text, n), v in zip(cases, verdicts):
        sections[section] = sections.get(section, 0) + 1
        rules = [f"{r['rule']}={r['matched']!r}" for r in v["reasons"]]
        if want_caught:
            ok = v["decision"] == "reject" and any(
                r["category"] in CAUGHT_CATEGORIES for r in v["reasons"])
        else:
            ok = v["decision"] == "accept"
        if not ok:
            wrong.append(f"  {name}:{n} [{section}] {v['decision']} "
                         f"{', '.join(rules) or '(no rule)'}: {text}")
    total = len(cases)
    print(f"{name}: {total - len(wrong)} of {total} "
          f"{'caught' if want_caught else 'accepted'}")
    for section, count in sections.items():
        print(f"  {section:12} {count}")
    if wrong:
        raise Failure(f"{len(wrong)} of {total} lines "
                      f"{'not caught' if want_caught else 'not accepted'}:\n" +
                      "\n".join(wrong))
    minimum = MIN_EVASION if want_caught else MIN_INNOCENT
    if total < minimum:
        raise Failure(f"{name} holds {total} lines, fewer than {minimum}")
    if want_caught:
        missing = [d for d in DISGUISES if sections.get(d, 0) < MIN_PER_DISGUISE]
        if missing:
            raise Failure(f"{name}: fewer than {MIN_PER_DISGUISE} lines for "
                          f"{', '.join(missing)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commentd", required=True, help="the commentd binary")
    ap.add_argument("--policy", default=os.path.join(SOURCE, "policies", "default.yaml"))
    ap.add_argument("--data", default=os.path.join(SOURCE, "..", "shared", "data"))
    ap.add_argument("--min-precision", type=float)
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--min-f1", type=float)
    ap.add_argument("--max-fpr", type=float)
    ap.add_argument("case", choices=["report", "olid", "sms", "evasion", "innocent"])
    args = ap.parse_args()
    try:
        if args.case == "report":
            run_report(args)
        elif args.case in CORPORA:
            run_corpus(args, args.case)
        else:
            run_suite(args, args.case + ".txt", args.case == "evasion")
    except (Failure, OSError, subprocess.SubprocessError, ValueError) as e:
        print(f"FAIL {args.case}: {e}", file=sys.stderr)
        return 1
    print(f"ok {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
