"""The SMTP and LMTP transports (lib/mail/smtp.c) against real peers.

A small C driver (tests/e2e/tpdrive.c, built once per session) connects to
a transport URI, sends a message file to the recipients and prints one line
per recipient, "CODE TEXT"; its exit status says whether the connection
was still usable (0), lost (3) or never made (2).  The SMTP peer is
Postfix's smtp-sink on 127.0.0.1, dumping every message it receives; its
-r/-f/-q/-Q options inject 4xx and 5xx replies and dropped connections.
The LMTP peer is tests/e2e/lmtp_server.py (RFC 2033), which answers each
recipient after the final dot as told.  A few hand-scripted servers cover
what neither does: silence, malformed and multi-line replies.
"""
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import LIBFML, LIBS, ROOT, TMP, free_port, wait_for
from lmtp_server import LMTPServer

SINK = "/usr/sbin/smtp-sink"
SENDER = "owner@example.org"
RCPTS = ["a@example.com", "b@example.net", "c@example.org"]


@pytest.fixture(scope="session")
def tpdrive():
    """Build tests/e2e/tpdrive.c against the transports of build/libfml.a
    (TPDRIVE_CFLAGS="-fsanitize=address,undefined" for a checked build of
    the driver; `make` builds the library)."""
    out = os.path.join(ROOT, "build", "e2e")
    os.makedirs(out, exist_ok=True)
    exe = os.path.join(out, "tpdrive")
    p = subprocess.run(["cc", "-std=gnu11", "-D_GNU_SOURCE", "-g", "-O1", "-Wall",
                        "-Wextra", "-Wno-unused-parameter", "-I" + os.path.join(ROOT, "lib"),
                        "-o", exe, os.path.join(ROOT, "tests", "e2e", "tpdrive.c"),
                        LIBFML]
                       + LIBS + os.environ.get("TPDRIVE_CFLAGS", "").split(),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return exe


def drive(tpdrive, uri, message, rcpts=RCPTS, sender=SENDER, count=1, timeout=5):
    """Run the driver: (exit status, [(code, text)] per recipient and try)."""
    path = os.path.join(TMP, "msg-" + uuid.uuid4().hex[:10])
    with open(path, "wb") as f:
        f.write(message)
    try:
        p = subprocess.run([tpdrive, "-t", str(timeout), "-n", str(count), uri, sender, path]
                           + list(rcpts), capture_output=True, timeout=60)
    finally:
        os.unlink(path)
    lines = p.stdout.decode().splitlines()
    res = []
    for line in lines:
        code, _, text = line.partition(" ")
        res.append((int(code) if code.isdigit() else code, text))
    return p.returncode, res


class Sink:
    """smtp-sink on 127.0.0.1:PORT dumping each message into DIR."""

    def __init__(self, *opts, listen=None):
        os.makedirs(TMP, exist_ok=True)
        self.dir = os.path.join(TMP, "sink-" + uuid.uuid4().hex[:10])
        os.mkdir(self.dir)
        os.chmod(self.dir, 0o777)
        self.port = free_port()
        self.listen = listen or "127.0.0.1:%d" % self.port
        self.proc = subprocess.Popen(
            [SINK, "-u", "nobody", "-t", "10", "-d", os.path.join(self.dir, "%M.")] + list(opts)
            + [self.listen, "100"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_ready(self, family=socket.AF_INET, host="127.0.0.1"):
        def up():
            try:
                with socket.socket(family) as s:
                    s.settimeout(1)
                    s.connect((host, self.port))
                    s.recv(100)
                    s.sendall(b"QUIT\r\n")
                    s.recv(100)
                return True
            except OSError:
                return False
        assert wait_for(up, timeout=10), "smtp-sink did not start"
        return self

    def dumps(self, want=None):
        """[(header lines the sink added, message bytes)] in time order."""
        if want is not None:
            wait_for(lambda: len(os.listdir(self.dir)) >= want, timeout=5)
        out = []
        names = sorted(os.listdir(self.dir), key=lambda n: os.stat(
            os.path.join(self.dir, n)).st_mtime_ns)
        for name in names:
            with open(os.path.join(self.dir, name), "rb") as f:
                raw = f.read()
            out.append(split_dump(raw))
        return out

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def split_dump(raw):
    """smtp-sink's dump: X-* lines, a Received: field, the message as
    received (lines end in LF), and one LF of its own at the end."""
    lines = raw.split(b"\n")
    if not any(l.startswith(b"Received: ") for l in lines):
        return [l.decode() for l in lines], b""  # no message (yet)
    i = 0
    while not lines[i].startswith(b"Received: "):
        i += 1
    i += 1
    while lines[i].startswith(b"\t"):
        i += 1
    added = [l.decode() for l in lines[:i]]
    body = b"\n".join(lines[i:])
    assert body.endswith(b"\n")
    return added, body[:-1]


@pytest.fixture
def sink():
    if not os.path.exists(SINK):
        pytest.skip("smtp-sink not installed (Debian package postfix)")
    sinks = []

    def start(*opts):
        s = Sink(*opts).wait_ready()
        sinks.append(s)
        return s

    yield start
    for s in sinks:
        s.stop()


def wire(message):
    """What a receiver reassembles from our DATA: every line end (LF, CRLF,
    lone CR) one line end, and a line end at the very end."""
    out = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return out if out.endswith(b"\n") or not out else out + b"\n"


MESSAGE = (b"From: owner@example.org\nTo: list@example.org\nSubject: test\n"
           b"Message-ID: <1@example.org>\n\nHello.\n")

# every awkward line: dots, an mbox From_ line, CRLF and LF mixed, a lone CR
# (one that would otherwise smuggle "\r.\r" past a receiver), no final LF
AWKWARD = (b"From: owner@example.org\r\nSubject: dots\r\n\r\n"
           b".\n..\n.foo\n...\nFrom the start\n>From quoted\n"
           b"crlf line\r\nlone\rcr\r.\r\nsmuggle\n\r.\r\nMAIL FROM:<evil@example.com>\n"
           b"   \n\n.\r\nlast line, no newline")


# ---------------------------------------------------------------------------
# SMTP against smtp-sink

@pytest.mark.parametrize("opts", [(), ("-p",)], ids=["pipelining", "lockstep"])
def test_every_recipient_accepted(tpdrive, sink, opts):
    s = sink(*opts)
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE)
    assert rc == 0
    assert [c for c, _ in res] == [250, 250, 250]
    assert res[0][1] == "2.0.0 Ok"
    [(added, body)] = s.dumps(1)
    assert body == MESSAGE
    assert "X-Mail-Args: <%s>" % SENDER in added
    assert ["X-Rcpt-Args: <%s>" % r for r in RCPTS] == [
        l for l in added if l.startswith("X-Rcpt-Args")]
    assert "X-Helo-Args: client.example.org" in added


@pytest.mark.parametrize("opts", [(), ("-p",)], ids=["pipelining", "lockstep"])
def test_awkward_body_bytes(tpdrive, sink, opts):
    s = sink(*opts)
    rc, res = drive(tpdrive, "127.0.0.1:%d" % s.port, AWKWARD, rcpts=RCPTS[:1])
    assert (rc, res) == (0, [(250, "2.0.0 Ok")])
    [(_, body)] = s.dumps(1)
    assert body == wire(AWKWARD)
    assert b"\n.\n..\n.foo\n...\nFrom the start\n" in body
    assert body.endswith(b"\nlast line, no newline\n")
    # the lone CRs became line ends: the "." after them stayed data
    assert b"lone\ncr\n.\nsmuggle\n\n.\nMAIL FROM:" in body


def test_8bit_body(tpdrive, sink):
    s = sink()
    msg = "Subject: 8bit\n\nHéllo, wörld\n".encode()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, msg, rcpts=RCPTS[:1])
    assert (rc, [c for c, _ in res]) == (0, [250])
    [(added, body)] = s.dumps(1)
    assert body == msg
    assert "X-Mail-Args: <%s> BODY=8BITMIME" % SENDER in added
    # not offered: not sent
    s2 = sink("-8")
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s2.port, msg, rcpts=RCPTS[:1])
    [(added, _)] = s2.dumps(1)
    assert "X-Mail-Args: <%s>" % SENDER in added


