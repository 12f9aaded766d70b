"""The QMQP transport (lib/mail/qmqp.c) against the QMQP test server.

tests/e2e/tpdrive2.c drives the real transport code (transport_connect/transport_send)
with a message file and prints "CODE TEXT" per recipient; the server
(tests/e2e/qmqp_server.py) follows https://cr.yp.to/proto/qmqp.html and
records what it received.  What is asserted is what a relay sees (the
exact message bytes: CRLF sent as LF, the sender, the recipients) and what
the queue runner would get back (a code per recipient).
"""
import os
import re
import socket
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from conftest import LIBFML, LIBS  # noqa: E402
from qmqp_server import QMQPServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIB = os.path.join(ROOT, "lib")
CFLAGS = ["-std=gnu11", "-D_GNU_SOURCE", "-O2", "-g", "-Wall", "-Wextra",
          "-Wno-unused-parameter", "-I" + LIB]
RCPTS = ["alice@example.com", "bob@example.net", "carol@example.org"]
SENDER = "elena-bounces@example.org"


@pytest.fixture(scope="session")
def tpdrive(tmp_path_factory):
    """Build tests/e2e/tpdrive2.c against the transports of build/libfml.a."""
    exe = str(tmp_path_factory.mktemp("tpdrive2") / "tpdrive2")
    p = subprocess.run(["cc", *CFLAGS, "-o", exe, os.path.join(ROOT, "tests", "e2e", "tpdrive2.c"),
                        LIBFML, *LIBS], capture_output=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return exe


@pytest.fixture
def server():
    s = QMQPServer().start()
    yield s
    s.stop()


def free_port():
    """A 127.0.0.1 port that nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def drive(exe, uri, msgfile, rcpts=RCPTS, sender=SENDER, env=None, wrap=None):
    e = {"PATH": "/usr/bin:/bin", "TPDRIVE_TIMEOUT": "10"}
    e.update(env or {})
    argv = [exe, uri, sender, str(msgfile), *rcpts]
    p = subprocess.run((wrap or []) + argv, capture_output=True, env=e, timeout=120)
    lines = p.stdout.decode().splitlines()
    results = [(int(l.split(" ", 1)[0]), l.split(" ", 1)[1] if " " in l else "")
               for l in lines]
    return p, results


def message(tmp_path, data, name="msg"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


MAIL = (b"From: alice@example.com\r\nTo: elena@example.org\r\n"
        b"Subject: hello\r\n\r\nfirst line\r\nsecond line\r\n")


def test_accepted_k(tpdrive, server, tmp_path):
    msg = message(tmp_path, MAIL)
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, msg)
    assert p.returncode == 0, p.stderr
    assert res == [(250, "Kok")] * 3
    assert b"send: 0" in p.stderr
    [req] = server.wait_requests(1)
    assert req["error"] is None
    assert req["message"] == MAIL.replace(b"\r\n", b"\n")
    assert req["sender"] == SENDER.encode()
    assert req["rcpts"] == [r.encode() for r in RCPTS]


@pytest.mark.parametrize("letter,code", [("Z", 451), ("D", 554)])
def test_refused_z_d(tpdrive, server, tmp_path, letter, code):
    server.answer, server.text = letter, "sorry (#4.3.0)"
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL))
    assert res == [(code, letter + "sorry (#4.3.0)")] * 3
    assert b"send: 0" in p.stderr
    assert server.wait_requests(1)[0]["error"] is None


@pytest.mark.parametrize("drop", ["after", "connect"])
def test_dropped_connection(tpdrive, server, tmp_path, drop):
    server.drop = drop
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL))
    assert p.returncode == 0
    assert [c for c, _ in res] == [451] * 3
    assert all("connection closed" in t or "lost connection" in t for _, t in res), res
    assert b"send: -1" in p.stderr


@pytest.mark.parametrize("raw", [b"2:Kx", b"3:Xno,", b"x:K,", b"99999:K",
                                 b"0:,", b"5:Kok", b"1:\x00,", b"3:kok,"])
def test_malformed_answer(tpdrive, server, tmp_path, raw):
    server.raw = raw
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL))
    assert [c for c, _ in res] == [451] * 3, res
    assert b"send: -1" in p.stderr


def test_answer_timeout(tpdrive, server, tmp_path):
    """A relay that takes the request and never answers: 451 after the
    data timeout (1 s here), not a hang."""
    server.delay = 5
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL),
                   env={"TPDRIVE_TIMEOUT": "1"})
    assert res == [(451, "qmqp: timeout waiting for the answer")] * 3
    assert b"send: -1" in p.stderr


def test_relay_down(tpdrive, tmp_path):
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % free_port(), message(tmp_path, MAIL))
    assert p.returncode == 75
    assert [c for c, _ in res] == [451] * 3
    assert "Connection refused" in res[0][1]


def test_bad_uri(tpdrive, tmp_path):
    p, res = drive(tpdrive, "qmqp:127.0.0.1:notaport", message(tmp_path, MAIL))
    assert p.returncode == 75
    assert "want host[:port]" in res[0][1]


def test_reconnects_per_message(tpdrive, server, tmp_path):
    """QMQP carries one message per connection: the same transport_conn sends twice."""
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL),
                   env={"TPDRIVE_REPEAT": "2"})
    assert res == [(250, "Kok")] * 6
    assert p.stderr.count(b"send: 0") == 2
    reqs = server.wait_requests(2)
    assert server.connections == 2
    assert all(r["message"] == MAIL.replace(b"\r\n", b"\n") for r in reqs)


def test_idle_connection_closed_by_server(tpdrive, server, tmp_path):
    """The connection made by transport_connect() was closed by the server while
    idle: send() notices and uses a fresh one."""
    server.drop = "first"
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, MAIL),
                   env={"TPDRIVE_IDLE": "300"})
    assert res == [(250, "Kok")] * 3
    assert server.connections == 2
    reqs = server.wait_requests(2)
    assert [r["message"] for r in reqs].count(MAIL.replace(b"\r\n", b"\n")) == 1


def test_null_sender_and_line_endings(tpdrive, server, tmp_path):
    """<> as sender; CRLF across a 64 KB read boundary; lone CRs kept;
    a CR at the very end; LF-only lines unchanged."""
    data = b"Subject: x\n\n" + b"a" * (65536 - 13) + b"\r\n" + b"x\ry\nz\r\n\r"
    assert data[65535:65537] == b"\r\n"
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, message(tmp_path, data),
                   rcpts=["alice@example.com"], sender="")
    assert res == [(250, "Kok")]
    [req] = server.wait_requests(1)
    assert req["sender"] == b""
    assert req["message"] == b"Subject: x\n\n" + b"a" * (65536 - 13) + b"\n" + b"x\ry\nz\n\r"


def test_big_message_streamed(tpdrive, server, tmp_path):
    """5 MB through QMQP: the bytes arrive intact and the client's memory
    does not grow with the message."""
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n"
    body = line * (5 * 1024 * 1024 // len(line) + 1)
    data = b"From: alice@example.com\r\nSubject: big\r\n\r\n" + body
    msg = message(tmp_path, data, "big")
    rcpts = ["m%04d@example.org" % i for i in range(200)]
    if not os.path.exists("/usr/bin/time"):
        pytest.skip("no /usr/bin/time (Debian package time)")
    p, res = drive(tpdrive, "qmqp:127.0.0.1:%d" % server.port, msg, rcpts=rcpts,
                   wrap=["/usr/bin/time", "-v"])
    assert p.returncode == 0, p.stderr
    assert res == [(250, "Kok")] * 200
    [req] = server.wait_requests(1)
    assert req["error"] is None
    assert len(data) > 5 * 1024 * 1024
    assert req["message"] == data.replace(b"\r\n", b"\n")
    assert req["rcpts"] == [r.encode() for r in rcpts]
    rss = int(re.search(rb"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    assert rss < 16 * 1024, "max RSS %d KB, want < 16384" % rss
