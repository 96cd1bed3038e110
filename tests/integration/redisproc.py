"""A real redis-server for the tests, and a tiny RESP2 client to talk to it.

RedisProc starts Debian's redis-server in a temporary directory on a Unix
socket (no TCP port, no persistence unless the test asks) and waits, with a
deadline, until it answers PING.  A test can stop it, kill it, freeze it
(SIGSTOP, to see the daemon's deadlines), thaw it and restart it on the same
socket.  RedisClient speaks RESP2 synchronously over that socket: enough to
load scripts and read keys, with every wait bounded by a timeout.  It never
touches a Redis it did not start.
"""
import os
import signal
import socket
import subprocess
import time

REDIS_SERVER = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


class RedisError(Exception):
    """An error reply from Redis (-ERR ..., -NOSCRIPT ...)."""


class RedisClient:
    """A synchronous RESP2 client over a Unix socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def cmd(self, *args):
        """Sends one command; returns its reply or raises RedisError."""
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        reply = self._reply()
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RedisError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            # An error inside an array (EXEC, a script's table) stays a value.
            return [self._reply() for _ in range(n)]
        raise RedisError("unexpected reply %r" % line)


class RedisProc:
    """One redis-server process on a Unix socket under `directory`."""

    DEFAULTS = {"port": "0", "save": "", "appendonly": "no"}

    def __init__(self, directory, options=None, start_timeout=10.0):
        self.dir = str(directory)
        self.socket = os.path.join(self.dir, "redis.sock")
        self.log_path = os.path.join(self.dir, "redis.log")
        self.options = dict(self.DEFAULTS)
        self.options.update(options or {})
        self.start_timeout = start_timeout
        self.proc = None
        self.log = None

    def argv(self):
        argv = [REDIS_SERVER, "--unixsocket", self.socket,
                "--unixsocketperm", "700", "--dir", self.dir,
                "--daemonize", "no"]
        for k, v in self.options.items():
            argv += ["--" + k, str(v)]
        return argv

    def start(self):
        """Starts redis-server; returns once it answers PING."""
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited %d; see %s"
                                   % (self.proc.returncode, self.log_path))
            try:
                c = RedisClient(self.socket, timeout=1.0)
                try:
                    if c.cmd("PING") == "PONG":
                        return self
                finally:
                    c.close()
            except (OSError, RedisError):
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("redis-server did not answer PING in "
                                   "%.1fs" % self.start_timeout)
            time.sleep(0.02)

    def client(self, timeout=5.0):
        """A new connection to this server."""
        return RedisClient(self.socket, timeout=timeout)

    def _wait(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        if self.log:
            self.log.close()
            self.log = None

    def stop(self, timeout=10.0):
        """SIGTERM (SIGCONT first, in case it is paused); waits for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        self._wait(timeout)

    def kill(self):
        """SIGKILL: Redis vanishes without a word, as in a crash."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.kill()
        self._wait(10.0)

    def pause(self):
        """SIGSTOP: the socket stays open but nothing answers."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT."""
        self.proc.send_signal(signal.SIGCONT)

    def restart(self):
        """Stops it and starts it again on the same socket."""
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
