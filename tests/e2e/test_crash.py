"""Crash tests: fml killed (-9) at every step of accept and distribute.

reliability.md T1.  An LD_PRELOAD shim (crashshim.c) counts the calls that
change durable state (write, fsync, rename, link, unlink, creating open,
close of a written file, ...) and kills fml at the k-th one, before the call
or right after it.  For each input and every k of a baseline run:

  1. copy a prepared list home (articles already there),
  2. run fml on the input with the shim killing it at k,
  3. behave exactly like an MTA: while the exit status is not 0 (killed, or
     75), deliver the same input again (without the shim),
  4. deliver one more post, which drains whatever is left,

then check: every input an article exactly once (each body carries a unique
token), articles 1..N with no gap, in arrival order, seq == N, one queue
item aN per article (valid trailer, the article's bytes, the actives as
recipients), var/incoming empty, no spool/.tmp.* left, and every temp file
a killed writer left behind is one the code sweeps (SWEPT below; checked by
ageing it past the sweeper's limit and running fml again).

The default run covers every k before the call and every k after it for
six inputs (about 1,100 kill points; "burst" makes five articles in one group commit), plus SIGTERM at every point for two
inputs (the signal handler's clean-up must leave nothing half-written, and
the exit must be 75 before the commit point, 0 after it): about a minute on
two cores.  FML_CRASH_FULL=1 adds the link-lock (USE_FLOCK=0) sweeps and
SIGTERM for every input.  A strace -e inject=...:signal=KILL variant
cross-checks the shim on fsync, rename and link.  Known bugs are xfail
tests at the end, each naming the function at fault.
"""
import base64
import collections
import concurrent.futures
import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from conftest import FML, ROOT, MailList, QueueItem, mail, owner_ids

SHIM_SRC = os.path.join(ROOT, "tests", "e2e", "crashshim.c")
SHIM = os.path.join(ROOT, "build", "crashshim.so")
FULL = os.environ.get("FML_CRASH_FULL") == "1"
WORKERS = max(2, os.cpu_count() or 2)

MEMBERS = ["alice@example.com", "bob@example.net", "carol@example.org"]
TOKEN_RE = re.compile(rb"crash-token-[0-9a-f]{16}")

# Temp files a killed writer may leave, with the age after which the code
# removes them: incoming_list() sweeps var/incoming/tmp.*, proc_drain()'s
# sweep_orphans() the queue's tmp/, the dot-temps of safefile_replace and member
# rewrites (DIR, var/run), the member index temps (var/db) and link-lock
# tokens.  A spool/.tmp.ID must be gone after the next run.  Anything else
# left behind is a failure.
SWEPT = {"incoming_tmp": 3600, "queue_tmp": 3600, "home_tmp": 3600, "run_tmp": 3600,
         "db_tmp": 3600}


def token():
    return "crash-token-" + uuid.uuid4().hex[:16]


@pytest.fixture(scope="session")
def crashshim():
    os.makedirs(os.path.dirname(SHIM), exist_ok=True)
    p = subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", SHIM, SHIM_SRC, "-ldl"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    os.chmod(SHIM, 0o755)
    return SHIM


# ---------------------------------------------------------------- inputs

def plain_input(tok):
    return mail(subject="plain post", body="A plain post.\n%s\n" % tok)


def crlf_input(tok):
    return mail(frm="bob@example.net", subject="crlf post",
                body="Lines end in CRLF.\n%s\nLast line.\n" % tok, eol="\r\n")


def multipart_input(tok):
    # large enough that accept, spool and queue item each take several writes
    blob = os.urandom(150 * 1024)
    b64 = base64.encodebytes(blob).decode()
    body = ("This is a MIME preamble.\n"
            "--b0undary\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "The text part.\n%s\n"
            "--b0undary\n"
            "Content-Type: application/octet-stream; name=\"blob.bin\"\n"
            "Content-Transfer-Encoding: base64\n\n%s"
            "--b0undary--\n") % (tok, b64)
    return mail(frm="carol@example.org", subject="multipart post", body=body,
                extra="MIME-Version: 1.0\n"
                      "Content-Type: multipart/mixed; boundary=\"b0undary\"")


