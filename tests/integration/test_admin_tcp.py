"""The admin route (reload) answers on the admin socket only; the TCP
listener demands the configured bearer token."""
import json
import os

from conftest import free_port
from test_api import comment
from test_lifecycle import copy_policy, digest

TOKEN = "s3cret-token-for-tests-only"


def test_admin_reload_only_on_the_admin_socket(make_daemon, tmp_path):
    policy = copy_policy(tmp_path)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    d = make_daemon(policy=str(policy),
                    tcp={"port": free_port(), "token_file": str(token_file)}).start()
    auth = {"Authorization": "Bearer " + TOKEN}
    for which, headers in (("submit", {}), ("tcp", auth)):
        status, body, _ = d.request("POST", "/v1/admin/reload", b"", headers, which)
        assert status == 404, (which, status, body)

    before = digest(d)
    with open(policy, "a") as f:
        f.write("# changed\n")
    status, body, _ = d.request("POST", "/v1/admin/reload", b"", which="admin")
    assert status == 200 and json.loads(body)["status"] == "reloaded", body
    assert digest(d) != before

    with open(policy, "a") as f:
        f.write("thresholdz: {queue: 1}\n")
    status, body, _ = d.request("POST", "/v1/admin/reload", b"", which="admin")
    answer = json.loads(body)
    assert status == 422 and answer["error"]["code"] == "reload_failed", body
    assert any('unknown key "thresholdz"' in e for e in answer["errors"]), answer


def test_tcp_needs_the_bearer_token(make_daemon, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    d = make_daemon(tcp={"port": free_port(), "token_file": str(token_file)}).start()
    body = json.dumps(comment("What the f*ck"))
    ct = {"Content-Type": "application/json"}
    for headers in ({}, {"Authorization": "Bearer wrong"},
                    {"Authorization": "Bearer " + TOKEN[:-1]},
                    {"Authorization": "Bearer " + TOKEN + "x"},
                    {"Authorization": TOKEN}):
        status, data, r = d.request("POST", "/v1/check", body, dict(ct, **headers), "tcp")
        assert status == 401, (headers, status, data)
        assert r.getheader("WWW-Authenticate") == "Bearer"
    status, data, _ = d.request("POST", "/v1/check", body,
                                dict(ct, Authorization="Bearer " + TOKEN), "tcp")
    assert status == 200 and json.loads(data)["decision"] == "reject"


def test_repeated_token_failures_answered_429(make_daemon, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    os.chmod(token_file, 0o600)
    d = make_daemon(tcp={"port": free_port(), "token_file": str(token_file)}).start()
    statuses = [d.request("GET", "/healthz", None, {"Authorization": "Bearer guess%d" % i},
                          "tcp")[0] for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429], statuses
    # even the right token waits out the window: guessing must cost time
    status, _, r = d.request("GET", "/healthz", None, {"Authorization": "Bearer " + TOKEN}, "tcp")
    assert status == 429 and 1 <= int(r.getheader("Retry-After")) <= 10
    # the Unix sockets are not affected
    assert d.get("/healthz")[0] == 200
