"""Many fml processes on one list at once (issue 2; reliability.md T6).

50 processes are started in a tight loop with subprocess.Popen, then every
stdin is written and closed, as 50 concurrent deliveries of an MTA would be:
all exit 0, and the list ends with articles 1..50 (no gap, no duplicate),
each input's token in exactly one article, seq 50, one valid queue item per
article and var/incoming empty.  Once with flock (USE_FLOCK=1) and once with
the link lock (USE_FLOCK=0).  Then the same input delivered by 10 processes
at once: exactly one article (the duplicate cache under concurrency).
"""
import hashlib
import os
import re
import subprocess
import time
import uuid

import pytest

from conftest import FML, mail

MEMBERS = ["alice@example.com", "bob@example.net", "carol@example.org"]
TOKEN_RE = re.compile(r"conc-token-[0-9a-f]{16}")
HANG = 120  # seconds for the whole burst: more is a hang, not slowness


def tok():
    return "conc-token-" + uuid.uuid4().hex[:16]


def burst(ml, inputs, env=None):
    """Start one fml per input at once; returns (exit codes, stderr texts, seconds)."""
    e = {"PATH": "/usr/bin:/bin"}
    e.update(env or {})
    errs = [os.path.join(os.path.dirname(ml.dir), "stderr.%d" % i) for i in range(len(inputs))]
    t0 = time.monotonic()
    procs = []
    for path in errs:
        with open(path, "wb") as err:
            procs.append(subprocess.Popen([FML, ml.dir], stdin=subprocess.PIPE,
                                          stdout=subprocess.DEVNULL, stderr=err, env=e))
    for p, data in zip(procs, inputs):
        p.stdin.write(data)
        p.stdin.close()
    rcs = [p.wait(timeout=HANG) for p in procs]
    took = time.monotonic() - t0
    texts = []
    for path in errs:
        with open(path, "rb") as f:
            texts.append(f.read().decode(errors="replace"))
        os.unlink(path)
    return rcs, texts, took


def trailer_ok(raw):
    """The queue item's trailer (doc/fml-queue.5): length and SHA-256 of
    everything before it, with each recipient's state byte read as '-'."""
    m = re.fullmatch(rb"\nFMLQ-END (\d{20}) ([0-9a-f]{64})\n", raw[-96:])
    body = raw[:-96]
    if not m or int(m.group(1)) != len(body) or b"\n\n" not in body:
        return False
    env_end = body.index(b"\n\n") + 1
    canon = b"\n".join(l[:5] + b"-" + l[6:] if l.startswith(b"rcpt ") else l
                       for l in body[:env_end].split(b"\n")) + body[env_end:]
    return hashlib.sha256(canon).hexdigest() == m.group(2).decode()


def check_articles(ml, tokens):
    """Articles 1..N hold each token exactly once; one valid aN each."""
    n = len(tokens)
    assert ml.articles() == list(range(1, n + 1))
    seen = {}
    for a in ml.articles():
        found = set(TOKEN_RE.findall(ml.text("spool", str(a))))
        assert len(found) == 1, (a, found)
        t = found.pop()
        assert t not in seen, "token %s in articles %d and %d" % (t, seen[t], a)
        seen[t] = a
    assert sorted(seen) == sorted(tokens)
    assert ml.seq() == n
    items = {q.name: q for q in ml.queue_items() if q.name.startswith("a")}
    assert sorted(items) == sorted("a%d" % a for a in range(1, n + 1))
    for name, q in items.items():
        assert trailer_ok(q.raw), name
        assert sorted(q.rcpts) == sorted(MEMBERS), (name, q.rcpts)
        assert q.message == ml.read("spool", name[1:]), name
    # X-Mail-Count agrees with the file name
    for a in ml.articles():
        head = ml.text("spool", str(a)).split("\n\n", 1)[0]
        m = re.search(r"^X-Mail-Count: *0*(\d+)", head, re.M | re.I)
        assert m and int(m.group(1)) == a, (a, head)
    return seen


def no_leftovers(ml):
    assert ml.listdir("var", "incoming") == []
    assert [n for n in ml.listdir("spool") if not n.isdigit()] == []
    assert ml.listdir("var", "queue", "tmp") == []
    assert [n for n in ml.listdir("var", "run")
            if n not in ("lock", "current", "swept", "boot")
            and not n.startswith("notified.")] == [], ml.listdir("var", "run")
    assert [n for n in ml.listdir() if n.startswith(".")] == []