class Scenario:
    """A prepared list home and one input to deliver into it."""

    def __init__(self, name, template, data, before, token_, distributed, use_flock=1):
        self.name = name
        self.template = template      # MailList: the state every run starts from
        self.data = data              # the input bytes
        self.before = before          # tokens of the articles already made/waiting
        self.token = token_           # the input's token
        self.distributed = distributed  # False: must not become an article
        self.use_flock = use_flock
        self.rcpts = sorted(MEMBERS)

    def expected(self, drain_token):
        return self.before + ([self.token] if self.distributed else []) + [drain_token]


@contextlib.contextmanager
def lock_held(ml, use_flock):
    """Hold the list lock from this process (flock, or a live lockfile.v7)."""
    if use_flock:
        fd = os.open(ml.path("var", "run", "lock"), os.O_RDWR | os.O_CREAT, 0o600)
        os.fchown(fd, *owner_ids())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
        return
    with open("/proc/self/stat") as f:
        start = f.read().rsplit(")", 1)[1].split()[19]
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot = f.read().strip()
    path = ml.path("var", "run", "lockfile.v7")
    with open(path, "w") as f:
        f.write("%s %s %d %s\n" % (socket.gethostname(), boot, os.getpid(), start))
    os.chown(path, *owner_ids())
    try:
        yield
    finally:
        os.unlink(path)


def prepare(make_list, kind, use_flock=1):
    """Make the list home KIND's runs start from: three articles already."""
    ml = make_list("elena", members=MEMBERS)
    if not use_flock:
        ml.set_config(USE_FLOCK=0)
    # member files changed within the last second make a "racy" index that
    # is rebuilt at every lookup, which would make the count of durable
    # calls depend on the clock: date them back
    day_ago = time.time() - 86400
    for f in ("members", "actives"):
        if ml.exists(f):
            os.utime(ml.path(f), (day_ago, day_ago))
    before, msgids = [], []
    for i in range(3):
        t = token()
        mid = "<base-%d-%s@example.com>" % (i, uuid.uuid4().hex)
        p = ml.post(mail(subject="base %d" % i, body="Base article.\n%s\n" % t, msgid=mid))
        assert p.returncode == 0, p.stderr
        before.append(t)
        msgids.append(mid)
    assert ml.articles() == [1, 2, 3]
    tok = token()
    distributed = True
    if kind == "plain":
        data = plain_input(tok)
    elif kind == "crlf":
        data = crlf_input(tok)
    elif kind == "multipart":
        data = multipart_input(tok)
    elif kind == "second":
        # a post accepted earlier while the lock was busy waits in var/incoming:
        # the run drains it first, then the new one
        wt = token()
        with lock_held(ml, use_flock):
            p = ml.post(mail(subject="waiting", body="Waiting.\n%s\n" % wt), "--LOCK_TIMEOUT=0")
            assert p.returncode == 0, p.stderr
        assert len([n for n in ml.listdir("var", "incoming") if n[0].isdigit()]) == 1
        before.append(wt)
        data = mail(frm="bob@example.net", subject="second post", body="Second.\n%s\n" % tok)
    elif kind == "burst":
        # four posts wait (the lock was busy): one run makes them and the new
        # one articles in one group commit (actions/distribute.h)
        with lock_held(ml, use_flock):
            for i in range(4):
                wt = token()
                p = ml.post(mail(subject="waiting %d" % i, body="Waiting.\n%s\n" % wt),
                            "--LOCK_TIMEOUT=0")
                assert p.returncode == 0, p.stderr
                before.append(wt)
        assert len([n for n in ml.listdir("var", "incoming") if n[0].isdigit()]) == 4
        data = mail(frm="bob@example.net", subject="fifth post", body="Fifth.\n%s\n" % tok)
    elif kind == "dupmsgid":
        # same Message-ID as article 2, other bytes: must not become an article
        data = mail(subject="resent", body="A resend.\n%s\n" % tok, msgid=msgids[1])
        distributed = False
    else:
        raise ValueError(kind)
    return Scenario(kind, ml, data, before, tok, distributed, use_flock)


