"""Installation and the systemd units, tested on what `cmake --install` puts
in a DESTDIR (docs/operations.md says what each part is for).

  destdir            install, the file list, /etc/commentd kept on upgrade,
                     another prefix; the fixture the other cases read
  security           systemd-analyze security --offline: exposure <= 1.5
  verify             systemd-analyze verify on the installed units
  sysusers           the sysusers.d and tmpfiles.d snippets, applied to a
                     copy of the DESTDIR (root only: they chown)
  socket_activation  the installed commentd started by
                     systemd-socket-activate, answering on both sockets and
                     telling systemd its state (READY, RELOADING, WATCHDOG)
  syscalls           every system call and socket family the daemon uses is
                     one the unit's filters allow
  mdwe               MemoryDenyWriteExecute= stays off while the shipped
                     policy needs PCRE2's JIT
"""
import filecmp
import http.client
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import (Failure, Running, Skip, check, main, need, run, show,
                     syscall_group, unit_values)

UNITS = ("commentd.service", "commentd.socket", "commentd-admin.socket")
UNITDIR = "lib/systemd/system"
EXPOSURE_MAX = 15               # tenths: --threshold=15 is exposure 1.5
SANDBOX_FREE_UNIT = """[Service]
Type=notify
ExecStart=/usr/sbin/commentd
User=commentd
"""


def install(args, destdir, prefix="/usr"):
    """cmake --install into destdir; the command's output."""
    p = run([args.cmake, "--install", args.build, "--prefix", prefix],
            env={"DESTDIR": str(destdir)})
    check(p.returncode == 0, f"cmake --install failed: {show(p)}")
    return p.stdout


def tree(root):
    """Every file and symlink under root, as paths relative to it."""
    root = pathlib.Path(root)
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() or p.is_symlink()}


def expected_files(args):
    """What a --prefix /usr install must hold, derived from the source."""
    src = pathlib.Path(args.source)
    files = {"usr/sbin/commentd", "usr/lib/sysusers.d/commentd.conf",
             "usr/lib/tmpfiles.d/commentd.conf",
             "usr/share/man/man8/commentd.8",
             "usr/share/man/man5/commentd.yaml.5",
             "etc/commentd/commentd.yaml",
             "usr/share/commentd/commentd.yaml"}
    files |= {f"{UNITDIR}/{u}" for u in UNITS}
    for p in (src / "policies").rglob("*"):
        if p.is_file():
            rel = p.relative_to(src)
            files |= {f"etc/commentd/{rel}", f"usr/share/commentd/{rel}"}
    files |= {f"usr/share/doc/commentd/{p.name}"
              for p in (src / "docs").glob("*.md")}
    # commentctl's hook: once client/ builds it, it must be installed too.
    if (pathlib.Path(args.build) / "client" / "commentctl").exists():
        files.add("usr/bin/commentctl")
    if (src / "docs" / "man" / "commentctl.1").exists():
        files.add("usr/share/man/man1/commentctl.1")
    return files


def case_destdir(args):
    """A fresh install holds exactly the expected files, and they load."""
    dest = pathlib.Path(args.destdir)
    shutil.rmtree(dest, ignore_errors=True)
    install(args, dest)
    got, want = tree(dest), expected_files(args)
    check(got == want, "installed files differ from the expected ones:\n"
          f"  missing: {sorted(want - got)}\n"
          f"  unexpected: {sorted(got - want)}")
    src = pathlib.Path(args.source)
    for u in UNITS:
        check(filecmp.cmp(src / "systemd" / u, dest / UNITDIR / u, False),
              f"{u}: the installed unit differs from systemd/{u}")
    check(os.access(dest / "usr/sbin/commentd", os.X_OK),
          "usr/sbin/commentd is not executable")
    p = run([str(dest / "usr/sbin/commentd"), "-t", "-c",
             str(dest / "etc/commentd/commentd.yaml")])
    check(p.returncode == 0 and "configuration OK" in p.stdout,
          f"the installed configuration does not load: {show(p)}")
    check_upgrade(args)
    check_other_prefix(args)


