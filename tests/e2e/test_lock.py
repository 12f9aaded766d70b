"""The list lock: timeouts, stale and live link locks, signals while waiting.

issue 2, "Lock": flock on var/run/lock (USE_FLOCK=1) or the link(2) lock
var/run/lockfile.v7 (USE_FLOCK=0) with a monotonic deadline (LOCK_TIMEOUT).
On timeout the mail stays in var/incoming, the maintainer is told at most
once an hour and fml exits 0; the next run drains the waiting mail first.
SIGTERM/SIGINT never leave a half-written file: before the commit point the
exit is 75 and nothing is left, after it the exit is 0.

The only timing assertions are generous upper bounds ("did not hang") and
lower bounds implied by the lock timeout itself.
"""
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import FML, mail, owner_ids

MEMBERS = ["alice@example.com", "bob@example.net"]
HANG = 30  # seconds: anything slower than this is a hang


def tok():
    return "lock-token-" + uuid.uuid4().hex[:16]


def post_with(token, frm="alice@example.com"):
    return mail(frm=frm, subject="post " + token, body="Body.\n%s\n" % token)


def article_tokens(ml):
    out = []
    for n in ml.articles():
        data = ml.text("spool", str(n))
        out.append(next((w for w in data.split() if w.startswith("lock-token-")), None))
    return out


def incoming_items(ml):
    return [n for n in ml.listdir("var", "incoming") if n[:1].isdigit()]


def notices(ml):
    return [q for q in ml.queue_items() if q.name.startswith("r")]


def temp_files(ml):
    """Temp files anywhere in the list home (none may be left by a signal),
    but the two that fml makes for a post it accepted while the post waits
    in var/incoming (actions/distribute.h, step 0): the next run uses them."""
    waiting = set(os.listdir(os.path.join(ml.dir, "var", "incoming")))
    left = []
    for dirpath, dirnames, filenames in os.walk(ml.dir):
        rel = os.path.relpath(dirpath, ml.dir)
        for n in filenames:
            if ((rel == "spool" and n[5:] in waiting) or
                    (rel == "var/queue/tmp" and n[2:] in waiting)):
                continue
            if (n.startswith("tmp.") or n.startswith(".") or rel == "var/queue/tmp" or
                    (rel == "var/run" and (n.startswith("lockfile.") and n != "lockfile.v7"
                                           or n.startswith("break.")))):
                left.append(os.path.join(rel, n))
    return sorted(left)


def timed_post(ml, data, *args, env=None):
    t0 = time.monotonic()
    p = ml.post(data, *args, env=env, timeout=HANG + 60)
    return p, time.monotonic() - t0


@contextlib.contextmanager
def flock_held(ml):
    """Hold the list's flock from this process, as a running fml would."""
    path = ml.path("var", "run", "lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    os.fchown(fd, *owner_ids())  # fml (as the owner) must be able to open it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    return int(s[s.rindex(")") + 2:].split()[19])  # field 22


def identity(pid, start=None):
    """The holder line lib/util/lock.c writes: "host boot_id pid starttime"."""
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    return "%s %s %d %d\n" % (socket.gethostname(), boot, pid,
                              start_time(pid) if start is None else start)


def write_v7(ml, text):
    path = ml.path("var", "run", "lockfile.v7")
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, *owner_ids())
    return path


def dead_pid():
    p = subprocess.Popen(["true"])
    start = None
    with contextlib.suppress(Exception):
        start = start_time(p.pid)
    p.wait()
    return p.pid, start or 12345


# ------------------------------------------------------------ flock timeout