# ---------------------------------------------------------------- running

def fml_env(**extra):
    e = {"PATH": "/usr/bin:/bin"}
    e.update({k: str(v) for k, v in extra.items()})
    return e


def run_fml(d, data, env=None, argv_extra=(), prefix=(), timeout=60):
    for attempt in range(100):
        try:
            return subprocess.run([*prefix, FML, d, *argv_extra], input=data,
                                  capture_output=True, env=env or fml_env(), timeout=timeout)
        except (PermissionError, FileNotFoundError, OSError) as e:
            # fml/fml being relinked by a concurrent make in a shared work
            # tree: exec failed, so nothing ran; try again
            if e.errno not in (errno.EACCES, errno.ENOENT, errno.ETXTBSY) or attempt == 99:
                raise
            time.sleep(0.1)


def copy_home(src, dst_parent):
    """cp -a: keeps the owner (nobody), modes and times."""
    os.makedirs(dst_parent, mode=0o755)
    dst = os.path.join(dst_parent, os.path.basename(src))
    subprocess.run(["cp", "-a", src, dst], check=True)
    return dst


def baseline(sc, workdir, shim):
    """Count the durable calls of an undisturbed run; returns (count, trace lines)."""
    d = copy_home(sc.template.dir, os.path.join(workdir, "baseline"))
    cnt, trc = os.path.join(workdir, "baseline.count"), os.path.join(workdir, "baseline.trace")
    p = run_fml(d, sc.data, fml_env(LD_PRELOAD=shim, FML_CRASH_COUNT=cnt, FML_CRASH_TRACE=trc))
    assert p.returncode == 0, p.stderr
    with open(cnt) as f:
        n = int(f.read())
    with open(trc) as f:
        lines = f.read().splitlines()
    assert len(lines) == n, "trace and count disagree"
    # the undisturbed run is itself a correct end state
    drain = token()
    p = run_fml(d, mail(subject="drain", body="Drain.\n%s\n" % drain))
    assert p.returncode == 0
    problems = check_home(sc, d, drain)
    assert not problems, problems
    return n, lines


def kill_point(sc, workdir, shim, k, after, prefix=(), extra_env=None, label=None,
               first_check=None, swept=None):
    """One crash, MTA re-delivery, drain, then the checks.  Returns a record.
    FIRST_CHECK(d, returncode) -> [problems] looks at the home right after
    the disturbed run, before anything else runs."""
    tag = label or "%s-k%d%s" % (sc.name, k, "a" if after else "b")
    d = copy_home(sc.template.dir, os.path.join(workdir, tag))
    env = fml_env(**(extra_env if extra_env is not None else
                     {"LD_PRELOAD": shim, "FML_CRASH_AT": k,
                      "FML_CRASH_AFTER": 1 if after else 0}))
    t0 = time.time()
    p = run_fml(d, sc.data, env, prefix=prefix)
    rcs = [p.returncode]
    early = first_check(d, p.returncode) if first_check else []
    # the MTA: anything but 0 (a signal, 75) means "still mine, try again"
    while p.returncode != 0 and len(rcs) < 4:
        p = run_fml(d, sc.data)
        rcs.append(p.returncode)
    drain = token()
    pd = run_fml(d, mail(subject="drain", body="Drain.\n%s\n" % drain))
    problems = list(early)
    if p.returncode != 0:
        problems.append("re-delivery never exited 0: %r %s" % (rcs, p.stderr[-300:]))
    if pd.returncode != 0:
        problems.append("drain post exited %d" % pd.returncode)
    problems += check_home(sc, d, drain, since=t0, swept=swept)
    rec = {"k": k, "after": after, "rcs": rcs, "problems": problems, "dir": d}
    if not problems and os.environ.get("KEEP_TEST_TMP") != "1":
        shutil.rmtree(os.path.dirname(d), ignore_errors=True)
    return rec


# ---------------------------------------------------------------- checks

def tokens_in(data):
    return set(m.decode() for m in TOKEN_RE.findall(data))


