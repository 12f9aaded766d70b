"""fmlqueue delivering through each transport of SMTP_SERVERS but smtp
(test_queue.py has smtp against smtp-sink): LMTP over TCP and over a unix
socket (tests/e2e/lmtp_server.py, RFC 2033), QMQP (tests/e2e/qmqp_server.py,
https://cr.yp.to/proto/qmqp.html), maildir, and two relays of different
kinds, one down.

Each test makes a list with DELIVERY_MODE=queue, posts one article, runs
`fmlqueue run DIR` (or `flush`) as an admin or a timer would, and looks at
what the peer received and at the queue areas and journal of the list
(doc/fml-queue.5): 2xx done (D), 4xx deferred (T, item in deferred/), 5xx
given up (F, item in drop/ once every recipient is final, one report to the
maintainer with the null sender).
"""
import os
import re
import subprocess
import uuid

import pytest

from conftest import ROOT, TMP, QueueItem, free_port, mail, owner_ids
from lmtp_server import LMTPServer
from qmqp_server import QMQPServer

FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
MAINTAINER = "elena-admin@example.org"
BOUNCES = "elena-bounces@example.org"  # the envelope sender of articles
# sorted by domain, as fml writes them into the item
MEMBERS = ["ann@a.example", "cat@a.example", "bob@b.example", "eve@b.example",
           "dan@c.example"]
BODY = "Hello, list.\n.leading dot line\n..two dots\n.\nlast line\n"
TEMP = "bob@b.example"   # answered 452
PERM = "dan@c.example"   # answered 550
AREAS = ("tmp", "new", "active", "deferred", "sent", "drop", "corrupt")


def fmlqueue(*args, check=True):
    p = subprocess.run([FMLQUEUE, *args], capture_output=True, timeout=60)
    if check:
        assert p.returncode == 0, "fmlqueue %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace"))
    return p


def qlist(ml, area):
    return ml.area("var", "queue", area)


def only_in(ml, area, names):
    """NAMES are in AREA and nothing is in any other area."""
    for a in AREAS:
        assert qlist(ml, a) == (names if a == area else []), (a, ml.log()[-2000:])


def journal(ml, name="a1"):
    """{recipient: (state, code)} from the journal of NAME, the last line of
    each recipient winning, and the attempt lines."""
    with open(ml.path("var", "queue", "journal", name)) as f:
        lines = f.read().split("\n")[:-1]
    states, attempts = {}, []
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "D":
            states[rest] = ("D", None)
        elif kind in ("T", "F"):
            addr, code, _ = rest.split(" ", 2)
            states[addr] = (kind, int(code))
        elif kind == "A":
            attempts.append(rest)
    return states, attempts


def reports(ml):
    """Queue items with the null sender to the maintainer (fmlqueue's reports)."""
    return [i for i in ml.all_items() if i.sender == "" and i.rcpts == [MAINTAINER]]


def post_article(make_list, relays, members=MEMBERS, **config):
    ml = make_list(members=members, SMTP_SERVERS=relays, DELIVERY_MODE="queue", **config)
    p = ml.post(mail(frm=members[0], body=BODY))
    assert p.returncode == 0, p.stderr
    only_in(ml, "new", ["a1"])
    return ml


def crlf(data):
    return data.replace(b"\n", b"\r\n")


# ---------------------------------------------------------------------------
# LMTP

@pytest.fixture
def lmtp():
    servers = []

    def start(where, **kw):
        if where == "unix":
            # the runner works as the list owner: the socket must be
            # reachable by "nobody"
            path = os.path.join(TMP, "lmtpq-" + uuid.uuid4().hex[:8] + ".sock")
            srv = LMTPServer(path=path, **kw)
            os.chmod(path, 0o777)
            uri = "lmtp:unix:" + path
        else:
            srv = LMTPServer(**kw)
            uri = "lmtp:127.0.0.1:%d" % srv.port
        servers.append(srv.start())
        return srv, uri

    os.makedirs(TMP, exist_ok=True)
    yield start
    for s in servers:
        s.stop()


