"""Fixtures that run the real commentd in a temporary directory.

As PgBouncer's tests do: each test gets its own daemon on its own Unix
sockets under tmp_path, talks to it over real sockets, and reads its log.
The daemon is stopped with SIGTERM after the test; it must exit 0 and its
log must hold no sanitizer report.
"""
import http.client
import os
import signal
import socket
import subprocess
import time

import pytest

COMMENTD = os.environ.get("COMMENTD_BIN", "build/daemon/commentd")
SOURCE = os.environ.get("COMMENTD_SOURCE", os.getcwd())
SHARED = os.environ.get("COMMENTD_SHARED_DATA",
                        os.path.join(SOURCE, "..", "shared", "data"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


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
                 argv_prefix=None, tcp=None, redis=None):
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
        self.proc = None
        self.write_config()

    def write_config(self, policy=None):
        limits = ", ".join(f"{k}: {v}" for k, v in self.limits.items())
        with open(self.config, "w") as f:
            f.write(f"listen:\n"
                    f"  submit: {{path: {self.submit}}}\n"
                    f"  admin: {{path: {self.admin}}}\n"
                    f"sites:\n  list:\n"
                    f"    example: {{policy: {policy or self.policy}}}\n"
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
            self.argv_prefix + [COMMENTD, "-c", self.config],
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
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
