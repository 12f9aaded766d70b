"""Bounces (issue 12; lib/actions/bounce.h, doc/fml-bounce.7): fml --bounce
reads who failed from VERP or from the bounce itself (lib/mail/dsn.h),
scores members in var/db/bounces, and at the threshold sets them off, tells
them how to come back and tells the maintainer.  Real list homes, real
files, the real fml; the bounces are samples of what MTAs send.
"""
import os
import re
import subprocess
import time

import pytest

from conftest import FML, MailList, field_value, mail, owner_ids, wait_for
from test_crash import crashshim  # noqa: F401  (the fixture)
from test_queue import FMLQUEUE, sinks  # noqa: F401  (the fixture)
from test_digest import FMLDIGEST
from test_queue_protocols import lmtp  # noqa: F401  (the fixture)

ALICE, BOB = "alice@example.com", "bob@example.net"


def dsn(rcpt, status="5.1.1", action="failed", diag="550 5.1.1 user unknown", to=None):
    """A Postfix-style delivery report for RCPT."""
    return ("""Return-Path: <>
Delivered-To: %s
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: elena-bounces@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.net.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: %s
Status: %s
Diagnostic-Code: smtp; %s

--B
Content-Type: text/rfc822-headers

From: carol@example.com
To: elena@example.org
Subject: [elena:00001] hello

--B--
""" % (to or "elena-bounces@example.org", rcpt, action, status, diag)).encode()


def bounce(ml, data, *args, env=None):
    return ml.post(data, "--bounce", *args, env=env)


def records(ml):
    """makefml bounces: {address: (score, status, state)}"""
    p = ml.makefml("bounces", ml.name)
    out = {}
    for line in p.stdout.decode().splitlines():
        addr, score, status, _date, state = line.split(" ", 4)
        out[addr] = (float(score), status, state)
    return out


