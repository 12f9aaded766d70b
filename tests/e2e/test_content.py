"""Content rules and decoration (issue 13; lib/actions/content.h): posts
through the real fml (the lean pipe hands them to fmlproc), articles read
back with Python's email package and compared part by part with what was
posted."""
import email
import email.policy
import glob
import os
import shutil
import subprocess

import pytest

from conftest import FML, MAINTAINER, assert_done, mail

ALICE = "alice@example.com"
GOLDEN = os.path.join(os.path.dirname(__file__), "..", "golden", "content")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def defects(msg):
    out = []
    for part in msg.walk():
        out += [type(d).__name__ for d in part.defects]
    return out


def leaves(msg):
    return [p for p in msg.walk() if not p.is_multipart()]


def payload(part):
    return part.get_payload(decode=True) or b""


def text_of(part):
    return payload(part).decode(part.get_content_charset() or "us-ascii")


def golden_mail(name):
    """The mail of tests/golden/content/NAME.in, and its #cf lines."""
    with open(os.path.join(GOLDEN, name + ".in"), "rb") as f:
        raw = f.read()
    head, _, body = raw.partition(b"#mail\n")
    cf = {}
    for line in head.decode().splitlines():
        k, _, v = line[4:].partition("=")
        cf[k.strip()] = v
    return body, cf


def article_body(ml, n):
    return ml.spool(n).split(b"\n\n", 1)[1]


def posted_body(raw):
    return raw.split(b"\n\n", 1)[1]


def notices_to(ml, addr):
    return [i for i in ml.replies() if i.rcpts == [addr]]


def test_no_rules_leave_the_body_byte_for_byte(make_list):
    ml = make_list(members=[ALICE])
    raw, _ = golden_mail("exe-as-png-strip")
    p = ml.post(raw)
    assert_done(ml, p)
    assert ml.articles() == [1]
    assert article_body(ml, 1) == posted_body(raw)
    assert "content" not in ml.log()


def test_rules_that_allow_leave_the_body_byte_for_byte(make_list):
    raw, _ = golden_mail("rules-allow-keep")
    ml = make_list(members=[ALICE], CONTENT_HANDLER="multipart/* * allow",
                   TRAILER_MAILBODY="")
    assert_done(ml, ml.post(raw))
    assert article_body(ml, 1) == posted_body(raw)


def test_an_executable_sent_as_png_is_stripped_by_its_libmagic_type(make_list):
    raw, cf = golden_mail("exe-as-png-strip")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert ml.articles() == [1]
    art = parse(ml.spool(1))
    assert defects(art) == []
    names = [p.get_filename() for p in leaves(art)]
    assert names == [None, "real.png"], names
    orig = {p.get_filename(): payload(p) for p in leaves(parse(raw))}
    assert payload(leaves(art)[1]) == orig["real.png"]
    assert text_of(leaves(art)[0]) == "Here is the picture.\n"
    log = ml.log()
    assert "cat.png, declared image/png, libmagic application/x-dosexec" in log
    (n,) = notices_to(ml, ALICE)
    text = n.message.decode()
    assert "cat.png" in text and "application/x-dosexec" in text
    assert "article 1" in text


def test_an_executable_sent_as_png_is_rejected(make_list):
    raw, cf = golden_mail("exe-as-png-reject")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert ml.articles() == []
    assert [n for n in ml.listdir("var", "log") if n.startswith("content.")]
    (n,) = notices_to(ml, ALICE)
    assert b"was not distributed" in n.message and b"application/x-dosexec" in n.message
    # no article item for the members
    assert not [i for i in ml.all_items() if i.name.startswith("a")]


def test_strip_notice_leaves_a_line_in_the_article(make_list):
    raw, cf = golden_mail("exe-as-png-notice")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    art = parse(ml.spool(1))
    texts = [text_of(p) for p in leaves(art) if p.get_content_type() == "text/plain"]
    assert any("removed an attachment here: cat.png" in t for t in texts), texts
    assert defects(art) == []


def test_html_only_mail_becomes_text_with_its_links(make_list):
    raw, cf = golden_mail("html-only-strip")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    art = parse(ml.spool(1))
    assert art.get_content_type() == "text/plain" and not art.is_multipart()
    t = text_of(art)
    assert "our page <https://example.org/x?a=1&b=2>" in t
    assert "alert" not in t and "color" not in t and "<" not in t.split("<https")[0]
    assert notices_to(ml, ALICE) == []  # nothing removed that the poster must hear of


def test_alternative_keeps_its_plain_text(make_list):
    raw, cf = golden_mail("alternative-strip")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    art = parse(ml.spool(1))
    assert art.get_content_type() == "text/plain"
    plain = [p for p in leaves(parse(raw)) if p.get_content_type() == "text/plain"][0]
    # out of its multipart, the part gets the line end its boundary took
    assert payload(art) == payload(plain) + b"\n"


def test_html_only_mail_is_rejected_when_the_list_says_so(make_list):
    raw, cf = golden_mail("html-only-reject")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert ml.articles() == []
    (n,) = notices_to(ml, ALICE)
    assert b"HTML" in n.message


def test_signed_mail_is_never_changed(make_list):
    raw, cf = golden_mail("signed-untouched")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert article_body(ml, 1) == posted_body(raw)


def test_nesting_past_the_limit_is_rejected_with_a_notice(make_list):
    raw, cf = golden_mail("limit-depth")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert ml.articles() == []
    (n,) = notices_to(ml, ALICE)
    assert b"nest more than 3 deep" in n.message


