#!/usr/bin/python3
"""The member index at scale: bulk import, warm and first posts, makefml add,
full rebuild.  Run as root from the top of the tree after `make all`:

    bench/membersidx.py WORK N [N...]     (e.g. /tmp/ix 10000 1000000)

For each N: a list (DELIVERY_MODE=queue, so fml only queues) whose members
and actives are N addresses userNNNNNN@exampleK.com over 300 domains,
imported by `makefml add LIST -`; then a post with no index (full rebuild),
warm posts, one `makefml add`, the first post after it, and a forced rebuild
(`makefml check` after removing var/db).  Times are wall clock of the child,
max RSS from wait4.  Prints one line per figure.
"""
import os
import pwd
import resource
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FML = os.path.join(ROOT, "fml", "fml")
MAKEFML = os.path.join(ROOT, "fml", "makefml")
LIST, DOMAIN = "bench", "example.org"
PW = pwd.getpwnam("nobody")
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/", "SENDER": "user000001@example1.com"}


def run(argv, stdin=None):
    fd = os.open(stdin or os.devnull, os.O_RDONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(fd, 0)
        nul = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nul, 1)
        os.execve(argv[0], argv, ENV)
    _, status, ru = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    os.close(fd)
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        sys.exit("%s: exit %d" % (" ".join(argv), rc))
    return dt, ru.ru_maxrss // 1024


def post(work, n, sender="user000001@example1.com"):
    path = os.path.join(work, "post")
    with open(path, "w") as f:
        f.write("From: Poster <%s>\nTo: %s@%s\n"
                "Subject: bench %d\nMessage-ID: <%d.%f@example.net>\n\nA post.\n" %
                (sender, LIST, DOMAIN, n, n, time.time()))
    return path


STRANGER = "stranger@example.net"  # refused after the member lookup: no recipients read


def drop_index(d, files=("members.db",)):
    for f in files:
        try:
            os.unlink(os.path.join(d, "var", "db", f))
        except FileNotFoundError:
            pass


def one(work, n):
    ml = os.path.join(work, "ml%d" % n)
    shutil.rmtree(ml, ignore_errors=True)
    os.makedirs(ml)
    os.chown(ml, PW.pw_uid, PW.pw_gid)
    subprocess.run([MAKEFML, "-D", ml, "newml", LIST, DOMAIN], check=True,
                   stdout=subprocess.DEVNULL)
    d = os.path.join(ml, LIST)
    with open(os.path.join(d, "config.cf"), "a") as f:
        f.write("DELIVERY_MODE = queue\n")
    addrs = os.path.join(work, "addrs%d" % n)
    with open(addrs, "w") as f:
        for i in range(n):
            f.write("user%06d@example%d.com\n" % (i, i % 300))
    t, rss = run([MAKEFML, "-D", ml, "add", LIST, "-"], addrs)
    print("N=%d bulk import (makefml add - ): %.2f s, %d MB RSS" % (n, t, rss))
    k = 0
    drop_index(d)
    t, rss = run([FML, d], post(work, k))
    k += 1
    print("N=%d post with no index (full rebuild): %.3f s, %d MB RSS" % (n, t, rss))
    warm = []
    for _ in range(9):
        warm.append(run([FML, d], post(work, k))[0])
        k += 1
    w = sorted(warm)[4]
    print("N=%d warm post (median of 9): %.4f s" % (n, w))
    warm = []
    for _ in range(9):
        warm.append(run([FML, d], post(work, k, STRANGER))[0])
        k += 1
    ws = sorted(warm)[4]
    print("N=%d warm non-member post (lookup, no distribution; median of 9): %.4f s" % (n, ws))
    drop_index(d)
    t, rss = run([FML, d], post(work, k, STRANGER))
    k += 1
    print("N=%d non-member post with no index (rebuild of members.db): %.3f s, %d MB RSS"
          % (n, t, rss))
    for i in range(3):
        t, rss = run([MAKEFML, "-D", ml, "add", LIST, "new%d@example.net" % i])
        t2, _ = run([FML, d], post(work, k, STRANGER))
        k += 1
        t3, _ = run([MAKEFML, "-D", ml, "add", LIST, "more%d@example.net" % i])
        t4, _ = run([FML, d], post(work, k))
        k += 1
        print("N=%d makefml add: %.4f s (%.1fx warm post); first non-member post after it: "
              "%.4f s (%.2fx warm); makefml add: %.4f s; first post after it: %.4f s "
              "(%.2fx warm)" % (n, t, t / w, t2, t2 / ws, t3, t4, t4 / w))
    t, rss = run([MAKEFML, "-D", ml, "bye", LIST, "new0@example.net"])
    t2, _ = run([FML, d], post(work, k))
    print("N=%d makefml bye: %.4f s; first post after it: %.4f s" % (n, t, t2))
    drop_index(d, ("members.db", "actives.db"))
    t, rss = run([MAKEFML, "-D", ml, "check", LIST])
    print("N=%d full rebuild (makefml check, indexes removed): %.3f s, %d MB RSS" % (n, t, rss))
    return ws


def main():
    work = sys.argv[1]
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o755)
    warm = {}
    for n in map(int, sys.argv[2:]):
        warm[n] = one(work, n)
    ns = sorted(warm)
    if len(ns) > 1:
        print("warm non-member post N=%d / N=%d: %.2f" %
              (ns[-1], ns[0], warm[ns[-1]] / warm[ns[0]]))


main()
