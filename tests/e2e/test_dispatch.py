"""What fml decides a mail is, and what it then leaves behind.

Non-member posts (reject / ignore / moderate), moderated lists, loops,
bounces, duplicates, the guide and command traps (MIME-aware), RFC 3834
reply suppression and hostile headers.  Every test pipes mail into fml as
an alias does and checks the exit status (always 0 once the mail is
accepted), that var/incoming is empty afterwards, and what is in spool/,
var/hold, var/log and the queue (replies are queue items with sender <>).
"""
import email
import email.policy

import pytest

from conftest import CTL, MAINTAINER, ML, assert_done, data, mail, split_message

ALICE = "alice@example.com"
BOB = "bob@example.net"
STRANGER = "stranger@example.net"

GUIDE = "This is the guide of the elena list.\nSend mail to the ctl address to join.\n"
HELP = "Commands of the elena list:\n  help\n  guide\n"
DENY = "Only members may post to the elena list.\n"


@pytest.fixture
def elena(make_list):
    ml = make_list("elena", members=[ALICE, BOB])
    ml.write("guide", GUIDE)
    ml.write("help", HELP)
    ml.write("deny", DENY)
    return ml


def run(ml, raw, *args, **kw):
    p = ml.post(raw, *args, **kw)
    assert_done(ml, p)
    return p


def saved(ml, kind):
    """Files fml saved under var/log as KIND.*"""
    return [f for f in ml.area("var", "log") if f.startswith(kind + ".")]


def to(ml, addr):
    """Replies and notices queued for ADDR."""
    return [i for i in ml.replies() if i.rcpts == [addr]]


def parsed(item):
    return email.message_from_bytes(item.message, policy=email.policy.compat32)


def assert_auto_reply(item, original_msgid=None):
    """What every mail of fml's own carries (RFC 3834, loop protection)."""
    assert item.sender == ""
    assert item.attrs.get("list") == "elena"
    assert "article" not in item.attrs
    assert item.field("Auto-Submitted") == "auto-replied"
    assert item.field("X-ML-Name") == "elena"
    assert item.field("From") == MAINTAINER
    if original_msgid:
        assert item.field("In-Reply-To") == original_msgid


# ------------------------------------------------------------ non-members


def test_non_member_reject(elena):
    raw = mail(frm=STRANGER, subject="let me in", msgid="<nm1@example.net>")
    run(elena, raw)
    assert elena.articles() == []
    assert elena.seq() == 0
    assert len(elena.replies()) == 2
    assert elena.listdir("var", "queue", "new") == sorted(i.name for i in elena.replies())

    (notice,) = to(elena, MAINTAINER)
    assert_auto_reply(notice, "<nm1@example.net>")
    msg = parsed(notice)
    assert msg.get_content_type() == "multipart/mixed"
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert STRANGER in parts[0].get_payload()
    assert parts[-1].get_content_type() == "message/rfc822"
    (attached,) = parts[-1].get_payload()
    assert attached["Message-ID"] == "<nm1@example.net>"
    assert raw in notice.message, "the original is attached byte for byte"

    (deny,) = to(elena, STRANGER)
    assert_auto_reply(deny, "<nm1@example.net>")
    assert deny.field("To") == STRANGER
    assert deny.body == DENY.encode()
    assert "rejected post from non-member %s" % STRANGER in elena.log()


def test_non_member_reject_answers_reply_to(elena):
    run(elena, mail(frm=STRANGER, extra="Reply-To: other@example.net"))
    (deny,) = to(elena, "other@example.net")
    assert deny.body == DENY.encode()
    assert to(elena, STRANGER) == []


def test_non_member_ignore(elena):
    elena.set_config(REJECT_POST_HANDLER="ignore")
    raw = mail(frm=STRANGER)
    run(elena, raw)
    assert elena.articles() == []
    (notice,) = elena.replies()
    assert notice.rcpts == [MAINTAINER]
    assert raw in notice.message


def held(ml):
    return ml.area("var", "hold")


def test_non_member_moderate_tells_moderators(elena):
    elena.set_config(REJECT_POST_HANDLER="moderate")
    elena.write("moderators", "mod1@example.org\n#\tmodoff@example.org\nmod2@example.com\n")
    raw = mail(frm=STRANGER)
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)
    (notice,) = elena.replies()
    assert sorted(notice.rcpts) == ["mod1@example.org", "mod2@example.com"]
    assert hid in notice.message.decode(errors="replace")
    assert raw in notice.message
    assert to(elena, STRANGER) == []


