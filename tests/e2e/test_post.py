"""A post from a member, end to end: what the list admin finds afterwards.

Each test makes a throwaway list with makefml, pipes one mail into fml as
the MTA's alias would, and checks the exit status, spool/N byte for byte,
summary, log, seq and the queue item (its envelope, recipients, message and
trailer).  Header rewrite variables (SUBJECT_TAG_TYPE, REWRITE_TO, DATE_TYPE,
SKIP_FIELDS, REPLY_TO, PRECEDENCE) and the awkward inputs (CRLF, no blank
line, truncated, NUL bytes, mbox From_ line) each have their own test.
"""
import os
import email.utils
import re
import time

import pytest

from conftest import (BOUNCE_ADDRESS, CTL, MAINTAINER, ML, assert_done, data, field_value,
                      field_values, header_fields, mail, split_message)

ALICE = "alice@example.com"

# fml's actives format: off ("#<TAB>addr"), s=skip, m=N (digest) and ##BYE
# lines are not delivered; the list's own addresses never are.
ACTIVES = [
    "alice@example.com",
    "zed@aaa.example",
    "bob@example.net",
    "#\tdave@example.com",
    "erin@example.com s=skip",
    "frank@example.com m=3",
    "##BYE gina@example.com",
    "carol@example.org",
    "henry@Example.COM # domain case does not matter",
    "ivan@example.net m=1mp",
    "#\tjudy@example.org s=skip",
]
# sorted by domain, then address; domains lower-cased
RECIPIENTS = [
    "zed@aaa.example",
    "alice@example.com",
    "henry@example.com",
    "bob@example.net",
    "carol@example.org",
]

BODY = "Hello, list.\n\nA second paragraph, with trailing blanks   \n\n-- \nalice\n"


@pytest.fixture
def elena(make_list):
    return make_list("elena", members=[ALICE], actives=ACTIVES)


def post_one(ml, raw, *args, **kw):
    p = ml.post(raw, *args, **kw)
    assert_done(ml, p)
    return p


def article(ml):
    """spool/1, the one article there must be."""
    assert ml.articles() == [1]
    return ml.spool(1)


# ---------------------------------------------------------------- the spine


def test_member_post_makes_article_1(elena):
    elena.set_config(SUBJECT_TAG_TYPE="[:]")
    raw = mail(frm=ALICE, subject="hello", body=BODY, msgid="<post1@example.com>")
    p = post_one(elena, raw)
    assert p.stdout == b""

    spool = article(elena)
    in_head, in_body = split_message(raw)
    head, body = split_message(spool)
    assert body == in_body
    assert spool == head + b"\n" + body

    # the poster's fields are kept byte for byte (Subject gets the tag)
    for line in in_head.splitlines(keepends=True):
        if not line.startswith(b"Subject:"):
            assert line in head.splitlines(keepends=True), line
    assert field_value(spool, "Subject") == "[elena:00001] hello"
    assert field_value(spool, "X-ML-Name") == "elena"
    assert field_value(spool, "X-Mail-Count") == "00001"
    assert field_value(spool, "List-Id") == "(elena ML) <elena.example.org>"
    assert field_value(spool, "List-Post") == "<mailto:%s>" % ML
    assert field_value(spool, "List-Help") == "<mailto:%s?body=help>" % CTL
    assert field_value(spool, "List-Subscribe") == "<mailto:%s?body=subscribe>" % CTL
    assert field_value(spool, "List-Unsubscribe") == "<mailto:%s?body=unsubscribe>" % CTL
    assert field_value(spool, "List-Owner") == "<mailto:%s>" % MAINTAINER
    assert field_value(spool, "Precedence") == "bulk"
    assert field_value(spool, "Message-ID") == "<post1@example.com>"
    assert field_value(spool, "X-MLServer")
    assert CTL in field_value(spool, "X-ML-Info")

    summary = elena.text("summary")
    assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[1:alice@example\.com\] hello\n",
                        summary), summary
    assert elena.seq() == 1
    assert "article 1 from alice@example.com" in elena.log()

    assert elena.listdir("var", "queue", "new") == ["a1"]
    assert elena.replies() == []
    (item,) = elena.queue_items("new")
    item.verify()
    assert item.sender == BOUNCE_ADDRESS
    assert item.rcpts == RECIPIENTS
    assert item.states == ["-"] * len(RECIPIENTS)
    assert item.attrs.get("list") == "elena"
    assert item.attrs.get("article") == "1"
    assert item.message == spool


