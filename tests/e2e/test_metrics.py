"""fmlqueue metrics and METRICS_FILE (issue 16): the list's state as
OpenMetrics text for node_exporter's textfile collector."""
import os
import re

from conftest import mail, owner_ids
from test_queue import fmlqueue

SAMPLE = re.compile(r'^([a-z_]+)\{((?:[a-z]+="[^"\\\n]*",?)+)\} (-?[0-9]+)$')


def parse(text):
    """{(name, frozenset(labels)): value}; checks the OpenMetrics framing."""
    lines = text.rstrip("\n").split("\n")
    assert lines[-1] == "# EOF", lines[-3:]
    out, types = {}, {}
    for l in lines[:-1]:
        if l.startswith("# TYPE "):
            _, _, name, kind = l.split(" ")
            types[name] = kind
            continue
        if l.startswith("# HELP "):
            continue
        m = SAMPLE.match(l)
        assert m, "not a sample: %r" % l
        labels = frozenset(tuple(kv.split("=", 1)) for kv in re.findall(r'[a-z]+="[^"]*"', m.group(2)))
        family = m.group(1)[:-6] if m.group(1).endswith("_total") else m.group(1)
        assert family in types, "sample before its TYPE: %r" % l
        out[(m.group(1), labels)] = int(m.group(3))
    return out


def val(ms, name, **labels):
    want = frozenset((k, '"%s"' % v) for k, v in dict(list="elena", **labels).items())
    return ms[(name, want)]


def test_metrics_file_after_a_run(make_list, ml_dir):
    box = os.path.join(ml_dir, "box")
    os.makedirs(box)
    os.chown(box, *owner_ids())
    prom_dir = os.path.join(ml_dir, "textfile")
    os.makedirs(prom_dir)
    os.chown(prom_dir, *owner_ids())
    prom = os.path.join(prom_dir, "fml-elena.prom")
    ml = make_list(members=["alice@example.com", "bob@example.net"],
                   SMTP_SERVERS="maildir:" + box, METRICS_FILE=prom)
    ml.write("ban", "@spam.example\n")
    same = mail(subject="one")
    for data in (same, mail(subject="two"), same, mail(frm="x@spam.example")):
        p = ml.post(data, "--PERMIT_POST_FROM=anyone")
        assert p.returncode == 0, p.stderr
    fmlqueue("run", "-D", ml.ml_dir, "elena")
    with open(prom) as f:
        ms = parse(f.read())
    assert val(ms, "fml_articles_total") == 2
    # two articles and the maintainer's notice of the duplicate
    sent = ml.listdir("var", "queue", "sent")
    assert len(sent) == 3 and val(ms, "fml_queue_items", area="sent") == 3
    assert val(ms, "fml_queue_items", area="new") == 0
    assert val(ms, "fml_queue_bytes", area="sent") == sum(
        os.path.getsize(ml.path("var", "queue", "sent", n)) for n in sent)
    assert val(ms, "fml_recipients_today", result="delivered") == 5
    assert val(ms, "fml_recipients_today", result="failed") == 0
    assert val(ms, "fml_kept_mails", reason="duplicate") == 1
    assert val(ms, "fml_kept_mails", reason="banned") == 1
    assert val(ms, "fml_waiting_mails", where="incoming") == 0
    assert val(ms, "fml_queue_oldest_waiting_seconds") == 0
    assert val(ms, "fml_queue_last_success_timestamp_seconds") > 0
    # the command prints the same families
    out = fmlqueue("metrics", "-D", ml.ml_dir, "elena").stdout.decode()
    assert set(k[0] for k in parse(out)) == set(k[0] for k in ms)


def test_metrics_show_what_waits(make_list):
    ml = make_list(members=["alice@example.com"], SMTP_SERVERS="smtp:127.0.0.1:1")
    p = ml.post(mail())
    assert p.returncode == 0, p.stderr
    ms = parse(fmlqueue("metrics", "-D", ml.ml_dir, "elena").stdout.decode())
    assert val(ms, "fml_queue_items", area="new") == 1
    assert ("fml_queue_last_success_timestamp_seconds",
            frozenset({("list", '"elena"')})) not in ms  # no run yet