def test_moderate_without_moderators_tells_maintainer(elena):
    elena.set_config(REJECT_POST_HANDLER="moderate")
    if elena.exists("moderators"):
        elena.write("moderators", "")
    run(elena, mail(frm=STRANGER))
    assert len(held(elena)) == 1
    (notice,) = elena.replies()
    assert notice.rcpts == [MAINTAINER]


def test_moderated_list_holds_member_posts(elena):
    elena.set_config(PERMIT_POST_FROM="moderator")
    elena.write("moderators", "mod1@example.org\n")
    raw = mail(frm=ALICE)
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)
    (notice,) = elena.replies()
    assert notice.rcpts == ["mod1@example.org"]
    assert elena.listdir("var", "queue", "new") == [notice.name]


def test_permit_post_from_anyone(elena):
    elena.set_config(PERMIT_POST_FROM="anyone")
    run(elena, mail(frm=STRANGER))
    assert elena.articles() == [1]
    assert elena.replies() == []
    (item,) = elena.queue_items("new")
    assert item.name == "a1"


# ----------------------------------------------------------------- loops

LOOPS = {
    "x-ml-name": dict(extra="X-ML-Name: elena"),
    "list-id": dict(extra="List-Id: (elena ML) <elena.example.org>"),
    "x-loop": dict(extra="X-Loop: elena@example.org"),
    "received-51": dict(extra="\n".join(
        "Received: from h%d.example.net by h%d.example.net; Sat, 21 Nov 2026" % (i, i + 1)
        for i in range(51))),
    "sender-is-maintainer": dict(env={"SENDER": MAINTAINER}),
}


@pytest.mark.parametrize("kind", list(LOOPS))
def test_loop_not_distributed_notice_once(elena, kind):
    case = LOOPS[kind]
    env = case.get("env")
    first = mail(frm=ALICE, extra=case.get("extra", ""))
    second = mail(frm=ALICE, extra=case.get("extra", ""))
    run(elena, first, env=env)
    assert elena.articles() == []
    (f1,) = saved(elena, "loop")
    assert first in elena.read("var", "log", f1)
    assert f1 in elena.log()
    (notice,) = elena.replies()
    assert notice.rcpts == [MAINTAINER]
    assert_auto_reply(notice)

    # a second loop within NOTIFY_INTERVAL: saved and logged, no new notice
    run(elena, second, env=env)
    assert elena.articles() == []
    files = saved(elena, "loop")
    assert len(files) == 2
    (f2,) = [f for f in files if f != f1]
    assert second in elena.read("var", "log", f2)
    assert f2 in elena.log()
    assert [i.name for i in elena.replies()] == [notice.name]


def test_50_received_lines_is_not_a_loop(elena):
    extra = "\n".join("Received: from h%d.example.net by h%d.example.net; Sat, 21 Nov 2026"
                      % (i, i + 1) for i in range(50))
    run(elena, mail(extra=extra))
    assert elena.articles() == [1]


def test_other_lists_x_ml_name_is_not_a_loop(elena):
    run(elena, mail(extra="X-ML-Name: elena-talk\nList-Id: other <other.example.net>"))
    assert elena.articles() == [1]


def test_own_article_fed_back_is_a_loop(elena):
    run(elena, mail(frm=ALICE, subject="once"))
    article = elena.spool(1)
    run(elena, article, env={"SENDER": MAINTAINER})
    run(elena, article)
    assert elena.articles() == [1]
    assert len(saved(elena, "loop")) == 2


# --------------------------------------------------------------- bounces

BOUNCES = {
    "sender-empty": (dict(env={"SENDER": ""}), mail(frm=ALICE)),
    "sender-mailer-daemon": (dict(env={"SENDER": "MAILER-DAEMON@mx.example.net"}),
                             data("bounce-dsn.eml")),
    "from-line-mailer-daemon": (
        {}, b"From MAILER-DAEMON  Sat Nov 21 10:00:00 2026\n" + data("bounce-dsn.eml")),
}


@pytest.mark.parametrize("kind", list(BOUNCES))
def test_bounce_analysed_never_distributed_nor_answered(elena, kind):
    """A bounce to the posting address goes to the bounce analysis
    (test_bounce.py): one that names an address is read and logged, one
    that names no one is kept for the maintainer; none is distributed or
    answered."""
    kw, raw = BOUNCES[kind]
    raw = raw + b"\n# guide\n"  # even a trap in it gets no answer
    run(elena, raw, **kw)
    assert elena.articles() == []
    if b"delivery-status" in raw:
        assert saved(elena, "bounce") == []
        assert "gone@example.net 5.1.1 (dsn) receives no articles" in elena.log()
    else:
        (f,) = saved(elena, "bounce")
        assert raw in elena.read("var", "log", f)
        assert f in elena.log()
    assert elena.all_items() == [], "a reply to a bounce"