def test_second_post_is_article_2(elena):
    post_one(elena, mail(subject="one"))
    post_one(elena, mail(subject="two"))
    assert elena.articles() == [1, 2]
    assert elena.seq() == 2
    assert field_value(elena.spool(2), "X-Mail-Count") == "00002"
    assert elena.listdir("var", "queue", "new") == ["a1", "a2"]
    lines = elena.text("summary").splitlines()
    assert [l.split(" ", 2)[2] for l in lines] == ["[1:alice@example.com] one",
                                                  "[2:alice@example.com] two"]


def test_list_addresses_in_actives_get_no_copy(make_list):
    ml = make_list("elena", members=[ALICE],
                   actives=[ALICE, ML, CTL, "bob@example.net"])
    post_one(ml, mail())
    (item,) = ml.queue_items("new")
    assert item.rcpts == [ALICE, "bob@example.net"]


def test_poster_copies_of_list_fields_are_replaced(elena):
    extra = ("X-ML-Name: otherlist\nX-Mail-Count: 00999\nList-Post: <mailto:x@example.net>\n"
             "List-Id: other <other.example.net>\nX-MLServer: evil 1.0")
    post_one(elena, mail(extra=extra))
    spool = article(elena)
    assert field_value(spool, "X-ML-Name") == "elena"
    assert field_value(spool, "X-Mail-Count") == "00001"
    assert field_value(spool, "List-Post") == "<mailto:%s>" % ML
    assert field_value(spool, "List-Id") == "(elena ML) <elena.example.org>"
    assert field_value(spool, "X-MLServer") != "evil 1.0"


# ------------------------------------------------------------- subject tags

OLD = "Re: Re[2]: %s hello"

TAG_CASES = [
    # type, old tag in the reply's subject, the article's subject
    ("[:]", "[elena:00012]", "[elena:00001] Re: hello"),
    ("(:)", "(elena:00012)", "(elena:00001) Re: hello"),
    ("[,]", "[elena,00012]", "[elena,00001] Re: hello"),
    ("(,)", "(elena,00012)", "(elena,00001) Re: hello"),
    ("[ ]", "[elena 00012]", "[elena 00001] Re: hello"),
    ("( )", "(elena 00012)", "(elena 00001) Re: hello"),
    ("[]", "[elena]", "[elena] Re: hello"),
    ("()", "(elena)", "(elena) Re: hello"),
    ("[ID]", "[00012]", "[00001] Re: hello"),
    ("(ID)", "(00012)", "(00001) Re: hello"),
]


@pytest.mark.parametrize("tag_type,old,want", TAG_CASES, ids=[c[0] for c in TAG_CASES])
def test_subject_tag_types(elena, tag_type, old, want):
    elena.set_config(SUBJECT_TAG_TYPE=tag_type)
    raw = mail(subject=OLD % old, body=BODY)
    post_one(elena, raw)
    spool = article(elena)
    assert field_value(spool, "Subject") == want
    assert ("Subject: %s\n" % want).encode() in spool
    assert split_message(spool)[1] == BODY.encode()
    # the summary shows the subject without any tag
    assert elena.text("summary").endswith("] Re: hello\n")


@pytest.mark.parametrize("tag_type,old", [("[ID]", "[00012]"), ("(ID)", "(00012)")])
def test_summary_strips_old_id_tag(elena, tag_type, old):
    elena.set_config(SUBJECT_TAG_TYPE=tag_type)
    post_one(elena, mail(subject=OLD % old))
    assert elena.text("summary").endswith("] Re: hello\n"), elena.text("summary")


def test_no_tag_by_default_but_re_collapsed(elena):
    post_one(elena, mail(subject="Re: Re[2]: Re^3: [elena:00012] hello"))
    assert field_value(article(elena), "Subject") == "Re: hello"