@pytest.mark.parametrize("use_flock", [1, 0], ids=["flock", "link"])
def test_fifty_posts_at_once(make_list, use_flock):
    ml = make_list(members=MEMBERS, USE_FLOCK=use_flock)
    tokens = [tok() for _ in range(50)]
    inputs = [mail(frm=MEMBERS[i % 3], subject="post %d" % i, body="Post %d.\n%s\n" % (i, t))
              for i, t in enumerate(tokens)]
    rcs, errs, took = burst(ml, inputs)
    assert rcs == [0] * 50, [(rc, e[-300:]) for rc, e in zip(rcs, errs) if rc][:5]
    assert took < HANG
    check_articles(ml, tokens)
    no_leftovers(ml)
    log = ml.log()
    assert "timed out" not in log and "error:" not in log, log[-2000:]
    assert len(re.findall(r"\barticle \d+ from ", log)) == 50


@pytest.mark.parametrize("use_flock", [1, 0], ids=["flock", "link"])
def test_same_input_ten_times_at_once(make_list, use_flock):
    """An MTA delivering one mail ten times concurrently: one article."""
    ml = make_list(members=MEMBERS, USE_FLOCK=use_flock)
    t = tok()
    data = mail(subject="once", body="Exactly once.\n%s\n" % t)
    rcs, errs, took = burst(ml, [data] * 10)
    assert rcs == [0] * 10, errs
    assert took < HANG
    check_articles(ml, [t])
    dups = [n for n in ml.listdir("var", "log") if n.startswith("duplicate.")]
    assert len(dups) == 9, ml.listdir("var", "log")
    for n in dups:
        assert ml.read("var", "log", n).count(t.encode()) == 1
    no_leftovers(ml)


def test_fifty_then_fifty_more(make_list):
    """Two bursts on a list that already has articles: numbering continues."""
    ml = make_list(members=MEMBERS)
    first = [tok() for _ in range(50)]
    rcs, errs, _ = burst(ml, [mail(body="%s\n" % t) for t in first])
    assert rcs == [0] * 50, errs
    second = [tok() for _ in range(50)]
    rcs, errs, _ = burst(ml, [mail(frm="bob@example.net", body="%s\n" % t) for t in second])
    assert rcs == [0] * 50, errs
    seen = check_articles(ml, first + second)
    assert max(seen[t] for t in first) < min(seen[t] for t in second)
    no_leftovers(ml)


def test_one_run_commits_a_batch_with_duplicates_in_it(make_list):
    """Posts that waited for the lock are made articles by one run in one
    group commit (actions/distribute.h): a second copy of a post in the same
    batch (the same bytes, or the same Message-ID) is caught before the
    batch is durable, and every article is in summary, seq and the queue."""
    import fcntl
    from conftest import owner_ids
    ml = make_list(members=MEMBERS)
    tokens = [tok() for _ in range(6)]
    posts = [mail(subject="batch %d" % i, body="Batch %d.\n%s\n" % (i, t),
                  msgid="<batch-%d-%s@example.com>" % (i, t))
             for i, t in enumerate(tokens)]
    resend = mail(subject="batch 2 again", body="Other bytes.\n%s\n" % tok(),
                  msgid="<batch-2-%s@example.com>" % tokens[2])
    fd = os.open(ml.path("var", "run", "lock"), os.O_RDWR | os.O_CREAT, 0o600)
    os.fchown(fd, *owner_ids())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        for data in posts[:5] + [posts[1], resend]:
            p = ml.post(data, "--LOCK_TIMEOUT=0")
            assert p.returncode == 0, p.stderr
    finally:
        os.close(fd)
    assert len([n for n in ml.listdir("var", "incoming") if n[0].isdigit()]) == 7
    p = ml.post(posts[5])  # drains the seven, then makes its own
    assert p.returncode == 0, p.stderr
    seen = check_articles(ml, tokens)
    assert [seen[t] for t in tokens] == list(range(1, 7))
    dups = sorted(n for n in ml.listdir("var", "log") if n.startswith("duplicate."))
    assert len(dups) == 2, ml.listdir("var", "log")
    summary = ml.read("summary").decode()
    assert [int(n) for n in re.findall(r"\[(\d+):", summary)] == list(range(1, 7)), summary
    log = ml.log()
    assert len(re.findall(r"\barticle \d+ from ", log)) == 6, log
    no_leftovers(ml)
