"""fmldigest: digests for the members with m=N[mode] in actives (fml's msend).

Each test makes a list whose queue goes to Postfix's smtp-sink on
127.0.0.1, posts articles with fml, runs fmldigest at chosen hours
(--now H) and then fmlqueue, and reads what the sink received: who got
which digest, and every article inside compared with spool/N.
"""
import email
import email.policy
import gzip
import io
import mailbox
import os
import re
import subprocess
import tempfile

import pytest

from conftest import ROOT, CTL, QueueItem, mail
from test_crash import crashshim  # noqa: F401  (the session fixture that builds the shim)
from test_queue import SINK, fmlqueue, sinks  # noqa: F401  (the fixture)

FMLDIGEST = os.path.join(ROOT, "fml", "fmldigest")

pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="no smtp-sink")

RT = "rt@a.example"  # real-time member
D1, D3, D2, D17 = "d1@a.example", "d3@b.example", "d2@c.example", "d17@d.example"
ACTIVES = [RT, D1 + " m=1", D3 + " m=3mp", D2 + " m=2rfc1153", D17 + " m=17"]


def fmldigest(ml, *args, env=None, check=True):
    p = subprocess.run([FMLDIGEST, *args, ml.dir], capture_output=True, timeout=120,
                       env=env or {"PATH": "/usr/bin:/bin"})
    if check:
        assert p.returncode == 0, "fmldigest %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace"))
    return p


def post(ml, n, frm=RT):
    for _ in range(n):
        k = ml.seq() + 1
        p = ml.post(mail(frm=frm, subject="article %d" % k,
                         body="Body of article %d.\n-- \nsig line\n" % k))
        assert p.returncode == 0, p.stderr
    return ml.seq()


def digest_list(make_list, sink, actives=ACTIVES, **config):
    members = [a.split()[0] for a in actives]
    ml = make_list(members=members, actives=actives, SMTP_SERVERS=sink.uri(), **config)
    return ml


def state(ml):
    """var/db/digest as {addr: last} (ML a MailList or a list home)."""
    path = os.path.join(ml if isinstance(ml, str) else ml.dir, "var", "db", "digest")
    out = {}
    if os.path.exists(path):
        for line in open(path).read().splitlines():
            w = line.split()
            if len(w) == 2 and "@" in w[0]:
                out[w[0]] = int(w[1])
    return out


def digests(sink):
    """{rcpt: [(first, last, message bytes)]} of the digests the sink got."""
    got = {}
    for _, rcpts, msg in sink.messages():
        m = email.message_from_bytes(msg, policy=email.policy.compat32)
        s = re.match(r"elena Digest, articles (\d+)-(\d+)", m["Subject"] or "")
        if not s:
            continue
        for r in rcpts:
            got.setdefault(r, []).append((int(s.group(1)), int(s.group(2)), msg))
    return {r: sorted(v) for r, v in got.items()}


def covered(got, rcpt):
    """The article numbers RCPT got in digests, in order, with repeats."""
    return [n for a, b, _ in got.get(rcpt, []) for n in range(a, b + 1)]


# ---------------------------------------------------------------- formats

def mp_articles(msg):
    """The articles of a multipart/digest, raw, checked with the email package."""
    m = email.message_from_bytes(msg, policy=email.policy.compat32)
    assert m.get_content_type() == "multipart/digest"
    parts = m.get_payload()
    assert parts[0].get_content_type() == "text/plain"  # the table of contents
    boundary = m.get_boundary().encode()
    body = msg.partition(b"\n\n")[2]
    chunks = body.split(b"\n--" + boundary)
    assert chunks[-1] == b"--\n"
    raw = []
    for c in chunks[2:-1]:
        assert c.startswith(b"\n\n"), c[:40]  # no part header: message/rfc822
        raw.append(c[2:])
    assert len(raw) == len(parts) - 1
    for p, r in zip(parts[1:], raw):
        assert p.get_content_type() == "message/rfc822"
        inner = p.get_payload(0)
        want = email.message_from_bytes(r, policy=email.policy.compat32)
        assert inner["Subject"] == want["Subject"]
        assert inner.get_payload() == want.get_payload()
    return raw, parts[0].get_payload()