# ------------------------------------------------------------ duplicates


def test_same_bytes_twice_one_article(elena):
    raw = mail(frm=ALICE)
    run(elena, raw)
    run(elena, raw)
    assert elena.articles() == [1]
    assert elena.seq() == 1
    assert elena.listdir("var", "queue", "new").count("a1") == 1
    assert [i.name for i in elena.all_items() if i.sender != ""] == ["a1"]
    (f,) = saved(elena, "duplicate")
    assert f in elena.log()
    assert len(elena.text("summary").splitlines()) == 1


def test_same_message_id_other_bytes_one_article(elena):
    run(elena, mail(frm=ALICE, body="first\n", msgid="<same@example.com>"))
    run(elena, mail(frm=BOB, body="second\n", msgid="<same@example.com>"))
    assert elena.articles() == [1]
    assert split_message(elena.spool(1))[1] == b"first\n"
    (f,) = saved(elena, "duplicate")
    assert f in elena.log()
    assert b"second\n" in elena.read("var", "log", f)


# ------------------------------------------------------ guide and commands


def test_guide_from_non_member(elena):
    raw = mail(frm=STRANGER, body="\n# guide\n", msgid="<g1@example.net>")
    run(elena, raw)
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [STRANGER]
    assert_auto_reply(reply, "<g1@example.net>")
    assert reply.body == GUIDE.encode()
    assert "guide sent to %s" % STRANGER in elena.log()


@pytest.mark.parametrize("line", ["#guide", "  #  GUIDE  ", "# guide"])
def test_guide_keyword_forms(elena, line):
    run(elena, mail(frm=STRANGER, body="hello\n%s\n" % line))
    (reply,) = elena.replies()
    assert reply.body == GUIDE.encode()


def test_guide_in_the_third_line(elena):
    run(elena, mail(frm=STRANGER, body="hello\n\nthere\n\n# guide\n"))
    (reply,) = elena.replies()
    assert reply.body == GUIDE.encode()


def test_guide_from_member_is_command_mail(elena):
    run(elena, mail(frm=ALICE, body="# guide\n"))
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [ALICE]
    assert reply.field("Subject") == "fml Command Status report (elena ML)"
    assert reply.body.startswith((">>> guide\n" + GUIDE).encode())


def test_help_from_member_is_command_mail(elena):
    raw = mail(frm=ALICE, subject="help me", body="# help\n", msgid="<h1@example.com>")
    run(elena, raw)
    assert elena.articles() == []
    assert elena.seq() == 0
    assert not elena.exists("summary") or elena.text("summary") == ""
    (reply,) = elena.replies()
    assert reply.rcpts == [ALICE]
    assert_auto_reply(reply, "<h1@example.com>")
    assert reply.field("Subject") == "fml Command Status report (elena ML)"
    assert reply.body.startswith((">>> help\n" + HELP).encode())


def test_ctladdr_mail_is_command_mail(elena):
    raw = mail(frm=ALICE, to=CTL, subject="x", body="help\n")
    run(elena, raw, ctl=True)
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [ALICE]
    assert reply.field("Subject") == "fml Command Status report (elena ML)"
    assert reply.body.startswith((">>> help\n" + HELP).encode())


def test_ctladdr_bare_guide_from_non_member(elena):
    run(elena, mail(frm=STRANGER, to=CTL, body="guide\n"), ctl=True)
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [STRANGER]
    assert reply.field("Subject") == "fml Command Status report (elena ML)"
    assert reply.body.startswith((">>> guide\n" + GUIDE).encode())


def test_mime_guide_in_first_text_part(elena):
    raw = data("guide-multipart.eml")
    run(elena, raw)
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [STRANGER]
    assert reply.body == GUIDE.encode()


def test_mime_help_in_first_text_part_from_member(elena):
    raw = data("guide-multipart.eml").replace(b"# guide", b"# help").replace(
        b"Stranger <stranger@example.net>", b"Alice <alice@example.com>")
    run(elena, raw)
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [ALICE]
    assert reply.body.startswith((">>> help\n" + HELP).encode())