DECORATED = ["decorate-utf8-base64", "decorate-utf8-qp", "decorate-iso2022jp",
             "decorate-iso2022jp-japanese-trailer", "decorate-latin1-qp-to-utf8",
             "decorate-latin1-keeps-charset", "decorate-7bit-ascii-gets-utf8",
             "decorate-nomime", "decorate-mixed", "alternative-trailer"]


@pytest.mark.parametrize("name", DECORATED)
def test_decoration_part_by_part(make_list, name):
    raw, cf = golden_mail(name)
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    art, orig = parse(ml.spool(1)), parse(raw)
    assert defects(art) == [], defects(art)
    pre = cf.get("PREAMBLE_MAILBODY", "").replace("\\n", "\n")
    post = cf.get("TRAILER_MAILBODY", "").replace("\\n", "\n")
    pre = pre.replace("$MAIL_LIST", "elena@example.org")
    post = post.replace("$CONTROL_ADDRESS", "elena-ctl@example.org").replace(
        "$MAIL_LIST", "elena@example.org")
    a, o = leaves(art), leaves(orig)
    if not orig.is_multipart() and orig.get_content_type() == "text/plain":
        # one text: decoded, extended, in its charset when it holds the text
        assert len(a) == 1
        want = (pre + "\n\n" if pre else "") + text_of(o[0]) + ("\n" + post + "\n" if post else "")
        assert text_of(a[0]) == want
        cte = (o[0].get("Content-Transfer-Encoding") or "7bit").lower()
        got_cte = (a[0].get("Content-Transfer-Encoding") or "7bit").lower()
        try:
            want.encode(o[0].get_content_charset() or "us-ascii")
            assert a[0].get_content_charset() == (o[0].get_content_charset() or "us-ascii")
            assert got_cte == cte
        except UnicodeEncodeError:
            assert a[0].get_content_charset() == "utf-8"
            assert got_cte in (cte, "quoted-printable") and got_cte not in ("7bit",)
    else:
        # the original parts unchanged, a text part at either end
        assert art.get_content_type() == "multipart/mixed"
        mid = a[(1 if pre else 0):len(a) - (1 if post else 0)]
        assert [payload(p) for p in mid] == [payload(p) for p in o]
        if pre:
            assert text_of(a[0]).strip() == pre.strip()
        if post:
            assert text_of(a[-1]).strip() == post.strip()


def test_the_golden_inputs_cover_every_case():
    names = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(GOLDEN, "*.in"))}
    assert set(DECORATED) <= names


def test_get_sends_the_article_as_distributed(make_list):
    raw, cf = golden_mail("exe-as-png-strip")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    before = {i.name for i in ml.replies()}
    p = ml.post(mail(frm=ALICE, to="elena-ctl@example.org", subject="cmd", body="get 1\n"),
                ctl=True)
    assert_done(ml, p)
    got = [i for i in ml.replies() if i.name not in before and i.rcpts == [ALICE]]
    blob = b"".join(i.message for i in got)
    assert b"real.png" in blob and b"cat.png" not in blob


def test_a_broken_rule_keeps_the_mail_waiting(make_list):
    raw, cf = golden_mail("bad-rules")
    ml = make_list(members=[ALICE], **cf)
    p = ml.post(raw)
    assert p.returncode == 0
    assert ml.articles() == []
    assert len(ml.incoming()) == 1  # waits for a fixed configuration
    assert "CONTENT_HANDLER rule 1" in ml.log()
    ml.set_config(CONTENT_HANDLER="")
    assert_done(ml, ml.post(mail(frm=ALICE)))
    assert ml.articles() == [1, 2]


def test_maintainer_is_not_flooded(make_list):
    raw, cf = golden_mail("exe-as-png-reject")
    ml = make_list(members=[ALICE], **cf)
    assert_done(ml, ml.post(raw))
    assert notices_to(ml, MAINTAINER) == []


def strace_ok():
    p = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", "trace=getpid", "true"],
                       capture_output=True) if shutil.which("strace") else None
    return p is not None and p.returncode == 0


@pytest.mark.skipif(not strace_ok(), reason="strace missing or ptrace not permitted")
@pytest.mark.parametrize("name,loads", [("alternative-trailer", False),
                                        ("decorate-mixed", True)])
def test_the_magic_database_is_read_only_for_a_non_text_part(make_list, ml_dir, name, loads):
    raw, cf = golden_mail(name)
    ml = make_list(members=[ALICE], **cf)
    trace = os.path.join(ml_dir, "trace")
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace,
                        FML, ml.dir], input=raw, capture_output=True)
    assert p.returncode == 0, p.stderr
    assert ml.articles() == [1]
    with open(trace) as f:
        opened = f.read()
    assert "left for the full processor" in ml.log()  # the lean pipe handed it over
    assert ("magic.mgc" in opened) == loads, [l for l in opened.splitlines() if "magic" in l]


def test_makefml_refuses_rules_that_do_not_parse_and_check_finds_them(make_list):
    ml = make_list(members=[ALICE])
    p = ml.makefml("config", "elena", "CONTENT_HANDLER", "multipart/* strip", check=False)
    assert p.returncode != 0 and b"CONTENT_HANDLER rule 1" in p.stderr
    assert "CONTENT_HANDLER" not in ml.text("config.cf")
    ml.makefml("config", "elena", "CONTENT_HANDLER", "multipart/* application/* strip")
    assert ml.makefml("check", "elena", check=False).returncode == 0
    ml.set_config(CONTENT_HANDLER="* * drop")  # by hand, behind makefml's back
    p = ml.makefml("check", "elena", check=False)
    assert p.returncode != 0 and b"CONTENT_HANDLER rule 1" in p.stdout
