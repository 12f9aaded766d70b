"""The full path with a real MTA: SMTP -> a private Postfix -> local(8) ->
the alias pipe "|fml DIR" -> article and queue item.

Each test starts its own Postfix instance on a free port of 127.0.0.1 (see
PrivatePostfix in conftest.py; the system's Postfix and /etc/postfix are not
touched) whose aliases run fml as "nobody", the owner of the list home and
of the alias database.  What is checked is what the admin of such a site
sees: the article, the queue item, Postfix's queue (empty: fml exited 0, so
Postfix is done with the mail) and Postfix's log (delivered, no bounce).
"""
import re

from conftest import (BOUNCE_ADDRESS, FML, MAINTAINER, MailList, field_value, mail, split_message,
                      wait_for)

ALICE = "alice@example.com"
BOB = "bob@example.net"
ACTIVES = [ALICE, BOB, "#\toff@example.com", "carol@example.org s=skip"]
HELP = "Commands of the elena list:\n  help\n"
DENY = "Only members may post to the elena list.\n"


def aliases(ml):
    return {
        "elena": '"|%s %s"' % (FML, ml.dir),
        "elena-ctl": '"|%s %s --ctladdr"' % (FML, ml.dir),
        "elena-admin": "/dev/null",
        "postmaster": "/dev/null",
        "mailer-daemon": "/dev/null",
    }


def setup_list(make_list, private_postfix):
    ml = make_list("elena", members=[ALICE, BOB], actives=ACTIVES)
    ml.write("help", HELP)
    ml.write("deny", DENY)
    pf = private_postfix(aliases(ml))
    return ml, pf


def queue_id(pf, msgid):
    m = re.search(r"postfix-fmltest/cleanup\[\d+\]: ([0-9A-F]+): message-id=%s"
                  % re.escape(msgid), pf.log())
    assert m, "Postfix never received %s:\n%s" % (msgid, pf.log()[-3000:])
    return m.group(1)


def log_of(pf, qid):
    return [l for l in pf.log().splitlines() if (" %s: " % qid) in l]


def wait_delivered(pf, qid):
    """Until Postfix has logged the final status of QID and its queue is empty."""
    done = wait_for(lambda: any("status=" in l and "status=deferred" not in l
                                for l in log_of(pf, qid)) and pf.queue_empty())
    assert done, "Postfix did not finish %s:\n%s\n%s" % (
        qid, "\n".join(log_of(pf, qid)), pf.queue_listing())


def assert_no_bounce(pf, qid):
    lines = log_of(pf, qid)
    assert not [l for l in lines if "status=bounced" in l or "status=deferred" in l], lines
    assert "sender non-delivery notification" not in pf.log()
    assert pf.queue_empty(), pf.queue_listing()


def test_smtp_post_becomes_article_1(make_list, private_postfix):
    ml, pf = setup_list(make_list, private_postfix)
    body = "Hello, list, by SMTP.\n\n.\n..leading dots\nFrom the start of a line\n"
    raw = mail(frm=ALICE, subject="via postfix", body=body, msgid="<smtp-post-1@example.com>")
    refused = pf.submit(ALICE, ["elena@example.org"], raw)
    assert refused == {}
    qid = queue_id(pf, "<smtp-post-1@example.com>")

    assert wait_for(lambda: ml.exists("spool", "1") and ml.exists("var", "queue", "new", "a1"),
                    timeout=60), "no article after 60 s:\n%s\n%s" % (pf.log()[-3000:], ml.log())
    wait_delivered(pf, qid)
    delivered = [l for l in log_of(pf, qid) if "status=sent" in l]
    assert len(delivered) == 1, log_of(pf, qid)
    assert "delivered to command: %s %s" % (FML, ml.dir) in delivered[0]
    assert_no_bounce(pf, qid)

    assert ml.articles() == [1]
    assert ml.seq() == 1
    spool = ml.spool(1)
    # SMTP dot-stuffing undone, bytes intact.  local(8) ends what it pipes
    # with the blank line of the mbox format (it also prepends a From_ line);
    # fml keeps what it was given, and may one day drop that mbox artefact.
    assert split_message(spool)[1] in (body.encode(), body.encode() + b"\n")
    assert field_value(spool, "X-Mail-Count") == "00001"
    assert field_value(spool, "Subject") == "via postfix"
    assert field_value(spool, "Message-ID") == "<smtp-post-1@example.com>"
    # local(8)'s Delivered-To and Return-Path are in SKIP_FIELDS
    assert b"\nDelivered-To:" not in spool and b"\nReturn-Path:" not in spool
    assert ml.incoming() == []

    (item,) = ml.queue_items("new")
    item.verify()
    assert item.name == "a1"
    assert item.sender == BOUNCE_ADDRESS
    assert item.rcpts == [ALICE, BOB]
    assert item.message == spool
    assert re.search(r"\[1:alice@example\.com\] via postfix\n$", ml.text("summary"))


