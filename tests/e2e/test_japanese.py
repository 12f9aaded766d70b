"""LANGUAGE = Japanese (issue 16): the texts of spool-skel/Japanese/ and
fml's own sentences in Japanese, in UTF-8 or ISO-2022-JP
(LANGUAGE_CHARSET); every mail checked by Python's email package as a
mail program would read it.
"""
import email
import email.policy
import subprocess

import pytest

from conftest import MAKEFML, MailList, mail

NEWBIE = "newbie@example.com"


@pytest.fixture(params=["UTF-8", "ISO-2022-JP"])
def jlist(ml_dir, request):
    p = subprocess.run([MAKEFML, "-D", ml_dir, "--LANGUAGE=Japanese", "newml", "elena",
                        "example.org"], capture_output=True)
    assert p.returncode == 0, p.stderr
    ml = MailList(ml_dir, "elena")
    ml.makefml("add", "elena", "alice@example.com")
    ml.set_config(DELIVERY_MODE="queue", LANGUAGE_CHARSET=request.param)
    ml.charset = request.param
    return ml


def read(item, charset):
    m = email.message_from_bytes(item.message, policy=email.policy.default)
    part = m.get_body(("plain",))
    assert part.get_content_charset().upper() == charset.upper()
    if charset == "ISO-2022-JP":  # 7bit, for the mail programs of fml 4's time
        assert all(b < 0x80 for b in item.message)
    return str(m["subject"]), part.get_content()


def replies_to(ml, addr):
    return [i for i in ml.replies() if addr in i.rcpts]


def test_help_in_japanese(jlist):
    assert "LANGUAGE = Japanese" in jlist.text("config.cf")
    assert "メーリングリストのヘルプ" in jlist.text("help")
    p = jlist.post(mail(frm="alice@example.com", to="elena-ctl@example.org", body="help\n"),
                   ctl=True)
    assert p.returncode == 0
    subject, text = read(replies_to(jlist, "alice@example.com")[-1], jlist.charset)
    assert subject == "fml コマンドの結果 (elena ML)"
    assert "elena メーリングリストのヘルプ" in text
    assert "コマンドの宛先: elena-ctl@example.org" in text


def test_confirmation_round_trip(jlist):
    p = jlist.post(mail(frm=NEWBIE, to="elena-ctl@example.org", body="subscribe Newbie\n"),
                   ctl=True)
    assert p.returncode == 0
    ask = [i for i in replies_to(jlist, NEWBIE) if b"confirm" in i.message][0]
    subject, text = read(ask, jlist.charset)
    assert subject == "確認 (subscribe) (elena ML)"
    assert "elena@example.org への参加の申し込みがありました。" in text
    assert "心当たりがなければ" in text
    m = email.message_from_bytes(ask.message, policy=email.policy.default)
    # the reply a mail program makes: to Reply-To, the request quoted
    quoted = "".join("> " + line + "\n" for line in text.splitlines())
    reply = ("From: %s\nTo: %s\nSubject: Re: %s\nMessage-ID: <re-1@example.com>\n"
             "In-Reply-To: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: 8bit\n\n%s" % (
                 NEWBIE, m["Reply-To"], subject, m["Message-ID"], quoted)).encode()
    assert jlist.post(reply, ctl=True).returncode == 0
    assert NEWBIE in jlist.text("members")
    mails = [read(i, jlist.charset) for i in replies_to(jlist, NEWBIE)]
    subject, text = [(s, t) for s, t in mails if "ようこそ" in s][0]
    assert subject == "elena@example.org (elena ML) へようこそ"
    assert "$MAIL_LIST のメンバーになりました" not in text
    assert "elena@example.org のメンバーになりました" in text
