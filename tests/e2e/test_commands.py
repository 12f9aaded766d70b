"""Commands by mail (issue 4): `fml DIR --ctladdr` and "# cmd" lines in a
post, the confirmation round trips, get/mget in every mode, admin commands
with passwords and the lockout, moderation, and hostile input.

What is checked is what a member, an admin and the maintainer see: the
reply queued for them (recipients, header, the report text), the member
files, the spool, the log.  Replies are queue items with the null sender
(conftest's MailList.replies)."""
import base64
import email
import email.policy
import gzip
import io
import mailbox
import os
import re
import subprocess
import tarfile
import time

import pytest

from conftest import CTL, MAINTAINER, ROOT, assert_done, header_fields, mail, split_message

ALICE = "alice@example.com"
BOB = "bob@example.net"
CAROL = "carol@example.org"
ADMIN = "admin@example.com"
MOD = "mod@example.com"
REPORT = "fml Command Status report (elena ML)"
ID_RE = re.compile(r"confirm ([0-9a-f]{32})")


@pytest.fixture
def elena(make_list):
    return make_list("elena", members=[ALICE, BOB])


def send(ml, body, frm=ALICE, ctl=True, to=CTL, extra="", subject="commands", msgid=None):
    """Pipe a command mail into fml; returns the replies it queued."""
    before = {i.name for i in ml.replies()}
    p = ml.post(mail(frm=frm, to=to, subject=subject, body=body, extra=extra, msgid=msgid),
                ctl=ctl)
    assert_done(ml, p)
    return [i for i in ml.replies() if i.name not in before]


def text(item):
    return item.body.decode("utf-8", errors="replace")


def report(replies, to=ALICE):
    """The one status report among REPLIES, sent to TO."""
    reps = [r for r in replies if r.field("Subject") == REPORT]
    assert len(reps) == 1, [(r.field("Subject"), r.rcpts) for r in replies]
    assert reps[0].rcpts == [to]
    return text(reps[0])


def run(ml, body, frm=ALICE, **kw):
    return report(send(ml, body, frm=frm, **kw), to=kw.pop("to_", frm))


def to_addr(replies, addr, subject_start):
    got = [r for r in replies if r.rcpts == [addr] and
           r.field("Subject").startswith(subject_start)]
    assert len(got) == 1, [(r.field("Subject"), r.rcpts) for r in replies]
    return got[0]


def post(ml, n, frm=ALICE, body=None):
    for i in range(n):
        p = ml.post(mail(frm=frm, subject="article %d" % (i + 1),
                         body=body or "Body of article %d.\n-dash line\nFrom here\n" % (i + 1)))
        assert_done(ml, p)


def member_lines(ml, name):
    return [l for l in ml.text(name).splitlines() if l and not l.startswith("# ")]


# ---------------------------------------------------------------- the parser and the report


def test_report_header_and_echo(elena):
    reps = send(elena, "help\n", msgid="<ask-help@example.com>")
    (r,) = reps
    assert r.field("Subject") == REPORT
    assert r.rcpts == [ALICE] and r.sender == ""
    assert r.field("To") == ALICE
    assert r.field("Auto-Submitted") == "auto-replied"
    assert r.field("In-Reply-To") == "<ask-help@example.com>"
    assert "<elena.example.org>" in r.field("List-Id")
    body = text(r)
    assert body.startswith(">>> help\n")
    assert "Help for the elena mailing list" in body
    assert "command from alice@example.com: help" in elena.log()


def test_reply_goes_to_reply_to(elena):
    reps = send(elena, "objective\n", extra="Reply-To: alice.other@example.com")
    (r,) = reps
    assert r.rcpts == ["alice.other@example.com"]


def test_unknown_command_reported_and_processing_goes_on(elena):
    body = run(elena, "frobnicate now\nobjective\n")
    assert ">>> frobnicate now\nError: unknown command" in body
    assert ">>> objective\nThe objective of the elena mailing list" in body


@pytest.mark.parametrize("stop", ["end", "quit", "exit", "-- "])
def test_end_and_signature_stop(elena, stop):
    body = run(elena, "objective\n%s\nAlice\nstatus\n" % stop)
    assert ">>> objective" in body
    assert ">>> status" not in body


def test_quoted_and_blank_lines_skipped(elena):
    body = run(elena, "\n> status\n\n   \nobjective\n")
    assert body.count(">>> ") == 1 and ">>> objective" in body


def test_hash_commands_in_a_post_are_not_distributed(elena):
    reps = send(elena, "# status\n# objective\nThanks!\n", ctl=False, to="elena@example.org")
    body = report(reps)
    assert ">>> status\n" in body and ">>> objective\n" in body
    assert "Thanks" not in body
    assert elena.articles() == []


