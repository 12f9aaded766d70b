"""The full path with a real Postfix on 127.0.0.1 and nothing else:

    SMTP post to elena@example.org -> the private Postfix -> local(8) ->
    the alias pipe "|fml DIR" -> article and queue item -> fmlqueue (kicked
    by fml, or run by hand) -> SMTP to the same Postfix's smtpd -> local(8)
    -> one mbox file per member.

The members alice, bob and carol @example.org are local recipients of the
same instance (aliases to mbox files, PrivatePostfix's `mailboxes`), so the
article comes back to Postfix addressed to them only, never to the list:
no loop.  The maintainer elena-admin and postmaster/mailer-daemon have
mboxes too, so a bounce or a report from fml would be seen, not lost.

What is checked is what the site's admin and the members see: every member
has the article exactly once (counted by Message-ID over every mbox), the
article is spool/1 byte for byte after the trace fields Postfix adds, the
subject tag and X-ML-Name are there, the list's queue item ended in
var/queue/sent/, Postfix's queue is empty and its log has no bounce and no
deferral.
"""
import os
import re
import subprocess

from conftest import (FML, ROOT, MailList, field_value, field_values, mail, split_message,
                      wait_for)

FMLQUEUE = os.path.join(ROOT, "fml", "fmlqueue")
LOCAL = ["alice", "bob", "carol"]
MEMBERS = [n + "@example.org" for n in LOCAL]
MAILBOXES = LOCAL + ["elena-admin", "postmaster"]
# every kind of line SMTP and mbox are touchy about, except "From " at the
# start of a line (local(8) writes it as ">From " in an mbox file)
BODY = ("Hello, list, by the full path.\n"
        ".\n"
        "..two leading dots\n"
        ". a dot and a space\n"
        "trailing blanks   \n"
        "\ta tab first\n"
        "\n" +
        "x" * 200 + "\n" +
        "last line\n")
# what Postfix puts above the message: local(8)'s Return-Path, X-Original-To,
# Delivered-To, and smtpd's Received: (one field, folded)
TRACE = re.compile(rb"\A(Return-Path|X-Original-To|Delivered-To|Received):")


def pipe_aliases(ml):
    return {
        "elena": '"|%s %s"' % (FML, ml.dir),
        "elena-ctl": '"|%s %s --ctladdr"' % (FML, ml.dir),
        "elena-bounces": '"|%s %s --bounce"' % (FML, ml.dir),
        "mailer-daemon": "postmaster",
    }


def include_aliases(ml, newml_out):
    """The alias lines exactly as `makefml newml` printed them (":include:"
    files in the list home, owned by the list owner), with the maintainer
    (makefml's "root") pointed at elena-admin's mbox instead."""
    aliases = {}
    for line in newml_out.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, target = line.partition(":")
            aliases[name.strip()] = target.strip()
    assert aliases["elena"] == ":include:%s/include" % ml.dir, aliases
    assert aliases["elena-ctl"] == ":include:%s/include-ctl" % ml.dir, aliases
    assert aliases["elena-bounces"] == ":include:%s/include-bounces" % ml.dir, aliases
    aliases["elena-admin"] = None  # filled in by `mailboxes`
    aliases["mailer-daemon"] = "postmaster"
    return {k: v for k, v in aliases.items() if v is not None}


def setup_list(ml_dir, private_postfix, mode, style):
    ml = MailList(ml_dir, "elena")
    out = ml.makefml("newml", "elena", "example.org").stdout.decode()
    for m in MEMBERS:
        ml.makefml("add", "elena", m)
    aliases = pipe_aliases(ml) if style == "pipe" else include_aliases(ml, out)
    pf = private_postfix(aliases, mailboxes=MAILBOXES)
    ml.set_config(DELIVERY_MODE=mode, SUBJECT_TAG_TYPE="[:]",
                  SMTP_SERVERS="smtp:127.0.0.1:%d" % pf.port)
    return ml, pf


def queue_ids(pf, msgid):
    """Postfix queue ids of every message with MSGID, in log order."""
    return re.findall(r"postfix-fmltest/cleanup\[\d+\]: ([0-9A-F]+): message-id=%s$"
                      % re.escape(msgid), pf.log(), re.M)


def log_of(pf, qid):
    return [l for l in pf.log().splitlines() if (" %s: " % qid) in l]


def finished(pf, qid, n):
    """QID has N final delivery lines (a deferral is not final)."""
    return len([l for l in log_of(pf, qid)
                if "status=" in l and "status=deferred" not in l]) >= n


def with_msgid(pf, msgid):
    """{mailbox: number of messages with MSGID} over every mailbox."""
    return {n: sum(1 for m in pf.mbox_messages(n)
                   if field_values(m, "Message-ID") == [msgid])
            for n in MAILBOXES}


