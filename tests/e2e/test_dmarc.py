"""DMARC mitigation and DKIM signing (issue 14), end to end.

A DNS server on loopback (dnsserver.py, python3-dnslib) serves the test
zones: _dmarc records of p=reject, p=none and sp= domains, a domain whose
server never answers, one that answers SERVFAIL, and the DKIM keys of the
list (made by `makefml dkim`) and of an author who signs her post.  The
list delivers into maildirs (SMTP_SERVERS maildir:); every delivered mail is
checked with an independent verifier, python3-dkim (dkimpy), whose key
lookups ask the same DNS server.
"""
import os
import re
import subprocess

import dkim
import pytest
from dnslib import DNSRecord

from conftest import mail
from dnsserver import DnsServer
from test_queue import fmlqueue

MEMBERS = ["alice@reject.test", "bob@none.test", "carol@norecord.test",
           "dan@sub.org.test", "eve@slow.test", "fay@servfail.test", "gus@signed.test",
           "hal@example.com", "ivy@twice.test", "joe@example.org"]


@pytest.fixture
def dns():
    srv = DnsServer({
        "_dmarc.reject.test": "v=DMARC1; p=reject; rua=mailto:d@reject.test",
        "_dmarc.none.test": "v=DMARC1; p=none",
        "_dmarc.org.test": "v=DMARC1; p=none; sp=quarantine",
        "_dmarc.signed.test": "v=DMARC1; p=reject; adkim=s",
        "_dmarc.twice.test": ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
        "_dmarc.example.org": "v=DMARC1; p=reject; adkim=s",
    }, silent={"_dmarc.slow.test"}, servfail={"_dmarc.servfail.test"}).start()
    yield srv
    srv.stop()


def dns_txt(srv, name):
    """A TXT lookup at SRV, as a verifier elsewhere would make it."""
    host, port = srv.address.split(":")
    q = DNSRecord.question(name, "TXT")
    a = DNSRecord.parse(q.send(host, int(port), timeout=5))
    return b"".join(b"".join(rr.rdata.data) for rr in a.rr) or None


def verify_all(srv, raw):
    """Every DKIM-Signature of RAW checked by dkimpy: [(d=, ok)]."""
    d = dkim.DKIM(raw)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    out = []
    for i, v in enumerate(sigs):
        dom = re.search(rb"\bd=([^;\s]+)", v).group(1).decode()
        ok = d.verify(idx=i, dnsfunc=lambda name, timeout=5: dns_txt(srv, name.decode()))
        out.append((dom, ok))
    return out


@pytest.fixture
def signing_list(make_list, dns, ml_dir):
    box = os.path.join(ml_dir, "maildirs")
    os.makedirs(box)
    os.chown(box, *__import__("conftest").owner_ids())
    ml = make_list(members=MEMBERS, SUBJECT_TAG_TYPE="[:]", DNS_TIMEOUT="1",
                   SMTP_SERVERS="maildir:" + box)
    ml.set_config(DNS_SERVERS=dns.address)
    out = ml.makefml("dkim", "elena", "sel1").stdout.decode()
    # publish what makefml printed
    for name, strings in re.findall(r"^(\S+)\. IN TXT \((.*)\)$", out, re.M):
        dns.txt[name.lower()] = ["".join(re.findall(r'"([^"]*)"', strings))]
    assert "sel1._domainkey.example.org" in dns.txt, out
    assert "sel1-ed._domainkey.example.org" in dns.txt, out
    ml.box = box
    return ml


def delivered(ml, rcpt):
    fmlqueue("run", "-D", ml.ml_dir, "elena")
    d = os.path.join(ml.box, rcpt, "new")
    names = sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime_ns)
    with open(os.path.join(d, names[-1]), "rb") as f:
        return f.read()


def header(raw, name):
    head = raw.split(b"\n\n", 1)[0].decode(errors="replace")
    m = re.search(r"^%s:(.*(?:\n[ \t].*)*)" % re.escape(name), head, re.M | re.I)
    return m.group(1).strip() if m else None


def post(ml, frm, subject="hello", **kw):
    p = ml.post(mail(frm=frm, subject=subject, **kw))
    assert p.returncode == 0, p.stderr
    return ml.seq()


def test_reject_domain_is_munged_and_signed(signing_list, dns):
    ml = signing_list
    n = post(ml, "Alice Example <alice@reject.test>")
    art = ml.read("spool", str(n))
    assert header(art, "From") == '"Alice Example via elena" <elena@example.org>'
    assert header(art, "Reply-To") == "Alice Example <alice@reject.test>"
    assert header(art, "Author") == "Alice Example <alice@reject.test>"
    assert "DMARC policy reject for reject.test" in ml.log()
    raw = delivered(ml, "bob@none.test")
    # the list's two signatures verify, d= aligned with the munged From:
    assert verify_all(dns, raw) == [("example.org", True), ("example.org", True)]
    assert re.search(rb"a=ed25519-sha256", raw)
    # the summary keeps the real author
    assert "[%d:alice@reject.test]" % n in ml.text("summary")