def test_no_command_sends_help(elena):
    body = run(elena, "> only a quote\n\n")
    assert body.startswith("No command was found in your mail.  The help file follows.")
    assert "Help for the elena mailing list" in body
    # on the command address a line of prose is an (unknown) command
    body = run(elena, "Hello, how do I use this list?\n")
    assert "Error: unknown command" in body


def test_10000_commands_in_one_mail(elena):
    body = run(elena, "help\n" * 10000)  # 50,000 bytes: all read
    assert body.count(">>> help\n") == 100
    assert "9900 more lines were not read" in body, body[-500:]
    body = run(elena, "status\n" * 10000)  # 70,000 bytes: the first 64 KiB
    assert body.count(">>> status\n") == 100
    assert "Only the first 64 KiB of the mail were read." in body


def test_line_too_long(elena):
    body = run(elena, "status " + "x" * 200 + "\nobjective\n")
    assert "Error: line too long" in body
    assert ">>> objective" in body


# ---------------------------------------------------------------- policy


def test_non_member_may_use_guide_help_subscribe_only(elena):
    body = run(elena, "guide\nhelp\nstatus\nsummary\nget 1\n", frm=CAROL)
    assert ">>> guide\nGuide to the elena mailing list" in body
    assert ">>> help\nHelp for the elena mailing list" in body
    assert body.count("Refused: carol@example.org is not a member of this list.") == 3


def test_permit_command_from_anyone(elena):
    elena.set_config(PERMIT_COMMAND_FROM="anyone")
    body = run(elena, "status\n", frm=CAROL)
    assert "carol@example.org: not a member" in body


def test_members_and_actives_denied_by_default(elena):
    body = run(elena, "members\nactives\n")
    assert body.count("is not available on this list") == 2
    assert BOB not in body


def test_members_when_allowed(elena):
    elena.set_config(DENY_PROCEDURE="")
    body = run(elena, "members\nactives\n")
    assert body.count(ALICE) >= 2 and body.count(BOB) == 2
    assert "(2 addresses)" in body


def test_deny_procedure(elena):
    elena.set_config(DENY_PROCEDURE="get mget summary")
    body = run(elena, "summary\n")
    assert 'Refused: the command "summary" is not available on this list.' in body


# ---------------------------------------------------------------- membership by mail


def subscribe(ml, who, name="New Person"):
    reps = send(ml, "subscribe %s\n" % name, frm=who)
    body = report(reps, to=who)
    assert "A confirmation request was sent to %s." % who in body
    req = to_addr(reps, who, "Confirm subscribe")
    (cid,) = ID_RE.findall(text(req))
    return cid


def test_subscribe_confirm_member(elena):
    cid = subscribe(elena, CAROL)
    assert CAROL not in elena.text("members")
    # a reply quoting the request, as a mail client writes it
    reps = send(elena, "> confirm %s\n>\n> You asked to join\n" % cid, frm=CAROL,
                subject="Re: Confirm subscribe")
    body = report(reps, to=CAROL)
    assert "carol@example.org is now a member" in body
    assert CAROL in member_lines(elena, "members")
    assert CAROL in member_lines(elena, "actives")
    welcome = to_addr(reps, CAROL, "Welcome to elena@example.org")
    assert "Welcome to the elena mailing list" in text(welcome)
    to_addr(reps, MAINTAINER, "New member: carol@example.org")
    assert "subscribe carol@example.org: confirmed" in elena.log()
    # and the next post reaches the new member
    post(elena, 1)
    (a1,) = [i for i in elena.queue_items() if i.name == "a1"]
    assert CAROL in a1.rcpts


def test_a_reply_to_the_confirmation_request_reaches_fml(elena):
    """The request comes From: the maintainer; a mail client's reply goes to
    its Reply-To:, the command address, where the quoted line confirms."""
    reps = send(elena, "subscribe New Person\n", frm=CAROL)
    req = to_addr(reps, CAROL, "Confirm subscribe")
    fields = header_fields(req.message)
    assert [v for n, _, v in fields if n.lower() == "reply-to"] == [CTL], fields
    (cid,) = ID_RE.findall(text(req))
    reps = send(elena, "> confirm %s\n" % cid, frm=CAROL, to=CTL, subject="Re: Confirm")
    assert "carol@example.org is now a member" in report(reps, to=CAROL)


def test_confirm_reused(elena):
    cid = subscribe(elena, CAROL)
    send(elena, "confirm %s\n" % cid, frm=CAROL)
    body = run(elena, "confirm %s\n" % cid, frm=CAROL)
    assert "Refused: confirmation ID already used." in body


