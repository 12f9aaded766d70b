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
# What a test program linked with build/libfml.a needs (the Makefile's LIBS).
LIBFML = os.path.join(ROOT, "build", "libfml.a")
LIBS = subprocess.run(["pkg-config", "--libs", "gmime-3.0", "glib-2.0"], capture_output=True,
                      text=True).stdout.split() + ["-lgdbm", "-lmagic", "-larchive", "-lcrypt"]


def owner_ids():
    pw = pwd.getpwnam(OWNER)
    return pw.pw_uid, pw.pw_gid


def chown_tree(path):
    uid, gid = owner_ids()
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, uid, gid)
        for name in filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


# The session's DNS server on loopback (tests/e2e/dnsserver.py): no record
# at all unless a test adds some (test_dmarc.py), so DMARC_MITIGATION auto,
# the default, finds no policy and changes nothing.
TEST_DNS = None


@pytest.fixture(scope="session", autouse=True)
def test_dns():
    global TEST_DNS
    from dnsserver import DnsServer
    TEST_DNS = DnsServer({}).start()
    yield TEST_DNS
    TEST_DNS.stop()
    TEST_DNS = None


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
        if args and args[0] == "newml" and p.returncode == 0 and TEST_DNS:
            # DMARC lookups (DMARC_MITIGATION auto) ask the tests' own DNS
            # server on loopback, never the network
            subprocess.run([MAKEFML, "-D", self.ml_dir, "config", args[1], "DNS_SERVERS",
                            TEST_DNS.address], capture_output=True, check=True)
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
            elif key == "rcpts":
                # a recipient snapshot (doc/fml-queue.5): its item's link,
                # else the generation's name
                self.attrs[key] = val
                self.rcpts = qsnap_read(path, self.name, val)
            else:
                self.attrs[key] = val


def qsnap_read(item_path, name, ref):
    """The addresses of the snapshot that an item names ("rcpts GEN COUNT
    SHA256"), checked against the reference."""
    gen, count, sha = ref.split(" ")
    qdir = os.path.dirname(os.path.dirname(item_path))
    base = name.rsplit(".", 1)[0] if os.path.basename(
        os.path.dirname(item_path)) == "active" else name
    path = os.path.join(qdir, "rcpt", "items", base)
    if not os.path.exists(path):
        path = os.path.join(qdir, "rcpt", "g" + gen)
    with open(path, "rb") as f:
        head, _, data = f.read().partition(b"\n\n")
    lines = head.split(b"\n")
    assert lines[:2] == [b"FMLR 1", b"gen " + gen.encode()], head
    if not lines[2].startswith(b"base "):
        assert hashlib.sha256(data).hexdigest() == sha, "snapshot %s damaged" % gen
        addrs = data.decode().split("\n")[:-1]
        assert len(addrs) == int(count)
        return addrs
    # a delta: its base (the item's link, else the generation's), merged
    # with its adds; the checksum binds the base's header and the adds
    with open(path + ".base" if os.path.exists(path + ".base")
              else os.path.join(qdir, "rcpt", "g%s.base" % gen), "rb") as f:
        bhead, _, bdata = f.read().partition(b"\n\n")
    bl = dict(x.split(b" ", 1) for x in bhead.split(b"\n")[1:])
    assert bl[b"gen"] == lines[2][5:], (head, bhead)
    assert hashlib.sha256(bdata).hexdigest().encode() == bl[b"sha256"]
    seed = b"fmlr-delta %s %s %s\n" % (bl[b"gen"], bl[b"count"], bl[b"sha256"])
    assert hashlib.sha256(seed + data).hexdigest() == sha, "snapshot %s damaged" % gen
    base, adds = bdata.decode().split("\n")[:-1], data.decode().split("\n")[:-1]
    assert not set(base) & set(adds)
    addrs = sorted(base + adds, key=lambda a: (a.rsplit("@", 1)[-1].encode(), a.encode()))
    assert len(addrs) == int(count)
    return addrs


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
        # tests of the pipe look at var/queue/new: fml only queues unless a
        # test asks for delivery (the default, background, kicks fmlqueue)
        config.setdefault("DELIVERY_MODE", "queue")
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


# ---------------------------------------------------------------------------
# Helpers shared by test_post.py, test_dispatch.py and test_postfix.py.
# They only read what a list admin would look at: files, queue items, bytes.

import hashlib  # noqa: E402
import re  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data")
QITEM_TRAILER_LEN = 96
ML = "elena@example.org"
CTL = "elena-ctl@example.org"
MAINTAINER = "elena-admin@example.org"
BOUNCE_ADDRESS = "elena-bounces@example.org"  # the envelope sender of articles
QUEUE_AREAS = ("tmp", "new", "active", "deferred", "sent", "drop", "corrupt")


