"""The HTML archive (issue 15), end to end and in a real browser.

Posts go through fml as from the MTA; fml starts `fmlproc -H` detached for
the pages, and `fmlqueue run` catches up.  lighttpd on loopback serves the
list's htdocs/ (webserver.py) and headless Chromium (selenium) reads it as
a person would: the top index, a unit, its thread view, an article with
decoded text and an attachment, the Atom feed.  Hostile posts (script in
every place a header or body can carry it, javascript: links, CSS, RFC
2047 tricks, a file name that climbs out, 10,000 parts) are opened in the
browser too: no script element, no event handler, no javascript: link, a
canary that a script would set stays unset, nothing written outside
htdocs.
"""
import os
import re
import shutil
import subprocess
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import TMP, mail
from test_queue import fmlqueue
from test_web import chromium
from webserver import WebServer

MEMBERS = ["alice@example.com", "bob@example.net", "carol@example.org", "eve@example.com"]


@pytest.fixture
def arch(make_list):
    return make_list(members=MEMBERS, HTML_ARCHIVE="1", DMARC_MITIGATION="never")


@pytest.fixture
def site(arch):
    w = WebServer(os.path.join(TMP, "web-" + uuid.uuid4().hex[:8]), arch.ml_dir,
                  docroot=arch.path("htdocs")).start()
    yield w
    w.stop()
    shutil.rmtree(w.base, ignore_errors=True)


@pytest.fixture
def browser():
    b = chromium()
    yield b
    b.quit()


def post(ml, raw):
    p = ml.post(raw, env={"SENDER": "alice@example.com"})
    assert p.returncode == 0, p.stderr
    return ml.seq()


def page(ml, n, timeout=30):
    """Article N's page, once the detached update has made it."""
    path = ml.path("htdocs", "a", "%d.html" % n)
    end = time.time() + timeout
    while not os.path.exists(path) and time.time() < end:
        time.sleep(0.05)
    assert os.path.exists(path), "no page for article %d" % n
    return open(path, encoding="utf-8").read()


def up_to_date(ml):
    fmlqueue("run", "-D", ml.ml_dir, "elena")
    assert ml.text("var", "db", "html", "done").strip() == str(ml.seq())


def tree(top):
    """Every file under TOP: {relative path: bytes}."""
    return {os.path.relpath(os.path.join(dp, f), top): open(os.path.join(dp, f), "rb").read()
            for dp, _, fns in os.walk(top) for f in fns}


def multipart(frm, subject, parts, boundary="b0undary", extra=""):
    head = ("From: %s\nTo: elena@example.org\nSubject: %s\nMessage-ID: <%s@example.com>\n"
            "Date: Sat, 21 Nov 2026 11:00:00 +0000\nMIME-Version: 1.0\n%s"
            "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
            % (frm, subject, uuid.uuid4().hex, extra, boundary))
    body = "".join("--%s\n%s\n" % (boundary, p) for p in parts) + "--%s--\n" % boundary
    return (head + body).encode()