def check_mp(ml, msg, first, last):
    raw, toc = mp_articles(msg)
    assert raw == [ml.spool(n) for n in range(first, last + 1)]
    for n in range(first, last + 1):
        assert re.search(r"(?m)^%d: article %d \(\S+@\S+\)$" % (n, n), toc)
    return raw


def rfc1153_sections(msg):
    m = email.message_from_bytes(msg, policy=email.policy.compat32)
    assert m.get_content_type() == "text/plain"
    text = m.get_payload(decode=True).decode("utf-8")
    head, sep, rest = text.partition("\n" + "-" * 70 + "\n")
    assert sep, "no RFC 1153 separator"
    assert "Today's Topics:" in head
    sections = rest.split("\n" + "-" * 30 + "\n")
    assert sections[-1].lstrip("\n").startswith("End of elena Digest")
    return [re.sub(r"(?m)^- ", "", s) for s in sections[:-1]]


def check_rfc1153(ml, msg, first, last):
    secs = rfc1153_sections(msg)
    assert len(secs) == last - first + 1
    for n, s in zip(range(first, last + 1), secs):
        art = email.message_from_bytes(ml.spool(n), policy=email.policy.compat32)
        assert "Subject: " + art["Subject"] in s
        assert art.get_payload() in s  # the body, dash-stuffing undone


def mbox_messages(data):
    with tempfile.NamedTemporaryFile(suffix=".mbox") as f:
        f.write(data)
        f.flush()
        box = mailbox.mbox(f.name)
        # Python reads the From_ lines; the mboxrd unquoting is ours
        out = [re.sub(rb"(?m)^>(>*From )", rb"\1", box.get_bytes(k)) for k in box.keys()]
        box.close()
    return out


# ---------------------------------------------------------------- schedule

def test_digests_at_their_hours_exactly_the_new_articles(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink)
    fmldigest(ml, "--now", "1")  # first run: everyone starts after article 0
    assert state(ml) == {D1: 0, D3: 0, D2: 0, D17: 0}
    assert ml.listdir("var", "queue", "new") == []
    post(ml, 3)
    fmldigest(ml, "--now", "2")  # m=1 and m=2 are due
    post(ml, 2)
    fmldigest(ml, "--now", "3")  # m=1 and m=3
    fmldigest(ml, "--now", "4")  # m=1 (nothing new), m=2
    post(ml, 1)
    fmldigest(ml, "--now", "17")  # m=1, m=17 (daily at 17:00)
    fmldigest(ml, "--now", "18")  # m=1 (nothing new), m=2, m=3
    assert state(ml) == {D1: 6, D3: 6, D2: 6, D17: 6}
    fmlqueue("run", ml.dir)
    got = digests(sink)
    ranges = {r: [(a, b) for a, b, _ in v] for r, v in got.items()}
    assert ranges == {D1: [(1, 3), (4, 5), (6, 6)], D2: [(1, 3), (4, 5), (6, 6)],
                      D3: [(1, 5), (6, 6)], D17: [(1, 6)]}
    assert RT not in got
    for a, b, msg in got[D1] + got[D3] + got[D17]:
        check_mp(ml, msg, a, b)
    for a, b, msg in got[D2]:
        check_rfc1153(ml, msg, a, b)
    # the real-time member got every article on its own, the others none
    arts = [r for _, rcpts, m in sink.messages() for r in rcpts if b"Digest" not in m[:2000]]
    assert sorted(arts) == [RT] * 6


def test_digest_header(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[D1 + " m=1"])
    fmldigest(ml)
    post(ml, 2, frm=D1)
    fmldigest(ml, "--now", "5")
    items = ml.queue_items()
    assert len(items) == 1
    it = items[0]
    assert it.rcpts == [D1] and it.sender == "elena-bounces@example.org"
    m = email.message_from_bytes(it.message, policy=email.policy.compat32)
    assert m["Subject"] == "elena Digest, articles 1-2"
    assert m["From"] == m["To"] == m["Reply-To"] == "elena@example.org"
    assert m["Precedence"] == "list"
    assert m["List-Id"] == "(elena ML) <elena.example.org>"
    assert m["List-Unsubscribe"] == "<mailto:%s?body=unsubscribe>" % CTL
    assert m["MIME-Version"] == "1.0" and m["Message-ID"] and m["Date"]
    assert "Auto-Submitted" not in m


