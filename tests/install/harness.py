"""What test_install.py and test_docs.py share: the command line, skipping,
commands run with a deadline, and a real daemon beside a real redis-server.

The daemon and Redis are the integration tests' own fixtures (Daemon in
tests/integration/conftest.py, RedisProc in redisproc.py), imported rather
than written twice.  Every wait here has a deadline; a tool that is not
installed skips the test (exit 77) rather than passing it.
"""
import argparse
import functools
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

SKIPPED = 77


class Skip(Exception):
    """The test cannot run here (a tool is missing); ctest shows it skipped."""


class Failure(Exception):
    """The test ran and found something wrong."""


def parse_args(cases):
    """The paths CMake passes, and the case to run."""
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True, help="the CMake build tree")
    p.add_argument("--source", required=True, help="the source tree")
    p.add_argument("--destdir", required=True,
                   help="where install.destdir installed to")
    p.add_argument("--commentd", required=True,
                   help="the commentd of the build tree")
    p.add_argument("--mdwe-exec", required=True,
                   help="tests/install/mdwe_exec.c, built")
    p.add_argument("--cmake", default="cmake",
                   help="the cmake that configured the build tree")
    p.add_argument("case", choices=sorted(cases))
    return p.parse_args()


def main(cases):
    """Runs the case named on the command line; exits 0, 1 or 77."""
    args = parse_args(cases)
    try:
        cases[args.case](args)
    except Skip as e:
        print(f"skipped: {e}")
        sys.exit(SKIPPED)
    except Failure as e:
        print(f"FAILED: {e}")
        sys.exit(1)
    print(f"{args.case}: ok")


def check(cond, msg):
    """Fails the test with msg unless cond holds."""
    if not cond:
        raise Failure(msg)


def need(tool):
    """The path of tool, or a skip when it is not installed."""
    path = shutil.which(tool)
    if path is None:
        raise Skip(f"{tool} is not installed")
    return path


def run(argv, timeout=120, env=None, **kw):
    """Runs argv to completion (text output captured) within the deadline."""
    full_env = dict(os.environ, **(env or {}))
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=timeout, env=full_env, **kw)
    except subprocess.TimeoutExpired:
        raise Failure(f"{argv[0]} did not finish within {timeout}s: {argv}")


def show(proc):
    """A finished command's status and output, for a failure message."""
    return (f"exit {proc.returncode}\n--- stdout\n{proc.stdout}"
            f"--- stderr\n{proc.stderr}")


def fixtures(args):
    """The integration tests' conftest and redisproc modules."""
    sys.path.insert(0, os.path.join(args.source, "tests", "integration"))
    try:
        import conftest
        import redisproc
    except ImportError as e:
        raise Failure(f"cannot import the integration fixtures: {e}")
    return conftest, redisproc


class Running:
    """A temporary directory with a redis-server and a commentd in it.

    `binary` is the commentd to run; `prefix` builds the argv before it from
    the daemon (its socket paths), for systemd-socket-activate or strace.
    The daemon is started by the caller (d.start()) and stopped, with its
    exit status (`expect_exit`, 0 unless the test says otherwise) and its
    log checked, on leaving the block.
    """

    def __init__(self, args, binary, policy=None, prefix=None, env=None):
        self.conftest, redisproc = fixtures(args)
        self.tmp = tempfile.TemporaryDirectory(prefix="commentd-test-")
        self.dir = pathlib.Path(self.tmp.name)
        (self.dir / "redis").mkdir()
        self.redis = redisproc.RedisProc(self.dir / "redis")
        self.conftest.COMMENTD = binary
        self.policy = policy or os.path.join(args.source, "policies",
                                             "default.yaml")
        self.prefix = prefix
        self.env = env or {}
        self.daemon = None
        self.expect_exit = 0

    def __enter__(self):
        self.redis.start()
        d = self.conftest.Daemon(self.dir, policy=self.policy,
                                 redis=self.redis.socket,
                                 extra_env=self.env)
        if self.prefix is not None:
            d.argv_prefix = self.prefix(d)
        self.daemon = d
        return self

    def __exit__(self, kind, exc, tb):
        d = self.daemon
        try:
            if d is not None and d.proc is not None:
                rc = d.stop()
                if kind is None:
                    d.assert_clean()
                    check(rc == self.expect_exit,
                          f"commentd exited {rc}:\n{d.log()}")
        finally:
            self.redis.stop()
            self.tmp.cleanup()
        return False


@functools.lru_cache(maxsize=None)
def syscall_group(name):
    """Every system call in a systemd group (@name), groups expanded."""
    out = run(["systemd-analyze", "syscall-filter", name]).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        if not line.startswith(" "):
            break
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        calls |= syscall_group(word) if word.startswith("@") else {word}
    check(calls, f"systemd-analyze knows no system call group {name}")
    return frozenset(calls)


def unit_values(path, key):
    """The values of every `key=` line of a unit file, in order."""
    values = []
    with open(path) as f:
        for line in f:
            if line.startswith(key + "="):
                values.append(line[len(key) + 1:].strip())
    return values