def test_pages_threads_feed_attachment_in_a_browser(arch, site, browser):
    from selenium.webdriver.common.by import By
    ml = arch
    n1 = post(ml, mail(frm="Alice Example <alice@example.com>", subject="Plans for =?UTF-8?B?"
                       "5pel5pys?= trip", msgid="<root@example.com>",
                       body="Let us meet.\nSee https://example.org/map?x=1&y=2 for the map.\n"))
    pdf = "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg=="
    n2 = post(ml, multipart(
        "Bob <bob@example.net>", "Re: Plans", [
            "Content-Type: text/plain; charset=iso-2022-jp\n\n"
            "\x1b$B$3$s$K$A$O\x1b(B, Alice\n> Let us meet.\nYes.\n",
            "Content-Type: application/pdf; name=\"map.pdf\"\n"
            "Content-Transfer-Encoding: base64\n"
            "Content-Disposition: attachment; filename=\"map.pdf\"\n\n" + pdf],
        extra="In-Reply-To: <root@example.com>\n"))
    n3 = post(ml, mail(frm="carol@example.org", subject="Another topic"))
    for n in (n1, n2, n3):
        page(ml, n)
    up_to_date(ml)
    browser.get(site.url + "/index.html")
    assert "elena archive" in browser.title
    browser.find_element(By.PARTIAL_LINK_TEXT, "threads").click()
    thread = browser.find_element(By.TAG_NAME, "main")
    # the reply sits under its parent
    nested = thread.find_element(By.CSS_SELECTOR, "li#a%d ul li#a%d" % (n1, n2))
    assert "Re: Plans" in nested.text
    nested.find_element(By.TAG_NAME, "a").click()
    art = browser.find_element(By.TAG_NAME, "article")
    assert "こんにちは, Alice" in art.text  # ISO-2022-JP decoded
    assert browser.find_element(By.CSS_SELECTOR, "span.q").text == "> Let us meet."
    assert "alice@example.com" not in browser.page_source  # HTML_ADDRESS_POLICY hide
    link = browser.find_element(By.PARTIAL_LINK_TEXT, "map.pdf")
    assert "application/pdf" in art.text
    with urllib.request.urlopen(link.get_attribute("href")) as r:
        assert r.read().startswith(b"%PDF-1.4")
    browser.find_element(By.CSS_SELECTOR, "a[rel=prev]").click()
    assert "Plans for 日本 trip" in browser.find_element(By.TAG_NAME, "h1").text
    url = browser.find_element(By.PARTIAL_LINK_TEXT, "https://example.org/map").get_attribute(
        "href")
    assert url == "https://example.org/map?x=1&y=2"
    # the feed: the three, newest first
    with urllib.request.urlopen(site.url + "/atom.xml") as r:
        feed = ET.fromstring(r.read())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.find("a:title", ns).text for e in feed.findall("a:entry", ns)]
    assert titles == ["Another topic", "Re: Plans", "Plans for 日本 trip"]
    # a phone: the text wraps, nothing wider than the screen
    browser.set_window_size(360, 740)
    browser.get(site.url + "/a/%d.html" % n1)
    assert browser.execute_script(
        "return document.documentElement.scrollWidth <= window.innerWidth"), \
        browser.execute_script(
            "var out=[document.documentElement.scrollWidth, window.innerWidth];"
            "document.querySelectorAll('*').forEach(function(e){"
            "if(e.getBoundingClientRect().right>window.innerWidth+1)"
            "out.push(e.tagName+'.'+e.className)});return out")
    assert [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]] == []


HOSTILE = [
    # script and handlers in the subject and the author's name, RFC 2047 too
    mail(frm='"<img src=x onerror=window.pwned=1>" <eve@example.com>',
         subject="=?UTF-8?Q?=3Cscript=3Ewindow=2Epwned=3D1=3C/script=3E?= <svg onload=1>",
         body="<script>window.pwned=1</script>\n<a href=\"javascript:window.pwned=1\">x</a>\n"
              "javascript:window.pwned=1\n<style>body{display:none}</style>\n"
              "https://example.com/\"><script>window.pwned=1</script>\n"),
    # an HTML-only mail: shown as text, never as HTML
    (b"From: eve@example.com\nTo: elena@example.org\nSubject: html\nMIME-Version: 1.0\n"
     b"Content-Type: text/html; charset=utf-8\n\n<html><body onload=\"window.pwned=1\">"
     b"<p>hello <b>there</b></p><script>window.pwned=1</script>"
     b"<iframe src=\"javascript:window.pwned=1\"></iframe></body></html>\n"),
    # header injection through an encoded word that decodes to a line end
    mail(frm="eve@example.com", subject="=?UTF-8?B?aGkNCjxzY3JpcHQ+d2luZG93LnB3bmVkPTE8L3Njcmlw"
         "dD4=?="),
]


