#!/usr/bin/python3
"""Recipient snapshots (issue 11): the cost of one post and of delivering it.

usage: bench/snapshot.py FML_TREE MEMBERS [POSTS] [--deliver]

FML_TREE holds fml/fml, fml/makefml and fml/fmlqueue (and etc/, spool-skel/
beside fml/, as in the tree).  A list of MEMBERS addresses is made under
/tmp/fml-snapbench (members and actives written directly, their mtime a
minute back), POSTS (3) posts (the median of the second to the last is printed) of 4 KB are piped into fml with
DELIVERY_MODE = queue, each timed (wall clock of the pipe), and the size of
each queue item and of var/queue/rcpt/ is printed.  With --deliver, the
first item is delivered by `/usr/bin/time -v fmlqueue run` into Postfix's
smtp-sink on 127.0.0.1 (SMTP_RECIPIENT_LIMIT 1000, SMTP_CONNECTIONS 4, the
defaults of bench/bench.py): wall time, recipients/s and maximum RSS.
Run as root: fml drops to the list's owner (nobody).
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

TREE, SIZE = os.path.abspath(sys.argv[1]), int(sys.argv[2])
POSTS = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 3
DELIVER = "--deliver" in sys.argv
PW = pwd.getpwnam("nobody")
WORK = "/tmp/fml-snapbench"
LIST, DOMAIN = "bench", "example.org"
SINK = [p for p in ("/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink") if os.path.exists(p)][0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def du(path):
    return sum(os.lstat(os.path.join(dp, f)).st_size
               for dp, _, fns in os.walk(path) for f in fns)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    os.chmod(WORK, 0o755)
    os.chown(WORK, PW.pw_uid, PW.pw_gid)
    port = free_port()
    subprocess.run([os.path.join(TREE, "fml", "makefml"), "-D", WORK, "newml", LIST, DOMAIN],
                   check=True, stdout=subprocess.DEVNULL)
    d = os.path.join(WORK, LIST)
    with open(os.path.join(d, "config.cf"), "a") as f:
        f.write("DELIVERY_MODE = queue\nSMTP_SERVERS = smtp:127.0.0.1:%d\n"
                "SMTP_RECIPIENT_LIMIT = 1000\nSMTP_CONNECTIONS = 4\n" % port)
    addrs = ["user%07d@d%03d.example.net" % (i, i % 997) for i in range(SIZE)]
    addrs[0] = "poster@example.com"
    text = "".join(a + "\n" for a in addrs)
    past = time.time() - 60
    for n in ("members", "actives"):
        p = os.path.join(d, n)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o600)
        os.utime(p, (past, past))
    for dp, dns, fns in os.walk(WORK):
        for x in dns + fns:
            os.lchown(os.path.join(dp, x), PW.pw_uid, PW.pw_gid)
    body = "x" * 76 + "\n"
    env = {"PATH": "/usr/bin:/bin", "SENDER": "poster@example.com",
           "RECIPIENT": "%s@%s" % (LIST, DOMAIN), "HOME": "/"}
    times = []
    for i in range(1, POSTS + 1):
        mail = ("From: poster@example.com\nTo: %s@%s\nSubject: post %d\n"
                "Message-ID: <p%d.%d@example.com>\n\n" % (LIST, DOMAIN, i, i, os.getpid())
                + body * 52).encode()
        t0 = time.perf_counter()
        r = subprocess.run([os.path.join(TREE, "fml", "fml"), d], input=mail, env=env,
                           capture_output=True)
        t = time.perf_counter() - t0
        times.append(t)
        item = os.path.join(d, "var", "queue", "new", "a%d" % i)
        print("post %d: exit %d, %.3f s, item a%d %d bytes, var/queue/rcpt %d bytes, "
              "var/db %d bytes" % (i, r.returncode, t, i,
                                  os.path.getsize(item) if os.path.exists(item) else -1,
                                  du(os.path.join(d, "var", "queue", "rcpt")),
                                  du(os.path.join(d, "var", "db"))))
    later = sorted(times[1:])
    if later:
        print("posts 2..%d: median %.3f s, min %.3f s" % (POSTS, later[len(later) // 2], later[0]))
    if not DELIVER:
        return
    # only a1 is delivered: the others move aside
    aside = os.path.join(WORK, "aside")
    os.mkdir(aside)
    for i in range(2, POSTS + 1):
        os.rename(os.path.join(d, "var", "queue", "new", "a%d" % i), os.path.join(aside, "a%d" % i))
    sink = subprocess.Popen([SINK, "-c", "-u", "nobody", "127.0.0.1:%d" % port, "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            time.sleep(0.1)
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", os.path.join(TREE, "fml", "fmlqueue"), "run", d],
                       capture_output=True, text=True)
    t = time.perf_counter() - t0
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)
    sent = os.listdir(os.path.join(d, "var", "queue", "sent"))
    sink.terminate()
    sink.wait()
    print("fmlqueue run: exit %d, %.2f s, %d recipients, %.0f recipients/s, max RSS %s KB, sent/ %r"
          % (r.returncode, t, SIZE, SIZE / t, rss, sent))


main()
