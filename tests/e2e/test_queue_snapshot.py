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
    """actives a minute old (stamps are exact now: no longer needed, kept
    so that these tests do what they did)."""
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


@pytest.mark.parametrize("where", ["rename:/var/queue/tmp/p.", "rename:/var/queue/rcpt/.tmp"])
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


def snap_order(addrs):
    return sorted(addrs, key=lambda a: (a.rsplit("@", 1)[1], a))


def gen_file(ml, g):
    """The header fields and the address lines of generation G."""
    head, _, data = ml.read("var", "queue", "rcpt", g).partition(b"\n\n")
    fields = dict(x.decode().split(" ", 1) for x in head.split(b"\n")[1:])
    return fields, data.decode().split("\n")[:-1]


def test_add_then_post_writes_a_delta(make_list, sinks):
    """makefml add appends to actives: the next post's generation is a delta
    on the last full one (the added address only), a second add another
    delta on the same base; every item goes to its own members, each once;
    the deltas no item needs are swept, with their base links."""
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    post(ml, body="first\n")
    (g1,) = gens(ml)
    assert "base" not in gen_file(ml, g1)[0]
    ml.makefml("add", "elena", "dan@c.example")
    post(ml, body="second\n")
    ml.makefml("add", "elena", "Eve@B.example")
    post(ml, body="third\n")
    items = {q.name: q for q in ml.queue_items()}
    g2, g3 = gen_of(items["a2"]), gen_of(items["a3"])
    assert gen_of(items["a1"]) == g1 and len({g1, g2, g3}) == 3
    for g, adds in ((g2, ["dan@c.example"]), (g3, ["Eve@b.example", "dan@c.example"])):
        fields, lines = gen_file(ml, g)
        assert fields["base"] == g1[1:] and lines == adds
        assert fields["count"] == str(len(OLD) + len(adds))
        assert os.stat(ml.path("var", "queue", "rcpt", g + ".base")).st_ino == \
            os.stat(ml.path("var", "queue", "rcpt", g1)).st_ino
    assert items["a2"].rcpts == snap_order(OLD + ["dan@c.example"])
    assert items["a3"].rcpts == snap_order(OLD + ["dan@c.example", "Eve@b.example"])
    fmlqueue("run", ml.dir)
    assert qlist(ml, "sent") == ["a1", "a2", "a3"]
    got = delivered(sink)
    want = {a: [1, 2, 3] for a in OLD}
    want["dan@c.example"] = [2, 3]
    want["Eve@b.example"] = [3]
    assert {r: sorted(v) for r, v in got.items()} == want

    # no item needs g2 any more: it goes, with its base link; g3 (current)
    # and its base stay
    fmlqueue("expire", ml.dir, "--QUEUE_RETENTION=0")
    assert gens(ml) == sorted([g1, g3])
    rcpt = ml.area("var", "queue", "rcpt")
    assert g3 + ".base" in rcpt and g2 + ".base" not in rcpt
    # a bye rewrites actives: a full generation; then nothing needs the
    # old ones, whose names all go
    ml.makefml("bye", "elena", "ann@a.example")
    post(ml, frm=OLD[1], body="fourth\n")
    a4 = {q.name: q for q in ml.queue_items()}["a4"]
    g4 = gen_of(a4)
    assert "base" not in gen_file(ml, g4)[0]
    assert a4.rcpts == snap_order(OLD[1:] + ["dan@c.example", "Eve@b.example"])
    fmlqueue("run", ml.dir)
    fmlqueue("expire", ml.dir, "--QUEUE_RETENTION=0")
    assert gens(ml) == [g4]
    assert [n for n in ml.area("var", "queue", "rcpt") if n.endswith(".base")] == []


def test_hand_append_gives_a_full_generation(make_list, sinks):
    """actives appended to by hand (same inode, no fml): no append of fml
    leads there, so the next generation is a full one."""
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    post(ml, body="first\n")
    ino = os.stat(ml.path("actives")).st_ino
    with open(ml.path("actives"), "a") as f:
        f.write("fay@d.example\n")
    assert os.stat(ml.path("actives")).st_ino == ino
    post(ml, body="second\n")
    a1, a2 = ml.queue_items()
    g2 = gen_of(a2)
    fields, lines = gen_file(ml, g2)
    assert "base" not in fields and lines == snap_order(OLD + ["fay@d.example"])
    fmlqueue("run", ml.dir)
    got = delivered(sink)
    assert {r: sorted(v) for r, v in got.items()} == dict(
        [(a, [1, 2]) for a in OLD] + [("fay@d.example", [2])])


def test_add_of_no_recipient_and_delta_after_delta(make_list, sinks):
    """An add of a member who gets no articles (skip) gives a delta with no
    adds; posts right after edits (no settling) name the current state."""
    sink = sinks().start()
    ml = make_list(members=OLD, SMTP_SERVERS=sink.uri(), DELIVERY_MODE="queue")
    post(ml, body="first\n")
    ml.makefml("add", "elena", "sam@s.example", "skip")
    post(ml, body="second\n")
    ml.makefml("add", "elena", "dan@c.example")
    post(ml, body="third\n")
    a1, a2, a3 = ml.queue_items()
    f2, l2 = gen_file(ml, gen_of(a2))
    f3, l3 = gen_file(ml, gen_of(a3))
    assert f2["base"] == f3["base"] == gen_of(a1)[1:]
    assert l2 == [] and l3 == ["dan@c.example"]
    assert a2.rcpts == snap_order(OLD) and a3.rcpts == snap_order(OLD + ["dan@c.example"])