def members_have(pf, msgid):
    """Every member's mbox has MSGID (polled: local(8) may be writing one)."""
    try:
        got = with_msgid(pf, msgid)
    except AssertionError:  # a message not completely written yet
        return False
    return all(got[n] for n in LOCAL)


def assert_spool_under_trace(delivered, spool):
    """DELIVERED is SPOOL byte for byte under trace fields Postfix added."""
    assert delivered.endswith(spool), (delivered[:3000], spool[:3000])
    above = re.split(rb"(?<=\n)", delivered[:-len(spool)])[:-1]
    assert len(above) >= 4, above
    for i, line in enumerate(above):
        assert TRACE.match(line) or (i and line[:1] in (b" ", b"\t")), above


def diagnostics(pf, ml):
    listing = subprocess.run([FMLQUEUE, "list", ml.dir], capture_output=True)
    return "postfix log:\n%s\nqueue:\n%s\nfml log:\n%s\nfmlqueue list:\n%s" % (
        pf.log()[-4000:], pf.queue_listing(), ml.log()[-2000:],
        listing.stdout.decode(errors="replace") + listing.stderr.decode(errors="replace"))


def post_and_check(ml, pf, msgid, run_queue):
    raw = mail(frm=MEMBERS[0], to="elena@example.org", subject="full path", body=BODY,
               msgid=msgid)
    assert pf.submit(MEMBERS[0], ["elena@example.org"], raw) == {}

    if run_queue:
        # fml only queued: Postfix is done with the post, nobody has it yet
        assert wait_for(lambda: queue_ids(pf, msgid) and finished(pf, queue_ids(pf, msgid)[0], 1)
                        and ml.exists("var", "queue", "new", "a1"), timeout=60), \
            diagnostics(pf, ml)
        assert with_msgid(pf, msgid) == dict.fromkeys(MAILBOXES, 0)
        assert ml.listdir("var", "queue", "sent") == []
        p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
        # Postfix took the article over SMTP before fmlqueue returned
        assert ml.listdir("var", "queue", "sent") == ["a1"], diagnostics(pf, ml)

    want = dict.fromkeys(MAILBOXES, 0)
    want.update(dict.fromkeys(LOCAL, 1))
    assert wait_for(lambda: members_have(pf, msgid) and
                    ml.listdir("var", "queue", "sent") == ["a1"], timeout=60), \
        diagnostics(pf, ml)
    # two messages with that Message-ID went through Postfix: the post (to
    # fml) and the article (to the three members); nothing came back to fml
    assert wait_for(lambda: len(queue_ids(pf, msgid)) == 2 and
                    finished(pf, queue_ids(pf, msgid)[0], 1) and
                    finished(pf, queue_ids(pf, msgid)[1], 3) and pf.queue_empty(),
                    timeout=60), diagnostics(pf, ml)
    post_qid, article_qid = queue_ids(pf, msgid)
    sent = [l for l in log_of(pf, post_qid) if "status=" in l]
    assert len(sent) == 1 and "status=sent" in sent[0], sent
    sent = [l for l in log_of(pf, article_qid) if "status=" in l]
    assert len(sent) == 3 and all("status=sent (delivered to file: " in l for l in sent), sent
    assert sorted(re.search(r" to=<([^>]+)>", l).group(1) for l in sent) == MEMBERS
    assert all("from=<elena-bounces@example.org>" in l for l in log_of(pf, article_qid)
               if "from=<" in l)
    # exactly once each, nothing to the maintainer or the postmaster
    assert with_msgid(pf, msgid) == want
    assert pf.mbox("elena-admin") == b"" and pf.mbox("postmaster") == b""
    assert "status=bounced" not in pf.log() and "status=deferred" not in pf.log()
    assert "sender non-delivery notification" not in pf.log()
    assert pf.queue_empty(), pf.queue_listing()

    # the article: spool/1 byte for byte under the trace fields Postfix adds
    assert ml.articles() == [1]
    spool = ml.spool(1)
    for name in LOCAL:
        (got,) = pf.mbox_messages(name)
        assert field_value(got, "Delivered-To") == name + "@example.org"
        assert field_value(got, "Return-Path") == "<elena-bounces@example.org>"
        assert_spool_under_trace(got, spool)
        assert field_value(got, "Subject") == "[elena:00001] full path"
        assert field_value(got, "X-ML-Name") == "elena"
        assert field_value(got, "Message-ID") == msgid
    # the body is the one posted; local(8) ends what it pipes to fml with
    # the mbox blank line, which fml keeps (see test_postfix.py)
    assert split_message(spool)[1] in (BODY.encode(), BODY.encode() + b"\n")

    # the list's side: one item, delivered, in sent/; nothing else anywhere
    assert ml.incoming() == []
    for area in ("tmp", "new", "active", "deferred", "drop", "corrupt"):
        assert ml.area("var", "queue", area) == [], area
    (item,) = ml.queue_items("sent")
    item.verify()
    assert item.name == "a1"
    assert item.sender == "elena-bounces@example.org"
    assert sorted(item.rcpts) == MEMBERS
    assert item.states == ["D"] * 3
    assert item.message == spool