def check_upgrade(args):
    """A second install keeps edited and present files under /etc/commentd."""
    with tempfile.TemporaryDirectory(prefix="commentd-upgrade-") as d:
        dest = pathlib.Path(d)
        install(args, dest)
        etc = dest / "etc/commentd"
        edited = [etc / "commentd.yaml", etc / "policies" / "default.yaml"]
        for f in edited:
            with open(f, "a") as out:
                out.write("# edited by the operator\n")
        lists = sorted((etc / "policies" / "wordlists").glob("*.txt"))
        check(lists, "no word lists under etc/commentd/policies/wordlists")
        lists[0].unlink()
        shared = dest / "usr/share/commentd/commentd.yaml"
        shared.write_text("stale\n")
        out = install(args, dest)
        for f in edited:
            check(f.read_text().endswith("# edited by the operator\n"),
                  f"a reinstall overwrote the edited {f.relative_to(dest)}")
            check(f"Keeping: {f}" in out,
                  f"no 'Keeping: {f}' in the install output:\n{out}")
        check(lists[0].exists(), f"a reinstall did not put back the "
              f"missing {lists[0].relative_to(dest)}")
        check(filecmp.cmp(shared, pathlib.Path(args.source, "etc",
                                                "commentd.yaml"), False),
              "a reinstall did not refresh usr/share/commentd/commentd.yaml")


def check_other_prefix(args):
    """--prefix /usr/local: the units run /usr/local/sbin/commentd."""
    with tempfile.TemporaryDirectory(prefix="commentd-prefix-") as d:
        dest = pathlib.Path(d)
        install(args, dest, prefix="/usr/local")
        for f in ("usr/local/sbin/commentd", "etc/commentd/commentd.yaml",
                  "usr/local/lib/sysusers.d/commentd.conf",
                  "usr/local/lib/tmpfiles.d/commentd.conf"):
            check((dest / f).exists(), f"--prefix /usr/local: no {f}")
        service = dest / "usr/local/lib/systemd/system/commentd.service"
        check(service.exists(), "--prefix /usr/local: no unit in "
              "usr/local/lib/systemd/system")
        execs = [v for k in ("ExecStartPre", "ExecStart", "ExecReload")
                 for v in unit_values(service, k)]
        daemon = [v for v in execs if "commentd " in v]
        check(len(daemon) == 3 and all(
            v.startswith("/usr/local/sbin/commentd ") for v in daemon),
            f"--prefix /usr/local: the unit runs {daemon}")


def installed(args, *parts):
    """A path in the DESTDIR install.destdir made; a failure if absent."""
    path = pathlib.Path(args.destdir, *parts)
    check(path.exists(), f"{path} is missing: did install.destdir run?")
    return path


def exposure(unit, threshold):
    """systemd-analyze security's exit status and overall exposure."""
    p = run(["systemd-analyze", "security", "--offline=yes",
             f"--threshold={threshold}", str(unit)],
            cwd=os.path.dirname(unit))
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", p.stdout)
    check(m, f"no exposure level in the analysis: {show(p)}")
    return p.returncode, float(m.group(1))


def case_security(args):
    """The installed service rates 1.5 or lower; the threshold bites."""
    need("systemd-analyze")
    service = installed(args, UNITDIR, "commentd.service")
    rc, level = exposure(service, EXPOSURE_MAX)
    print(f"exposure of the installed commentd.service: {level}")
    check(rc == 0 and level <= EXPOSURE_MAX / 10,
          f"exposure {level} is over {EXPOSURE_MAX / 10} (exit {rc})")
    # Just under our own level must fail: the threshold is in tenths.
    below = round(level * 10) - 1
    rc, _ = exposure(service, below)
    check(rc != 0, f"--threshold={below} passed an exposure of {level}")
    with tempfile.TemporaryDirectory() as d:
        bare = pathlib.Path(d, "commentd.service")
        bare.write_text(SANDBOX_FREE_UNIT)
        rc, level = exposure(bare, EXPOSURE_MAX)
        check(rc != 0, f"an unsandboxed unit (exposure {level}) passed")


def verify_root(args, root):
    """A root for systemd-analyze verify: the DESTDIR and the host's targets."""
    shutil.copytree(args.destdir, root, symlinks=True)
    targets = [p for d in ("/lib/systemd/system", "/usr/lib/systemd/system")
               for p in pathlib.Path(d).glob("*.target")]
    if not targets:
        raise Skip("no systemd targets on this machine to verify against")
    unitdir = pathlib.Path(root, "usr/lib/systemd/system")
    unitdir.mkdir(parents=True, exist_ok=True)
    for t in targets:
        if not (unitdir / t.name).exists():
            shutil.copy(t, unitdir / t.name)


def verify(root, man):
    """systemd-analyze verify on the three units under root."""
    return run(["systemd-analyze", "verify", f"--root={root}"] +
               [f"/{UNITDIR}/{u}" for u in UNITS],
               env={"MANPATH": man, "SYSTEMD_LOG_COLOR": "0"})


