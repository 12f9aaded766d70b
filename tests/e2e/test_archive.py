"""Archive units, expiry and the mbox export (USE_ARCHIVE, USE_EXPIRE,
makefml archive).

What is checked is what an admin and a member see: the files in
var/archive (exact bytes of every article inside), what is left in the
spool, the summary, get/mget answers from the archive, the mbox file, and
that a writer killed in the middle of a unit leaves no partial unit.
"""
import email
import email.policy
import mailbox
import os
import re
import subprocess
import tarfile
import time

import pytest

from conftest import CTL, FML, mail, split_message
from test_crash import crashshim  # noqa: F401  (the session fixture that builds the shim)

ALICE = "alice@example.com"


def post_many(ml, first, last):
    """Post articles FIRST..LAST (numbers in the subject and body)."""
    for i in range(first, last + 1):
        body = "Body of article %d.\nFrom here, a line mboxrd quotes\n>From too\n" % i
        p = ml.post(mail(frm=ALICE, subject="article %d" % i, body=body))
        assert p.returncode == 0, p.stderr.decode(errors="replace")


def snapshot(ml):
    return {n: ml.spool(n) for n in ml.articles()}


def unit_members(path):
    """{name: (bytes, mode, mtime)} of a unit file."""
    with tarfile.open(path, "r:gz") as t:
        return {m.name: (t.extractfile(m).read(), m.mode, m.mtime) for m in t.getmembers()}


def check_unit(ml, e, unit, snap, mtimes):
    got = unit_members(ml.path("var", "archive", "%d.tar.gz" % e))
    want = ["spool/%d" % n for n in range(e - unit + 1, e + 1)]
    assert sorted(got, key=lambda s: int(s[6:])) == want
    for n in range(e - unit + 1, e + 1):
        data, mode, mtime = got["spool/%d" % n]
        assert data == snap[n], "unit %d: article %d differs" % (e, n)
        assert mode == 0o644
        assert mtime == mtimes[n]