def test_empty_sender_and_message(tpdrive, sink):
    s = sink()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, b"", sender="", rcpts=RCPTS[:1])
    assert (rc, [c for c, _ in res]) == (0, [250])
    [(added, body)] = s.dumps(1)
    assert "X-Mail-Args: <>" in added
    assert body == b""


def test_connection_reused(tpdrive, sink):
    s = sink()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE, count=3)
    assert rc == 0
    assert [c for c, _ in res] == [250] * 9
    dumps = s.dumps(3)
    assert len(dumps) == 3
    assert all(body == MESSAGE for _, body in dumps)
    for added, _ in dumps:  # one transaction each, not piling up recipients
        assert len([l for l in added if l.startswith("X-Rcpt-Args")]) == 3


def test_helo_fallback(tpdrive, sink):
    s = sink("-f", "EHLO")
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE)
    assert (rc, [c for c, _ in res]) == (0, [250, 250, 250])
    [(added, body)] = s.dumps(1)
    assert "X-Client-Proto: SMTP" in added
    assert body == MESSAGE


# 4xx and 5xx injected: -r soft (450 4.3.0), -f hard (500 5.3.0); both
# turn PIPELINING off, so these run lock-step.
@pytest.mark.parametrize("opts,want", [
    (("-r", "RCPT"), 450),
    (("-f", "RCPT"), 500),
    (("-r", "MAIL"), 450),
    (("-f", "MAIL"), 500),
    (("-r", "DATA"), 450),
    (("-f", "DATA"), 500),
    (("-r", "."), 450),
    (("-f", "."), 500),
])
def test_rejections(tpdrive, sink, opts, want):
    s = sink(*opts)
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE, count=2)
    assert rc == 0, res  # the connection stays usable
    assert [c for c, _ in res] == [want] * 6
    assert all(t.startswith("%d.3.0 Error" % (want // 100)) for _, t in res)
    if opts[1] == ".":  # the sink dumps the message before it refuses it
        assert [body for _, body in s.dumps(2)] == [MESSAGE, MESSAGE]
    else:  # no message reached the sink
        assert all(body == b"" for _, body in s.dumps())


@pytest.mark.parametrize("cmd", ["MAIL", "RCPT", "DATA", "."])
@pytest.mark.parametrize("how", ["-q", "-Q"], ids=["dropped", "421"])
def test_connection_lost(tpdrive, sink, cmd, how):
    s = sink(how, cmd)
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE)
    assert rc == 3
    assert len(res) == 3
    assert all(c == 421 for c, _ in res), res
    if how == "-q":
        assert "connection closed" in res[0][1]


def test_greeting_refused(tpdrive, sink):
    s = sink("-f", "CONNECT")
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE)
    assert rc == 2
    assert res[0][0] == "connect:"
    assert "said: 500" in res[0][1]


def test_connection_refused(tpdrive):
    port = free_port()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % port, MESSAGE)
    assert rc == 2 and "Connection refused" in res[0][1]


