"""Limits that must hold against hostile clients: body and header size,
absolute deadlines for headers and body (trickling clients), the connection
cap and the keep-alive idle timeout."""
import json
import re
import socket
import time

from test_api import comment, raw_status


def connect(daemon):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.submit)
    return s


def closed_within(s, seconds):
    """Seconds until the daemon closes s (reading whatever it sends), or None."""
    start = time.monotonic()
    s.settimeout(0.05)
    while time.monotonic() - start < seconds:
        try:
            if s.recv(4096) == b"":
                return time.monotonic() - start
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def test_oversize_body_answered_413_before_reading(daemon):
    big = json.dumps(comment("x" * 70000)).encode()
    status = raw_status(daemon, b"POST /v1/check HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(big))
    assert status == 413
    assert daemon.get("/healthz")[0] == 200


def test_oversize_headers_answered_431(daemon):
    s = connect(daemon)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = b""
    while True:
        try:
            chunk = s.recv(4096)
        except ConnectionResetError:
            break
        if not chunk:
            break
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    assert b'"code":"headers_too_large"' in answer
    assert daemon.get("/healthz")[0] == 200
    metrics = daemon.get("/metrics")[1]
    assert b'commentd_limits_hit_total{kind="headers_too_large"} 1' in metrics


def trickle(d, s, data, pause):
    """Sends data a byte at a time, checking between bytes that other
    clients are still served; returns the seconds until the daemon closed
    the connection, or None if it never did."""
    start = time.monotonic()
    for ch in data:
        try:
            s.sendall(bytes([ch]))
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        assert d.get("/healthz")[0] == 200
        if closed_within(s, pause) is not None:
            return time.monotonic() - start
    return None


def test_slow_header_client_closed_at_deadline(make_daemon):
    d = make_daemon(limits={"header_timeout_ms": 800, "body_timeout_ms": 800}).start()
    s = connect(d)
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
    # One byte every 200 ms: evhttp's own timeout would never fire.
    closed = trickle(d, s, b"X-Slow: " + b"a" * 40, 0.2)
    assert closed is not None and 0.7 <= closed <= 2.0, closed
    assert "request headers not complete" in d.log()


def test_slow_body_client_closed_at_deadline(make_daemon):
    d = make_daemon(limits={"header_timeout_ms": 500, "body_timeout_ms": 700}).start()
    body = json.dumps(comment("a slow body")).encode()
    s = connect(d)
    s.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body))
    closed = trickle(d, s, body, 0.15)
    # the body clock starts when the headers end, just before the trickle
    assert closed is not None and 0.6 <= closed <= 1.8, closed
    assert "request body not complete" in d.log()


def test_connection_cap_admits_exactly_the_maximum(make_daemon):
    d = make_daemon(limits={"max_connections": 5}).start()
    held = [connect(d) for _ in range(5)]
    # each held connection works
    for s in held:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
    extra = connect(d)
    assert closed_within(extra, 1.0) is not None, "the sixth connection was not closed"
    held.pop().close()
    time.sleep(0.3)
    assert d.get("/healthz")[0] == 200, "a slot was not released"
    status, body, _ = d.request("GET", "/metrics")
    assert re.search(rb"commentd_connections_rejected_total [1-9]", body), body
    for s in held:
        s.close()


def test_idle_keepalive_closed(make_daemon):
    d = make_daemon(limits={"idle_timeout_ms": 500}).start()
    s = connect(d)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(4096).startswith(b"HTTP/1.1 200")
    t = closed_within(s, 3.0)
    assert t is not None and t < 2.0, t