def test_confirm_forged(elena):
    cid = subscribe(elena, CAROL)
    forged = cid[:-1] + ("0" if cid[-1] != "0" else "1")
    body = run(elena, "confirm %s\n" % forged, frm=CAROL)
    assert "Refused: unknown confirmation ID." in body
    assert CAROL not in elena.text("members")


def test_confirm_from_other_address(elena):
    cid = subscribe(elena, CAROL)
    body = run(elena, "confirm %s\n" % cid, frm="mallory@example.org")
    assert "Refused: confirmation ID was sent to another address." in body
    assert CAROL not in elena.text("members")
    assert "mallory" not in elena.text("members")


def test_confirm_expired(elena):
    elena.set_config(CONFIRMATION_EXPIRE="1")
    cid = subscribe(elena, CAROL)
    time.sleep(2.1)
    body = run(elena, "confirm %s\n" % cid, frm=CAROL)
    assert "Refused: confirmation ID expired." in body
    assert CAROL not in elena.text("members")


def test_confirmation_rate_limited(elena):
    for _ in range(3):
        subscribe(elena, CAROL)
    reps = send(elena, "subscribe Again\n", frm=CAROL)
    body = report(reps, to=CAROL)
    assert "Refused: too many confirmation requests" in body
    assert [r for r in reps if r.field("Subject").startswith("Confirm")] == []


def test_subscribe_when_member_or_full(elena):
    assert "alice@example.com is already a member." in run(elena, "subscribe Alice\n")
    elena.set_config(MAX_MEMBER_LIMIT="2")
    body = run(elena, "subscribe Carol\n", frm=CAROL)
    assert "Refused: the list is full (MAX_MEMBER_LIMIT 2)." in body


def test_unsubscribe_confirm(elena):
    reps = send(elena, "unsubscribe\n")
    assert "A confirmation request was sent to alice@example.com." in report(reps)
    (cid,) = ID_RE.findall(text(to_addr(reps, ALICE, "Confirm unsubscribe")))
    assert ALICE in member_lines(elena, "members")
    body = run(elena, "confirm %s\n" % cid)
    assert "alice@example.com has left the list" in body
    assert "##BYE alice@example.com" in elena.text("members")
    assert "##BYE alice@example.com" in elena.text("actives")


def test_chaddr_confirm_both(elena):
    new = "alice@new.example.com"
    reps = send(elena, "chaddr %s %s\n" % (ALICE, new))
    body = report(reps)
    assert "The change is made when both addresses have confirmed." in body
    (old_id,) = ID_RE.findall(text(to_addr(reps, ALICE, "Confirm chaddr")))
    (new_id,) = ID_RE.findall(text(to_addr(reps, new, "Confirm chaddr")))
    # the old address's ID from the new address: refused
    assert "another address" in run(elena, "confirm %s\n" % old_id, frm=new)
    assert "waiting for the confirmation of" in run(elena, "confirm %s\n" % old_id)
    assert ALICE in member_lines(elena, "members")
    body = run(elena, "confirm %s\n" % new_id, frm=new)
    assert "The address alice@example.com is now alice@new.example.com" in body
    assert new in member_lines(elena, "members") and new in member_lines(elena, "actives")
    assert ALICE not in elena.text("members")


def test_chaddr_from_third_party_refused(elena):
    body = run(elena, "chaddr %s %s\n" % (BOB, "bob@evil.example"))
    assert "Refused: send chaddr from the old or the new address." in body


@pytest.mark.parametrize("cmd,line", [("off", "#\talice@example.com"),
                                      ("skip", "alice@example.com s=skip"),
                                      ("digest 3mp", "alice@example.com m=3mp")])
def test_self_service_actives(elena, cmd, line):
    body = run(elena, cmd + "\n")
    assert "Done: " in body
    assert line in elena.text("actives")


def day(offset):
    return time.strftime("%Y-%m-%d", time.localtime(time.time() + offset * 86400))


def sweep(ml):
    """The drain's sweep now (it runs every 10 minutes): fmlqueue run."""
    if ml.exists("var", "run", "swept"):
        os.unlink(ml.path("var", "run", "swept"))
    subprocess.run([os.path.join(ROOT, "fml", "fmlqueue"), "run", "-D", ml.ml_dir, "elena"],
                   capture_output=True, check=True)


