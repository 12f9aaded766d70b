"""Start-up of the alias pipe (issue 11): what fml costs before it does
anything, beside mlmmj-receive.

    /usr/bin/python3 bench/startup.py [OLD_FML] [N]     (as root)

Prints, median / p90 / min of the wall time per run (fork, exec, wait, as
bench.py measures), N runs each, the programs interleaved:
  - a 2000-byte post piped into fml on a 3-member list (DELIVERY_MODE =
    queue: accepted, spooled, queued; no delivery), this tree's fml and,
    if given, OLD_FML (e.g. a build of an older commit) on its own list;
  - a "help" command mail to the command address (--ctladdr): fml hands
    it to fmlproc, the cost of the extra exec;
  - each program started without arguments (it prints its usage and
    exits): the cost of starting the binary, its shared objects, until
    main, beside /usr/bin/mlmmj-receive started the same way.
Nothing is sent: no sink is needed.  Lists are made with this tree's
makefml under a temp directory, removed at the end."""
import os
import shutil
import statistics
import sys
import tempfile
import time

TREE = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.argv, ARGS = [sys.argv[0], TREE, TREE, "0", "/dev/null", TREE], sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (reads the argv above)

NEW = os.path.join(TREE, "fml", "fml")
OLD = ARGS[0] if ARGS and ARGS[0] != "-" else None
N = int(ARGS[1]) if len(ARGS) > 1 else 200
MLMMJ = "/usr/bin/mlmmj-receive"
ENV = {"PATH": "/usr/bin:/bin", "SENDER": "poster@example.net"}


def run(argv, infile):
    fd = os.open(infile, os.O_RDONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(fd, 0)
        null = os.open("/dev/null", os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.execve(argv[0], argv, ENV)
    _, st = os.waitpid(pid, 0)
    t = time.perf_counter() - t0
    os.close(fd)
    return t, os.waitstatus_to_exitcode(st)


def show(what, v):
    v = sorted(v)
    print("%-42s median %6.2f ms  p90 %6.2f ms  min %6.2f ms  (n=%d)" % (
        what, statistics.median(v) * 1e3, v[int(len(v) * 0.9)] * 1e3, v[0] * 1e3, len(v)))


def command_mail(path, i):
    with open(path, "w") as f:
        f.write("From: poster@example.net\nTo: bench-ctl@example.org\nSubject: c\n"
                "Message-ID: <c%d.startup@example.net>\n"
                "Date: Sat, 01 Jun 2024 12:00:00 +0000\n\nhelp\n" % i)


def main():
    progs = [("fml", NEW)] + ([("fml (old)", OLD)] if OLD else [])
    tmp = tempfile.mkdtemp(prefix="fml-startup.")
    os.chmod(tmp, 0o755)
    try:
        lists = {k: bench.fml_list(os.path.join(tmp, str(i)), ["poster@example.net",
                                   "a@example.net", "b@example.net"],
                                   [("DELIVERY_MODE", "queue")])[0]
                 for i, (k, _) in enumerate(progs)}
        post, cmd = os.path.join(tmp, "post"), os.path.join(tmp, "cmd")
        res = {}
        for i in range(N):
            bench.make_post(post, "s%d" % i, "poster@example.net", 2000)
            command_mail(cmd, i)
            for k, prog in progs:
                for what, argv, infile in (("post", [prog, lists[k]], post),
                                           ("command mail", [prog, lists[k], "--ctladdr"], cmd),
                                           ("no arguments", [prog], "/dev/null")):
                    t, rc = run(argv, infile)
                    if what != "no arguments" and rc != 0:
                        sys.exit("%s %s: exit %d" % (k, what, rc))
                    res.setdefault("%s: %s" % (k, what), []).append(t)
            t, _ = run([MLMMJ], "/dev/null")
            res.setdefault("mlmmj-receive: no arguments", []).append(t)
        for k, v in res.items():
            show(k, v)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
