"""Reload (SIGHUP) that succeeds and that fails, the systemd notification
sequence on a fake NOTIFY_SOCKET, sockets handed over by
systemd-socket-activate, and a graceful stop with a request in flight."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import COMMENTD, SOURCE, Daemon, wait_for
from test_api import comment
from test_limits import connect


def digest(d):
    return json.loads(d.get("/readyz")[1])["sites"][0]["digest"]


def copy_policy(tmp_path):
    pdir = tmp_path / "policies"
    shutil.copytree(os.path.join(SOURCE, "policies"), pdir)
    return pdir / "default.yaml"


def test_reload_that_succeeds_and_one_that_fails(make_daemon, tmp_path):
    policy = copy_policy(tmp_path)
    d = make_daemon(policy=str(policy)).start()
    before = digest(d)
    with open(policy, "a") as f:
        f.write("# a change that alters the digest\n")
    d.signal(signal.SIGHUP)
    assert wait_for(lambda: digest(d) != before), d.log()
    changed = digest(d)

    # A broken policy: the reload fails, every error is logged, the old
    # policy keeps answering.
    with open(policy, "a") as f:
        f.write("thresholdz: {queue: 1}\n")
    d.signal(signal.SIGHUP)
    assert wait_for(lambda: "reload failed" in d.log()), d.log()
    assert 'unknown key "thresholdz"' in d.log()
    assert digest(d) == changed
    status, data = d.check(comment("What the f*ck"))
    assert status == 200 and json.loads(data)["decision"] == "reject"
    metrics = d.get("/metrics")[1].decode()
    assert "commentd_reloads_total 2" in metrics
    assert "commentd_reload_failures_total 1" in metrics


def test_notify_sequence(make_daemon, tmp_path):
    path = str(tmp_path / "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(10)
    d = make_daemon(extra_env={"NOTIFY_SOCKET": path}).start()

    def next_message():
        return ns.recv(4096).decode()

    assert "READY=1" in next_message()
    d.signal(signal.SIGHUP)
    msg = next_message()
    assert "RELOADING=1" in msg and "MONOTONIC_USEC=" in msg, msg
    assert "READY=1" in next_message()
    d.signal(signal.SIGTERM)
    assert "STOPPING=1" in next_message()
    assert d.proc.wait(15) == 0


def test_graceful_stop_answers_the_request_in_flight(make_daemon):
    d = make_daemon(limits={"body_timeout_ms": 5000}).start()
    body = json.dumps(comment("What the f*ck")).encode()
    s = connect(d)
    s.sendall(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.3)
    d.signal(signal.SIGTERM)
    assert wait_for(lambda: "stopping" in d.log()), d.log()
    # no new connections once stopping: refused at once
    with pytest.raises(ConnectionRefusedError):
        d.get("/healthz")
    s.sendall(body[10:])
    answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b'"decision":"reject"' in answer
    assert d.proc.wait(15) == 0


def test_systemd_socket_activation(tmp_path):
    activate = shutil.which("systemd-socket-activate")
    if activate is None:
        pytest.skip("systemd-socket-activate is not installed")
    d = Daemon(tmp_path, argv_prefix=[activate, "-l", str(tmp_path / "act-submit.sock"),
                                      "-l", str(tmp_path / "act-admin.sock"),
                                      "--fdname=submit:admin"])
    d.submit = str(tmp_path / "act-submit.sock")
    d.admin = str(tmp_path / "act-admin.sock")
    d.start()
    try:
        assert d.get("/healthz", "admin")[0] == 200
        status, data = d.check(comment("Thanks for the clear reporting."))
        assert status == 200 and json.loads(data)["decision"] == "accept"
        assert "passed by systemd" in d.log()
        # the configured paths were not bound: systemd's sockets were used
        assert not os.path.exists(tmp_path / "submit.sock")
    finally:
        assert d.stop() == 0
        d.assert_clean()


def test_socket_activation_refuses_open_tcp_without_token(tmp_path):
    # A socket unit on 0.0.0.0 must not be a way around the config's rule
    # that TCP beyond loopback needs a token.
    activate = shutil.which("systemd-socket-activate")
    if activate is None:
        pytest.skip("systemd-socket-activate is not installed")
    from conftest import free_port
    port = free_port()
    d = Daemon(tmp_path, argv_prefix=[activate, "-l", f"0.0.0.0:{port}",
                                      "--fdname=submit-tcp"])
    d.start(wait=False)
    # The daemon starts at the first connection, once the socket is there.
    def connect():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    assert wait_for(connect, 10), d.log()
    assert d.proc.wait(15) == 1, d.log()
    d.log_file.close()
    assert "beyond loopback" in d.log() and "token_file" in d.log(), d.log()


def test_watchdog_pings_at_half_the_interval(make_daemon, tmp_path):
    # WatchdogSec=400ms as systemd passes it: WATCHDOG=1 every 200 ms.
    path = str(tmp_path / "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(5)
    make_daemon(extra_env={"NOTIFY_SOCKET": path,
                           "WATCHDOG_USEC": "400000"}).start()
    start, pings = time.monotonic(), 0
    while pings < 5:
        if "WATCHDOG=1" in ns.recv(4096).decode():
            pings += 1
    elapsed = time.monotonic() - start
    # Five pings take about 1 s; none at all, or a flood, would be wrong.
    assert 0.5 < elapsed < 4, elapsed