def trailer_ok(raw):
    """The queue item's trailer (doc/fml-queue.5): length and SHA-256 of
    everything before it, with each recipient's state byte read as '-'."""
    m = re.fullmatch(rb"\nFMLQ-END (\d{20}) ([0-9a-f]{64})\n", raw[-96:])
    body = raw[:-96]
    if not m or int(m.group(1)) != len(body) or b"\n\n" not in body:
        return False
    env_end = body.index(b"\n\n") + 1
    canon = b"\n".join(l[:5] + b"-" + l[6:] if l.startswith(b"rcpt ") else l
                       for l in body[:env_end].split(b"\n")) + body[env_end:]
    return hashlib.sha256(canon).hexdigest() == m.group(2).decode()


def leftovers(d):
    """Temp files that nothing will finish, by area."""
    out = collections.defaultdict(list)

    def ls(*p):
        try:
            return sorted(os.listdir(os.path.join(d, *p)))
        except FileNotFoundError:
            return []
    for n in ls("spool"):
        if not n.isdigit():
            out["spool_tmp"].append(os.path.join(d, "spool", n))
    for n in ls("var", "incoming"):
        out["incoming_tmp" if n.startswith("tmp.") else "incoming_item"].append(
            os.path.join(d, "var", "incoming", n))
    for n in ls("var", "queue", "tmp"):
        out["queue_tmp"].append(os.path.join(d, "var", "queue", "tmp", n))
    for n in ls():
        if n.startswith("."):
            out["home_tmp"].append(os.path.join(d, n))
    for n in ls("var", "run"):
        # lock, current (poison guard), swept (sweeper stamp) and boot (the
        # boot that last looked for lost spool names) stay by design
        if n not in ("lock", "current", "swept", "boot") and not n.startswith("notified."):
            out["run_tmp"].append(os.path.join(d, "var", "run", n))
    for n in ls("var", "db"):
        if n.startswith("."):
            out["db_tmp"].append(os.path.join(d, "var", "db", n))
    return out


