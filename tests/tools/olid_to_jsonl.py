#!/usr/bin/env python3
"""Convert the OLID training TSV to the JSON Lines that `commentd --eval` reads.

Usage: olid_to_jsonl.py INPUT.tsv OUTPUT.jsonl   (OUTPUT may be - for stdout)

Each row `id tweet subtask_a subtask_b subtask_c` becomes
{"id": ID, "body": TWEET, "author": {"id": "olid", "name": "olid"},
 "label": SUBTASK_A}; --eval ignores "label", quality reports read it.

The file is read with quoting disabled: its tweets hold stray double quotes
that are part of the text, not TSV quoting.  Standard library only, so any
python3 runs it.
"""

import csv
import json
import sys

HEADER = ["id", "tweet", "subtask_a", "subtask_b", "subtask_c"]


def convert(src, dst):
    """Write one JSON object per data row of src to dst; return the row count."""
    reader = csv.reader(src, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header != HEADER:
        raise ValueError(f"unexpected header {header!r}, wanted {HEADER!r}")
    n = 0
    for lineno, row in enumerate(reader, start=2):
        if len(row) != len(HEADER):
            raise ValueError(f"line {lineno}: {len(row)} fields, wanted {len(HEADER)}")
        comment = {
            "id": row[0],
            "body": row[1],
            "author": {"id": "olid", "name": "olid"},
            "label": row[2],
        }
        dst.write(json.dumps(comment, ensure_ascii=False) + "\n")
        n += 1
    return n


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        with open(argv[1], encoding="utf-8", newline="") as src:
            if argv[2] == "-":
                sys.stdout.reconfigure(encoding="utf-8")
                n = convert(src, sys.stdout)
            else:
                with open(argv[2], "w", encoding="utf-8") as dst:
                    n = convert(src, dst)
    except (OSError, ValueError, UnicodeDecodeError) as e:
        print(f"olid_to_jsonl: {e}", file=sys.stderr)
        return 1
    print(f"olid_to_jsonl: {n} comments", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
