"""What a post costs in synchronous flushes (issue 11), counted with strace.

A post that the same run makes an article is durable through the article
alone: the spool file and its queue item fsynced, then spool/ and the
queue's new/ (lib/actions/distribute.c says why two directories take two
fsyncs).  The incoming item is not synced (lib/list/incoming.c), nor is
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


def test_a_post_costs_four_flushes(make_list):
    ml = steady_list(make_list)
    p, calls = flushes(ml, mail(subject="second"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2]
    assert [i.name for i in ml.queue_items()] == ["a1", "a2"]
    spool, queue = ml.path("spool"), ml.path("var", "queue")
    got = [(c, os.path.relpath(t, ml.dir) if t.startswith(ml.dir) else t) for c, t in calls]
    assert len(calls) == 4, got
    assert all(c == "fsync" for c, _ in calls), got
    paths = [t for _, t in calls]
    assert paths[0].startswith(spool + "/.tmp."), got
    assert paths[1].startswith(queue + "/tmp/a2."), got
    assert paths[2:] == [spool, os.path.join(queue, "new")], got


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
    assert len(calls) == 4 and not [t for _, t in calls if "/var/incoming" in t], calls


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