def test_plain_subject_kept_byte_for_byte_without_tag(elena):
    subject = "=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=  two  blanks"
    post_one(elena, mail(subject=subject))
    assert ("Subject: %s\n" % subject).encode() in article(elena)


def test_tag_added_when_subject_missing(elena):
    elena.set_config(SUBJECT_TAG_TYPE="[:]")
    raw = b"From: alice@example.com\nTo: elena@example.org\nMessage-ID: <nosubj@example.com>\n\nbody\n"
    post_one(elena, raw)
    assert field_value(article(elena), "Subject") == "[elena:00001]"


def test_subject_form_long_id(elena):
    elena.set_config(SUBJECT_TAG_TYPE="[:]", SUBJECT_FORM_LONG_ID="3")
    post_one(elena, mail(subject="hi"))
    assert field_value(article(elena), "Subject") == "[elena:001] hi"


# ------------------------------------------------------------ awkward input


def test_crlf_input_keeps_crlf_in_added_fields(elena):
    elena.set_config(SUBJECT_TAG_TYPE="[:]")
    raw = mail(subject="crlf", body=BODY, eol="\r\n")
    post_one(elena, raw)
    spool = article(elena)
    assert re.search(rb"(?<!\r)\n", spool) is None, "a bare LF in the article"
    assert b"\r\r" not in spool
    head, body = split_message(spool)
    assert body == BODY.replace("\n", "\r\n").encode()
    assert b"Subject: [elena:00001] crlf\r\n" in head
    assert b"X-Mail-Count: 00001\r\n" in head
    assert b"List-Id: (elena ML) <elena.example.org>\r\n" in head
    assert spool == head + b"\r\n" + body
    (item,) = elena.queue_items("new")
    assert item.message == spool


def test_no_blank_line_before_body(elena):
    raw = (b"From: alice@example.com\nTo: elena@example.org\nSubject: noblank\n"
           b"Message-ID: <noblank@example.com>\nHello, list.\nsecond line\n")
    post_one(elena, raw)
    spool = article(elena)
    head, body = split_message(spool)
    assert body == b"Hello, list.\nsecond line\n"
    assert field_value(spool, "Subject") == "noblank"
    assert field_value(spool, "X-Mail-Count") == "00001"
    assert b"Hello, list." not in head


def test_truncated_mail_inside_header(elena):
    raw = b"From: alice@example.com\nTo: elena@example.org\nSubject: cut off"
    post_one(elena, raw)
    spool = article(elena)
    head, body = split_message(spool)
    assert body == b""
    assert spool.endswith(b"\n\n")
    assert b"Subject: cut off\n" in head
    assert field_value(spool, "X-Mail-Count") == "00001"
    assert elena.queue_items("new")[0].message == spool


def test_body_without_final_newline_is_untouched(elena):
    raw = mail(body="no newline at the end")
    post_one(elena, raw)
    assert split_message(article(elena))[1] == b"no newline at the end"


def test_nul_and_binary_bytes_in_body_untouched(elena):
    body = b"before\x00after\n\x00\x00\n\xff\xfe 8-bit \x1b$B$3$s\x1b(B\r\nlone\rcr\nend\n"
    head, _ = split_message(mail())
    raw = head + b"\n" + body
    post_one(elena, raw)
    spool = article(elena)
    assert split_message(spool)[1] == body
    (item,) = elena.queue_items("new")
    assert item.message == spool


def test_mbox_from_line_is_envelope_not_header(elena):
    raw = b"From bob@example.net  Sat Nov 21 10:00:00 2026\n" + mail(body=BODY)
    post_one(elena, raw)
    spool = article(elena)
    assert spool.startswith(b"From: alice@example.com\n")
    assert b"From bob@example.net" not in spool
    assert split_message(spool)[1] == BODY.encode()


def test_mbox_from_line_gives_the_envelope_sender(elena):
    # a From_ line naming MAILER-DAEMON makes it a bounce: proof it was read
    raw = b"From MAILER-DAEMON  Sat Nov 21 10:00:00 2026\n" + mail()
    post_one(elena, raw)
    assert elena.articles() == []
    assert len([f for f in elena.listdir("var", "log") if f.startswith("bounce.")]) == 1