def test_lock_timeout_waits_notifies_once_then_drains_in_order(make_list):
    ml = make_list(members=MEMBERS, LOCK_TIMEOUT=2)
    a, b, c = tok(), tok(), tok()
    with flock_held(ml):
        p, took = timed_post(ml, post_with(a))
        assert p.returncode == 0, p.stderr
        assert 1.0 <= took < HANG, took        # it waited for the lock, then gave up
        assert len(incoming_items(ml)) == 1     # the mail waits, accepted
        assert ml.articles() == []
        ns = notices(ml)
        assert len(ns) == 1, [n.name for n in ns]
        assert ns[0].rcpts == ["elena-admin@example.org"]
        assert b"lock timed out" in ns[0].message
        assert "timed out" in ml.log()

        # a second timeout within the hour: no second notice
        p, took = timed_post(ml, post_with(b, "bob@example.net"))
        assert p.returncode == 0, p.stderr
        assert took < HANG
        assert len(incoming_items(ml)) == 2
        assert len(notices(ml)) == 1
        assert "suppressed" in ml.log()

    # released: the next post drains the waiting ones first, in arrival order
    p, took = timed_post(ml, post_with(c))
    assert p.returncode == 0, p.stderr
    assert took < HANG
    assert ml.articles() == [1, 2, 3]
    assert article_tokens(ml) == [a, b, c]
    assert ml.seq() == 3
    assert incoming_items(ml) == []
    assert sorted(q.name for q in ml.queue_items() if q.name.startswith("a")) == [
        "a1", "a2", "a3"]
    assert temp_files(ml) == []


def test_lock_timeout_concurrent_waiters_one_notice(make_list):
    """Several runs timing out together still tell the maintainer once."""
    ml = make_list(members=MEMBERS, LOCK_TIMEOUT=2)
    toks = [tok() for _ in range(20)]
    with flock_held(ml):
        procs = [subprocess.Popen([FML, ml.dir], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env={"PATH": "/usr/bin:/bin"}) for _ in toks]
        for pr, t in zip(procs, toks):
            pr.stdin.write(post_with(t))
            pr.stdin.close()
        rcs = [pr.wait(timeout=HANG + 30) for pr in procs]
    assert rcs == [0] * len(toks)
    assert len(incoming_items(ml)) == len(toks)
    assert len(notices(ml)) == 1, [n.name for n in notices(ml)]


# ------------------------------------------------------------ link lock

def test_link_lock_stale_dead_pid_is_broken(make_list):
    ml = make_list(members=MEMBERS, USE_FLOCK=0, LOCK_TIMEOUT=10)
    pid, start = dead_pid()
    write_v7(ml, identity(pid, start=start))
    a = tok()
    p, took = timed_post(ml, post_with(a))
    assert p.returncode == 0, p.stderr
    assert took < 5, took  # broken at once, not waited out
    assert article_tokens(ml) == [a]
    assert not ml.exists("var", "run", "lockfile.v7")
    assert "stale lock" in ml.log()
    assert notices(ml) == []
    assert temp_files(ml) == []


def test_link_lock_stale_reused_pid_is_broken(make_list):
    """Our pid, but a start time that is not ours: the pid was reused."""
    ml = make_list(members=MEMBERS, USE_FLOCK=0, LOCK_TIMEOUT=10)
    write_v7(ml, identity(os.getpid(), start=start_time(os.getpid()) + 1))
    a = tok()
    p, took = timed_post(ml, post_with(a))
    assert p.returncode == 0, p.stderr
    assert took < 5
    assert article_tokens(ml) == [a]
    assert not ml.exists("var", "run", "lockfile.v7")


def test_link_lock_of_live_process_is_respected(make_list):
    ml = make_list(members=MEMBERS, USE_FLOCK=0, LOCK_TIMEOUT=2)
    ident = identity(os.getpid())
    path = write_v7(ml, ident)
    a, b = tok(), tok()
    p, took = timed_post(ml, post_with(a))
    assert p.returncode == 0, p.stderr
    assert 1.0 <= took < HANG, took
    with open(path) as f:
        assert f.read() == ident           # not broken, not touched
    assert ml.articles() == []
    assert len(incoming_items(ml)) == 1
    assert len(notices(ml)) == 1
    assert temp_files(ml) == []              # its link token is gone too
    os.unlink(path)                          # the holder finishes
    p, took = timed_post(ml, post_with(b))
    assert p.returncode == 0, p.stderr
    assert article_tokens(ml) == [a, b]
    assert not ml.exists("var", "run", "lockfile.v7")
    assert incoming_items(ml) == []