def case_verify(args):
    """verify says nothing at all about the installed units.

    It prints warnings (an unknown key, a bad value) yet exits 0, so any
    output fails the test.  Documentation= is looked up with man(1) in the
    installed pages, ExecStart= in the installed binary.
    """
    need("systemd-analyze")
    need("man")
    installed(args, UNITDIR, "commentd.service")
    man = str(pathlib.Path(args.destdir, "usr/share/man"))
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d, "root")
        verify_root(args, root)
        p = verify(root, man)
        check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
              f"systemd-analyze verify: {show(p)}")
        # The same with one misspelt key must not pass.
        service = root / UNITDIR / "commentd.service"
        service.write_text(service.read_text().replace(
            "ProtectHome=yes", "ProtectHomes=yes"))
        p = verify(root, man)
        check("ProtectHomes" in p.stdout + p.stderr,
              f"verify missed a misspelt key: {show(p)}")


def passwd(path):
    """name -> fields of an /etc/passwd or /etc/group file."""
    with open(path) as f:
        return {line.split(":")[0]: line.rstrip("\n").split(":")
                for line in f if line.strip()}


def case_sysusers(args):
    """The snippets create the users, groups and directories the units use."""
    if os.geteuid() != 0:
        raise Skip("systemd-tmpfiles needs root to chown")
    need("systemd-sysusers")
    need("systemd-tmpfiles")
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d, "root")
        shutil.copytree(installed(args), root, symlinks=True)
        p = run(["systemd-sysusers", f"--root={root}"])
        check(p.returncode == 0, f"systemd-sysusers: {show(p)}")
        users, groups = passwd(root / "etc/passwd"), passwd(root / "etc/group")
        service = root / UNITDIR / "commentd.service"
        for user in unit_values(service, "User"):
            check(user in users, f"User={user}: not made by sysusers.d")
        for group in unit_values(service, "Group"):
            check(group in groups, f"Group={group}: not made by sysusers.d")
        for sock in UNITS[1:]:
            for group in unit_values(root / UNITDIR / sock, "SocketGroup"):
                check(group in groups, f"{sock}: SocketGroup={group} is not "
                      "made by sysusers.d")
        user = users["commentd"]
        check(user[5:] == ["/var/lib/commentd", "/usr/sbin/nologin"],
              f"commentd's home and shell: {user[5:]}")
        p = run(["systemd-tmpfiles", f"--root={root}", "--create",
                 "commentd.conf"])
        check(p.returncode == 0, f"systemd-tmpfiles: {show(p)}")
        uid, gid = int(user[2]), int(user[3])
        for path, mode in (("run/commentd", 0o755),
                           ("var/lib/commentd", 0o700)):
            st = (root / path).stat()
            check((st.st_uid, st.st_gid, st.st_mode & 0o7777) ==
                  (uid, gid, mode), f"/{path}: owner {st.st_uid}:"
                  f"{st.st_gid} mode {st.st_mode & 0o7777:o}, want "
                  f"{uid}:{gid} {mode:o}")


class Notify:
    """A NOTIFY_SOCKET, as systemd gives a Type=notify service."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.seen = []

    def wait(self, what, timeout=10):
        """Waits for a message holding the line `what`; all seen so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(what in m.split("\n") for m in self.seen):
                return self.seen
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except socket.timeout:
                break
        raise Failure(f"no {what} from the daemon; it sent {self.seen}")

    def close(self):
        self.sock.close()


def exe(pid):
    """What process pid is running now."""
    return os.path.realpath(f"/proc/{pid}/exe")


# systemd-socket-activate passes on only the environment it is told to.
PASSED_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "ASAN_OPTIONS",
              "UBSAN_OPTIONS", "LSAN_OPTIONS")


def activation_prefix(names, tcp=None):
    """An argv_prefix that hands the daemon its sockets under `names`:
    the submit and admin sockets, and a loopback TCP port if given."""
    tool = need("systemd-socket-activate")
    env = [f"--setenv={v}" for v in PASSED_ENV]
    listen = [f"127.0.0.1:{tcp}"] if tcp else []
    return lambda d: [tool] + [a for path in [d.submit, d.admin] + listen
                               for a in ("-l", path)] + [
        "--fdname=" + ":".join(names)] + env


