"""fmlqueue: deliver the outgoing queue to Postfix's smtp-sink on 127.0.0.1.

Each test makes a list with DELIVERY_MODE=queue (fml only queues), posts,
then runs fmlqueue as an admin or a timer would and looks at what the sink
received (one dump file per transaction, smtp-sink -d) and at the areas of
var/queue (doc/fml-queue.5).
"""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import ROOT, QueueItem, free_port, mail, owner_ids

FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
SINK = "/usr/sbin/smtp-sink"
MEMBERS = ["ann@a.example", "bob@b.example", "cat@a.example", "dan@c.example",
           "eve@b.example"]
TRACE = re.compile(rb"\A(X-Client-Addr|X-Client-Proto|X-Helo-Args|X-Mail-Args|X-Rcpt-Args):")

pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="no smtp-sink")


class Sink:
    """smtp-sink on 127.0.0.1:PORT dumping each transaction into DIR."""

    def __init__(self, base, port=None, args=()):
        self.dir = os.path.join(base, "sink-%d" % time.monotonic_ns())
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o777)
        self.port = port or free_port()
        self.args = list(args)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [SINK, "-u", "nobody", "-c", "-d", self.dir + "/%M.", *self.args,
             "127.0.0.1:%d" % self.port, "100"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("smtp-sink did not start")

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def uri(self):
        return "smtp:127.0.0.1:%d" % self.port

    def messages(self):
        """[(sender, [rcpts], message bytes without the sink's trace)]"""
        out = []
        for name in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, name), "rb") as f:
                raw = f.read()
            lines = raw.split(b"\n")
            sender, rcpts, i = None, [], 0
            while i < len(lines) and TRACE.match(lines[i]):
                key, _, val = lines[i].partition(b": ")
                if key == b"X-Mail-Args":
                    sender = val.split(b" ")[0].decode().strip("<>")
                if key == b"X-Rcpt-Args":
                    rcpts.append(val.split(b" ")[0].decode().strip("<>"))
                i += 1
            # the sink's own Received: field and its continuation lines
            assert lines[i].startswith(b"Received: from "), lines[i]
            i += 1
            while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
                i += 1
            body = b"\n".join(lines[i:])
            assert body.endswith(b"\n")  # the sink ends each dump with an empty line
            out.append((sender, rcpts, body[:-1]))
        return out

    def by_rcpt(self):
        got = {}
        for sender, rcpts, msg in self.messages():
            for r in rcpts:
                got.setdefault(r, []).append(msg)
        return got


@pytest.fixture
def sinks(ml_dir):
    made = []

    def make(port=None, args=()):
        s = Sink(ml_dir, port, args)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def fmlqueue(*args, check=True):
    p = subprocess.run([FMLQUEUE, *args], capture_output=True, timeout=120)
    if check:
        assert p.returncode == 0, "fmlqueue %s: exit %d: %s" % (
            " ".join(args), p.returncode, p.stderr.decode(errors="replace"))
    return p


def qlist(ml, area):
    return ml.area("var", "queue", area)


def articles_in(ml, area):
    return [n for n in qlist(ml, area) if n.startswith("a")]


def post_article(make_list, relays, members=MEMBERS, **config):
    ml = make_list(members=members, SMTP_SERVERS=relays, DELIVERY_MODE="queue", **config)
    p = ml.post(mail(frm=members[0], body="Hello, list.\n.leading dot line\n"))
    assert p.returncode == 0, p.stderr
    assert qlist(ml, "new") == ["a1"]
    return ml


def journal(ml, name):
    with open(ml.path("var", "queue", "journal", name)) as f:
        return f.read()


