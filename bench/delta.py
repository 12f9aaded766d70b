#!/usr/bin/python3
"""Delta recipient snapshots (issue 11): the first post after `makefml add`
against a warm post, at a large list.

    /usr/bin/python3 bench/delta.py TREE WORK [MEMBERS [RUNS]] [--deliver]

TREE holds fml/fml, fml/makefml and fml/fmlqueue (a build tree).  WORK is a
scratch directory (made, owned by nobody; its old contents removed).  The
list is made as an admin would: `makefml -D WORK/ml newml bench
example.org`, then `makefml add bench -` (bulk add) with MEMBERS addresses
over 500 domains, DELIVERY_MODE = queue.  Then RUNS times: a warm post (the
snapshot exists), `makefml add bench NEW`, and the first post after it.
Then 3 times: actives touched (a change fml did not make, so no chain of
appends: a full snapshot) and a post.  Posts are small mails piped into
fml/fml; each figure is the wall clock of one pipe, as an MTA waits for it.
With --deliver, one more add and post, and `fmlqueue run` into Postfix's
smtp-sink -c -d on 127.0.0.1: every member must get the article exactly
once (counted from the sink's X-Rcpt-Args lines).
"""
import collections
import os
import pwd
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid

TREE, WORK = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ARGS = [a for a in sys.argv[3:] if not a.startswith("--")]
MEMBERS = int(ARGS[0]) if ARGS else 1000000
RUNS = int(ARGS[1]) if len(ARGS) > 1 else 5
DELIVER = "--deliver" in sys.argv
FML, MAKEFML, FMLQUEUE = (os.path.join(TREE, "fml", p) for p in ("fml", "makefml", "fmlqueue"))
ML = os.path.join(WORK, "ml")
D = os.path.join(ML, "bench")
PW = pwd.getpwnam("nobody")


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, **kw)
    if p.returncode != 0:
        sys.exit("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.decode()))
    return p


def post(sender):
    msg = ("From: %s\nTo: bench@example.org\nSubject: delta bench\nMessage-ID: <%s@bench>\n"
           "Date: Sat, 01 Jun 2024 12:00:00 +0000\n\nhello\n" % (sender, uuid.uuid4().hex))
    t = time.monotonic()
    run([FML, D], input=msg.encode())
    return time.monotonic() - t


def add(addr):
    t = time.monotonic()
    run([MAKEFML, "-D", ML, "add", "bench", addr])
    return time.monotonic() - t


def snapshot_of_last_item():
    items = sorted(os.listdir(os.path.join(D, "var", "queue", "new")), key=lambda n: int(n[1:]))
    with open(os.path.join(D, "var", "queue", "new", items[-1]), "rb") as f:
        gen = next(l for l in f if l.startswith(b"rcpts ")).split()[1].decode()
    path = os.path.join(D, "var", "queue", "rcpt", "g" + gen)
    with open(path, "rb") as f:
        head = f.read(4096).partition(b"\n\n")[0]
    return ("delta" if b"\nbase " in head else "full"), os.path.getsize(path)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(ML)
    for d in (WORK, ML):
        os.chmod(d, 0o755)
        os.chown(d, PW.pw_uid, PW.pw_gid)
    run([MAKEFML, "-D", ML, "newml", "bench", "example.org"])
    addrs = "".join("m%07d@d%03d.example.net\n" % (i, i * 7919 % 500) for i in range(MEMBERS))
    t = time.monotonic()
    run([MAKEFML, "-D", ML, "add", "bench", "-"], input=addrs.encode())
    print("bulk add of %d: %.1f s" % (MEMBERS, time.monotonic() - t))
    with open(os.path.join(D, "config.cf"), "a") as f:
        f.write("DELIVERY_MODE = queue\n")
    sender = "m0000000@d000.example.net"
    print("first post (full snapshot): %.3f s, %s %d B" % ((post(sender),) + snapshot_of_last_item()))
    warm, first, adds = [], [], []
    for i in range(RUNS):
        warm.append(post(sender))
        adds.append(add("new%d@n%d.example.com" % (i, i)))
        first.append(post(sender))
        kind, size = snapshot_of_last_item()
        print("run %d: warm post %.4f s, makefml add %.4f s, first post after it %.4f s (%s "
              "snapshot, %d B)" % (i + 1, warm[-1], adds[-1], first[-1], kind, size))
    full = []
    for i in range(3):
        os.utime(os.path.join(D, "actives"))
        full.append(post(sender))
        print("after a touch of actives: post %.3f s (%s snapshot)" %
              ((full[-1],) + snapshot_of_last_item()[:1]))
    mw, mf = statistics.median(warm), statistics.median(first)
    print("MEDIANS (%d members, %d runs): warm post %.4f s, first post after makefml add "
          "%.4f s, ratio %.2f; makefml add %.4f s; post writing a full snapshot %.3f s" %
          (MEMBERS, RUNS, mw, mf, mf / mw, statistics.median(adds), statistics.median(full)))
    if DELIVER:
        deliver(sender)


def deliver(sender):
    for n in os.listdir(os.path.join(D, "var", "queue", "new")):
        os.unlink(os.path.join(D, "var", "queue", "new", n))
    run([FMLQUEUE, "expire", D])
    add("last-add@z.example.com")
    post(sender)
    kind, _ = snapshot_of_last_item()
    dump = os.path.join(WORK, "dump")
    os.mkdir(dump)
    os.chown(dump, PW.pw_uid, PW.pw_gid)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    sink = subprocess.Popen(["/usr/sbin/smtp-sink", "-c", "-d", dump + "/%H%M%S.", "-u",
                             "nobody", "127.0.0.1:%d" % port, "1000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        with open(os.path.join(D, "config.cf"), "a") as f:
            f.write("SMTP_SERVERS = 127.0.0.1:%d\n" % port)
        t = time.monotonic()
        run([FMLQUEUE, "run", D])
        wall = time.monotonic() - t
        time.sleep(1)
    finally:
        sink.terminate()
        sink.wait()
    got = collections.Counter()
    for f in os.listdir(dump):
        with open(os.path.join(dump, f), "rb") as fh:
            for line in fh:
                if line.startswith(b"X-Rcpt-Args: "):
                    got[line[13:].split()[0].strip(b"<>").decode()] += 1
                elif line in (b"\n", b"\r\n"):
                    break
    with open(os.path.join(D, "actives")) as f:
        want = set(l.split()[0] for l in f if l.strip())
    print("delivery of a %s-snapshot item: %.2f s, %d recipients delivered, %d distinct, "
          "%d members, missing %d, extra %d, delivered more than once %d" %
          (kind, wall, sum(got.values()), len(got), len(want), len(want - set(got)),
           len(set(got) - want), sum(1 for v in got.values() if v > 1)))


main()
