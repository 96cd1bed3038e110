"""The HTTP API over the submit and admin sockets: every route, every 400
class, the JSON parser conformance files, and the answer's shape."""
import glob
import json
import os
import re
import socket

import pytest

from conftest import SHARED


def raw_status(daemon, request):
    """Sends raw bytes and returns the answer's status (the daemon may
    answer and close before it has read them all)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(daemon.submit)
    try:
        s.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = b""
    try:
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    except ConnectionResetError:
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return int(m.group(1)) if m else None


def comment(body, **kw):
    c = {"id": kw.pop("id", "c-1"), "author": {"id": "u-1", "name": kw.pop("name", "Ben")},
         "body": body}
    c.update(kw)
    return c


def test_health_routes_on_both_sockets(daemon):
    for which in ("submit", "admin"):
        assert daemon.get("/healthz", which) == (200, b'{"status":"ok"}\n')
        status, body = daemon.get("/readyz", which)
        ready = json.loads(body)
        assert status == 200 and ready["status"] == "ready"
        assert ready["sites"][0]["site"] == "example"
        assert re.match(r"^sha256:[0-9a-f]{64}$", ready["sites"][0]["digest"])


def test_check_answers_with_reasons_and_spans(daemon):
    body = "What the f*ck is this"
    status, data = daemon.check(comment(body, id="c-42"))
    assert status == 200
    v = json.loads(data)
    assert v["id"] == "c-42" and v["decision"] == "reject"
    r = v["reasons"][0]
    assert r["rule"] == "profanity.strong" and r["matched"] == "f*ck"
    start, end = r["span"]
    assert body.encode()[start:end] == b"f*ck"
    assert v["policy"]["name"] == "news-default"
    assert isinstance(v["took_us"], int) and v["retry_after_s"] == 0

    status, data = daemon.check(comment("Thanks for the clear reporting."))
    assert status == 200 and json.loads(data)["decision"] == "accept"
    status, data = daemon.check(comment("mail me at jane@example.org"))
    assert json.loads(data)["decision"] == "queue"
    status, data = daemon.check(comment("hello", name="Site Moderator"))
    v = json.loads(data)
    assert v["decision"] == "reject" and v["reasons"][0]["field"] == "author.name"


def test_decision_logged_without_text(daemon):
    daemon.check(comment("a secret sentence that must not be logged", id="c-log"))
    log = daemon.log()
    assert re.search(r'decision id="c-log" site=example decision=accept score=0 rules=- dry_run=0 spooled=0 us=\d+', log), log
    assert "secret sentence" not in log


@pytest.mark.parametrize("payload,code", [
    (b"", "invalid_json"),
    (b"{", "invalid_json"),
    (b'{"id": "c", "body": "\xff", "author": {"id": "u"}}', "bad_utf8"),
    (b'{"id": "c", "body": "a\\u0000b", "author": {"id": "u"}}', "bad_nul"),
    (b"[" * 17 + b"]" * 17, "too_deep"),
    (b'{"id": "c", "id": "d", "body": "x", "author": {"id": "u"}}', "duplicate_key"),
    (b'[1]', "bad_type"),
    (b'{"id": 5, "body": "x", "author": {"id": "u"}}', "bad_type"),
    (b'{"id": "c", "author": {"id": "u"}}', "missing_field"),
    (b'{"id": "c", "body": "x"}', "missing_field"),
    (b'{"id": "c", "body": "x", "author": {"id": "u", "ip": "nope"}}', "bad_value"),
    (b'{"id": "c", "body": "x", "site": "nowhere", "author": {"id": "u"}}', "unknown_site"),
])
def test_every_400_class(daemon, payload, code):
    status, data = daemon.check(payload)
    assert status == 400, data
    assert json.loads(data)["error"]["code"] == code


def test_method_path_and_content_type(daemon):
    status, data, r = daemon.request("GET", "/v1/check")
    assert status == 405 and r.getheader("Allow") == "POST"
    status, data = daemon.check(comment("hi"), content_type="text/plain")
    assert status == 415 and json.loads(data)["error"]["code"] == "bad_content_type"
    status, data = daemon.check(comment("hi"), content_type=None)
    assert status == 415
    status, data = daemon.check(comment("hi"), content_type="application/json; charset=utf-8")
    assert status == 200
    assert daemon.get("/nope")[0] == 404
    assert daemon.get("/v1/admin/queue")[0] == 404


def test_jsontestsuite_n_files_all_refused(daemon):
    files = sorted(glob.glob(os.path.join(SHARED, "jsontestsuite", "test_parsing", "n_*.json")))
    if not files:
        pytest.skip(f"{SHARED}/jsontestsuite is absent")
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        if len(data) > 65536:
            # Over max_body_bytes: refused (413) before the body is read.
            status = raw_status(daemon, b"POST /v1/check HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Type: application/json\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(data) + data)
            assert status == 413, f"{os.path.basename(path)}: {status}"
            continue
        status, answer = daemon.check(data)
        assert status == 400, f"{os.path.basename(path)}: {status} {answer!r}"
    assert daemon.get("/healthz")[0] == 200


def test_metrics_page(daemon):
    daemon.check(comment("What the f*ck"))
    daemon.check(b"{")
    status, body, r = daemon.request("GET", "/metrics")
    text = body.decode()
    assert status == 200 and r.getheader("Content-Type").startswith("text/plain; version=0.0.4")
    assert 'commentd_http_requests_total{route="check",code="200"} 1' in text
    assert 'commentd_http_requests_total{route="check",code="400"} 1' in text
    assert 'commentd_decisions_total{site="example",decision="reject"} 1' in text
    assert 'commentd_rule_hits_total{site="example",rule="profanity.strong"} 1' in text
    assert "commentd_check_duration_seconds_count 1" in text
    assert re.search(r"commentd_connections_open \d+", text)