def test_off_for_a_while(elena):
    elena.makefml("add", "elena", CAROL)
    body = run(elena, "off 14d\n")
    until = day(14)
    assert "delivery to you is off until %s" % until in body
    assert "#\talice@example.com u=%s" % until in elena.text("actives")
    assert elena.text("var", "db", "vacation") == until + "\n"
    assert "Error: bad number of days" in run(elena, "off 400d\n")
    # makefml: bob for two weeks, carol for one; the first day due is kept
    out = elena.makefml("off", "elena", BOB, "2w").stdout.decode()
    assert "(until %s)" % day(14) in out
    elena.makefml("off", "elena", "carol@example.org", "7")
    assert elena.text("var", "db", "vacation") == day(7) + "\n"
    # not yet: nothing changes
    sweep(elena)
    assert "#\tcarol@example.org u=%s" % day(7) in elena.text("actives")
    # the day came (the files as they will be then)
    elena.write("actives", elena.text("actives").replace("u=" + day(7), "u=" + day(-1)))
    elena.write("var/db/vacation", day(-1) + "\n")
    sweep(elena)
    assert "carol@example.org" in member_lines(elena, "actives")
    assert "u=" + day(-1) not in elena.text("actives")
    assert "vacation of carol@example.org is over: delivery on" in elena.log()
    assert elena.text("var", "db", "vacation") == day(14) + "\n"
    # "on" ends it sooner, and the u= goes with it
    run(elena, "on\n")
    assert "alice@example.com" in member_lines(elena, "actives")
    assert "alice@example.com u=" not in elena.text("actives")
    # bob's day comes: he is back, and no vacation is left to watch
    elena.write("actives", elena.text("actives").replace("u=" + day(14), "u=" + day(0)))
    elena.write("var/db/vacation", day(0) + "\n")
    sweep(elena)
    assert BOB in member_lines(elena, "actives")
    assert not elena.exists("var", "db", "vacation")


def test_on_noskip_undigest(elena):
    run(elena, "off\n")
    run(elena, "on\n")
    assert "alice@example.com" in member_lines(elena, "actives")
    run(elena, "digest 2\n")
    assert "m=2" in elena.text("actives")
    body = run(elena, "digest 0\n")
    assert "real-time delivery" in body
    assert "m=" not in elena.text("actives")


def test_status_summary_index(elena):
    post(elena, 3)
    run(elena, "skip\n")
    body = run(elena, "status\nsummary last:2\nindex\n")
    assert "alice@example.com: a member (may post), skip (receives nothing)" in body
    assert "[2:alice@example.com] article 2" in body
    assert "[3:alice@example.com] article 3" in body
    assert "[1:" not in body
    assert "Articles 1-3" in body


# ---------------------------------------------------------------- get and mget


def results(reps):
    return [r for r in reps if r.field("Subject").startswith("result for")]


def parse(item):
    return email.message_from_bytes(item.message, policy=email.policy.default)


def raw_parts(item):
    """The raw bytes of each body part of a multipart ITEM, boundary lines cut."""
    msg = parse(item)
    b = msg.get_boundary().encode()
    body = split_message(item.message)[1]
    chunks = re.split(rb"(?:\r?\n)?--" + re.escape(b) + rb"(?:--)?[ \t]*\r?\n", body)
    return chunks[1:-1]


def test_get_one_article(elena):
    post(elena, 3)
    reps = send(elena, "get 2\n")
    assert "Sent 1 article in 1 mail (mode mp)." in report(reps)
    (res,) = results(reps)
    assert res.rcpts == [ALICE]
    assert res.field("Subject") == "result for get 2 mp (elena ML)"
    parts = raw_parts(res)
    assert parts[-1].lstrip(b"\r\n") == elena.spool(2) or \
        parts[-1] == b"\n" + elena.spool(2)


def test_mget_mp(elena):
    post(elena, 3)
    (res,) = results(send(elena, "mget 1-3 mp\n"))
    msg = parse(res)
    assert msg.get_content_type() == "multipart/digest"
    parts = list(msg.iter_parts())
    assert len(parts) == 4 and parts[0].get_content_type() == "text/plain"
    for n, part in enumerate(parts[1:], 1):
        assert part.get_content_type() == "message/rfc822"
        inner = part.get_payload(0)
        assert inner["Subject"] == "article %d" % n
    raws = raw_parts(res)
    for n in (1, 2, 3):
        assert raws[n].endswith(elena.spool(n)), (raws[n][:200], elena.spool(n)[:200])


def test_mget_uf(elena):
    post(elena, 3)
    (res,) = results(send(elena, "mget 1-3 uf\n"))
    body = res.body
    assert body.count(b"\nFrom ") + body.startswith(b"From ") == 3
    assert b"\n>From here\n" in body  # mboxrd quoting of the article line
    for n in (1, 2, 3):
        assert b"Body of article %d." % n in body