def test_same_range_and_mode_share_one_item(make_list, sinks):
    sink = sinks().start()
    acts = ["m%d@x.example m=2mp" % i for i in range(5)] + ["u@x.example m=2uf"]
    ml = digest_list(make_list, sink, actives=acts)
    fmldigest(ml)
    post(ml, 2, frm="m0@x.example")
    ml.write("actives", "".join(a + "\n" for a in acts + ["late@x.example m=2"]))
    fmldigest(ml, "--now", "2")
    items = {tuple(sorted(i.rcpts)) for i in ml.queue_items()}
    assert items == {tuple("m%d@x.example" % i for i in range(5)), ("u@x.example",)}
    # a member new to digest mode starts after the articles already there
    assert state(ml)["late@x.example"] == 2


def test_nothing_new_nothing_sent_and_not_due(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[D3 + " m=3", D17 + " m=17", "off@x.example"])
    ml.write("actives", "#\toff@x.example m=1\n" + D3 + " m=3\n" + D17 + " m=17 s=skip\n")
    fmldigest(ml)
    post(ml, 1, frm=D3)
    for h in (1, 2, 4, 5, 16, 17, 19, 23):
        fmldigest(ml, "--now", str(h))
    assert ml.listdir("var", "queue", "new") == []  # nobody due, skip and off get nothing
    fmldigest(ml, "--now", "24")  # 0:00 counts as 24: 24 mod 3 == 0
    assert [i.rcpts for i in ml.queue_items()] == [[D3]]
    assert fmldigest(ml, "--now", "0").returncode == 0
    assert len(ml.queue_items()) == 1  # nothing new


def test_dry_run_and_force(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink)
    fmldigest(ml)
    post(ml, 2)
    before = ml.read("var", "db", "digest")
    p = fmldigest(ml, "-n", "--now", "5")
    out = p.stdout.decode()
    assert "%s: articles 1-2, mp" % D1 in out
    assert D3 not in out and D2 not in out
    assert "1 member(s) due, 1 digest(s), last article 2" in out
    assert ml.read("var", "db", "digest") == before
    assert [n for n in ml.listdir("var", "queue", "new") if not n.startswith("a")] == []
    out = fmldigest(ml, "-n", "--force").stdout.decode()
    assert "4 member(s) due, 2 digest(s)" in out
    fmldigest(ml, "--force", "--now", "5")
    got = {frozenset(i.rcpts) for i in ml.queue_items() if i.name.startswith("dg")}
    assert got == {frozenset((D1, D3, D17)), frozenset((D2,))}


def test_split_at_digest_size_limit(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[D1 + " m=1"], DIGEST_SIZE_LIMIT="2K")
    fmldigest(ml)
    post(ml, 6, frm=D1)
    fmldigest(ml, "--now", "1")
    fmlqueue("run", ml.dir)
    got = digests(sink)[D1]
    assert len(got) > 1
    assert covered(digests(sink), D1) == list(range(1, 7))
    for i, (a, b, msg) in enumerate(got):
        m = email.message_from_bytes(msg, policy=email.policy.compat32)
        assert m["Subject"].endswith("(%d/%d)" % (i + 1, len(got)))
        check_mp(ml, msg, a, b)