def test_link_lock_other_host_is_trusted_until_stale_age(make_list):
    """A holder on another host cannot be checked: only LOCK_STALE_AGE breaks it."""
    ml = make_list(members=MEMBERS, USE_FLOCK=0, LOCK_TIMEOUT=1, LOCK_STALE_AGE=60)
    path = write_v7(ml, "other.host.example 00000000-0000-0000-0000-000000000000 1 1\n")
    p, _ = timed_post(ml, post_with(tok()))
    assert p.returncode == 0
    assert os.path.exists(path) and ml.articles() == []
    old = time.time() - 120
    os.utime(path, (old, old))
    a = tok()
    p, took = timed_post(ml, post_with(a))
    assert p.returncode == 0 and took < HANG
    assert len(ml.articles()) == 2 and article_tokens(ml)[1] == a
    assert not os.path.exists(path)


# ------------------------------------------------------------ signals

def wait_for(pred, limit=10.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if pred():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("use_flock", [1, 0], ids=["flock", "link"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_while_waiting_for_lock(make_list, use_flock, sig):
    """The mail is accepted: exit 0, it waits in var/incoming, no temp file left."""
    ml = make_list(members=MEMBERS, USE_FLOCK=use_flock, LOCK_TIMEOUT=60)
    a, b = tok(), tok()
    with contextlib.ExitStack() as stack:
        if use_flock:
            stack.enter_context(flock_held(ml))
        else:
            write_v7(ml, identity(os.getpid()))
        pr = subprocess.Popen([FML, ml.dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
        pr.stdin.write(post_with(a))
        pr.stdin.close()
        assert wait_for(lambda: len(incoming_items(ml)) == 1), "never accepted"
        if not use_flock:  # its link token exists: it is in the wait loop
            assert wait_for(lambda: any(n.startswith("lockfile.") and n != "lockfile.v7"
                                        for n in ml.listdir("var", "run")))
        time.sleep(0.5)
        assert pr.poll() is None, "fml did not wait for the lock"
        pr.send_signal(sig)
        rc = pr.wait(timeout=HANG)
        pr.stdout.close()
        pr.stderr.close()
        assert rc == 0, rc
        assert len(incoming_items(ml)) == 1
        assert ml.articles() == []
        assert temp_files(ml) == []
        if not use_flock:
            os.unlink(ml.path("var", "run", "lockfile.v7"))
    p, took = timed_post(ml, post_with(b))
    assert p.returncode == 0 and took < HANG
    assert article_tokens(ml) == [a, b]
    assert temp_files(ml) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["TERM", "INT", "HUP"])
def test_signal_during_accept(make_list, sig):
    """Before the commit point: exit 75 (the MTA keeps the mail), nothing left."""
    ml = make_list(members=MEMBERS)
    pr = subprocess.Popen([FML, ml.dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})
    data = post_with(tok())
    pr.stdin.write(data[: len(data) // 2])
    pr.stdin.flush()
    assert wait_for(lambda: any(n.startswith("tmp.") for n in ml.listdir("var", "incoming"))), \
        "accept never started"
    time.sleep(0.2)
    pr.send_signal(sig)
    rc = pr.wait(timeout=HANG)
    with contextlib.suppress(BrokenPipeError):
        pr.stdin.close()
    out = pr.stdout.read()
    pr.stdout.close()
    pr.stderr.close()
    assert rc == 75, (rc, out)
    assert ml.listdir("var", "incoming") == []
    assert ml.articles() == []
    assert temp_files(ml) == []
