#!/bin/sh
# check.sh: builds litepush and runs every test (the README's test command).
#
# First the layout: every C file as .clang-format has it.  Then two builds
# side by side, both with warnings as errors, both running the whole suite
# (unit and integration tests with the real servers): build/ as shipped,
# build-asan/ under AddressSanitizer and UBSan, whose programs write any
# report (an invalid access, a leak at exit, undefined behaviour) to
# build-asan/sanitizer-logs/, wherever the web servers ran them; a report
# there fails the run (tests/summary.sh shows it).  build-clang/ compiles
# everything with clang, -Werror and both sanitizers, and runs the unit
# suites (clang's UBSan also sees a null pointer plus 0).  Then each fuzz
# target runs for a short while.  The last lines are each suite's summary
# and one "N passed, N failed" for the whole run.
set -u
cd "$(dirname "$0")"
scripts/deps.sh test || exit 1
./autogen.sh || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
status=0

# run_build DIR TARGET CONFIGURE-FLAGS...: configures and builds in DIR, runs TARGET.
run_build() {
	dir=$1 target=$2
	shift 2
	rm -rf "$dir" && mkdir -p "$dir" || return 1
	(cd "$dir" && ../configure -q "$@" && make -s -j"$jobs" &&
		make -s -j"$jobs" "$target") || {
		for log in $(grep -l -E '^:test-result: (FAIL|ERROR)' \
		    "$dir"/tests/*.trs 2>/dev/null); do
			echo "=== ${log%.trs}.log"
			tail -n 60 "${log%.trs}.log"
		done
		return 1
	}
}

# The files clang-format would change, with its complaint.
if ! clang-format --dry-run --Werror store/*.[ch] net/*.[ch] fcgi/*.[ch] \
    ws/*.[ch] cli/*.[ch] bench/*.[ch] tests/*.[ch] tests/fuzz/*.[ch]; then
	echo "check.sh: the layout differs from .clang-format (clang-format -i FILE)"
	status=1
fi

run_build build check --enable-werror || status=1
run_build build-clang check-unit CC=clang --enable-werror --enable-sanitizers ||
	status=1
run_build build-asan check --enable-werror --enable-sanitizers || status=1
# Each libFuzzer target for 15 s from its committed corpus (`make fuzz` runs longer).
LITEPUSH_BUILD_DIR=$(pwd)/build tests/fuzz/run.sh 15 || status=1
echo
# A skip that tests/skips-allowed does not allow fails the run.
LITEPUSH_STRICT_SKIPS=1 tests/summary.sh build build-asan || status=1
exit $status