def command(ml, body):
    """A command mail from ALICE; returns the queue items it made."""
    before = {i.name for i in ml.all_items()}
    p = ml.post(mail(frm=ALICE, to=CTL, subject="commands", body=body), ctl=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return [i for i in ml.all_items() if i.name not in before]


def results(items):
    return [i for i in items if i.field("Subject").startswith("result for")]


def digest_parts(item):
    """The raw bytes of each part of a multipart/digest result."""
    msg = email.message_from_bytes(item.message, policy=email.policy.default)
    b = msg.get_boundary().encode()
    body = split_message(item.message)[1]
    chunks = re.split(rb"\n--" + re.escape(b) + rb"(?:--)?\n", body)
    return chunks[1:-1]


def mbox_articles(data):
    """The messages of an mboxrd file, unquoted, as Python's mailbox reads it."""
    path = "/tmp/fml-archive-test-%d.mbox" % os.getpid()
    with open(path, "wb") as f:
        f.write(data)
    try:
        box = mailbox.mbox(path, create=False)
        out = [box.get_bytes(k) for k in box.keys()]
        box.close()
    finally:
        os.unlink(path)
    return [re.sub(rb"(?m)^>(>*From )", rb"\1", m) for m in out]


def export(ml, *rng):
    p = ml.makefml("archive", ml.name, *rng)
    return p.stdout


@pytest.fixture
def elena(make_list):
    return make_list("elena", members=[ALICE], USE_ARCHIVE=1, MGET_LIMIT=1000,
                     REPLY_LIMIT=1000)


def test_units_expiry_get_mget_and_export(elena):
    ml = elena
    snap, mtimes = {}, {}
    for lo, hi in ((1, 90), (91, 180), (181, 250)):
        post_many(ml, lo, hi)
        for n in range(lo, hi + 1):
            snap[n] = ml.spool(n)
            mtimes[n] = int(os.stat(ml.path("spool", str(n))).st_mtime)
    # every complete unit, nothing else: no 300, no temp file
    assert ml.listdir("var", "archive") == ["100.tar.gz", "200.tar.gz"]
    check_unit(ml, 100, 100, snap, mtimes)
    check_unit(ml, 200, 100, snap, mtimes)
    assert ml.articles() == list(range(1, 251))  # USE_EXPIRE is off

    ml.makefml("config", "elena", "USE_EXPIRE", "1")
    ml.makefml("config", "elena", "EXPIRE_LIMIT", "100")
    command(ml, "index\n")  # any run expires
    assert ml.articles() == list(range(151, 251))
    assert len(ml.text("summary").splitlines()) == 250
    assert "expired 150 articles" in ml.log()

    # get 5: from the archive, byte for byte
    (res,) = results(command(ml, "get 5\n"))
    assert digest_parts(res)[-1] == b"\n" + snap[5]

    # mget 1-250 mp: archive and spool alike, in order
    (res,) = results(command(ml, "mget 1-250 mp\n"))
    parts = digest_parts(res)[1:]  # the table of contents first
    assert len(parts) == 250
    for n, part in enumerate(parts, 1):
        assert part == b"\n" + snap[n], "mget: article %d differs" % n

    # the whole history as one mboxrd file
    arts = mbox_articles(export(ml))
    assert len(arts) == 250
    for n, raw in enumerate(arts, 1):
        assert raw == snap[n], "mbox: article %d differs" % n
    assert mbox_articles(export(ml, "5-7")) == [snap[5], snap[6], snap[7]]
    assert mbox_articles(export(ml, "last:2")) == [snap[249], snap[250]]
    p = ml.makefml("archive", "elena", "300-400", check=False)
    assert p.returncode == 65 and p.stdout == b""

    # a lost seq never makes a number that is in a unit again
    os.unlink(ml.path("seq"))
    post_many(ml, 251, 251)
    assert ml.articles()[-1] == 251 and not ml.exists("spool", "1")
    assert ml.listdir("var", "archive") == ["100.tar.gz", "200.tar.gz"]


def test_expire_by_age_only_archived(make_list):
    ml = make_list("elena", members=[ALICE], USE_ARCHIVE=1, ARCHIVE_UNIT=5,
                   USE_EXPIRE=1, EXPIRE_LIMIT="2days")
    post_many(ml, 1, 12)
    assert ml.listdir("var", "archive") == ["10.tar.gz", "5.tar.gz"]
    assert ml.articles() == list(range(1, 13))  # all young
    old = time.time() - 3 * 86400
    for n in (1, 2, 3, 4, 5, 6, 7, 11):
        os.utime(ml.path("spool", str(n)), (old, old))
    command(ml, "index\n")
    # 1-7 are old and archived; 8 is young (the walk stops); 11 is old but
    # in no unit yet
    assert ml.articles() == [8, 9, 10, 11, 12]
    assert len(ml.text("summary").splitlines()) == 12
    (res,) = results(command(ml, "get 3\n"))
    assert b"Body of article 3." in digest_parts(res)[-1]


def test_expire_without_archive_removes_nothing(make_list):
    ml = make_list("elena", members=[ALICE], USE_EXPIRE=1, EXPIRE_LIMIT="1")
    post_many(ml, 1, 3)
    assert ml.articles() == [1, 2, 3]
    assert not ml.exists("var", "archive", "5.tar.gz")
    assert ml.log().count("USE_EXPIRE without USE_ARCHIVE") == 3  # once per run
    p = ml.makefml("check", "elena", check=False)
    assert b"USE_EXPIRE is on but USE_ARCHIVE is off" in p.stdout


def test_bad_expire_limit(make_list):
    ml = make_list("elena", members=[ALICE], USE_ARCHIVE=1, ARCHIVE_UNIT=2,
                   USE_EXPIRE=1, EXPIRE_LIMIT="soon")
    post_many(ml, 1, 5)
    assert ml.articles() == [1, 2, 3, 4, 5]
    assert ml.listdir("var", "archive") == ["2.tar.gz", "4.tar.gz"]
    assert 'EXPIRE_LIMIT "soon"' in ml.log()


@pytest.mark.parametrize("call", ["write", "fsync", "rename"])
def test_killed_while_writing_a_unit(make_list, crashshim, call):  # noqa: F811
    ml = make_list("elena", members=[ALICE], USE_ARCHIVE=1, ARCHIVE_UNIT=5)
    post_many(ml, 1, 4)
    env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": crashshim,
           "FML_CRASH_ON": "%s:/var/archive/.tmp.5." % call}
    p = subprocess.run([FML, ml.dir], input=mail(frm=ALICE, subject="article 5"),
                       capture_output=True, env=env, timeout=60)
    assert p.returncode == -9, (p.returncode, p.stderr)
    assert ml.articles() == [1, 2, 3, 4, 5]
    left = ml.listdir("var", "archive")
    assert "5.tar.gz" not in left
    assert len([n for n in left if n.startswith(".tmp.5.")]) == 1
    snap = snapshot(ml)
    post_many(ml, 6, 6)  # the next run finishes the unit
    assert ml.listdir("var", "archive") == ["5.tar.gz"]
    got = unit_members(ml.path("var", "archive", "5.tar.gz"))
    assert {k: v[0] for k, v in got.items()} == {"spool/%d" % n: snap[n] for n in range(1, 6)}
