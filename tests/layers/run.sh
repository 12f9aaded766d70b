#!/bin/sh
# make check's "layers" suite: the layer check on the objects as built
# (make check-layers), then the checker's own tests.  Prints
# "RESULT layers PASSED FAILED".
cd "$(dirname "$0")/../.." || exit 75
pass=0 fail=0
if make -s check-layers; then pass=1; else fail=1; fi
out=$(mktemp)
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/layers 2>&1 | tee "$out"
p=$(grep -Eo '[0-9]+ passed' "$out" | tail -1 | grep -Eo '[0-9]+')
f=$(grep -Eo '[0-9]+ (failed|error)' "$out" | grep -Eo '[0-9]+' | awk '{s+=$1} END{print s+0}')
rm -f "$out"
[ -n "$p" ] || [ "${f:-0}" -gt 0 ] || f=1 # no result at all counts as a failure
echo "RESULT layers $((pass + ${p:-0})) $((fail + ${f:-0}))"