@pytest.mark.parametrize("mode", ["rfc1153", "rfc934"])
def test_mget_plain_digests(elena, mode):
    post(elena, 3)
    (res,) = results(send(elena, "mget 1-3 %s\n" % mode))
    body = res.body.decode()
    assert parse(res).get_content_type() == "text/plain"
    assert body.count("\n" + "-" * 30 + "\n") >= 2
    assert "\n- -dash line\n" in body  # RFC 934 dash-stuffing
    for n in (1, 2, 3):
        assert "Subject: article %d" % n in body
    if mode == "rfc1153":
        assert "-" * 70 in body and "End of elena Digest" in body


def test_mget_rfc1153_decoded(elena):
    """rfc1153 shows each article's text decoded (GMime): an RFC 2047
    Subject, a base64 UTF-8 body, an ISO-8859-1 quoted-printable part, and
    an attachment as one line; the part declares what it holds."""
    b64 = base64.b64encode("caf\u00e9 na\u00efve\n-dash\n".encode()).decode()
    p = elena.post(mail(subject="=?UTF-8?Q?caf=C3=A9?=", body=b64 + "\n",
                        extra="MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                              "Content-Transfer-Encoding: base64"))
    assert_done(elena, p)
    mixed = ("--b\nContent-Type: text/plain; charset=iso-8859-1\n"
             "Content-Transfer-Encoding: quoted-printable\n\nd=E9j=E0 vu\n"
             "--b\nContent-Type: application/pdf; name=x.pdf\n"
             "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b--\n")
    p = elena.post(mail(subject="mixed", body=mixed,
                        extra="MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b"))
    assert_done(elena, p)
    (res,) = results(send(elena, "mget 1-2 rfc1153\n"))
    msg = parse(res)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg["Content-Transfer-Encoding"] == "8bit"
    text = msg.get_content()
    assert "\nSubject: caf\u00e9\n" in text and "\nSubject: mixed\n" in text
    assert "\n\ncaf\u00e9 na\u00efve\n- -dash\n\n" + "-" * 30 + "\n" in text
    assert ("\n\nd\u00e9j\u00e0 vu\n\n"
            "[attachment: x.pdf, application/pdf, 9 bytes, not included]\n\n") in text
    assert b64.strip() not in text and "\n--b" not in text


def attachment(res):
    msg = parse(res)
    (att,) = [p for p in msg.walk() if p.get_content_type() == "application/gzip"]
    assert att["Content-Transfer-Encoding"] == "base64"
    return att.get_payload(decode=True)


def test_mget_tgz(elena):
    post(elena, 3)
    (res,) = results(send(elena, "mget 1,3 tgz\n"))
    tar = tarfile.open(fileobj=io.BytesIO(attachment(res)), mode="r:gz")
    names = sorted(tar.getnames())
    assert names == ["spool/1", "spool/3"]
    for n in (1, 3):
        assert tar.extractfile("spool/%d" % n).read() == elena.spool(n)


def test_mget_gz(elena):
    post(elena, 3)
    (res,) = results(send(elena, "mget last:2 gz\n"))
    mbox = gzip.decompress(attachment(res))
    path = os.path.join(elena.dir, "..", "got.mbox")
    with open(path, "wb") as f:
        f.write(mbox)
    box = mailbox.mbox(path)
    assert [m["Subject"] for m in box] == ["article 2", "article 3"]


def test_mget_split_at_size_limit(elena):
    elena.set_config(MGET_SIZE_LIMIT="1K")
    post(elena, 3, body="x" * 700 + "\n")
    reps = send(elena, "mget 1-3 mp\n")
    assert "Sent 3 articles in 3 mails (mode mp)." in report(reps)
    subjects = sorted(r.field("Subject") for r in results(reps))
    assert subjects == ["result for mget 1-3 mp (%d/3) (elena ML)" % i for i in (1, 2, 3)]


@pytest.mark.parametrize("line,want", [
    ("get ../../etc/passwd", "Error: "),
    ("get -1", "Error: "),
    ("get 99999999999999999999", "Error: "),
    ("get 0", "Error: "),
    ("get 7", "Error: no such article"),
    ("mget 5-2", "Error: "),
    ("mget 1-3;cat /etc/passwd", "Error: "),
])
def test_hostile_get(elena, line, want):
    post(elena, 3)
    reps = send(elena, line + "\n")
    assert want in report(reps)
    assert results(reps) == []
    for r in reps:
        assert b"root:" not in r.message


def test_mget_huge_range_is_clipped(elena):
    post(elena, 3)
    reps = send(elena, "mget 1-99999999 uf\n")
    assert "Sent 3 articles in 1 mail (mode uf)." in report(reps)


def test_mget_limit(elena):
    elena.set_config(MGET_LIMIT="2")
    post(elena, 3)
    reps = send(elena, "mget 1-3\n")
    assert "Error: " in report(reps) and results(reps) == []


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize("frm", ['"|/bin/sh"@x.example', "alice@example.com\r\n\tBcc: evil@x",
                                 "<>", "=?utf-8?q?a=0D=0ABcc=3A_evil=40x?= <a@b>"])
def test_hostile_from_subscribe(elena, frm):
    p = elena.post(mail(frm=frm, to=CTL, subject="x", body="subscribe Me\n"), "--ctladdr")
    assert_done(elena, p)
    for r in elena.replies():
        head = split_message(r.message)[0]
        assert b"Bcc" not in head and b"evil" not in head
        assert all("|" not in a and "\r" not in a for a in r.rcpts)
    assert "/bin/sh" not in elena.text("members")


def test_hostile_addresses_in_commands(elena):
    body = run(elena, 'chaddr alice@example.com "|/bin/sh"@x.example\n'
                      "chaddr alice@example.com evil@x\rBcc: a@b\n")
    assert body.count("Error: ") == 2
    assert "sh" not in elena.text("members")


def test_autoresponder_is_not_answered_nor_run(elena):
    cid = subscribe(elena, CAROL)
    reps = send(elena, "> confirm %s\nI am on vacation.\n" % cid, frm=CAROL,
                extra="Auto-Submitted: auto-replied")
    assert reps == []
    assert CAROL not in elena.text("members")
    reps = send(elena, "confirm %s\n" % cid, frm=CAROL, extra="Precedence: bulk")
    assert reps == [] and CAROL not in elena.text("members")


def test_reply_limit(elena):
    elena.set_config(REPLY_LIMIT="3")
    got = sum(len(send(elena, "status\n")) for _ in range(5))
    assert got == 3


# ---------------------------------------------------------------- admin


@pytest.fixture
def admin_list(make_list):
    ml = make_list("elena", members=[ALICE, BOB], REMOTE_ADMINISTRATION="1")
    ml.makefml("addadmin", "elena", ADMIN)
    ml.makefml("passwd", "elena", ADMIN, input=b"s3cret-pass\n")
    return ml


def test_admin_add_bye_with_password(admin_list):
    ml = admin_list
    body = run(ml, "admin pass s3cret-pass\nadmin add %s m=3mp\nadmin bye %s\n" % (CAROL, BOB),
               frm=ADMIN)
    assert ">>> admin pass ********\nPassword accepted." in body
    assert "s3cret" not in body and "s3cret" not in ml.log()
    assert "Done: carol@example.org added to members and actives." in body
    assert "carol@example.org m=3mp" in ml.text("actives")
    assert "##BYE bob@example.net" in ml.text("members")


def test_admin_one_line_approve_form(admin_list):
    ml = admin_list
    body = run(ml, "approve s3cret-pass add %s\n" % CAROL, frm=ADMIN)
    assert ">>> approve ******** add carol@example.org" in body
    assert CAROL in member_lines(ml, "members")


def test_admin_wrong_password(admin_list):
    ml = admin_list
    body = run(ml, "admin pass wrong\nadmin add %s\n" % CAROL, frm=ADMIN)
    assert "Refused: wrong password." in body
    assert 'Refused: send "admin pass PASSWORD" first.' in body
    assert CAROL not in ml.text("members")
    assert "wrong" not in ml.log().replace("wrong admin password", "")


def test_admin_needs_members_admin_and_the_switch(admin_list, make_list):
    body = run(admin_list, "admin pass s3cret-pass\nadmin add %s\n" % CAROL, frm=ALICE)
    assert "Refused: alice@example.com is not an administrator of this list." in body
    other = make_list("other", members=[ALICE])
    other.makefml("addadmin", "other", ADMIN)
    other.makefml("passwd", "other", ADMIN, input=b"pw\n")
    (rep,) = send(other, "admin pass pw\n", frm=ADMIN)
    assert rep.field("Subject") == "fml Command Status report (other ML)"
    assert "remote administration is not enabled" in text(rep)


def test_admin_lockout(admin_list):
    ml = admin_list
    for i in range(5):
        run(ml, "admin pass wrong%d\n" % i, frm=ADMIN)
    body = run(ml, "admin pass s3cret-pass\nadmin add %s\n" % CAROL, frm=ADMIN)
    assert "Refused: admin commands are locked until" in body
    assert CAROL not in ml.text("members")
    assert [r for r in ml.replies() if r.rcpts == [MAINTAINER] and
            r.field("Subject") == "fml: admin commands locked"]


def test_admin_members_log_help_addadmin(admin_list):
    ml = admin_list
    body = run(ml, "admin pass s3cret-pass\nadmin members\nadmin log -3\nadmin help\n"
                   "admin addadmin %s\nadmin off %s\n" % (BOB, ALICE), frm=ADMIN)
    assert "alice@example.com\nbob@example.net\n(2 addresses)" in body
    assert "Administration of the elena mailing list" in body
    assert BOB in ml.text("members-admin")
    assert "#\talice@example.com" in ml.text("actives")


def test_makefml_command(admin_list):
    p = admin_list.makefml("command", "elena", ALICE, "status")
    out = p.stdout.decode()
    assert ">>> status" in out and "alice@example.com: a member" in out


# ---------------------------------------------------------------- moderation


@pytest.fixture
def moderated(make_list):
    ml = make_list("elena", members=[ALICE, BOB], PERMIT_POST_FROM="moderator")
    ml.write("moderators", MOD + "\n")
    return ml


def held_id(ml):
    (hid,) = ml.listdir("var", "hold")
    return hid


def test_moderator_approves(moderated):
    ml = moderated
    p = ml.post(mail(frm=ALICE, subject="please approve"))
    assert_done(ml, p)
    hid = held_id(ml)
    (note,) = [r for r in ml.replies() if r.rcpts == [MOD]]
    assert "approve %s" % hid in text(note)
    assert ml.articles() == []
    body = run(ml, "approve %s\n" % hid, frm=ALICE)
    assert "Refused: alice@example.com is not a moderator of this list." in body
    assert ml.articles() == []
    body = run(ml, "approve %s\n" % hid, frm=MOD)
    assert "Approved: the post is distributed." in body
    assert ml.articles() == [1]
    assert b"Subject: please approve" in ml.spool(1)
    assert ml.listdir("var", "hold") == [] and ml.incoming() == []
    body = run(ml, "approve %s\n" % hid, frm=MOD)
    assert "no post is held with that ID" in body


def test_moderator_rejects_with_reason(moderated):
    ml = moderated
    assert_done(ml, ml.post(mail(frm=ALICE, subject="off topic")))
    hid = held_id(ml)
    reps = send(ml, "reject %s Off topic here\n" % hid, frm=MOD)
    assert "Rejected" in report(reps, to=MOD)
    told = to_addr(reps, ALICE, "Your post was not distributed")
    assert "Off topic here" in text(told)
    assert ml.articles() == [] and ml.listdir("var", "hold") == []
    assert "rejected.%s" % hid in ml.listdir("var", "log")


def test_makefml_command_approve_distributes(moderated):
    ml = moderated
    assert_done(ml, ml.post(mail(frm=ALICE, subject="from the shell")))
    hid = held_id(ml)
    out = ml.makefml("command", "elena", MOD, "approve", hid).stdout.decode()
    assert "Approved: the post is distributed." in out
    assert ml.articles() == [1] and ml.incoming() == []


def test_non_member_post_moderated_then_approved(make_list):
    ml = make_list("elena", members=[ALICE], REJECT_POST_HANDLER="moderate")
    ml.write("moderators", MOD + "\n")
    assert_done(ml, ml.post(mail(frm=CAROL, subject="from outside")))
    hid = held_id(ml)
    run(ml, "approve %s\n" % hid, frm=MOD)
    assert ml.articles() == [1]


def test_held_posts_expire(moderated):
    ml = moderated
    ml.set_config(MODERATOR_EXPIRE_LIMIT="1")
    assert_done(ml, ml.post(mail(frm=ALICE, subject="old")))
    hid = held_id(ml)
    old = time.time() - 3600
    os.utime(ml.path("var", "hold", hid), (old, old))
    os.utime(ml.path("var", "run", "swept"), (old, old))
    assert_done(ml, ml.post(b""))
    assert ml.listdir("var", "hold") == []
    assert "held post %s expired" % hid in ml.log()


# ---------------------------------------------------------------- failures, privacy, leaks


def test_every_result_mail_counts_against_reply_limit(elena):
    """50 "get" lines with a Reply-To of the sender's choice: no more than
    REPLY_LIMIT mails reach that address in the hour."""
    post(elena, 1)
    elena.set_config(REPLY_LIMIT="3")
    victim = "victim@example.net"
    reps = send(elena, "get 1\n" * 50, extra="Reply-To: " + victim)
    assert len([r for r in reps if r.rcpts == [victim]]) == 3
    assert "Stopped after 0 of 1 mails: too many replies" in report(reps, to=victim)


def test_confirm_kept_when_the_action_fails(elena):
    """The ID is marked used only after the members are edited: a temporary
    failure (or a crash) in between leaves it for the next run."""
    cid = subscribe(elena, CAROL)
    actives = elena.path("actives")
    os.rename(actives, actives + ".save")
    os.mkdir(actives)  # members_edit("actives") fails: ST_TEMPFAIL
    p = elena.post(mail(frm=CAROL, to=CTL, subject="Re", body="confirm %s\n" % cid), ctl=True)
    assert elena.incoming() != [], elena.log()[-600:]  # left for a later run
    os.rmdir(actives)
    os.rename(actives + ".save", actives)
    assert_done(elena, elena.post(b""))  # the next run takes the mail again
    assert CAROL in member_lines(elena, "members"), elena.log()[-800:]


def test_suspicious_command_mail_is_dropped_not_held(admin_list):
    """A command mail with a control byte in Subject: is not held like a
    post: its password is neither stored in var/hold nor mailed."""
    ml = admin_list
    p = ml.post(mail(frm=ADMIN, to=CTL, subject="admin\x01", body="admin pass s3cret-pass\n"),
                ctl=True)
    assert_done(ml, p)
    held = ml.listdir("var", "hold")
    assert not any(b"s3cret" in ml.read("var", "hold", h) for h in held)
    assert not any(b"s3cret" in r.body for r in ml.replies())
    # the same as "# admin" lines in a mail to the posting address
    p = ml.post(mail(frm=ADMIN, subject="admin\x01", body="# admin pass s3cret-pass\n"))
    assert_done(ml, p)
    assert ml.listdir("var", "hold") == held and ml.articles() == []
    assert not any(b"s3cret" in r.body for r in ml.replies())


def test_a_quarantined_mail_cannot_be_approved(admin_list):
    """A post held for its header is suspect.ID: approve does not release
    it (it would only be held again); the maintainer looks at it."""
    ml = admin_list
    assert_done(ml, ml.post(mail(frm=ALICE, subject="x\x01", body="hello\n")))
    (held,) = ml.listdir("var", "hold")
    assert held.startswith("suspect.")
    for hid in (held, held[len("suspect."):]):
        body = run(ml, "approve %s\n" % hid, frm=ADMIN)
        assert "Error: no post is held with that ID" in body
    assert ml.articles() == [] and ml.listdir("var", "hold") == [held]


@pytest.mark.parametrize("line", ["admin passwd n3w-secret", "admin initpass n3w-secret",
                                  "approve s3cret-pass passwd n3w-secret"])
def test_fml4_password_commands_masked(admin_list, line):
    """fml4's "admin passwd NEW" is unknown here: the new password must not
    be echoed in the report nor logged."""
    body = run(admin_list, line + "\n", frm=ADMIN)
    assert "Error: unknown command" in body
    assert "n3w-secret" not in body and "n3w-secret" not in admin_list.log()


def test_chaddr_finished_by_the_rerun_after_a_failure(elena):
    """Both confirmations given; the edit of actives fails after members
    changed: the rerun finishes the change in the same direction."""
    new = "alice@new.example.com"
    reps = send(elena, "chaddr %s %s\n" % (ALICE, new))
    (old_id,) = ID_RE.findall(text(to_addr(reps, ALICE, "Confirm chaddr")))
    (new_id,) = ID_RE.findall(text(to_addr(reps, new, "Confirm chaddr")))
    run(elena, "confirm %s\n" % old_id)
    actives = elena.path("actives")
    os.rename(actives, actives + ".save")
    os.mkdir(actives)
    elena.post(mail(frm=new, to=CTL, subject="Re", body="confirm %s\n" % new_id), ctl=True)
    assert elena.incoming() != []
    assert new in member_lines(elena, "members")
    os.rmdir(actives)
    os.rename(actives + ".save", actives)
    assert_done(elena, elena.post(b""))
    assert new in member_lines(elena, "members") and new in member_lines(elena, "actives")
    assert ALICE not in elena.text("members") and ALICE not in elena.text("actives")


def test_status_of_another_address_refused(elena):
    body = run(elena, "status %s\nstatus %s\n" % (BOB, ALICE))
    assert "Refused: status tells only about your own address." in body
    assert "alice@example.com: a member" in body and "bob@example.net:" not in body


def test_indented_hash_commands_in_a_post(elena):
    reps = send(elena, "  # objective\n", ctl=False, to="elena@example.org")
    assert ">>> objective" in report(reps)
    assert elena.articles() == []