def case_socket_activation(args):
    """systemd-socket-activate starts the installed commentd on first use."""
    binary = str(installed(args, "usr/sbin/commentd"))
    policy = str(installed(args, "etc/commentd/policies/default.yaml"))
    with tempfile.TemporaryDirectory() as nd:
        notify = Notify(os.path.join(nd, "notify"))
        env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"}
        try:
            r = Running(args, binary, policy, env=env)
            port = r.conftest.free_port()
            r.prefix = activation_prefix(["submit", "admin", "submit-tcp"],
                                         port)
            with r:
                activated(r.daemon, binary, notify, port)
        finally:
            notify.close()
    with Running(args, binary, policy,
                 prefix=activation_prefix(["submit", "moderators"])) as r:
        r.expect_exit = 1
        d = r.daemon
        d.start(wait=False)
        wait_for_socket(d)
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(d.submit)
        wait_exit(d)
        check('systemd passed a socket named "moderators"' in d.log(),
              f"an unknown socket name was not refused:\n{d.log()}")


def wait_for_socket(d, timeout=10):
    """Waits until systemd-socket-activate listens on the submit socket."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(d.submit):
        check(d.proc.poll() is None, f"exited {d.proc.returncode}:\n{d.log()}")
        check(time.monotonic() < deadline, "the submit socket never appeared")
        time.sleep(0.02)


def tcp_request(port, method, path):
    """The status of one request on the loopback TCP listener."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def activated(d, binary, notify, port):
    """The checks on one socket-activated daemon."""
    d.start(wait=False)
    wait_for_socket(d)
    check(exe(d.proc.pid) != os.path.realpath(binary),
          "commentd ran before anyone connected")
    d.wait_ready()
    check(exe(d.proc.pid) == os.path.realpath(binary),
          f"pid {d.proc.pid} runs {exe(d.proc.pid)}, not {binary}")
    log = d.log()
    for name in ("submit", "admin"):
        check(f"listening on the {name} socket passed by systemd" in log,
              f"the {name} socket was not adopted:\n{log}")
    notify.wait("READY=1")
    notify.wait("WATCHDOG=1", timeout=5)
    status, body = d.check({"id": "c-1", "author": {"id": "u-1"},
                            "body": "What the f*ck is this"})
    check(status == 200 and b'"decision":"reject"' in body,
          f"POST /v1/check on the submit socket: {status} {body!r}")
    status, _ = d.get("/readyz", which="admin")
    check(status == 200, f"GET /readyz on the admin socket: {status}")
    status, _, _ = d.request("POST", "/v1/admin/reload", which="submit")
    check(status == 404, f"an admin route answered {status} on the submit "
          "socket")
    # The TCP socket of docs/operations.md's scrape recipe (submit-tcp).
    check("listening on the submit-tcp socket passed by systemd" in d.log(),
          f"the submit-tcp socket was not adopted:\n{d.log()}")
    status = tcp_request(port, "GET", "/metrics")
    check(status == 200, f"GET /metrics on TCP: {status}")
    status = tcp_request(port, "POST", "/v1/admin/reload")
    check(status == 404, f"an admin route answered {status} on TCP")
    notify.seen.clear()
    status, _, _ = d.request("POST", "/v1/admin/reload", which="admin")
    check(status == 200, f"POST /v1/admin/reload on the admin socket: "
          f"{status}")
    check(any(m.startswith("RELOADING=1") for m in notify.wait("READY=1")),
          f"no RELOADING=1 before READY=1: {notify.seen}")
    d.signal(signal.SIGTERM)
    notify.wait("STOPPING=1")
    wait_exit(d)


def wait_exit(d, timeout=15):
    """Waits for the process a stop was asked of (one SIGTERM, as systemd)."""
    try:
        d.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"commentd did not stop within {timeout}s:\n{d.log()}")


def filters(service):
    """The system calls and socket families the unit allows."""
    allowed, denied = set(), set()
    for value in unit_values(service, "SystemCallFilter"):
        deny = value.startswith("~")
        for name in value.lstrip("~").split():
            calls = syscall_group(name) if name.startswith("@") else {name}
            (denied if deny else allowed).update(calls)
    families = set()
    for value in unit_values(service, "RestrictAddressFamilies"):
        families.update(value.split())
    check(allowed and families, f"{service}: no SystemCallFilter= allow "
          "list or no RestrictAddressFamilies=")
    return allowed - denied, families


def traced(trace):
    """System calls and socket() families in an strace -f log."""
    calls, families = set(), set()
    for line in trace.splitlines():
        m = re.match(r"(?:\d+\s+)?([a-z0-9_]+)\(", line)
        if m:
            calls.add(m.group(1))
            f = re.match(r"(?:\d+\s+)?socket\((AF_[A-Z0-9]+)", line)
            if f:
                families.add(f.group(1))
    return calls, families