def check_home(sc, d, drain_token, since=None, swept=None):
    """Every invariant of the list home D after the drain post; [] if all hold.
    SWEPT: the temp files allowed to be left for a sweeper (default SWEPT)."""
    swept = SWEPT if swept is None else swept
    problems = []
    ml = MailList(os.path.dirname(d), os.path.basename(d))
    want = sc.expected(drain_token)
    arts = ml.articles()
    if arts != list(range(1, len(arts) + 1)):
        problems.append("articles not 1..N: %r" % arts)
    got = []
    spool = {}
    for n in arts:
        data = ml.read("spool", str(n))
        spool[n] = data
        ts = tokens_in(data)
        if len(ts) != 1:
            problems.append("spool/%d holds tokens %r" % (n, sorted(ts)))
        got.append(sorted(ts)[0] if ts else None)
    if got != want:
        lost = [t for t in want if t not in got]
        dup = sorted(t for t in set(got) if got.count(t) > 1)
        problems.append("articles %r, want %r (lost %r, duplicated %r)" % (
            got, want, lost, dup))
    if not sc.distributed and sc.token in got:
        problems.append("the duplicate Message-ID became an article")
    if ml.seq() != len(arts):
        problems.append("seq %d, %d articles" % (ml.seq(), len(arts)))

    # the queue: one valid aN per article, nothing half-made anywhere
    names = ml.listdir("var", "queue", "new")
    anames = sorted((n for n in names if n.startswith("a")), key=lambda n: int(n[1:]))
    if anames != ["a%d" % n for n in arts]:
        problems.append("queue items %r for articles %r" % (anames, arts))
    for n in names:
        raw = ml.read("var", "queue", "new", n)
        if not trailer_ok(raw):
            problems.append("queue item %s fails its trailer check" % n)
            continue
        if n.startswith("a") and n[1:].isdigit() and int(n[1:]) in spool:
            qi = QueueItem(ml.path("var", "queue", "new", n))
            if sorted(qi.rcpts) != sc.rcpts:
                problems.append("%s recipients %r" % (n, qi.rcpts))
            if qi.message != spool[int(n[1:])]:
                problems.append("%s is not a copy of spool/%s" % (n, n[1:]))
            if qi.attrs.get("article") != n[1:]:
                problems.append("%s says article %r" % (n, qi.attrs.get("article")))
    for area in ("active", "deferred", "sent", "drop", "corrupt"):
        if ml.listdir("var", "queue", area):
            problems.append("var/queue/%s: %r" % (area, ml.listdir("var", "queue", area)))

    # what was not distributed was kept, and only duplicates were dropped
    logdir = ml.listdir("var", "log")
    for n in logdir:
        kind = n.split(".", 1)[0]
        if kind != "duplicate":
            problems.append("var/log/%s (%s)" % (n, kind))
            continue
        ts = tokens_in(ml.read("var", "log", n))
        if ts != {sc.token}:
            problems.append("var/log/%s holds %r, not a copy of the input" % (n, ts))
    if not sc.distributed and not any(n.startswith("duplicate.") for n in logdir):
        problems.append("the duplicate was not saved under var/log")
    log = ml.log()
    for bad in ("panic:", "fatal:", "is linked but no article", "malformed"):
        if bad in log:
            problems.append("log says %r" % [l for l in log.splitlines() if bad in l][:3])

    # temp files: none, except where the code has a sweeper; that one must
    # actually remove them once they are old enough
    left = leftovers(d)
    if left.get("incoming_item"):
        problems.append("var/incoming not drained: %r" % left["incoming_item"])
    left.pop("incoming_item", None)
    aged = []
    for area, paths in sorted(left.items()):
        if area not in swept:
            problems.append("%s left: %r" % (area, [os.path.relpath(p, d) for p in paths]))
            continue
        for p in paths:
            st = os.lstat(p)
            if since is not None and st.st_mtime < since - 1:
                problems.append("%s older than the run: %s" % (area, p))
            old = time.time() - swept[area] - 120
            os.utime(p, (old, old), follow_symlinks=False)
            aged.append(p)
    if aged:
        # the sweeper scans at most every 10 minutes: age its stamp too
        stamp = os.path.join(d, "var", "run", "swept")
        if os.path.exists(stamp):
            old = time.time() - 3600
            os.utime(stamp, (old, old))
        p = run_fml(d, b"")  # an empty input: fml only drains (and sweeps)
        if p.returncode != 0:
            problems.append("sweep run exited %d" % p.returncode)
        still = [os.path.relpath(x, d) for x in aged if os.path.lexists(x)]
        if still:
            problems.append("not swept after ageing: %r" % still)
    return problems


# ---------------------------------------------------------------- the sweep

def sweep(sc, workdir, shim, ks_modes, **kw):
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        futs = [ex.submit(kill_point, sc, workdir, shim, k, after, **kw) for k, after in ks_modes]
        return [f.result() for f in futs]


def report(sc, trace, recs):
    """What failed, grouped by kind of problem, with the kill points."""
    bad = [r for r in recs if r["problems"]]
    groups = collections.OrderedDict()
    for r in bad:
        for prob in r["problems"]:
            key = re.sub(r"'[^']*'|\d+", "#", prob)[:120]
            groups.setdefault(key, []).append(r)
    lines = []
    for key, rs in groups.items():
        pts = ", ".join("%d%s" % (r["k"], "a" if r["after"] else "b") for r in rs[:20])
        r = rs[0]
        where = trace[r["k"] - 1] if 0 < r["k"] <= len(trace) else "?"
        where = where.replace(os.path.dirname(sc.template.dir), "")
        lines.append("%d x %s\n      at k=%s%s\n      e.g. [%s] rcs=%r: %s (kept in %s)" % (
            len(rs), key, pts, " ..." if len(rs) > 20 else "", where, r["rcs"],
            "; ".join(r["problems"])[:400], r["dir"]))
    return "%d of %d kill points failed for %s:\n  %s" % (
        len(bad), len(recs), sc.name, "\n  ".join(lines))


KINDS = ["plain", "crlf", "multipart", "second", "burst", "dupmsgid"]


