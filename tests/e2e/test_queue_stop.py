"""fmlqueue stopped (SIGTERM, SIGINT, SIGHUP) and killed (-9) during a delivery.

A stop is not a death: the runner finishes the transactions in flight,
journals them, puts the item back where it came from and exits 75; the
next run neither logs "runner N is gone" nor counts it.  Runner deaths
never strand recipients: the item goes on being delivered (the journal
says who is done) and the maintainer is told once.  An item really given
up (corrupt/, drop/) is reported exactly once, however many runs follow.
`fmlqueue flush` first recovers what dead runners left in active/, as run
does.

The sink is Postfix's smtp-sink (test_queue.Sink) with -w 1: a second
before each DATA answer, so a run can be interrupted mid-delivery.  The
big test posts to a list of 10,000 members and interrupts the runner 12
times with SIGTERM and 12 times with kill -9 (about a minute; make check
runs it); FML_E2E_QUICK=1 makes it a slice, 2,000 members and 4 + 4
signals, for a quick look:

    FML_E2E_QUICK=1 /usr/bin/python3 -m pytest -q -p no:cacheprovider \\
        tests/e2e/test_queue_stop.py
"""
import glob
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import mail
from test_queue import FMLQUEUE, SINK, fmlqueue, journal, post_article, qlist
from test_queue import sinks  # noqa: F401  (the fixture)

pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="no smtp-sink")

MAINTAINER = "elena-admin@example.org"
FULL = os.environ.get("FML_E2E_QUICK") != "1"
DEAD = 4194303  # above any pid_max default: never alive


def start_run(ml, *extra):
    return subprocess.Popen([FMLQUEUE, "run", ml.dir, *extra], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin"})


def journal_done(ml, name="a1"):
    """Addresses with a D line in NAME's journal or its worker parts."""
    done = set()
    base = ml.path("var", "queue", "journal", name)
    for path in [base] + glob.glob(base + ".w*"):
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        for line in data.split(b"\n")[:-1]:  # a torn last line is not a result
            if line.startswith(b"D "):
                done.add(line[2:].decode())
    return done


def sink_rcpts(sink):
    """{rcpt: transactions} over every dump file, complete or not (an
    aborted transaction counts too: a check that waits for these to be
    journaled waits longer, never shorter)."""
    got = {}
    for name in os.listdir(sink.dir):
        with open(os.path.join(sink.dir, name), "rb") as f:
            for line in f:
                if line.startswith(b"X-Rcpt-Args: "):
                    r = line.split(b" ")[1].decode().strip().strip("<>")
                    got[r] = got.get(r, 0) + 1
                elif line.startswith(b"Received: "):
                    break
    return got


def wait_for(cond, what, timeout=120):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.01)


def reports_to_maintainer(sink):
    return [body for sender, rcpts, body in sink.messages()
            if sender == "" and rcpts == [MAINTAINER]]


# ------------------------------------------------------------ stop, not death

@pytest.mark.parametrize("conns", [1, 2])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP],
                         ids=["TERM", "INT", "HUP"])
def test_stop_puts_item_back(make_list, sinks, sig, conns):
    sink = sinks(args=["-w", "1"]).start()
    members = ["s%02d@d%d.example" % (i, i % 3) for i in range(12)]
    ml = post_article(make_list, sink.uri(), members=members, SMTP_RECIPIENT_LIMIT=2,
                      SMTP_CONNECTIONS=conns)
    pr = start_run(ml)
    wait_for(lambda: journal_done(ml), "a first delivered transaction")
    pr.send_signal(sig)
    _, err = pr.communicate(timeout=60)
    assert pr.returncode == 75, err
    # the item is back in new/ (it came from there), not held in active/
    assert qlist(ml, "active") == [] and qlist(ml, "new") == ["a1"]
    assert not [n for n in os.listdir(ml.path("var", "queue", "journal")) if ".w" in n]
    j = journal(ml, "a1")
    assert not re.search(r"^[RA] ", j, re.M), j  # neither a death nor an attempt
    # what the relay accepted is journaled: nobody is sent to twice
    got = sink_rcpts(sink)
    assert set(got) <= journal_done(ml) and set(got) < set(members), (got, j)
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "is gone" not in ml.log(), ml.log()
    assert qlist(ml, "sent") == ["a1"]
    got = sink.by_rcpt()
    assert sorted(got) == sorted(members)
    assert all(v == [ml.spool(1)] for v in got.values())
    assert not re.search(r"^R ", journal(ml, "a1"), re.M)


def test_stop_with_nothing_to_do_exits_0(make_list, sinks):
    """A stop that leaves no work behind is a success."""
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    fmlqueue("run", ml.dir)
    pr = subprocess.Popen([FMLQUEUE, "run", "--loop", "30", ml.dir],
                          stderr=subprocess.PIPE)
    time.sleep(1)  # in its sleep between passes
    pr.send_signal(signal.SIGTERM)
    _, err = pr.communicate(timeout=30)
    assert pr.returncode == 0, err
    assert qlist(ml, "sent") == ["a1"]


# ------------------------------------------------------------ flush recovers

