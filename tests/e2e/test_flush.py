"""What a post costs in synchronous flushes (issue 11), counted with strace.

A post that the same run makes an article is durable through its queue
item alone: aN fsynced, then the queue's new/.  spool/N is not synced: aN
holds a copy of it and stands for it until the queue runner syncs spool/N
and spool/ (before it retires aN), and after a reboot the first program to
run makes spool/N what aN says, restored when missing, rewritten when
damaged (lib/queue/qspool.h).  The incoming item is not synced
(lib/list/incoming.c), nor is
the duplicate cache (lib/list/dedupe.c: gdbm's close-time sync goes to
/dev/null).  A run that exits 0 with its mail still waiting (here: the list
lock timed out) syncs the item and var/incoming first.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import FML, mail
from test_crash import crashshim, lock_held, strace_ok  # noqa: F401  (the fixture)
from test_queue import FMLQUEUE, sinks  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(not strace_ok(), reason="strace missing or ptrace not permitted")

FLUSHES = "fsync,fdatasync,msync,sync_file_range,syncfs"
# "PID fsync(7</path>) = 0"; msync names an address, not a descriptor
CALL_RE = re.compile(r"^\d+\s+(\w+)\((?:\d+<([^>]*)>)?")


def flushes(ml, data, *args, env=None):
    """Run fml under strace; (the completed process, [(call, path)] of every
    flush but the ones on /dev/null, which flush nothing)."""
    out = ml.path("..", "strace.%s.out" % time.monotonic_ns())
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", out, "-e", "trace=" + FLUSHES,
                        FML, ml.dir, *args], input=data, capture_output=True, env=e,
                       timeout=60)
    calls = []
    with open(out) as f:
        for line in f:
            m = CALL_RE.match(line)
            # sync_file_range with only SYNC_FILE_RANGE_WRITE starts the
            # write-back and waits for nothing (the group commit's hint,
            # lib/util/safefile.h): not a flush
            if m and m.group(1) == "sync_file_range" and "WAIT" not in line:
                continue
            if m and m.group(2) != "/dev/null":
                calls.append((m.group(1), m.group(2) or ""))
    os.unlink(out)
    return p, calls


def steady_list(make_list):
    """A list whose next post takes the usual path: member files dated back
    (a file changed within the last second makes the member index rebuild
    itself), one post made (the duplicate cache and the recipients cache
    exist)."""
    ml = make_list("elena", members=["alice@example.com", "bob@example.net"])
    day_ago = time.time() - 86400
    for f in ("members", "actives"):
        os.utime(ml.path(f), (day_ago, day_ago))
    p = ml.post(mail(subject="first"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1]
    return ml


def test_a_post_costs_two_flushes(make_list):
    ml = steady_list(make_list)
    p, calls = flushes(ml, mail(subject="second"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2]
    assert [i.name for i in ml.queue_items()] == ["a1", "a2"]
    spool, queue = ml.path("spool"), ml.path("var", "queue")
    got = [(c, os.path.relpath(t, ml.dir) if t.startswith(ml.dir) else t) for c, t in calls]
    assert len(calls) == 2, got
    assert all(c == "fsync" for c, _ in calls), got
    paths = [t for _, t in calls]
    assert paths[0].startswith(queue + "/tmp/p."), got
    assert paths[1:] == [os.path.join(queue, "new")], got
    assert not [t for t in paths if t.startswith(spool)], got


def test_a_lock_timeout_leaves_a_durable_item(make_list):
    ml = steady_list(make_list)
    with lock_held(ml, 1):
        p, calls = flushes(ml, mail(subject="waits"), "--LOCK_TIMEOUT=0")
    assert p.returncode == 0, p.stderr
    (item,) = [n for n in ml.listdir("var", "incoming") if n[0].isdigit()]
    paths = [t for c, t in calls if c == "fsync"]
    # the maintainer's lock-timeout notice is a queue item (durable as
    # always), then the mail: the file, then the directory that names it
    queue = ml.path("var", "queue")
    assert paths[-2:] == [ml.path("var", "incoming", item), ml.path("var", "incoming")], calls
    assert [t for t in paths[:-2] if not t.startswith(queue + "/")] == [], calls
    assert ml.articles() == [1]
    # the next run makes it an article, with the article's flushes only
    p, calls = flushes(ml, b"")
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2]
    assert len(calls) == 2 and not [t for _, t in calls if "/var/incoming" in t], calls


def test_sigterm_after_the_accept_leaves_a_durable_item(make_list, crashshim):  # noqa: F811
    """SIGTERM right after spool/N is linked: fml exits 0 (the mail is
    accepted) only after its clean-up synced the waiting item; the next run
    finishes the article once."""
    ml = steady_list(make_list)
    p, calls = flushes(ml, mail(subject="term"), env={
        "LD_PRELOAD": crashshim, "FML_CRASH_ON": "link:/spool/", "FML_CRASH_AFTER": "1",
        "FML_CRASH_MODE": "term"})
    assert p.returncode == 0, p.stderr
    (item,) = [n for n in ml.listdir("var", "incoming") if n[0].isdigit()]
    paths = [t for c, t in calls if c == "fsync"]
    assert paths[-2:] == [ml.path("var", "incoming", item), ml.path("var", "incoming")], calls
    assert ml.post(b"").returncode == 0
    assert ml.articles() == [1, 2] and ml.incoming() == []
    assert [i.name for i in ml.queue_items()] == ["a1", "a2"]


def reboot(ml):
    """What the first run after a reboot sees: var/run/boot names another
    boot than the kernel's (/proc/sys/kernel/random/boot_id)."""
    ml.write("var/run/boot", "00000000-0000-0000-0000-000000000000\n")


