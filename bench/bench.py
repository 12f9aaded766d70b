#!/usr/bin/python3
"""fml beside mlmmj: one run, one machine, one loopback sink.  See bench/README.md.

Called by bench/run.sh (which starts Postfix's smtp-sink and stops it):

    bench.py ROOT WORK SINK_PORT SINK_LOG TREE [DSINK_PORT DSINK_LOG DUMP_DIR]

TREE holds a copy of fml/fml, fml/makefml, fml/fmlqueue and fml/fmldigest taken at the start
(with etc/ and
spool-skel/ linked beside them), so a rebuild during the run changes nothing.

Every program is started the same way: posix_spawn (vfork + exec) from a
small helper process (class Spawner), stdin = the post (a file, as
Postfix local(8) hands it over: "From " line, Return-Path, X-Original-To,
Delivered-To prepended), environment as local(8) sets it.  The clock
runs from just before the spawn to the wait4() that reaps it ("return"), and,
for mlmmj, on to the moment the last process it left behind has exited
("done"): the helper is a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
so mlmmj's background mlmmj-process/mlmmj-send are reparented to it and it
reap them.  smtp-sink is started by run.sh, so it is not our child.
"""
import base64
import ctypes
import datetime
import json
import math
import os
import platform
import pwd
import random
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT, WORK, SINK_PORT, SINK_LOG, TREE = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                         sys.argv[4], sys.argv[5])
# (d) delivery: a second sink (smtp-sink -c -d DUMP_DIR/...), shared by fml,
# mlmmj and smtp-source, whose per-transaction dumps are counted after each run
DSINK_PORT, DSINK_LOG, DUMP_DIR = ((int(sys.argv[6]), sys.argv[7], sys.argv[8])
                                   if len(sys.argv) > 8 else (0, "", ""))
FML = os.path.join(TREE, "fml", "fml")
MAKEFML = os.path.join(TREE, "fml", "makefml")
FMLQUEUE = os.path.join(TREE, "fml", "fmlqueue")
FMLDIGEST = os.path.join(TREE, "fml", "fmldigest")
FMLPROC = os.path.join(TREE, "fml", "fmlproc")
SMTP_SOURCE = "/usr/sbin/smtp-source"
MLMMJ_BIN = "/usr/bin"
GNU_TIME = "/usr/bin/time"

N = int(os.environ.get("BENCH_N", "20"))                  # fast runs (no delivery)
N_COLD = int(os.environ.get("BENCH_N_COLD", "5"))         # fml, index rebuilt
N_DELIVER = int(os.environ.get("BENCH_N_DELIVER", "10"))  # mlmmj runs that deliver 10,000
N_BIG = int(os.environ.get("BENCH_N_BIG", "3"))           # 100 MB posts
TPUT = int(os.environ.get("BENCH_TPUT", "1000"))          # throughput posts; 0 = skip
SAMPLE = int(os.environ.get("BENCH_SAMPLE", "200"))       # mlmmj per-recipient mode sample
FULL = os.environ.get("BENCH_FULL", "0") == "1"           # also one full per-recipient run
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "10000"))
DELIVERY = [int(x) for x in os.environ.get("BENCH_DELIVERY",
                                           "1000 10000 100000 1000000").split()]
D_RUNS = int(os.environ.get("BENCH_DELIVERY_RUNS", "3"))  # per size (mlmmj >10,000: 1)
SCALE = int(os.environ.get("BENCH_SCALE", "1000000"))      # (f) big list; 0 = skip
N_SCALE = int(os.environ.get("BENCH_N_SCALE", "10"))      # (f) warm posts, each size
N_ADD = int(os.environ.get("BENCH_N_ADD", "5"))           # (f) makefml add + first post
SINGLE = int(os.environ.get("BENCH_SINGLE_ADDS", "1000"))  # (f) makefml add one by one
CONTENT_N = int(os.environ.get("BENCH_CONTENT", "10"))    # (g) content rules: runs; 0 = skip
ARCHIVE = [int(x) for x in os.environ.get("BENCH_ARCHIVE", "10 100000").split()]  # (h) sizes
N_ARCHIVE = int(os.environ.get("BENCH_N_ARCHIVE", "10"))  # (h) posts timed at each size
CONC = int(os.environ.get("BENCH_CONC", "50"))            # (c) posts at once
CONC_ROUNDS = int(os.environ.get("BENCH_CONC_ROUNDS", "5"))
ONLY = os.environ.get("BENCH_ONLY", "")  # "delivery" / "digest" / "archive": (d) / (e) / (h) only
# (e) digests: BENCH_DIGEST=0 skips it in a full run
DIGEST = os.environ.get("BENCH_DIGEST", "1") == "1"
G_MEMBERS = int(os.environ.get("BENCH_DIGEST_MEMBERS", "10000"))
G_ARTICLES = int(os.environ.get("BENCH_DIGEST_ARTICLES", "1000"))
G_RUNS = int(os.environ.get("BENCH_DIGEST_RUNS", "3"))      # fmldigest, fmlqueue, mlmmj x1
G_SAMPLE = int(os.environ.get("BENCH_DIGEST_SAMPLE", "200"))  # mlmmj digesters, measured
G_ART_SIZE = 4096
D_BATCH = 1000       # fml's SMTP_RECIPIENT_LIMIT default; smtp-source -r
D_CONN = 4           # fml's SMTP_CONNECTIONS default; smtp-source -s
D_VERP_MAX = 100     # mlmmj batched: control/maxverprecips
D_DEFAULT_AT = 1000  # mlmmj's default mode (a transaction per recipient) only here
D_VERP_AT = 10000    # fml with VERP_MODE = always (a transaction per recipient) only here
# one-click (a transaction per recipient, signed per recipient), at D_VERP_AT:
# the fmlqueue options of each row
ONE_CLICK = {"fml one-click, RSA + Ed25519": [],
             "fml one-click, RSA": ["--DKIM_PRIVATE_KEY_ED25519="],
             "fml one-click, unsigned": ["--DKIM_SELECTOR="]}
POST_SIZE = 4096
BIG_SIZE = 100 * 1024 * 1024
LOAD0 = []
GROUP = 100  # mlmmj's maxverprecips default: recipients per SMTP transaction

OWNER = "nobody"
PW = pwd.getpwnam(OWNER)
LIST = "bench"
DOMAIN = "example.org"
LISTADDR = "%s@%s" % (LIST, DOMAIN)

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_CHILD_SUBREAPER = 36


def die(msg):
    print("bench: " + msg, file=sys.stderr)
    sys.exit(1)


def chown_tree(path):
    for dp, dns, fns in os.walk(path):
        os.chown(dp, PW.pw_uid, PW.pw_gid)
        for f in fns:
            os.lchown(os.path.join(dp, f), PW.pw_uid, PW.pw_gid)


def write(path, data, mode=0o644):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chmod(path, mode)


# ---------------------------------------------------------------- inputs

def addresses(n):
    """N distinct, plausible, lower-case addresses; same set for both lists."""
    rnd = random.Random(20240601)
    first = ("alice bob carol dave erin frank grace heidi ivan judy kevin laura mallory "
             "nick olivia peggy quentin rupert sybil trent ursula victor walter xavier "
             "yolanda zoe").split()
    last = "smith jones tanaka suzuki mueller rossi garcia kim nguyen silva".split()
    doms = ["d%d.example.%s" % (i, ("com", "net", "org")[i % 3]) for i in range(400)]
    out, seen = [], set()
    i = 0
    while len(out) < n:
        a = "%s.%s%d@%s" % (rnd.choice(first), rnd.choice(last), i, rnd.choice(doms))
        i += 1
        if a not in seen:
            seen.add(a)
            out.append(a)
    return out


def postfix_envelope(sender):
    """What Postfix local(8) prepends before piping a mail to a command."""
    return ("From %s  Sat Jun  1 12:00:00 2024\nReturn-Path: <%s>\nX-Original-To: %s\n"
            "Delivered-To: %s\n" % (sender, sender, LISTADDR, LISTADDR)).encode()


def make_post(path, tag, sender, size):
    """A post of exactly SIZE bytes (before the local(8) lines), unique by TAG."""
    date = "Sat, 01 Jun 2024 12:00:00 +0000"
    head = ("Received: from mx.example.net (mx.example.net [192.0.2.7])\n"
            "\tby mail.example.org (Postfix) with ESMTPS id 4Vx%s\n"
            "\tfor <%s>; %s\n"
            "Date: %s\nFrom: Bench Poster <%s>\nTo: %s\n"
            "Subject: benchmark post %s\nMessage-ID: <%s.bench@example.net>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: 7bit\n\n"
            "Post %s of the fml/mlmmj benchmark.\n" %
            (tag, LISTADDR, date, date, sender, LISTADDR, tag, tag, tag)).encode()
    line = (b"The quick brown fox jumps over the lazy dog; pack my box with five dozen"
            b" jugs.\n")
    with open(path, "wb") as f:
        f.write(postfix_envelope(sender))
        f.write(head)
        left = size - len(head)
        block = line * 8192
        while left > 0:
            chunk = block[:left]
            if left <= len(block):  # end on a newline
                chunk = chunk[:-1] + b"\n"
            f.write(chunk)
            left -= len(chunk)


# ---------------------------------------------------------------- running

ENV = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "USER": OWNER, "LOGNAME": OWNER,
       "HOME": "/", "RECIPIENT": LISTADDR, "LOCAL": LIST, "DOMAIN": DOMAIN,
       "ORIGINAL_RECIPIENT": LISTADDR}


class Run:
    __slots__ = ("ret", "done", "rc", "stragglers", "cpu")


class Spawner:
    """Where the measured programs are started: a child of this process that
    does nothing else, forked once (as the list owner for mlmmj), a child
    subreaper so that what a program leaves behind is reparented to it and
    reaped.  It starts each program with posix_spawn(3) (vfork + exec; an
    MTA forks a small process, so a start costs what the program costs): a
    fork() of this Python process, which holds tens of MB, costs about 1 ms
    and would be paid by both sides, inside the clock, squeezing every ratio
    toward 1.  Requests and answers go over a socket pair; the clocks run
    in the child."""

    def __init__(self, as_owner, logf):
        import multiprocessing.connection as mc
        a, b = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            a.close()
            conn = mc.Connection(b.detach())
            code = 0
            try:
                libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
                if as_owner:
                    os.setgroups([])
                    os.setgid(PW.pw_gid)
                    os.setuid(PW.pw_uid)
                while True:
                    try:
                        req = conn.recv()
                    except EOFError:
                        break
                    try:
                        conn.send(getattr(self, "_" + req[0])(logf, *req[1:]))
                    except OSError as e:  # e.g. the program or the post is not there
                        conn.send(e)
            except BaseException:
                code = 1
            os._exit(code)
        b.close()
        self.pid = pid
        self.conn = mc.Connection(a.detach())

    @staticmethod
    def _start(logf, argv, infile, env):
        acts = [(os.POSIX_SPAWN_OPEN, 0, infile, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, logf, 1), (os.POSIX_SPAWN_DUP2, logf, 2)]
        return os.posix_spawn(argv[0], argv, env, file_actions=acts)

    @staticmethod
    def _reap_all():
        cpu, n = 0.0, 0
        while True:
            try:
                _, _, ru = os.wait4(-1, 0)
                cpu += ru.ru_utime + ru.ru_stime
                n += 1
            except ChildProcessError:
                return cpu, n

    def _one(self, logf, argv, infile, env):
        t0 = time.perf_counter()
        pid = self._start(logf, argv, infile, env)
        _, status, ru = os.wait4(pid, 0)
        t1 = time.perf_counter()
        cpu, n = self._reap_all()  # orphans reparented to us: mlmmj's background work
        done = time.perf_counter() - t0
        return (t1 - t0, done, os.waitstatus_to_exitcode(status), n,
                ru.ru_utime + ru.ru_stime + cpu)

    def _many(self, logf, argv, infiles, env):
        t0 = time.perf_counter()
        pids = [self._start(logf, argv, f, env) for f in infiles]
        rcs = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
        self._reap_all()
        return time.perf_counter() - t0, rcs

    def ask(self, *req):
        self.conn.send(req)
        a = self.conn.recv()
        if isinstance(a, OSError):
            die("cannot start %s: %s" % (req[1][0], a))
        return a


SPAWNERS = {}


def spawner(as_owner, logf):
    if as_owner not in SPAWNERS:
        SPAWNERS[as_owner] = Spawner(as_owner, logf)
    return SPAWNERS[as_owner]


def spawn(argv, infile, as_owner, sender, logf):
    """Start ARGV with INFILE on stdin; time to its exit, then to the last descendant."""
    r = Run()
    r.ret, r.done, r.rc, r.stragglers, r.cpu = spawner(as_owner, logf).ask(
        "one", argv, infile, dict(ENV, SENDER=sender))
    return r


def spawn_many(argv, infiles, as_owner, sender, logf):
    """Start ARGV once per file of INFILES, all at once (as a burst of mail
    from an MTA would); the wall time until the last process (and anything it
    left behind) has exited, and the exit codes."""
    return spawner(as_owner, logf).ask("many", argv, infiles, dict(ENV, SENDER=sender))


def item_rcpts(path):
    """The recipients a queue item names: its rcpt lines, or the count of the
    recipient snapshot it refers to (an "rcpts GEN COUNT ..." line)."""
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if line == b"\n":
                break
            if line.startswith(b"rcpt "):
                n += 1
            elif line.startswith(b"rcpts "):
                n += int(line.split()[2])
    return n


def gnu_time(argv, infile, as_owner, sender, logf, out):
    """Peak RSS as /usr/bin/time -v reports it ("Maximum resident set size")."""
    if os.path.exists(out):
        os.unlink(out)
    r = spawn([GNU_TIME, "-v", "-o", out] + argv, infile, as_owner, sender, logf)
    if not os.path.exists(out):
        die("GNU time wrote no %s (see %s/programs.log)" % (out, WORK))
    txt = open(out).read()
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", txt)
    st = re.search(r"Exit status: (\d+)", txt)
    if not m:
        die("no RSS in %s" % out)
    return int(m.group(1)), r, int(st.group(1)) if st else -1


# ---------------------------------------------------------------- sink

def sink_count(log=None):
    """smtp-sink -c: messages received so far (its last "mesg=" counter)."""
    log = log or SINK_LOG
    try:
        with open(log, "rb") as f:
            f.seek(max(0, os.path.getsize(log) - 200))
            tail = f.read()
    except OSError:
        return 0
    m = re.findall(rb"mesg=(\d+)", tail)
    return int(m[-1]) if m else 0


