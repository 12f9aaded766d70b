"""Crash tests for fmlqueue: the runner killed (-9) at every step of a delivery.

The LD_PRELOAD shim of test_crash.py (crashshim.c) counts the calls that
change durable state and kills the runner at the k-th one, before or right
after it.  For every k of a baseline run: copy a list home whose article
waits in new/, start a fresh smtp-sink, run `fmlqueue run` with the shim
killing it at k, then `fmlqueue run` again without the shim, and check:

  * every member has the article at least once, byte-identical to spool/1;
  * a member has it twice only if it was in the transaction in flight when
    the runner died (at most one transaction per connection is repeated);
  * the item is in sent/ (nothing lost), active/ new/ deferred/ tmp/ are
    empty (nothing stuck), no worker journal part is left.

Scenarios: one connection (the delivery runs in the runner itself, so the
shim sees the journal appends of each transaction), and two connections
(forked workers: the shim counts the runner's own steps; its workers die
with it).  A third scenario kills a runner whose relay answers 4xx: the
item must end in deferred/ with its attempt recorded, never in active/.
"""
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, chown_tree, mail
from test_crash import crashshim  # noqa: F401  (the session fixture that builds the shim)
from test_queue import FMLQUEUE, SINK, Sink

MEMBERS = ["m%d@d%d.example" % (i, i % 3) for i in range(7)]
pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="no smtp-sink")


def run_queue(dirpath, relay, env=None, extra=()):
    e = {"PATH": "/usr/bin:/bin"}
    if env:
        e.update(env)
    return subprocess.run([FMLQUEUE, "run", dirpath, "--SMTP_SERVERS=" + relay, *extra],
                          capture_output=True, env=e, timeout=120)


@pytest.fixture
def template(make_list):
    ml = make_list(members=MEMBERS, DELIVERY_MODE="queue", SMTP_RECIPIENT_LIMIT=2)
    p = ml.post(mail(frm=MEMBERS[0], body="crash me\n"))
    assert p.returncode == 0
    assert ml.listdir("var", "queue", "new") == ["a1"]
    return ml


def copy_home(template, k, after):
    dst = template.dir + ".k%d%s" % (k, "a" if after else "b")
    shutil.copytree(template.dir, dst, symlinks=True)
    chown_tree(dst)
    return dst


def areas(d):
    q = os.path.join(d, "var", "queue")
    return {a: sorted(os.listdir(os.path.join(q, a)))
            for a in ("tmp", "new", "active", "deferred", "sent", "drop", "corrupt")}


def baseline_count(template, shim, ml_dir, extra):
    d = copy_home(template, 0, False)
    sink = Sink(ml_dir).start()
    try:
        cnt = os.path.join(ml_dir, "count")
        p = run_queue(d, sink.uri(), {"LD_PRELOAD": shim, "FML_CRASH_COUNT": cnt}, extra)
        assert p.returncode == 0, p.stderr
        assert areas(d)["sent"] == ["a1"]
        with open(cnt) as f:
            return int(f.read().strip())
    finally:
        sink.stop()
        shutil.rmtree(d)


def check_delivery(template, d, sink, conns):
    spool = template.spool(1)
    msgs = sink.messages()
    got = {}
    for _, rcpts, body in msgs:
        assert body == spool
        for r in rcpts:
            got[r] = got.get(r, 0) + 1
    assert sorted(got) == sorted(MEMBERS), "missing %r" % (set(MEMBERS) - set(got))
    dups = {r for r, n in got.items() if n > 1}
    assert all(n <= 2 for n in got.values()), got
    if dups:
        # only the transaction in flight on each connection is sent again:
        # the duplicates fit in CONNS transactions of SMTP_RECIPIENT_LIMIT (2)
        assert len(dups) <= 2 * conns, dups
        assert any(set(r) >= dups for _, r, _ in msgs) or conns > 1, dups
    a = areas(d)
    assert a["sent"] == ["a1"], a
    for area in ("tmp", "new", "active", "deferred", "drop", "corrupt"):
        assert a[area] == [], (area, a)
    parts = [n for n in os.listdir(os.path.join(d, "var", "queue", "journal")) if ".w" in n]
    assert parts == []