def test_smtp_command_mail_to_ctl_address(make_list, private_postfix):
    ml, pf = setup_list(make_list, private_postfix)
    raw = mail(frm=ALICE, to="elena-ctl@example.org", subject="x", body="help\n",
               msgid="<smtp-ctl-1@example.com>")
    assert pf.submit(ALICE, ["elena-ctl@example.org"], raw) == {}
    qid = queue_id(pf, "<smtp-ctl-1@example.com>")
    wait_delivered(pf, qid)
    assert_no_bounce(pf, qid)
    assert wait_for(lambda: ml.replies(), timeout=60)
    assert ml.articles() == []
    (reply,) = ml.replies()
    assert reply.rcpts == [ALICE]
    assert reply.field("Subject") == "fml Command Status report (elena ML)"
    assert reply.body.startswith((">>> help\n" + HELP).encode())
    assert ml.incoming() == []


def test_smtp_non_member_post_is_accepted_then_rejected(make_list, private_postfix):
    """fml exits 0 (no DSN from Postfix: no backscatter); fml sends its own
    deny reply and tells the maintainer."""
    ml, pf = setup_list(make_list, private_postfix)
    stranger = "stranger@example.net"
    raw = mail(frm=stranger, msgid="<smtp-nm-1@example.net>")
    assert pf.submit(stranger, ["elena@example.org"], raw) == {}
    qid = queue_id(pf, "<smtp-nm-1@example.net>")
    wait_delivered(pf, qid)
    assert_no_bounce(pf, qid)
    assert wait_for(lambda: len(ml.replies()) == 2, timeout=60)
    assert ml.articles() == []
    assert sorted(r.rcpts[0] for r in ml.replies()) == sorted([MAINTAINER, stranger])
    assert ml.incoming() == []


def test_smtp_too_big_is_bounced_by_postfix_with_5_3_4(make_list, private_postfix):
    """Over INCOMING_MAIL_SIZE_LIMIT fml exits 65 with a "5.3.4 ..." first
    line, and Postfix turns that into the bounce (fml itself sends nothing)."""
    ml, pf = setup_list(make_list, private_postfix)
    ml.set_config(INCOMING_MAIL_SIZE_LIMIT="1K")
    raw = mail(frm=ALICE, body="x" * 72 + "\n" * 0 + ("y" * 72 + "\n") * 30,
               msgid="<smtp-big-1@example.com>")
    assert pf.submit(ALICE, ["elena@example.org"], raw) == {}
    qid = queue_id(pf, "<smtp-big-1@example.com>")
    assert wait_for(lambda: any("status=bounced" in l for l in log_of(pf, qid))), \
        "\n".join(log_of(pf, qid))
    (line,) = [l for l in log_of(pf, qid) if "status=bounced" in l]
    assert "dsn=5.3.4" in line, line
    assert "message too big for this list" in line, line
    assert ml.articles() == []
    assert ml.incoming() == []
    assert ml.all_items() == []


def test_smtp_post_through_makefml_alias_lines(ml_dir, private_postfix):
    """The aliases exactly as `makefml newml` prints them (":include:" files
    owned by the list owner), only the maintainer pointed at /dev/null."""
    ml = MailList(ml_dir, "elena")
    out = ml.makefml("newml", "elena", "example.org").stdout.decode()
    aliases = {}
    for line in out.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, target = line.partition(":")
            target = target.strip()
            aliases[name.strip()] = "/dev/null" if target == "root" else target
    assert aliases["elena"] == ":include:%s/include" % ml.dir
    aliases.update({"postmaster": "/dev/null", "mailer-daemon": "/dev/null"})
    ml.makefml("add", "elena", ALICE)
    ml.makefml("add", "elena", BOB)
    ml.makefml("config", "elena", "DELIVERY_MODE", "queue")  # look at the queue item
    pf = private_postfix(aliases)

    raw = mail(frm=ALICE, subject="via include", msgid="<smtp-include-1@example.com>")
    assert pf.submit(ALICE, ["elena@example.org"], raw) == {}
    qid = queue_id(pf, "<smtp-include-1@example.com>")
    wait_delivered(pf, qid)
    assert_no_bounce(pf, qid)
    assert wait_for(lambda: ml.exists("var", "queue", "new", "a1"), timeout=60)
    assert ml.articles() == [1]
    (item,) = ml.queue_items("new")
    assert item.rcpts == [ALICE, BOB]
    assert item.message == ml.spool(1)
    assert field_value(ml.spool(1), "Subject") == "via include"

    raw = mail(frm=ALICE, to="elena-ctl@example.org", body="help\n",
               msgid="<smtp-include-2@example.com>")
    assert pf.submit(ALICE, ["elena-ctl@example.org"], raw) == {}
    qid = queue_id(pf, "<smtp-include-2@example.com>")
    wait_delivered(pf, qid)
    assert_no_bounce(pf, qid)
    assert wait_for(lambda: ml.replies(), timeout=60)
    assert ml.articles() == [1]
    (reply,) = ml.replies()
    assert reply.rcpts == [ALICE]
    assert ml.incoming() == []
