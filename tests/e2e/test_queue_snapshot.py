"""Recipient snapshots (doc/fml-queue.5, "Recipient snapshots"): an
article's queue item names a generation of the actives in var/queue/rcpt/
instead of copying them.  Posts with no membership change share one
generation (one inode); a change makes a new one while older items still go
to their own recipients; a generation goes once nothing needs it; a damaged
one sends its items to corrupt/, never to another list of recipients; and a
crash between the generation and the item leaves no item naming a missing
generation."""
import os
import re
import time

import pytest

from conftest import QueueItem, mail
from test_crash import crashshim  # noqa: F401  (the fixture)
from test_queue import SINK, fmlqueue, qlist, sinks  # noqa: F401

pytestmark = pytest.mark.skipif(not os.path.exists(SINK), reason="no smtp-sink")

OLD = ["ann@a.example", "bob@b.example", "cat@a.example"]
NEW = ["ann@a.example", "cat@a.example", "dan@c.example", "eve@b.example"]


def settle(ml):
    """actives a minute old: its stamp is trusted (not "unsettled")."""
    past = time.time() - 60
    os.utime(ml.path("actives"), (past, past))


def set_actives(ml, addrs, age):
    ml.write("actives", "".join(a + "\n" for a in addrs))
    t = time.time() - age
    os.utime(ml.path("actives"), (t, t))


def gens(ml):
    return sorted(n for n in ml.area("var", "queue", "rcpt") if re.fullmatch(r"g[0-9a-f]{16}", n))


def gen_of(item):
    return "g" + item.attrs["rcpts"].split(" ")[0]


def post(ml, frm=OLD[0], body="Hello, list.\n"):
    p = ml.post(mail(frm=frm, body=body))
    assert p.returncode == 0, p.stderr


def delivered(sink):
    got = {}
    for _, rcpts, msg in sink.messages():
        n = re.search(rb"X-Mail-Count: (\d+)", msg) or re.search(rb"Subject: \[\w+:0*(\d+)\]", msg)
        for r in rcpts:
            got.setdefault(r, []).append(int(n.group(1)) if n else None)
    return got