@pytest.mark.parametrize("conns", [1, 2])
def test_kill_at_every_step(template, crashshim, ml_dir, conns):  # noqa: F811
    extra = ["--SMTP_CONNECTIONS=%d" % conns]
    total = baseline_count(template, crashshim, ml_dir, extra)
    assert total > 5
    for after in (False, True):
        for k in range(1, total + 1):
            d = copy_home(template, k, after)
            sink = Sink(ml_dir).start()
            try:
                env = {"LD_PRELOAD": crashshim, "FML_CRASH_AT": str(k)}
                if after:
                    env["FML_CRASH_AFTER"] = "1"
                killed = run_queue(d, sink.uri(), env, extra)
                assert killed.returncode in (-9, 0), killed.stderr
                p = run_queue(d, sink.uri(), None, extra)
                assert p.returncode == 0, p.stderr
                check_delivery(template, d, sink, conns)
            except AssertionError as e:
                raise AssertionError("k=%d after=%s: %s" % (k, after, e)) from e
            finally:
                sink.stop()
                shutil.rmtree(d)


def test_kill_while_deferring(template, crashshim, ml_dir):  # noqa: F811
    """4xx from the relay: a runner killed at any step leaves the item in
    new/ or deferred/ (never active/), and a later run with a working relay
    delivers every member."""
    bad = Sink(ml_dir, args=["-r", "RCPT"]).start()
    try:
        d = copy_home(template, 0, False)
        cnt = os.path.join(ml_dir, "count")
        p = run_queue(d, bad.uri(), {"LD_PRELOAD": crashshim, "FML_CRASH_COUNT": cnt})
        assert p.returncode == 0 and areas(d)["deferred"] == ["a1"]
        shutil.rmtree(d)
        total = int(open(cnt).read().strip())
        for k in range(1, total + 1):
            d = copy_home(template, k, False)
            run_queue(d, bad.uri(), {"LD_PRELOAD": crashshim, "FML_CRASH_AT": str(k)})
            run_queue(d, bad.uri())
            a = areas(d)
            assert a["active"] == [] and a["tmp"] == [], (k, a)
            assert a["new"] + a["deferred"] == ["a1"], (k, a)
            good = Sink(ml_dir).start()
            try:
                p = subprocess.run([FMLQUEUE, "flush", d, "--SMTP_SERVERS=" + good.uri()],
                                   capture_output=True, timeout=120)
                assert p.returncode == 0
                got = good.by_rcpt()
                assert sorted(got) == sorted(MEMBERS), k
                assert areas(d)["sent"] == ["a1"]
            finally:
                good.stop()
                shutil.rmtree(d)
    finally:
        bad.stop()


def test_kill_while_dropping_never_loses_the_report(template, crashshim, ml_dir):  # noqa: F811
    """5xx for everyone: a runner killed at any step, then a normal run,
    leaves the article in drop/ and at least one report to the maintainer
    naming it (the item stays in active/ until its report is queued)."""
    from conftest import QueueItem
    bad = Sink(ml_dir, args=["-f", "RCPT"]).start()
    try:
        d = copy_home(template, 0, False)
        cnt = os.path.join(ml_dir, "count")
        p = run_queue(d, bad.uri(), {"LD_PRELOAD": crashshim, "FML_CRASH_COUNT": cnt})
        assert p.returncode == 0 and areas(d)["drop"][0] == "a1"
        shutil.rmtree(d)
        total = int(open(cnt).read().strip())
        for after in (False, True):
            for k in range(1, total + 1):
                d = copy_home(template, k, after)
                env = {"LD_PRELOAD": crashshim, "FML_CRASH_AT": str(k)}
                if after:
                    env["FML_CRASH_AFTER"] = "1"
                run_queue(d, bad.uri(), env)
                p = run_queue(d, bad.uri())
                assert p.returncode == 0
                a = areas(d)
                for area in ("tmp", "new", "active", "deferred", "sent", "corrupt"):
                    assert a[area] == [], (k, after, a)
                assert "a1" in a["drop"], (k, after, a)
                reports = [QueueItem(os.path.join(d, "var", "queue", "drop", n))
                           for n in a["drop"] if n != "a1"]
                assert reports and all(r.sender == "" for r in reports), (k, after, a)
                assert all(b"Item a1 (article 1)" in r.body for r in reports), (k, after)
                shutil.rmtree(d)
    finally:
        bad.stop()