def test_guide_in_5th_line_is_not_a_guide_request(elena):
    run(elena, data("guide-5th-line.eml"))
    assert elena.articles() == []
    for item in elena.replies():
        assert GUIDE.encode() not in item.message
    # it is a post from a non-member: rejected
    (deny,) = to(elena, STRANGER)
    assert deny.body == DENY.encode()


def test_help_in_5th_line_from_member_is_a_post(elena):
    raw = data("guide-5th-line.eml").replace(b"# guide", b"# help").replace(
        b"Stranger <stranger@example.net>", b"Alice <alice@example.com>")
    run(elena, raw)
    assert elena.articles() == [1]
    assert elena.replies() == []
    assert split_message(elena.spool(1))[1] == split_message(raw)[1]


def test_member_multipart_post_is_distributed(elena):
    run(elena, data("post-multipart.eml"))
    assert elena.articles() == [1]
    assert elena.replies() == []


# ------------------------------------------------------------- RFC 3834

SUPPRESS = {
    "auto-submitted": dict(extra="Auto-Submitted: auto-replied"),
    "auto-generated": dict(extra="Auto-Submitted: auto-generated"),
    "precedence-bulk": dict(extra="Precedence: bulk"),
    "precedence-junk": dict(extra="Precedence: junk"),
    "precedence-list": dict(extra="Precedence: list"),
    "x-auto-response-suppress": dict(extra="X-Auto-Response-Suppress: All"),
    "from-maintainer": dict(frm=MAINTAINER),
    "from-list": dict(frm=ML),
    "reply-to-ctl": dict(extra="Reply-To: %s" % CTL),
    "from-role-account": dict(frm="postmaster@example.net"),
}


@pytest.mark.parametrize("kind", list(SUPPRESS))
def test_no_reply_rfc3834(elena, kind):
    kw = dict(frm=STRANGER, body="# guide\n")
    kw.update(SUPPRESS[kind])
    run(elena, mail(**kw))
    assert elena.articles() == []
    assert elena.replies() == []


def test_auto_submitted_no_is_answered(elena):
    run(elena, mail(frm=STRANGER, body="# guide\n", extra="Auto-Submitted: no"))
    (reply,) = elena.replies()
    assert reply.rcpts == [STRANGER]


@pytest.mark.parametrize("kind", ["auto-submitted", "precedence-bulk",
                                  "x-auto-response-suppress"])
def test_no_command_reply_rfc3834(elena, kind):
    run(elena, mail(frm=ALICE, body="# help\n", **SUPPRESS[kind]))
    assert elena.articles() == []
    assert elena.replies() == []


def test_reply_limit_per_hour(elena):
    elena.set_config(REPLY_LIMIT="2")
    for i in range(3):
        run(elena, mail(frm=STRANGER, body="# guide\n", subject="ask %d" % i))
    replies = elena.replies()
    assert len(replies) == 2
    assert all(r.rcpts == [STRANGER] for r in replies)
    assert "too many replies" in elena.log()
    # another address still gets its answer
    run(elena, mail(frm="other@example.net", body="# guide\n"))
    assert len(to(elena, "other@example.net")) == 1


# -------------------------------------------------------------- hostile

VICTIM = "victim@example.net"

INJECTIONS = {
    "bare-cr-in-from": b"From: stranger@example.net\rBcc: victim@example.net\n",
    "nul-in-from": b"From: stranger@example.net\x00Bcc: victim@example.net\n",
    "folded-bcc-in-from": b"From: stranger@example.net\n\tBcc: victim@example.net\n",
    "encoded-crlf-in-name": (b"From: =?us-ascii?Q?x=0D=0ABcc=3A_victim=40example=2Enet?= "
                             b"<stranger@example.net>\n"),
    "crlf-encoded-in-reply-to": (b"From: stranger@example.net\n"
                                 b"Reply-To: =?us-ascii?Q?stranger=40example=2Enet=0D=0ABcc=3A"
                                 b"_victim=40example=2Enet?=\n"),
    "bare-cr-in-subject": b"From: stranger@example.net\nSubject: hi\rBcc: victim@example.net\n",
}


def hostile(from_lines, body=b"# guide\n"):
    return (from_lines + b"To: elena@example.org\nMessage-ID: <hostile@example.net>\n"
            b"Date: Sat, 21 Nov 2026 10:00:00 +0000\n\n" + body)