@pytest.mark.parametrize("uri,why", [
    ("smtp:127.0.0.1:0", "bad host or port"),
    ("smtp:127.0.0.1:65536", "bad host or port"),
    ("smtp:127.0.0.1:25x", "bad host or port"),
    ("smtp:[::1", "bad [address]"),
    ("lmtp:127.0.0.1", "a port is required"),
    ("lmtp:unix:relative/path", "bad socket path"),
])
def test_bad_uri(tpdrive, uri, why):
    rc, res = drive(tpdrive, uri, MESSAGE)
    assert rc == 2 and why in res[0][1], res


def test_ipv6(tpdrive):
    if not os.path.exists(SINK):
        pytest.skip("smtp-sink not installed")
    try:
        with socket.socket(socket.AF_INET6) as t:
            t.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    s = Sink(listen="[::1]:%d" % free_port())
    s.port = int(s.listen.rsplit(":", 1)[1])
    try:
        s.wait_ready(socket.AF_INET6, "::1")
        rc, res = drive(tpdrive, "smtp:[::1]:%d" % s.port, MESSAGE)
        assert (rc, [c for c, _ in res]) == (0, [250, 250, 250])
        assert s.dumps(1)[0][1] == MESSAGE
    finally:
        s.stop()


# ---------------------------------------------------------------------------
# Scripted servers: silence, malformed and unusual replies