def test_other_formats(make_list, sinks):
    sink = sinks().start()
    acts = ["uf@x.example m=1uf", "gz@x.example m=1gz", "b@x.example m=1rfc934",
            "t@x.example m=1tgz", "old@x.example m=1lhaish"]
    ml = digest_list(make_list, sink, actives=acts)
    fmldigest(ml)
    post(ml, 2, frm="uf@x.example")
    ml.post(mail(frm="uf@x.example", subject="from line", body="From here on\n>From too\n"))
    fmldigest(ml, "--now", "1")
    fmlqueue("run", ml.dir)
    got = digests(sink)
    spool = [ml.spool(n) for n in (1, 2, 3)]

    m = email.message_from_bytes(got["uf@x.example"][0][2], policy=email.policy.compat32)
    assert mbox_messages(m.get_payload(decode=True)) == spool

    m = email.message_from_bytes(got["gz@x.example"][0][2], policy=email.policy.compat32)
    gz = [p for p in m.get_payload() if p.get_content_type() == "application/gzip"][0]
    assert mbox_messages(gzip.decompress(gz.get_payload(decode=True))) == spool

    m = email.message_from_bytes(got["b@x.example"][0][2], policy=email.policy.compat32)
    secs = m.get_payload(decode=True).split(b"\n" + b"-" * 30 + b"\n")
    arts = [re.sub(rb"(?m)^- ", b"", s.strip(b"\n")) for s in secs[1:] if s.strip()]
    assert arts == [s.rstrip(b"\n") for s in spool]

    import tarfile
    m = email.message_from_bytes(got["t@x.example"][0][2], policy=email.policy.compat32)
    tgz = [p for p in m.get_payload() if p.get_content_type() == "application/gzip"][0]
    with tarfile.open(fileobj=io.BytesIO(tgz.get_payload(decode=True))) as t:
        assert [t.extractfile("spool/%d" % n).read() for n in (1, 2, 3)] == spool

    # an fml4 mode fml does not make (lha+ish) falls back to mp, logged
    assert mp_articles(got["old@x.example"][0][2])[0] == spool
    assert "lhaish" in ml.log()


# ---------------------------------------------------------------- switching

def ctl_command(ml, frm, text):
    p = ml.post(mail(frm=frm, to=CTL, subject="cmd", body=text + "\n"), ctl=True)
    assert p.returncode == 0, p.stderr


def test_digest_zero_sends_what_was_pending(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[RT, D3 + " m=3mp", D2 + " m=2rfc1153"])
    fmldigest(ml)
    post(ml, 4)
    fmldigest(ml, "--now", "2")  # D2 gets 1-4; D3 waits
    ctl_command(ml, D3, "digest 0")  # by mail: the pending 1-4 at once
    ml.makefml("digest", "elena", D2, "0")  # by makefml: nothing pending
    post(ml, 1)  # article 5 goes to both in real time
    fmldigest(ml, "--force")
    assert state(ml) == {}
    assert "m=" not in ml.text("actives")
    fmlqueue("run", ml.dir)
    got = digests(sink)
    assert [(a, b) for a, b, _ in got[D3]] == [(1, 4)]
    check_mp(ml, got[D3][0][2], 1, 4)
    assert [(a, b) for a, b, _ in got[D2]] == [(1, 4)]
    a5 = [r for _, rcpts, m in sink.messages() if m == ml.spool(5) for r in rcpts]
    assert sorted(a5) == sorted([RT, D3, D2])


def test_entering_digest_mode_starts_at_the_switch(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[RT, D1])
    post(ml, 3)
    ml.makefml("digest", "elena", D1, "2")
    assert state(ml) == {D1: 3}
    post(ml, 2)  # 4, 5: not to D1 in real time
    ctl_command(ml, RT, "digest 4mp")
    assert state(ml) == {D1: 3, RT: 5}  # the command mail itself is not an article
    post(ml, 1, frm=D1)  # 6
    fmldigest(ml, "--now", "4")
    fmlqueue("run", ml.dir)
    got = digests(sink)
    assert [(a, b) for a, b, _ in got[D1]] == [(4, 6)]
    assert [(a, b) for a, b, _ in got[RT]] == [(6, 6)]


def test_chaddr_takes_the_digest_state_along(make_list, sinks):
    sink = sinks().start()
    ml = digest_list(make_list, sink, actives=[D1 + " m=1"])
    fmldigest(ml)
    post(ml, 2, frm=D1)
    ml.makefml("chaddr", "elena", D1, "new@x.example")
    assert state(ml) == {"new@x.example": 0}
    fmldigest(ml, "--now", "1")
    assert [(i.rcpts, i.message.count(b"Subject: article")) for i in ml.queue_items()
            if i.name.startswith("dg")] == [(["new@x.example"], 2)]


# ---------------------------------------------------------------- crashes