def test_sender_env_is_preferred_to_the_from_line(elena):
    raw = b"From MAILER-DAEMON  Sat Nov 21 10:00:00 2026\n" + mail()
    post_one(elena, raw, env={"SENDER": ALICE})
    assert elena.articles() == [1]


def test_sender_env_mailer_daemon_beats_a_normal_from_line(elena):
    raw = b"From alice@example.com  Sat Nov 21 10:00:00 2026\n" + mail()
    post_one(elena, raw, env={"SENDER": "MAILER-DAEMON@mx.example.net"})
    assert elena.articles() == []
    assert len([f for f in elena.listdir("var", "log") if f.startswith("bounce.")]) == 1


def test_sample_mail_from_data_dir(elena):
    raw = data("post-multipart.eml")
    post_one(elena, raw, env={"SENDER": ALICE})
    spool = article(elena)
    assert split_message(spool)[1] == split_message(raw)[1]
    assert field_value(spool, "Content-Type") == field_value(raw, "Content-Type")


# ---------------------------------------------------------------- REWRITE_TO


def to_addrs(spool):
    return [a for _, a in email.utils.getaddresses(field_values(spool, "To"))]


def test_rewrite_to_0_keeps_to(elena):
    raw = mail(to="bob@example.net, Elena <elena@example.org>")
    post_one(elena, raw)
    spool = article(elena)
    assert b"To: bob@example.net, Elena <elena@example.org>\n" in spool


def test_rewrite_to_1_puts_list_first(elena):
    elena.set_config(REWRITE_TO="1")
    post_one(elena, mail(to="bob@example.net"))
    spool = article(elena)
    assert len(field_values(spool, "To")) == 1
    assert to_addrs(spool) == [ML, "bob@example.net"]


def test_rewrite_to_1_list_already_there(elena):
    elena.set_config(REWRITE_TO="1")
    post_one(elena, mail(to="elena@example.org, bob@example.net"))
    spool = article(elena)
    assert to_addrs(spool) == [ML, "bob@example.net"]


def test_rewrite_to_2_list_only(elena):
    elena.set_config(REWRITE_TO="2")
    post_one(elena, mail(to="bob@example.net, carol@example.org"))
    spool = article(elena)
    assert len(field_values(spool, "To")) == 1
    assert to_addrs(spool) == [ML]


def test_rewrite_to_2_adds_to_when_missing(elena):
    elena.set_config(REWRITE_TO="2")
    raw = b"From: alice@example.com\nSubject: no to\nMessage-ID: <noto@example.com>\n\nbody\n"
    post_one(elena, raw)
    assert to_addrs(article(elena)) == [ML]


# ----------------------------------------------------------------- DATE_TYPE

OLD_DATE = "Mon, 01 Jan 2001 00:00:00 +0000"


def fresh(date_value):
    t = email.utils.parsedate_to_datetime(date_value).timestamp()
    return abs(t - time.time()) < 86400


@pytest.mark.parametrize("date_type,kept_as", [
    ("original-date", None),
    ("received-date", None),
    ("received-date+posted", "Posted"),
    ("received-date+x-posted", "X-Posted"),
    ("received-date+x-original-date", "X-Original-Date"),
    ("distribute-date", None),
    ("distribute-date+posted", "Posted"),
    ("distribute-date+x-posted", "X-Posted"),
    ("distribute-date+x-original-date", "X-Original-Date"),
])
def test_date_type(elena, date_type, kept_as):
    elena.set_config(DATE_TYPE=date_type)
    raw = mail().replace(b"Date: Sat, 21 Nov 2026 10:00:00 +0000",
                         ("Date: %s" % OLD_DATE).encode())
    post_one(elena, raw)
    spool = article(elena)
    date = field_value(spool, "Date")
    if date_type == "original-date":
        assert ("Date: %s\n" % OLD_DATE).encode() in spool
    else:
        assert date != OLD_DATE and fresh(date), date
    for name in ("Posted", "X-Posted", "X-Original-Date"):
        if name == kept_as:
            assert field_value(spool, name) == OLD_DATE
        else:
            assert field_values(spool, name) == []


