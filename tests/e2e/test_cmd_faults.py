"""Command mail retried after a partial failure (issue 10, item 3).

A command mail whose processing fails with a temporary error stays in
var/incoming and is run again by the next drain.  Here the failure is an
I/O error injected with strace (-e inject=SYSCALL:error=EIO:when=N, for
every N that the run reaches) into "confirm" (subscription confirmation)
and "approve" (releasing a held post).  After the disturbed run the test
behaves like the MTA (the same mail again while the exit status is not 0)
and then like the next mail (a drain), and checks what every person
received: one report each with the true text, the welcome once, the
maintainer's notice once, no second "post held" notice, the member files
and the spool.
"""
import os
import subprocess
import time

import pytest

from conftest import FML, MAINTAINER, MailList, mail
from test_crash import strace_ok

ALICE = "alice@example.com"
BOB = "bob@example.net"
CAROL = "carol@example.org"
MOD = "mod@example.com"
CTL = "elena-ctl@example.org"
REPORT = "fml Command Status report (elena ML)"


pytestmark = pytest.mark.skipif(not strace_ok(), reason="strace missing or ptrace not permitted")


def run_fml(d, data, prefix=(), ctl=False):
    argv = [*prefix, FML, d] + (["--ctladdr"] if ctl else [])
    return subprocess.run(argv, input=data, capture_output=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=120)


def copy_home(src, parent):
    os.makedirs(parent, mode=0o755)
    dst = os.path.join(parent, os.path.basename(src))
    subprocess.run(["cp", "-a", src, dst], check=True)
    return dst


def text(item):
    return item.body.decode("utf-8", errors="replace")


def run_fml_env(d, data, env, ctl=False):
    argv = [FML, d] + (["--ctladdr"] if ctl else [])
    e = {"PATH": "/usr/bin:/bin"}
    e.update({k: str(v) for k, v in env.items()})
    return subprocess.run(argv, input=data, capture_output=True, env=e, timeout=120)


def disturbed(template, work, tag, data, syscall, n, path=None):
    """Copy TEMPLATE, run fml on DATA (command mail) with the N-th SYSCALL
    (of PATH, if given) failing with EIO, then the MTA's retries and one
    drain.  Returns (the copy as a MailList, whether the injection happened,
    the exit statuses)."""
    d = copy_home(template.dir, os.path.join(work, tag))
    trace = os.path.join(work, tag + ".trace")
    prefix = ["strace", "-f", "-qq", "-o", trace, "-e", "trace=" + syscall,
              "-e", "inject=%s:error=EIO:when=%d" % (syscall, n)]
    if path:
        prefix += ["-P", os.path.join(d, path)]
    p = run_fml(d, data, prefix=prefix, ctl=True)
    with open(trace) as f:
        injected = "INJECTED" in f.read()
    return afterwards(template, d, data, p), injected


def afterwards(template, d, data, p):
    """After the disturbed run P of DATA in the copy D: the MTA's retries
    and one drain (and the record sweeper, aged).  Returns (the copy as a
    MailList, the exit statuses)."""
    rcs = [p.returncode]
    # the MTA: anything but 0 means "not taken, try again later"
    while p.returncode != 0 and len(rcs) < 4:
        p = run_fml(d, data, ctl=True)
        rcs.append(p.returncode)
    # the next mail to the list drains what was left
    rcs.append(run_fml(d, b"").returncode)
    ml = MailList(os.path.dirname(d), template.name)
    if ml.area("var", "db", "cmd"):
        # a record whose removal failed (its item is finished) is swept once
        # older than an hour, when the sweeper runs (every 10 minutes)
        old = time.time() - 7200
        for n in ml.listdir("var", "db", "cmd"):
            os.utime(ml.path("var", "db", "cmd", n), (old, old))
        os.utime(ml.path("var", "run", "swept"), (old, old))
        rcs.append(run_fml(d, b"").returncode)
    return ml, rcs


def new_replies(ml, before):
    return [r for r in ml.replies() if r.name not in before]


def common_problems(ml, rcs):
    problems = []
    if rcs[-1] != 0 or rcs[-2] != 0:
        problems.append("exit statuses %r" % rcs)
    if ml.incoming():
        problems.append("left in var/incoming: %r" % ml.incoming())
    if ml.area("var", "queue", "tmp"):
        problems.append("left in var/queue/tmp: %r" % ml.area("var", "queue", "tmp"))
    for item in ml.all_items():
        item.verify()
    return problems


def sweep(template, work, run, syscall, path=None, limit=80):
    """RUN(ml, rcs) -> [problems] for every N the run reaches."""
    found, n = {}, 0
    for n in range(1, limit):
        (ml, rcs), injected = disturbed(template, work, "%s-%d" % (syscall, n), run.data,
                                        syscall, n, path)
        problems = run(ml, rcs)
        if problems:
            found["%s #%d" % (syscall, n)] = problems
        if not injected:
            break
    assert n > 1, "no %s was injected at all" % syscall
    assert not injected, "more than %d calls of %s: raise the limit" % (limit, syscall)
    return found


def report_of(found):
    return "\n".join("%s: %s" % (k, "; ".join(v)) for k, v in found.items())


def member_lines(ml, name):
    return [l.split()[0] for l in ml.text(name).splitlines() if l and not l.startswith("#")]


# ---------------------------------------------------------------- confirm


