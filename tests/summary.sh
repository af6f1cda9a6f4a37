#!/bin/sh
# summary.sh: adds up the results in automake's test logs into one closing line.
#
# Usage: tests/summary.sh BUILDDIR...
# Check suites report "N%: Checks: N, Failures: F, Errors: E"; shell tests
# print "ok - ..." / "not ok - ..." lines.  A test whose log holds neither
# but whose result is FAIL or ERROR (it crashed) counts as one failure.
# A report in BUILDDIR/sanitizer-logs/ is shown and counts as one failure.
# Every skipped script (automake's SKIP: exit 77, its "skip: REASON" line)
# and every skipped part of one (a "# skip ..." line in its log) is listed
# with its reason; under CI (CI=true) or ./check.sh (LITEPUSH_STRICT_SKIPS=1)
# each one that tests/skips-allowed does not allow counts as one failure:
# a test that did not run because something is not installed is a missing
# install step, not a pass.
# Prints the Check lines, the skips, then "N passed, N failed, N skipped";
# exits 1 on any failure.
set -u
passed=0
failed=0
skipped=0
strict=${LITEPUSH_STRICT_SKIPS:-}
[ "${CI:-}" = true ] && strict=1
allowed_file=$(dirname "$0")/skips-allowed

# Succeeds when tests/skips-allowed allows the skip of script $1 with text $2.
skip_allowed()
{
	grep -v '^#' "$allowed_file" 2>/dev/null | grep -v '^$' |
	while IFS='|' read -r allowed_script allowed_start; do
		if [ "$allowed_script" = "$1" ]; then
			case "$2" in
			# shellcheck disable=SC2254 # START may hold a glob
			$allowed_start*) echo yes; break ;;
			esac
		fi
	done | grep -q yes
}

# Lists a skip of script $1 with text $2, and counts it against the run
# when strict and not allowed.
note_skip()
{
	skipped=$((skipped + 1))
	if skip_allowed "$1" "$2"; then
		echo "skipped (allowed) $1: $2"
	elif [ -n "$strict" ]; then
		echo "SKIPPED, NOT ALLOWED (tests/skips-allowed) $1: $2"
		failed=$((failed + 1))
	else
		echo "skipped $1: $2"
	fi
}
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
		name=tests/$(basename "${trs%.trs}")
		if [ "$result" = SKIP ]; then
			reason=$(grep -m 1 '^skip: ' "$log" 2>/dev/null)
			note_skip "$name" "${reason:-skip: (no reason given)}"
		fi
		# Skipped parts: "# skip ..." lines, once each.
		grep '^# skip' "$log" 2>/dev/null | sort -u >"${TMPDIR:-/tmp}/summary.$$"
		while IFS= read -r line; do
			note_skip "$name" "$line"
		done <"${TMPDIR:-/tmp}/summary.$$"
		rm -f "${TMPDIR:-/tmp}/summary.$$"
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
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
