#!/bin/sh
# Run every cmocka unit test binary given; print "RESULT unit PASSED FAILED".
pass=0; fail=0
for t in "$@"; do
	out=$(CMOCKA_MESSAGE_OUTPUT=stdout "$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
	# cmocka names a failed test twice (after it and in the summary)
	f=$(printf '%s\n' "$out" | grep '^\[  FAILED  \] ' | grep -v 'test(s), listed below' | sort -u | wc -l)
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	if [ $rc -ne 0 ]; then printf '%s\n' "$out" | grep -v '^\[ \(RUN\|       OK\) ' ; echo "FAIL: $t"; fi
done
echo "unit: $pass passed, $fail failed"
echo "RESULT unit $pass $fail"
