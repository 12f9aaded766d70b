"""The web side (issue 15): RFC 8058 one-click unsubscribe and confirmation
by link, end to end.

The list delivers into maildirs; each copy is checked for its recipient's
List-Unsubscribe fields and with an independent DKIM verifier (dkimpy,
keys from the tests' DNS server on loopback).  fmlweb runs as a CGI under
a real lighttpd on loopback (webserver.py); requests are made as a mail
client makes them (urllib: GET, and POST with List-Unsubscribe=One-Click)
and as a person does, in headless Chromium (selenium): open the link,
press the button.
"""
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import ROOT, TMP, mail
from dnsserver import DnsServer
from test_dmarc import verify_all
from test_queue import fmlqueue
from webserver import WebServer

MEMBERS = ["alice@example.com", "bob@example.net", "carol@example.org"]


@pytest.fixture
def dns():
    srv = DnsServer({}).start()
    yield srv
    srv.stop()


@pytest.fixture
def web(ml_dir):
    w = WebServer(os.path.join(TMP, "web-" + uuid.uuid4().hex[:8]), ml_dir).start()
    yield w
    w.stop()
    shutil.rmtree(w.base, ignore_errors=True)


def maildir_list(make_list, ml_dir, **cf):
    box = os.path.join(ml_dir, "maildirs")
    os.makedirs(box, exist_ok=True)
    os.chown(box, *__import__("conftest").owner_ids())
    ml = make_list(members=MEMBERS, SMTP_SERVERS="maildir:" + box, DMARC_MITIGATION="never",
                   **cf)
    ml.box = box
    return ml


@pytest.fixture
def oneclick(make_list, ml_dir, dns, web):
    ml = maildir_list(make_list, ml_dir, ONE_CLICK_UNSUBSCRIBE="1", WEB_URL=web.url + "/fml/")
    out = ml.makefml("dkim", "elena", "sel1").stdout.decode()
    for name, strings in re.findall(r"^(\S+)\. IN TXT \((.*)\)$", out, re.M):
        dns.txt[name.lower()] = ["".join(re.findall(r'"([^"]*)"', strings))]
    return ml


def delivered(ml, rcpt):
    """The newest article RCPT received (replies and notices skipped)."""
    fmlqueue("run", "-D", ml.ml_dir, "elena")
    d = os.path.join(ml.box, rcpt, "new")
    names = sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
    for n in reversed(names):
        with open(os.path.join(d, n), "rb") as f:
            raw = f.read()
        if b"\nReturn-Path: <>" not in raw.split(b"\n\n", 1)[0]:
            return raw
    raise AssertionError("no article for %s" % rcpt)


def field(raw, name):
    head = raw.split(b"\n\n", 1)[0].decode(errors="replace")
    m = re.findall(r"^%s:(.*(?:\n[ \t].*)*)" % re.escape(name), head, re.M | re.I)
    return [re.sub(r"\s+", " ", v).strip() for v in m]


def links(raw):
    [lu] = field(raw, "List-Unsubscribe")
    return re.findall(r"<([^>]*)>", lu)


