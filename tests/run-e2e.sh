#!/bin/sh
# End-to-end tests (pytest, Debian's python3-pytest), run as root: lists are
# owned by the unprivileged user "nobody" and fml drops to it, as it does
# when an MTA runs it as root.  Prints "RESULT e2e PASSED FAILED".
cd "$(dirname "$0")/.." || exit 75
PY=/usr/bin/python3
mkdir -p build
out=$(mktemp build/e2e.XXXXXX.log)
trap 'rm -f "$out"' EXIT
$PY -m pytest -q -p no:cacheprovider tests/e2e "$@" 2>&1 | tee "$out" | grep -v '^RESULT'
passed=$(grep -Eo '[0-9]+ passed' "$out" | tail -1 | grep -Eo '[0-9]+')
failed=$(grep -Eo '[0-9]+ (failed|error)' "$out" | grep -Eo '[0-9]+' | awk '{s+=$1} END{print s+0}')
echo "RESULT e2e ${passed:-0} ${failed:-0}"
