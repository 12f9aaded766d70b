#!/bin/sh
# make check: every suite, then one closing line "N passed, N failed".
# Each suite prints "RESULT name PASSED FAILED"; a suite that dies without
# that line counts as one failure.
cd "$(dirname "$0")/.." || exit 75
log=build/check.log
mkdir -p build
: > "$log"
run() {
	name=$1; shift
	echo "== $name"
	"$@" 2>&1 | tee -a "$log" | grep -v '^RESULT '
	if ! tail -n 50 "$log" | grep -q "^RESULT $name "; then
		echo "RESULT $name 0 1" >> "$log"
		echo "$name: no result line (crashed?)"
	fi
}
run format make -s check-format-result
run config make -s check-config-result
run layers sh tests/layers/run.sh
run unit make -s unit
run golden make -s golden
run e2e make -s e2e
run fuzz make -s fuzz-short
pass=$(awk '/^RESULT /{p+=$3} END{print p+0}' "$log")
fail=$(awk '/^RESULT /{f+=$4} END{print f+0}' "$log")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
