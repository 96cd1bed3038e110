"""The spool's disk full, and read-only, under load (issue 8).

While Redis is away a queued comment is answered `queue` only once the
spool holds it; when the spool cannot take it the answer is 503 with
Retry-After, never a `queue` that is not stored.  Each test puts the
spool's state directory on a small file system of its own (a tmpfs, or an
ext4 image on a loop device for the one case a tmpfs cannot show), drives
the daemon from many keep-alive clients while Redis is down, breaks the
file system under the load, mends it, then brings Redis back, lets the
spool replay, and counts: submitted, answered `queue`, answered 503,
found in the Redis stream, lost, stored twice, slowest wait.

Every record the spool writes here is the same length (fixed-width ids,
one body shape), so once one append has failed for want of room every
later one must fail too until room returns: the test can hold the daemon
to "every queued comment sent after the first 503 is a 503".

A read-only remount is refused by the kernel (EBUSY) while any file on the
file system is open for writing, and the daemon keeps its spool open from
start to stop.  So a tmpfs turns read-only only before the spool is
opened (a daemon starting on a disk that came up read-only), and a
file system that turns read-only under the open spool is ext4 remounting
itself read-only on an error (errors=remount-ro), which the test causes
through ext4's trigger_fs_error.  Needs root (mount); skipped otherwise.
"""
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import (QUEUE, SOURCE, caught_up, lost_and_twice, readyz,
                      stream_ids, wait_for)
from redisproc import RedisProc
from timed_load import TimedLoad

POLICY = os.path.join(SOURCE, "tests", "integration", "data", "faults.yaml")
CLIENTS = 16
BALLAST = 128 << 10     # of the 256 KiB tmpfs, freed to let the spool go on


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def unmount(path):
    """Unmounts, lazily if something still holds it (a daemon that failed
    to stop), so a failed test never leaves a mount behind."""
    if run("mountpoint", "-q", str(path)).returncode != 0:
        return
    if run("umount", str(path)).returncode != 0:
        run("umount", "-l", str(path))


