"""The member index follows fml's own edits; a bulk add; crashes in an add.

An add (makefml, a subscribe by mail) appends to members and actives
through var/db/FILE.journal and updates var/db/FILE.db key by key with the
file's new exact stamp, so the next post does not rebuild the index (its
inode stays).  A hand edit, even one that keeps the size and puts the
mtime back, is seen by the next post.  `makefml add LIST -` adds many
addresses at once and reports the refused lines by number.  A makefml add
killed at every durable call (crashshim) leaves a home that the next run
repairs: each address at most once per file, never a torn line, the index
agreeing with the file.
"""
import os
import shutil
import subprocess

import pytest

from conftest import MAKEFML, mail
from test_crash import crashshim  # noqa: F401  (the fixture)


def db_ino(ml, name="members"):
    try:
        return os.stat(ml.path("var", "db", name + ".db")).st_ino
    except FileNotFoundError:
        return 0


def accepted(ml, frm):
    """Did a post from FRM become an article?"""
    before = ml.seq()
    p = ml.post(mail(frm=frm, subject="from " + frm))
    assert p.returncode == 0, p.stderr
    return ml.seq() == before + 1


def test_post_after_add_uses_the_updated_index(make_list):
    ml = make_list(members=["alice@example.com"])
    assert accepted(ml, "alice@example.com")
    ino = db_ino(ml)
    assert ino
    ml.makefml("add", "elena", "bob@example.net")
    assert accepted(ml, "bob@example.net")
    assert db_ino(ml) == ino, "the index was rebuilt after makefml add"
    ml.makefml("bye", "elena", "alice@example.com")
    assert not accepted(ml, "alice@example.com")
    assert accepted(ml, "bob@example.net")
    ml.makefml("add", "elena", "alice@example.com")  # replaces its ##BYE line
    assert accepted(ml, "alice@example.com")
    assert ml.text("members").count("alice@example.com") == 1
    assert not ml.exists("var", "db", "members.journal")