@pytest.mark.parametrize("stage", ["data", "rcpt"])
@pytest.mark.parametrize("where", ["tcp", "unix"])
def test_lmtp_452_deferred_550_dropped_then_flush(make_list, lmtp, where, stage):
    """One recipient answered 452, one 550 (after the final dot, one reply
    per recipient as LMTP has it, or already at RCPT): the 452 one deferred,
    the 550 one given up, the rest done; then the server accepts everyone
    and `fmlqueue flush` finishes the item.  The 550 recipient is named in
    the first run's report and never again."""
    replies = {TEMP: "452 4.2.2 mailbox full", PERM: "550 5.1.1 no such user"}
    if stage == "data":
        srv, uri = lmtp(where, data_replies=replies)
    else:
        srv, uri = lmtp(where, rcpt_replies=replies)
    ml = post_article(make_list, uri)
    spool = ml.spool(1)

    fmlqueue("run", ml.dir)
    assert qlist(ml, "deferred") == ["a1"]
    states, attempts = journal(ml)
    assert states == {"ann@a.example": ("D", None), "cat@a.example": ("D", None),
                      "eve@b.example": ("D", None), TEMP: ("T", 452), PERM: ("F", 550)}
    assert len(attempts) == 1 and attempts[0].startswith("1 "), attempts
    out = fmlqueue("list", ml.dir).stdout.decode()
    assert re.search(r"^a1 .* => 5 \(1/3/1\) deferred in ", out, re.M), out
    # what the server got: one transaction, the article byte for byte
    sender, rcpts, data = srv.messages[0]
    assert sender == BOUNCES
    want = MEMBERS if stage == "data" else [m for m in MEMBERS if m not in replies]
    assert rcpts == want
    assert data == crlf(spool)
    assert any(c.startswith("LHLO ") for c in srv.commands), srv.commands
    assert not any(c.split(" ")[0].upper() in ("EHLO", "HELO") for c in srv.commands)
    # the recipient given up is reported in this run's one report, not when
    # the item is final (up to QUEUE_LIFETIME later)
    (rep,) = reports(ml)
    rep.verify()
    assert rep.field("Subject") == "fml: undeliverable mail of elena"
    assert rep.field("Auto-Submitted") == "auto-generated"
    assert PERM.encode() in rep.body and b"550" in rep.body
    assert b"no such user" in rep.body
    assert TEMP.encode() not in rep.body
    assert qlist(ml, "sent") == [rep.name]
    assert [(s, r) for s, r, _ in srv.messages[1:]] == [("", [MAINTAINER])]
    assert srv.messages[1][2] == crlf(rep.message)

    # the mailbox has room again; a normal run leaves the item alone (not
    # due for 5 minutes), flush delivers it now
    srv.data_replies.clear()
    srv.rcpt_replies.clear()
    fmlqueue("run", ml.dir)
    assert len(srv.messages) == 2 and qlist(ml, "deferred") == ["a1"]
    fmlqueue("flush", ml.dir)
    states, _ = journal(ml)
    assert states[TEMP] == ("D", None) and states[PERM] == ("F", 550)
    # the article went to the 452 recipient only (nobody got it twice), and
    # the 550 one, already reported, is not reported again
    assert [(s, r) for s, r, _ in srv.messages[2:]] == [(BOUNCES, [TEMP])]
    assert srv.messages[2][2] == crlf(spool)
    got = [r for r in srv.messages[0][1] if r not in replies] + srv.messages[2][1]
    assert sorted(got) == sorted(m for m in MEMBERS if m != PERM)

    # a1 is final with a recipient given up: drop/, still the one report
    assert qlist(ml, "deferred") == [] and qlist(ml, "drop") == ["a1"]
    item = QueueItem(ml.path("var", "queue", "drop", "a1"))
    item.verify()
    assert dict(zip(item.rcpts, item.states)) == {
        m: ("F" if m == PERM else "D") for m in MEMBERS}
    assert len(reports(ml)) == 1
    assert srv.errors == []
    # nothing more to do
    fmlqueue("flush", ml.dir)
    assert len(srv.messages) == 3 and len(reports(ml)) == 1


def test_lmtp_every_recipient_accepted(make_list, lmtp):
    srv, uri = lmtp("tcp")
    ml = post_article(make_list, uri)
    fmlqueue("run", ml.dir)
    only_in(ml, "sent", ["a1"])
    (msg,) = srv.messages
    assert msg == (BOUNCES, MEMBERS, crlf(ml.spool(1)))
    states, _ = journal(ml)
    assert states == dict.fromkeys(MEMBERS, ("D", None))
    assert srv.errors == []


def test_lmtp_unix_socket_missing_is_temporary(make_list):
    path = os.path.join(TMP, "lmtpq-none-" + uuid.uuid4().hex[:8] + ".sock")
    ml = post_article(make_list, "lmtp:unix:" + path)
    fmlqueue("run", ml.dir)
    only_in(ml, "deferred", ["a1"])
    states, _ = journal(ml)
    assert {s for s, _ in states.values()} == {"T"}
    assert reports(ml) == []


# ---------------------------------------------------------------------------
# QMQP

@pytest.fixture
def qmqp():
    s = QMQPServer().start()
    yield s
    s.stop()


def test_qmqp_K_delivers_all(make_list, qmqp):
    ml = post_article(make_list, "qmqp:127.0.0.1:%d" % qmqp.port)
    fmlqueue("run", ml.dir)
    only_in(ml, "sent", ["a1"])
    (req,) = qmqp.wait_requests(1)
    assert req["error"] is None
    assert req["sender"] == BOUNCES.encode()
    assert req["rcpts"] == [m.encode() for m in MEMBERS]
    assert req["message"] == ml.spool(1)
    states, _ = journal(ml)
    assert states == dict.fromkeys(MEMBERS, ("D", None))
    assert qmqp.connections == 1
    fmlqueue("run", ml.dir)
    assert qmqp.connections == 1