def test_missing_date_is_added(elena):
    raw = b"From: alice@example.com\nSubject: undated\nMessage-ID: <nodate@example.com>\n\nbody\n"
    post_one(elena, raw)
    assert fresh(field_value(article(elena), "Date"))


# --------------------------------------------- SKIP_FIELDS, REPLY_TO, PRECEDENCE

SKIPPABLE = ("Return-Receipt-To: alice@example.com\nErrors-To: alice@example.com\n"
             "Delivered-To: elena@example.org\nReturn-Path: <alice@example.com>\n"
             "X-Secret: s3cret\nX-Keep: kept")


def test_skip_fields_default(elena):
    post_one(elena, mail(extra=SKIPPABLE))
    spool = article(elena)
    for name in ("Return-Receipt-To", "Errors-To", "Delivered-To", "Return-Path"):
        assert field_values(spool, name) == [], name
    assert field_value(spool, "X-Secret") == "s3cret"
    assert field_value(spool, "X-Keep") == "kept"


def test_skip_fields_custom(elena):
    elena.set_config(SKIP_FIELDS="x-secret | Received")
    extra = SKIPPABLE + "\nReceived: from a.example.net by b.example.net; Sat, 21 Nov 2026"
    post_one(elena, mail(extra=extra))
    spool = article(elena)
    assert field_values(spool, "X-Secret") == []
    assert field_values(spool, "Received") == []
    assert field_value(spool, "Errors-To") == "alice@example.com"
    assert field_value(spool, "X-Keep") == "kept"


def test_reply_to_default_keeps_posters(elena):
    post_one(elena, mail(extra="Reply-To: alice-home@example.com"))
    assert field_value(article(elena), "Reply-To") == "alice-home@example.com"


def test_reply_to_forced(elena):
    elena.set_config(REPLY_TO=ML)
    post_one(elena, mail(extra="Reply-To: alice-home@example.com"))
    assert field_value(article(elena), "Reply-To") == ML


def test_precedence_default_bulk_replaces_posters(elena):
    post_one(elena, mail(extra="Precedence: junk"))
    assert field_value(article(elena), "Precedence") == "bulk"


def test_precedence_list(elena):
    elena.set_config(PRECEDENCE="list")
    post_one(elena, mail())
    assert field_value(article(elena), "Precedence") == "list"


def test_precedence_empty_adds_none(elena):
    elena.set_config(PRECEDENCE="")
    post_one(elena, mail())
    assert field_values(article(elena), "Precedence") == []


def test_no_rfc2369_no_rfc2919(elena):
    elena.set_config(USE_RFC2369="0", USE_RFC2919="0")
    post_one(elena, mail())
    names = {n.lower() for n, _, _ in header_fields(article(elena))}
    assert not names & {"list-id", "list-post", "list-help", "list-subscribe",
                        "list-unsubscribe", "list-owner"}


# ------------------------------------------------------------ refusals, -d


def test_size_limit_refuses_with_5_3_4(elena):
    elena.set_config(INCOMING_MAIL_SIZE_LIMIT="1K")
    raw = mail(body="x" * 2048 + "\n")
    p = elena.post(raw)
    assert p.returncode == 65
    first = p.stdout.decode().split("\n")[0]
    assert first.startswith("5.3.4 message too big for this list"), p.stdout
    assert elena.listdir("var", "incoming") == []
    assert elena.articles() == []
    assert elena.all_items() == []


def test_size_limit_lets_a_small_mail_in(elena):
    elena.set_config(INCOMING_MAIL_SIZE_LIMIT="1K")
    post_one(elena, mail(body="short\n"))
    assert elena.articles() == [1]


def config_line_count(ml):
    return len(ml.text("config.cf").splitlines())


