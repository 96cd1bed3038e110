"""Fixtures that run the real commentd in a temporary directory.

As PgBouncer's tests do: each test gets its own daemon on its own Unix
sockets under tmp_path, talks to it over real sockets, and reads its log.
The daemon is stopped with SIGTERM after the test; it must exit 0 and its
log must hold no sanitizer report.

COMMENTD_WRAPPER, when set, is a command put in front of every commentd
these fixtures start (tests/integration/run-valgrind.sh sets it to
valgrind); start and stop then wait COMMENTD_WAIT_SCALE times longer.
"""
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import threading
import time

import pytest

COMMENTD = os.environ.get("COMMENTD_BIN", "build/daemon/commentd")
SOURCE = os.environ.get("COMMENTD_SOURCE", os.getcwd())
SHARED = os.environ.get("COMMENTD_SHARED_DATA",
                        os.path.join(SOURCE, "..", "shared", "data"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")
WRAPPER = shlex.split(os.environ.get("COMMENTD_WRAPPER", ""))
WAIT_SCALE = float(os.environ.get("COMMENTD_WAIT_SCALE", "1"))
QUEUE = "commentd:{example}:queue"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket, as a backend's HTTP client would."""

    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Daemon:
    """One commentd process and its files."""

    def __init__(self, tmp_path, limits=None, policy=None, extra_env=None,
                 argv_prefix=None, tcp=None, redis=None, sites=None):
        self.dir = tmp_path
        self.submit = str(tmp_path / "submit.sock")
        self.admin = str(tmp_path / "admin.sock")
        self.config = str(tmp_path / "commentd.yaml")
        self.log_path = str(tmp_path / "commentd.log")
        self.policy = policy or os.path.join(SOURCE, "policies", "default.yaml")
        self.limits = {"header_timeout_ms": 1000, "body_timeout_ms": 1000,
                       "idle_timeout_ms": 5000, "max_connections": 64,
                       "shutdown_timeout_ms": 3000}
        self.limits.update(limits or {})
        self.extra_env = extra_env or {}
        self.argv_prefix = argv_prefix or []
        self.tcp = tcp          # {"port": N, "token_file": path} or None
        self.redis = redis      # a redis-server's Unix socket, or None: none
        self.sites = sites or {}    # more sites: name -> policy path
        # The admin socket's mode and group, as listen.admin takes them:
        # {"mode": "0660", "group": "nogroup"} lets another user moderate.
        self.admin_access = {}
        self.proc = None
        self.write_config()

    def write_config(self, policy=None):
        limits = ", ".join(f"{k}: {v}" for k, v in self.limits.items())
        sites = {"example": policy or self.policy, **self.sites}
        access = "".join(f", {k}: \"{v}\""
                         for k, v in self.admin_access.items())
        with open(self.config, "w") as f:
            f.write(f"listen:\n"
                    f"  submit: {{path: {self.submit}}}\n"
                    f"  admin: {{path: {self.admin}{access}}}\n"
                    f"sites:\n" +
                    ("  default: example\n" if self.sites else "") +
                    "  list:\n" +
                    "".join(f"    {name}: {{policy: {path}}}\n"
                            for name, path in sites.items()) +
                    f"state_dir: {self.dir}\n"
                    f"redis: {{address: "
                    f"\"{'unix:' + self.redis if self.redis else 'none'}\"}}\n"
                    f"limits: {{{limits}}}\n")
        if self.tcp:
            with open(self.config) as f:
                text = f.read()
            tcp = (f"  tcp: {{address: 127.0.0.1, port: {self.tcp['port']}, "
                   f"token_file: \"{self.tcp.get('token_file', '')}\"}}\n")
            text = text.replace("sites:\n", tcp + "sites:\n", 1)
            with open(self.config, "w") as f:
                f.write(text)

    def start(self, wait=True):
        env = dict(os.environ, **self.extra_env)
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv_prefix + WRAPPER + [COMMENTD, "-c", self.config],
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        timeout *= WAIT_SCALE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"commentd exited {self.proc.returncode}:\n{self.log()}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"commentd not ready after {timeout}s:\n{self.log()}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn(self, which="submit", timeout=10):
        if which == "tcp":
            return http.client.HTTPConnection("127.0.0.1", self.tcp["port"],
                                              timeout=timeout)
        return UnixHTTPConnection(self.submit if which == "submit" else self.admin,
                                  timeout=timeout)

    def request(self, method, path, body=None, headers=None, which="submit"):
        c = self.conn(which)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read(), r
        finally:
            c.close()

    def get(self, path, which="submit"):
        status, body, _ = self.request("GET", path, which=which)
        return status, body

    def check(self, payload, which="submit", content_type="application/json"):
        body = payload if isinstance(payload, (bytes, str)) else __import__("json").dumps(payload)
        headers = {"Content-Type": content_type} if content_type else {}
        status, data, _ = self.request("POST", "/v1/check", body, headers, which)
        return status, data

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        timeout *= WAIT_SCALE
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"commentd did not stop within {timeout}s:\n{self.log()}")
        self.log_file.close()
        return rc

    def assert_clean(self):
        text = self.log()
        for mark in SANITIZER_MARKS:
            assert mark not in text, f"sanitizer report in the log:\n{text}"


def free_port():
    """A loopback TCP port nobody listens on (for the TCP listener)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout=5):
    """Polls cond until it holds or the deadline passes; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


class Load:
    """Submits comments from many clients at once over keep-alive
    connections, each comment numbered; every fifth asks to be held.
    Shared by the fault and hostile-client tests."""

    def __init__(self, daemon, total, clients, prefix="c"):
        self.daemon = daemon
        self.total = total
        self.clients = clients
        self.prefix = prefix
        self.next = 0
        self.done = 0
        self.lock = threading.Lock()
        self.answers = {}       # id -> (status, decision, took_us)
        self.errors = []
        self.max_wait = 0.0     # seconds, as the client saw it
        self.waits = []         # every answered request's, in seconds

    def body(self, i):
        text = "please hold me" if i % 5 == 0 else f"comment {i} is fine"
        return json.dumps({"id": f"{self.prefix}{i}", "site": "example",
                           "author": {"id": f"u{i % 97}"}, "body": text})

    def client(self):
        conn = None
        while True:
            with self.lock:
                if self.next >= self.total:
                    break
                i = self.next
                self.next += 1
            cid = f"{self.prefix}{i}"
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = UnixHTTPConnection(self.daemon.submit, timeout=10)
                conn.request("POST", "/v1/check", self.body(i),
                             {"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                status = r.status
            except OSError as e:
                with self.lock:
                    self.errors.append(f"{cid}: {e!r}")
                conn = None
                continue
            waited = time.monotonic() - t0
            answer = json.loads(data)
            with self.lock:
                self.max_wait = max(self.max_wait, waited)
                self.waits.append(waited)
                self.answers[cid] = (status, answer.get("decision"),
                                     answer.get("took_us"))
                self.done += 1
        if conn is not None:
            conn.close()

    def run(self, during=None):
        threads = [threading.Thread(target=self.client)
                   for _ in range(self.clients)]
        for t in threads:
            t.start()
        if during:
            during(self)
        for t in threads:
            t.join(300)
        return self

    def queued(self):
        return {cid for cid, (s, d, _) in self.answers.items()
                if s == 200 and d == "queue"}

    def statuses(self):
        out = {}
        for s, _, _ in self.answers.values():
            out[s] = out.get(s, 0) + 1
        return out

    def max_took_ms(self):
        took = [t for s, _, t in self.answers.values() if t is not None]
        return max(took) / 1000 if took else 0

    def wait_quantile(self, q):
        """The q-quantile (0 to 1) of the clients' waits, in seconds."""
        waits = sorted(self.waits)
        return waits[min(len(waits) - 1, int(q * len(waits)))] if waits else 0


def stream_ids(redis):
    """Comment id -> how many times it is in the queue stream."""
    counts = {}
    for _, fields in redis.client().cmd("XRANGE", QUEUE, "-", "+"):
        kv = dict(zip(fields[0::2], fields[1::2]))
        cid = kv[b"id"].decode()
        counts[cid] = counts.get(cid, 0) + 1
    return counts


def readyz(d):
    """The daemon's /readyz answer, parsed."""
    return json.loads(d.get("/readyz")[1])


def caught_up(d):
    """Redis is up and the spool has been replayed into it."""
    r = readyz(d)
    return r["redis"] == "up" and r["spool_pending"] == 0


def lost_and_twice(queued, found):
    """The ids answered queue but not in the stream, and those in it more
    than once (found: stream_ids())."""
    return (sorted(queued - set(found)),
            sorted(c for c, n in found.items() if n > 1))


def report(name, load, found):
    """Prints what a load submitted, what was queued and what was lost;
    returns the lost and the twice-stored ids."""
    queued = load.queued()
    lost, twice = lost_and_twice(queued, found)
    print(f"\n{name}: submitted={load.total} answered={load.done} "
          f"statuses={load.statuses()} answered_queue={len(queued)} "
          f"found_in_redis={len(queued & set(found))} lost={len(lost)} "
          f"twice={len(twice)} client_errors={len(load.errors)} "
          f"max_took_ms={load.max_took_ms():.1f} "
          f"max_client_wait_s={load.max_wait:.2f}")
    return lost, twice


@pytest.fixture
def make_daemon(tmp_path):
    """Builds daemons; each is stopped and checked after the test."""
    made = []

    def make(**kw):
        d = Daemon(tmp_path, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        rc = d.stop()
        d.assert_clean()
        assert rc in (0, None), f"commentd exited {rc}:\n{d.log()}"


@pytest.fixture
def daemon(make_daemon):
    """A running daemon with the default policy and short deadlines."""
    return make_daemon().start()


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a Unix socket in the test's directory."""
    from redisproc import RedisProc

    d = tmp_path / "redis"
    d.mkdir()
    r = RedisProc(d).start()
    yield r
    r.stop()