@pytest.mark.parametrize("kind", KINDS)
def test_crash_every_kill_point(make_list, ml_dir, crashshim, kind):
    """kill -9 before and after each durable call: 0 lost, 0 duplicated, 0 gaps."""
    sc = prepare(make_list, kind)
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    assert count >= 20, trace
    points = [(k, after) for k in range(1, count + 1) for after in (False, True)]
    t0 = time.time()
    recs = sweep(sc, work, crashshim, points)
    killed = sum(1 for r in recs if r["rcs"][0] != 0)
    redelivered = sum(1 for r in recs if len(r["rcs"]) > 1)
    print("\n%s: %d durable calls, %d kill points (%d killed, %d re-delivered) in %.1f s" % (
        kind, count, len(recs), killed, redelivered, time.time() - t0))
    assert killed == len(recs), "a kill point did not kill: %r" % [
        (r["k"], r["after"]) for r in recs if r["rcs"][0] == 0][:5]
    assert not any(r["problems"] for r in recs), report(sc, trace, recs)


@pytest.mark.skipif(not FULL, reason="FML_CRASH_FULL=1: the link-lock sweep")
@pytest.mark.parametrize("kind", ["plain", "second", "dupmsgid"])
def test_crash_every_kill_point_link_lock(make_list, ml_dir, crashshim, kind):
    """The same with USE_FLOCK=0: a killed holder's lockfile.v7 is broken as stale."""
    sc = prepare(make_list, kind, use_flock=0)
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    points = [(k, after) for k in range(1, count + 1) for after in (False, True)]
    recs = sweep(sc, work, crashshim, points)
    print("\n%s/v7: %d durable calls, %d kill points" % (kind, count, len(recs)))
    assert not any(r["problems"] for r in recs), report(sc, trace, recs)


def test_crash_exit_mode(make_list, ml_dir, crashshim):
    """_exit(137) instead of SIGKILL at a few points: the MTA sees a failure all the same."""
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    recs = []
    for k in (1, count // 3, count // 2, count - 1, count):
        recs.append(kill_point(sc, work, crashshim, k, False, extra_env={
            "LD_PRELOAD": crashshim, "FML_CRASH_AT": k, "FML_CRASH_MODE": "exit"},
            label="exit-k%d" % k))
    assert all(r["rcs"][0] == 137 for r in recs), [r["rcs"] for r in recs]
    assert not any(r["problems"] for r in recs), report(sc, trace, recs)


def test_crash_shim_counts_a_normal_run(make_list, ml_dir, crashshim):
    """FML_CRASH_COUNT reports the calls of a run that is not killed; the
    trace shows the commit point and the article steps in their order."""
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    calls = [l.split(" ", 2)[1:] for l in trace]

    def first(call, sub):
        for i, (c, target) in enumerate(calls):
            if c == call and sub in target:
                return i
        raise AssertionError("no %s %s in %r" % (call, sub, trace))

    def last(call, sub):
        return max(i for i, (c, target) in enumerate(calls) if c == call and sub in target)
    commit = first("rename", "/var/incoming/tmp.")
    # the item is not synced when the same run makes it an article
    # (list/incoming.c): neither it nor var/incoming is fsynced
    assert not [t for c, t in calls if c == "fsync" and "/var/incoming" in t], trace
    link = first("link", "/spool/4")
    assert commit < link < first("rename", "/var/queue/tmp/p.") < first(
        "unlink", "/var/incoming/") < last("unlink", "/spool/.tmp.")
    # the article's two temps are made after the commit, before the list
    # lock (actions/distribute.h, step 0): no file is made under it for them
    lock = first("open", "/var/run/lock")
    assert commit < first("open", "/spool/.tmp.") < first("open", "/var/queue/tmp/p.") < lock


# ---------------------------------------------------------------- strace

def strace_ok():
    if not shutil.which("strace"):
        return False
    p = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", "trace=getpid", "true"],
                       capture_output=True)
    return p.returncode == 0