def case_syscalls(args):
    """The unit's seccomp filter and address families let the daemon work.

    systemd kills nothing here (PID 1 is not systemd), so the daemon runs
    under strace through start, requests on both sockets, a reload, the
    watchdog and a stop, and every system call it made must pass the
    unit's SystemCallFilter= lines, every socket it made its
    RestrictAddressFamilies=.
    """
    strace = need("strace")
    need("systemd-analyze")
    allowed, families = filters(installed(args, UNITDIR, "commentd.service"))
    binary = str(installed(args, "usr/sbin/commentd"))
    with tempfile.TemporaryDirectory() as nd:
        trace = os.path.join(nd, "trace")
        notify = Notify(os.path.join(nd, "notify"))
        # LeakSanitizer cannot work under ptrace; the rest of ASan can.
        asan = os.environ.get("ASAN_OPTIONS", "")
        env = {"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000",
               "ASAN_OPTIONS": (asan + ":" if asan else "") +
               "detect_leaks=0"}
        try:
            with Running(args, binary, env=env, prefix=lambda d: [
                    strace, "-f", "-qq", "-o", trace]) as r:
                exercise(r.daemon, notify)
        finally:
            notify.close()
        with open(trace) as f:
            calls, used = traced(f.read())
    check(len(calls) > 20, f"strace saw only {sorted(calls)}")
    print(f"{len(calls)} system calls: {' '.join(sorted(calls))}")
    check(not calls - allowed, "system calls the unit's SystemCallFilter= "
          f"refuses: {sorted(calls - allowed)}")
    check(used and not used - families, f"socket families {sorted(used)}; "
          f"RestrictAddressFamilies= allows {sorted(families)}")


def exercise(d, notify):
    """Start, requests, reload by route and by signal, watchdog, stop."""
    d.start()
    notify.wait("READY=1")
    notify.wait("WATCHDOG=1", timeout=5)
    status, _ = d.check({"id": "c-1", "author": {"id": "u-1"},
                         "body": "Write to me at ben@example.com"})
    check(status == 200, f"POST /v1/check: {status}")
    for which in ("submit", "admin"):
        check(d.get("/metrics", which=which)[0] == 200, "GET /metrics")
    status, _, _ = d.request("POST", "/v1/admin/reload", which="admin")
    check(status == 200, f"POST /v1/admin/reload: {status}")
    # d.proc is strace; the daemon is its only child.
    with open(f"/proc/{d.proc.pid}/task/{d.proc.pid}/children") as f:
        child = int(f.read().split()[0])
    os.kill(child, signal.SIGHUP)
    notify.seen.clear()
    notify.wait("READY=1")
    os.kill(child, signal.SIGTERM)
    notify.wait("STOPPING=1")
    wait_exit(d)                # strace ends with its tracee


def case_mdwe(args):
    """MemoryDenyWriteExecute= is off, and must stay off while this holds:
    under systemd's filter PCRE2's JIT is refused and the installed
    configuration's policy then fails its regex vetting."""
    tool = args.mdwe_exec
    service = installed(args, UNITDIR, "commentd.service")
    check(unit_values(service, "MemoryDenyWriteExecute") == ["no"],
          "commentd.service must say MemoryDenyWriteExecute=no "
          "(docs/operations.md, Sandbox)")
    # The filter works: a writable and executable mapping is refused.
    probe = ("import mmap\n"
             "try:\n"
             "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE"
             " | mmap.PROT_EXEC)\n"
             "except PermissionError:\n"
             "    print('refused')\n")
    p = run([tool, "/usr/bin/python3", "-c", probe])
    if p.returncode == 77:
        raise Skip(p.stderr.strip())
    check(p.stdout.strip() == "refused", f"mdwe_exec let a writable, "
          f"executable mapping through: {show(p)}")
    argv = [str(installed(args, "usr/sbin/commentd")), "-t", "-c",
            str(installed(args, "etc/commentd/commentd.yaml"))]
    p = run(argv)
    check(p.returncode == 0, f"without the filter: {show(p)}")
    p = run([tool] + argv)
    check(p.returncode != 0, "the shipped policy now loads without "
          "PCRE2's JIT: MemoryDenyWriteExecute=yes may be possible; "
          "weigh it in systemd/commentd.service and docs/operations.md")
    check(p.returncode == 1 and "(without JIT)" in p.stderr,
          f"under the filter the check failed otherwise: {show(p)}")
    print("under MemoryDenyWriteExecute: " + " | ".join(
        line for line in p.stderr.splitlines() if "without JIT" in line))


if __name__ == "__main__":
    main({"destdir": case_destdir, "security": case_security,
          "verify": case_verify, "sysusers": case_sysusers,
          "socket_activation": case_socket_activation,
          "syscalls": case_syscalls, "mdwe": case_mdwe})