def test_a_spool_name_a_crash_took_comes_back_from_its_queue_item(make_list):
    ml = steady_list(make_list)
    assert ml.post(mail(subject="second")).returncode == 0
    kept = ml.spool(2)
    # a power loss took the unsynced name spool/2 (and the unsynced seq);
    # the queue item a2 is durable
    os.unlink(ml.path("spool", "2"))
    ml.write("seq", "1\n")
    p = ml.post(mail(subject="third"))
    assert p.returncode == 0, p.stderr
    # the kernel has not restarted (for fml): nothing restored, but N = 2
    # is taken while a2 exists
    assert ml.articles() == [1, 3]
    assert [i.name for i in ml.queue_items()] == ["a1", "a2", "a3"]
    reboot(ml)
    p = ml.post(mail(subject="fourth"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2, 3, 4]
    assert ml.spool(2) == kept
    assert "spool/2 was lost (a crash of the machine); restored from its queue item" in ml.log()
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert ml.text("var", "run", "boot") == f.read()
    # once per boot: a later run does not look again
    os.unlink(ml.path("spool", "2"))
    assert ml.post(mail(subject="fifth")).returncode == 0
    assert not ml.exists("spool", "2")


def test_a_spool_file_a_power_loss_damaged_is_rewritten_from_its_queue_item(make_list):
    """An unsynced spool/N can come back from a power loss empty, cut short
    or with stale blocks: after the reboot the first run rewrites it from
    aN, and leaves alone one that is right."""
    ml = steady_list(make_list)
    assert ml.post(mail(subject="second")).returncode == 0
    assert ml.post(mail(subject="third")).returncode == 0
    kept2, kept3 = ml.spool(2), ml.spool(3)
    with open(ml.path("spool", "2"), "r+b") as f:
        f.truncate(len(kept2) // 2)
    with open(ml.path("spool", "3"), "r+b") as f:  # same size, other bytes
        f.seek(len(kept3) - 5)
        f.write(b"\0\0\0\0\0")
    st1 = os.stat(ml.path("spool", "1"))
    reboot(ml)
    p = ml.post(mail(subject="fourth"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2, 3, 4]
    assert (ml.spool(2), ml.spool(3)) == (kept2, kept3)
    assert ml.log().count("was damaged (a crash of the machine); restored") == 2
    assert os.stat(ml.path("spool", "1")).st_ino == st1.st_ino  # right: not rewritten


def test_the_runner_first_after_a_reboot_repairs_before_it_retires(make_list, sinks):
    """fmlqueue may be the first program after a reboot: it makes spool/N
    right before it delivers and retires aN, after which nothing stands
    for spool/N."""
    sink = sinks().start()
    ml = make_list(members=["alice@example.com"], SMTP_SERVERS=sink.uri(),
                   DELIVERY_MODE="queue")
    assert ml.post(mail(subject="first")).returncode == 0
    kept = ml.spool(1)
    with open(ml.path("spool", "1"), "r+b") as f:
        f.truncate(0)
    reboot(ml)
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert ml.area("var", "queue", "sent") == ["a1"]
    assert ml.spool(1) == kept


def test_a_delivered_item_is_retired_only_after_its_spool_file_is_synced(make_list, sinks):
    """The queue runner syncs spool/N and spool/ after it lists an area and
    before it retires anything it listed: from then on spool/N needs no
    aN."""
    sink = sinks().start()
    ml = make_list(members=["alice@example.com", "bob@example.net"], SMTP_SERVERS=sink.uri(),
                   DELIVERY_MODE="queue")
    assert ml.post(mail(subject="first")).returncode == 0
    out = ml.path("..", "strace.queue.out")
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", out, "-e", "trace=fsync,rename",
                        FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        trace = f.read().splitlines()
    def synced(path):
        return [i for i, l in enumerate(trace) if "fsync(" in l and
                l.split("<")[1].startswith(path + ">")]
    file, dir = synced(ml.path("spool", "1")), synced(ml.path("spool"))
    retire = [i for i, l in enumerate(trace) if "rename(" in l and "/sent/a1" in l]
    assert file and dir and retire and file[0] < dir[0] < retire[0], trace
    assert ml.area("var", "queue", "sent") == ["a1"]