@pytest.mark.skipif(not strace_ok(), reason="strace missing or ptrace not permitted")
def test_crash_strace_inject(make_list, ml_dir, crashshim):
    """Cross-check with strace -e inject=SYSCALL:signal=KILL:when=N (no shim)."""
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    per_call = collections.Counter(l.split(" ", 2)[1] for l in trace)
    # the shim's trace counts libc calls; strace counts system calls of the
    # same name, which is the same here for these three
    points = []
    for sysc in ("fsync", "rename", "link"):
        for n in range(1, per_call[sysc] + 1):
            points.append((sysc, n))
    assert len(points) >= 8, per_call
    recs = []

    def one(sysc, n):
        prefix = ("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + sysc,
                  "-e", "inject=%s:signal=KILL:when=%d" % (sysc, n))
        r = kill_point(sc, work, crashshim, n, False, prefix=prefix, extra_env={},
                       label="strace-%s-%d" % (sysc, n))
        r["where"] = "%s #%d" % (sysc, n)
        return r
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        recs = list(ex.map(lambda a: one(*a), points))
    print("\nstrace inject: %d kill points (%s)" % (len(recs), ", ".join(
        "%s x%d" % (c, per_call[c]) for c in ("fsync", "rename", "link"))))
    # strace itself exits 128+9 when its tracee is killed
    assert all(r["rcs"][0] != 0 for r in recs), [(r["where"], r["rcs"]) for r in recs]
    bad = [(r["where"], r["problems"]) for r in recs if r["problems"]]
    assert not bad, bad


# ---------------------------------------------------------------- SIGTERM

def after_sigterm(template, known=("db_tmp",)):
    """A check for right after a run that got SIGTERM at some call: its exit
    says where it was (75: before the commit point, nothing accepted; 0:
    accepted) and its clean-up handlers left no temp file.  A spool/.tmp.ID
    may stay when it is linked as an article (recovery or the next run's
    sweep finishes it), and so may the spool/.tmp.ID and var/queue/tmp/p.ID
    that fml makes for a post it accepted (actions/distribute.h, step 0)
    while var/incoming/ID waits: the next run uses them and removes them
    with the item; var/run/current is the poison guard's state."""
    before = set(os.listdir(os.path.join(template, "var", "incoming")))

    def check(d, rc):
        problems = []
        left = leftovers(d)
        waiting = set(os.path.basename(p) for p in left.get("incoming_item", []))
        committed = [p for p in left.pop("incoming_item", [])
                     if os.path.basename(p) not in before]
        if rc not in (0, 75):
            problems.append("SIGTERM gave exit %r" % rc)
        if rc == 75 and committed:
            problems.append("exit 75 with the mail committed: %r" % committed)
        for p in left.pop("spool_tmp", []):
            if os.lstat(p).st_nlink < 2 and os.path.basename(p)[5:] not in waiting:
                problems.append("after SIGTERM: %s (not linked)" % os.path.relpath(p, d))
        left["queue_tmp"] = [p for p in left.get("queue_tmp", [])
                             if os.path.basename(p)[2:] not in waiting]
        left["run_tmp"] = [p for p in left.get("run_tmp", [])
                           if os.path.basename(p) != "current"]
        for area, paths in sorted(left.items()):
            if paths and area not in known:  # known: see the test below
                problems.append("after SIGTERM, %s: %r" % (
                    area, [os.path.relpath(p, d) for p in paths]))
        return problems
    return check


@pytest.mark.parametrize("kind", KINDS if FULL else ["plain", "second"])
def test_sigterm_at_every_point(make_list, ml_dir, crashshim, kind):
    """SIGTERM delivered at each durable call (before and after it): the
    handler's clean-up leaves no half-written file, the exit is 75 before the
    commit point and 0 after it, and with MTA re-delivery every post is an
    article exactly once."""
    sc = prepare(make_list, kind)
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    points = [(k, after) for k in range(1, count + 1) for after in (False, True)]
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        recs = list(ex.map(lambda ka: kill_point(
            sc, work, crashshim, ka[0], ka[1], first_check=after_sigterm(sc.template.dir),
            label="term-k%d%s" % (ka[0], "a" if ka[1] else "b"),
            extra_env={"LD_PRELOAD": crashshim, "FML_CRASH_AT": ka[0],
                       "FML_CRASH_AFTER": int(ka[1]), "FML_CRASH_MODE": "term"}), points))
    by_rc = collections.Counter(r["rcs"][0] for r in recs)
    print("\n%s/SIGTERM: %d points, first exit codes %r" % (kind, len(recs), dict(by_rc)))
    assert by_rc[75] > 0 and by_rc[0] > 0, by_rc
    assert not any(r["problems"] for r in recs), report(sc, trace, recs)