class Scripted:
    """Greets with GREETING, then answers each command line with the next
    reply of REPLIES (raw bytes), or closes when they run out."""

    def __init__(self, greeting, replies, data_reply=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.greeting, self.replies, self.data_reply = greeting, list(replies), data_reply
        self.received = b""
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        conn, _ = self.sock.accept()
        self.sock.close()
        with conn:
            if self.greeting is None:
                time.sleep(10)
                return
            conn.sendall(self.greeting)
            f = conn.makefile("rb")
            in_data, sent = False, b"\r\n" + self.greeting
            for line in f:
                self.received += line
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        if self.data_reply is None:  # silence
                            time.sleep(10)
                            return
                        conn.sendall(self.data_reply)
                    continue
                if not self.replies:
                    return
                r = self.replies.pop(0)
                conn.sendall(r)
                sent += r
                if line.upper().startswith(b"DATA") and b"\r\n354 " in sent:
                    in_data = True


def test_greeting_timeout(tpdrive):
    srv = Scripted(None, [])
    t0 = time.monotonic()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE, timeout=1)
    assert rc == 2 and "timeout" in res[0][1]
    assert time.monotonic() - t0 < 5


EHLO_OK = b"250-x\r\n250 PIPELINING\r\n"


@pytest.mark.parametrize("reply", [
    b"250 ok\r\n25",                 # then EOF mid-reply
    b"2x0 garbage\r\n",
    b"250-a\r\n550 b\r\n",           # mismatched codes
    b"250 a\x00b\r\n",               # NUL
    b"250 " + b"x" * 10000 + b"\r\n",  # over the line limit
    b"354 not now\r\n",              # 3xx to MAIL
])
def test_malformed_reply(tpdrive, reply):
    srv = Scripted(b"220 hi\r\n", [EHLO_OK, reply])
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE, timeout=2)
    assert rc == 3
    assert [c for c, _ in res] == [421, 421, 421]


def test_pipelined_replies_and_multiline(tpdrive):
    # everything after EHLO arrives in one read, with multi-line replies;
    # one recipient refused; the text kept is the last line's
    srv = Scripted(b"220-hi\r\n220 there\r\n", [
        b"250-x\r\n250-SIZE 1000\r\n250 PIPELINING\r\n",
        b"250 sender\r\n250 r1\r\n550-5.1.1 no\r\n550-5.1.1 such\r\n550 5.1.1 user\r\n"
        b"250 r3\r\n354 go\r\n", b"", b"", b"", b""],
        data_reply=b"250-2.0.0 queued\r\n250 2.0.0 as X1\r\n")
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE)
    assert rc == 0
    assert res == [(250, "2.0.0 as X1"), (550, "5.1.1 user"), (250, "2.0.0 as X1")]
    assert b"MAIL FROM:<%s> SIZE=%d\r\n" % (SENDER.encode(), len(MESSAGE)) in srv.received


def test_no_recipient_accepted_pipelined(tpdrive):
    # PIPELINING: DATA goes out with the RCPTs; its 554 is read and ignored
    srv = Scripted(b"220 hi\r\n", [
        EHLO_OK, b"250 ok\r\n", b"550 no\r\n", b"551 no\r\n", b"552 no\r\n",
        b"554 no valid recipients\r\n", b"250 reset\r\n", b"221 bye\r\n"])
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE)
    assert rc == 0
    assert [c for c, _ in res] == [550, 551, 552]
    assert b"Hello." not in srv.received


def test_no_recipient_accepted_lockstep(tpdrive):
    srv = Scripted(b"220 hi\r\n", [
        b"250 x\r\n", b"250 ok\r\n", b"450 no\r\n", b"550 no\r\n", b"221 bye\r\n"])
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE, rcpts=RCPTS[:2])
    assert rc == 0
    assert [c for c, _ in res] == [450, 550]
    assert b"DATA" not in srv.received