@pytest.fixture
def confirm_case(make_list):
    """A list where carol asked to subscribe; the mail confirming it."""
    ml = make_list("elena", members=[ALICE, BOB])
    p = ml.post(mail(frm=CAROL, to=CTL, subject="sub", body="subscribe Carol\n"), "--ctladdr")
    assert p.returncode == 0 and ml.incoming() == []
    (req,) = [r for r in ml.replies() if r.field("Subject").startswith("Confirm subscribe")]
    cid = text(req).split("confirm ", 1)[1].split()[0]
    # member files dated back: a "racy" index would be rebuilt at every lookup
    day_ago = time.time() - 86400
    for f in ("members", "actives"):
        os.utime(ml.path(f), (day_ago, day_ago))
    data = mail(frm=CAROL, to=CTL, subject="Re: Confirm subscribe",
                body="> confirm %s\n> You asked to join\n" % cid)
    return ml, data


def confirm_check(template):
    before = {r.name for r in template.replies()}

    def check(ml, rcs):
        problems = common_problems(ml, rcs)
        reps = new_replies(ml, before)
        reports = [r for r in reps if r.field("Subject") == REPORT]
        welcome = [r for r in reps if r.field("Subject").startswith("Welcome to")]
        notice = [r for r in reps if r.field("Subject").startswith("New member: " + CAROL)]
        if len(reports) != 1 or reports[0].rcpts != [CAROL]:
            problems.append("reports: %r" % [(r.rcpts, text(r)[:200]) for r in reports])
        else:
            body = text(reports[0])
            if "carol@example.org is now a member (added to members and actives)." not in body \
                    or "Refused" in body:
                problems.append("report says %r" % body[:300])
        if len(welcome) != 1 or welcome[0].rcpts != [CAROL]:
            problems.append("welcome mails: %d" % len(welcome))
        if len(notice) != 1 or notice[0].rcpts != [MAINTAINER]:
            problems.append("maintainer notices: %d" % len(notice))
        if len(reps) != len(reports) + len(welcome) + len(notice):
            problems.append("other mail: %r" % [r.field("Subject") for r in reps])
        for f in ("members", "actives"):
            if member_lines(ml, f).count(CAROL) != 1:
                problems.append("%s: %r" % (f, member_lines(ml, f)))
        if ml.area("var", "db", "cmd"):
            problems.append("records left: %r" % ml.area("var", "db", "cmd"))
        return problems
    return check


def undisturbed(case, make_check, ml_dir):
    """The problems CHECK finds after a run without a fault (none, or the
    check itself is wrong)."""
    ml, data = case
    d = copy_home(ml.dir, os.path.join(ml_dir, "runs", "plain"))
    copy = MailList(os.path.dirname(d), ml.name)
    rcs = [run_fml(d, data, ctl=True).returncode, run_fml(d, b"").returncode]
    return make_check(ml)(copy, rcs)


def test_confirm_undisturbed(confirm_case, ml_dir):
    """The check itself holds for a run without a fault."""
    assert undisturbed(confirm_case, confirm_check, ml_dir) == []


def test_confirm_fsync_eio_then_retry(confirm_case, ml_dir):
    ml, data = confirm_case
    check = confirm_check(ml)
    check.data = data
    found = sweep(ml, os.path.join(ml_dir, "runs"), check, "fsync")
    if found:
        pytest.fail(report_of(found))


# ---------------------------------------------------------------- approve


@pytest.fixture
def approve_case(make_list):
    """A moderated list with alice's post held; the moderator's approval."""
    ml = make_list("elena", members=[ALICE, BOB], PERMIT_POST_FROM="moderator")
    ml.write("moderators", MOD + "\n")
    p = ml.post(mail(frm=ALICE, subject="please approve"))
    assert p.returncode == 0
    (hid,) = ml.listdir("var", "hold")
    day_ago = time.time() - 86400
    for f in ("members", "actives", "moderators"):
        os.utime(ml.path(f), (day_ago, day_ago))
    data = mail(frm=MOD, to=CTL, subject="approve", body="approve %s\n" % hid)
    return ml, data


def approve_check(template):
    before = {r.name for r in template.replies()}

    def check(ml, rcs):
        problems = common_problems(ml, rcs)
        reps = new_replies(ml, before)
        reports = [r for r in reps if r.field("Subject") == REPORT]
        if len(reports) != 1 or reports[0].rcpts != [MOD]:
            problems.append("reports: %r" % [(r.rcpts, text(r)[:300]) for r in reports])
        else:
            body = text(reports[0])
            if "Approved: the post is distributed." not in body or "Error" in body:
                problems.append("report says %r" % body[:300])
        if len(reps) != len(reports):
            problems.append("other mail: %r" % [(r.field("Subject"), r.rcpts) for r in reps])
        if ml.articles() != [1] or b"Subject: please approve" not in ml.spool(1):
            problems.append("articles %r" % ml.articles())
        if ml.listdir("var", "hold"):
            problems.append("still held: %r" % ml.listdir("var", "hold"))
        if [i.name for i in ml.all_items() if i.name.startswith("a")] != ["a1"]:
            problems.append("article items %r" % [i.name for i in ml.all_items()])
        if ml.area("var", "db", "cmd"):
            problems.append("records left: %r" % ml.area("var", "db", "cmd"))
        return problems
    return check


def test_approve_undisturbed(approve_case, ml_dir):
    assert undisturbed(approve_case, approve_check, ml_dir) == []


@pytest.mark.parametrize("syscall,path", [
    ("openat", "var/db/approved"),
    ("unlink", None),
    ("rename", None),
    ("fsync", None),
])
def test_approve_eio_then_retry(approve_case, ml_dir, syscall, path):
    ml, data = approve_case
    check = approve_check(ml)
    check.data = data
    found = sweep(ml, os.path.join(ml_dir, "runs"), check, syscall, path)
    if found:
        pytest.fail(report_of(found))