def data(name):
    """The bytes of tests/data/NAME (a sample mail)."""
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def split_message(raw):
    """(header, body) of RAW: the header keeps its last line ending, the
    blank line that separates them belongs to neither.  A mail without a
    blank line is all header."""
    pos = 0
    while pos < len(raw):
        nl = raw.find(b"\n", pos)
        if nl < 0:
            break
        if raw[pos:nl + 1] in (b"\n", b"\r\n"):
            return raw[:pos], raw[nl + 1:]
        pos = nl + 1
    return raw, b""


def header_fields(raw):
    """[(name, raw_field_bytes, unfolded_value_str)] of RAW's header, in order."""
    head, _ = split_message(raw)
    fields = []
    for line in re.split(rb"(?<=\n)", head):
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and fields:
            name, rawf, _ = fields[-1]
            fields[-1] = (name, rawf + line, None)
            continue
        name = line.split(b":", 1)[0].decode("latin-1")
        fields.append((name, line, None))
    out = []
    for name, rawf, _ in fields:
        value = rawf.split(b":", 1)[1] if b":" in rawf else b""
        value = re.sub(rb"\r?\n([ \t])", rb"\1", value).rstrip(b"\r\n").strip(b" \t")
        out.append((name, rawf, value.decode("utf-8", errors="replace")))
    return out


def field_values(raw, name):
    """Unfolded values of every NAME field (case-insensitive) of RAW."""
    return [v for n, _, v in header_fields(raw) if n.lower() == name.lower()]


def field_value(raw, name):
    """The value of the one NAME field of RAW; fails unless there is exactly one."""
    vals = field_values(raw, name)
    assert len(vals) == 1, "%s: want exactly one, got %r" % (name, vals)
    return vals[0]


def qitem_verify(raw):
    """Check a queue item's trailer as fmlqueue will (doc/fml-queue.5):
    "\\nFMLQ-END <length, 20 digits> <sha256 hex>\\n", 96 bytes; the length
    is that of everything before the trailer, the hash is over the same
    bytes with every recipient's state byte read as '-'."""
    assert len(raw) >= QITEM_TRAILER_LEN
    trailer = raw[-QITEM_TRAILER_LEN:]
    m = re.fullmatch(rb"\nFMLQ-END (\d{20}) ([0-9a-f]{64})\n", trailer)
    assert m, "bad trailer %r" % trailer
    before = raw[:-QITEM_TRAILER_LEN]
    assert int(m.group(1)) == len(before), "trailer length %d, item has %d" % (
        int(m.group(1)), len(before))
    env_end = before.index(b"\n\n") + 1
    lines = before[:env_end].split(b"\n")
    canon = b"\n".join(l[:5] + b"-" + l[6:] if l.startswith(b"rcpt ") else l
                       for l in lines)
    assert hashlib.sha256(canon + before[env_end:]).hexdigest().encode() == m.group(2), \
        "trailer sha256 does not match the item"
    return True


def _qitem_states(self):
    head = self.raw[:-QITEM_TRAILER_LEN].partition(b"\n\n")[0].decode()
    if "rcpts" not in self.attrs:
        return [l.split(" ", 2)[1] for l in head.split("\n") if l.startswith("rcpt ")]
    # a snapshot item has no state bytes: the journal is the truth (its D
    # and F lines, main file and worker parts, as fmlqueue reads them)
    qdir = os.path.dirname(os.path.dirname(self.path))
    base = self.name.rsplit(".", 1)[0] if os.path.basename(
        os.path.dirname(self.path)) == "active" else self.name
    jdir = os.path.join(qdir, "journal")
    final = {}
    for n in sorted(os.listdir(jdir)) if os.path.isdir(jdir) else []:
        if n != base and not re.fullmatch(re.escape(base) + r"\.w\d+", n):
            continue
        with open(os.path.join(jdir, n)) as f:
            for line in f.read().split("\n")[:-1]:
                if line[:2] in ("D ", "F "):
                    final[line[2:].split(" ", 1)[0]] = line[0]
    return [final.get(a, "-") for a in self.rcpts]


def _qitem_header(self):
    return split_message(self.message)[0]


def _qitem_body(self):
    return split_message(self.message)[1]


QueueItem.states = property(_qitem_states)
QueueItem.header = property(_qitem_header)
QueueItem.body = property(_qitem_body)
QueueItem.verify = lambda self: qitem_verify(self.raw)
QueueItem.field = lambda self, name: field_value(self.message, name)
QueueItem.fields = lambda self, name: field_values(self.message, name)


def _ml_incoming(self):
    """What is left in var/incoming (should be nothing once fml exits 0)."""
    return self.listdir("var", "incoming")


def _ml_area(self, *parts):
    return self.listdir(*parts) if self.exists(*parts) else []