def test_sigterm_right_after_member_index_temp_is_created(make_list, ml_dir, crashshim):
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    d = copy_home(sc.template.dir, os.path.join(work, "term-index"))
    p = run_fml(d, sc.data, fml_env(LD_PRELOAD=crashshim, FML_CRASH_ON="open:/var/db/.members",
                                    FML_CRASH_AFTER=1, FML_CRASH_MODE="term"))
    assert p.returncode == 0
    assert leftovers(d).get("db_tmp", []) == []


# ---------------------------------------------------------------- repeated crashes

def test_crash_repeatedly_after_the_article_is_allocated(make_list, ml_dir, crashshim):
    """fml dies after spool/N was linked, then again and again while it
    finishes article N (as a bug that the article's bytes trigger in the
    steps after the link would).  The poison guard sets the item aside after
    three tries so the list goes on; article N stays in the spool with its
    summary line and seq, and the maintainer is told, by a notice naming the
    article, that it was not queued (the step that kept crashing is not
    tried again)."""
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    d = copy_home(sc.template.dir, os.path.join(work, "poison"))
    shim = {"LD_PRELOAD": crashshim, "FML_CRASH_ON": "link:/spool/", "FML_CRASH_AFTER": 1}
    rcs = [run_fml(d, sc.data, fml_env(**shim)).returncode]
    shim = {"LD_PRELOAD": crashshim, "FML_CRASH_ON": "rename:/var/queue/tmp/p."}
    while rcs[-1] != 0 and len(rcs) < 6:  # the MTA re-delivers; fml dies again
        rcs.append(run_fml(d, sc.data, fml_env(**shim)).returncode)
    assert rcs[-1] == 0 and rcs[:3] == [-9] * 3, rcs
    drain = token()
    assert run_fml(d, mail(subject="drain", body="Drain.\n%s\n" % drain)).returncode == 0
    ml = MailList(os.path.dirname(d), os.path.basename(d))
    arts = ml.articles()
    assert arts == list(range(1, len(arts) + 1))
    queued = sorted(int(q.name[1:]) for q in ml.queue_items() if q.name.startswith("a"))
    summary = ml.text("summary")
    assert all(" [%d:" % n in summary for n in arts), summary
    assert ml.seq() == arts[-1]
    unqueued = [n for n in arts if n not in queued]
    assert len(unqueued) == 1, (arts, queued)
    notices = [q for q in ml.queue_items() if q.name.startswith("r.")]
    told = [q for q in notices
            if b"article %d in the spool, NOT delivered" % unqueued[0] in q.message]
    assert len(told) == 1 and told[0].rcpts == ["elena-admin@example.org"], \
        [q.message[:400] for q in notices]
    assert any(n.startswith("poison.") for n in ml.listdir("var", "log"))


def test_crash_with_an_unreadable_duplicate_cache(make_list, ml_dir, crashshim):
    sc = prepare(make_list, "plain")
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    d = copy_home(sc.template.dir, os.path.join(work, "baddb"))
    db = os.path.join(d, "var", "db", "dedupe.db")
    with open(db, "r+b") as f:
        f.write(os.urandom(4096))
    # killed right after the commit point: the MTA re-delivers
    p = run_fml(d, sc.data, fml_env(LD_PRELOAD=crashshim, FML_CRASH_ON="rename:/var/incoming/tmp.",
                                    FML_CRASH_AFTER=1))
    assert p.returncode == -9
    assert run_fml(d, sc.data).returncode == 0
    drain = token()
    assert run_fml(d, mail(subject="drain", body="Drain.\n%s\n" % drain)).returncode == 0
    problems = check_home(sc, d, drain)
    assert not problems, problems
