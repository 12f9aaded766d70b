"""The ban file (issue 16): DIR/ban keeps addresses, domains and patterns
from posting and from the command address; their mail is neither
distributed nor answered, only logged and kept in var/log/banned.ID."""
from conftest import mail


def make(make_list):
    ml = make_list(members=["alice@example.com", "spammer@bad.test"],
                   PERMIT_POST_FROM="anyone")
    ml.write("ban", "# who may not post\n"
                    "Spammer@Bad.test\n"
                    "@evil.test\n"
                    "^bot[0-9]+@\n"
                    "^(unclosed\n"
                    "not-a-rule\n")
    return ml


def articles_and_replies(ml):
    return ml.articles(), [n for n in ml.listdir("var", "queue", "new") if not n.startswith("a")]


def test_banned_posts_are_kept_not_sent(make_list):
    ml = make(make_list)
    for frm in ("spammer@bad.test", "x@evil.test", "y@mx.sub.evil.test", "bot42@example.net"):
        p = ml.post(mail(frm=frm, subject="buy"))
        assert p.returncode == 0, p.stderr
    arts, replies = articles_and_replies(ml)
    assert arts == [] and replies == []  # nothing sent, nobody told
    kept = [n for n in ml.listdir("var", "log") if n.startswith("banned.")]
    assert len(kept) == 4
    log = ml.log()
    assert log.count("the sender is banned") == 4
    assert "ban: @evil.test" in log and "ban: ^bot[0-9]+@" in log
    # a bad line is skipped, and said so when a check reads that far
    p = ml.post(mail(frm="alice@example.com"))
    assert p.returncode == 0, p.stderr
    assert "line 5: ^(unclosed" in ml.log() and ml.articles() == [1]


def test_others_and_near_misses_post(make_list):
    ml = make(make_list)
    for frm in ("alice@example.com", "bot@example.net", "z@notevil.test", "q@evil.test.org"):
        p = ml.post(mail(frm=frm))
        assert p.returncode == 0, p.stderr
    assert ml.articles() == [1, 2, 3, 4]


def test_the_envelope_sender_counts_too(make_list):
    ml = make(make_list)
    p = ml.post(mail(frm="alice@example.com"), env={"SENDER": "bounce@evil.test"})
    assert p.returncode == 0, p.stderr
    assert ml.articles() == []


def test_banned_command_mail_is_not_answered(make_list):
    ml = make(make_list)
    p = ml.post(mail(frm="bot7@example.org", subject="subscribe", body="subscribe\n"), ctl=True)
    assert p.returncode == 0, p.stderr
    arts, replies = articles_and_replies(ml)
    assert replies == [] and "bot7@example.org" not in ml.text("members")
    # the same request from anyone else gets its confirmation request
    p = ml.post(mail(frm="carol@example.org", subject="subscribe", body="subscribe\n"),
                ctl=True)
    assert p.returncode == 0, p.stderr
    assert articles_and_replies(ml)[1]  # the confirmation request and its report


def test_makefml_check_names_the_bad_lines(make_list):
    ml = make(make_list)
    p = ml.makefml("check", "elena", check=False)
    out = p.stdout.decode()
    assert p.returncode != 0
    assert "ban line 5: ^(unclosed" in out and "ban line 6: not-a-rule" in out
