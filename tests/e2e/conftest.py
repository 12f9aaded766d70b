"""Shared fixtures for fml's end-to-end tests.

Every test gets a throwaway ML_DIR under .test-tmp/ (world-traversable, so
the unprivileged list owner can reach it), owned by "nobody".  Lists are made
with the real makefml and posts are piped into the real fml exactly as an
alias does: the program's stdin is the mail, the exit status is what the MTA
sees.
"""
import os
import pwd
import shutil
import subprocess
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FML = os.path.join(ROOT, "fml", "fml")
MAKEFML = os.path.join(ROOT, "fml", "makefml")
TMP = os.path.join(ROOT, ".test-tmp")
OWNER = "nobody"


def owner_ids():
    pw = pwd.getpwnam(OWNER)
    return pw.pw_uid, pw.pw_gid


def chown_tree(path):
    uid, gid = owner_ids()
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


class MailList:
    """A list home made by makefml newml, with helpers to post and inspect."""

    def __init__(self, ml_dir, name, domain="example.org"):
        self.ml_dir = ml_dir
        self.name = name
        self.domain = domain
        self.dir = os.path.join(ml_dir, name)

    # --- running the programs
    def makefml(self, *args, check=True, input=None):
        p = subprocess.run([MAKEFML, "-D", self.ml_dir, *args], input=input,
                           capture_output=True)
        if check and p.returncode != 0:
            raise AssertionError("makefml %s: exit %d: %s" % (
                " ".join(args), p.returncode, p.stderr.decode(errors="replace")))
        return p

    def post(self, mail, *args, env=None, ctl=False, timeout=60):
        """Pipe MAIL (bytes or str) into fml as an alias would."""
        if isinstance(mail, str):
            mail = mail.encode()
        argv = [FML, self.dir, *args]
        if ctl:
            argv.append("--ctladdr")
        e = {"PATH": "/usr/bin:/bin"}
        if env:
            e.update(env)
        return subprocess.run(argv, input=mail, capture_output=True, env=e,
                              timeout=timeout)

    # --- the list home
    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def read(self, *parts, mode="rb"):
        with open(self.path(*parts), mode) as f:
            return f.read()

    def text(self, *parts):
        return self.read(*parts).decode("utf-8", errors="replace")

    def exists(self, *parts):
        return os.path.exists(self.path(*parts))

    def seq(self):
        return int(self.text("seq").strip() or 0) if self.exists("seq") else 0

    def articles(self):
        return sorted(int(n) for n in os.listdir(self.path("spool")) if n.isdigit())

    def listdir(self, *parts):
        return sorted(os.listdir(self.path(*parts)))

    def queue_items(self, area="new"):
        return [QueueItem(self.path("var", "queue", area, n))
                for n in self.listdir("var", "queue", area)]

    def log(self):
        return self.text("log") if self.exists("log") else ""

    def write(self, name, data):
        with open(self.path(name), "w") as f:
            f.write(data)
        uid, gid = owner_ids()
        os.chown(self.path(name), uid, gid)

    def set_config(self, **kv):
        with open(self.path("config.cf"), "a") as f:
            for k, v in kv.items():
                f.write("%s = %s\n" % (k, v))


class QueueItem:
    """A parsed queue item (doc/fml-queue.5)."""

    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        with open(path, "rb") as f:
            self.raw = f.read()
        trailer = self.raw[-96:]
        assert trailer.startswith(b"\nFMLQ-END "), trailer
        body = self.raw[:-96]
        head, _, self.message = body.partition(b"\n\n")
        lines = head.decode().split("\n")
        assert lines[0] == "FMLQ 1"
        self.sender = None
        self.rcpts = []
        self.attrs = {}
        for line in lines[1:]:
            key, _, val = line.partition(" ")
            if key == "sender":
                self.sender = val
            elif key == "rcpt":
                state, _, addr = val.partition(" ")
                self.rcpts.append(addr)
            else:
                self.attrs[key] = val


@pytest.fixture
def ml_dir():
    os.makedirs(TMP, exist_ok=True)
    os.chmod(TMP, 0o755)
    d = os.path.join(TMP, "ml-" + uuid.uuid4().hex[:10])
    os.mkdir(d, 0o755)
    uid, gid = owner_ids()
    os.chown(d, uid, gid)
    yield d
    if os.environ.get("KEEP_TEST_TMP") != "1":
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def make_list(ml_dir):
    """make_list(name='elena', members=[...], actives=None, **config)"""

    def make(name="elena", members=(), actives=None, domain="example.org", **config):
        ml = MailList(ml_dir, name, domain)
        ml.makefml("newml", name, domain)
        for m in members:
            ml.makefml("add", name, m)
        if actives is not None:
            ml.write("actives", "".join(a + "\n" for a in actives))
        if config:
            ml.set_config(**config)
        return ml

    return make


def mail(frm="alice@example.com", to="elena@example.org", subject="hello",
         body="Hello, list.\n", msgid=None, extra="", eol="\n"):
    """A small RFC 5322 message as bytes."""
    if msgid is None:
        msgid = "<%s@example.com>" % uuid.uuid4().hex
    head = ["From: %s" % frm, "To: %s" % to, "Subject: %s" % subject,
            "Message-ID: %s" % msgid, "Date: Sat, 21 Nov 2026 10:00:00 +0000"]
    if extra:
        head += extra.rstrip("\n").split("\n")
    text = eol.join(head) + eol + eol + body.replace("\n", eol)
    return text.encode()