def test_background_kick_through_pipe_aliases(ml_dir, private_postfix):
    """DELIVERY_MODE background (the default): fml starts the delivery
    itself, the article reaches every member without anything else run."""
    ml, pf = setup_list(ml_dir, private_postfix, "background", "pipe")
    post_and_check(ml, pf, "<fullpath-bg@example.org>", run_queue=False)


def test_background_kick_through_makefml_include_aliases(ml_dir, private_postfix):
    ml, pf = setup_list(ml_dir, private_postfix, "background", "include")
    post_and_check(ml, pf, "<fullpath-inc@example.org>", run_queue=False)


def test_queue_mode_then_fmlqueue_run(ml_dir, private_postfix):
    """DELIVERY_MODE queue: nothing is delivered until `fmlqueue run DIR`."""
    ml, pf = setup_list(ml_dir, private_postfix, "queue", "pipe")
    post_and_check(ml, pf, "<fullpath-queue@example.org>", run_queue=True)


def mbox_subjects(pf, name):
    try:
        return [field_value(m, "Subject") or "" for m in pf.mbox_messages(name)]
    except AssertionError:  # a message not completely written yet
        return []


def mbox_find(pf, name, subject_start):
    try:
        return [m for m in pf.mbox_messages(name)
                if (field_value(m, "Subject") or "").startswith(subject_start)]
    except AssertionError:
        return []


def test_subscribe_and_confirm_by_smtp(ml_dir, private_postfix):
    """issue 4: a subscribe request and its confirmation sent by SMTP end
    with the new member receiving the next post, every step through the
    real Postfix (the confirmation request, the welcome and the article
    reach dave's mailbox by fml's queue and SMTP)."""
    dave = "dave@example.org"
    ml = MailList(ml_dir, "elena")
    ml.makefml("newml", "elena", "example.org")
    for m in MEMBERS:
        ml.makefml("add", "elena", m)
    pf = private_postfix(pipe_aliases(ml), mailboxes=MAILBOXES + ["dave"])
    ml.set_config(DELIVERY_MODE="background", SMTP_SERVERS="smtp:127.0.0.1:%d" % pf.port)

    raw = mail(frm=dave, to="elena-ctl@example.org", subject="join", body="subscribe Dave\n",
               msgid="<sub-1@example.org>")
    assert pf.submit(dave, ["elena-ctl@example.org"], raw) == {}
    assert wait_for(lambda: mbox_find(pf, "dave", "Confirm subscribe"), timeout=60), \
        diagnostics(pf, ml)
    (request,) = mbox_find(pf, "dave", "Confirm subscribe")
    (cid,) = re.findall(rb"confirm ([0-9a-f]{32})", request)
    assert dave not in ml.text("members")

    # the answer a mail client makes: Re: subject, the request quoted
    answer = mail(frm=dave, to="elena-ctl@example.org",
                  subject="Re: Confirm subscribe (elena ML)",
                  body="> confirm %s\n>\n> You asked to join\n" % cid.decode(),
                  msgid="<sub-2@example.org>")
    assert pf.submit(dave, ["elena-ctl@example.org"], answer) == {}
    assert wait_for(lambda: dave in ml.text("members") and dave in ml.text("actives"),
                    timeout=60), diagnostics(pf, ml)
    assert wait_for(lambda: mbox_find(pf, "dave", "Welcome to elena@example.org"),
                    timeout=60), diagnostics(pf, ml)
    assert wait_for(lambda: mbox_find(pf, "elena-admin", "New member: dave@example.org"),
                    timeout=60), diagnostics(pf, ml)

    msgid = "<after-subscribe@example.org>"
    post = mail(frm=MEMBERS[0], to="elena@example.org", subject="hello dave",
                body="Welcome, Dave.\n", msgid=msgid)
    assert pf.submit(MEMBERS[0], ["elena@example.org"], post) == {}
    assert wait_for(lambda: mbox_find(pf, "dave", "hello dave"), timeout=60), \
        diagnostics(pf, ml)
    (got,) = mbox_find(pf, "dave", "hello dave")
    assert field_value(got, "Message-ID") == msgid
    assert got.endswith(ml.spool(1))
    # two status reports, one confirmation request, one welcome, one article
    assert wait_for(lambda: len(mbox_subjects(pf, "dave")) == 5, timeout=30), \
        mbox_subjects(pf, "dave")
    assert "status=bounced" not in pf.log()