def sink_wait(want, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if sink_count() >= want:
            return True
        time.sleep(0.01)
    return sink_count() >= want


# ---------------------------------------------------------------- lists

def fml_list(ml_dir, addrs, extra_cf):
    d = os.path.join(ml_dir, LIST)
    os.makedirs(ml_dir, exist_ok=True)
    os.chmod(ml_dir, 0o755)  # traversable by the owner; makefml drops to its owner
    os.chown(ml_dir, PW.pw_uid, PW.pw_gid)
    if os.path.exists(MAKEFML):
        p = subprocess.run([MAKEFML, "-D", ml_dir, "newml", LIST, DOMAIN],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            die("makefml newml: exit %d: %s" % (p.returncode, p.stderr.strip()))
        how = "`fml/makefml -D ML_DIR newml %s %s`" % (LIST, DOMAIN)
    else:  # makefml not there yet: the list home by hand (doc/fml-list.5)
        for sub in ("spool etc var var/incoming var/queue var/queue/tmp var/queue/new "
                    "var/queue/active var/queue/deferred var/queue/sent var/queue/drop "
                    "var/queue/corrupt var/hold var/archive var/db var/run var/log").split():
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        write(os.path.join(d, "config.cf"), "DOMAINNAME = %s\n" % DOMAIN)
        write(os.path.join(d, "seq"), "0\n")
        how = "by hand (fml/makefml not built yet): the directories of doc/fml-list.5"
    # no DMARC lookups: the bench asks no DNS server (loopback only), and
    # mlmmj makes none either
    extra_cf = [("DMARC_MITIGATION", "never")] + list(extra_cf)
    with open(os.path.join(d, "config.cf"), "a") as f:
        f.write("\n# bench/bench.py\n" + "".join("%s = %s\n" % kv for kv in extra_cf))
    text = "".join(a + "\n" for a in addrs)  # written directly: 10,000 "makefml add" is slow
    write(os.path.join(d, "members"), text, 0o600)
    write(os.path.join(d, "actives"), text, 0o600)
    past = time.time() - 60  # older than fml's 1 s "racy" window: the stamp is trusted
    for f in ("members", "actives"):
        os.utime(os.path.join(d, f), (past, past))
    os.chmod(ml_dir, 0o755)
    chown_tree(ml_dir)
    os.chmod(ml_dir, 0o755)
    return d, how


def mlmmj_list(spool, name, addrs, port, verp, maxverprecips=None):
    os.makedirs(spool, exist_ok=True)
    subprocess.run(["/usr/bin/mlmmj-make-ml", "-L", name, "-s", spool],
                   input=("%s\nowner@%s\nen\n" % (DOMAIN, DOMAIN)).encode(), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    d = os.path.join(spool, name)
    ctl = os.path.join(d, "control")
    write(os.path.join(ctl, "listaddress"), LISTADDR + "\n")  # same address as fml's list
    write(os.path.join(ctl, "relayhost"), "127.0.0.1\n")
    write(os.path.join(ctl, "smtpport"), "%d\n" % port)
    write(os.path.join(ctl, "subonlypost"), "")  # members only, like fml's default
    write(os.path.join(ctl, "prefix"), "[bench]\n")  # a subject tag, like fml's [bench:N]
    if verp is True:
        write(os.path.join(ctl, "verp"), "postfix\n")  # GROUP recipients per transaction
    elif verp == "":
        write(os.path.join(ctl, "verp"), "")  # batched, plain MAIL FROM (no XVERP)
    if maxverprecips is not None:
        write(os.path.join(ctl, "maxverprecips"), "%d\n" % maxverprecips)
    by_letter = {}
    for a in addrs:
        by_letter.setdefault(a[0], []).append(a)
    for c, v in by_letter.items():
        write(os.path.join(d, "subscribers.d", c), "".join(x + "\n" for x in v))
    chown_tree(spool)
    os.chmod(spool, 0o755)
    return d


def clear_dir(path, keep=()):
    for f in os.listdir(path):
        p = os.path.join(path, f)
        if f not in keep and os.path.isfile(p):
            os.unlink(p)


# ---------------------------------------------------------------- (d) delivery

def dump_take(timeout=10.0, want_rcpts=None, c0=0):
    """The transactions the delivery sink dumped since the last call: (number of
    transactions, {recipient: times}); the dump files are removed.  Waits (up to
    TIMEOUT) until the sink's own message counter agrees with the files and, if
    WANT_RCPTS is given, until that many recipients are in them."""
    end = time.time() + timeout
    while True:
        files = sorted(os.listdir(DUMP_DIR))
        rcpts = {}
        for f in files:
            with open(os.path.join(DUMP_DIR, f), "rb") as fh:
                for line in fh:
                    if line.startswith(b"X-Rcpt-Args: "):
                        a = line[13:].split()[0].strip(b"<>").lower().decode()
                        rcpts[a] = rcpts.get(a, 0) + 1
        mesg = sink_count(DSINK_LOG) - c0
        total = sum(rcpts.values())
        if (mesg == len(files) and (want_rcpts is None or total >= want_rcpts)) or \
                time.time() > end:
            break
        time.sleep(0.05)
    for f in files:
        os.unlink(os.path.join(DUMP_DIR, f))
    return len(files), mesg, rcpts


class DRun:
    __slots__ = ("wall", "rss", "cpu", "trans", "rcpts")


def d_verp_max(size):
    """mlmmj's recipients per transaction in (d): its default up to 100,000,
    fml's own batch size above (the same work per transaction, and minutes
    instead of an hour)."""
    return D_VERP_MAX if size <= 100000 else D_BATCH


def delivery(addrs_all, sender, post, logf, tmp):
    """(d): one post delivered to lists of each BENCH_DELIVERY size into the
    delivery sink by fml's queue runner, by mlmmj (batched; default mode at
    D_DEFAULT_AT only) and, as the upper reference, by smtp-source."""
    D = {}
    dump_take(timeout=0)  # nothing should be there; start clean
    timef = os.path.join(tmp, "time.delivery")

    def measure(key, size, argv, infile, as_owner, want):
        """One timed run; WANT = {recipient: times} the sink must have, exactly."""
        c0 = sink_count(DSINK_LOG)
        kb, r, st = gnu_time(argv, infile, as_owner, sender, logf, timef)
        if st != 0 or r.rc != 0:
            die("(d) %s, %d members: exit %d (see %s/programs.log)" % (key, size, st, WORK))
        ntrans, mesg, got = dump_take(want_rcpts=sum(want.values()), c0=c0)
        if key == "smtp-source" and sum(got.values()) == sum(want.values()):
            # smtp-source names its recipients NNNmember@, the last one plain
            # member@: the same D_BATCH names in every transaction
            n = next(iter(want.values()))
            if len(got) == D_BATCH and all(re.match(r"\d*member@example\.org$", a) and c == n
                                           for a, c in got.items()):
                want = got
        if got != want:
            missing = sum(max(0, n - got.get(a, 0)) for a, n in want.items())
            extra = sum(max(0, n - want.get(a, 0)) for a, n in got.items())
            die("(d) %s, %d members: the sink got %d recipients (%d missing, %d extra or "
                "repeated), want %d" % (key, size, sum(got.values()), missing, extra,
                                        sum(want.values())))
        if mesg != ntrans:
            die("(d) %s: the sink counted %d messages but dumped %d" % (key, mesg, ntrans))
        d = DRun()
        d.wall, d.rss, d.cpu, d.trans, d.rcpts = r.done, kb, r.cpu, ntrans, sum(got.values())
        D.setdefault((key, size), []).append(d)
        return d

    fml_dirs, mlmmj_dirs = {}, {}
    verp_size = D_VERP_AT if D_VERP_AT in DELIVERY else None
    if verp_size:
        # the same list with VERP_MODE = always: the sink offers no XVERP, so
        # every recipient gets a transaction and a sender of its own
        fml_dirs["verp"], _ = fml_list(os.path.join(WORK, "d-fml-verp-%d" % verp_size),
                                       addrs_all[:verp_size], [
            ("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue"),
            ("SMTP_SERVERS", "smtp:127.0.0.1:%d" % DSINK_PORT),
            ("SMTP_RECIPIENT_LIMIT", str(D_BATCH)), ("SMTP_CONNECTIONS", str(D_CONN)),
            ("VERP_MODE", "always")])
    if verp_size:
        # the same list signing with the keys makefml dkim makes (RSA and
        # Ed25519; issue 14): a signature per item, not per recipient
        fml_dirs["dkim"], _ = fml_list(os.path.join(WORK, "d-fml-dkim-%d" % verp_size),
                                       addrs_all[:verp_size], [
            ("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue"),
            ("SMTP_SERVERS", "smtp:127.0.0.1:%d" % DSINK_PORT),
            ("SMTP_RECIPIENT_LIMIT", str(D_BATCH)), ("SMTP_CONNECTIONS", str(D_CONN))])
        p = subprocess.run([MAKEFML, "-D", os.path.dirname(fml_dirs["dkim"]), "dkim", LIST,
                            "bench"], capture_output=True, text=True)
        if p.returncode != 0:
            die("makefml dkim: exit %d: %s" % (p.returncode, p.stderr.strip()))
    if verp_size:
        # one-click unsubscribe (issue 15): each copy its own List-Unsubscribe,
        # one transaction per recipient, signed per recipient
        fml_dirs["oneclick"], _ = fml_list(os.path.join(WORK, "d-fml-oneclick-%d" % verp_size),
                                           addrs_all[:verp_size], [
            ("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue"),
            ("SMTP_SERVERS", "smtp:127.0.0.1:%d" % DSINK_PORT),
            ("SMTP_RECIPIENT_LIMIT", str(D_BATCH)), ("SMTP_CONNECTIONS", str(D_CONN)),
            ("ONE_CLICK_UNSUBSCRIBE", "1"), ("WEB_URL", "https://lists.example.org/fml")])
        p = subprocess.run([MAKEFML, "-D", os.path.dirname(fml_dirs["oneclick"]), "dkim",
                            LIST, "bench"], capture_output=True, text=True)
        if p.returncode != 0:
            die("makefml dkim: exit %d: %s" % (p.returncode, p.stderr.strip()))
    for size in DELIVERY:
        addrs = addrs_all[:size]
        say("(d) lists of %d members (fml, mlmmj batched)" % size)
        fml_dirs[size], _ = fml_list(os.path.join(WORK, "d-fml-%d" % size), addrs, [
            ("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue"),
            ("SMTP_SERVERS", "smtp:127.0.0.1:%d" % DSINK_PORT),
            ("SMTP_RECIPIENT_LIMIT", str(D_BATCH)), ("SMTP_CONNECTIONS", str(D_CONN))])
        # above 100,000 mlmmj sends as many recipients per transaction as fml
        # (an hour otherwise); its default 100 below
        mlmmj_dirs[size] = mlmmj_list(os.path.join(WORK, "d-mlmmj-%d" % size), LIST, addrs,
                                      DSINK_PORT, verp="", maxverprecips=d_verp_max(size))

    def fml_run(size, key="fml"):
        fdir = fml_dirs[{"fml": size, "fml DKIM-signed": "dkim"}.get(
            key, "oneclick" if key in ONE_CLICK else "verp")]
        qnew = os.path.join(fdir, "var", "queue", "new")
        r = spawn([FML, fdir], post(), False, sender, logf)  # queue the post: not timed
        items = os.listdir(qnew)
        if r.rc != 0 or len(items) != 1:
            die("(d) fml, %d members: exit %d, %d queue items (see %s/log)" %
                (size, r.rc, len(items), fdir))
        want = {a.lower(): 1 for a in addrs_all[:size]}
        measure(key, size, [FMLQUEUE, "run"] + ONE_CLICK.get(key, []) + [fdir], "/dev/null",
                False, want)
        if items[0] not in os.listdir(os.path.join(fdir, "var", "queue", "sent")):
            die("(d) fml, %d members: item %s not in sent/ (see %s/log)" %
                (size, items[0], fdir))

    def mlmmj_run(key, d, size):
        arch0 = len(os.listdir(os.path.join(d, "archive")))
        want = {a.lower(): 1 for a in addrs_all[:size]}
        measure(key, size, [os.path.join(MLMMJ_BIN, "mlmmj-receive"), "-F", "-L", d + "/"],
                post(), True, want)
        if len(os.listdir(os.path.join(d, "archive"))) != arch0 + 1:
            die("(d) %s, %d members: not archived" % (key, size))

    def source_run(size):
        m = math.ceil(size / D_BATCH)
        want = {"%dmember@example.org" % i: m for i in range(1, D_BATCH + 1)}
        measure("smtp-source", size, [SMTP_SOURCE, "-s", str(min(D_CONN, m)), "-r",
                                      str(D_BATCH), "-m", str(m), "-l", str(POST_SIZE), "-d",
                                      "-f", sender, "-t", "member@example.org",
                                      "127.0.0.1:%d" % DSINK_PORT], "/dev/null", True, want)

    for size in DELIVERY:
        runs_m = D_RUNS if size <= 10000 else 1
        say("(d) %d members: fml %d, mlmmj batched %d, smtp-source %d runs, interleaved" %
            (size, D_RUNS, runs_m, D_RUNS))
        for i in range(D_RUNS):
            fml_run(size)
            if size == verp_size:
                fml_run(size, "fml VERP_MODE=always")
                fml_run(size, "fml DKIM-signed")
                for k in ONE_CLICK:
                    fml_run(size, k)
            if i < runs_m:
                mlmmj_run("mlmmj batched", mlmmj_dirs[size], size)
            source_run(size)
    if DELIVERY:
        n = D_DEFAULT_AT
        say("(d) mlmmj default mode (a transaction per recipient), %d members: 1 run "
            "(about 45 s)" % n)
        d = mlmmj_list(os.path.join(WORK, "d-mlmmj-default"), LIST, addrs_all[:n],
                       DSINK_PORT, verp=None)
        mlmmj_run("mlmmj default", d, n)

    # where fmlqueue's time goes: syscall counts of one pass at 10,000 (or the
    # largest size below it), not timed
    psize = max([x for x in DELIVERY if x <= 10000] or DELIVERY)
    fdir = fml_dirs[psize]
    spawn([FML, fdir], post(), False, sender, logf)
    out = os.path.join(tmp, "strace.fmlqueue")
    spawn(["/usr/bin/strace", "-c", "-f", "-o", out, FMLQUEUE, "run", fdir], "/dev/null",
          False, sender, logf)
    dump_take(want_rcpts=psize)
    D["strace"] = (psize, parse_strace_time(out))
    return D


def parse_strace_time(path):
    """strace -c: [(syscall, calls, seconds)], most time first."""
    rows = []
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and not line.startswith("100.00"):
            try:
                rows.append((f[-1], int(f[3]), float(f[1])))
            except ValueError:
                pass
    return sorted(rows, key=lambda x: -x[2])


def delivery_report(D):
    """(d) as markdown, and a sentence for the summary."""
    def med(key, size, field):
        return median([getattr(d, field) for d in D[(key, size)]])

    lines = []
    P = lines.append
    P("| members | sender | runs | wall s (median) | min s | recipients/s | SMTP "
      "transactions | peak RSS MB | CPU s (median) | fml/this (recipients/s) |")
    P("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rate = {}
    for size in DELIVERY:
        for key in ("fml", "fml VERP_MODE=always", "fml DKIM-signed", *ONE_CLICK,
                    "mlmmj batched", "mlmmj default", "smtp-source"):
            if (key, size) not in D:
                continue
            v = D[(key, size)]
            w = med(key, size, "wall")
            rate[(key, size)] = size / w
            P("| %d | %s | %d | %.3f | %.3f | %.0f | %d | %.1f | %.3f | %s |" %
              (size, key, len(v), w, min(d.wall for d in v), size / w, v[0].trans,
               max(d.rss for d in v) / 1024, med(key, size, "cpu"),
               "" if key == "fml" else "%.3g" % (rate[("fml", size)] / (size / w))))
    table = "\n".join(lines)

    lines = []
    P = lines.append
    P("| members | fml / mlmmj batched | fml / mlmmj default | fml / smtp-source |")
    P("|---:|---:|---:|---:|")
    for size in DELIVERY:
        def rr(k):
            return ("%.2f" % (rate[("fml", size)] / rate[(k, size)])
                    if (k, size) in rate else "not measured")
        P("| %d | %s | %s | %s |" % (size, rr("mlmmj batched"), rr("mlmmj default"),
                                      rr("smtp-source")))
    ratios = "\n".join(lines)

    goals = []
    g = 10000 if ("fml", 10000) in rate else None
    if g:
        a = rate[("fml", g)] / rate[("mlmmj batched", g)]
        b = rate[("fml", g)] / rate[("smtp-source", g)]
        goals = [("fml >= 10 x mlmmj batched (recipients/s, 10,000 members)", "%.1f x" % a,
                  a >= 10),
                 ("fml >= 0.5 x smtp-source, same batch size (10,000 members)", "%.2f x" % b,
                  b >= 0.5)]
    gl = ["| goal | measured | met? |", "|---|---:|---|"]
    gl += ["| %s | %s | **%s** |" % (t, m, "met" if ok else "NOT met") for t, m, ok in goals]
    goal_table = "\n".join(gl)

    psize, st = D["strace"]
    tot = sum(x[2] for x in st) or 1
    sl = ["| syscall | calls | seconds | % of syscall time |", "|---|---:|---:|---:|"]
    sl += ["| %s | %d | %.4f | %.1f |" % (n, c, t, 100 * t / tot) for n, c, t in st[:12]]
    sl.append("| **all** | %d | %.4f | |" % (sum(x[1] for x in st), tot))
    strace_table = "\n".join(sl)

    summary = ""
    if g:
        summary = ("  Delivery of one 4 KB post to 10000 members into the sink: fml's queue "
                   "runner %.0f recipients/s, mlmmj batched %.0f, smtp-source (same batch "
                   "size) %.0f: **fml/mlmmj batched = %.1f** (goal >= 10: %s), **fml/"
                   "smtp-source = %.2f** (goal >= 0.5: %s)." %
                   (rate[("fml", g)], rate[("mlmmj batched", g)], rate[("smtp-source", g)],
                    a, "met" if goals[0][2] else "NOT met", b,
                    "met" if goals[1][2] else "NOT met"))
    verp = [k for k in D if isinstance(k, tuple) and k[0] == "fml VERP_MODE=always"]
    verp_line = ""
    if verp:
        vs = verp[0][1]
        verp_line = (
            "- VERP (issue 12): the %d-member list again with VERP_MODE = always.  The sink "
            "offers no XVERP, so fmlqueue sends one transaction per recipient, each with its "
            "own sender (`elena-bounces+LOCAL=DOMAIN@`): %.0f recipients/s against %.0f "
            "plain, **VERP per recipient / plain = %.2f**.  With a relay that offers XVERP "
            "(Postfix, for `smtpd_authorized_verp_clients`) fmlqueue sends the batches of "
            "the plain row with one more MAIL FROM parameter, so its own cost is that of "
            "the plain row; the relay then makes a sender and a delivery per recipient."
            % (vs, rate[("fml VERP_MODE=always", vs)], rate[("fml", vs)],
               rate[("fml VERP_MODE=always", vs)] / rate[("fml", vs)]))
    dkim_line = ""
    if verp and ("fml DKIM-signed", verp[0][1]) in D:
        ds = verp[0][1]
        cpu_d = med("fml DKIM-signed", ds, "cpu") - med("fml", ds, "cpu")
        dkim_line = (
            "- DKIM (issue 14): the %d-member list again, signing with the RSA (2048) and "
            "Ed25519 keys `makefml dkim` made: fmlqueue computes both signatures once for "
            "the item and puts them before the message on each of its connections: %.0f "
            "recipients/s against %.0f unsigned, **signed / unsigned = %.2f**; the signing "
            "costs %.1f ms of CPU per article (median CPU of the signed run minus the "
            "unsigned one), whatever the number of recipients."
            % (ds, rate[("fml DKIM-signed", ds)], rate[("fml", ds)],
               rate[("fml DKIM-signed", ds)] / rate[("fml", ds)], 1000 * cpu_d))
    oc_line = ""
    oc = [k for k in ONE_CLICK if verp and (k, verp[0][1]) in rate]
    if len(oc) == len(ONE_CLICK):
        os_ = verp[0][1]
        r_both, r_rsa, r_none = (rate[(k, os_)] for k in ONE_CLICK)
        oc_line = (
            "- One-click unsubscribe (issue 15): the %d-member list again with "
            "ONE_CLICK_UNSUBSCRIBE = 1: each copy carries its member's own List-Unsubscribe "
            "and List-Unsubscribe-Post, so fmlqueue sends one transaction per recipient "
            "(VERP sender included) and, when the list signs, signs each copy (body hash once "
            "per article, header hash and signature per recipient): %.0f recipients/s signed "
            "with RSA (2048) and Ed25519, %.0f with RSA only, %.0f unsigned, against %.0f "
            "with one-click off and the item signed once: **one-click signed (RSA + Ed25519) "
            "/ off = %.3f**; an Ed25519 signature costs %.0f us and an RSA one %.0f us of "
            "wall time per recipient on the %d connections (1/rate differences)."
            % (os_, r_both, r_rsa, r_none, rate[("fml DKIM-signed", os_)],
               r_both / rate[("fml DKIM-signed", os_)], 1e6 * (1 / r_both - 1 / r_rsa),
               1e6 * (1 / r_rsa - 1 / r_none), D_CONN))
    md = "\n".join([
        "Command: `make bench` (this section alone: `BENCH_ONLY=delivery sh bench/run.sh`, "
        "which writes bench/work/run/delivery.md).  Sink: Postfix `smtp-sink -c -d "
        "/dev/shm/fml-bench.XXXXXX/%%H%%M%%S. -u nobody 127.0.0.1:%d 1000` (counters on "
        "stdout, every transaction dumped to tmpfs); after every run the dumps are read and "
        "the recipients compared with the list: each member exactly once, and the sink's "
        "message counter equal to the number of dumps, or the bench stops." % DSINK_PORT,
        "",
        "- fml: the post queued by `fml DIR` (DELIVERY_MODE = queue, outside the clock), "
        "then `/usr/bin/time -v fmlqueue run DIR` timed; config.cf: SMTP_SERVERS = "
        "smtp:127.0.0.1:PORT, SMTP_RECIPIENT_LIMIT = %d, SMTP_CONNECTIONS = %d (the "
        "defaults)." % (D_BATCH, D_CONN),
        "- mlmmj batched: `/usr/bin/time -v mlmmj-receive -F -L LIST/` as `nobody` "
        "(receive, process, send, archive; one process chain), control/verp present and "
        "empty, control/maxverprecips %d." % D_VERP_MAX,
        "- mlmmj default: the same without control/verp: one SMTP transaction per "
        "recipient; measured at %d members only (at 10,000 it takes about 7 minutes, see "
        "(a))." % D_DEFAULT_AT,
        "- smtp-source (upper reference, same batch size): `smtp-source -s %d -r %d -m "
        "N/%d -l %d -d -f SENDER -t member@example.org 127.0.0.1:PORT` (-s is min(4, "
        "N/1000): 1 session at 1,000; %d "
        "recipients per transaction, connection kept; no PIPELINING: smtp-source does not "
        "pipeline)." % (D_CONN, D_BATCH, D_BATCH, POST_SIZE, D_BATCH),
        "- wall = fork to the exit of the client (it exits after the sink's 250 to its last "
        "transaction); peak RSS = GNU time's \"Maximum resident set size\" (the largest of "
        "the process and of the children it waited for: fmlqueue's connection processes, "
        "mlmmj-send); CPU = user + system of all of them.  fml and smtp-source: %d runs per "
        "size, mlmmj batched %d (1 above 10,000), interleaved." % (D_RUNS, D_RUNS),
        verp_line,
        dkim_line,
        oc_line,
        "",
        table,
        "",
        "Ratios of recipients per second (> 1: fml is faster):",
        "",
        ratios,
        "",
        goal_table,
        "",
        "One `fmlqueue run` to %d members under `strace -c -f` (not timed; top 12 by "
        "time):" % psize,
        "",
        strace_table,
    ])
    return md, summary, table + "\n\n" + ratios + "\n\n" + goal_table



# ---------------------------------------------------------------- (f) scale

class SRun:
    __slots__ = ("wall", "rss", "cpu", "rc")


def scale(addrs_small_dir, sender, post, logf, tmp, nosend):
    """(f): a list of SCALE members made by one bulk import; posts to it beside
    posts to the (a) list; `makefml add` and the first post after it; mlmmj's
    chain without delivery on a list of the same SCALE subscribers."""
    S = {"n": SCALE}
    addrs = addresses(SCALE)
    ml_dir = os.path.join(WORK, "f-fml")
    say("(f) a %d-member list by bulk import (`makefml add %s -`)" % (SCALE, LIST))
    fdir, _ = fml_list(ml_dir, [], [("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue")])
    listing = os.path.join(tmp, "import.txt")
    write(listing, "".join(a + "\n" for a in addrs))
    kb, r, st = gnu_time([MAKEFML, "-D", ml_dir, "add", LIST, "-"], listing, False, sender,
                         logf, os.path.join(tmp, "time.import"))
    if st != 0 or r.rc != 0:
        die("(f) makefml add %s -: exit %d (see %s/programs.log)" % (LIST, st, WORK))
    os.unlink(listing)
    with open(os.path.join(fdir, "actives"), "rb") as f:
        got = sum(1 for line in f if line.strip() and not line.startswith(b"#"))
    if got != SCALE:
        die("(f) the bulk import left %d active members, want %d" % (got, SCALE))
    S["import"] = (r.ret, kb, r.cpu)
    # the other way: one `makefml add` per address, SINGLE of them, into a
    # list of its own (the issue's comparison)
    say("(f) %d x `makefml add LIST ADDR`, one address each, into an empty list" % SINGLE)
    sdir_parent = os.path.join(WORK, "f-fml-single")
    fml_list(sdir_parent, [], [("DELIVERY_MODE", "queue")])
    t0 = time.time()
    for a in addrs[:SINGLE]:
        p = subprocess.run([MAKEFML, "-D", sdir_parent, "add", LIST, a], capture_output=True)
        if p.returncode != 0:
            die("(f) makefml add %s %s: exit %d: %s" % (LIST, a, p.returncode, p.stderr))
    S["single"] = time.time() - t0
    qnew = os.path.join(fdir, "var", "queue", "new")
    qnew_small = os.path.join(addrs_small_dir, "var", "queue", "new")

    def one(d, qdir, want=None):
        before = set(os.listdir(qdir))
        r = spawn([FML, d], post(), False, sender, logf)
        new = set(os.listdir(qdir)) - before
        if r.rc != 0 or len(new) != 1:
            die("(f) fml %s: exit %d, %d queue items (see %s/log)" % (d, r.rc, len(new), d))
        if want is not None and item_rcpts(os.path.join(qdir, new.pop())) != want:
            die("(f) the queue item does not name all %d members" % want)
        clear_dir(qdir)
        return r

    say("(f) first post to the %d-member list, then %d warm posts each to it and to the "
        "(a) list, interleaved" % (SCALE, N_SCALE))
    S["first"] = [one(fdir, qnew, SCALE)]
    S["warm_big"], S["warm_small"] = [], []
    for _ in range(N_SCALE):
        S["warm_big"].append(one(fdir, qnew))
        S["warm_small"].append(one(addrs_small_dir, qnew_small))

    say("(f) %d x: `makefml add` of one address, the first post after it, a warm post" % N_ADD)
    S["add"], S["after_add"], S["warm_add"] = [], [], []
    for i in range(N_ADD):
        r = spawn([MAKEFML, "-D", ml_dir, "add", LIST, "new%d.bench@example.net" % i],
                  "/dev/null", False, sender, logf)
        if r.rc != 0:
            die("(f) makefml add: exit %d (see %s/programs.log)" % (r.rc, WORK))
        S["add"].append(r)
        S["after_add"].append(one(fdir, qnew, SCALE + i + 1))
        S["warm_add"].append(one(fdir, qnew))

    say("(f) mlmmj: %d subscribers (subscribers.d/ written directly: mlmmj has no bulk "
        "import), chain without delivery x %d" % (SCALE, N_SCALE))
    t0 = time.perf_counter()
    mdir = mlmmj_list(os.path.join(WORK, "f-mlmmj"), LIST, addrs, SINK_PORT, verp=True)
    S["m_make"] = time.perf_counter() - t0
    S["m_nosend"] = []
    for _ in range(N_SCALE):
        r = spawn([os.path.join(nosend, "mlmmj-receive"), "-F", "-L", mdir + "/"], post(),
                  True, sender, logf)
        q = [f for f in os.listdir(os.path.join(mdir, "queue")) if f != "discarded"]
        if r.rc != 0 or len(q) != 1:
            die("(f) mlmmj chain at %d: exit %d, %d queue files" % (SCALE, r.rc, len(q)))
        clear_dir(os.path.join(mdir, "queue"))
        S["m_nosend"].append(r)
    return S


def scale_report(S):
    def med(key, field="ret"):
        return median([getattr(r, field) for r in S[key]])

    n = S["n"]
    imp_wall, imp_kb, imp_cpu = S["import"]
    warm = med("warm_big")
    rows = [
        ("`makefml add LIST -` of %d addresses (bulk import, one lock, one index pass)" % n,
         1, imp_wall * 1000, imp_wall * 1000, imp_cpu * 1000,
         "peak RSS %.1f MB" % (imp_kb / 1024)),
        ("`makefml add LIST ADDR`, one address each, %d of them into an empty list (all)" %
         SINGLE, 1, S["single"] * 1000, S["single"] * 1000, 0,
         "%.0f addresses/s against the bulk import's %.0f" % (SINGLE / S["single"],
                                                              n / imp_wall)),
        ("fml: first post after the import", 1, med("first") * 1000, med("first") * 1000,
         med("first", "cpu") * 1000, "queue item checked: names all %d" % n),
    ]

    def row(key, label, what=""):
        v = [r.ret * 1000 for r in S[key]]
        rows.append((label, len(v), median(v), p90(v), med(key, "cpu") * 1000, what))

    row("warm_big", "fml: warm post, %d members" % n)
    row("warm_small", "fml: warm post, %d members (the (a) list), interleaved" % MEMBERS)
    row("add", "`makefml add LIST ADDR` on the %d list" % n, "one address, under the list lock")
    row("after_add", "fml: first post after that `makefml add`", "queue item checked")
    row("warm_add", "fml: the post after that one", "a second post after the add")
    row("m_nosend", "mlmmj chain without delivery, %d subscribers" % n,
        "subonlypost scans subscribers.d/; subscribers.d/ written directly in %.1f s" %
        S["m_make"])
    lines = ["| run | n | median ms | p90 ms | CPU ms (median) | note |",
             "|---|---:|---:|---:|---:|---|"]
    for label, k, m, q, cpu, what in rows:
        lines.append("| %s | %d | %s | %s | %s | %s |" % (label, k, ms(m / 1000), ms(q / 1000),
                                                         ms(cpu / 1000), what))
    table = "\n".join(lines)
    ratios = {
        "big_small": warm / med("warm_small"),
        "after_add": med("after_add") / warm,
        "add": med("add") / warm,
        "m_big": warm / med("m_nosend"),
        "import": imp_wall,
    }
    return table, ratios


def issue_goals(R, tput, S, D):
    """The targets of issue 11, each with the figure measured in this run."""
    out = []

    def goal(what, value, fmt, ok):
        out.append("| %s | %s | **%s** |" % (what, fmt % value, "met" if ok else "NOT met"))

    fml_med = median([r.ret for r in R["fml"]])
    m_med = median([r.ret for r in R["m_nosend"]])
    goal("4 KB post, %d members: fml / mlmmj chain (median of %d interleaved) <= 0.8" %
         (MEMBERS, N), fml_med / m_med, "%.2f", fml_med / m_med <= 0.8)
    if tput:
        a = tput["fml"][0] / tput["m_nosend"][0]
        goal("posts one after another: fml / mlmmj (posts/s) >= 1.25", a, "%.2f x", a >= 1.25)
    if "conc_fml" in tput:
        c = median(tput["conc_fml"]) / median(tput["conc_m"])
        goal("%d posts at once: fml / mlmmj (posts/s, median of %d) >= 1.25" %
             (CONC, len(tput["conc_fml"])), c, "%.2f x", c >= 1.25)
    if S:
        t, r = scale_report(S)
        goal("warm post at %d / at %d members <= 1.5" % (S["n"], MEMBERS), r["big_small"],
             "%.2f", r["big_small"] <= 1.5)
        goal("first post after `makefml add` / warm post (at %d) <= 2" % S["n"],
             r["after_add"], "%.2f",
             r["after_add"] <= 2)
        goal("`makefml add` on the %d list <= 10 x a warm post" % S["n"], r["add"], "%.2f x",
             r["add"] <= 10)
        goal("bulk import of %d addresses: seconds" % S["n"], r["import"], "%.1f s",
             r["import"] < 60)
    big = max(DELIVERY) if DELIVERY else 0
    if D and ("fml", big) in D and ("mlmmj batched", big) in D:
        rss = max(d.rss for d in D[("fml", big)]) / 1024
        goal("fmlqueue, one post to %d: peak RSS <= 32 MB" % big, rss, "%.1f MB", rss <= 32)
        rate = {k: median([d.rcpts / d.wall for d in D[(k, big)]])
                for k in ("fml", "mlmmj batched")}
        x = rate["fml"] / rate["mlmmj batched"]
        goal("fmlqueue to %d: >= 15 x mlmmj with the same recipients per transaction (%d)" %
             (big, d_verp_max(big)), x, "%.1f x", x >= 15)
    return "\n".join(["| goal (issue 11) | measured | |", "|---|---:|---|"] + out)


# ---------------------------------------------------------------- (e) digests

def digest_article(n, sender):
    """Article N as both keep it (fml's spool/N, mlmmj's archive/N): the
    headers a post has after the list handled it, a text body; G_ART_SIZE bytes."""
    date = "Sat, 01 Jun 2024 %02d:%02d:00 +0000" % (n // 60 % 24, n % 60)
    head = ("Return-Path: <%s>\nReceived: from mx.example.net (mx.example.net "
            "[192.0.2.7])\n\tby mail.example.org (Postfix) with ESMTPS id 4Vd%06d\n"
            "\tfor <%s>; %s\nDate: %s\nFrom: Bench Poster <%s>\nTo: %s\n"
            "Subject: [bench:%d] digest article %d\nMessage-ID: <d%06d.bench@example.net>\n"
            "X-ML-Name: bench\nX-Mail-Count: %d\nList-Id: bench.example.org\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
            "Content-Transfer-Encoding: 7bit\n\nArticle %d of the digest benchmark.\n" %
            (sender, n, LISTADDR, date, date, sender, LISTADDR, n, n, n, n, n)).encode()
    line = (b"The quick brown fox jumps over the lazy dog; pack my box with five dozen"
            b" jugs.\n")
    body = (line * (G_ART_SIZE // len(line) + 1))[:G_ART_SIZE - len(head)]
    return head + body[:-1] + b"\n"


def header_rcpts(path, key=b"X-Rcpt-Args: "):
    """Recipients named in the header of a sink dump (stops at the blank line)."""
    out = []
    with open(path, "rb") as fh:
        for line in fh:
            if line in (b"\n", b"\r\n"):
                break
            if line.startswith(key):
                out.append(line[len(key):].split()[0].strip(b"<>").lower().decode())
    return out


class GRun:
    __slots__ = ("wall", "rss", "cpu", "items", "bytes", "rcpts", "trans", "msgs")


def digests(addrs, sender, logf, tmp):
    """(e): G_MEMBERS members in digest mode, G_ARTICLES articles of 4 KB
    pending for each; fml's `fmldigest --force` (then `fmlqueue run` into the
    dump sink) beside mlmmj's `mlmmj-maintd -F -L` (one run: one digest of all
    articles, mailed to every digester, one SMTP transaction each)."""
    G = {}
    timef = os.path.join(tmp, "time.digest")
    addrs = addrs[:G_MEMBERS]
    arts = [digest_article(n, sender) for n in range(1, G_ARTICLES + 1)]

    say("(e) digests: fml list, %d members m=1 (mp), %d articles of %d bytes" %
        (G_MEMBERS, G_ARTICLES, G_ART_SIZE))
    fdir, _ = fml_list(os.path.join(WORK, "e-fml"), addrs, [
        ("SUBJECT_TAG_TYPE", "[:]"), ("DELIVERY_MODE", "queue"),
        ("SMTP_SERVERS", "smtp:127.0.0.1:%d" % DSINK_PORT),
        ("SMTP_RECIPIENT_LIMIT", str(D_BATCH)), ("SMTP_CONNECTIONS", str(D_CONN))])
    write(os.path.join(fdir, "actives"), "".join("%s m=1\n" % a for a in addrs), 0o600)
    past = time.time() - 60
    os.utime(os.path.join(fdir, "actives"), (past, past))
    spool = os.path.join(fdir, "spool")
    for n, a in enumerate(arts, 1):
        write(os.path.join(spool, str(n)), a)
    write(os.path.join(fdir, "seq"), "%d\n" % G_ARTICLES)
    chown_tree(fdir)
    state = os.path.join(fdir, "var", "db", "digest")
    qnew = os.path.join(fdir, "var", "queue", "new")
    qsent = os.path.join(fdir, "var", "queue", "sent")

    def fml_reset():
        write(state, "".join("%s 0\n" % a for a in addrs), 0o600)
        os.chown(state, PW.pw_uid, PW.pw_gid)
        if os.listdir(qnew):
            die("(e) fml: queue/new not empty before a run")

    def fml_digest():
        fml_reset()
        kb, r, st = gnu_time([FMLDIGEST, "--force", fdir], "/dev/null", False, sender, logf,
                             timef)
        if st != 0 or r.rc != 0:
            die("(e) fmldigest: exit %d (see %s/programs.log, %s/log)" % (st, WORK, fdir))
        items = sorted(os.listdir(qnew))
        if not items:
            die("(e) fmldigest made no queue item (see %s/log)" % fdir)
        nbytes = 0
        per = {}
        for it in items:
            p = os.path.join(qnew, it)
            nbytes += os.path.getsize(p)
            with open(p, "rb") as fh:
                for line in fh:
                    if line.startswith(b"rcpt "):
                        a = line.split()[2].decode().lower()
                        per[a] = per.get(a, 0) + 1
                    elif line in (b"\n", b"From: %s\n" % LISTADDR.encode()):
                        break
        want = {a.lower() for a in addrs}
        if set(per) != want or set(per.values()) != {len(items)}:
            die("(e) fmldigest: %d queue items name %d distinct recipients (want %d, each "
                "in every item)" % (len(items), len(per), len(want)))
        done = {}  # "ADDR LAST" lines (the file also keeps the run's "item"/"to" lines)
        for ln in open(state):
            x = ln.split()
            if len(x) == 2 and "@" in x[0] and x[0] != "to" and x[1].isdigit():
                done[x[0].lower()] = int(x[1])
        if set(done) != want or set(done.values()) != {G_ARTICLES}:
            die("(e) fmldigest: var/db/digest not advanced to %d for everyone" % G_ARTICLES)
        g = GRun()
        g.wall, g.rss, g.cpu, g.items, g.bytes = r.done, kb, r.cpu, len(items), nbytes
        g.rcpts = sum(per.values())
        g.trans = g.msgs = 0
        G.setdefault("fmldigest", []).append(g)
        return items

    def fml_deliver(items):
        c0 = sink_count(DSINK_LOG)
        kb, r, st = gnu_time([FMLQUEUE, "run", fdir], "/dev/null", False, sender, logf, timef)
        if st != 0 or r.rc != 0:
            die("(e) fmlqueue run: exit %d (see %s/log)" % (st, fdir))
        want_total = len(items) * len(addrs)
        end = time.time() + 30
        while True:
            files = sorted(os.listdir(DUMP_DIR))
            got = {}
            for f in files:
                for a in header_rcpts(os.path.join(DUMP_DIR, f)):
                    got[a] = got.get(a, 0) + 1
            mesg = sink_count(DSINK_LOG) - c0
            if (mesg == len(files) and sum(got.values()) >= want_total) or time.time() > end:
                break
            time.sleep(0.05)
        for f in files:
            os.unlink(os.path.join(DUMP_DIR, f))
        want = {a.lower(): len(items) for a in addrs}
        if got != want or mesg != len(files):
            die("(e) fmlqueue: the sink got %d recipients in %d transactions (counter %d), "
                "want each of %d members %d times" % (sum(got.values()), len(files), mesg,
                                                     len(addrs), len(items)))
        if not set(items) <= set(os.listdir(qsent)):
            die("(e) fmlqueue: not every digest item is in var/queue/sent")
        g = GRun()
        g.wall, g.rss, g.cpu, g.items, g.bytes = r.done, kb, r.cpu, len(items), 0
        g.rcpts, g.trans, g.msgs = sum(got.values()), len(files), len(items)
        G.setdefault("fmlqueue", []).append(g)

    # mlmmj: digesters.d/ (by first letter, as mlmmj-sub writes it), archive/N
    # and index (the last archive number, as mlmmj-send keeps it)
    def m_list(name, digesters, port):
        d = mlmmj_list(os.path.join(WORK, "e-mlmmj"), name, [], port, verp=None)
        by_letter = {}
        for a in digesters:
            by_letter.setdefault(a[0], []).append(a)
        for c, v in by_letter.items():
            write(os.path.join(d, "digesters.d", c), "".join(x + "\n" for x in v))
        for n, a in enumerate(arts, 1):
            write(os.path.join(d, "archive", str(n)), a)
        write(os.path.join(d, "index"), "%d\n" % G_ARTICLES)
        # one maintenance run sends at most digestmaxmails articles (default 50,
        # and one digest per run): all of them in one digest
        write(os.path.join(d, "control", "digestmaxmails"), "%d\n" % G_ARTICLES)
        chown_tree(d)
        return d

    say("(e) mlmmj lists: 1 digester (into the dump sink, content checked) and %d "
        "digesters (counting sink)" % G_SAMPLE)
    m_one = m_list("digest1", addrs[:1], DSINK_PORT)
    m_many = m_list("digestn", addrs[:G_SAMPLE], SINK_PORT)

    def mlmmj_digest(key, d, n):
        ld = os.path.join(d, "lastdigest")
        if os.path.exists(ld):
            os.unlink(ld)
        log = os.path.join(DSINK_LOG if n == 1 else SINK_LOG)
        c0 = sink_count(log)
        kb, r, st = gnu_time([os.path.join(MLMMJ_BIN, "mlmmj-maintd"), "-F", "-L", d],
                             "/dev/null", True, sender, logf, timef)
        if st != 0 or r.rc != 0:
            die("(e) mlmmj-maintd: exit %d" % st)
        end = time.time() + 10
        while sink_count(log) - c0 < n and time.time() < end:
            time.sleep(0.02)
        mesg = sink_count(log) - c0
        last = open(ld).read().split(":") if os.path.exists(ld) else ["?"]
        if mesg != n or last[0] != str(G_ARTICLES):
            die("(e) mlmmj-maintd, %d digesters: the sink got %d messages, lastdigest %s "
                "(want %d messages, %d)" % (n, mesg, ":".join(last).strip(), n, G_ARTICLES))
        q = [f for f in os.listdir(os.path.join(d, "queue")) if f != "discarded"]
        if q:
            die("(e) mlmmj-maintd left %s in queue/" % q)
        nbytes = 0
        if n == 1:  # the dumped digest: one recipient, every article in it
            files = sorted(os.listdir(DUMP_DIR))
            if len(files) != 1:
                die("(e) mlmmj digest: %d dumps, want 1" % len(files))
            p = os.path.join(DUMP_DIR, files[0])
            data = open(p, "rb").read()
            nbytes = len(data)
            parts = data.count(b"\nContent-Type: message/rfc822")
            rc = header_rcpts(p)
            os.unlink(p)
            if parts != G_ARTICLES or rc != [addrs[0].lower()]:
                die("(e) mlmmj digest: %d message/rfc822 parts to %s, want %d to %s" %
                    (parts, rc, G_ARTICLES, addrs[0]))
        g = GRun()
        g.wall, g.rss, g.cpu, g.items, g.bytes = r.done, kb, r.cpu, 1, nbytes
        g.rcpts = g.trans = g.msgs = n
        G.setdefault(key, []).append(g)

    say("(e) %d runs each, interleaved: fmldigest, fmlqueue run, mlmmj-maintd (1 "
        "digester); then mlmmj-maintd with %d digesters once" % (G_RUNS, G_SAMPLE))
    for i in range(G_RUNS):
        fml_deliver(fml_digest())
        mlmmj_digest("mlmmj 1", m_one, 1)
    mlmmj_digest("mlmmj sample", m_many, G_SAMPLE)
    G["part_sizes"] = sorted(os.path.getsize(os.path.join(qsent, f))
                             for f in os.listdir(qsent))[-1:]
    return G


def digest_raw(G):
    return {k: [{"wall": g.wall, "rss_kb": g.rss, "cpu": g.cpu, "items": g.items,
                 "bytes": g.bytes, "recipients": g.rcpts, "transactions": g.trans}
                for g in v] for k, v in G.items() if k != "part_sizes"}


def digest_report(G):
    """(e) as markdown, and a sentence for the summary."""
    def med(key, field):
        return median([getattr(g, field) for g in G[key]])

    fd, fq = G["fmldigest"], G["fmlqueue"]
    m1, ms_ = G["mlmmj 1"], G["mlmmj sample"]
    items = fd[0].items
    m1w = med("mlmmj 1", "wall")
    per_rcpt = (med("mlmmj sample", "wall") - m1w) / max(1, G_SAMPLE - 1)
    m_est = m1w + per_rcpt * (G_MEMBERS - 1)
    f_total = med("fmldigest", "wall") + med("fmlqueue", "wall")
    m_rss = max(g.rss for g in m1 + ms_)
    f_rss = max(g.rss for g in fd)
    fq_rss = max(g.rss for g in fq)
    mbytes = m1[0].bytes
    lines = []
    P = lines.append
    P("| step | runs | wall s (median) | min s | peak RSS MB | CPU s (median) | digest mails "
      "| recipients | SMTP transactions | bytes |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    P("| fml: `fmldigest --force` (queue the digests) | %d | %.3f | %.3f | %.1f | %.3f | %d "
      "queue items | %d (%d x %d) | | %.1f MB in queue/new |" %
      (len(fd), med("fmldigest", "wall"), min(g.wall for g in fd), f_rss / 1024,
       med("fmldigest", "cpu"), items, fd[0].rcpts, G_MEMBERS, items, fd[0].bytes / 1e6))
    P("| fml: `fmlqueue run` (deliver them to the sink) | %d | %.3f | %.3f | %.1f | %.3f | "
      "%d | %d | %d | |" %
      (len(fq), med("fmlqueue", "wall"), min(g.wall for g in fq), fq_rss / 1024,
       med("fmlqueue", "cpu"), fq[0].msgs, fq[0].rcpts, fq[0].trans))
    P("| fml: both | | %.3f | | %.1f | | | | | |" % (f_total, max(f_rss, fq_rss) / 1024))
    P("| mlmmj: `mlmmj-maintd -F -L`, 1 digester | %d | %.3f | %.3f | %.1f | %.3f | 1 | 1 | 1 "
      "| %.1f MB as dumped |" % (len(m1), m1w, min(g.wall for g in m1),
                                 max(g.rss for g in m1) / 1024, med("mlmmj 1", "cpu"),
                                 mbytes / 1e6))
    P("| mlmmj: `mlmmj-maintd -F -L`, %d digesters | %d | %.3f | %.3f | %.1f | %.3f | %d | %d "
      "| %d | |" % (G_SAMPLE, len(ms_), med("mlmmj sample", "wall"),
                    min(g.wall for g in ms_), max(g.rss for g in ms_) / 1024,
                    med("mlmmj sample", "cpu"), G_SAMPLE, G_SAMPLE, G_SAMPLE))
    P("| mlmmj: the same, %d digesters (*extrapolated*: 1-digester time + %d x %.1f ms) | "
      "| %.0f | | | | %d | %d | %d | |" %
      (G_MEMBERS, G_MEMBERS - 1, per_rcpt * 1000, m_est, G_MEMBERS, G_MEMBERS, G_MEMBERS))
    table = "\n".join(lines)

    r_gen = m1w / med("fmldigest", "wall")
    r_all = m_est / f_total
    lines = ["| ratio (> 1: fml is faster / smaller) | value |", "|---|---:|"]
    lines.append("| time to all %d members served: mlmmj (extrapolated) / fml (fmldigest + "
                 "fmlqueue) | %.0f |" % (G_MEMBERS, r_all))
    lines.append("| making the digest: mlmmj with 1 digester (build + one send) / fmldigest "
                 "for %d members | %.2f |" % (G_MEMBERS, r_gen))
    lines.append("| peak RSS: mlmmj-maintd (largest run) / fmldigest | %.2f |" %
                 (m_rss / f_rss))
    lines.append("| peak RSS: mlmmj-maintd (largest run) / fmlqueue run | %.2f |" %
                 (m_rss / fq_rss))
    ratios = "\n".join(lines)

    summary = ("  Digests (%d members, %d articles of 4 KB pending): `fmldigest` queues "
               "them in %.2f s at %.1f MB peak RSS (%d queue item%s of up to ~1 MB, each to all "
               "%d), `fmlqueue run` delivers them in %.2f s; mlmmj-maintd needs %.2f s for "
               "one digester and about %.0f s for %d (extrapolated from %d), one %.1f MB "
               "mail per digester, at %.1f MB: **mlmmj/fml (time to all delivered) = %.0f**." %
               (G_MEMBERS, G_ARTICLES, med("fmldigest", "wall"), f_rss / 1024, items,
                "" if items == 1 else "s", G_MEMBERS, med("fmlqueue", "wall"), m1w, m_est, G_MEMBERS, G_SAMPLE,
                mbytes / 1e6, m_rss / 1024, r_all))
    md = "\n".join([
        "Command: `make bench` (this section alone: `BENCH_ONLY=digest sh bench/run.sh`, "
        "which writes bench/work/run/digest.md).  %d members, all `m=1` (fml's default "
        "mode, mp: multipart/digest, like mlmmj's), %d articles of %d bytes (same bytes in "
        "fml's spool/N and mlmmj's archive/N), every member owed all of them." %
        (G_MEMBERS, G_ARTICLES, G_ART_SIZE),
        "",
        "- fml: spool/1..%d and seq written directly, var/db/digest = \"ADDR 0\" for every "
        "member before each run (outside the clock); `/usr/bin/time -v fmldigest --force "
        "DIR` timed, then its queue items counted and read (every member in every item, "
        "state advanced to %d), then `/usr/bin/time -v fmlqueue run DIR` into the dump sink "
        "(`smtp-sink -c -d`, tmpfs; every member must get every part exactly once).  "
        "DIGEST_SIZE_LIMIT = 1M (default) splits the digest into parts, one queue item "
        "each; SMTP_RECIPIENT_LIMIT = %d, SMTP_CONNECTIONS = %d." %
        (G_ARTICLES, G_ARTICLES, D_BATCH, D_CONN),
        "- mlmmj: the same addresses in digesters.d/, archive/1..%d and index = %d, "
        "control/digestmaxmails = %d (a maintenance run sends at most one digest of at most "
        "digestmaxmails articles; the default 50 would need %d runs); lastdigest removed "
        "before each run.  `/usr/bin/time -v mlmmj-maintd -F -L LIST` as `nobody`: one "
        "digest, mailed by mlmmj-send to each digester in a transaction of its own (VERP "
        "envelope per digester; control/verp does not batch digests).  With 1 digester into "
        "the dump sink (checked: %d message/rfc822 parts, the right recipient), and once "
        "with %d digesters into the counting sink (message count checked); %d digesters "
        "would take over %.0f minutes, so that figure is *extrapolated* from the two." %
        (G_ARTICLES, G_ARTICLES, G_ARTICLES, math.ceil(G_ARTICLES / 50), G_ARTICLES,
         G_SAMPLE, G_MEMBERS, m_est / 60),
        "- wall = fork to exit of the program (mlmmj-maintd waits for mlmmj-send; the "
        "harness also reaps anything left behind); peak RSS = GNU time's \"Maximum resident "
        "set size\" (largest of the process and the children it waited for); CPU = user + "
        "system of all of them.",
        "",
        table,
        "",
        ratios,
        "",
        "Not the same work: fml sends %d mails of ~1 MB, each to all %d members in "
        "transactions of %d recipients (%d SMTP transactions); mlmmj sends one %.1f MB mail "
        "per digester (%d transactions, %.0f GB in all for %d).  mlmmj's digest has a "
        "thread summary (text/plain) and the articles as message/rfc822 parts; fml's mp "
        "digest a table of contents and the same parts, split at 1 MB." %
        (items, G_MEMBERS, D_BATCH, fq[0].trans, mbytes / 1e6, G_MEMBERS,
         mbytes * G_MEMBERS / 1e9, G_MEMBERS),
    ])
    return md, summary, table + "\n\n" + ratios


# ---------------------------------------------------------------- statistics

def median(v):
    s = sorted(v)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def p90(v):
    s = sorted(v)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def ms(x):
    return "%.1f" % (x * 1000) if x < 10 else "%.0f" % (x * 1000)


# ---------------------------------------------------------------- the bench

def main():
    if os.geteuid() != 0:
        die("run as root (fml drops to the list owner; mlmmj is run as the owner)")
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    t_start = time.time()
    global LOAD0
    LOAD0 = open("/proc/loadavg").read().split()[:3]
    tmp = os.path.join(WORK, "tmp")
    os.makedirs(tmp)
    os.chmod(tmp, 0o1777)
    logf = os.open(os.path.join(WORK, "programs.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                   0o666)
    os.chmod(os.path.join(WORK, "programs.log"), 0o666)

    addrs = addresses(MEMBERS)
    sender = addrs[1]  # a member posts (both lists check membership)
    say("lists: %d members, 4 KB posts from %s" % (MEMBERS, sender))

    fml_ml = os.path.join(WORK, "fml")
    fdir, fml_how = fml_list(fml_ml, addrs, [("INCOMING_MAIL_SIZE_LIMIT", "200M"),
                                             ("SUBJECT_TAG_TYPE", "[:]"),
                                             ("DELIVERY_MODE", "queue")])
    mlmmj_spool = os.path.join(WORK, "mlmmj")
    mdir = mlmmj_list(mlmmj_spool, LIST, addrs, SINK_PORT, verp=True)
    sdir = mlmmj_list(mlmmj_spool, "sample", addrs[:SAMPLE], SINK_PORT, verp=False)
    # mlmmj's own chain with mlmmj-send replaced by /bin/true: receive -> process -> stop
    nosend = os.path.join(WORK, "mlmmj-nosend")
    os.makedirs(nosend)
    for b in ("mlmmj-receive", "mlmmj-process"):
        os.symlink(os.path.join(MLMMJ_BIN, b), os.path.join(nosend, b))
    os.symlink("/bin/true", os.path.join(nosend, "mlmmj-send"))

    posts = os.path.join(WORK, "posts")
    os.makedirs(posts)
    seq = [0]

    def post(size=POST_SIZE):
        seq[0] += 1
        p = os.path.join(posts, "p%06d" % seq[0])
        make_post(p, "%06d.%d" % (seq[0], os.getpid()), sender, size)
        return p

    fqueue_new = os.path.join(fdir, "var", "queue", "new")
    mqueue = os.path.join(mdir, "queue")
    R = {}  # results: key -> list of Run

    D = None  # (d) delivery
    if DELIVERY and not (DSINK_PORT and os.path.exists(FMLQUEUE)):
        die("(d) needs fml/fmlqueue and the delivery sink (run bench/run.sh)")
    if ONLY == "delivery":
        D = delivery(addresses(max(DELIVERY + [D_DEFAULT_AT])), sender, post, logf, tmp)
        md, summary, tables = delivery_report(D)
        with open(os.path.join(WORK, "delivery.md"), "w") as f:
            f.write("## (d) Delivery\n\n" + md + "\n")
        with open(os.path.join(WORK, "raw-delivery.json"), "w") as f:
            json.dump({"%s %d" % k: [{"wall": d.wall, "rss_kb": d.rss, "cpu": d.cpu,
                                      "transactions": d.trans} for d in v]
                       for k, v in D.items() if k != "strace"}, f, indent=1)
        print()
        print(tables)
        print(summary)
        say("wrote %s/delivery.md (%.0f s)" % (WORK, time.time() - t_start))
        return

    if ONLY == "archive":
        H = archive_cost(sender, logf)
        md = archive_report(H)
        with open(os.path.join(WORK, "archive.md"), "w") as f:
            f.write(md)
        print(md)
        say("wrote %s/archive.md (%.0f s)" % (WORK, time.time() - t_start))
        return

    if ONLY == "digest" or (DIGEST and not ONLY):
        if not (DSINK_PORT and os.path.exists(FMLDIGEST) and os.path.exists(FMLQUEUE)):
            die("(e) needs fml/fmldigest, fml/fmlqueue and the delivery sink (run bench/run.sh)")
    if ONLY == "digest":
        G = digests(addresses(max(G_MEMBERS, G_SAMPLE)), sender, logf, tmp)
        md, summary, tables = digest_report(G)
        env = " ".join("%s=%s" % (k, os.environ[k]) for k in sorted(os.environ)
                       if k.startswith("BENCH_"))
        head = "\n".join([
            "- date: %s; command: `%s sh bench/run.sh` (as root), %.0f s in all" %
            (datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z"), env,
             time.time() - t_start),
            "- machine: %s CPUs (`nproc`), %s, %s MB RAM, kernel %s; load average %s at the "
            "start, %s at the end (shared machine)" %
            (sh("nproc"), sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
             sh("awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo"), platform.release(),
             " ".join(LOAD0), " ".join(open("/proc/loadavg").read().split()[:3])),
            "- fml: fmldigest sha256 %s...; mlmmj: Debian %s; sink: Postfix %s smtp-sink" %
            (sh("sha256sum %s | cut -c1-12" % FMLDIGEST),
             sh("dpkg-query -W -f='${Version}' mlmmj"),
             sh("postconf -d -h mail_version 2>/dev/null")),
        ])
        with open(os.path.join(WORK, "digest.md"), "w") as f:
            f.write("## (e) Digests\n\n" + head + "\n\n" + md + "\n")
        with open(os.path.join(WORK, "raw-digest.json"), "w") as f:
            json.dump(digest_raw(G), f, indent=1)
        print()
        print(tables)
        print(summary)
        say("wrote %s/digest.md (%.0f s)" % (WORK, time.time() - t_start))
        return

    def fml_once(check_rcpts=False):
        before = set(os.listdir(fqueue_new))
        r = spawn([FML, fdir], post(), False, sender, logf)
        if r.rc != 0:
            die("fml exited %d (see %s/programs.log, %s/log)" % (r.rc, WORK, fdir))
        if r.stragglers:  # DELIVERY_MODE = queue: fml must not leave work behind
            die("fml left %d process(es) running after its exit" % r.stragglers)
        new = set(os.listdir(fqueue_new)) - before
        if len(new) != 1:
            die("fml made %d queue items, want 1 (see %s/log)" % (len(new), fdir))
        if check_rcpts:
            n = item_rcpts(os.path.join(fqueue_new, new.pop()))
            if n != MEMBERS:
                die("fml queue item has %d recipients, want %d" % (n, MEMBERS))
        clear_dir(fqueue_new)  # the runner would take it away (delivery: see (d))
        return r

    def bin_of(chain):
        return os.path.join(nosend if chain == "nosend" else MLMMJ_BIN, "mlmmj-receive")

    def mlmmj_once(d, chain, fork, want_mesg):
        argv = [bin_of(chain), "-L", d + "/"] + ([] if fork else ["-F"])
        c0 = sink_count()
        arch0 = len(os.listdir(os.path.join(d, "archive")))
        r = spawn(argv, post(), True, sender, logf)
        if r.rc != 0:
            die("%s exited %d (see %s/programs.log)" % (argv[0], r.rc, WORK))
        if chain == "nosend":
            q = [f for f in os.listdir(os.path.join(d, "queue")) if f != "discarded"]
            if len(q) != 1:
                die("mlmmj-process left %d queue files, want 1" % len(q))
            clear_dir(os.path.join(d, "queue"))
        else:
            if not sink_wait(c0 + want_mesg):
                die("the sink got %d messages, want %d" % (sink_count() - c0, want_mesg))
            if len(os.listdir(os.path.join(d, "archive"))) != arch0 + 1:
                die("mlmmj did not archive the post (not delivered?)")
        if os.listdir(os.path.join(d, "queue", "discarded")):
            die("mlmmj discarded the post: see %s/queue/discarded" % d)
        return r

    groups = math.ceil(MEMBERS / GROUP)

    # ---- (a) time, 4 KB post, 10,000 members
    say("(a) fml: first post, then %d cold-index runs" % N_COLD)
    fml_once(check_rcpts=True)  # first post ever: also checks the queue item's recipients
    cold = []
    mpath = os.path.join(fdir, "members")
    for i in range(N_COLD):
        data = open(mpath, "rb").read()  # "members changed": rewritten as makefml does
        tmpm = mpath + ".new"
        write(tmpm, data)
        past = time.time() - 5
        os.utime(tmpm, (past, past))
        os.chown(tmpm, PW.pw_uid, PW.pw_gid)
        os.rename(tmpm, mpath)
        dbp = os.path.join(fdir, "var", "db", "members.db")
        m0 = os.stat(dbp).st_mtime_ns if os.path.exists(dbp) else 0
        cold.append(fml_once())
        if os.stat(dbp).st_mtime_ns == m0:
            die("members.db was not rebuilt after members changed")
    R["fml_cold"] = cold

    # fml and mlmmj's like-for-like chain in turn, so both see the same disk
    say("(a) fml and mlmmj without delivery, interleaved: %d runs each" % N)
    mlmmj_once(mdir, "nosend", False, 0)  # warm-up: page cache, as fml's first post
    os.sync()
    R["fml"], R["m_nosend"], R["m_nosend_fork"], R["true"] = [], [], [], []
    for _ in range(N):
        R["true"].append(spawn(["/bin/true"], post(), False, sender, logf))
        R["fml"].append(fml_once())
        R["m_nosend"].append(mlmmj_once(mdir, "nosend", False, 0))
        R["m_nosend_fork"].append(mlmmj_once(mdir, "nosend", True, 0))

    say("(a) mlmmj delivering to the sink, %d recipients per transaction: 2 x %d runs" %
        (GROUP, N_DELIVER))
    R["m_fork"], R["m_F"] = [], []
    for _ in range(N_DELIVER):
        R["m_fork"].append(mlmmj_once(mdir, "real", True, groups))
        R["m_F"].append(mlmmj_once(mdir, "real", False, groups))

    say("(a) mlmmj default (one SMTP transaction per recipient): %d-subscriber list" % SAMPLE)
    R["m_sample"] = [mlmmj_once(sdir, "real", False, SAMPLE) for _ in range(2)]
    if FULL:
        full = mlmmj_list(mlmmj_spool, "full", addrs, SINK_PORT, verp=False)
        say("(a) BENCH_FULL=1: mlmmj default mode, all %d subscribers (minutes)" % MEMBERS)
        R["m_full"] = [mlmmj_once(full, "real", False, MEMBERS)]


    # ---- (b) peak RSS, 100 MB post
    say("(b) peak RSS, 100 MB post: %d runs each" % N_BIG)
    one = mlmmj_list(mlmmj_spool, "one", addrs[1:2], SINK_PORT, verp=False)
    rss = {"fml": [], "m_nosend": [], "m_one": [], "m_P": []}
    wall = {k: [] for k in rss}
    big_posts = []
    for i in range(N_BIG):
        bp = post(BIG_SIZE)
        big_posts.append(bp)
        out = os.path.join(tmp, "time.%d" % i)
        kb, r, st = gnu_time([FML, fdir], bp, False, sender, logf, out)
        if st != 0 or r.rc != 0:
            die("fml, 100 MB post: exit %d" % st)
        clear_dir(fqueue_new)
        rss["fml"].append(kb)
        wall["fml"].append(r.ret)
        kb, r, st = gnu_time([bin_of("nosend"), "-F", "-L", mdir + "/"], bp, True, sender,
                             logf, out)
        if st != 0:
            die("mlmmj chain, 100 MB post: exit %d" % st)
        clear_dir(mqueue)
        rss["m_nosend"].append(kb)
        wall["m_nosend"].append(r.ret)
        c0 = sink_count()
        kb, r, st = gnu_time([bin_of("real"), "-F", "-L", one + "/"], bp, True, sender, logf,
                             out)
        if st != 0 or not sink_wait(c0 + 1):
            die("mlmmj, 100 MB post to one subscriber: exit %d, not delivered" % st)
        rss["m_one"].append(kb)
        wall["m_one"].append(r.ret)
        kb, r, st = gnu_time([bin_of("real"), "-P", "-L", mdir + "/"], bp, True, sender, logf,
                             out)
        if st != 0:
            die("mlmmj-receive -P, 100 MB post: exit %d" % st)
        clear_dir(os.path.join(mdir, "incoming"))
        rss["m_P"].append(kb)
        wall["m_P"].append(r.ret)
        os.unlink(bp)
    # the 4 KB post, for scale (GNU time too: wait4's ru_maxrss of a child forked
    # from this Python process keeps Python's own pre-exec RSS)
    rss4 = {}
    out = os.path.join(tmp, "time.small.fml")
    rss4["fml"], r, st = gnu_time([FML, fdir], post(), False, sender, logf, out)
    clear_dir(fqueue_new)
    out = os.path.join(tmp, "time.small.nosend")
    rss4["m_nosend"], r, st = gnu_time([bin_of("nosend"), "-F", "-L", mdir + "/"], post(),
                                       True, sender, logf, out)
    clear_dir(mqueue)
    out = os.path.join(tmp, "time.small.real")
    c0 = sink_count()
    rss4["m_F"], r, st = gnu_time([bin_of("real"), "-F", "-L", mdir + "/"], post(), True,
                                  sender, logf, out)
    if not sink_wait(c0 + groups):
        die("mlmmj -F under GNU time: not delivered")

    # ---- (c) throughput
    tput = {}
    if TPUT:
        say("(c) throughput: %d posts one after another into each" % TPUT)
        for key in ("fml", "m_nosend"):
            files = [post() for _ in range(TPUT)]
            busy = cpu = 0.0
            t0 = time.perf_counter()
            for i, p in enumerate(files):
                if key == "fml":
                    r = spawn([FML, fdir], p, False, sender, logf)
                else:
                    r = spawn([bin_of("nosend"), "-F", "-L", mdir + "/"], p, True, sender, logf)
                if r.rc != 0:
                    die("%s: exit %d during the throughput run" % (key, r.rc))
                busy += r.done
                cpu += r.cpu
                if i % 100 == 99:  # the queue runner's part, outside the clock
                    clear_dir(fqueue_new)
                    clear_dir(mqueue)
            total = time.perf_counter() - t0
            clear_dir(fqueue_new)
            clear_dir(mqueue)
            tput[key] = (TPUT / busy, total, cpu / TPUT)
            for p in files:
                os.unlink(p)

    if CONC and CONC_ROUNDS:
        say("(c) %d posts at once into each, %d rounds, interleaved" % (CONC, CONC_ROUNDS))
        tput["conc_fml"], tput["conc_m"] = [], []
        for _ in range(CONC_ROUNDS):
            for key in ("conc_fml", "conc_m"):
                files = [post() for _ in range(CONC)]
                if key == "conc_fml":
                    w, rcs = spawn_many([FML, fdir], files, False, sender, logf)
                    got = len(os.listdir(fqueue_new))
                else:
                    w, rcs = spawn_many([bin_of("nosend"), "-F", "-L", mdir + "/"], files,
                                        True, sender, logf)
                    got = len([f for f in os.listdir(mqueue) if f != "discarded"])
                if any(rcs) or got != CONC:
                    die("%s: exits %s, %d queued of %d posts at once" %
                        (key, sorted(set(rcs)), got, CONC))
                tput[key].append(CONC / w)
                clear_dir(fqueue_new)
                clear_dir(mqueue)
                for p in files:
                    os.unlink(p)

    # ---- (g) content rules
    C = content_cost(addrs[:1000], sender, logf, tmp) if CONTENT_N else None

    # ---- (h) the HTML archive
    H = archive_cost(sender, logf) if ARCHIVE and os.path.exists(FMLPROC) else None

    # ---- (f) scale
    S = None
    if SCALE:
        S = scale(fdir, sender, post, logf, tmp, nosend)

    # ---- (d) delivery
    if DELIVERY:
        D = delivery(addresses(max(DELIVERY + [D_DEFAULT_AT, MEMBERS])), sender, post, logf,
                     tmp)

    # ---- (e) digests
    G = None
    if DIGEST:
        G = digests(addresses(max(G_MEMBERS, G_SAMPLE)), sender, logf, tmp)

    # ---- one fml run and one mlmmj run under strace -c and perf stat
    say("profile: strace -c -f and perf stat of one run each")
    prof = {}
    for key, argv, owner in (("fml", [FML, fdir], False),
                             ("mlmmj", [bin_of("nosend"), "-F", "-L", mdir + "/"], True)):
        out = os.path.join(tmp, "strace.%s" % key)
        spawn(["/usr/bin/strace", "-c", "-f", "-o", out] + argv, post(), owner, sender, logf)
        prof[key] = parse_strace(out)
        tout = os.path.join(tmp, "fsync.%s" % key)
        spawn(["/usr/bin/strace", "-f", "-T", "-e", "trace=fsync,fdatasync", "-o", tout] + argv,
              post(), owner, sender, logf)
        prof[key + "_fsync"] = [float(x) * 1000 for x in
                                re.findall(r"<([\d.]+)>", open(tout).read())]
        pout = os.path.join(tmp, "perf.%s" % key)
        if shutil.which("perf"):
            spawn([shutil.which("perf"), "stat", "-o", pout, "--"] + argv, post(), owner,
                  sender, logf)
            prof[key + "_perf"] = parse_perf(pout)
        clear_dir(fqueue_new)
        clear_dir(mqueue)

    with open(os.path.join(WORK, "raw.json"), "w") as f:  # every run, for a closer look
        raw = {k: [{"return": r.ret, "done": r.done, "rc": r.rc, "cpu": r.cpu} for r in v]
               for k, v in R.items()}
        if D:
            raw["delivery"] = {"%s %d" % k: [{"wall": d.wall, "rss_kb": d.rss, "cpu": d.cpu,
                                               "transactions": d.trans} for d in v]
                               for k, v in D.items() if k != "strace"}
        if G:
            raw["digest"] = digest_raw(G)
        json.dump(raw, f, indent=1)
    report(R, rss, wall, rss4, tput, prof, fml_how, fdir, groups, time.time() - t_start, D,
           G, S, C, H)


def parse_strace(path):
    calls = {}
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and not line.startswith("100.00"):
            name = f[-1]
            try:
                calls[name] = int(f[3])
            except ValueError:
                pass
    return calls


def parse_perf(path):
    out = {}
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = re.match(r"\s*([\d.,]+)\s+(msec task-clock|context-switches|cpu-migrations|"
                     r"page-faults)", line)
        if m:
            out[m.group(2)] = m.group(1)
        m = re.match(r"\s*([\d.]+) seconds (time elapsed|user|sys)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out


def say(msg):
    print("bench: " + msg, flush=True)


# ---------------------------------------------------------------- report

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


NOTES = """\
- **What fml's exit means.** `fml` returns 0 once the post is in var/incoming
  (written and renamed, not synced: the MTA still holds the mail) *and*
  processed under the list lock: spool/N written (temp, link; not synced) and
  its queue item in var/queue/new, a copy of spool/N naming the recipient
  snapshot of the actives (fsync, rename), then new/ fsynced: two flushes (the
  item stands for spool/N until the queue runner syncs it, and after a reboot
  spool/N is made right from it; the snapshot itself is written and synced
  once per change of the actives).  Delivery
  belongs to the queue runner (`fmlqueue run`; DELIVERY_MODE = queue here), so
  no row of (a)-(c) includes fml's delivery: that is (d).
- **What mlmmj's return means.** Without -F, mlmmj-receive returns as soon as the
  mail is in incoming/ (written in place under its final name, fsync'd, no
  directory fsync) and a child is forked: nothing is processed yet.  With -F it
  execs mlmmj-process, which execs mlmmj-send: the return comes after delivery to
  every subscriber.  The like-for-like row is mlmmj's real chain with mlmmj-send
  replaced by /bin/true (a symlink farm in bench/work; mlmmj finds its helpers
  next to argv[0]): mail accepted, rewritten into queue/ and fsync'd.  It still
  does less than fml: mlmmj does not expand the recipients into the queue file
  (mlmmj-send reads subscribers.d/ while sending) and allocates the article
  number and archives only in mlmmj-send, after delivery.
- **Membership checks on both sides:** fml's default members_only (gdbm index of
  `members`), mlmmj's control/subonlypost (scan of subscribers.d/).
- **mlmmj's delivery cost.** In its default mode (no control/verp) mlmmj-send makes
  one SMTP transaction per recipient (its own VERP).  Each one waits about 40 ms on
  Linux loopback: strace shows mlmmj writing the end of the message (".") as a
  separate small write on a socket without TCP_NODELAY, then waiting ~40 ms for
  the reply, the signature of Nagle meeting the peer's delayed ACK.  That
  is why the 10,000-recipient figure for that mode is extrapolated from a sample
  (BENCH_FULL=1 measures it: about 7.5 minutes).  With control/verp the same stall
  is paid once per transaction of 100 recipients.
- **Peak RSS.** GNU time's "Maximum resident set size" is the largest RSS of the
  process and the children it waited for, across exec.  mlmmj-send mmaps the
  whole mail, so with delivery its RSS follows the size of the mail (file-backed
  page cache, not heap).
- **(d) Delivery.** Every contender delivers into the same second sink (run.sh
  starts it with `-d`, dumping each transaction to tmpfs); after each run the
  dumps are read and every member must appear exactly once (smtp-source: its
  1,000 generated names once per transaction), else the bench stops.  The clock
  stops when the client exits, which it does after the sink's 250 to its last
  transaction, so "wall" is the time until the sink has every recipient.
  fmlqueue pipelines its commands (lib/mail/smtp.c, in windows), smtp-source does not
  (its man page: "No SMTP command pipelining support"), so smtp-source pays a
  loopback round trip per recipient; that is why fml can pass it.
- **fmlqueue's memory.** An article's item names a recipient snapshot
  (var/queue/rcpt/); the runner streams it and the journal in chunks and keeps
  one state byte per recipient plus a sparse index (every 256th address), so
  its peak RSS barely grows with the list: compare the 1,000 and 1,000,000 rows
  of (d).
- Medians and p90 (nearest rank) over the runs; "fml/this" divides fml's warm
  median (or p90) by the row's.  "CPU ms" is user + system time of every process
  of the run (wait4 rusage, background processes included).  The /bin/true row
  is this harness's own cost of fork + exec + wait, included in every row.
- The machine is shared: with other work on its 2 CPUs, a program that needs more
  CPU (fml) loses more wall time than one that needs less; the CPU column does
  not depend on that load.
"""


def make_attachment_post(path, tag, sender):
    """About 1 MB: a text part, a 1 MB PDF (its bytes pseudo-random after the
    header, base64) and a small PNG: what the content rules must read."""
    rnd = random.Random(tag)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rnd.randbytes(750000)
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
           b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x00IEND\xaeB`\x82")
    b64 = lambda d: base64.encodebytes(d)  # noqa: E731
    body = (b"--b\nContent-Type: text/plain; charset=us-ascii\n\nThe report, attached.\n"
            b"--b\nContent-Type: application/pdf; name=\"r.pdf\"\nContent-Transfer-Encoding: "
            b"base64\nContent-Disposition: attachment; filename=\"r.pdf\"\n\n" + b64(pdf) +
            b"--b\nContent-Type: image/png; name=\"p.png\"\nContent-Transfer-Encoding: base64\n\n" +
            b64(png) + b"--b--\n")
    head = ("Date: Sat, 01 Jun 2024 12:00:00 +0000\nFrom: Bench Poster <%s>\nTo: %s\n"
            "Subject: report %s\nMessage-ID: <%s.att.bench@example.net>\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\n\n" % (sender, LISTADDR, tag, tag))
    with open(path, "wb") as f:
        f.write(postfix_envelope(sender) + head.encode() + body)
    return len(head) + len(body)


def content_cost(addrs, sender, logf, tmp):
    """(g) A 1 MB post with attachments into two lists of the same members,
    one without content rules and one with (rules by declared and libmagic
    type, and a trailer), interleaved: what the rules cost."""
    say("(g) content rules: %d posts of 1 MB with attachments into each" % CONTENT_N)
    base = os.path.join(WORK, "g-fml")
    plain, _ = fml_list(os.path.join(base, "plain"), addrs, [("DELIVERY_MODE", "queue")])
    rules, _ = fml_list(os.path.join(base, "rules"), addrs, [
        ("DELIVERY_MODE", "queue"),
        ("CONTENT_HANDLER", "multipart/* application/x-dosexec strip; "
                            "multipart/* application/x-executable strip; * * allow"),
        ("TRAILER_MAILBODY", "--\\nTo leave: mail $CONTROL_ADDRESS")])
    out = {"plain": [], "rules": [], "size": 0}
    for i in range(CONTENT_N):
        for key, d in (("plain", plain), ("rules", rules)):
            path = os.path.join(tmp, "att.%s.%d" % (key, i))
            out["size"] = make_attachment_post(path, "%s%d%d" % (key, i, os.getpid()), sender)
            os.chmod(path, 0o644)
            r = spawn([FML, d], path, False, sender, logf)
            if r.rc != 0 or len(os.listdir(os.path.join(d, "spool"))) != i + 1:
                die("(g) %s: exit %d or no article (see %s/log)" % (key, r.rc, d))
            out[key].append(r)
            clear_dir(os.path.join(d, "var", "queue", "new"))
            os.unlink(path)
    art = open(os.path.join(rules, "spool", "1"), "rb").read()
    if b"To leave: mail" not in art or b"r.pdf" not in art:
        die("(g) the article of the list with rules lacks its trailer or its attachment")
    return out


def archive_spool(d, first, last, day0=0):
    """Articles FIRST..LAST written into D/spool as distribute leaves them (a
    thread every 3, a day's worth of 200 in a unit of a month), seq raised:
    an archive's history made in seconds, not through a million posts."""
    body = "A line of an article of the archive, of some length, as people write.\n" * 50
    for n in range(first, last + 1):
        day = 1 + ((n + day0) // 200) % 28
        month = 1 + ((n + day0) // 5600) % 12
        year = 2000 + (n + day0) // 67200
        reply = "In-Reply-To: <h%d@example.net>\n" % (n - 1) if n % 3 else ""
        text = ("From: Member %d <member%d@example.net>\nTo: %s\nSubject: [bench:%05d] "
                "topic %d\nMessage-ID: <h%d@example.net>\n%sDate: %02d %s %d 10:00:00 +0000\n"
                "\n%s" % (n % 500, n % 500, LISTADDR, n, n // 3, n, reply, day,
                           "JanFebMarAprMayJunJulAugSepOctNovDec"[3 * month - 3:3 * month],
                           year, body))
        p = os.path.join(d, "spool", str(n))
        with open(p, "w") as f:
            f.write(text)
        os.chown(p, PW.pw_uid, PW.pw_gid)
    write(os.path.join(d, "seq"), "%d\n" % last)
    os.chown(os.path.join(d, "seq"), PW.pw_uid, PW.pw_gid)


def archive_cost(sender, logf):
    """(h) What the HTML archive costs a post at each size of ARCHIVE: the
    archive made by `makefml htmlify` (timed), then N_ARCHIVE articles added
    one at a time, each followed by the update fml starts after a post
    (`fmlproc DIR -H`, timed)."""
    H = {}
    for size in ARCHIVE:
        say("(h) HTML archive of %d articles: htmlify, then %d posts' updates" %
            (size, N_ARCHIVE))
        d, _ = fml_list(os.path.join(WORK, "h-fml-%d" % size), [], [
            ("DELIVERY_MODE", "queue"), ("HTML_ARCHIVE", "1")])
        archive_spool(d, 1, size)
        t0 = time.time()
        p = subprocess.run([MAKEFML, "-D", os.path.dirname(d), "htmlify", LIST],
                           capture_output=True, text=True)
        build = time.time() - t0
        if p.returncode != 0 or "%d articles" % size not in p.stdout:
            die("(h) makefml htmlify: exit %d: %s%s" % (p.returncode, p.stdout, p.stderr))
        runs = []
        for i in range(N_ARCHIVE):
            n = size + i + 1
            archive_spool(d, n, n)
            r = spawn([FMLPROC, d, "-H"], "/dev/null", False, sender, logf)
            if r.rc != 0 or not os.path.exists(os.path.join(d, "htdocs", "a", "%d.html" % n)):
                die("(h) fmlproc -H: exit %d, no page for article %d (see %s/log)" %
                    (r.rc, n, d))
            runs.append(r)
        pages = sum(len(fns) for _, _, fns in os.walk(os.path.join(d, "htdocs")))
        H[size] = {"build": build, "runs": runs, "files": pages}
    return H


def archive_report(H):
    sizes = sorted(H)
    lines = ["## (h) The HTML archive: the cost of a post at each size", "",
             "Command: `make bench` (this section alone: `BENCH_ONLY=archive sh bench/run.sh`; "
             "`BENCH_ARCHIVE=\"10 100000\"` sizes, "
             "`BENCH_N_ARCHIVE=N` posts at each; empty skips).  A list with HTML_ARCHIVE = 1 "
             "(units of a month, pages of 500): its spool filled with N articles of 4 KB "
             "(a thread every three, 200 a day), the archive made by `makefml htmlify`, then "
             "%d articles added one at a time, each followed by `fmlproc DIR -H`, the update "
             "fml starts (detached) after a post: the new article's page, the previous "
             "one's (its next link), the unit's last page and thread view, the top index "
             "and the feed.  The clock covers that process, start to exit." % N_ARCHIVE, "",
             "| articles in the archive | htmlify s | files | update per post, median ms | "
             "p90 ms | CPU ms (median) |", "|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        h = H[size]
        v = [r.ret for r in h["runs"]]
        lines.append("| %d | %.1f | %d | %s | %s | %s |" % (
            size, h["build"], h["files"], ms(median(v)), ms(p90(v)),
            ms(median([r.cpu for r in h["runs"]]))))
    if len(sizes) >= 2:
        a = median([r.ret for r in H[sizes[-1]]["runs"]])
        b = median([r.ret for r in H[sizes[0]]["runs"]])
        lines += ["", "**update at %d articles / at %d = %.2f** (the goal: it does not grow "
                  "with the archive)." % (sizes[-1], sizes[0], a / b)]
    lines.append("")
    return "\n".join(lines)


def content_report(C):
    pm = median([r.ret for r in C["plain"]])
    rm = median([r.ret for r in C["rules"]])
    lines = ["## (g) Content rules: a 1 MB post with attachments", "",
             "Command: `make bench` (`BENCH_CONTENT=N` runs, 0 skips).  Two lists of the "
             "same members, one without content rules and one with CONTENT_HANDLER "
             "(executables by libmagic type stripped, the rest allowed) and a "
             "TRAILER_MAILBODY; posts of %d bytes (a text part, a 750 KB PDF in base64, "
             "a PNG), interleaved, %d each.  Without rules fml passes the post as it came "
             "(the lean pipe); with them it hands it to fmlproc, which parses it (GMime), "
             "types the PDF and the PNG (libmagic, the database loaded once) and wraps the "
             "mail with the trailer part." % (C["size"], len(C["plain"])), "",
             "| list | median ms | p90 ms | CPU ms (median) |", "|---|---:|---:|---:|"]
    for key, label in (("plain", "no content rules"), ("rules", "rules + trailer")):
        v = [r.ret for r in C[key]]
        lines.append("| %s | %s | %s | %s |" % (label, ms(median(v)), ms(p90(v)),
                                               ms(median([r.cpu for r in C[key]]))))
    lines += ["", "**with rules / without = %.2f** (median wall).  A text-only post "
              "never loads the magic database (tests/e2e/test_content.py checks it with "
              "strace)." % (rm / pm), ""]
    return "\n".join(lines)


def report(R, rss, wall, rss4, tput, prof, fml_how, fdir, groups, elapsed, D=None, G=None,
           S=None, C=None, H=None):
    fml_med = median([r.ret for r in R["fml"]])
    fml_p90 = p90([r.ret for r in R["fml"]])
    rows = []

    def row(key, label, what, field="ret", comparable=""):
        v = [getattr(r, field) for r in R[key]]
        cpu = median([r.cpu for r in R[key]])
        rows.append((label, what, len(v), median(v), p90(v), min(v), comparable, cpu))

    row("fml", "fml (warm index)", "exit: accepted, article spooled, queue item naming "
        "the recipient snapshot, item + new/ fsync'd (spool/N stands on the item)", comparable="**the fml number**")
    row("fml_cold", "fml (cold index)", "same, first post after `members` changed: "
        "var/db/members.db rebuilt")
    row("m_nosend", "mlmmj chain, no delivery (-F)", "receive -> process -> (mlmmj-send "
        "replaced by /bin/true): mail fsync'd in incoming/, rewritten into queue/ and "
        "fsync'd", comparable="like for like with fml's exit")
    row("m_nosend_fork", "mlmmj-receive (forks), no delivery: return", "return to the MTA: "
        "incoming/ file written + fsync'd (no dir fsync), child forked",
        comparable="what the MTA waits for")
    row("m_nosend_fork", "mlmmj-receive (forks), no delivery: done", "until the forked "
        "mlmmj-process has finished", field="done")
    row("m_fork", "mlmmj-receive (forks): return", "return to the MTA; %d SMTP "
        "transactions of %d recipients follow in the background" % (groups, GROUP))
    row("m_fork", "mlmmj-receive (forks): done", "until mlmmj-send has delivered to all "
        "%d subscribers (sink) and archived" % MEMBERS, field="done")
    row("m_F", "mlmmj-receive -F", "return = processing + delivery to all %d (sink) "
        "complete" % MEMBERS)
    per = [r.done / SAMPLE for r in R["m_sample"]]
    rows.append(("mlmmj default mode, per recipient", "one SMTP transaction per recipient "
                 "(mlmmj's default): %d-subscriber list, time / %d" % (SAMPLE, SAMPLE),
                 len(per), median(per), p90(per), min(per), "",
                 median([r.cpu for r in R["m_sample"]]) / SAMPLE))
    rows.append(("  the same, x %d (extrapolated)" % MEMBERS, "what a %d-subscriber post "
                 "costs in mlmmj's default mode" % MEMBERS, len(per), median(per) * MEMBERS,
                 p90(per) * MEMBERS, min(per) * MEMBERS, "extrapolated, not measured",
                 median([r.cpu for r in R["m_sample"]]) / SAMPLE * MEMBERS))
    if "m_full" in R:
        row("m_full", "mlmmj -F default mode, %d" % MEMBERS, "measured (BENCH_FULL=1)",
            field="done")
    row("true", "/bin/true", "spawn overhead of this harness (fork, exec, wait)")

    lines = []
    P = lines.append
    P("| run | n | median ms | p90 ms | min ms | fml/this (median) | fml/this (p90) | "
      "CPU ms (median) | what the clock covers |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for label, what, n, med, q90, mn, comp, cpu in rows:
        if (label.startswith("fml (") or label == "/bin/true" or
                label.endswith("per recipient")):
            ratio = ratio90 = ""
        else:
            ratio = "%.3g" % (fml_med / med)
            ratio90 = "%.3g" % (fml_p90 / q90)
        note = what + (" — *%s*" % comp if comp else "")
        P("| %s | %d | %s | %s | %s | %s | %s | %s | %s |" %
          (label, n, ms(med), ms(q90), ms(mn), ratio, ratio90, ms(cpu), note))
    time_table = "\n".join(lines)

    lines = []
    P = lines.append
    P("| program, 100 MB post | runs | peak RSS MB (max) | wall s (median) | goal |")
    P("|---|---:|---:|---:|---|")
    names = {"fml": "fml, %d-member list" % MEMBERS,
             "m_nosend": "mlmmj-receive -F, chain without delivery, %d subscribers" % MEMBERS,
             "m_one": "mlmmj-receive -F, chain with delivery, 1 subscriber (sink)",
             "m_P": "mlmmj-receive -P (accept only)"}
    for k in ("fml", "m_nosend", "m_one", "m_P"):
        mb = max(rss[k]) / 1024
        goal = ""
        if k == "fml":
            goal = "< 32 MB: **%s**" % ("met" if mb < 32 else "NOT met")
        P("| %s | %d | %.1f | %.2f | %s |" % (names[k], len(rss[k]), mb, median(wall[k]), goal))
    P("| *for scale, 4 KB post:* fml | 1 | %.1f | | |" % (rss4["fml"] / 1024))
    P("| *for scale, 4 KB post:* mlmmj chain without delivery | 1 | %.1f | | |" %
      (rss4["m_nosend"] / 1024))
    P("| *for scale, 4 KB post:* mlmmj-receive -F with delivery to %d | 1 | %.1f | | |" %
      (MEMBERS, rss4["m_F"] / 1024))
    rss_table = "\n".join(lines)

    lines = []
    P = lines.append
    if tput:
        P("| %d posts one after another | posts/s (sum of start-to-exit) | wall s incl. "
          "harness | CPU ms per post | fml/mlmmj (posts/s) |" % TPUT)
        P("|---|---:|---:|---:|---:|")
        f, m = tput["fml"], tput["m_nosend"]
        P("| fml | %.1f | %.1f | %.1f | %.2f |" % (f[0], f[1], f[2] * 1000, f[0] / m[0]))
        P("| mlmmj chain without delivery | %.1f | %.1f | %.1f | |" % (m[0], m[1], m[2] * 1000))
        if "conc_fml" in tput:
            cf, cm = median(tput["conc_fml"]), median(tput["conc_m"])
            P("| fml, %d posts at once (median of %d bursts) | %.1f | | | %.2f |" %
              (CONC, len(tput["conc_fml"]), cf, cf / cm))
            P("| mlmmj chain without delivery, %d posts at once | %.1f | | | |" % (CONC, cm))
        dm = median([r.done for r in R["m_fork"]])
        P("| mlmmj with delivery to %d (from the 'done' median) | %.2f | | | |" %
          (MEMBERS, 1 / dm))
    tput_table = "\n".join(lines)

    keys = ["fsync", "fdatasync", "sync_file_range", "openat", "open", "read", "pread64",
            "write", "pwrite64", "rename", "link", "unlink", "mkdir", "flock", "fcntl",
            "newfstatat", "fstat", "stat", "lstat", "getdents64", "mmap", "brk", "execve",
            "clone", "clone3", "fork", "vfork", "wait4", "socket", "connect"]
    lines = []
    P = lines.append
    sf, sm = prof.get("fml", {}), prof.get("mlmmj", {})
    P("| syscall | fml (4 KB, %d members) | mlmmj chain without delivery |" % MEMBERS)
    P("|---|---:|---:|")
    for k in keys:
        if k in sf or k in sm:
            P("| %s | %s | %s |" % (k, sf.get(k, 0), sm.get(k, 0)))
    P("| **total** | %d | %d |" % (sum(sf.values()), sum(sm.values())))
    for k, name in (("fml", "fml"), ("mlmmj", "mlmmj chain without delivery")):
        fs_ms = prof.get(k + "_fsync", [])
        P("")
        P("fsync, %s (strace -T, in order): %s ms; sum %.1f ms" %
          (name, ", ".join("%.1f" % x for x in fs_ms), sum(fs_ms)))
    for k, name in (("fml_perf", "fml"), ("mlmmj_perf", "mlmmj chain without delivery")):
        pf = prof.get(k)
        if pf:
            P("")
            P("perf stat, %s: %s" % (name, ", ".join("%s %s" % (v, kk) for kk, v in pf.items())))
    prof_table = "\n".join(lines)

    fs = sh("df -T %s | tail -1" % WORK).split()
    dev = os.path.basename(fs[0]) if fs else "?"
    journal = "?"
    if fs and len(fs) > 1 and fs[1].startswith("ext"):
        jb = [j for j in (os.listdir("/proc/fs/jbd2") if os.path.isdir("/proc/fs/jbd2") else [])
              if j.startswith(dev + "-")]
        journal = "with a journal (jbd2)" if jb else "without a journal (no jbd2 for %s)" % dev
    load1 = open("/proc/loadavg").read().split()[:3]
    mnt = sh("findmnt -n -o OPTIONS --target %s" % WORK)
    commit = os.environ.get("BENCH_COMMIT") or "?"
    fml_sum = sh("sha256sum %s | cut -c1-12" % FML)
    dirty = commit.endswith("+dirty")
    env = " ".join("%s=%s" % (k, os.environ[k]) for k in sorted(os.environ)
                   if k.startswith("BENCH_"))
    machine = [
        "- date: %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z"),
        "- command: `%smake bench` (= `make deps all && sh bench/run.sh`), %.0f s in all" %
        (env + " " if env else "", elapsed),
        "- machine: %s CPUs (`nproc`), %s, %s MB RAM, kernel %s" %
        (sh("nproc"), sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip(),
         sh("awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo"), platform.release()),
        "- file system of bench/work (`df -T`): %s on %s, %s, mount options %s" %
        (fs[1] if len(fs) > 1 else "?", fs[0] if fs else "?", journal, mnt),
        "- other load: load average %s at the start, %s at the end (the machine is shared; "
        "fml and mlmmj runs are interleaved so both see it)" %
        (" ".join(LOAD0), " ".join(load1)),
        "- fml: commit %s%s, binary sha256 %s..., list made %s; config.cf adds "
        "INCOMING_MAIL_SIZE_LIMIT = 200M, SUBJECT_TAG_TYPE = [:], DELIVERY_MODE = queue" %
        (commit, " (work tree with uncommitted changes)" if dirty else "", fml_sum, fml_how),
        "- mlmmj: Debian %s; list made with mlmmj-make-ml, control/: relayhost 127.0.0.1, "
        "smtpport (the sink), subonlypost, prefix [bench], verp postfix (%d recipients per "
        "transaction, maxverprecips default) except the per-recipient sample list" %
        (sh("dpkg-query -W -f='${Version}' mlmmj"), GROUP),
        "- sink: Postfix %s `smtp-sink -c -u nobody 127.0.0.1:%d 1000`; every delivering run "
        "is checked against the sink's message counter and mlmmj's archive/" %
        (sh("postconf -d -h mail_version 2>/dev/null"), SINK_PORT),
        "- posts: %d bytes as submitted, plus the 4 lines Postfix local(8) prepends for a "
        "command (From_, Return-Path, X-Original-To, Delivered-To); unique Message-ID and "
        "body each run; From: a member; same %d addresses in both lists" % (POST_SIZE, MEMBERS),
    ]

    def med(key, field="ret"):
        return median([getattr(r, field) for r in R[key]])

    summary = (
        "**Summary.** A 4 KB post to %d members: fml exits after %s ms (median; p90 %s), "
        "accepted, spooled and queued durably.  mlmmj's chain doing the like-for-like work "
        "(accept, process, queue file; no delivery) takes %s ms: **fml/mlmmj = %.2f**, and "
        "fml uses %s ms of CPU to mlmmj's %s.  mlmmj-receive itself returns to the MTA after "
        "%s ms, before anything is processed.  Delivering to all %d through the sink takes "
        "mlmmj %.1f s with 100 recipients per transaction, and about %.0f minutes in its "
        "default one-transaction-per-recipient mode (extrapolated).  A 100 MB post: fml "
        "peaks at %.1f MB RSS (goal < 32 MB: %s), mlmmj's chain without delivery at %.1f MB%s."
        % (MEMBERS, ms(fml_med), ms(fml_p90), ms(med("m_nosend")), fml_med / med("m_nosend"),
           ms(med("fml", "cpu")), ms(med("m_nosend", "cpu")), ms(med("m_nosend_fork")),
           MEMBERS, med("m_fork", "done"),
           median([r.done / SAMPLE for r in R["m_sample"]]) * MEMBERS / 60,
           max(rss["fml"]) / 1024, "met" if max(rss["fml"]) / 1024 < 32 else "NOT met",
           max(rss["m_nosend"]) / 1024,
           (", %.1f / %.1f posts/s one after another (fml / mlmmj without delivery)" %
            (tput["fml"][0], tput["m_nosend"][0])) if tput else ""))

    goals = issue_goals(R, tput, S, D)
    stable = scale_report(S)[0] if S else ""
    dmd, dsummary, dtables = delivery_report(D) if D else ("", "", "")
    summary += dsummary
    gmd, gsummary, gtables = digest_report(G) if G else ("", "", "")
    summary += gsummary
    md = "\n".join([
        "# fml beside mlmmj: results",
        "",
        summary,
        "",
        "Written by `bench/run.sh` (see bench/README.md for the method).  Numbers are from "
        "one run on the machine below; rerun `make bench` to reproduce.",
        "",
        "\n".join(machine),
        "",
        "## Goals of issue 11 (scale), from this run",
        "",
        goals,
        "",
        "## (a) Time for a 4 KB post to a %d-member list" % MEMBERS,
        "",
        "fml/this < 1 means fml is faster.  fml's exit means *accepted, spooled, queued "
        "durably*: its delivery is the separate queue runner, measured in (d).  The like-for-like "
        "mlmmj number is the chain without delivery; mlmmj-receive's own return (forking) "
        "is what an MTA waits for, but at that point only the incoming file is written "
        "(fsync'd, directory not), nothing is processed yet.",
        "",
        time_table,
        "",
        "## (b) Peak RSS for a 100 MB post (GNU time -v, \"Maximum resident set size\")",
        "",
        rss_table,
        "",
        "## (c) Throughput" if tput else "",
        "",
        tput_table,
        "",
        "## (d) Delivery: one 4 KB post into the sink, fml's queue runner beside mlmmj and "
        "smtp-source" if D else "",
        "",
        dmd,
        "",
        "## (f) Scale: a %d-member list" % SCALE if S else "",
        "",
        "The list is made empty by `makefml newml`, then filled by one `makefml add LIST -` "
        "with the addresses on stdin (timed with GNU time).  Warm posts to it alternate with "
        "warm posts to the %d-member list of (a); then %d rounds of `makefml add` of one "
        "new address, the first post after it (the index brought up to date by the add, not "
        "rebuilt), and a warm post.  Every post's queue item is checked to name every "
        "active member.  mlmmj's row is its chain without delivery on a list of the same "
        "subscribers (subonlypost: the poster is looked up in subscribers.d/).  Delivery "
        "to %d is in (d)." % (MEMBERS, N_ADD, SCALE) if S else "",
        "",
        stable,
        "",
        "## (e) Digests: %d members, %d articles pending, fmldigest beside mlmmj-maintd" %
        (G_MEMBERS, G_ARTICLES) if G else "",
        "",
        gmd,
        "",
        content_report(C) if C else "",
        archive_report(H) if H else "",
        "## One run under `strace -c -f` (syscall counts) and `perf stat`",
        "",
        prof_table,
        "",
        "## Reading the numbers",
        "",
        NOTES,
    ])
    # the binaries are the copy taken at the start: HEAD must not have moved
    commit_now = sh("cd %s && git rev-parse --short HEAD 2>/dev/null" % ROOT) or "?"
    want = os.environ.get("BENCH_COMMIT", commit_now)
    if want.endswith("+dirty"):
        out = os.path.join(WORK, "RESULTS.md")  # no commit to name: not the tree's file
    elif want != commit_now:
        die("HEAD moved from %s to %s during the run: RESULTS.md would name the wrong "
            "commit; run again" % (want, commit_now))
    else:
        out = os.path.join(ROOT, "bench", "RESULTS.md")
    with open(out, "w") as f:
        f.write(md)
    print()
    print(time_table)
    print()
    print(rss_table)
    print()
    print(tput_table)
    print()
    if D:
        print(dtables)
        print()
    if G:
        print(gtables)
        print()
    print(prof_table)
    print()
    if S:
        print(stable)
        print()
    if C:
        print(content_report(C))
    if H:
        print(archive_report(H))
    print(goals)
    print()
    print("bench: wrote %s (%.0f s)" % (out, elapsed))


if __name__ == "__main__":
    main()
