"""makefml migrate (issue 16): fml 4 list homes become fml lists in place.

Two fml 4 homes: one as fml 4's makefml newml leaves it (its config.ph
from the cf defaults) and one an admin edited (tests/data/fml4/*.ph).  The
config.cf each becomes is compared with tests/data/fml4/*.cf (golden:
reviewed by hand; MIGRATE_UPDATE=1 writes them again); then a post goes
through each migrated list, numbered after fml 4's last article, and a
second migrate is refused.
"""
import os
import shutil
import subprocess

import pytest

from conftest import DATA, FML, MAKEFML, chown_tree, header_fields, mail

FML4 = os.path.join(DATA, "fml4")


def fml4_home(ml_dir, ph):
    """An fml 4 list home: config.ph, members, actives, seq 2, two articles,
    summary, log, the old include."""
    d = os.path.join(ml_dir, "elena")
    os.makedirs(os.path.join(d, "spool"))
    shutil.copy(os.path.join(FML4, ph), os.path.join(d, "config.ph"))
    for f, text in (("members", "alice@example.com\nbob@example.net\n"),
                    ("actives", "alice@example.com\nbob@example.net\n"),
                    ("seq", "2\n"),
                    ("summary", "06/11/21 10:00:00 [1:alice@example.com] first\n"
                                "06/11/21 10:05:00 [2:bob@example.net] second\n"),
                    ("log", "06/11/21 10:00:00 ARTICLE 1 (alice@example.com)\n"),
                    ("include", '"|/usr/local/fml/fml.pl /var/spool/ml/elena"\n'),
                    ("spool/1", "From: alice@example.com\nSubject: first\n\none\n"),
                    ("spool/2", "From: bob@example.net\nSubject: second\n\ntwo\n")):
        with open(os.path.join(d, f), "w") as fh:
            fh.write(text)
    chown_tree(ml_dir)
    return d


def migrate(ml_dir):
    return subprocess.run([MAKEFML, "-D", ml_dir, "migrate", "elena"], capture_output=True)


@pytest.mark.parametrize("ph", ["defaults", "edited"])
def test_migrate_then_post(ml_dir, ph):
    d = fml4_home(ml_dir, ph + ".ph")
    p = migrate(ml_dir)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "migrated from fml 4 in place" in out and "elena: :include:%s/include" % d in out
    # the edited one is in EUC-JP, as fml 4's Japanese files are
    assert ("read config.ph as EUC-JP" in out) == (ph == "edited")
    got = open(os.path.join(d, "config.cf")).read()
    ref = os.path.join(FML4, ph + ".cf")
    if os.environ.get("MIGRATE_UPDATE") == "1":
        with open(ref, "w") as f:
            f.write(got)
    assert got == open(ref).read()
    # what fml 4 had stays; what fml needs is there
    assert open(os.path.join(d, "include.fml4")).read().startswith('"|/usr/local/fml/fml.pl')
    assert "--ctladdr" in open(os.path.join(d, "include-ctl")).read()
    for f in ("etc/secret", "var/incoming", "var/queue/new", "help", "config.ph"):
        assert os.path.exists(os.path.join(d, f)), f
    assert open(os.path.join(d, "members")).read() == "alice@example.com\nbob@example.net\n"
    check = subprocess.run([MAKEFML, "-D", ml_dir, "check", "elena"], capture_output=True)
    assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
    # a post goes on from fml 4's numbers
    p = subprocess.run([FML, d], input=mail(frm="alice@example.com", subject="after"),
                       capture_output=True, env={"PATH": "/usr/bin:/bin",
                                                 "SENDER": "alice@example.com"})
    assert p.returncode == 0, p.stderr
    art = open(os.path.join(d, "spool", "3"), "rb").read()
    fields = dict((k.lower(), v) for k, _, v in header_fields(art))
    if ph == "edited":
        assert fields["subject"].startswith("[Elena:00003] after")
        assert fields["reply-to"] == "elena@lists.example.jp"
        assert fields["precedence"] == "list"
        # anyone may post now, as under fml 4
        p = subprocess.run([FML, d], input=mail(frm="stranger@example.org", subject="hi"),
                           capture_output=True, env={"PATH": "/usr/bin:/bin"})
        assert p.returncode == 0 and os.path.exists(os.path.join(d, "spool", "4"))
    else:
        assert fields["subject"] == "after"
    assert open(os.path.join(d, "seq")).read().strip() in ("3", "4")
    # once only
    p = migrate(ml_dir)
    assert p.returncode == 65 and b"migrated once" in p.stderr
    assert open(os.path.join(d, "config.cf")).read() == got


def test_not_an_fml4_home(ml_dir):
    os.makedirs(os.path.join(ml_dir, "elena"))
    chown_tree(ml_dir)
    p = migrate(ml_dir)
    assert p.returncode != 0 and b"no fml 4 config.ph" in p.stderr