def _ml_all_items(self):
    """Every committed queue item, in every area."""
    items = []
    for area in QUEUE_AREAS[1:]:
        if self.exists("var", "queue", area):
            items += [i for i in self.queue_items(area)]
    return items


def _ml_replies(self):
    """Queue items fml wrote as replies or notices (envelope sender <>)."""
    return [i for i in self.all_items() if i.sender == ""]


def _ml_spool(self, n):
    return self.read("spool", str(n))


MailList.incoming = _ml_incoming
MailList.area = _ml_area
MailList.all_items = _ml_all_items
MailList.replies = _ml_replies
MailList.spool = _ml_spool


def assert_done(ml, p):
    """What every accepted mail must leave: exit 0, nothing in var/incoming,
    nothing half-written in the queue."""
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (
        p.returncode, p.stdout.decode(errors="replace"),
        p.stderr.decode(errors="replace"))
    assert ml.incoming() == [], "left in var/incoming: %r" % ml.incoming()
    assert ml.area("var", "queue", "tmp") == []
    for item in ml.all_items():
        item.verify()


# ---------------------------------------------------------------------------
# A private Postfix on 127.0.0.1 (test_postfix.py; reusable by any test that
# needs a real MTA).  Nothing of the system's Postfix is touched: the
# instance has its own config_directory, queue_directory and data_directory
# under .test-tmp/, listens on a free high port of 127.0.0.1 only, never
# looks up DNS and sends nothing off the host (every non-local destination
# goes to discard(8)).  The aliases file and its .db are owned by "nobody",
# so local(8) runs pipe aliases as nobody, as on a real list server.

import grp  # noqa: E402
import smtplib  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