@pytest.mark.parametrize("name,value", [
    ("SUBJECT_TAG_TYPE", "[x]"),
    ("PERMIT_POST_FROM", "everybody"),
    ("GUIDE_CHECK_LIMIT", "three"),
    ("INCOMING_MAIL_SIZE_LIMIT", "10Q"),
])
def test_broken_config_is_tempfail_with_file_line(elena, name, value):
    elena.set_config(**{name: value})
    line = config_line_count(elena)
    raw = mail()
    p = elena.post(raw)
    assert p.returncode == 75
    said = (p.stdout + p.stderr).decode(errors="replace") + elena.log()
    assert "config.cf:%d" % line in said, said
    assert elena.listdir("var", "incoming") == []
    assert elena.articles() == []
    assert elena.all_items() == []
    # the MTA retries once the admin has fixed the file: nothing was lost
    text = elena.text("config.cf").splitlines(keepends=True)
    elena.write("config.cf", "".join(text[:-1]))
    post_one(elena, raw)
    assert elena.articles() == [1]


def test_empty_input(elena):
    post_one(elena, b"")
    assert elena.articles() == []
    assert "empty input" in elena.log()
    assert elena.all_items() == []
    assert elena.seq() == 0


def test_debug_flag_makes_article_but_no_queue_item(elena):
    raw = mail(body=BODY)
    post_one(elena, raw, "-d")
    spool = article(elena)
    assert split_message(spool)[1] == BODY.encode()
    assert elena.listdir("var", "queue", "new") == []
    assert elena.all_items() == []


# --------------------------------------------------------- more boundaries


def test_size_limit_boundary_exact(elena):
    elena.set_config(INCOMING_MAIL_SIZE_LIMIT="1K")
    head = mail(body="")
    exact = head + b"z" * (1024 - len(head))
    assert len(exact) == 1024
    post_one(elena, exact)
    assert elena.articles() == [1]
    p = elena.post(exact + b"z")
    assert p.returncode == 65
    assert p.stdout.startswith(b"5.3.4 message too big for this list")
    assert elena.articles() == [1]
    assert elena.listdir("var", "incoming") == []


def test_one_megabyte_line_body_untouched(elena):
    body = b"q" * (1 << 20) + b"\n"
    raw = split_message(mail())[0] + b"\n" + body
    post_one(elena, raw)
    assert split_message(article(elena))[1] == body


def test_raw_utf8_subject_tagged_opaquely(elena):
    elena.set_config(SUBJECT_TAG_TYPE="[:]")
    subject = "Re: [elena:00003] \u3053\u3093\u306b\u3061\u306f \u00e9"
    raw = mail(subject=subject)
    post_one(elena, raw)
    spool = article(elena)
    assert "Subject: [elena:00001] Re: \u3053\u3093\u306b\u3061\u306f \u00e9\n".encode() in spool
    assert elena.text("summary").endswith("] Re: \u3053\u3093\u306b\u3061\u306f \u00e9\n")


def test_encoded_subject_decoded_in_summary(elena):
    # ISO-2022-JP "konnichiwa", as Japanese mailers send it
    subject = "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?="
    post_one(elena, mail(subject=subject))
    assert ("Subject: %s\n" % subject).encode() in article(elena)
    assert elena.text("summary").endswith(
        "[1:alice@example.com] \u3053\u3093\u306b\u3061\u306f\n")


def test_folded_subject_unfolded_in_summary(elena):
    raw = mail(subject="a long\n\tsubject line")
    post_one(elena, raw)
    assert b"Subject: a long\n\tsubject line\n" in article(elena)
    assert elena.text("summary").endswith("] a long\tsubject line\n") or \
        elena.text("summary").endswith("] a long subject line\n")


def test_from_display_name_forms_in_summary(elena):
    post_one(elena, mail(frm='"Alice Example" <alice@EXAMPLE.com>'))
    assert "[1:alice@example.com]" in elena.text("summary")
    assert b'From: "Alice Example" <alice@EXAMPLE.com>\n' in article(elena)


def test_redelivery_with_new_from_line_is_one_article(elena):
    """An MTA retry re-creates the From_ line with a new time stamp: the
    Message-ID still catches it."""
    raw = mail()
    post_one(elena, b"From alice@example.com  Sat Nov 21 10:00:00 2026\n" + raw)
    post_one(elena, b"From alice@example.com  Sat Nov 21 10:05:00 2026\n" + raw)
    assert elena.articles() == [1]
    assert [i.name for i in elena.all_items() if i.sender] == ["a1"]


