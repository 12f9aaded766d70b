"""What an admin types and what cron runs (issue 16): fmlqueue takes a list
by name as makefml does and says when a name matches no list; the programs
cron and timers run print their errors even when stderr is no terminal."""
import os
import subprocess

from conftest import ROOT, mail

FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
FMLDIGEST = os.path.join(ROOT, "fml", "fmldigest")


def run(*argv):
    # stdin, stdout and stderr are pipes: no terminal, as under cron
    return subprocess.run(list(argv), capture_output=True, stdin=subprocess.DEVNULL,
                          timeout=120)


def test_fmlqueue_list_takes_the_list_by_name(make_list, ml_dir):
    ml = make_list(members=["bob@example.org"])
    assert ml.post(mail(frm="bob@example.org")).returncode == 0
    p = run(FMLQUEUE, "list", "-D", ml_dir, "elena")
    assert p.returncode == 0, p.stderr
    assert b"a1 " in p.stdout, p.stdout
    # a sender filter still works after the list name
    p = run(FMLQUEUE, "list", "-D", ml_dir, "elena", "nobody@else.example")
    assert p.returncode == 0 and b"a1 " not in p.stdout


def test_fmlqueue_says_when_a_name_is_no_list(make_list, ml_dir):
    make_list()
    p = run(FMLQUEUE, "run", "-D", ml_dir, "elean")
    assert p.returncode != 0
    assert b"no list elean under" in p.stderr


def test_cron_sees_the_error_of_a_root_owned_home(make_list, ml_dir):
    ml = make_list()
    for dp, dns, fns in os.walk(ml.dir):
        for n in [dp] + [os.path.join(dp, f) for f in fns]:
            os.lchown(n, 0, 0)
    for prog in (FMLQUEUE, FMLDIGEST):
        argv = [prog, "run", "-D", ml_dir, "elena"] if prog == FMLQUEUE else \
            [prog, "-D", ml_dir, "elena"]
        p = run(*argv)
        assert p.returncode != 0, (prog, p)
        assert b"error:" in p.stderr, (prog, p.stderr)


def test_export_member_and_forget(make_list):
    alice, bob = "alice@example.com", "bob@example.net"
    ml = make_list(members=[alice, bob])
    ml.makefml("digest", "elena", alice, "3")
    assert ml.post(mail(frm=alice, subject="mine")).returncode == 0
    assert ml.post(mail(frm=bob, subject="his")).returncode == 0
    # banned later: her next post is kept in var/log, unanswered
    with open(ml.path("ban"), "a") as f:
        f.write("Alice@Example.COM\n")
    assert ml.post(mail(frm=alice, subject="again")).returncode == 0
    kept = [f for f in os.listdir(ml.path("var", "log")) if f.startswith("banned.")]
    assert kept
    out = ml.makefml("export-member", "elena", alice).stdout.decode()
    for want in ("== members\n" + alice, "== actives\n%s m=3" % alice, "== summary",
                 "[1:%s]" % alice, "== ban\nAlice@Example.COM", "== var/log (mails)",
                 "== log"):
        assert want in out, (want, out)
    assert bob not in out
    p = ml.makefml("forget", "elena", alice)
    assert "forgotten" in p.stdout.decode()
    for f in ("members", "actives", "summary", "log"):
        assert alice not in ml.text(f).lower(), f
    assert "[1:(forgotten)]" in ml.text("summary")
    assert bob in ml.text("members") and "[2:%s]" % bob in ml.text("summary")
    assert not [f for f in os.listdir(ml.path("var", "log")) if f.startswith("banned.")]
    assert "Alice@Example.COM" in ml.text("ban")  # a ban protects the list: kept
    # she is no member now, and the index knows it
    p = ml.post(mail(frm=alice, subject="after"))
    assert p.returncode == 0 and ml.seq() == 2
    out = ml.makefml("export-member", "elena", alice).stdout.decode()
    assert "== members" not in out and "== ban" in out
    # nothing left to forget but the ban: refused, nothing changed
    assert ml.makefml("forget", "elena", "nobody@example.org", check=False).returncode == 65


def test_export_import_csv(make_list):
    import csv
    import io
    import time as _t
    src = make_list(members=["normal@example.com"])
    src.makefml("add", "elena", "skip@example.com", "s=skip")
    src.makefml("add", "elena", "digest@example.com", "m=3mp")
    src.makefml("off", "elena", "normal@example.com", "14d")
    src.makefml("add", "elena", "named@example.com")
    src.write("members", src.text("members").replace(
        "named@example.com", 'named@example.com # Smith, "Jo"'))
    with open(src.path("members"), "a") as f:
        f.write("poster@example.com\n")
    with open(src.path("actives"), "a") as f:
        f.write("reader@example.com\n")
    until = _t.strftime("%Y-%m-%d", _t.localtime(_t.time() + 14 * 86400))
    out = src.makefml("export", "elena").stdout.decode()
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["address", "name", "mode", "digest", "bounce", "date"]
    by = {r[0]: r for r in rows[1:]}
    assert by["normal@example.com"][2:] == ["off", "", "", until]
    assert by["skip@example.com"][2] == "skip"
    assert by["digest@example.com"][2:4] == ["normal", "3mp"]
    assert by["named@example.com"][1] == 'Smith, "Jo"'
    assert by["poster@example.com"][2] == "post-only"
    assert by["reader@example.com"][2] == "receive-only"
    # into an empty list: the same members come out again
    dst = make_list(name="copy", members=[])
    bad = out + 'bad address,,normal,,,\r\nok@example.com,,sideways,,,\r\n'
    p = dst.makefml("import", "copy", check=False, input=bad.encode())
    assert p.returncode == 65, p.stderr
    err = p.stderr.decode()
    assert "line 8: bad address" in err and "line 9: ok@example.com: bad mode" in err
    assert "6 added" in p.stdout.decode()
    again = dst.makefml("export", "copy").stdout.decode()
    assert sorted(again.splitlines()) == sorted(out.splitlines())
    assert dst.text("var/db/vacation") == until + "\n"
    # the same file again: nothing new
    p = dst.makefml("import", "copy", check=False, input=out.encode())
    assert p.returncode == 65 and "0 added" in p.stdout.decode()
