#!/bin/sh
# summary-test.sh: tests/summary.sh on made-up logs: a skipped script fails
# the run under CI or ./check.sh unless tests/skips-allowed allows it, a
# skipped part is listed with its reason, and nothing is hidden.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
summary=$top_srcdir/tests/summary.sh
fake=$test_tmpdir/build
mkdir -p "$fake/tests"

# Writes a test's result $2 and log text $3 for the name $1.
fake_test()
{
	printf ':test-result: %s\n' "$2" >"$fake/tests/$1.trs"
	printf '%s\n' "$3" >"$fake/tests/$1.log"
}

fake_test ws-direct.sh PASS "ok - one"
fake_test faults-ws.sh PASS "ok - two
# skip the full disk: cannot mount a tmpfs (mount: permission denied)"
run env -u CI LITEPUSH_STRICT_SKIPS=1 "$summary" "$fake"
expect_eq "an allowed skipped part passes" 0 "$run_status"
expect_contains "and is listed with its reason" \
    "skipped (allowed) tests/faults-ws.sh: # skip the full disk: cannot mount a tmpfs" \
    "$run_out"
expect_contains "and counted" "2 passed, 0 failed, 1 skipped" "$run_out"

fake_test ws-direct.sh SKIP "skip: cgi-fcgi not found"
run env -u LITEPUSH_STRICT_SKIPS CI=true "$summary" "$fake"
expect_eq "under CI a skipped script that is not allowed fails the run" 1 \
    "$run_status"
expect_contains "saying which and why" \
    "SKIPPED, NOT ALLOWED (tests/skips-allowed) tests/ws-direct.sh: skip: cgi-fcgi not found" \
    "$run_out"
run env -u CI LITEPUSH_STRICT_SKIPS=1 "$summary" "$fake"
expect_eq "so it does under ./check.sh" 1 "$run_status"
run env -u CI -u LITEPUSH_STRICT_SKIPS "$summary" "$fake"
expect_eq "by hand it is listed, not failed" 0 "$run_status"
expect_contains "but still listed" "skipped tests/ws-direct.sh: skip: cgi-fcgi not found" \
    "$run_out"

fake_test limits.sh PASS "ok - three
# skip idle memory: built with AddressSanitizer (from 100 kB to 900 kB)
# skip something new"
fake_test ws-direct.sh PASS "ok - one"
run env -u CI LITEPUSH_STRICT_SKIPS=1 "$summary" "$fake"
expect_eq "a skipped part that is not allowed fails too" 1 "$run_status"
expect_contains "while the allowed one (a pattern) passes" \
    "skipped (allowed) tests/limits.sh: # skip idle memory: built with AddressSanitizer" \
    "$run_out"
expect_contains "and the other is named" \
    "SKIPPED, NOT ALLOWED (tests/skips-allowed) tests/limits.sh: # skip something new" \
    "$run_out"
finish