def assert_nothing_injected(ml):
    for item in ml.all_items():
        assert VICTIM not in item.rcpts
        for r in item.rcpts:
            assert not any(c in r for c in "\r\n\0 \"|`;"), r
        head = item.header
        assert b"\nBcc:" not in b"\n" + head
        assert b"victim" not in head


@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_header_injection_guide_request(elena, kind):
    run(elena, hostile(INJECTIONS[kind]))
    assert elena.articles() == []
    assert_nothing_injected(elena)


@pytest.mark.parametrize("kind", ["bare-cr-in-from", "nul-in-from", "bare-cr-in-subject"])
def test_control_bytes_in_from_or_subject_post_held(elena, kind):
    raw = hostile(INJECTIONS[kind].replace(b"stranger@example.net", ALICE.encode()),
                  body=b"a post\n")
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)
    assert_nothing_injected(elena)


BAD_FROM = ['"|/bin/sh"@example.net', "`id`@example.net", "a@b;reboot", "-oQ/tmp@example.net",
            "x@[127.0.0.1]"]


@pytest.mark.parametrize("frm", BAD_FROM)
def test_hostile_from_post_held_no_reply(elena, frm):
    raw = mail(frm=frm, body="a post\n")
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)
    for item in elena.all_items():
        assert item.rcpts == [MAINTAINER]


@pytest.mark.parametrize("frm", BAD_FROM)
def test_hostile_from_guide_request_no_reply(elena, frm):
    run(elena, mail(frm=frm, body="# guide\n"))
    assert elena.articles() == []
    assert elena.replies() == []


def test_1100_header_fields_held(elena):
    # a quarantine, not moderation: the maintainer is told, not the moderators
    elena.write("moderators", "mod1@example.org\n")
    extra = "\n".join("X-Filler-%d: %d" % (i, i) for i in range(1100))
    raw = mail(frm=ALICE, extra=extra)
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)
    notices = [q for q in elena.queue_items() if q.name.startswith("r.")]
    assert [q.rcpts for q in notices] == [["elena-admin@example.org"]]
    assert b"Subject: suspicious mail held" in notices[0].message


def test_header_over_size_limit_held(elena):
    # 120 KB of header in one folded field, over the 100K default
    extra = "X-Big: start\n" + "\n".join("\t" + "y" * 76 for _ in range(1600))
    raw = mail(frm=ALICE, extra=extra)
    run(elena, raw)
    assert elena.articles() == []
    (hid,) = held(elena)
    assert raw in elena.read("var", "hold", hid)


def test_header_size_limit_configurable(elena):
    elena.set_config(INCOMING_HEADER_SIZE_LIMIT="2K")
    run(elena, mail(frm=ALICE, extra="X-Pad: " + "z" * 3000))
    assert elena.articles() == []
    assert len(held(elena)) == 1
    run(elena, mail(frm=ALICE, extra="X-Pad: short"))
    assert elena.articles() == [1]


def test_no_from_post_held(elena):
    raw = b"To: elena@example.org\nSubject: anonymous\nMessage-ID: <anon@example.net>\n\nhi\n"
    run(elena, raw)
    assert elena.articles() == []
    assert len(held(elena)) == 1


# --------------------------------------------------- membership, knobs


@pytest.mark.parametrize("frm", ['"Alice Example" <alice@example.com>',
                                 "alice@example.com (Alice at home)",
                                 "Alice <alice@EXAMPLE.COM>"])
def test_member_from_forms(elena, frm):
    run(elena, mail(frm=frm))
    assert elena.articles() == [1]


def test_local_part_is_case_sensitive(elena):
    run(elena, mail(frm="ALICE@example.com"))
    assert elena.articles() == []
    assert len(to(elena, "ALICE@example.com")) == 1


def test_off_member_may_post_bye_member_may_not(make_list):
    ml = make_list("elena", members=[])
    ml.write("members", "#\toffline@example.com\n##BYE gone@example.com\n")
    ml.write("actives", "")
    run(ml, mail(frm="offline@example.com"))
    assert ml.articles() == [1]
    run(ml, mail(frm="gone@example.com"))
    assert ml.articles() == [1]
    assert len(to(ml, "gone@example.com")) == 1


def test_plus_in_members_lets_anyone_post(make_list):
    ml = make_list("elena", members=[])
    ml.write("members", "+\n")
    run(ml, mail(frm=STRANGER))
    assert ml.articles() == [1]


