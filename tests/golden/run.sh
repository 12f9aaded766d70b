#!/bin/sh
# Golden-file tests for the parsers (Postfix's tok822_parse.in/.ref style).
# Run from the repository root, after `make` has built the drivers
# (`make golden` does both).
#
# Layout, for any MODULE (envelope, addr, rewrite, ...):
#   tests/golden/MODULE.c          the driver source; the Makefile builds it
#                                  into build/golden/MODULE
#   tests/golden/MODULE/CASE.in    fed to the driver on stdin
#   tests/golden/MODULE/CASE.ref   the expected stdout, byte for byte
#   tests/golden/MODULE/CASE.env   optional: NAME=value lines (one a line,
#                                  '#' comments) exported to the driver for
#                                  this case only, e.g. a small limit so a
#                                  small .in can stand for a 1 MB one:
#                                      ENVELOPE_HEADER_LIMIT=200
# A case passes when the driver exits 0 and its stdout equals the .ref.
# The driver gets TMPDIR set to a private directory under build/golden/.
#
#   sh tests/golden/run.sh                  run every case
#   GOLDEN_UPDATE=1 sh tests/golden/run.sh  rewrite the .ref files from the
#                                           current output (review the diff!)
#
# Prints "golden MODULE/CASE: ok|FAIL" per case (a diff after a FAIL) and
# ends with exactly one line "RESULT golden PASSED FAILED".

top=tests/golden
bin=build/golden
pass=0
fail=0

if [ ! -d "$top" ]; then
	echo "golden: run me from the repository root"
	echo "RESULT golden 0 1"
	exit 1
fi
work=$bin/run.$$
mkdir -p "$work/tmp" || { echo "RESULT golden 0 1"; exit 1; }
trap 'rm -rf "$work"' EXIT
trap 'rm -rf "$work"; exit 1' INT TERM HUP

# Run the driver $1 on case $2 (path without .in) into $3.
run_case() {
	(
		if [ -f "$2.env" ]; then
			while IFS= read -r kv || [ -n "$kv" ]; do
				case $kv in
				'' | '#'*) continue ;;
				[A-Za-z_]*=*)
					name=${kv%%=*}
					case $name in
					*[!A-Za-z0-9_]*) echo "bad line in $2.env: $kv" >&2; exit 2 ;;
					esac
					export "$kv" ;;
				*) echo "bad line in $2.env: $kv" >&2; exit 2 ;;
				esac
			done < "$2.env"
		fi
		TMPDIR=$PWD/$work/tmp
		export TMPDIR
		exec "$1" < "$2.in" > "$3"
	)
}

for dir in "$top"/*/; do
	dir=${dir%/}
	[ -d "$dir" ] || continue
	module=${dir##*/}
	driver=$bin/$module
	if [ ! -x "$driver" ]; then
		if [ -f "$top/$module.c" ]; then
			echo "golden $module: FAIL (driver $driver not built)"
			fail=$((fail + 1))
		else
			echo "golden $module: skipped (no $top/$module.c)"
		fi
		continue
	fi
	for in in "$dir"/*.in; do
		[ -f "$in" ] || continue
		case_path=${in%.in}
		name=$module/${case_path##*/}
		ref=$case_path.ref
		out=$work/out
		run_case "$driver" "$case_path" "$out"
		rc=$?
		if [ $rc -ne 0 ]; then
			echo "golden $name: FAIL (driver exit status $rc)"
			if [ -f "$ref" ]; then diff -u "$ref" "$out" | head -n 60; else head -n 60 "$out"; fi
			fail=$((fail + 1))
			continue
		fi
		if [ -n "$GOLDEN_UPDATE" ]; then
			if [ -f "$ref" ] && cmp -s "$ref" "$out"; then
				echo "golden $name: ok"
			else
				cp "$out" "$ref" && echo "golden $name: ok (ref updated)"
			fi
			pass=$((pass + 1))
		elif [ ! -f "$ref" ]; then
			echo "golden $name: FAIL (no $ref; GOLDEN_UPDATE=1 writes it)"
			fail=$((fail + 1))
		elif cmp -s "$ref" "$out"; then
			echo "golden $name: ok"
			pass=$((pass + 1))
		else
			echo "golden $name: FAIL"
			diff -u "$ref" "$out" | head -n 60
			fail=$((fail + 1))
		fi
	done
done

echo "RESULT golden $pass $fail"
[ "$fail" -eq 0 ]