def http(url, data=None, ctype="application/x-www-form-urlencoded"):
    req = urllib.request.Request(url, data=data, headers={"Content-Type": ctype} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def members(ml):
    return [ln.split()[0] for ln in ml.text("actives").splitlines()
            if ln.strip() and not ln.startswith("#")]


def post_one(ml):
    p = ml.post(mail(frm="alice@example.com", subject="one click"))
    assert p.returncode == 0, p.stderr
    return ml.seq()


def test_each_copy_carries_its_own_signed_fields(oneclick, dns, web):
    ml = oneclick
    n = post_one(ml)
    # the article itself has no List-Unsubscribe: each copy gets its own
    assert field(ml.read("spool", str(n)), "List-Unsubscribe") == []
    seen = set()
    for rcpt in MEMBERS:
        raw = delivered(ml, rcpt)
        web_link, mailto = links(raw)
        assert web_link.startswith(web.url + "/fml/u/elena/"), web_link
        token = web_link.rsplit("/", 1)[1]
        assert re.fullmatch(r"[a-z2-7]{26}", token)
        assert mailto == "mailto:elena-ctl+unsub-%s@example.org" % token
        assert field(raw, "List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
        seen.add(token)
        # RFC 8058 section 4: a valid signature covering both fields
        assert verify_all(dns, raw) == [("example.org", True), ("example.org", True)]
        for h in field(raw, "DKIM-Signature"):
            names = re.search(r"\bh=([^;]*)", h).group(1).replace(" ", "").split(":")
            assert "list-unsubscribe" in names and "list-unsubscribe-post" in names
        # one transaction per recipient, with its own (VERP) sender
        assert b"Return-Path: <elena-bounces+" in raw
    assert len(seen) == len(MEMBERS)


def test_get_shows_post_removes_forged_is_refused(oneclick, web):
    ml = oneclick
    post_one(ml)
    url = links(delivered(ml, "bob@example.net"))[0]
    # a link scanner's GET changes nothing
    code, page, headers = http(url)
    assert code == 200 and "bob@example.net" in page and "<form" in page
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "bob@example.net" in members(ml)
    # a forged token: 403, nothing changes
    forged = url[:-1] + ("a" if url[-1] != "a" else "b")
    assert http(forged, b"List-Unsubscribe=One-Click")[0] == 403
    other = url.replace(url.split("/")[-2], "YWxpY2VAZXhhbXBsZS5jb20")  # alice's address
    assert http(other, b"List-Unsubscribe=One-Click")[0] == 403
    assert "bob@example.net" in members(ml) and "alice@example.com" in members(ml)
    # a POST without the one-click body is no unsubscribe
    assert http(url, b"hello=world")[0] == 400
    # the POST a mail client sends: removed at once, and again 200
    code, page, _ = http(url, b"List-Unsubscribe=One-Click")
    assert code == 200 and "no longer subscribed" in page
    assert "bob@example.net" not in members(ml)
    assert http(url, b"List-Unsubscribe=One-Click")[0] == 200
    assert "one-click unsubscribe on the web" in ml.log()
    # multipart/form-data, as RFC 8058 prefers
    url2 = links(delivered(ml, "carol@example.org"))[0]
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\n"
            b"One-Click\r\n--XyZ--\r\n")
    assert http(url2, body, "multipart/form-data; boundary=XyZ")[0] == 200
    assert members(ml) == ["alice@example.com"]
    # the maintainer is told
    assert any(b"Member left: bob@example.net" in i.message for i in ml.replies())


def test_the_mailto_unsubscribes_without_a_round_trip(oneclick):
    ml = oneclick
    post_one(ml)
    mailto = links(delivered(ml, "carol@example.org"))[1]
    to = mailto[len("mailto:"):]
    # a wrong token changes nothing and is not answered
    bad = re.sub(r"unsub-[a-z2-7]{26}", "unsub-" + "a" * 26, to)
    m = mail(frm="carol@example.org", to=bad, subject="unsubscribe",
             extra="Delivered-To: %s" % bad)
    assert ml.post(m, ctl=True).returncode == 0
    assert "carol@example.org" in members(ml)
    # the right one, from another address of hers (a forward): still done
    m = mail(frm="carol.other@example.net", to=to, subject="unsubscribe",
             extra="Delivered-To: %s" % to)
    replies = len(ml.replies())
    assert ml.post(m, ctl=True).returncode == 0
    assert "carol@example.org" not in members(ml)
    assert "one-click unsubscribe by mail" in ml.log()
    # no confirmation round trip, no command report: only the maintainer's notice
    new = ml.replies()[replies:]
    assert [i.rcpts for i in new] == [["elena-admin@example.org"]]


def test_without_one_click_copies_go_in_batches(make_list, ml_dir):
    ml = maildir_list(make_list, ml_dir)
    post_one(ml)
    raw = delivered(ml, "bob@example.net")
    assert links(raw) == ["mailto:elena-ctl@example.org?body=unsubscribe"]
    assert field(raw, "List-Unsubscribe-Post") == []


def confirm_url(ml, addr):
    for item in ml.replies():
        if addr in item.rcpts and b"Confirm" in item.message:
            m = re.search(rb"(http://\S+/fml/c/elena/[0-9a-f]{32})", item.message)
            if m:
                return m.group(1).decode()
    raise AssertionError("no confirmation link for %s" % addr)


def subscribe_by_mail(ml, addr):
    p = ml.post(mail(frm=addr, to="elena-ctl@example.org", body="subscribe\n"), ctl=True)
    assert p.returncode == 0, p.stderr
    return confirm_url(ml, addr)


def test_confirm_by_link(oneclick, web):
    ml = oneclick
    url = subscribe_by_mail(ml, "dora@example.com")
    code, page, _ = http(url)
    assert code == 200 and "Subscribe dora@example.com to elena@example.org" in page
    assert "dora@example.com" not in members(ml)  # a GET confirms nothing
    code, page, _ = http(url, b"confirm=yes")
    assert code == 200 and "now a member" in page, page
    assert "dora@example.com" in members(ml)
    # used: the link is dead now
    assert http(url)[0] == 403
    assert http(web.url + "/fml/c/elena/" + "0" * 32)[0] == 403
    assert http(web.url + "/fml/c/nosuchlist/" + "0" * 32)[0] == 404
    assert http(web.url + "/fml/c/../../etc/" + "0" * 32)[0] == 404


def test_makefml_check_knows_one_click(make_list, ml_dir):
    ml = maildir_list(make_list, ml_dir, ONE_CLICK_UNSUBSCRIBE="1")
    out = ml.makefml("check", "elena", check=False).stdout.decode()
    assert "ONE_CLICK_UNSUBSCRIBE is set but WEB_URL is not" in out, out
    ml.set_config(WEB_URL="https://lists.example.org/fml")
    out = ml.makefml("check", "elena", check=False).stdout.decode()
    assert "receivers ignore the one-click fields" in out, out


# ---- in a real browser

def chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


@pytest.fixture
def browser():
    if not os.path.exists("/usr/bin/chromedriver"):
        pytest.fail("chromium-driver is not installed (make deps)")
    b = chromium()
    yield b
    b.quit()


def test_browser_confirms_and_unsubscribes(oneclick, web, browser):
    from selenium.webdriver.common.by import By
    ml = oneclick
    url = subscribe_by_mail(ml, "erin@example.com")
    browser.get(url)
    assert "Subscribe erin@example.com" in browser.find_element(By.TAG_NAME, "main").text
    browser.find_element(By.TAG_NAME, "button").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Confirmed"
    assert "erin@example.com" in members(ml)
    # her first article's one-click link, opened and pressed
    post_one(ml)
    link = links(delivered(ml, "erin@example.com"))[0]
    browser.get(link)
    assert "Unsubscribe erin@example.com" in browser.find_element(By.TAG_NAME, "main").text
    assert "erin@example.com" in members(ml)
    browser.find_element(By.TAG_NAME, "button").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Unsubscribed"
    assert "erin@example.com" not in members(ml)
    # nothing ran: the pages have no script, the console stayed quiet
    logs = [e for e in browser.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert logs == [], logs