def test_hand_edit_same_size_same_mtime_is_seen(make_list):
    ml = make_list(members=["alice@example.com", "bob@example.net"])
    assert accepted(ml, "alice@example.com")
    path = ml.path("members")
    st = os.stat(path)
    text = ml.text("members")
    assert "alice@example.com" in text
    with open(path, "r+") as f:  # in place, same size, at once
        f.write(text.replace("alice@example.com", "alica@example.com"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(path).st_size == st.st_size
    assert not accepted(ml, "alice@example.com")
    assert accepted(ml, "alica@example.com")


BULK = """# imported from the old list
alice@example.com
bob@example.net s=skip

carol@example.org m=3mp
not an address
dave@example.com m=zz
alice@example.com
Erin@Example.COM\t s=skip
"""


def test_bulk_add(make_list):
    ml = make_list(members=["zed@example.com"])
    p = ml.makefml("add", "elena", "-", check=False, input=BULK.encode())
    assert p.returncode == 65, p.stderr
    err = p.stderr.decode()
    assert "line 6: not: bad address" in err
    assert "line 7: dave@example.com: bad option m=zz" in err
    assert "line 8: alice@example.com: listed twice in the input" in err
    assert "4 added" in p.stdout.decode()
    assert ml.text("members") == ("zed@example.com\nalice@example.com\nbob@example.net\n"
                                  "carol@example.org\nErin@Example.COM\n")
    assert ml.text("actives") == ("zed@example.com\nalice@example.com\n"
                                  "bob@example.net s=skip\ncarol@example.org m=3mp\n"
                                  "Erin@Example.COM s=skip\n")
    assert "add - (4 added)" in ml.text("log")
    ino = db_ino(ml)
    assert accepted(ml, "Erin@example.com")  # the domain is not case-sensitive
    assert accepted(ml, "carol@example.org")
    assert not accepted(ml, "dave@example.com")
    assert db_ino(ml) == ino
    # the same input again: nothing new, every line refused
    p = ml.makefml("add", "elena", "-", check=False, input=BULK.encode())
    assert p.returncode == 65
    assert "line 2: alice@example.com: already a member" in p.stderr.decode()
    assert "0 added" in p.stdout.decode()
    # all good: exit 0
    p = ml.makefml("add", "elena", "-", input=b"new1@example.com\nnew2@example.com\n")
    assert p.returncode == 0
    assert accepted(ml, "new2@example.com")


def test_bulk_bye(make_list):
    ml = make_list(members=["a@example.com", "b@example.net", "c@example.org", "d@example.com"])
    ml.makefml("off", "elena", "d@example.com")
    ino = db_ino(ml)
    p = ml.makefml("bye", "elena", "-", check=False, input=(
        "# leaving\nb@Example.NET\n\nc@example.org a comment after the address\n"
        "nobody@example.com\nnot an address\nb@example.net\nd@example.com\n").encode())
    assert p.returncode == 65, p.stderr
    err = p.stderr.decode()
    assert "line 5: nobody@example.com: not a member" in err
    assert "line 6: not: bad address" in err
    assert "line 7: b@example.net: the same address again" in err
    assert "3 removed from members and actives" in p.stdout.decode()
    assert ml.text("members") == ("a@example.com\n##BYE b@example.net\n##BYE c@example.org\n"
                                  "##BYE d@example.com\n")
    assert ml.text("actives").splitlines()[1:] == [
        "##BYE b@example.net", "##BYE c@example.org", "##BYE d@example.com"]
    assert "bye - (3 removed)" in ml.text("log")
    # the index followed in the same step: not rebuilt, and right
    assert accepted(ml, "a@example.com") and not accepted(ml, "c@example.org")
    assert db_ino(ml) == ino
    # they may come back
    ml.makefml("add", "elena", "b@example.net")
    assert accepted(ml, "b@example.net")


def test_bulk_add_respects_the_limit(make_list):
    ml = make_list(members=["a@example.com"], MAX_MEMBER_LIMIT="3")
    p = ml.makefml("add", "elena", "-", check=False,
                   input=b"b@example.com\nc@example.com\nd@example.com\n")
    assert p.returncode == 65
    assert "line 3: d@example.com: the list is full" in p.stderr.decode()
    assert ml.text("members") == "a@example.com\nb@example.com\nc@example.com\n"


def copy_home(src, dst):
    """A copy that keeps the owners (fml refuses a root-owned home)."""
    subprocess.run(["cp", "-a", src, dst], check=True)
    return dst


def check_files(ml_dir, addrs):
    """Each file: whole lines, each address at most once."""
    problems = []
    for f in ("members", "actives"):
        p = os.path.join(ml_dir, "elena", f)
        data = open(p, "rb").read() if os.path.exists(p) else b""
        if data and not data.endswith(b"\n"):
            problems.append("%s: torn last line" % f)
        lines = data.decode().splitlines()
        for a in addrs:
            if sum(1 for x in lines if x.split()[:1] == [a]) > 1:
                problems.append("%s: %s twice" % (f, a))
    return problems


def test_add_killed_at_every_durable_call(make_list, ml_dir, crashshim):  # noqa: F811
    ml = make_list(members=["alice@example.com"])
    assert accepted(ml, "alice@example.com")  # the index exists
    new = "newbie@example.net"
    work = ml_dir + ".crash"
    os.mkdir(work, 0o755)

    def run(d, *args, env=None):
        return subprocess.run([MAKEFML, "-D", d, *args], capture_output=True,
                              env=dict(os.environ, **(env or {})))

    try:
        cnt = os.path.join(work, "count")
        w = copy_home(ml_dir, os.path.join(work, "w0"))
        p = run(w, "add", "elena", new, env={"LD_PRELOAD": crashshim, "FML_CRASH_COUNT": cnt})
        assert p.returncode == 0, p.stderr
        total = int(open(cnt).read())
        assert total > 5
        for k in range(1, total + 1):
            for after in (0, 1):
                w = copy_home(ml_dir, os.path.join(work, "k%d%s" % (k, "ab"[after])))
                p = run(w, "add", "elena", new, env={"LD_PRELOAD": crashshim,
                                                     "FML_CRASH_AT": str(k),
                                                     "FML_CRASH_AFTER": str(after)})
                assert p.returncode != 0 or (k == total and after), (k, after)
                # a post first: its lookup finishes an interrupted append of
                # either file before distribute reads actives
                wl = type(ml)(w, "elena")
                assert accepted(wl, "alice@example.com"), (k, after)
                home = os.path.join(w, "elena")
                for f in ("members", "actives"):
                    assert not os.path.exists(os.path.join(home, "var", "db", f + ".journal"))
                problems = check_files(w, [new, "alice@example.com"])
                assert not problems, (k, after, problems)
                # what the admin does: the same add again (done or refused)
                p = run(w, "add", "elena", new)
                assert p.returncode in (0, 65), (k, after, p.stderr)
                assert accepted(wl, new), (k, after)
                assert accepted(wl, "alice@example.com"), (k, after)
                for f in ("members", "actives"):
                    assert new in wl.text(f), (k, after, f)
                shutil.rmtree(w)
    finally:
        shutil.rmtree(work, ignore_errors=True)
