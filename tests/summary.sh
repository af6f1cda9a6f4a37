#!/bin/sh
# summary.sh: adds up the results in automake's test logs into one closing line.
#
# Usage: tests/summary.sh BUILDDIR...
# Check suites report "N%: Checks: N, Failures: F, Errors: E"; shell tests
# print "ok - ..." / "not ok - ..." lines.  A test whose log holds neither
# but whose result is FAIL or ERROR (it crashed) counts as one failure.
# A report in BUILDDIR/sanitizer-logs/ is shown and counts as one failure.
# Prints the Check lines, then "N passed, N failed"; exits 1 on any failure.
set -u
passed=0
failed=0
for dir in "$@"; do
	for trs in $(find "$dir/tests" -name '*.trs' 2>/dev/null | sort); do
		log=${trs%.trs}.log
		checks=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" 2>/dev/null | tail -n 1)
		oks=$(grep -c '^ok ' "$log" 2>/dev/null)
		noks=$(grep -c '^not ok ' "$log" 2>/dev/null)
		result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		if [ -n "$checks" ]; then
			echo "$(basename "${trs%.trs}"): $checks"
			read -r total fails errors <<-END
			$(echo "$checks" | sed 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/')
			END
			passed=$((passed + total - fails - errors))
			failed=$((failed + fails + errors))
		elif [ $((oks + noks)) -gt 0 ]; then
			echo "$(basename "${trs%.trs}"): $oks ok, $noks not ok"
			passed=$((passed + oks))
			failed=$((failed + noks))
		fi
		case "$result" in
		FAIL|ERROR)
			if [ -z "$checks" ] && [ "$noks" -eq 0 ]; then
				echo "$(basename "${trs%.trs}"): $result without a report"
				failed=$((failed + 1))
			fi ;;
		esac
	done
	# A sanitizer build's programs leave their reports here (net/sanitize.c).
	for report in $(find "$dir/sanitizer-logs" -type f 2>/dev/null | sort); do
		echo "sanitizer report: $report"
		head -n 60 "$report" | sed 's/^/  /'
		failed=$((failed + 1))
	done
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