def test_two_posts_share_one_generation(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    post(ml)
    post(ml)
    a1, a2 = ml.queue_items()
    assert a1.attrs["rcpts"] == a2.attrs["rcpts"]
    assert "rcpt" not in a1.attrs and a1.rcpts == sorted(OLD, key=lambda a: (a.split("@")[1], a))
    (g,) = gens(ml)
    assert g == gen_of(a1)
    # the items are small: the recipients are not in them
    assert b"bob@b.example" not in a1.raw
    fmlqueue("run", ml.dir)
    assert qlist(ml, "sent") == ["a1", "a2"]
    ino = os.stat(ml.path("var", "queue", "rcpt", g)).st_ino
    for n in ("a1", "a2"):
        assert os.stat(ml.path("var", "queue", "rcpt", "items", n)).st_ino == ino
    assert os.stat(ml.path("var", "queue", "rcpt", g)).st_nlink == 3
    got = sink.by_rcpt()
    assert sorted(got) == sorted(OLD) and all(len(v) == 2 for v in got.values())


def test_membership_change_old_item_keeps_its_recipients(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    post(ml, body="first\n")
    set_actives(ml, NEW, 30)
    post(ml, body="second\n")
    items = {q.name: q for q in ml.queue_items()}
    assert gen_of(items["a1"]) != gen_of(items["a2"])
    assert sorted(gens(ml)) == sorted([gen_of(items["a1"]), gen_of(items["a2"])])
    fmlqueue("run", ml.dir)
    assert qlist(ml, "sent") == ["a1", "a2"]
    first, second = {}, {}
    for _, rcpts, msg in sink.messages():
        for r in rcpts:
            (first if b"\nfirst\n" in msg else second)[r] = first.get(r, 0) + 1
    assert sorted(first) == sorted(OLD)
    assert sorted(second) == sorted(NEW)

    # the old generation goes once no item needs it; the current one stays
    old_gen, cur_gen = gen_of(items["a1"]), gen_of(items["a2"])
    fmlqueue("expire", ml.dir, "--QUEUE_RETENTION=0")
    assert qlist(ml, "sent") == []
    assert ml.area("var", "queue", "rcpt", "items") == []
    assert gens(ml) == [cur_gen] and old_gen != cur_gen
    # and the next post still names the current one
    post(ml, body="third\n")
    (a3,) = ml.queue_items()
    assert gen_of(a3) == cur_gen


def test_old_generation_kept_while_an_item_needs_it(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    post(ml, body="first\n")
    old_gen = gens(ml)
    set_actives(ml, NEW, 30)
    post(ml, body="second\n")  # sweeps: a1 in new/ names the old one
    set_actives(ml, OLD + ["fay@d.example"], 20)
    post(ml, body="third\n")   # sweeps again
    assert set(old_gen) <= set(gens(ml)) and len(gens(ml)) == 3
    # a1 delivered and kept in sent/: its link holds the old generation
    fmlqueue("flush", ml.dir, "a1")
    assert "a1" in qlist(ml, "sent")
    # the next sweep (under the list lock, at expire) removes the names of
    # the generations only new/ items or links need: none here but a2's
    fmlqueue("flush", ml.dir, "a2")
    fmlqueue("expire", ml.dir)  # QUEUE_RETENTION: nothing expires
    assert sorted(qlist(ml, "sent")) == ["a1", "a2"]
    assert QueueItem(ml.path("var", "queue", "sent", "a1")).rcpts == sorted(
        OLD, key=lambda a: (a.split("@")[1], a))


def test_damaged_generation_goes_to_corrupt(make_list, sinks):
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    post(ml)
    (g,) = gens(ml)
    path = ml.path("var", "queue", "rcpt", g)
    raw = bytearray(ml.read("var", "queue", "rcpt", g))
    i = raw.index(b"bob@b.example")
    raw[i:i + 3] = b"rob"  # another address, same length
    os.chmod(path, 0o600)
    with open(path, "wb") as f:
        f.write(raw)
    fmlqueue("run", ml.dir)
    assert qlist(ml, "corrupt") == ["a1"]
    assert sink.messages() == [] or all(r == ["elena-admin@example.org"]
                                        for _, r, _ in sink.messages())
    assert "rob@b.example" not in sink.by_rcpt()
    assert re.search(r"a1.*recipient snapshot.*checksum", ml.log())


@pytest.mark.parametrize("where", ["rename:/var/queue/tmp/a", "rename:/var/queue/rcpt/.tmp"])
def test_crash_between_generation_and_item(make_list, sinks, crashshim, where):  # noqa: F811
    """fml killed before the item's commit rename (the generation made), or
    right after the generation's rename (before its directory is synced): the mail
    stays in var/incoming; the next run queues it naming a generation that
    is there; delivery is complete."""
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    call, _, sub = where.partition(":")
    after = "1" if sub.endswith("/.tmp") else "0"
    p = ml.post(mail(frm=OLD[0]), env={"LD_PRELOAD": crashshim,
                                       "FML_CRASH_ON": "%s:%s" % (call, sub),
                                       "FML_CRASH_AFTER": after})
    assert p.returncode != 0
    assert ml.area("var", "queue", "new") == []
    assert len(gens(ml)) == 1  # made before the item
    post(ml, body="the next post\n")
    for q in ml.queue_items():
        assert gen_of(q) in gens(ml), q.name
        assert sorted(q.rcpts) == sorted(OLD)
    fmlqueue("run", ml.dir)
    assert sorted(qlist(ml, "sent")) == ["a1", "a2"]
    got = sink.by_rcpt()
    assert sorted(got) == sorted(OLD) and all(len(v) == 2 for v in got.values())


def test_old_format_items_still_delivered(make_list, sinks):
    """An article item with rcpt lines (as fml wrote them before the
    snapshots) is delivered as before, next to a snapshot item."""
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    settle(ml)
    post(ml)
    from test_queue import write_item
    write_item(ml, "a0", "elena-admin@example.org", ["old@x.example", "older@y.example"],
               b"Subject: old\n\nold format\n")
    fmlqueue("run", ml.dir)
    assert sorted(qlist(ml, "sent")) == ["a0", "a1"]
    assert QueueItem(ml.path("var", "queue", "sent", "a0")).states == ["D", "D"]
    got = sink.by_rcpt()
    assert sorted(got) == sorted(OLD + ["old@x.example", "older@y.example"])