def test_command_line_override_beats_config_cf(elena):
    elena.set_config(SUBJECT_TAG_TYPE="(:)")
    post_one(elena, mail(subject="hi"), "--SUBJECT_TAG_TYPE=[:]")
    assert field_value(article(elena), "Subject") == "[elena:00001] hi"


def test_bad_command_line_value_is_tempfail(elena):
    p = elena.post(mail(), "--SUBJECT_TAG_TYPE=[x]")
    assert p.returncode == 75
    assert b"SUBJECT_TAG_TYPE" in p.stdout + p.stderr
    assert elena.listdir("var", "incoming") == []
    assert elena.articles() == []


def test_duplicate_active_gets_one_copy(make_list):
    ml = make_list("elena", members=[ALICE],
                   actives=[ALICE, "bob@example.net", "bob@EXAMPLE.net", "bob@example.net s=skip"])
    post_one(ml, mail())
    (item,) = ml.queue_items("new")
    assert item.rcpts == [ALICE, "bob@example.net"]


def test_list_identity_variables(elena):
    elena.set_config(ML_FN='"Elena Talk"', LIST_ID="talk.example.org", XMLCOUNT="X-Sequence",
                     XMLNAME="X-ML-Name: elena-talk", BRACKET="talk", SUBJECT_TAG_TYPE="[:]")
    post_one(elena, mail(subject="[talk:00007] hi"))
    spool = article(elena)
    assert field_value(spool, "List-Id") == '"Elena Talk" <talk.example.org>'
    assert field_value(spool, "X-Sequence") == "00001"
    assert field_values(spool, "X-Mail-Count") == []
    assert field_value(spool, "X-ML-Name") == "elena-talk"
    assert field_value(spool, "Subject") == "[talk:00001] hi"


def test_append_mail_count_off(elena):
    elena.set_config(APPEND_MAIL_COUNT="0")
    post_one(elena, mail())
    assert field_values(article(elena), "X-Mail-Count") == []


def test_recipient_cache_follows_actives(make_list):
    """The recipients are a snapshot in var/queue/rcpt/ (a generation),
    keyed by the actives file's size, mtime and inode: an edit of actives
    (by an editor, in the same size even) is seen by the next post."""
    ml = make_list(members=["alice@example.com"],
                   actives=["alice@example.com", "bob@example.net"])
    old = time.time() - 60
    os.utime(ml.path("actives"), (old, old))
    assert ml.post(mail()).returncode == 0
    assert [n for n in ml.listdir("var", "queue", "rcpt") if n.startswith("g")]
    assert ml.queue_items()[0].rcpts == ["alice@example.com", "bob@example.net"]
    # same size, other address, mtime moved on
    ml.write("actives", "alice@example.com\ncarl@example.net\n")
    os.utime(ml.path("actives"), (old + 10, old + 10))
    assert ml.post(mail()).returncode == 0
    items = {q.name: q for q in ml.queue_items()}
    assert items["a2"].rcpts == ["alice@example.com", "carl@example.net"]
    # a third post names the same generation
    assert ml.post(mail()).returncode == 0
    items = {q.name: q for q in ml.queue_items()}
    assert items["a3"].rcpts == items["a2"].rcpts
    assert items["a3"].attrs["rcpts"] == items["a2"].attrs["rcpts"]


def test_mbox_separator_dropped_only_with_a_from_line(make_list):
    """Postfix local(8) frames a mail for a command as mbox: a From_ line
    first and an empty line last.  That empty line is not the poster's: it
    goes (once); without a From_ line a trailing empty line is the poster's
    and stays."""
    ml = make_list(members=["alice@example.com"])
    framed = b"From alice@example.com Sat Nov 21 10:00:00 2026\n" + \
        mail(body="last line\n") + b"\n"
    assert ml.post(framed).returncode == 0
    assert ml.read("spool", "1").endswith(b"\n\nlast line\n")
    assert ml.post(mail(body="last line\n\n")).returncode == 0
    assert ml.read("spool", "2").endswith(b"\n\nlast line\n\n")