def test_hostile_posts_run_no_script(arch, site, browser):
    from selenium.webdriver.common.by import By
    ml = arch
    before = set()
    for dp, _, fns in os.walk(ml.ml_dir):
        before |= {os.path.join(dp, f) for f in fns}
    nums = [post(ml, raw) for raw in HOSTILE]
    # attachments named to climb out, or to be run by the browser
    nums.append(post(ml, multipart("eve@example.com", "files", [
        "Content-Type: text/plain\n\nsee the files\n",
        "Content-Type: text/html\nContent-Disposition: attachment; "
        "filename=\"../../x.html\"\n\n<script>window.pwned=1</script>\n",
        "Content-Type: image/svg+xml\nContent-Disposition: attachment; "
        "filename=\"/etc/evil.svg\"\n\n<svg onload=\"window.pwned=1\"/>\n",
        "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
        "filename=\".htaccess\"\n\nOptions +ExecCGI\n"])))
    # ten thousand parts
    nums.append(post(ml, multipart("eve@example.com", "many", [
        "Content-Type: text/plain\n\npart %d\n" % i for i in range(10000)])))
    for n in nums:
        page(ml, n, timeout=60)
    up_to_date(ml)
    for n in nums:
        browser.get(site.url + "/a/%d.html" % n)
        assert browser.find_elements(By.TAG_NAME, "script") == []
        assert browser.find_elements(By.TAG_NAME, "iframe") == []
        assert browser.find_elements(By.TAG_NAME, "style") == []
        assert browser.execute_script("return window.pwned === undefined")
        src = browser.page_source
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", src), n
        assert "javascript:" not in "".join(
            a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a"))
    # the console: no script ran, none was even blocked (nothing to block)
    assert [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]] == []
    for u in ("/index.html", "/atom.xml"):
        browser.get(site.url + u)
        assert browser.execute_script("return window.pwned === undefined")
    unit = [d for d in os.listdir(ml.path("htdocs")) if re.fullmatch(r"\d{4}-\d\d", d)][0]
    for u in ("index.html", "thread.html"):
        browser.get("%s/%s/%s" % (site.url, unit, u))
        assert browser.find_elements(By.TAG_NAME, "script") == []
        assert browser.execute_script("return window.pwned === undefined")
    # the many parts: a limit said, not 10,000 pages of work
    assert "too many MIME parts" in page(ml, nums[-1])
    # files: new ones only under htdocs/ and the list's own state
    after = set()
    for dp, _, fns in os.walk(ml.ml_dir):
        after |= {os.path.join(dp, f) for f in fns}
    htdocs = ml.path("htdocs") + "/"
    saved = sorted(os.path.basename(f) for f in after - before
                   if f.startswith(ml.path("htdocs", "a", str(nums[3])) + "/"))
    assert saved == ["2-_._.._x.html.bin", "3-_etc_evil.svg.bin", "4-_htaccess.bin"], saved
    outside = [f for f in after - before if not f.startswith(htdocs) and
               not f.startswith(ml.path("var") + "/") and not f.startswith(ml.path("spool"))
               and os.path.basename(f) not in ("log", "seq", "summary")]
    assert outside == []
    assert not any("x.html" in f and not f.startswith(htdocs) for f in after)


def test_rebuild_and_units(make_list):
    ml = make_list(members=MEMBERS, HTML_ARCHIVE="1", HTML_INDEX_UNIT="2",
                   HTML_INDEX_REVERSE_ORDER="0", DMARC_MITIGATION="never")
    for i in range(5):
        post(ml, mail(frm="alice@example.com", subject="number %d" % i))
    page(ml, 5)
    up_to_date(ml)
    units = sorted(d for d in os.listdir(ml.path("htdocs")) if d[0].isdigit())
    assert units == ["00001-00002", "00003-00004", "00005-00006"]
    idx = ml.text("htdocs", "00001-00002", "index.html")
    assert idx.index("number 0") < idx.index("number 1")  # oldest first
    first = tree(ml.path("htdocs"))
    out = ml.makefml("htmlify", "elena").stdout.decode()
    assert "5 articles" in out
    again = tree(ml.path("htdocs"))
    assert again == first
    # a directory that is not an archive is never written nor removed
    shutil.rmtree(ml.path("htdocs"))
    os.makedirs(ml.path("htdocs"))
    with open(ml.path("htdocs", "precious.txt"), "w") as f:
        f.write("mine\n")
    p = ml.makefml("htmlify", "elena", check=False)
    assert p.returncode != 0
    assert os.listdir(ml.path("htdocs")) == ["precious.txt"]