def stuffed(message):
    """The DATA block we must write for MESSAGE, byte for byte."""
    lines = wire(message).split(b"\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


def test_exact_wire_bytes(tpdrive):
    srv = Scripted(b"220 hi\r\n", [b"250 x\r\n", b"250 ok\r\n", b"250 ok\r\n",
                                    b"354 go\r\n", b"221 bye\r\n"],
                   data_reply=b"250 queued\r\n")
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, AWKWARD, rcpts=RCPTS[:1])
    assert (rc, res) == (0, [(250, "queued")])
    assert srv.received == (b"EHLO client.example.org\r\nMAIL FROM:<%s>\r\n"
                            b"RCPT TO:<%s>\r\nDATA\r\n" % (SENDER.encode(), RCPTS[0].encode())
                            + stuffed(AWKWARD) + b"QUIT\r\n")
    # no bare CR or LF anywhere on the wire
    assert b"\r" not in srv.received.replace(b"\r\n", b"")
    assert b"\n" not in srv.received.replace(b"\r\n", b"")


def test_big_message_chunk_boundaries(tpdrive, sink):
    # a lone CR and a CRLF split across the transport's 64 KiB reads, each
    # followed by a line that starts with "."
    head = b"Subject: big\n\n"
    fill = b"x" * (65536 - len(head) - 1)
    msg = head + fill + b"\r.one\n" + b"y" * 65530 + b"\r\n.two\n" + b"z\n" * 200000
    assert msg[65535:65536] == b"\r" and msg[131071:131073] == b"\r\n"
    s = sink()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, msg, rcpts=RCPTS[:1])
    assert (rc, [c for c, _ in res]) == (0, [250])
    [(_, body)] = s.dumps(1)
    assert body == wire(msg)
    assert b"\n.one\n" in body and b"\n.two\n" in body


def test_data_timeout(tpdrive):
    srv = Scripted(b"220 hi\r\n", [b"250 x\r\n", b"250 ok\r\n", b"250 ok\r\n",
                                    b"354 go\r\n"], data_reply=None)
    t0 = time.monotonic()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE, rcpts=RCPTS[:1],
                    timeout=1)
    assert (rc, res[0][0]) == (3, 421)
    assert "timeout" in res[0][1] and "end of data" in res[0][1]
    assert time.monotonic() - t0 < 5


def test_many_recipients_pipelined(tpdrive, sink):
    # more than one window of pipelined commands (lib/mail/smtp.c SMTP_PIPE_WINDOW)
    rcpts = ["user%d@example.com" % i for i in range(450)]
    s = sink()
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % s.port, MESSAGE, rcpts=rcpts)
    assert (rc, [c for c, _ in res]) == (0, [250] * 450)
    [(added, body)] = s.dumps(1)
    assert body == MESSAGE
    assert [l for l in added if l.startswith("X-Rcpt-Args")] == [
        "X-Rcpt-Args: <%s>" % r for r in rcpts]


# ---------------------------------------------------------------------------
# LMTP against lmtp_server.py

def test_lmtp_many_recipients(tpdrive, lmtp):
    rcpts = ["user%d@example.com" % i for i in range(300)]
    srv = lmtp(rcpt_replies={r: "550 5.1.1 unknown" for r in rcpts[::7]},
               data_replies={r: "452 4.2.2 full" for r in rcpts[1::5]})
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE, rcpts=rcpts)
    assert rc == 0
    want = [550 if i % 7 == 0 else 452 if i % 5 == 1 else 250 for i in range(300)]
    assert [c for c, _ in res] == want
    assert srv.messages[0][1] == [r for i, r in enumerate(rcpts) if i % 7]

@pytest.fixture
def lmtp():
    servers = []

    def start(**kw):
        srv = LMTPServer(**kw).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.stop()


def test_lmtp_reply_per_recipient(tpdrive, lmtp):
    srv = lmtp(data_replies={"b@example.net": "452 4.2.2 mailbox full",
                             "c@example.org": "550 5.1.1 no such user"})
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, AWKWARD)
    assert rc == 0
    assert res == [(250, "2.0.0 <a@example.com> delivered"),
                   (452, "4.2.2 mailbox full"), (550, "5.1.1 no such user")]
    [(sender, rcpts, data)] = srv.messages
    assert (sender, rcpts) == (SENDER, RCPTS)
    assert data == wire(AWKWARD).replace(b"\n", b"\r\n")
    assert srv.errors == []
    assert srv.commands[0] == "LHLO client.example.org"


