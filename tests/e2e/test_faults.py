"""Error injection (issue 10): system calls that fail instead of crashing.

strace -e inject=SYSCALL:error=ERRNO makes one call fail the way a sick
disk would (EIO, ENOSPC, EDQUOT, EACCES), fml runs on, and the MTA (or
`fmlqueue recover`) runs it again.  What must hold is what a crash
guarantees (tests/e2e/test_crash.py): every post is one article, once,
with one summary line, one queue item and seq at its number.

Also the recovery of an article whose summary line is missing when an
earlier subject looks like a number field, and the sweep of a spool
temp file whose incoming item is gone.
"""
import os
import re
import subprocess
import time

import pytest

from test_queue import sinks  # noqa: F401  (the fixture)
from conftest import FML, ROOT, assert_done, mail, owner_ids
from test_crash import strace_ok

FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
ALICE = "alice@example.com"
BOB = "bob@example.net"
MOD = "mod@example.com"
CTL = "elena-ctl@example.org"
SUMMARY_RE = re.compile(r"^\S+ \S+ \[(\d+):")


pytestmark = pytest.mark.skipif(not strace_ok(),
                                reason="strace missing or ptrace not permitted")


def commit_dir(ml):
    """The directory whose fsync commits an article: the queue's new/ (the
    queue item aN stands for spool/N, lib/queue/qspool.h)."""
    return ml.path("var", "queue", "new")


def inject(ml, syscall, err, when=None, path=None):
    """strace's argv that fails SYSCALL with ERR on PATH, by default the
    directory that commits an article (-P: only the calls naming that path
    or an fd open on it)."""
    spec = "inject=%s:error=%s" % (syscall, err)
    if when:
        spec += ":when=%s" % when
    return ["strace", "-f", "-qq", "-o", "/dev/null", "-P", path or commit_dir(ml),
            "-e", "trace=" + syscall, "-e", spec]


def run(argv, data=None):
    return subprocess.run(argv, input=data, capture_output=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)


def recover(ml, prefix=()):
    return run([*prefix, FMLQUEUE, "recover", ml.dir])


def summary_numbers(ml):
    text = ml.text("summary") if ml.exists("summary") else ""
    return [int(m.group(1)) for m in map(SUMMARY_RE.match, text.splitlines()) if m]


def article_items(ml):
    return sorted(i.name for i in ml.queue_items() if re.fullmatch(r"a\d+", i.name))


def assert_one_article(ml, subject):
    """Exactly article 1, finished: no second copy of the post."""
    assert ml.articles() == [1], (ml.listdir("spool"), ml.log())
    assert b"Subject: " in ml.spool(1) and subject.encode() in ml.spool(1)
    assert summary_numbers(ml) == [1], ml.text("summary")
    assert article_items(ml) == ["a1"]
    assert ml.seq() == 1
    assert ml.incoming() == []
    assert [n for n in ml.listdir("spool") if not n.isdigit()] == []


@pytest.fixture
def elena(make_list):
    return make_list("elena", members=[ALICE, BOB])


# ------------------------------------------------- 1. linked, not made durable

FAULTS = [("fsync", "EIO"), ("fsync", "ENOSPC"), ("fsync", "EDQUOT"),
          ("openat", "EACCES"), ("openat", "EIO")]


@pytest.mark.parametrize("syscall,err", FAULTS)
def test_commit_dir_fault_then_recover(elena, syscall, err):
    """The fsync of new/ (or its open for the fsync) fails right after
    spool/1 was linked and a1 written: spool/1 exists, so it is article 1 and the
    next runs finish it, even while the fault goes on (the MTA's retries,
    `fmlqueue recover` under the same fault), never a second article."""
    ml = elena
    prefix = inject(ml, syscall, err)
    p = run([*prefix, FML, ml.dir], mail(subject="one post"))
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1]
    (item,) = ml.incoming()
    tmp = ml.path("spool", ".tmp." + item)
    assert os.stat(tmp).st_nlink == 2, "the recovery data must stay"
    for _ in range(3):
        recover(ml, prefix)
    assert recover(ml).returncode == 0
    assert_one_article(ml, "one post")
    assert "(recovered)" in ml.log()


def test_commit_dir_fault_then_the_mta_delivers_again(elena):
    """Same, driven as an MTA would: fml exits 0 (the mail is accepted),
    later mail drains the item; the article is still made once."""
    ml = elena
    prefix = inject(ml, "fsync", "EIO")
    assert run([*prefix, FML, ml.dir], mail(subject="one post")).returncode == 0
    assert run([*prefix, FML, ml.dir], b"").returncode == 0
    assert run([*prefix, FML, ml.dir], b"").returncode == 0
    assert run([FML, ml.dir], b"").returncode == 0
    assert_one_article(ml, "one post")