def backdate(ml, addr, days, score):
    """What DAYS days of bounces would have left: ADDR's record with SCORE,
    last counted DAYS ago (a line appended, as fml appends)."""
    now = int(time.time()) - days * 86400
    path = ml.path("var", "db", "bounces")
    with open(path, "a") as f:
        f.write("%s %g %d %d 5.1.1 scoring 0 0 earlier\n" % (addr, score, now // 86400, now))
    os.chown(path, *owner_ids())


def digest_job(ml, *args):
    """The hourly job (fmldigest), which does the bounces' daily work."""
    return subprocess.run([FMLDIGEST, ml.dir, *args], capture_output=True, timeout=60)


def notices(ml, to):
    return [i for i in ml.all_items() if i.rcpts == [to] and i.sender == ""]


def subjects(items):
    out = []
    for i in items:
        for line in i.message.split(b"\n"):
            if line.startswith(b"Subject: "):
                out.append(line[9:].decode())
                break
    return out


def test_a_member_who_bounces_is_scored_then_set_off_and_told(make_list):
    ml = make_list(members=[ALICE, BOB])
    p = bounce(ml, dsn(ALICE))
    assert p.returncode == 0, p.stderr
    assert records(ml) == {ALICE: (1, "5.1.1", "scoring")}
    assert ml.listdir("var", "incoming") == []
    # the same day again: one score a day
    assert bounce(ml, dsn(ALICE)).returncode == 0
    assert records(ml) == {ALICE: (1, "5.1.1", "scoring")}
    assert "counted once a day" in ml.log()
    # four more days of bounces, then today's: the threshold (5)
    backdate(ml, ALICE, 1, 4)
    assert bounce(ml, dsn(ALICE, diag="550 5.1.1 <alice@example.com>: no mailbox")).returncode == 0
    assert records(ml) == {ALICE: (5, "5.1.1", "off")}
    assert "#\t" + ALICE in ml.text("actives") and BOB in ml.text("members")
    told = subjects(notices(ml, ALICE))
    assert told == ["Delivery to you is stopped (elena ML)"], told
    (text,) = [i.message for i in notices(ml, ALICE)]
    assert b"no mailbox" in text and b"elena-ctl@example.org" in text and b"    on\n" in text
    # the maintainer reads it in the day's summary, not one mail per bounce
    assert notices(ml, "elena-admin@example.org") == []
    assert digest_job(ml).returncode == 0
    (summary,) = notices(ml, "elena-admin@example.org")
    assert b"alice@example.com: delivery stopped (score 5, last 5.1.1)" in summary.message
    # articles no longer go to alice
    assert ml.post(mail(frm=BOB)).returncode == 0
    (item,) = [i for i in ml.queue_items() if i.name.startswith("a")]
    assert item.rcpts == [BOB] and item.sender == "elena-bounces@example.org"
    # "on" brings her back and starts her record again
    ml.makefml("on", ml.name, ALICE)
    assert records(ml) == {}
    assert "#\t" + ALICE not in ml.text("actives")


def test_a_stale_score_starts_again(make_list):
    ml = make_list(members=[ALICE])
    backdate(ml, ALICE, 8, 4)  # BOUNCE_INFO_STALE_AFTER is 7 days
    assert bounce(ml, dsn(ALICE)).returncode == 0
    assert records(ml) == {ALICE: (1, "5.1.1", "scoring")}


def test_soft_bounces_score_half_and_full_mailboxes_are_soft(make_list):
    ml = make_list(members=[ALICE, BOB])
    assert bounce(ml, dsn(ALICE, status="4.4.1", diag="connection timed out")).returncode == 0
    assert bounce(ml, dsn(BOB, status="5.2.2", diag="552 5.2.2 mailbox full")).returncode == 0
    assert records(ml) == {ALICE: (0.5, "4.4.1", "scoring"), BOB: (0.5, "5.2.2", "scoring")}


def test_verp_names_the_member_whatever_the_bounce_says(make_list):
    ml = make_list(members=[ALICE, BOB])
    vague = (b"Delivered-To: elena-bounces+bob=example.net@example.org\n"
             b"From: postmaster@example.net\nSubject: oops\n\nSomething went wrong.\n")
    assert bounce(ml, vague).returncode == 0
    assert records(ml) == {BOB: (1, "5.0.0", "scoring")}
    # a vacation answer to the envelope sender is no bounce, VERP or not
    away = (b"Delivered-To: elena-bounces+alice=example.com@example.org\n"
            b"From: alice@example.com\nAuto-Submitted: auto-replied\n"
            b"Subject: Out of office\n\nBack on Monday.\n")
    assert bounce(ml, away, env={"SENDER": ALICE}).returncode == 0
    assert ALICE not in records(ml)
    assert "no report: not a bounce" in ml.log()
    # a report about a forwarded address: VERP still says who it was
    assert bounce(ml, dsn("bob.smith@mail.example.net",
                          to="elena-bounces+alice=example.com@example.org")).returncode == 0
    assert records(ml)[ALICE] == (1, "5.1.1", "scoring")


def test_what_is_not_the_members_fault_is_not_counted(make_list):
    ml = make_list(members=[ALICE, BOB])
    dmarc = dsn(ALICE, status="5.7.26", diag="550 5.7.26 Unauthenticated email from "
                "yahoo.example is not accepted due to domain's DMARC policy")
    assert bounce(ml, dmarc).returncode == 0
    assert bounce(ml, dsn(BOB, action="delayed", status="4.4.1")).returncode == 0
    assert bounce(ml, dsn("stranger@example.org")).returncode == 0
    assert bounce(ml, dsn("elena@example.org")).returncode == 0
    assert records(ml) == {}
    log = ml.log()
    assert "refused the message, not the address" in log
    assert "a delay" in log and "receives no articles" in log
    assert "the list's own address" in log
    # the maintainer reads the refusals in the day's summary
    assert digest_job(ml).returncode == 0
    (summary,) = notices(ml, "elena-admin@example.org")
    assert (b"refused by example.com 5.7.26 1 time(s), not counted; e.g. alice@example.com: "
            b"550 5.7.26 Unauthenticated email from yahoo.example") in summary.message
    assert not ml.exists("var", "db", "bounce-refused")


def test_a_bounce_that_names_no_one_is_kept_for_the_maintainer(make_list):
    ml = make_list(members=[ALICE])
    p = bounce(ml, b"From: someone@example.net\nSubject: hi\n\nNothing here.\n")
    assert p.returncode == 0, p.stderr
    assert records(ml) == {}
    assert [n for n in ml.listdir("var", "log") if n.startswith("bounce.")]
    assert "no address recognized" in ml.log()


def test_a_report_to_the_posting_address_is_analysed_not_distributed(make_list):
    ml = make_list(members=[ALICE, BOB])
    p = ml.post(dsn(ALICE), env={"SENDER": ""})
    assert p.returncode == 0, p.stderr
    assert ml.articles() == []
    assert records(ml) == {ALICE: (1, "5.1.1", "scoring")}


def test_a_bounce_from_a_member_is_still_not_a_post(make_list):
    """The bounce address never makes an article, whoever it seems from."""
    ml = make_list(members=[ALICE])
    assert bounce(ml, mail(frm=ALICE, subject="hello list")).returncode == 0
    assert ml.articles() == [] and ml.queue_items() == []


def test_newml_makes_the_bounce_alias(make_list):
    ml = make_list()
    assert ml.text("include-bounces") == '"|%s %s --bounce"\n' % (FML, ml.dir)
    assert ml.makefml("check", ml.name).returncode == 0


def counted_calls(ml, data, shim, env=None):
    """The calls a bounce run makes that change durable state (crashshim)."""
    cnt = ml.path("..", "count.%d" % time.monotonic_ns())
    e = {"LD_PRELOAD": shim, "FML_CRASH_COUNT": cnt}
    e.update(env or {})
    p = bounce(ml, data, env=e)
    assert p.returncode == 0, p.stderr
    with open(cnt) as f:
        n = int(f.read().strip() or 0)
    os.unlink(cnt)
    return n


def test_a_kill_at_any_step_counts_the_bounce_once_and_tells_once(make_list, crashshim):  # noqa: F811
    """kill -9 before and after every durable step of a bounce that sets a
    member off; the next run finishes it: the score is counted once, the
    member is off, each notice is queued once."""
    probe = make_list("probe", members=[ALICE])
    backdate(probe, ALICE, 1, 4)
    total = counted_calls(probe, dsn(ALICE), crashshim)
    assert total > 5
    for k in range(1, total + 1):
        for after in (0, 1):
            ml = make_list("k%da%d" % (k, after), members=[ALICE])
            backdate(ml, ALICE, 1, 4)
            env = {"LD_PRELOAD": crashshim, "FML_CRASH_AT": str(k),
                   "FML_CRASH_AFTER": str(after)}
            p = bounce(ml, dsn(ALICE), env=env)
            assert p.returncode in (0, 75, -9, 137), (k, after, p.returncode)
            # the MTA keeps what fml did not accept and delivers it again
            again = bounce(ml, dsn(ALICE)) if p.returncode != 0 else None
            if again is not None:
                assert again.returncode == 0, again.stderr
            drain = subprocess.run([FML, ml.dir], input=b"", capture_output=True)
            assert drain.returncode == 0, drain.stderr
            assert [n for n in ml.listdir("var", "incoming") if not n.startswith("tmp.")] == [], (k, after)
            assert records(ml) == {ALICE: (5, "5.1.1", "off")}, (k, after)
            assert "#\t" + ALICE in ml.text("actives"), (k, after)
            assert len(notices(ml, ALICE)) == 1, (k, after)
            assert notices(ml, "%s-admin@example.org" % ml.name) == [], (k, after)


@pytest.mark.parametrize("xverp", [False, True])
def test_through_postfix_a_dead_member_is_set_off_and_articles_stop(ml_dir, private_postfix,
                                                                    xverp):
    """A real Postfix on 127.0.0.1 with the aliases `makefml newml` prints:
    dave's mailbox refuses every mail (a command that exits 67, EX_NOUSER:
    Postfix bounces it as 5.1.1), so Postfix returns the article to
    elena-bounces, whose alias runs fml --bounce; at the threshold (1 here)
    dave is set off and told, and the next article is not sent to him.
    With XVERP offered (smtpd_authorized_verp_clients), fmlqueue still sends
    one transaction and Postfix gives each member a sender of its own: the
    bounce comes to elena-bounces+dave=example.org, which names dave."""
    from test_fullpath import include_aliases
    ml = MailList(ml_dir, "elena")
    out = ml.makefml("newml", "elena", "example.org").stdout.decode()
    members = ["alice@example.org", "dave@example.org"]
    for m in members:
        ml.makefml("add", "elena", m)
    nouser = os.path.join(ml_dir, "nouser.sh")
    with open(nouser, "w") as f:
        f.write("#!/bin/sh\necho 'no such mailbox' >&2\nexit 67\n")
    os.chmod(nouser, 0o755)
    aliases = include_aliases(ml, out)
    aliases["dave"] = '"|%s"' % nouser
    main = ["smtpd_authorized_verp_clients = 127.0.0.0/8", "recipient_delimiter = +"]
    pf = private_postfix(aliases, mailboxes=["alice", "elena-admin", "postmaster"],
                         main=main if xverp else ())
    ml.set_config(DELIVERY_MODE="queue", BOUNCE_SCORE_THRESHOLD="1",
                  SMTP_SERVERS="smtp:127.0.0.1:%d" % pf.port)
    assert pf.submit("alice@example.org", ["elena@example.org"],
                     mail(frm="alice@example.org", subject="first")) == {}
    assert wait_for(lambda: ml.exists("var", "queue", "new", "a1"), timeout=60), pf.log()[-3000:]
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert wait_for(lambda: "#\tdave@example.org" in ml.text("actives"), timeout=60), \
        (pf.log()[-4000:], ml.log()[-2000:])
    assert records(ml) == {"dave@example.org": (1, "5.1.1", "off")}
    assert "status=bounced" in pf.log()
    # one transaction for both members, with or without XVERP
    assert re.search(r"from=<elena-bounces@example\.org>, size=\d+, nrcpt=2 ", pf.log())
    (got,) = pf.mbox_messages("alice")
    sender = "elena-bounces+alice=example.org" if xverp else "elena-bounces"
    assert field_value(got, "Return-Path") == "<%s@example.org>" % sender
    assert ("dave@example.org 5.1.1 hard (verp+dsn)" in ml.log()) == xverp
    assert subjects(notices(ml, "dave@example.org")) == ["Delivery to you is stopped (elena ML)"]
    # the bounce was analysed, not kept, not distributed, not sent on
    assert [n for n in ml.listdir("var", "log") if n.startswith("bounce.")] == []
    assert ml.articles() == [1] and pf.mbox("elena-admin") == b""
    assert pf.submit("alice@example.org", ["elena@example.org"],
                     mail(frm="alice@example.org", subject="second")) == {}
    assert wait_for(lambda: ml.exists("var", "queue", "new", "a2"), timeout=60)
    (a2,) = [i for i in ml.queue_items() if i.name == "a2"]
    assert a2.rcpts == ["alice@example.org"]
    # the day's summary tells the maintainer; "on" by mail brings dave back
    assert digest_job(ml).returncode == 0
    (summary,) = notices(ml, "elena-admin@example.org")
    assert b"dave@example.org: delivery stopped" in summary.message
    assert pf.submit("dave@example.org", ["elena-ctl@example.org"],
                     mail(frm="dave@example.org", to="elena-ctl@example.org", body="on\n")) == {}
    assert wait_for(lambda: "#\tdave@example.org" not in ml.text("actives"), timeout=60), \
        ml.log()[-2000:]
    assert records(ml) == {}


def test_a_relay_refusal_at_rcpt_counts_without_a_bounce_mail(make_list, lmtp):
    """fmlqueue gives up on a member the relay refuses with 5xx at RCPT, and
    hands it to the bounce analysis as a delivery report in var/incoming;
    the next run counts it.  A 4xx is not given up on (not counted); a
    DMARC refusal is given up on but not counted against the member."""
    srv, uri = lmtp("tcp", rcpt_replies={
        "dan@c.example": "550 5.1.1 no such user",
        "bob@b.example": "452 4.2.2 mailbox full",
        "eve@b.example": "550 5.7.26 rejected: DMARC policy of the author's domain"})
    members = ["ann@a.example", "bob@b.example", "eve@b.example", "dan@c.example"]
    ml = make_list(members=members, SMTP_SERVERS=uri)
    assert ml.post(mail(frm=members[0])).returncode == 0
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    (waiting,) = [n for n in ml.listdir("var", "incoming") if not n.startswith("tmp.")]
    assert ml.read("var", "incoming", waiting).startswith(b"fml-incoming 1 bounce <>\n")
    assert records(ml) == {}
    # the next run of fmlqueue (or of fml) drains it first
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert [n for n in ml.listdir("var", "incoming") if not n.startswith("tmp.")] == []
    assert records(ml) == {"dan@c.example": (1, "5.1.1", "scoring")}
    assert "eve@b.example 5.7.26 refused the message, not the address" in ml.log()
    assert ml.articles() == [1]
    # bob's 4xx lasts until the queue's lifetime is over: given up, soft
    p = subprocess.run([FMLQUEUE, "flush", ml.dir, "--QUEUE_LIFETIME=0"], capture_output=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert records(ml) == {"dan@c.example": (1, "5.1.1", "scoring"),
                           "bob@b.example": (0.5, "4.4.7", "scoring")}


@pytest.mark.parametrize("mode,per_rcpt", [("xverp", False), ("always", True), ("off", False),
                                           ("probe", True)])
def test_verp_modes_without_xverp(make_list, lmtp, mode, per_rcpt):
    """A relay that offers no XVERP (the LMTP server here): xverp and off
    send one plain transaction; always (and probe, for every
    VERP_PROBE_INTERVAL-th article: 1 here) one per recipient, each with its
    own sender.  Replies keep the null sender."""
    srv, uri = lmtp("tcp")
    members = ["ann@a.example", "bob@b.example"]
    ml = make_list(members=members, SMTP_SERVERS=uri, VERP_MODE=mode, VERP_PROBE_INTERVAL="1")
    assert ml.post(mail(frm=members[0])).returncode == 0
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    got = sorted((s, tuple(r)) for s, r, _ in srv.messages)
    if per_rcpt:
        assert got == [("elena-bounces+ann=a.example@example.org", ("ann@a.example",)),
                       ("elena-bounces+bob=b.example@example.org", ("bob@b.example",))]
    else:
        assert got == [("elena-bounces@example.org", tuple(members))]


def test_reports_and_daemons_on_the_posting_address_are_never_distributed(make_list):
    """Whatever PERMIT_POST_FROM says: a delivery report from a real sender,
    and a mail From: a daemon or role address (fml 4's REJECT_ADDR), go to
    the bounce analysis."""
    ml = make_list(members=[ALICE, "postmaster@example.net"], PERMIT_POST_FROM="anyone")
    assert ml.post(dsn(ALICE), env={"SENDER": "relay@mx.example.net"}).returncode == 0
    assert records(ml) == {ALICE: (1, "5.1.1", "scoring")}
    assert ml.post(mail(frm="postmaster@example.net", subject="hello")).returncode == 0
    assert ml.post(mail(frm="MAILER-DAEMON@example.net", subject="x")).returncode == 0
    assert ml.articles() == []
    assert len([n for n in ml.listdir("var", "log") if n.startswith("bounce.")]) == 2


def test_vacation_replies_to_the_list_are_dropped_and_logged(make_list):
    ml = make_list(members=[ALICE, BOB])
    for extra in ("Auto-Submitted: auto-replied (vacation)", "X-Autoreply: yes",
                  "Precedence: auto_reply"):
        assert ml.post(mail(frm=BOB, subject="Out of office", extra=extra)).returncode == 0
    assert ml.articles() == []
    assert len([n for n in ml.listdir("var", "log") if n.startswith("autoreply.")]) == 3
    assert "an automatic reply" in ml.log()
    # an automated post that is not a reply still goes out; so does every
    # reply when the list wants them
    assert ml.post(mail(frm=BOB, extra="Auto-Submitted: auto-generated")).returncode == 0
    ml.set_config(DROP_AUTO_REPLIES="0")
    assert ml.post(mail(frm=BOB, extra="Auto-Submitted: auto-replied")).returncode == 0
    assert ml.articles() == [1, 2]


def test_a_member_set_off_is_reminded_then_removed(make_list):
    """BOUNCE_WARNINGS (3) reminders a BOUNCE_WARNING_INTERVAL (7 days) apart,
    then removal, each done by the daily work of fmldigest and summarised
    to the maintainer; a member who came back on in between is left alone."""
    ml = make_list(members=[ALICE, BOB])
    for who in (ALICE, BOB):
        ml.makefml("off", ml.name, who)
    path = ml.path("var", "db", "bounces")

    def set_off(addr, warned, days_ago):
        t = int(time.time()) - days_ago * 86400
        with open(path, "a") as f:
            f.write("%s 5 %d %d 5.1.1 off %d %d earlier\n" % (addr, t // 86400, t, warned, t))
        os.chown(path, *owner_ids())

    days = [0]

    def day():
        """A day later for the daily work: its last run a day (and a bit) ago."""
        days[0] += 1
        ml.write("var/run/bounce-daily", "%d\n" % (int(time.time()) - 86400 - days[0]))
        p = digest_job(ml)
        assert p.returncode == 0, p.stderr

    set_off(ALICE, 0, 8)
    set_off(BOB, 0, 8)
    ml.makefml("on", ml.name, BOB)  # bob came back: no reminder, no record
    day()
    assert records(ml) == {ALICE: (5, "5.1.1", "warned 1")}
    assert subjects(notices(ml, ALICE)) == ["Reminder: Delivery to you is stopped (elena ML)"]
    assert notices(ml, BOB) == []
    # not again the same day, nor within the interval
    assert digest_job(ml).returncode == 0
    day()
    assert len(notices(ml, ALICE)) == 1
    # the last reminder a week later, then the removal a week after that
    set_off(ALICE, 3, 8)
    day()
    assert records(ml)[ALICE][2] == "removed"
    assert ALICE not in ml.text("members").split("\n")
    assert "You are removed from (elena ML)" in subjects(notices(ml, ALICE))
    summaries = [n.message for n in notices(ml, "elena-admin@example.org")]
    assert any(b"reminder 1 sent" in m for m in summaries)
    assert any(b"alice@example.com: removed after the last reminder" in m for m in summaries)


def test_many_members_at_one_domain_failing_alike_is_a_list_incident(make_list):
    """Five members at one provider refused with the same code within the
    hour (a code that says nothing of their mailboxes): the list's trouble,
    not theirs.  From the fifth on nothing is counted and the maintainer is
    alerted once; a bad mailbox (5.1.1) at the same provider still counts."""
    members = ["m%d@big.example" % i for i in range(7)] + [ALICE]
    ml = make_list(members=members)
    for m in members[:7]:
        assert bounce(ml, dsn(m, status="5.4.1", diag="550 5.4.1 Recipient address rejected: "
                              "Access denied")).returncode == 0
    got = records(ml)
    assert sorted(a for a in got) == members[:4], got
    log = ml.log()
    assert log.count("a list incident, not counted") == 3
    alerts = [n for n in notices(ml, "elena-admin@example.org")
              if b"big.example refuses" in n.message]
    assert len(alerts) == 1, alerts
    assert b"5 members at big.example had the list's mail refused with 5.4.1" in alerts[0].message
    # the member's own trouble is never an incident
    for m in members[:6]:
        assert bounce(ml, dsn(m, status="5.1.1")).returncode == 0
    assert all(records(ml)[m][1] == "5.1.1" for m in members[4:6])
    ml.set_config(BOUNCE_INCIDENT_LIMIT="0")
    assert bounce(ml, dsn(members[6], status="5.4.1")).returncode == 0
    assert records(ml)[members[6]] == (1, "5.4.1", "scoring")


def test_a_new_subscription_starts_with_no_record(make_list):
    """A member removed for bouncing who joins again starts from 0."""
    ml = make_list(members=[ALICE], BOUNCE_ACTION="bye", BOUNCE_SCORE_THRESHOLD="1")
    assert bounce(ml, dsn(ALICE)).returncode == 0
    assert records(ml) == {ALICE: (1, "5.1.1", "removed")}
    assert ALICE not in ml.text("members").split("\n")
    ml.makefml("add", ml.name, ALICE)
    assert records(ml) == {}


def test_the_list_asks_for_dsns_naming_the_item_and_the_member(make_list, sinks):
    """Where the relay offers DSN (RFC 3461; smtp-sink does), the list's mail
    goes with RET=HDRS ENVID=<item> and each recipient with
    NOTIFY=FAILURE,DELAY ORCPT=rfc822;<member>: a report names the member
    even after a forward.  fml's own replies (null sender) ask for none."""
    sink = sinks().start()
    ml = make_list(members=["ann@a.example", "b+x@b.example"], SMTP_SERVERS=sink.uri())
    assert ml.post(mail(frm="ann@a.example")).returncode == 0
    assert ml.post(mail(frm="stranger@c.example", body="# guide\n")).returncode == 0
    p = subprocess.run([FMLQUEUE, "run", ml.dir], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    args = {}
    for name in os.listdir(sink.dir):
        with open(os.path.join(sink.dir, name), "rb") as f:
            head = f.read().split(b"\nReceived: ")[0].decode()
        mail_args = [l for l in head.split("\n") if l.startswith("X-Mail-Args: ")][0]
        args[mail_args] = sorted(l for l in head.split("\n") if l.startswith("X-Rcpt-Args: "))
    assert args == {
        "X-Mail-Args: <elena-bounces@example.org> RET=HDRS ENVID=a1": [
            "X-Rcpt-Args: <ann@a.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;ann@a.example",
            "X-Rcpt-Args: <b+x@b.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b+2Bx@b.example"],
        [k for k in args if "<>" in k][0]: ["X-Rcpt-Args: <stranger@c.example>"]}