def test_lmtp_rcpt_refused_and_reuse(tpdrive, lmtp):
    srv = lmtp(rcpt_replies={"b@example.net": "550 5.1.1 unknown"},
               data_replies={"c@example.org": "451 4.3.0 try later"})
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE, count=2)
    assert rc == 0
    assert [c for c, _ in res] == [250, 550, 451] * 2
    assert len(srv.messages) == 2
    assert all(m[1] == ["a@example.com", "c@example.org"] for m in srv.messages)
    # the reply to the dot ends a transaction: the next starts with MAIL
    assert "RSET" not in srv.commands
    assert srv.errors == []


def test_reuse_after_an_open_transaction_sends_rset(tpdrive, lmtp):
    # every RCPT refused: no DATA, the transaction stays open until RSET
    srv = lmtp(rcpt_replies={r: "550 5.1.1 unknown"
                             for r in ("a@example.com", "b@example.net", "c@example.org")})
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE, count=2)
    assert rc == 0
    assert [c for c, _ in res] == [550] * 6
    cmds = [c.split(":")[0] for c in srv.commands]
    assert cmds.count("RSET") == 1  # (a pipelined DATA was refused)
    assert cmds.index("RSET") == cmds.index("MAIL FROM", 2) - 1
    assert srv.errors == []


def test_lmtp_unix_socket(tpdrive, lmtp):
    path = os.path.join(TMP, "lmtp-" + uuid.uuid4().hex[:8] + ".sock")
    os.makedirs(TMP, exist_ok=True)
    srv = lmtp(path=path)
    rc, res = drive(tpdrive, "lmtp:unix:" + path, MESSAGE)
    assert (rc, [c for c, _ in res]) == (0, [250, 250, 250])
    assert srv.messages[0][2] == MESSAGE.replace(b"\n", b"\r\n")


def test_lmtp_dropped_after_dot(tpdrive, lmtp):
    srv = lmtp(drop_after=".")
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE)
    assert rc == 3
    assert [c for c, _ in res] == [421, 421, 421]


def test_lmtp_against_smtp_sink(tpdrive, sink):
    s = sink("-L")
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % s.port, MESSAGE)
    assert (rc, [c for c, _ in res]) == (0, [250, 250, 250])
    [(added, body)] = s.dumps(1)
    assert body == MESSAGE
    assert "X-Client-Proto: LMTP" in added


def test_bad_addresses_never_reach_the_wire(tpdrive, lmtp):
    srv = lmtp()
    evil = "x@example.com>\r\nRCPT TO:<y@example.com"
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE,
                    rcpts=[RCPTS[0], evil, "z@<example.com>", RCPTS[2]], count=2)
    assert rc == 0
    assert [c for c, _ in res] == [250, 553, 553, 250] * 2
    assert all(m[1] == [RCPTS[0], RCPTS[2]] for m in srv.messages)
    assert not any("y@example.com" in c for c in srv.commands)
    rc, res = drive(tpdrive, "lmtp:127.0.0.1:%d" % srv.port, MESSAGE,
                    sender="a@example.com>\r\nRSET", rcpts=RCPTS[:1])
    assert (rc, [c for c, _ in res]) == (0, [554])
    assert len(srv.messages) == 2


def test_size_limit(tpdrive):
    # EHLO says SIZE 40: a bigger message is refused here, no MAIL sent
    srv = Scripted(b"220 hi\r\n", [b"250-x\r\n250 SIZE 40\r\n", b"221 bye\r\n"])
    rc, res = drive(tpdrive, "smtp:127.0.0.1:%d" % srv.port, MESSAGE, rcpts=RCPTS[:2])
    assert rc == 0
    assert res == [(552, "5.3.4 message size exceeds the limit of the SMTP server (40)")] * 2
    assert srv.received == b"EHLO client.example.org\r\nQUIT\r\n"