def test_flush_recovers_dead_runners_items(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    q = ml.path("var", "queue")
    os.rename(os.path.join(q, "new", "a1"), os.path.join(q, "active", "a1.%d" % DEAD))
    fmlqueue("flush", ml.dir)
    assert qlist(ml, "active") == [] and qlist(ml, "sent") == ["a1"]
    got = sink.by_rcpt()
    assert len(got) == 5 and all(v == [ml.spool(1)] for v in got.values())


# ------------------------------------------------------------ the big one

def test_stops_and_kills_during_a_big_delivery(make_list, sinks):
    """N members, one post; while `fmlqueue run` delivers it, SIGTERM and
    kill -9 by turns (a new run after each), then a last run: every member
    got the article, none more than twice (only a transaction in flight at
    a kill -9 is sent again), nothing in corrupt/, and no report to the
    maintainer that a1 was given up (one notice of the deaths, once there
    were ten of them)."""
    n, signals, limit = (10000, 12, 100) if FULL else (2000, 4, 50)
    sink = sinks(args=["-w", "1"]).start()
    members = ["m%05d@d%d.example" % (i, i % 7) for i in range(n)]
    ml = make_list(members=members[:1], actives=members, SMTP_SERVERS=sink.uri(),
                   DELIVERY_MODE="queue", SMTP_RECIPIENT_LIMIT=limit, SMTP_CONNECTIONS=2)
    p = ml.post(mail(frm=members[0], body="to ten thousand\n"))
    assert p.returncode == 0, p.stderr
    assert qlist(ml, "new") == ["a1"]
    seen = set()  # what the sink had got when the runner was last interrupted
    kills = 0
    for i in range(2 * signals):
        pr = start_run(ml)
        # progress since the last interruption, and the transactions a kill
        # cut short sent again and journaled: no recipient is in flight twice
        wait_for(lambda: (lambda d: d >= seen and len(d) > len(seen))(journal_done(ml)),
                 "progress of run %d" % i)
        assert pr.poll() is None, "run %d ended before its signal" % i
        if i % 2 == 0:
            pr.send_signal(signal.SIGTERM)
            _, err = pr.communicate(timeout=120)
            assert pr.returncode == 75, (i, err)
            assert qlist(ml, "active") == [], i
            assert set(sink_rcpts(sink)) <= journal_done(ml), i
        else:
            pr.kill()
            pr.communicate(timeout=120)
            kills += 1
            time.sleep(0.2)  # the sink finishes writing what it got
        assert pr.returncode in (75, -9), (i, pr.returncode)
        seen = set(sink_rcpts(sink))
        assert len(seen) < n, "run %d delivered everything" % i
        assert qlist(ml, "corrupt") == [], i
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=600)
    assert p.returncode == 0, p.stderr
    # deaths counted (the kill -9s only), stops not
    assert journal(ml, "a1").count("\nR ") + journal(ml, "a1").startswith("R ") == kills
    assert [a for a in qlist(ml, "sent") if not a.startswith("r.")] == ["a1"]
    for area in ("new", "active", "deferred", "drop", "corrupt", "tmp"):
        assert qlist(ml, area) == [], area
    got = {}
    spool = ml.spool(1)
    for sender, rcpts, body in sink.messages():
        if rcpts == [MAINTAINER]:
            continue
        assert body == spool
        for r in rcpts:
            got[r] = got.get(r, 0) + 1
    assert len(got) == n and set(got) == set(members), set(members) - set(got)
    assert max(got.values()) <= 2, [r for r, c in got.items() if c > 2][:10]
    dups = sum(1 for c in got.values() if c == 2)
    assert dups <= kills * 2 * limit, dups
    reports = reports_to_maintainer(sink)
    assert not any(b"Item a1 (article 1), given up" in r or b"a1 was damaged" in r
                   for r in reports), reports
    notices = [r for r in reports if b"Item a1 (article 1): its runner died" in r]
    assert len(notices) == (1 if kills >= 10 else 0), reports
    if notices:
        assert b"still being delivered" in notices[0]


# ------------------------------------------------------------ given up: one report

def test_corrupt_item_reported_once(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    path = ml.path("var", "queue", "new", "a1")
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(data.index(b"Hello, list."))
        f.write(b"J")
    for cmd in ("run", "run", "flush", "recover", "run"):
        fmlqueue(cmd, ml.dir)
    assert qlist(ml, "corrupt") == ["a1"]
    reports = reports_to_maintainer(sink)
    assert len(reports) == 1 and b"a1 was damaged" in reports[0], reports


def test_lifetime_over_reported_once(make_list, sinks):
    bad = sinks(args=["-r", "RCPT"]).start()
    ml = post_article(make_list, bad.uri())
    fmlqueue("run", ml.dir)
    for _ in range(3):
        fmlqueue("run", ml.dir, "--QUEUE_LIFETIME=0")
    fmlqueue("flush", ml.dir, "--QUEUE_LIFETIME=0")
    assert qlist(ml, "drop")[0] == "a1"
    reports = [i for i in ml.all_items() if i.sender == ""]
    assert len(reports) == 1, [r.name for r in reports]
    assert b"Item a1 (article 1), given up for:" in reports[0].body


def test_deaths_reported_once_and_item_still_delivered(make_list, sinks):
    """Twelve dead runners on one item: still delivered, one notice."""
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    q = ml.path("var", "queue")
    for i in range(12):
        os.rename(os.path.join(q, "new", "a1"), os.path.join(q, "active", "a1.%d" % DEAD))
        fmlqueue("recover", ml.dir)
    assert qlist(ml, "new") == ["a1"] and qlist(ml, "corrupt") == []
    fmlqueue("run", ml.dir)
    fmlqueue("run", ml.dir)
    assert qlist(ml, "sent")[0] == "a1"
    got = sink.by_rcpt()
    assert all(len(got[m]) == 1 for m in got if m != MAINTAINER) and len(got) == 6
    reports = reports_to_maintainer(sink)
    assert len(reports) == 1 and b"its runner died 12 times" in reports[0], reports
    assert re.search(r"^K 12$", journal(ml, "a1"), re.M)