def test_every_member_once_byte_identical(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    fmlqueue("run", ml.dir)
    got = sink.by_rcpt()
    assert sorted(got) == sorted(MEMBERS)
    spool = ml.spool(1)
    for rcpt, msgs in got.items():
        assert len(msgs) == 1, rcpt
        assert msgs[0] == spool
    assert [s for s, _, _ in sink.messages()] == ["elena-bounces@example.org"]
    assert qlist(ml, "sent") == ["a1"]
    for area in ("new", "active", "deferred", "drop", "corrupt", "tmp"):
        assert qlist(ml, area) == [], area
    item = QueueItem(ml.path("var", "queue", "sent", "a1"))
    item.verify()
    assert item.states == ["D"] * len(MEMBERS)
    assert sorted(journal(ml, "a1").split("\n")[:-1]) == sorted("D " + m for m in MEMBERS)
    # a second run sends nothing again
    fmlqueue("run", ml.dir)
    assert len(sink.messages()) == 1


def test_fanout_batches_and_connections(make_list, sinks):
    sink = sinks().start()
    members = ["m%02d@d%d.example" % (i, i % 4) for i in range(20)]
    ml = post_article(make_list, sink.uri(), members=members, SMTP_RECIPIENT_LIMIT=3,
                      SMTP_CONNECTIONS=4)
    fmlqueue("run", ml.dir)
    msgs = sink.messages()
    assert len(msgs) == 7  # ceil(20 / 3) transactions
    assert all(len(r) <= 3 for _, r, _ in msgs)
    got = sink.by_rcpt()
    assert sorted(got) == sorted(members)
    assert all(len(v) == 1 and v[0] == ml.spool(1) for v in got.values())
    assert qlist(ml, "sent") == ["a1"]
    assert not [n for n in os.listdir(ml.path("var", "queue", "journal")) if ".w" in n]


def test_4xx_deferred_then_flush(make_list, sinks):
    bad = sinks(args=["-r", "RCPT"]).start()
    ml = post_article(make_list, bad.uri())
    fmlqueue("run", ml.dir)
    assert qlist(ml, "deferred") == ["a1"]
    j = journal(ml, "a1")
    assert re.search(r"^A 1 \d+$", j, re.M), j
    assert j.count("\nT ") + j.startswith("T ") == len(MEMBERS)
    out = fmlqueue("list", ml.dir).stdout.decode()
    assert re.search(r"^a1 .* => 5 \(5/0/0\) deferred in \d+m", out, re.M), out
    show = fmlqueue("show", "a1", ml.dir).stdout.decode()
    assert "attempts: 1" in show and "next try: " in show
    # the relay recovers; a normal run leaves the item alone until it is due
    bad.stop()
    good = sinks(port=bad.port).start()
    fmlqueue("run", ml.dir)
    assert good.messages() == [] and qlist(ml, "deferred") == ["a1"]
    fmlqueue("flush", ml.dir)
    assert sorted(good.by_rcpt()) == sorted(MEMBERS)
    assert qlist(ml, "sent") == ["a1"] and qlist(ml, "deferred") == []


def test_5xx_dropped_and_one_report(make_list, sinks):
    sink = sinks(args=["-f", "RCPT"]).start()
    members = MEMBERS + ["fay@c.example"]
    ml = post_article(make_list, sink.uri(), members=members, SMTP_RECIPIENT_LIMIT=2)
    fmlqueue("run", ml.dir)
    assert articles_in(ml, "drop") == ["a1"]
    reports = [i for i in ml.all_items() if i.sender == "" and i.rcpts == ["elena-admin@example.org"]]
    assert len(reports) == 1, [i.name for i in reports]
    rep = reports[0]
    rep.verify()
    assert rep.field("Subject").startswith("fml: undeliverable mail")
    for m in members:
        assert m.encode() in rep.body
    # the report itself bounced (the sink rejects everyone): no report about it
    assert os.path.basename(os.path.dirname(rep.path)) == "drop"
    fmlqueue("run", ml.dir)
    assert len([i for i in ml.all_items() if i.sender == ""]) == 1


def test_disconnect_is_temporary(make_list, sinks):
    sink = sinks(args=["-q", "DATA"]).start()
    ml = post_article(make_list, sink.uri())
    fmlqueue("run", ml.dir)
    assert qlist(ml, "deferred") == ["a1"]
    assert qlist(ml, "active") == []


def test_relay_down_then_up(make_list, sinks):
    port = free_port()
    ml = post_article(make_list, "smtp:127.0.0.1:%d" % port, QUEUE_RETRY_SCHEDULE="1s")
    fmlqueue("run", ml.dir)
    assert qlist(ml, "deferred") == ["a1"]
    sink = sinks(port=port).start()
    time.sleep(1.2)
    fmlqueue("run", ml.dir)
    assert sorted(sink.by_rcpt()) == sorted(MEMBERS)
    assert qlist(ml, "sent") == ["a1"]
    assert re.search(r"^A 1 ", journal(ml, "a1"), re.M)


def test_two_relays_one_down(make_list, sinks):
    sink = sinks().start()
    down = "smtp:127.0.0.1:%d" % free_port()
    ml = post_article(make_list, down + " " + sink.uri(), SMTP_RECIPIENT_LIMIT=1,
                      SMTP_CONNECTIONS=2)
    fmlqueue("run", ml.dir)
    got = sink.by_rcpt()
    assert sorted(got) == sorted(MEMBERS)
    assert all(len(v) == 1 for v in got.values())
    assert qlist(ml, "sent") == ["a1"]


def test_corrupt_item_quarantined_and_reported(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    path = ml.path("var", "queue", "new", "a1")
    with open(path, "r+b") as f:
        data = f.read()
        pos = data.index(b"Hello, list.")
        f.seek(pos)
        f.write(b"J")
    fmlqueue("run", ml.dir)
    assert qlist(ml, "corrupt") == ["a1"]
    assert all(MEMBERS[0] not in r for _, r, _ in sink.messages())
    got = sink.by_rcpt()
    assert list(got) == ["elena-admin@example.org"]
    assert b"a1 was damaged" in got["elena-admin@example.org"][0]
    # never removed automatically
    fmlqueue("expire", ml.dir, "--QUEUE_RETENTION=0")
    assert qlist(ml, "corrupt") == ["a1"]


def test_list_show_delete_stats_expire(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    out = fmlqueue("list", ml.dir).stdout.decode()
    assert re.fullmatch(r"a1 +\d+s +\d+ <elena-bounces@example.org> => 5 \(5/0/0\) new -\n", out), out
    assert fmlqueue("list", "nobody@else.example", ml.dir).stdout == b""
    show = fmlqueue("show", "a1", ml.dir).stdout.decode()
    assert "area: new" in show and "article: 1" in show
    assert all("rcpt - " + m in show for m in MEMBERS)
    assert fmlqueue("show", "nosuch", ml.dir, check=False).returncode == 66
    st = fmlqueue("stats", ml.dir).stdout.decode()
    assert re.search(r"^new +1 items", st, re.M), st
    # deliver, then a second post is deleted before delivery
    fmlqueue("run", ml.dir)
    st = fmlqueue("stats", ml.dir).stdout.decode()
    assert re.search(r"^sent +1 items", st, re.M)
    assert "today: 1 messages sent, 0 dropped; 5 recipients delivered, 0 failed" in st, st
    p = ml.post(mail(frm=MEMBERS[1], subject="second"))
    assert p.returncode == 0
    assert qlist(ml, "new") == ["a2"]
    fmlqueue("delete", "a2", ml.dir)
    assert qlist(ml, "new") == []
    # expire: kept QUEUE_RETENTION, then removed with its journal
    fmlqueue("expire", ml.dir)
    assert qlist(ml, "sent") == ["a1"]
    old = time.time() - 8 * 86400
    os.utime(ml.path("var", "queue", "sent", "a1"), (old, old))
    fmlqueue("expire", ml.dir)
    assert qlist(ml, "sent") == []
    assert not os.path.exists(ml.path("var", "queue", "journal", "a1"))


def test_recover_orphans(make_list, sinks):
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    q = ml.path("var", "queue")
    # a runner that died while holding a1, and a writer that died in tmp/
    dead = 4194303  # above any pid_max default: never alive
    os.rename(os.path.join(q, "new", "a1"), os.path.join(q, "active", "a1.%d" % dead))
    tmp = os.path.join(q, "tmp", "r.1.2.%d.abcd1234" % dead)
    with open(tmp, "w") as f:
        f.write("FMLQ 1\n")
    os.chown(tmp, *owner_ids())
    fmlqueue("recover", ml.dir)
    assert qlist(ml, "tmp") == [] and qlist(ml, "active") == []
    assert qlist(ml, "new") == ["a1"]
    fmlqueue("run", ml.dir)
    assert sorted(sink.by_rcpt()) == sorted(MEMBERS)


def test_without_dir_every_list(make_list, sinks, ml_dir):
    sink = sinks().start()
    one = post_article(make_list, sink.uri())
    fmlqueue("run", "-D", ml_dir)
    assert qlist(one, "sent") == ["a1"]
    assert sorted(sink.by_rcpt()) == sorted(MEMBERS)


def test_usage_exit_status():
    assert fmlqueue(check=False).returncode == 64
    assert fmlqueue("frobnicate", check=False).returncode == 64
    assert fmlqueue("show", check=False).returncode == 64


def kick_wired():
    with open(os.path.join(ROOT, "fml", "fml.c")) as f:
        return "runner_kick" in f.read()


FML_BIN = os.environ.get("FML_KICK_BIN") or os.path.join(ROOT, "fml", "fml")
needs_kick = pytest.mark.skipif(not os.environ.get("FML_KICK_BIN") and not kick_wired(),
                                reason="runner_kick not yet called by fml/fml.c")


def post_with(ml, data):
    return subprocess.run([FML_BIN, ml.dir], input=data, capture_output=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)


@needs_kick
def test_kick_foreground(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=MEMBERS, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="foreground")
    p = post_with(ml, mail(frm=MEMBERS[0]))
    assert p.returncode == 0, p.stderr
    assert sorted(sink.by_rcpt()) == sorted(MEMBERS)
    assert qlist(ml, "sent") == ["a1"] and qlist(ml, "new") == []


@needs_kick
def test_kick_background(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=MEMBERS, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="background")
    p = post_with(ml, mail(frm=MEMBERS[0]))
    assert p.returncode == 0, p.stderr
    for _ in range(100):
        if qlist(ml, "sent") == ["a1"]:
            break
        time.sleep(0.05)
    assert qlist(ml, "sent") == ["a1"]
    assert sorted(sink.by_rcpt()) == sorted(MEMBERS)


@needs_kick
def test_kick_queue_mode_leaves_it(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=MEMBERS, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    assert post_with(ml, mail(frm=MEMBERS[0])).returncode == 0
    time.sleep(0.3)
    assert qlist(ml, "new") == ["a1"] and sink.messages() == []


def test_lifetime_over_gives_up_and_reports(make_list, sinks):
    sink = sinks(args=["-r", "RCPT"]).start()
    ml = post_article(make_list, sink.uri())
    fmlqueue("run", ml.dir, "--QUEUE_LIFETIME=0")
    assert articles_in(ml, "drop") == ["a1"]
    j = journal(ml, "a1")
    assert all(re.search(r"^F %s 0 given up" % re.escape(m), j, re.M) for m in MEMBERS), j
    reports = [i for i in ml.all_items() if i.sender == ""]
    assert len(reports) == 1
    assert b"given up: QUEUE_LIFETIME is over" in reports[0].body


def test_flush_one_item_by_id(make_list, sinks):
    bad = sinks(args=["-r", "RCPT"]).start()
    ml = post_article(make_list, bad.uri())
    assert ml.post(mail(frm=MEMBERS[1], subject="two")).returncode == 0
    fmlqueue("run", ml.dir)
    assert qlist(ml, "deferred") == ["a1", "a2"]
    bad.stop()
    good = sinks(port=bad.port).start()
    fmlqueue("flush", "a2", ml.dir)
    assert qlist(ml, "deferred") == ["a1"] and qlist(ml, "sent") == ["a2"]
    assert all(m == [ml.spool(2)] for m in good.by_rcpt().values())
    fmlqueue("flush", "elena-bounces@example.org", ml.dir)
    assert qlist(ml, "sent") == ["a1", "a2"]


def test_run_finishes_mail_left_by_a_lock_timeout(make_list, sinks):
    import fcntl
    sink = sinks().start()
    ml = make_list(members=MEMBERS, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    lock = ml.path("var", "run", "lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    os.chown(lock, *owner_ids())
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        p = ml.post(mail(frm=MEMBERS[0]), "--LOCK_TIMEOUT=1")
        assert p.returncode == 0
        assert len(ml.incoming()) == 1 and ml.articles() == []
    finally:
        os.close(fd)
    fmlqueue("run", ml.dir)
    assert ml.incoming() == [] and ml.articles() == [1]
    # the article and fml's lock-timeout notice to the maintainer
    assert articles_in(ml, "sent") == ["a1"] and len(qlist(ml, "sent")) == 2
    assert qlist(ml, "new") == [] and qlist(ml, "deferred") == []
    got = sink.by_rcpt()
    assert sorted(got) == sorted(MEMBERS + ["elena-admin@example.org"])
    assert all(got[m] == [ml.spool(1)] for m in MEMBERS)


def test_item_that_keeps_killing_runners_is_still_delivered(make_list, sinks):
    # (was: ..._is_set_aside, ten deaths -> corrupt/; now deaths are
    # counted and reported, and the recipients are never stranded)
    sink = sinks().start()
    ml = post_article(make_list, sink.uri())
    q = ml.path("var", "queue")
    for i in range(10):
        area = qlist(ml, "new") and "new" or "deferred"
        assert qlist(ml, area) == ["a1"], i
        os.rename(os.path.join(q, area, "a1"), os.path.join(q, "active", "a1.4194303"))
        fmlqueue("recover", ml.dir)
    assert qlist(ml, "new") == ["a1"] and qlist(ml, "active") == []
    assert qlist(ml, "corrupt") == []
    assert journal(ml, "a1").count("R 4194303 ") == 10
    fmlqueue("run", ml.dir)
    got = sink.by_rcpt()
    assert sorted(got) == sorted(MEMBERS + ["elena-admin@example.org"])
    assert all(got[m] == [ml.spool(1)] for m in MEMBERS)
    assert b"its runner died 10 times" in got["elena-admin@example.org"][0]


def write_item(ml, name, sender, rcpts, message):
    """Commit a queue item as fml would (doc/fml-queue.5), straight into new/."""
    import hashlib
    env = "FMLQ 1\nsender %s\ncreated %d\nlist %s\n" % (sender, int(time.time()), ml.name)
    env += "".join("rcpt - %s\n" % r for r in rcpts) + "\n"
    data = env.encode() + message
    trailer = b"\nFMLQ-END %020d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode())
    path = ml.path("var", "queue", "new", name)
    with open(path, "wb") as f:
        f.write(data + trailer)
    os.chown(path, *owner_ids())
    return path


def test_memory_does_not_grow_with_the_message(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=MEMBERS[:2], SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    line = b"x" * 76 + b"\n"
    message = b"From: a@a.example\nSubject: big\n\n" + line * (40 * 1024 * 1024 // len(line))
    write_item(ml, "big", "elena-admin@example.org", MEMBERS[:2], message)
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss=%M", FMLQUEUE, "run", ml.dir],
                       capture_output=True, timeout=300)
    assert p.returncode == 0, p.stderr
    kb = int(re.search(rb"maxrss=(\d+)", p.stderr).group(1))
    assert 1000 < kb < 16 * 1024, "fmlqueue used %d KiB for a 40 MiB message" % kb
    assert qlist(ml, "sent") == ["big"]
    got = sink.by_rcpt()
    assert sorted(got) == sorted(MEMBERS[:2])
    assert all(v == [message] for v in got.values())


def test_repeated_recipient_in_a_hand_made_item(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=MEMBERS[:1], SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    rcpts = ["x@a.example", "x@a.example", "y@b.example"]
    write_item(ml, "r.hand", "", rcpts, b"Subject: t\n\nbody\n")
    fmlqueue("run", ml.dir)
    assert qlist(ml, "sent") == ["r.hand"]
    assert QueueItem(ml.path("var", "queue", "sent", "r.hand")).states == ["D", "D", "D"]
    fmlqueue("run", ml.dir)
    assert len(sink.messages()) == 1