def test_qmqp_Z_defers_all_then_K(make_list, qmqp):
    qmqp.answer, qmqp.text = "Z", "queue is full"
    ml = post_article(make_list, "qmqp:127.0.0.1:%d" % qmqp.port)
    fmlqueue("run", ml.dir)
    only_in(ml, "deferred", ["a1"])
    states, attempts = journal(ml)
    assert {a: s for a, (s, _) in states.items()} == dict.fromkeys(MEMBERS, "T")
    assert all(400 <= c < 500 for _, c in states.values()), states
    assert len(attempts) == 1
    assert reports(ml) == []
    out = fmlqueue("list", ml.dir).stdout.decode()
    assert re.search(r"^a1 .* => 5 \(5/0/0\) deferred in ", out, re.M), out
    qmqp.answer, qmqp.text = "K", "ok"
    fmlqueue("flush", ml.dir)
    only_in(ml, "sent", ["a1"])
    reqs = qmqp.wait_requests(2)
    assert all(r["message"] == ml.spool(1) and r["rcpts"] == [m.encode() for m in MEMBERS]
               for r in reqs)
    states, _ = journal(ml)
    assert states == dict.fromkeys(MEMBERS, ("D", None))


def test_qmqp_D_drops_all_with_one_report(make_list, qmqp):
    qmqp.answer, qmqp.text = "D", "no thanks"
    ml = post_article(make_list, "qmqp:127.0.0.1:%d" % qmqp.port)
    fmlqueue("run", ml.dir)
    states, _ = journal(ml)
    assert {a: s for a, (s, _) in states.items()} == dict.fromkeys(MEMBERS, "F")
    assert all(500 <= c < 600 for _, c in states.values()), states
    (rep,) = reports(ml)
    rep.verify()
    for m in MEMBERS:
        assert m.encode() in rep.body
    assert b"no thanks" in rep.body
    # the report went the same way and was refused too: dropped, and no
    # report about a report
    assert sorted(qlist(ml, "drop")) == sorted(["a1", rep.name])
    for a in ("tmp", "new", "active", "deferred", "sent", "corrupt"):
        assert qlist(ml, a) == [], a
    reqs = qmqp.wait_requests(2)
    assert [r["sender"] for r in reqs] == [BOUNCES.encode(), b""]
    assert reqs[1]["rcpts"] == [MAINTAINER.encode()]
    assert reqs[1]["message"] == rep.message
    fmlqueue("run", ml.dir)
    assert len(reports(ml)) == 1 and len(qmqp.requests) == 2


# ---------------------------------------------------------------------------
# maildir

def maildir_root(ml_dir):
    path = os.path.join(ml_dir, "maildirs")
    os.mkdir(path, 0o755)
    os.chown(path, *owner_ids())
    return path


def maildir_files(root, addr):
    d = os.path.join(root, addr)
    assert sorted(os.listdir(d)) == ["cur", "new", "tmp"]
    assert os.listdir(os.path.join(d, "tmp")) == [] and os.listdir(os.path.join(d, "cur")) == []
    out = []
    for name in sorted(os.listdir(os.path.join(d, "new"))):
        assert re.fullmatch(r"\d+\.M\d{6}P\d+Q\d+\.[^/:]+", name), name
        with open(os.path.join(d, "new", name), "rb") as f:
            out.append(f.read())
    return out


def delivered(addr, spool, sender=BOUNCES):
    return b"Delivered-To: %s\nReturn-Path: <%s>\n" % (addr.encode(), sender.encode()) + spool


def test_maildir_one_file_per_member(make_list, ml_dir):
    root = maildir_root(ml_dir)
    ml = post_article(make_list, "maildir:" + root)
    fmlqueue("run", ml.dir)
    only_in(ml, "sent", ["a1"])
    assert sorted(os.listdir(root)) == sorted(MEMBERS)
    for m in MEMBERS:
        assert maildir_files(root, m) == [delivered(m, ml.spool(1))], m
    states, _ = journal(ml)
    assert states == dict.fromkeys(MEMBERS, ("D", None))
    fmlqueue("run", ml.dir)
    assert all(len(maildir_files(root, m)) == 1 for m in MEMBERS)


# ---------------------------------------------------------------------------
# two relays of different kinds, one of them down

@pytest.mark.parametrize("down_first", [True, False])
def test_smtp_relay_down_maildir_up(make_list, ml_dir, down_first):
    """An SMTP relay nobody listens on (a stopped smtp-sink) and a maildir:
    every batch goes through the one that is up, nobody gets it twice."""
    root = maildir_root(ml_dir)
    down = "smtp:127.0.0.1:%d" % free_port()
    up = "maildir:" + root
    relays = " ".join([down, up] if down_first else [up, down])
    ml = post_article(make_list, relays, SMTP_RECIPIENT_LIMIT=1, SMTP_CONNECTIONS=2)
    fmlqueue("run", ml.dir)
    only_in(ml, "sent", ["a1"])
    assert sorted(os.listdir(root)) == sorted(MEMBERS)
    for m in MEMBERS:
        assert maildir_files(root, m) == [delivered(m, ml.spool(1))], m
    states, _ = journal(ml)
    assert states == dict.fromkeys(MEMBERS, ("D", None))
    assert reports(ml) == []