def test_a_busy_unit_is_paged(make_list):
    # HTML_INDEX_PAGE articles a page: a full page is written once, the
    # last is index.html and thread.html; an article links its page's thread
    ml = make_list(members=MEMBERS, HTML_ARCHIVE="1", HTML_INDEX_PAGE="3",
                   DMARC_MITIGATION="never")
    for i in range(7):
        post(ml, mail(frm="alice@example.com", subject="busy %d" % i))
    up_to_date(ml)
    unit = ml.path("htdocs", "2026-11")
    assert sorted(os.listdir(unit)) == [
        "index.html", "page-1.html", "page-2.html", "page-3.html", "thread-1.html",
        "thread-2.html", "thread-3.html", "thread.html"]
    assert ml.read("htdocs", "2026-11", "index.html") == ml.read("htdocs", "2026-11",
                                                                   "page-3.html")
    one = ml.text("htdocs", "2026-11", "page-1.html")
    assert all("busy %d" % i in one for i in range(3)) and "busy 3" not in one
    assert 'href="index.html">latest</a>' in one
    assert 'href="../2026-11/thread-2.html#a5"' in ml.text("htdocs", "a", "5.html")
    assert 'href="../2026-11/thread-3.html#a7"' in ml.text("htdocs", "a", "7.html")
    assert "(7 articles" in ml.text("htdocs", "index.html")
    first = tree(ml.path("htdocs"))
    ml.makefml("htmlify", "elena")
    again = tree(ml.path("htdocs"))
    assert again == first


def test_expire_drops_old_units(make_list):
    ml = make_list(members=MEMBERS, HTML_ARCHIVE="1", HTML_EXPIRE_LIMIT="30d",
                   DMARC_MITIGATION="never")
    old = post(ml, multipart("alice@example.com", "old news", [
        "Content-Type: text/plain\n\nlong ago\n",
        "Content-Type: application/pdf; name=a.pdf\nContent-Disposition: attachment\n\n%PDF\n"]
    ).replace(b"Sat, 21 Nov 2026 11:00:00", b"Tue, 01 Jan 2019 11:00:00"))
    now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()).encode()
    new = post(ml, mail(frm="alice@example.com", subject="fresh").replace(
        b"Sat, 21 Nov 2026 10:00:00 +0000", now))
    page(ml, new)
    up_to_date(ml)
    assert not os.path.exists(ml.path("htdocs", "2019-01"))
    assert not os.path.exists(ml.path("htdocs", "a", "%d.html" % old))
    assert not os.path.exists(ml.path("htdocs", "a", str(old)))
    assert os.path.exists(ml.path("htdocs", "a", "%d.html" % new))
    assert "2019-01" not in ml.text("htdocs", "index.html")
    assert "old news" not in ml.text("htdocs", "atom.xml")
    assert "unit 2019-01 expired" in ml.log()
    assert ml.exists("spool", str(old))  # the archive's pages only


def test_commands_and_held_posts_stay_out(arch):
    ml = arch
    n = post(ml, mail(frm="alice@example.com", subject="public"))
    p = ml.post(mail(frm="alice@example.com", to="elena-ctl@example.org",
                     body="admin pass secret\nmembers\n"), ctl=True)
    assert p.returncode == 0
    p = ml.post(mail(frm="stranger@example.org", subject="not a member"))
    assert p.returncode == 0
    page(ml, n)
    up_to_date(ml)
    text = subprocess.run(["grep", "-rl", "-e", "admin pass", "-e", "not a member",
                           ml.path("htdocs")], capture_output=True, text=True).stdout
    assert text == ""
    assert sorted(os.listdir(ml.path("htdocs", "a"))) == ["%d.html" % n]
