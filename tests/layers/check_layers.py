#!/usr/bin/env python3
"""check-layers: lib/ keeps its layers, and its names say their file.

    check_layers.py --layers util,mail,list,... OBJECT.o...

Each OBJECT is build/lib/LAYER/MODULE.o: its folder is its layer, its file
name its module.  With nm(1) every undefined symbol of an object is mapped
to the module that defines it, which gives the module graph; then:

  - an edge into a higher layer (up) fails, naming the symbol;
  - a circle of modules (inside one layer) fails, naming an edge of it;
  - an exported symbol of MODULE that is not MODULE or MODULE_* fails;
  - a source file of LAYER that includes a header of a higher layer fails
    (headers carry types, which nm cannot see): "other/x.h" must name a
    layer at or below LAYER, and a bare "x.h" must be in its own folder.

Prints one line per offence and exits 1, or a summary line and exits 0.
"""
import argparse
import os
import re
import subprocess
import sys


def nm(obj, *flags):
    out = subprocess.run(["nm", *flags, obj], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2:
            yield f[-2], f[-1]


def modules(objs, order):
    mods = {}
    for o in objs:
        layer = os.path.basename(os.path.dirname(o))
        name = os.path.splitext(os.path.basename(o))[0]
        if layer not in order:
            sys.exit("check-layers: %s: folder %s is not a declared layer" % (o, layer))
        if name in mods:
            sys.exit("check-layers: module %s twice (%s, %s)" % (name, mods[name]["obj"], o))
        mods[name] = {"obj": o, "layer": layer, "rank": order.index(layer)}
    return mods


def graph(mods):
    """{module: {module: [symbols]}} and the offending exported names."""
    owner, bad_names = {}, []
    for m, d in mods.items():
        for _kind, sym in nm(d["obj"], "-g", "--defined-only"):
            owner[sym] = m
            if sym != m and not sym.startswith(m + "_"):
                bad_names.append("%s: exports %s (want %s_*)" % (d["obj"], sym, m))
    edges = {m: {} for m in mods}
    for m, d in mods.items():
        for kind, sym in nm(d["obj"], "-u"):
            t = owner.get(sym)
            if t and t != m:
                edges[m].setdefault(t, []).append(sym)
    return edges, bad_names


def circles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def includes(mods, order, src_root):
    """Header includes that run up (or name a header outside any layer)."""
    bad = []
    layers = {d["layer"] for d in mods.values()}
    for layer in sorted(layers):
        folder = os.path.join(src_root, layer)
        for f in sorted(os.listdir(folder)):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, f)
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for inc in INCLUDE.findall(text):
                if "/" in inc:
                    other = inc.split("/")[0]
                    if other not in order:
                        bad.append("%s: includes %s (not a layer)" % (path, inc))
                    elif order.index(other) > order.index(layer):
                        bad.append("%s: includes %s (%s is above %s)"
                                   % (path, inc, other, layer))
                    elif not os.path.exists(os.path.join(src_root, inc)):
                        bad.append("%s: includes %s (no such header)" % (path, inc))
                elif not os.path.exists(os.path.join(folder, inc)) and not inc.endswith(".def"):
                    bad.append("%s: includes \"%s\" (not in %s/: name its layer)"
                               % (path, inc, layer))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", required=True, help="comma-separated, lowest first")
    ap.add_argument("--src", help="the lib/ source tree, for the include check")
    ap.add_argument("objs", nargs="+")
    a = ap.parse_args()
    order = a.layers.split(",")
    mods = modules(a.objs, order)
    edges, problems = graph(mods)
    nedges = 0
    for m in sorted(edges):
        for t, syms in sorted(edges[m].items()):
            nedges += 1
            if mods[t]["rank"] > mods[m]["rank"]:
                problems.append("%s/%s -> %s/%s: upward call of %s"
                                % (mods[m]["layer"], m, mods[t]["layer"], t,
                                   ", ".join(sorted(set(syms)))))
    for comp in circles(edges):
        cyc = ["%s -> %s (%s)" % (m, t, ", ".join(sorted(set(edges[m][t]))))
               for m in comp for t in sorted(edges[m]) if t in comp]
        problems.append("circle of %s: %s" % (", ".join(comp), "; ".join(cyc)))
    if a.src:
        problems += includes(mods, order, a.src)
    for p in problems:
        print("check-layers: " + p)
    if problems:
        print("check-layers: %d problem(s)" % len(problems))
        return 1
    print("check-layers: %d modules in %d layers, %d edges, none up, no circle"
          % (len(mods), len({d['layer'] for d in mods.values()}), nedges))
    return 0


if __name__ == "__main__":
    sys.exit(main())