def test_none_and_no_record_are_not_munged(signing_list, dns):
    ml = signing_list
    for frm in ("bob@none.test", "carol@norecord.test"):
        n = post(ml, frm)
        assert header(ml.read("spool", str(n)), "From") == frm
        assert header(ml.read("spool", str(n)), "Author") is None
    raw = delivered(ml, "alice@reject.test")
    assert all(ok for _, ok in verify_all(dns, raw))


def test_subdomain_inherits_the_organizational_policy(signing_list, dns):
    ml = signing_list
    n = post(ml, "dan@sub.org.test")
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")
    # the walk asked the subdomain first, then its organizational domain
    assert dns.count("_dmarc.sub.org.test") == 1 and dns.count("_dmarc.org.test") == 1
    assert "quarantine" in ml.log()


@pytest.mark.parametrize("frm", ["eve@slow.test", "fay@servfail.test"])
def test_no_answer_mitigates(signing_list, dns, frm):
    ml = signing_list
    n = post(ml, frm)
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")
    assert "unknown" in ml.log()
    # asked before the list lock (dmarc_prefetch), not again under it, and
    # the unknown answer is kept for a minute: the next post waits for nothing
    name = "_dmarc." + frm.split("@")[1]
    asked = dns.count(name)
    assert asked in (1, 2)  # one query, or two rounds of one that timed out
    n = post(ml, frm, subject="again")
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")
    assert dns.count(name) == asked


def test_two_records_count_as_none(signing_list):
    ml = signing_list
    n = post(ml, "ivy@twice.test")
    assert header(ml.read("spool", str(n)), "From") == "ivy@twice.test"


def test_the_cache_answers_the_second_post(signing_list, dns):
    ml = signing_list
    post(ml, "alice@reject.test", subject="one")
    post(ml, "alice@reject.test", subject="two")
    post(ml, "carol@norecord.test", subject="three")
    post(ml, "carol@norecord.test", subject="four")
    assert dns.count("_dmarc.reject.test") == 1
    assert dns.count("_dmarc.norecord.test") == 1  # negative answers too


def test_always_and_addresses(signing_list):
    ml = signing_list
    ml.set_config(DMARC_ADDRESSES="example.com")
    n = post(ml, "hal@example.com")
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")
    ml.set_config(DMARC_MITIGATION="always", DMARC_ADDRESSES="")
    n = post(ml, "bob@none.test")
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")
    ml.set_config(DMARC_MITIGATION="never")
    n = post(ml, "alice@reject.test")
    assert header(ml.read("spool", str(n)), "From") == "alice@reject.test"


def test_wrap(signing_list, dns):
    ml = signing_list
    ml.set_config(DMARC_MITIGATE_ACTION="wrap")
    n = post(ml, "Alice <alice@reject.test>", body="Wrapped body.\n")
    art = ml.read("spool", str(n))
    assert header(art, "Content-Type") == "message/rfc822"
    assert header(art, "From").endswith("<elena@example.org>")
    inner = art.split(b"\n\n", 1)[1]
    assert header(inner, "From") == "Alice <alice@reject.test>"
    assert inner.endswith(b"Wrapped body.\n")
    raw = delivered(ml, "bob@none.test")
    assert all(ok for _, ok in verify_all(dns, raw))


