"""Error-injection sweeps: every durable call of a path fails in turn.

The crash shim (crashshim.c) counts the calls that change durable state
(write, fsync, rename, link, unlink, creating open, close of a written
file, ...).  With FML_FAIL_AT=K the K-th of them is not made and returns -1
with FML_FAIL_ERRNO (EIO, ENOSPC, EDQUOT); with FML_FAIL_FROM=1 every call
from the K-th on fails, as on a disk that stays full.  For each path and
every K of an undisturbed run's count:

  1. copy a prepared list home,
  2. run the path with the fault injected at K,
  3. behave as the world around fml does: the MTA delivers a mail again
     while fml's exit status is not 0; `fmlqueue recover` or the next run
     finishes what was left,
  4. check the invariants of the path (below).

Post path (`fml LIST < post`), checked by test_crash.check_home(): every
post an article exactly once, articles 1..N with no gap, seq N, one queue
item aN per article with the article's bytes and the actives, var/incoming
empty, every temp file left behind one the code sweeps (a spool/.tmp.ID
whose unlink failed goes with the hourly sweep; the crash tests want it gone
at the next run).

Digest path (`fmldigest --now 6 LIST`, test_digest.DigestRun): after the
disturbed run and two more, every digest member has each article exactly
once, no digest.run is left, the state says 7 for everyone due.

Queue path (`fmlqueue run` delivering one article to 7 members into
smtp-sink, 2 recipients per transaction, test_queue_crash's template): after
the disturbed run, `fmlqueue run` and `fmlqueue flush`, every member has the
article at least once and at most twice (only a transaction in flight is
repeated), the item is in sent/, nothing is stuck or half-written.

Command paths (test_cmd_faults' cases and checks): "confirm" of a
subscription and "approve" of a held post, run with the fault, then as the
MTA and the next mail would: one true report each, the welcome and the
maintainer's notice once, the member files, the post one article.

make check runs the post path with EIO and ENOSPC at every point (the
"once" faults) and ENOSPC from every point on (a full disk) for three inputs,
the confirm, approve, digest and queue paths with EIO and ENOSPC at every
point: a few hundred
points, about a minute on two cores.  FML_FAULTS_FULL=1 (make
check-faults) adds every input of the crash tests and EDQUOT.
"""
import concurrent.futures
import errno
import os
import shutil
import subprocess
import time

import pytest

from test_cmd_faults import (afterwards, approve_case, approve_check,  # noqa: F401
                             confirm_case, confirm_check, report_of, run_fml_env)
from test_cmd_faults import copy_home as copy_list_home
from test_crash import SWEPT, WORKERS, baseline, crashshim, kill_point, prepare, report  # noqa: F401
from test_digest import DigestRun
from test_queue import FMLQUEUE, Sink, sinks  # noqa: F401  (the fixture)
from test_queue_crash import areas, baseline_count, check_delivery, copy_home, run_queue
from test_queue_crash import template  # noqa: F401  (the fixture)

FULL = os.environ.get("FML_FAULTS_FULL") == "1"
# a spool/.tmp.ID whose unlink failed after its article was finished is
# removed by the hourly sweep (proc.c sweep_orphans), not by the next run
FAULT_SWEPT = dict(SWEPT, spool_tmp=3600)

ERRORS = ["EIO", "ENOSPC"] + (["EDQUOT"] if FULL else [])
POST_KINDS = ["plain", "crlf", "multipart", "second", "dupmsgid"] if FULL else ["plain",
                                                                              "second",
                                                                              "dupmsgid"]


def fault_sweep(sc, work, shim, count, err, from_on):
    """Every point 1..COUNT with ERR (FROM_ON: and every call after it)."""
    env = lambda k: {"LD_PRELOAD": shim, "FML_FAIL_AT": k,  # noqa: E731
                     "FML_FAIL_ERRNO": getattr(errno, err), "FML_FAIL_FROM": int(from_on)}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        futs = [ex.submit(kill_point, sc, work, shim, k, False, extra_env=env(k), swept=FAULT_SWEPT,
                          label="%s-%s%s-k%d" % (sc.name, err, "-on" if from_on else "", k))
                for k in range(1, count + 1)]
        return [f.result() for f in futs]


