"""The lean alias pipe (issue 11): fml links libc and gdbm only, does plain
posts itself, and hands command mail and due archive units to the full
processor LIBEXEC/fmlproc by exec, in the same process the MTA waits on.

What is checked: the ELF NEEDED entries of fml/fml; that a plain post, a
multipart post, a command mail (to -ctl and "# cmd" in a multipart post) all
end as before with exit 0 and nothing left in var/incoming; that the order
of the mail is kept across the handover; and that a failed exec loses
nothing: the items wait in var/incoming and the next full run takes them,
once each."""
import os
import shutil
import subprocess

import pytest

from conftest import FML, ROOT, assert_done, mail
from test_crash import crashshim  # noqa: F401

ALICE = "alice@example.com"
BOB = "bob@example.net"
REPORT = "fml Command Status report (elena ML)"
FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
HEAVY = ("libgmime", "libglib", "libgio", "libgobject", "libarchive", "libmagic",
         "libcrypt", "libxml2", "libicu")


def needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, check=True).stdout
    return [line.split("[", 1)[1].split("]", 1)[0]
            for line in out.decode().splitlines() if "(NEEDED)" in line]


@pytest.fixture
def elena(make_list):
    return make_list("elena", members=[ALICE, BOB])


def reports(ml):
    return [r for r in ml.replies() if r.field("Subject") == REPORT]


def multipart(body_first, frm=ALICE, subject="multipart"):
    body = ("--XYZ\nContent-Type: text/plain; charset=us-ascii\n\n" + body_first +
            "\n--XYZ\nContent-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n\nAAEC\n--XYZ--\n")
    return mail(frm=frm, subject=subject, body=body,
                extra="MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XYZ")


def test_fml_links_no_heavy_library():
    libs = needed(FML)
    assert not [l for l in libs if l.startswith(HEAVY)], libs
    assert sorted(libs) == ["libc.so.6", "libgdbm.so.6"], libs
    # the full processor has them: the test would pass on a broken readelf
    assert any(l.startswith("libgmime") for l in needed(os.path.join(ROOT, "fml", "fmlproc")))


def test_plain_and_multipart_posts(elena):
    assert_done(elena, elena.post(mail(frm=ALICE, body="plain post\n")))
    assert_done(elena, elena.post(multipart("a multipart post\n", frm=BOB)))
    assert elena.articles() == [1, 2]
    assert b"a multipart post" in elena.spool(2)
    assert "full processor" not in elena.log()


def test_command_mail_is_handed_over(elena):
    assert_done(elena, elena.post(mail(frm=ALICE, subject="c", body="help\n"), ctl=True))
    reps = reports(elena)
    assert len(reps) == 1 and reps[0].rcpts == [ALICE]
    assert "left for the full processor" in elena.log()
    # "# cmd" in the first part of a multipart post is command mail too
    assert_done(elena, elena.post(multipart("# help\n", frm=BOB)))
    assert [r.rcpts for r in reports(elena)] == [[ALICE], [BOB]]
    assert elena.articles() == []


def lean_copy(tmp_path):
    """fml alone in a directory: no fmlproc beside it, none in LIBEXEC."""
    d = tmp_path / "bin"
    d.mkdir()
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(d), 0o755)
    shutil.copy(FML, str(d / "fml"))
    return str(d / "fml")


def test_failed_exec_loses_nothing(elena, tmp_path):
    if os.path.exists("/usr/local/libexec/fml/fmlproc"):
        pytest.skip("an installed fmlproc would be found")
    fml = lean_copy(tmp_path)
    env = {"PATH": "/usr/bin:/bin"}

    def pipe(m, *args):
        return subprocess.run([fml, elena.dir, *args], input=m, capture_output=True, env=env)

    p = pipe(mail(frm=ALICE, subject="c", body="help\n"), "--ctladdr")
    assert p.returncode == 0
    assert len(elena.incoming()) == 1
    assert "cannot run" in elena.log()
    # a post behind it waits too: the order is kept
    p = pipe(mail(frm=BOB, body="after the command\n"))
    assert p.returncode == 0
    assert len(elena.incoming()) == 2 and elena.articles() == []
    # the next full run takes both, each once, in order
    q = subprocess.run([FMLQUEUE, "recover", elena.dir], capture_output=True)
    assert q.returncode == 0, q.stderr
    assert elena.incoming() == []
    assert len(reports(elena)) == 1
    assert elena.articles() == [1]
    assert b"after the command" in elena.spool(1)


def test_debug_run_hands_over_its_item_only(elena):
    # fml -d writes no queue item: the command runs in fmlproc, on the
    # item of this run only (-i), and the item goes
    assert_done(elena, elena.post(mail(frm=BOB, body="first\n")))
    p = elena.post(mail(frm=ALICE, subject="c", body="help\n"), "-d", ctl=True)
    assert p.returncode == 0, p.stderr
    assert b"fml: debug: handing over to" in p.stderr
    assert b"fmlproc: " in p.stderr
    assert elena.incoming() == []
    assert elena.articles() == [1]


def test_poison_guard_counts_the_full_processor(elena, crashshim):
    # fmlproc dies on a command mail three times: fml's handover must not
    # reset the count of starts (var/run/current), so the fourth run moves
    # the item aside and the posts behind it go out
    crash = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": crashshim,
             "FML_CRASH_ON": "write:/var/queue/tmp/"}
    p = elena.post(mail(frm=ALICE, subject="c", body="help\n"), ctl=True, env=crash)
    assert p.returncode == -9, (p.returncode, p.stderr)
    for i in (2, 3):
        p = elena.post(mail(frm=BOB, body="post %d\n" % i), env=crash)
        assert p.returncode == -9, (p.returncode, p.stderr)
    assert len(elena.incoming()) == 3
    p = elena.post(mail(frm=BOB, body="post 4\n"))
    assert p.returncode == 0 and elena.incoming() == []  # queue/tmp: the crashes' temps
    # without the count kept, each fmlproc started at 1 and the fourth run
    # would have run the command instead
    assert [n for n in elena.listdir("var", "log") if n.startswith("poison.")]
    assert elena.log().count("left for the full processor") == 3
    assert elena.articles() == [1, 2, 3]
