"""The layer checker itself (tests/layers/check_layers.py).

It must pass on the tree as built, and fail, naming the symbol or the
header, on each kind of breach: a call into a higher layer, a circle of
modules inside one layer, an exported name that does not say its file, and
a header of a higher layer included from a lower one.  The breaches are
small objects compiled into a scratch copy of build/lib/ (the real objects
beside them), so the checker sees exactly what it sees in `make check`.
"""
import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECKER = os.path.join(ROOT, "tests", "layers", "check_layers.py")


def declared_layers():
    """The Makefile's LAYERS, lowest first, as the checker takes them."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        for line in f:
            if line.startswith("LAYERS "):
                return ",".join(line.split("=", 1)[1].split())
    raise AssertionError("no LAYERS in the Makefile")


LAYERS = declared_layers()


def real_objects():
    objs = sorted(glob.glob(os.path.join(ROOT, "build", "lib", "*", "*.o")))
    if not objs:
        pytest.skip("build/lib is empty: run make first")
    return objs


def check(objs, src=None):
    cmd = [sys.executable, CHECKER, "--layers", LAYERS]
    if src:
        cmd += ["--src", src]
    p = subprocess.run(cmd + objs, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


@pytest.fixture
def scratch(tmp_path):
    """A copy of build/lib/ and lib/ that a test may add breaches to."""
    objs = []
    for o in real_objects():
        layer = os.path.basename(os.path.dirname(o))
        os.makedirs(tmp_path / "build" / layer, exist_ok=True)
        dst = tmp_path / "build" / layer / os.path.basename(o)
        shutil.copy(o, dst)
        objs.append(str(dst))
    shutil.copytree(os.path.join(ROOT, "lib"), tmp_path / "lib")
    return tmp_path, objs


def add_object(root, layer, name, code):
    """Compile CODE as module NAME of LAYER; returns the object's path."""
    src = root / "lib" / layer / (name + ".c")
    src.write_text(code)
    obj = root / "build" / layer / (name + ".o")
    subprocess.run(["cc", "-c", "-I" + str(root / "lib"), "-o", str(obj), str(src)], check=True)
    return str(obj)


def test_the_tree_passes():
    rc, out = check(real_objects(), os.path.join(ROOT, "lib"))
    assert rc == 0, out
    assert "none up, no circle" in out


# (what, objects to add as (layer, module, code), exit status, lines wanted)
CASES = [
    ("an upward call", [("util", "zzup", "long distribute_post(void);\n"
                         "long zzup_count(void) { return distribute_post(); }\n")],
     1, ["util/zzup -> actions/distribute: upward call of distribute_post"]),
    ("a circle inside one layer", [
        ("mail", "zza", "int zzb_two(void);\nint zza_one(void) { return zzb_two(); }\n"),
        ("mail", "zzb", "int zza_one(void);\nint zzb_two(void) { return zza_one() + 1; }\n")],
     1, ["circle of zza, zzb", "zza -> zzb (zzb_two)", "zzb -> zza (zza_one)"]),
    ("a name that does not say its file",
     [("util", "zzname", "int fs_elsewhere(void) { return 1; }\n")],
     1, ["zzname.o: exports fs_elsewhere (want zzname_*)"]),
    ("a downward call", [("proc", "zzdown", "long seq_last(const char *);\n"
                          "long zzdown_seq(void) { return seq_last(\".\"); }\n")],
     0, ["none up, no circle"]),
]


@pytest.mark.parametrize("what,adds,rc_want,lines", CASES, ids=[c[0] for c in CASES])
def test_breaches(scratch, what, adds, rc_want, lines):
    root, objs = scratch
    for layer, name, code in adds:
        objs.append(add_object(root, layer, name, code))
    rc, out = check(objs)
    assert rc == rc_want, out
    for line in lines:
        assert line in out, out


def test_an_upward_include_fails(scratch):
    root, objs = scratch
    (root / "lib" / "list" / "zzinc.h").write_text('#include "actions/action.h"\n')
    (root / "lib" / "mail" / "zzbare.h").write_text('#include "config.h"\n')
    rc, out = check(objs, str(root / "lib"))
    assert rc == 1
    assert "lib/list/zzinc.h: includes actions/action.h (actions is above list)" in out
    assert "lib/mail/zzbare.h: includes \"config.h\" (not in mail/: name its layer)" in out