def queued_digests(d):
    """{rcpt: [article numbers]} over every digest item in D's queue, sorted
    (a repeat shows as a pair).  Not in name order: an item is named
    dgTIME.PID.N, and a later run in the same second whose pid wrapped (or
    went from 4 to 5 digits) sorts before the earlier run's items."""
    got = {}
    for area in ("new", "active", "deferred", "sent"):
        p = os.path.join(d, "var", "queue", area)
        for n in sorted(os.listdir(p)):
            if not n.startswith("d"):
                continue
            it = QueueItem(os.path.join(p, n))
            m = email.message_from_bytes(it.message, policy=email.policy.compat32)
            a, b = map(int, re.match(r"elena Digest, articles (\d+)-(\d+)",
                                     m["Subject"]).groups())
            for r in it.rcpts:
                got.setdefault(r, []).extend(range(a, b + 1))
    return {r: sorted(v) for r, v in got.items()}


class DigestRun:
    """The digest list of the crash and fault sweeps, at hour 6: D1 and e
    (4-7), D3 (4-7), D2 (1-7), three items, some split.  fresh(tag) copies
    it; run(d, env) runs fmldigest --now 6 on a copy; problems(d) checks a
    copy after the disturbed run and two reruns."""

    WANT_STATE = {D1: 7, "e@x.example": 7, D3: 7, D2: 7, D17: 0}

    def __init__(self, make_list, sinks, ml_dir):
        acts = [RT, D1 + " m=1", D3 + " m=3mp", D2 + " m=2rfc1153", "e@x.example m=1",
                D17 + " m=17"]
        ml = digest_list(make_list, sinks(), actives=acts, DIGEST_SIZE_LIMIT="3K")
        fmldigest(ml)
        post(ml, 3)
        fmldigest(ml, "--now", "3")  # D3 and D1 and e at 3; D2 waits
        post(ml, 4)
        self.want = {D1: list(range(1, 8)), "e@x.example": list(range(1, 8)),
                     D3: list(range(1, 8)), D2: list(range(1, 8))}
        self.tpl = ml.dir
        self.work = os.path.join(ml_dir, "crash")
        os.makedirs(self.work)

    def fresh(self, tag):  # the list keeps its name: ML_NAME is the home's name
        d = os.path.join(self.work, tag, "elena")
        os.mkdir(os.path.dirname(d))
        subprocess.run(["cp", "-a", self.tpl, d], check=True)
        return d

    def run(self, d, env_extra):
        env = {"PATH": "/usr/bin:/bin"}
        env.update({k: str(v) for k, v in env_extra.items()})
        return subprocess.run([FMLDIGEST, "--now", "6", d], capture_output=True, env=env,
                              timeout=60)

    def count(self, shim):
        """The counted durable calls of an undisturbed run."""
        base = self.fresh("base")
        cnt = os.path.join(self.work, "count")
        p = self.run(base, {"LD_PRELOAD": shim, "FML_CRASH_COUNT": cnt})
        assert p.returncode == 0, p.stderr
        assert queued_digests(base) == self.want
        return int(open(cnt).read())

    def problems(self, d):
        """Two more runs, as cron starts them; then every member has each
        article once, nothing half-done is left, the state is at 7."""
        out = []
        p, p2 = self.run(d, {}), self.run(d, {})
        if p.returncode or p2.returncode:
            out.append(p.stderr.decode() + p2.stderr.decode())
        got = queued_digests(d)
        if got != self.want:
            out.append(got)
        if os.path.exists(os.path.join(d, "var", "db", "digest.run")):
            out.append("digest.run left")
        if state(d) != self.WANT_STATE:
            out.append(("state", state(d)))
        return out


def test_kill_9_at_every_step_then_rerun(make_list, sinks, crashshim, ml_dir):  # noqa: F811
    dr = DigestRun(make_list, sinks, ml_dir)
    total = dr.count(crashshim)
    assert total > 10
    problems = []
    for k in range(1, total + 1):
        for after in (0, 1):
            d = dr.fresh("k%d%s" % (k, "a" if after else "b"))
            p = dr.run(d, {"LD_PRELOAD": crashshim, "FML_CRASH_AT": k, "FML_CRASH_AFTER": after})
            if p.returncode != -9:
                problems.append((k, after, "not killed: %d" % p.returncode))
                continue
            problems += [(k, after, x) for x in dr.problems(d)]
    assert not problems, problems[:5]