@pytest.mark.parametrize("syscall,err", [("fsync", "EIO"), ("openat", "EACCES")])
def test_approved_post_commit_dir_fault(make_list, syscall, err):
    """A held post released by a moderator goes through the same
    distribution: the fault while it is distributed leaves article 1 to
    recover, never a second one."""
    ml = make_list("elena", members=[ALICE, BOB], PERMIT_POST_FROM="moderator")
    ml.write("moderators", MOD + "\n")
    assert_done(ml, ml.post(mail(frm=ALICE, subject="please approve")))
    (hid,) = ml.listdir("var", "hold")
    assert ml.articles() == []
    # the first commit in new/ is the reply to the moderator, the second
    # the released post's article
    prefix = inject(ml, syscall, err, when="2+")
    cmd = mail(frm=MOD, to=CTL, subject="commands", body="approve %s\n" % hid)
    p = run([*prefix, FML, ml.dir, "--ctladdr"], cmd)
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1]
    assert ml.incoming() == [hid]
    for _ in range(3):
        recover(ml, prefix)
    assert recover(ml).returncode == 0
    assert_one_article(ml, "please approve")
    assert ml.listdir("var", "hold") == []


@pytest.mark.parametrize("where", [("spool",), ("spool", "1")])
def test_a_spool_fault_does_not_touch_a_post_but_stops_the_runner(make_list, sinks, where):
    """Neither spool/N nor spool/ is synced when a post is committed (its
    queue item stands for spool/N, lib/queue/qspool.h), so a post goes
    through a fault there; the queue runner syncs both before it retires
    anything and, when it cannot, delivers nothing and leaves every item
    where it was."""
    sink = sinks().start()
    ml = make_list("elena", members=[ALICE, BOB], SMTP_SERVERS=sink.uri(),
                   DELIVERY_MODE="queue")
    prefix = inject(ml, "fsync", "EIO", path=ml.path(*where))
    assert_done(ml, run([*prefix, FML, ml.dir], mail(subject="one post")))
    assert ml.articles() == [1] and article_items(ml) == ["a1"]
    p = run([*prefix, FMLQUEUE, "run", ml.dir])
    assert p.returncode == 75, p.stderr
    assert ml.area("var", "queue", "new") == ["a1"] and sink.messages() == []
    assert run([FMLQUEUE, "run", ml.dir]).returncode == 0
    assert ml.area("var", "queue", "sent") == ["a1"] and len(sink.messages()) == 1


# ------------------------------------------------- 2. summary line in recovery

def test_recovery_writes_the_summary_line_despite_a_lookalike_subject(elena):
    """Article 2's subject holds " [3:": recovering article 3 after a crash
    between the link and its summary line must still write the line."""
    ml = elena
    assert_done(ml, ml.post(mail(subject="first")))
    assert_done(ml, ml.post(mail(subject="re: [3:x] hello")))
    assert " [3:" in ml.text("summary")
    kill = ["strace", "-f", "-qq", "-o", "/dev/null", "-P", commit_dir(ml),
            "-e", "trace=fsync", "-e", "inject=fsync:signal=KILL"]
    p = run([*kill, FML, ml.dir], mail(subject="third"))
    assert p.returncode != 0
    assert ml.articles() == [1, 2, 3] and summary_numbers(ml) == [1, 2]
    assert recover(ml).returncode == 0
    assert summary_numbers(ml) == [1, 2, 3], ml.text("summary")
    assert ml.articles() == [1, 2, 3] and ml.seq() == 3
    assert article_items(ml) == ["a1", "a2", "a3"]


# ------------------------------------------------- 3. the sweep of spool/.tmp.ID

def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


def test_sweep_removes_an_old_spool_temp_without_its_item(elena):
    """spool/.tmp.ID whose unlink failed after its item went: removed once
    older than an hour; a younger one stays until then."""
    ml = elena
    assert_done(ml, ml.post(mail(subject="first")))
    old = ml.path("spool", ".tmp.1796000000.000000.123.deadbeef")
    young = ml.path("spool", ".tmp.1796000001.000000.124.deadbeef")
    os.link(ml.path("spool", "1"), old)  # as left by a failed unlink
    with open(young, "wb") as f:
        f.write(b"x")
    os.chown(young, *owner_ids())
    age(old, 7200)
    age(young, 600)
    age(ml.path("var", "run", "swept"), 7200)
    assert_done(ml, ml.post(mail(subject="second")))
    assert not os.path.exists(old)
    assert os.path.exists(young)
    assert ml.articles() == [1, 2] and ml.spool(1)
    assert summary_numbers(ml) == [1, 2]


def test_sweep_keeps_an_old_spool_temp_whose_item_waits(elena):
    """An hour-old spool/.tmp.ID whose incoming item still waits is the
    recovery data of an article: the sweep keeps it and the run finishes
    that article (no second copy)."""
    ml = elena
    kill = ["strace", "-f", "-qq", "-o", "/dev/null", "-P", commit_dir(ml),
            "-e", "trace=fsync", "-e", "inject=fsync:signal=KILL"]
    assert run([*kill, FML, ml.dir], mail(subject="one post")).returncode != 0
    (item,) = ml.incoming()
    tmp = ml.path("spool", ".tmp." + item)
    assert os.stat(tmp).st_nlink == 2
    age(tmp, 7200)
    age(ml.path("var", "run", "swept"), 7200)
    assert recover(ml).returncode == 0
    assert_one_article(ml, "one post")
