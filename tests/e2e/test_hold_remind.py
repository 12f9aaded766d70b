"""Reminders to moderators about held posts (issue 16): posts held longer
than MODERATOR_REMIND are listed to the moderators in one mail, at most
one such mail a MODERATOR_REMIND."""
import os
import time

from conftest import mail
from test_queue import fmlqueue


def age(path, seconds):
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_one_reminder_a_day_for_posts_held_over_a_day(make_list):
    ml = make_list(members=["alice@example.com"], PERMIT_POST_FROM="moderator")
    ml.write("moderators", "mod@example.com\n")
    for subj in ("first held", "second held", "fresh"):
        p = ml.post(mail(subject=subj))
        assert p.returncode == 0, p.stderr
    held = sorted(ml.listdir("var", "hold"))
    assert len(held) == 3
    # two of them held for two days; the sweep is due
    for h in held[:2]:
        age(ml.path("var", "hold", h), 2 * 86400)
    age(ml.path("var", "run", "swept"), 3600)
    before = set(ml.listdir("var", "queue", "new"))
    fmlqueue("run", "-D", ml.ml_dir, "elena", "--SMTP_SERVERS=smtp:127.0.0.1:1")
    new = [n for n in set(ml.listdir("var", "queue", "new")) | set(
        ml.listdir("var", "queue", "deferred")) if n not in before]
    texts = [ml.read("var", "queue", a, n).decode(errors="replace")
             for n in new for a in ("new", "deferred")
             if os.path.exists(ml.path("var", "queue", a, n))]
    reminders = [t for t in texts if "wait for a moderator" in t]
    assert len(reminders) == 1, (texts, ml.log().splitlines())
    r = reminders[0]
    assert "rcpt - mod@example.com" in r
    assert held[0] in r and held[1] in r and held[2] not in r
    assert "first held" in r and "second held" in r and "fresh" not in r
    assert "reminded the moderators of 2 held post(s)" in ml.log()
    # the next sweep, right after: no second reminder
    age(ml.path("var", "run", "swept"), 3600)
    fmlqueue("run", "-D", ml.ml_dir, "elena", "--SMTP_SERVERS=smtp:127.0.0.1:1")
    assert ml.log().count("reminded the moderators") == 1