POSTFIX_SERVICES = """\
{listen} inet n - n - - smtpd
pickup     unix  n - n 60    1 pickup
cleanup    unix  n - n -     0 cleanup
qmgr       unix  n - n 300   1 qmgr
rewrite    unix  - - n -     - trivial-rewrite
bounce     unix  - - n -     0 bounce
defer      unix  - - n -     0 bounce
trace      unix  - - n -     0 bounce
verify     unix  - - n -     1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n -     - proxymap
proxywrite unix  - - n -     1 proxymap
smtp       unix  - - n -     - smtp
relay      unix  - - n -     - smtp
showq      unix  n - n -     - showq
error      unix  - - n -     - error
retry      unix  - - n -     - error
discard    unix  - - n -     - discard
local      unix  - n n -     - local
anvil      unix  - - n -     1 anvil
scache     unix  - - n -     1 scache
postlog    unix-dgram n - n - 1 postlogd
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PrivatePostfix:
    """One Postfix instance under BASE: etc/ (main.cf, master.cf, aliases),
    queue/, data/, maillog."""

    def __init__(self, base, aliases, mailboxes=(), main=()):
        self.base = base
        self.main = list(main)  # more main.cf lines
        self.conf = os.path.join(base, "etc")
        self.queue = os.path.join(base, "queue")
        self.data = os.path.join(base, "data")
        self.mail = os.path.join(base, "mail")
        self.maillog = os.path.join(base, "maillog")
        self.port = free_port()
        self.aliases = dict(aliases)
        self.mailboxes = list(mailboxes)
        self.started = False

    def _run(self, *argv):
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)

    def setup(self):
        """Write the instance; returns None or the reason it cannot run."""
        for tool in ("postfix", "postalias", "postqueue", "postconf"):
            if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
                return "%s not installed (Debian package postfix)" % tool
        try:
            pw = pwd.getpwnam("postfix")
            grp.getgrnam("postdrop")
        except KeyError as e:
            return "no postfix user or postdrop group: %s" % e
        for d in (self.conf, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.base, 0o755)
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        if self.mailboxes:
            self._make_mailboxes()
        alias_file = os.path.join(self.conf, "aliases")
        main_cf = "\n".join([
            "compatibility_level = 3.6",
            "config_directory = " + self.conf,
            "queue_directory = " + self.queue,
            "data_directory = " + self.data,
            "mail_owner = postfix",
            "setgid_group = postdrop",
            "myhostname = mail.example.org",
            "mydomain = example.org",
            "myorigin = example.org",
            "mydestination = example.org",
            "inet_interfaces = 127.0.0.1",
            "inet_protocols = ipv4",
            "mynetworks = 127.0.0.0/8",
            "relayhost =",
            "smtp_dns_support_level = disabled",
            "default_transport = discard:no mail leaves the test instance",
            "relay_transport = discard:no mail leaves the test instance",
            "alias_maps = hash:" + alias_file,
            "alias_database = hash:" + alias_file,
            "local_recipient_maps = $alias_maps",
            "allow_mail_to_commands = alias,forward,include",
            "biff = no",
            "smtputf8_enable = no",
            *self.main,
            "maillog_file = " + self.maillog,
            "maillog_file_prefixes = " + self.base,
            "syslog_name = postfix-fmltest",
            "",
        ])
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(main_cf)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_SERVICES.format(listen="127.0.0.1:%d" % self.port))
        with open(alias_file, "w") as f:
            for name, target in self.aliases.items():
                f.write("%s: %s\n" % (name, target))
        p = self._run("postalias", "-c", self.conf, alias_file)
        if p.returncode != 0:
            return "postalias failed: " + (p.stderr or p.stdout).strip()
        uid, gid = owner_ids()
        for name in ("aliases", "aliases.db"):
            os.chown(os.path.join(self.conf, name), uid, gid)
        return None

    # --- local mailboxes: NAME@example.org delivered by local(8) to the mbox
    # file mail/mbox-NAME (an alias "NAME: /path"; allow_mail_to_files allows
    # it for aliases by default).  The file is written as the owner of the
    # alias database, "nobody", who owns mail/ and the files.
    def mbox_path(self, name):
        return os.path.join(self.mail, "mbox-" + name)

    def _make_mailboxes(self):
        uid, gid = owner_ids()
        os.makedirs(self.mail, exist_ok=True)
        os.chmod(self.mail, 0o755)
        os.chown(self.mail, uid, gid)
        for name in self.mailboxes:
            path = self.mbox_path(name)
            with open(path, "wb"):
                pass
            os.chmod(path, 0o600)
            os.chown(path, uid, gid)
            self.aliases.setdefault(name, path)

    def mbox(self, name):
        """The raw bytes of mail/mbox-NAME."""
        with open(self.mbox_path(name), "rb") as f:
            return f.read()

    def mbox_messages(self, name):
        """The messages of mail/mbox-NAME, each as the bytes after its From_
        line, without the blank line local(8) ends it with.  Body lines that
        began with "From " are ">From " here (mbox quoting)."""
        return mbox_split(self.mbox(name))

    def start(self):
        """Start the instance; returns None or the reason it did not start."""
        self._run("postfix", "-c", self.conf, "check")
        p = self._run("postfix", "-c", self.conf, "start")
        if p.returncode != 0:
            return "postfix -c %s start: exit %d: %s %s\n%s" % (
                self.conf, p.returncode, p.stdout.strip(), p.stderr.strip(),
                self.log()[-2000:])
        self.started = True
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2):
                    return None
            except OSError:
                time.sleep(0.2)
        return "smtpd of the private Postfix never listened on 127.0.0.1:%d\n%s" % (
            self.port, self.log()[-2000:])

    def stop(self):
        if not self.started:
            return
        pid = self.master_pid()
        self._run("postfix", "-c", self.conf, "stop")
        # master.pid outlives the master; wait for the process itself (a
        # zombie counts as gone: a container's init may never reap it)
        wait_for(lambda: not pid or not process_alive(pid), timeout=20)
        self.started = False

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def queue_listing(self):
        return self._run("postqueue", "-c", self.conf, "-p").stdout

    def queue_empty(self):
        return "Mail queue is empty" in self.queue_listing()

    def submit(self, sender, rcpts, message):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("client.example.com")
            return s.sendmail(sender, rcpts, message)


def mbox_split(raw):
    """The messages of the mbox RAW (see PrivatePostfix.mbox_messages)."""
    out = []
    for chunk in re.split(rb"(?m)^From [^\n]*\n", raw)[1:]:
        assert chunk.endswith(b"\n\n"), "mbox message without the closing blank line"
        out.append(chunk[:-1])
    return out


def process_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_for(cond, timeout=60, interval=0.2):
    """Poll COND until it is true or TIMEOUT seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)


@pytest.fixture
def private_postfix():
    """private_postfix({alias: target, ...}, mailboxes=(), main=()) -> a
    started PrivatePostfix, stopped and removed when the test ends.  Each
    name in MAILBOXES is a local recipient NAME@example.org with its own mbox
    file (PrivatePostfix.mbox_path); MAIN are more main.cf lines.  Skips (with the reason) when Postfix cannot
    run here."""
    instances = []

    def start(aliases, mailboxes=(), main=()):
        os.makedirs(TMP, exist_ok=True)
        base = os.path.join(TMP, "pf-" + uuid.uuid4().hex[:10])
        os.mkdir(base, 0o755)
        pf = PrivatePostfix(base, aliases, mailboxes, main)
        instances.append(pf)
        why = pf.setup() or pf.start()
        if why:
            pytest.skip("private Postfix cannot run here: " + why)
        return pf

    yield start
    for pf in instances:
        pf.stop()
        if os.environ.get("KEEP_TEST_TMP") != "1":
            shutil.rmtree(pf.base, ignore_errors=True)