@pytest.fixture
def spool_fs(tmp_path):
    """A 256 KiB tmpfs for the spool, mounted by the test and unmounted
    after it.  Request it before make_daemon, so that the daemon is
    stopped (its teardown runs first) before the unmount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the spool needs root")
    mnt = tmp_path / "spoolfs"
    mnt.mkdir()
    r = run("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs",
            str(mnt))
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    unmount(mnt)


@pytest.fixture
def ext4_fs(tmp_path):
    """A 16 MiB ext4 image on a loop device, mounted errors=remount-ro, and
    its sysfs file that raises an ext4 error (ext4 then remounts itself
    read-only, whoever holds files open)."""
    if os.geteuid() != 0:
        pytest.skip("mounting an ext4 image needs root")
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 (e2fsprogs) is not installed")
    image, mnt = tmp_path / "ext4.img", tmp_path / "ext4"
    mnt.mkdir()
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    r = run("mkfs.ext4", "-q", "-F", str(image))
    assert r.returncode == 0, r.stderr
    r = run("mount", "-o", "loop,errors=remount-ro", str(image), str(mnt))
    if r.returncode != 0:
        pytest.skip(f"cannot mount an ext4 image on a loop device here: "
                    f"{r.stderr.strip()}")
    dev = run("findmnt", "-no", "SOURCE", str(mnt)).stdout.strip()
    trigger = f"/sys/fs/ext4/{os.path.basename(dev)}/trigger_fs_error"
    if not os.path.exists(trigger):
        unmount(mnt)
        pytest.skip(f"this kernel has no {trigger}")
    yield mnt, trigger
    unmount(mnt)


def on(make_daemon, tmp_path, state_dir, redis=None):
    """A daemon whose spool is in state_dir, and its Redis: by default one
    configured but not started (returned, to be started later)."""
    if redis is None:
        rdir = tmp_path / "redis"
        rdir.mkdir()
        redis = RedisProc(rdir)
    d = make_daemon(policy=POLICY, redis=redis.socket)
    with open(d.config) as f:
        text = f.read()
    with open(d.config, "w") as f:
        f.write(text.replace(f"state_dir: {tmp_path}\n",
                             f"state_dir: {state_dir}\n"))
    return d, redis


def make_body(prefix):
    """Every other comment asks to be held; ids and bodies are fixed-width
    so that every spool record is the same length."""
    def body(i):
        cid = f"{prefix}{i:07d}"
        hold = i % 2 == 0
        text = f"please hold me {i:07d}" if hold else f"fine one {i:07d}"
        return cid, hold, json.dumps({"id": cid, "site": "example",
                                      "author": {"id": f"u{i % 97:02d}"},
                                      "body": text})
    return body


def wait_seen(load, pred, timeout):
    assert wait_for(lambda: load.seen(pred), timeout), load.statuses()


def first(load, pred):
    return min((a for a in load.snapshot() if pred(a)),
               key=lambda a: a.got)


def spool_status(d):
    """What /readyz and /metrics say about the spool, for the figures."""
    r = readyz(d)
    lines = [ln for ln in d.get("/metrics")[1].decode().splitlines()
             if ln.startswith("commentd_spool")]
    return {k: v for k, v in r.items() if k.startswith("spool")}, lines


def settle(d, redis, load, name, extra=""):
    """Brings Redis back, waits for the replay, prints the count table and
    checks the promise: every `queue` answer is in the stream once."""
    redis.start()
    assert wait_for(lambda: caught_up(d), 30), readyz(d)
    found = stream_ids(redis)
    answers = load.snapshot()
    queued = load.queued()
    refused = [a for a in answers if a.status == 503]
    lost, twice = lost_and_twice(queued, found)
    warnings = [ln for ln in d.log().splitlines() if "warning" in ln]
    print(f"\n{name}: clients={CLIENTS} submitted={len(answers)} "
          f"statuses={load.statuses()} answered_queue={len(queued)} "
          f"answered_503={len(refused)} "
          f"found_in_redis={len(queued & set(found))} lost={len(lost)} "
          f"twice={len(twice)} 503_found_in_redis="
          f"{sum(1 for a in refused if a.cid in found)} "
          f"max_client_wait_s={load.max_wait():.3f} "
          f"max_took_ms={load.max_took_ms():.1f} "
          f"log_warnings={len(warnings)}{extra}")
    errors = [a for a in answers if a.error is not None]
    assert not errors, [(a.cid, a.error) for a in errors[:5]]
    # Thousands of refusals, a few warnings: a full disk must not flood
    # the log (which may well be on the same disk).
    assert len(warnings) < 20, warnings[:25]
    assert not lost and not twice, (lost[:5], twice[:5])
    for a in refused:
        assert a.case and a.retry_after == "5", (a.cid, a.retry_after)
        assert a.body["error"]["code"] == "unavailable", a.body
    # Comments that need no storage are decided whatever the disk does.
    for a in answers:
        if not a.case:
            assert (a.status, a.decision) == (200, "accept"), (a.cid, a.body)
        else:
            assert (a.status, a.decision) in ((200, "queue"), (503, None)), \
                (a.cid, a.status, a.body)
    return found


def test_spool_disk_full_under_load(spool_fs, make_daemon, tmp_path):
    ballast = spool_fs / "ballast"
    with open(ballast, "wb") as f:
        f.write(b"\0" * BALLAST)
    d, redis = on(make_daemon, tmp_path, spool_fs)
    d.start()
    load = TimedLoad(d.submit, make_body("f"), CLIENTS).start()
    try:
        # The spool fills the tmpfs: from the first 503 on, every queued
        # comment is refused until room returns.
        wait_seen(load, lambda a: a.status == 503, 60)
        full_at = first(load, lambda a: a.status == 503).got
        time.sleep(2)
        while_full = spool_status(d)
        spool_bytes = os.path.getsize(spool_fs / "queue.spool")
        os.unlink(ballast)
        freed_at = time.monotonic()
        # Stop soon after: the room freed holds about 300 records.
        wait_seen(load, lambda a: a.sent > freed_at and a.decision ==
                  "queue", 10)
    finally:
        load.stop()
    try:
        answers = load.snapshot()
        full = [a for a in answers if a.case and a.sent > full_at and
                a.got < freed_at]
        after = [a for a in answers if a.case and a.sent > freed_at]
        stored = sum(1 for a in answers if a.case and a.got < freed_at and
                     a.decision == "queue")
        back = first(load, lambda a: a.sent > freed_at and
                     a.decision == "queue").got - freed_at
        settle(d, redis, load, "spool disk full", extra=(
            f" spool_bytes_when_full={spool_bytes} record_bytes="
            f"{spool_bytes // stored} queued_while_full="
            f"{sum(1 for a in full if a.status == 200)}/{len(full)} "
            f"spooling_again_after_s={back:.3f} "
            f"queued_after_room_returned={len(after)} "
            f"while_full={while_full}"))
        assert full and all(a.status == 503 for a in full), \
            [(a.cid, a.status) for a in full if a.status != 503][:5]
        # Once room returns, the very next queued comment is stored: all
        # of them, as fewer were sent than the room freed holds.
        assert len(after) * (spool_bytes // stored) < BALLAST, len(after)
        assert after and all(a.decision == "queue" for a in after), \
            [(a.cid, a.status) for a in after if a.decision != "queue"][:5]
    finally:
        redis.stop()


def test_spool_read_only_under_load(spool_fs, make_daemon, tmp_path):
    # The disk came up read-only: the spool cannot even be opened.
    assert run("mount", "-o", "remount,ro", str(spool_fs)).returncode == 0
    d, redis = on(make_daemon, tmp_path, spool_fs)
    d.start()
    load = TimedLoad(d.submit, make_body("r"), CLIENTS).start()
    try:
        wait_seen(load, lambda a: a.status == 503, 30)
        time.sleep(2)
        while_ro = spool_status(d)
        assert not load.seen(lambda a: a.decision == "queue")
        r = run("mount", "-o", "remount,rw", str(spool_fs))
        assert r.returncode == 0, r.stderr
        rw_at = time.monotonic()
        # The daemon tries to open the spool again at most once a second.
        wait_seen(load, lambda a: a.sent > rw_at and a.decision == "queue",
                  10)
        back = first(load, lambda a: a.sent > rw_at and
                     a.decision == "queue").got - rw_at
        # Read-only again, with the spool open: the kernel refuses (and
        # were it allowed, the answers below would have to be 503s).
        r = run("mount", "-o", "remount,ro", str(spool_fs))
        refused = r.stderr.strip().splitlines()[0] if r.returncode else ""
        if r.returncode == 0:
            run("mount", "-o", "remount,rw", str(spool_fs))
    finally:
        load.stop()
    try:
        answers = load.snapshot()
        settle(d, redis, load, "spool read-only", extra=(
            f" spooling_again_after_s={back:.3f} while_read_only={while_ro}"
            f" remount_ro_with_spool_open={refused or 'allowed'!r}"))
        # Once the spool opened, it took every queued comment (the 256 KiB
        # hold some 600 records, far more than were sent meanwhile).
        late = [a for a in answers if a.case and a.sent > rw_at + back]
        assert late and all(a.decision == "queue" for a in late), \
            [(a.cid, a.status) for a in late if a.decision != "queue"][:5]
        assert back < 2.5, back
    finally:
        redis.stop()


def test_spool_left_on_a_read_only_disk_is_replayed(spool_fs, make_daemon,
                                                    tmp_path):
    # A run spools comments while Redis is away, then stops.
    d, redis = on(make_daemon, tmp_path, spool_fs)
    d.start()
    held = [f"left{i}" for i in range(20)]
    for cid in held:
        status, data = d.check({"id": cid, "author": {"id": "u"},
                                "body": "please hold me"})
        assert status == 200 and json.loads(data)["decision"] == "queue"
    assert d.stop() == 0
    # The next one starts on a disk that came up read-only, Redis up.
    assert run("mount", "-o", "remount,ro", str(spool_fs)).returncode == 0
    redis.start()
    try:
        d2 = on(make_daemon, tmp_path, spool_fs, redis)[0].start()
        assert wait_for(lambda: readyz(d2)["redis"] == "up", 10)
        time.sleep(1)
        assert stream_ids(redis) == {}
        r = run("mount", "-o", "remount,rw", str(spool_fs))
        assert r.returncode == 0, r.stderr
        rw_at = time.monotonic()
        # Nothing needs the spool while Redis is up, yet what it holds
        # was answered `queue`: it must reach the stream.
        assert wait_for(lambda: len(stream_ids(redis)) == len(held), 20), \
            (stream_ids(redis), readyz(d2), d2.log()[-2000:])
        took = time.monotonic() - rw_at
        found = stream_ids(redis)
        print(f"\nspool left on a read-only disk: queued={len(held)} "
              f"found_in_redis={len(found)} replayed_after_rw_s={took:.1f}")
        assert found == {cid: 1 for cid in held}, found
        assert wait_for(lambda: caught_up(d2), 10), readyz(d2)
    finally:
        redis.stop()


def test_spool_turns_read_only_mid_load(ext4_fs, make_daemon, tmp_path):
    mnt, trigger = ext4_fs
    d, redis = on(make_daemon, tmp_path, mnt)
    d.start()
    load = TimedLoad(d.submit, make_body("e"), CLIENTS).start()
    try:
        wait_seen(load, lambda a: a.decision == "queue", 30)
        time.sleep(1)
        # ext4 finds an error and remounts itself read-only, the spool
        # open: every write, sync and truncate now fails with EROFS.
        with open(trigger, "w") as f:
            f.write("commentd test_spool_faults\n")
        ro_at = time.monotonic()
        wait_seen(load, lambda a: a.status == 503, 10)
        first_503 = first(load, lambda a: a.status == 503).got
        time.sleep(2)
        while_ro = spool_status(d)
    finally:
        load.stop()
    try:
        answers = load.snapshot()
        ro = [a for a in answers if a.case and a.sent > first_503]
        before = [a for a in answers if a.case and a.got < ro_at]
        # What the spool took before the error is still read and replayed.
        settle(d, redis, load, "spool read-only mid-load (ext4)", extra=(
            f" queued_before_error={sum(1 for a in before if a.status == 200)}"
            f" queued_after_first_503="
            f"{sum(1 for a in ro if a.status == 200)}/{len(ro)}"
            f" while_read_only={while_ro}"))
        assert ro and all(a.status == 503 for a in ro), \
            [(a.cid, a.status) for a in ro if a.status != 503][:5]
        # With Redis back, queued comments are stored there again.
        status, data = d.check({"id": "after", "author": {"id": "u"},
                                "body": "please hold me"})
        assert status == 200 and json.loads(data)["decision"] == "queue"
        assert redis.client().cmd("XLEN", QUEUE) >= 1
    finally:
        redis.stop()


def spool_metrics(d):
    out = {}
    for line in d.get("/metrics")[1].decode().splitlines():
        if line.startswith(("commentd_spool_failing ",
                            "commentd_spool_refused_total ")):
            name, value = line.split()
            out[name] = int(float(value))
    return out


def test_readyz_and_metrics_say_when_the_spool_fails(spool_fs, make_daemon,
                                                     tmp_path):
    def hold(cid):
        status, _ = d.check({"id": cid, "author": {"id": "u"},
                             "body": "please hold me"})
        return status

    assert run("mount", "-o", "remount,ro", str(spool_fs)).returncode == 0
    d, redis = on(make_daemon, tmp_path, spool_fs)
    d.start()
    assert hold("h1") == 503
    r = readyz(d)
    assert r.get("spool") == "unavailable" and "spool_error" not in r, r
    assert spool_metrics(d) == {"commentd_spool_failing": 1,
                                "commentd_spool_refused_total": 1}
    # Writable again: the next try (at most a second later) opens it.
    assert run("mount", "-o", "remount,rw", str(spool_fs)).returncode == 0
    assert wait_for(lambda: hold("h2") == 200, 5)
    assert readyz(d)["spool"] == "ok"
    assert spool_metrics(d)["commentd_spool_failing"] == 0
    # Full: the tmpfs filled to the last byte by another file.
    fd = os.open(spool_fs / "ballast", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    refused = spool_metrics(d)["commentd_spool_refused_total"]
    n = 0
    while hold(f"h3-{n}") == 200:    # the spool's last page may take some
        n += 1
        assert n < 20
    r = readyz(d)
    assert r.get("spool") == "failing", r
    assert r["spool_error"] == "No space left on device", r
    m = spool_metrics(d)
    assert m["commentd_spool_failing"] == 1, m
    assert m["commentd_spool_refused_total"] == refused + 1, m
    os.unlink(spool_fs / "ballast")
    assert hold("h4") == 200
    assert readyz(d)["spool"] == "ok"
    assert spool_metrics(d)["commentd_spool_failing"] == 0
