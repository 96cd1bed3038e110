"""Load for the failing-part tests that must see every answer whole:
when each request was sent and answered, its status, its Retry-After,
its parsed body, or the client error that ended it.

conftest.Load counts a fixed number of submissions; these tests instead
drive the daemon for as long as a fault lasts (a disk filling, a storm of
reloads) and then judge each answer by when it was sent.  Every client
keeps one keep-alive connection, as a backend would, and opens a new one
only after an error; every wait is bounded by the client's timeout.
"""
import json
import threading
import time

from conftest import UnixHTTPConnection


class Answer:
    """One request as its client saw it."""

    __slots__ = ("cid", "case", "sent", "got", "status", "retry_after",
                 "body", "error")

    def __init__(self, cid, case, sent):
        self.cid = cid
        self.case = case            # what make_body said it sent
        self.sent = sent            # time.monotonic() before the request
        self.got = None             # ... and after the answer or error
        self.status = None
        self.retry_after = None
        self.body = None            # the parsed JSON answer, or None
        self.error = None           # repr of the client's exception

    @property
    def decision(self):
        return self.body.get("decision") if self.body else None

    @property
    def wait(self):
        return self.got - self.sent


class TimedLoad:
    """`clients` threads submitting to a Unix socket until stop().

    make_body(i) returns (comment id, case, JSON body) for the i-th
    submission; i counts up from 0 across all clients."""

    def __init__(self, path, make_body, clients, timeout=10):
        self.path = path
        self.make_body = make_body
        self.clients = clients
        self.timeout = timeout
        self.answers = []
        self.lock = threading.Lock()
        self.next = 0
        self.stopping = threading.Event()
        self.threads = []

    def _take(self):
        with self.lock:
            i = self.next
            self.next += 1
        return i

    def _one(self, conn, i):
        cid, case, body = self.make_body(i)
        a = Answer(cid, case, time.monotonic())
        try:
            if conn is None:
                conn = UnixHTTPConnection(self.path, timeout=self.timeout)
            conn.request("POST", "/v1/check", body,
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            a.status = r.status
            a.retry_after = r.getheader("Retry-After")
            a.body = json.loads(data)
        except (OSError, ValueError) as e:
            a.error = repr(e)
            if conn is not None:
                conn.close()
            conn = None
        a.got = time.monotonic()
        with self.lock:
            self.answers.append(a)
        return conn

    def _client(self):
        conn = None
        while not self.stopping.is_set():
            conn = self._one(conn, self._take())
        if conn is not None:
            conn.close()

    def start(self):
        self.threads = [threading.Thread(target=self._client, daemon=True)
                        for _ in range(self.clients)]
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        """Stops handing out comments; waits for those in flight."""
        self.stopping.set()
        for t in self.threads:
            t.join(self.timeout + 5)
        assert not any(t.is_alive() for t in self.threads), "a client hung"
        return self

    def snapshot(self):
        with self.lock:
            return list(self.answers)

    def seen(self, pred):
        """Whether any answer so far satisfies pred."""
        with self.lock:
            return any(pred(a) for a in self.answers)

    def queued(self):
        """The ids of the comments answered 200 with decision queue."""
        return {a.cid for a in self.snapshot() if a.status == 200 and
                a.decision == "queue"}

    def statuses(self):
        out = {}
        for a in self.snapshot():
            key = a.status if a.error is None else "error"
            out[key] = out.get(key, 0) + 1
        return out

    def max_wait(self):
        return max((a.wait for a in self.snapshot()), default=0.0)

    def max_took_ms(self):
        took = [a.body["took_us"] for a in self.snapshot()
                if a.body and "took_us" in a.body]
        return max(took, default=0) / 1000