@pytest.mark.parametrize("from_on", [False, True], ids=["once", "from-on"])
@pytest.mark.parametrize("err", ERRORS)
@pytest.mark.parametrize("kind", POST_KINDS)
def test_post_every_durable_call_fails(make_list, ml_dir, crashshim, kind, err, from_on):
    """A post whose K-th durable call fails: one article, no gap, nothing lost."""
    if from_on and err != "ENOSPC" and not FULL:
        pytest.skip("a full disk is ENOSPC; FML_FAULTS_FULL=1 runs the rest")
    sc = prepare(make_list, kind)
    work = os.path.join(ml_dir, "runs")
    os.makedirs(work, mode=0o755)
    count, trace = baseline(sc, work, crashshim)
    assert count >= 20, trace
    t0 = time.time()
    recs = fault_sweep(sc, work, crashshim, count, err, from_on)
    failed = sum(1 for r in recs if r["rcs"][0] != 0)
    print("\npost %s %s%s: %d points, %d exited non-zero, %d re-delivered, %.1f s" % (
        kind, err, " from on" if from_on else "", len(recs), failed,
        sum(1 for r in recs if len(r["rcs"]) > 1), time.time() - t0))
    assert not any(r["problems"] for r in recs), report(sc, trace, recs)


@pytest.mark.parametrize("err", ERRORS)
def test_digest_every_durable_call_fails(make_list, sinks, crashshim, ml_dir, err):  # noqa: F811
    """fmldigest whose K-th durable call fails, then the next hours' runs:
    nobody misses or repeats a digest."""
    dr = DigestRun(make_list, sinks, ml_dir)
    total = dr.count(crashshim)
    problems = []
    for k in range(1, total + 1):
        d = dr.fresh("%s-k%d" % (err, k))
        dr.run(d, {"LD_PRELOAD": crashshim, "FML_FAIL_AT": k,
                   "FML_FAIL_ERRNO": getattr(errno, err)})
        problems += [(k, x) for x in dr.problems(d)]
    print("\ndigest %s: %d points" % (err, total))
    assert not problems, problems[:5]


@pytest.mark.parametrize("err", ERRORS)
def test_queue_every_durable_call_fails(template, crashshim, ml_dir, err):  # noqa: F811
    """fmlqueue run whose K-th durable call fails, then the next runs: every
    member gets the article, none more than twice, nothing stuck."""
    extra = ["--SMTP_CONNECTIONS=1"]
    total = baseline_count(template, crashshim, ml_dir, extra)
    problems = []
    for k in range(1, total + 1):
        d = copy_home(template, k, False)
        sink = Sink(ml_dir).start()
        try:
            run_queue(d, sink.uri(), {"LD_PRELOAD": crashshim, "FML_FAIL_AT": str(k),
                                      "FML_FAIL_ERRNO": str(getattr(errno, err))}, extra)
            for cmd in (None, ["flush"]):
                p = run_queue(d, sink.uri(), None, extra) if cmd is None else subprocess.run(
                    [FMLQUEUE, "flush", d, "--SMTP_SERVERS=" + sink.uri()],
                    capture_output=True, env={"PATH": "/usr/bin:/bin"}, timeout=120)
                if p.returncode != 0:
                    problems.append((k, "exit %d: %s" % (p.returncode, p.stderr[-300:])))
            check_delivery(template, d, sink, 1)
        except AssertionError as e:
            problems.append((k, str(e)[:300], areas(d)))
        finally:
            sink.stop()
            shutil.rmtree(d)
    print("\nqueue %s: %d points" % (err, total))
    assert not problems, problems[:5]


def cmd_sweep(case, check, shim, work, err):
    """Every durable call of a command mail's run failing with ERR in turn."""
    template, data = case
    d = copy_list_home(template.dir, os.path.join(work, "count"))
    cnt = os.path.join(work, "count.n")
    p = run_fml_env(d, data, {"LD_PRELOAD": shim, "FML_CRASH_COUNT": cnt}, ctl=True)
    assert p.returncode == 0, p.stderr
    total = int(open(cnt).read())
    assert total > 5

    def one(k):
        d = copy_list_home(template.dir, os.path.join(work, "%s-k%d" % (err, k)))
        p = run_fml_env(d, data, {"LD_PRELOAD": shim, "FML_FAIL_AT": k,
                                  "FML_FAIL_ERRNO": getattr(errno, err)}, ctl=True)
        ml, rcs = afterwards(template, d, data, p)
        return k, check(ml, rcs)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        found = {"%s #%d" % (err, k): pr for k, pr in ex.map(one, range(1, total + 1)) if pr}
    return total, found


@pytest.mark.parametrize("err", ERRORS)
def test_confirm_every_durable_call_fails(confirm_case, crashshim, ml_dir, err):  # noqa: F811
    total, found = cmd_sweep(confirm_case, confirm_check(confirm_case[0]), crashshim,
                             os.path.join(ml_dir, "runs"), err)
    print("\nconfirm %s: %d points" % (err, total))
    assert not found, report_of(found)


@pytest.mark.parametrize("err", ERRORS)
def test_approve_every_durable_call_fails(approve_case, crashshim, ml_dir, err):  # noqa: F811
    total, found = cmd_sweep(approve_case, approve_check(approve_case[0]), crashshim,
                             os.path.join(ml_dir, "runs"), err)
    print("\napprove %s: %d points" % (err, total))
    assert not found, report_of(found)