def signed_post(dns, tmp, subject="signed by its author"):
    key = os.path.join(tmp, "author.pem")
    if not os.path.exists(key):
        subprocess.run(["openssl", "genrsa", "-out", key, "2048"], check=True,
                       capture_output=True)
        der = subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        import base64
        dns.txt["a1._domainkey.signed.test"] = [
            "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()]
    msg = mail(frm="Gus <gus@signed.test>", subject=subject, eol="\r\n")
    with open(key, "rb") as f:
        sig = dkim.sign(msg, b"a1", b"signed.test", f.read(),
                        include_headers=[b"from", b"to", b"subject", b"message-id", b"date",
                                         b"list-id"])
    return sig + msg


def test_signed_post_goes_out_unmodified(signing_list, dns, ml_dir):
    ml = signing_list
    p = ml.post(signed_post(dns, ml_dir))
    assert p.returncode == 0, p.stderr
    art = ml.read("spool", str(ml.seq()))
    assert header(art, "From") == "Gus <gus@signed.test>"
    assert header(art, "Subject") == "signed by its author"  # no tag
    assert header(art, "List-Post")  # the list's fields, but none the author signed
    assert header(art, "List-Id") is None
    assert "sent unmodified" in ml.log()
    raw = delivered(ml, "bob@none.test")
    res = verify_all(dns, raw)
    assert ("signed.test", True) in res, res  # the author's signature still passes
    assert res.count(("example.org", True)) == 2, res


def test_broken_author_signature_is_mitigated(signing_list, dns, ml_dir):
    ml = signing_list
    raw = signed_post(dns, ml_dir).replace(b"Hello, list.", b"Hello, lisT.")
    p = ml.post(raw)
    assert p.returncode == 0, p.stderr
    art = ml.read("spool", str(ml.seq()))
    assert header(art, "From").endswith("<elena@example.org>")
    assert "does not verify" in ml.log()


def test_replies_are_signed_too(signing_list, dns):
    ml = signing_list
    p = ml.post(mail(frm="bob@none.test", subject="help", body="help\n"), ctl=True)
    assert p.returncode == 0, p.stderr
    raw = delivered(ml, "bob@none.test")
    assert b"help" in raw.lower()
    assert verify_all(dns, raw) == [("example.org", True), ("example.org", True)]


def test_a_broken_key_file_sends_unsigned_and_says_so(signing_list):
    ml = signing_list
    ml.set_config(DKIM_PRIVATE_KEY="etc/dkim/missing.pem")
    post(ml, "bob@none.test")
    raw = delivered(ml, "carol@norecord.test")
    assert b"DKIM-Signature" not in raw
    assert "sent without the list's DKIM signature" in ml.log()


def test_the_lists_own_domain_needs_nothing(signing_list, dns):
    """The list signs for example.org: a post from there passes DMARC with
    the list's own signature, From: untouched."""
    ml = signing_list
    n = post(ml, "Joe <joe@example.org>")
    assert header(ml.read("spool", str(n)), "From") == "Joe <joe@example.org>"
    raw = delivered(ml, "bob@none.test")
    assert verify_all(dns, raw) == [("example.org", True), ("example.org", True)]
    # without the list's key it is a p=reject domain like any other
    ml.set_config(DKIM_SELECTOR="")
    n = post(ml, "Joe <joe@example.org>", subject="unsigned list")
    assert header(ml.read("spool", str(n)), "From").endswith("<elena@example.org>")


def test_makefml_check_tries_the_keys(signing_list):
    ml = signing_list
    p = ml.makefml("check", "elena", check=False)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    ml.set_config(DKIM_PRIVATE_KEY="etc/dkim/missing.pem")
    p = ml.makefml("check", "elena", check=False)
    out = p.stdout.decode()
    assert p.returncode != 0 and "problem: DKIM: cannot read the DKIM key" in out, out
    # a file that is no key
    ml.write("etc/dkim/junk.pem", "not a key\n")
    ml.set_config(DKIM_PRIVATE_KEY="etc/dkim/junk.pem")
    out = ml.makefml("check", "elena", check=False).stdout.decode()
    assert "problem: DKIM: the key for sel1._domainkey.example.org is not a PEM RSA" in out, out


def test_a_signed_admin_mail_passes_a_forged_lockout(signing_list, dns, ml_dir):
    """Anyone can forge an admin's From: five times and lock the admin
    commands; the admin's own mail, signed by their domain, still works."""
    ml = signing_list
    gus = "gus@signed.test"
    ml.set_config(REMOTE_ADMINISTRATION="1")
    ml.makefml("addadmin", "elena", gus)
    ml.makefml("passwd", "elena", gus, input=b"s3cret-pass\n")
    signed_post(dns, ml_dir)  # publishes the key of signed.test
    ctl = "elena-ctl@example.org"
    for i in range(5):  # the forger
        ml.post(mail(frm=gus, to=ctl, body="admin pass guess%d\n" % i), ctl=True)
    ml.post(mail(frm=gus, to=ctl, body="admin pass s3cret-pass\nadmin add x1@example.com\n"),
            ctl=True)
    assert "x1@example.com" not in ml.text("members")  # unsigned: locked out
    msg = mail(frm="Gus <gus@signed.test>", to=ctl, eol="\r\n",
               body="admin pass s3cret-pass\nadmin add x2@example.com\n")
    with open(os.path.join(ml_dir, "author.pem"), "rb") as f:
        sig = dkim.sign(msg, b"a1", b"signed.test", f.read(),
                        include_headers=[b"from", b"to", b"subject", b"message-id", b"date"])
    assert ml.post(sig + msg, ctl=True).returncode == 0
    assert "x2@example.com" in ml.text("members")
    assert "valid DKIM signature: its password is checked" in ml.log()