def test_command_from_non_member_is_never_an_article(elena):
    run(elena, mail(frm=STRANGER, body="# help\n"))
    assert elena.articles() == []
    run(elena, mail(frm=STRANGER, body="subscribe\n"), ctl=True)
    assert elena.articles() == []


def test_guide_check_limit_configurable(elena):
    elena.set_config(GUIDE_CHECK_LIMIT="5", COMMAND_CHECK_LIMIT="5")
    run(elena, data("guide-5th-line.eml"))
    (reply,) = elena.replies()
    assert reply.rcpts == [STRANGER]
    assert reply.body == GUIDE.encode()


def test_guide_keyword_configurable(elena):
    elena.set_config(GUIDE_KEYWORD="info")
    run(elena, mail(frm=STRANGER, body="# info\n"))
    (reply,) = elena.replies()
    assert reply.body == GUIDE.encode()


def test_crlf_guide_request(elena):
    run(elena, mail(frm=STRANGER, body="# guide\n", eol="\r\n"))
    (reply,) = elena.replies()
    assert reply.body == GUIDE.encode()


def test_crlf_help_from_member(elena):
    run(elena, data("post-crlf.eml").replace(b"Hello, list.", b"# help"))
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.body.startswith((">>> help\n" + HELP).encode())


def test_check_message_id_off(elena):
    elena.set_config(CHECK_MESSAGE_ID="0")
    run(elena, mail(body="first\n", msgid="<same@example.com>"))
    run(elena, mail(body="second\n", msgid="<same@example.com>"))
    assert elena.articles() == [1, 2]


def test_notify_interval_zero_notifies_every_loop(elena):
    elena.set_config(NOTIFY_INTERVAL="0")
    for _ in range(2):
        run(elena, mail(extra="X-Loop: elena@example.org"))
    assert len(saved(elena, "loop")) == 2
    assert len(to(elena, MAINTAINER)) == 2


def test_header_field_limit_boundary(elena):
    base = len([l for l in split_message(mail())[0].split(b"\n") if l])
    ok = "\n".join("X-F%d: v" % i for i in range(1000 - base))
    run(elena, mail(extra=ok))
    assert elena.articles() == [1]
    over = "\n".join("X-F%d: v" % i for i in range(1001 - base))
    run(elena, mail(extra=over))
    assert elena.articles() == [1]
    assert len(held(elena)) == 1


def test_received_limit_configurable(elena):
    elena.set_config(RECEIVED_LIMIT="2")
    extra = "Received: from a by b; x\nReceived: from b by c; x\nReceived: from c by d; x"
    run(elena, mail(extra=extra))
    assert elena.articles() == []
    assert len(saved(elena, "loop")) == 1


def test_debug_flag_queues_no_reply(elena):
    run(elena, mail(frm=STRANGER, body="# guide\n"), "-d")
    assert elena.replies() == []
    assert elena.articles() == []


def test_return_path_empty_is_a_bounce(elena):
    run(elena, mail(frm=ALICE, extra="Return-Path: <>"))
    assert elena.articles() == []
    assert len(saved(elena, "bounce")) == 1


def test_reply_texts_expand_list_variables(elena):
    elena.write("help", "Write to $MAIL_LIST; commands go to ${CONTROL_ADDRESS}. $NO_SUCH stays.\n")
    run(elena, mail(frm=ALICE, body="# help\n"))
    (reply,) = elena.replies()
    assert reply.body.startswith(b">>> help\nWrite to elena@example.org; commands go to "
                                 b"elena-ctl@example.org. $NO_SUCH stays.\n")


def test_envelope_sender_control_bytes_never_reach_a_queue_file(elena):
    sender = "MAILER-DAEMON@mx.example.net\r\n.\r\nMAIL FROM:<evil@example.net>"
    run(elena, mail(frm=ALICE), env={"SENDER": sender})
    assert elena.articles() == []
    assert len(saved(elena, "bounce")) == 1
    for item in elena.all_items():
        assert b"\r" not in item.raw and b"\nMAIL FROM:" not in item.raw


def test_nested_mime_help_from_member(elena):
    run(elena, data("help-nested-mime.eml"))
    assert elena.articles() == []
    (reply,) = elena.replies()
    assert reply.rcpts == [ALICE]
    assert reply.body.startswith((">>> help\n" + HELP).encode())


def test_mime_first_part_not_text_is_a_post(elena):
    raw = data("image-first-mime.eml")
    run(elena, raw)
    assert elena.articles() == [1]
    assert elena.replies() == []
    assert split_message(elena.spool(1))[1] == split_message(raw)[1]
