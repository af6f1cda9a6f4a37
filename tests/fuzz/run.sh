#!/bin/sh
# run.sh: builds the libFuzzer targets with clang and runs each for a while.
#
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Every target (default: all of them, one after the other) is built from the
# sources with clang -fsanitize=fuzzer,address,undefined, first replays the
# crash inputs committed under tests/fuzz/regressions/TARGET/ (if any), then
# fuzzes for SECONDS_PER_TARGET (default 60; 0 runs the corpus once) from a
# copy of tests/fuzz/corpus/TARGET/, so a run never rewrites the corpus.
# A crash, a leak, a timeout or a violated property fails the target; its
# log and the input that did it stay in the work directory, which the
# report names.  The last line is "N passed, N failed", one per target.
#
# config.h comes from a configured build directory: $LITEPUSH_BUILD_DIR, or
# else build/ (then build-asan/) at the top of the tree.  Binaries, logs and
# corpus copies go to fuzz/ inside it.  CC overrides clang.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"fuzz_query fuzz_handshake fuzz_wsmessage fuzz_sse_encoder fuzz_access fuzz_cors"}
cc=${CC:-clang}

case $seconds in
'' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;;
esac

builddir=${LITEPUSH_BUILD_DIR:-}
if [ -z "$builddir" ]; then
	for d in "$top/build" "$top/build-asan"; do
		[ -f "$d/config.h" ] && builddir=$d && break
	done
fi
if [ -z "$builddir" ] || [ ! -f "$builddir/config.h" ]; then
	echo "run.sh: no config.h: configure a build directory first" \
	    "(mkdir build && cd build && ../configure), or set" \
	    "LITEPUSH_BUILD_DIR" >&2
	exit 2
fi
builddir=$(cd "$builddir" && pwd)
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "run.sh: $cc not found: install clang and libclang-rt-14-dev" \
	    "(scripts/deps.sh)" >&2
	exit 2
fi
out=$builddir/fuzz
mkdir -p "$out" || exit 2

cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
-fno-sanitize-recover=all -Wall -Wextra -Wshadow -Wstrict-prototypes
-Wmissing-prototypes -Wformat=2 -Wwrite-strings"
includes="-I$builddir -I$top/net -I$top/store -I$top/ws -I$top/tests
-I$top/tests/fuzz"
libs="$(pkg-config --libs sqlite3 jansson nettle libjwt 2>/dev/null || echo -lsqlite3 -ljansson -lnettle -ljwt) -lwslay"

# sources TARGET: prints the project files a target is linked with.
sources() {
	case $1 in
	fuzz_query) echo net/query.c net/quote.c net/channel.c store/store.c store/schema.c tests/ref_query.c ;;
	fuzz_handshake) echo ws/handshake.c net/access.c net/grant.c net/query.c net/quote.c net/channel.c net/buf.c store/store.c store/schema.c ;;
	fuzz_wsmessage) echo net/access.c net/grant.c ws/wsconn.c ws/wsconn_messages.c ws/frame.c ws/publish.c ws/envelope.c ws/handshake.c \
	    net/query.c net/quote.c net/channel.c net/buf.c net/loop.c store/store.c store/schema.c store/watch.c store/feed.c store/cursor.c ;;
	fuzz_sse_encoder) echo net/sse.c net/buf.c tests/whatwg_sse.c ;;
	fuzz_access) echo net/access.c net/channel.c tests/ref_access.c ;;
	fuzz_cors) echo net/cors.c ;;
	*) return 1 ;;
	esac
}

# build TARGET: compiles the target into $out; prints the compiler's output.
build() {
	files=$(sources "$1") || {
		echo "unknown target $1"
		return 1
	}
	set -- "$1" "$top/tests/fuzz/$1.c"
	for f in $files; do
		set -- "$@" "$top/$f"
	done
	name=$1
	shift
	# shellcheck disable=SC2086
	$cc $cflags $includes "$@" $libs -o "$out/$name" 2>&1
}

# field NAME LOG: prints the value of libFuzzer's final stat::NAME.
field() {
	sed -n "s/^stat::$1: *//p" "$2" | tail -n 1
}

passed=0
failed=0
for t in $targets; do
	work=$out/work/$t
	rm -rf "$work" && mkdir -p "$work/corpus" || exit 2
	log=$work/log
	if ! build "$t" >"$work/build.log"; then
		cat "$work/build.log"
		echo "$t: FAILED to build"
		failed=$((failed + 1))
		continue
	fi
	[ -s "$work/build.log" ] && cat "$work/build.log"

	# Crash inputs found before: each must now run cleanly.
	regressions=$top/tests/fuzz/regressions/$t
	if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
		if ! "$out/$t" "$regressions"/* >"$work/regressions.log" 2>&1
		then
			tail -n 40 "$work/regressions.log"
			echo "$t: FAILED on a committed regression input" \
			    "(log: $work/regressions.log)"
			failed=$((failed + 1))
			continue
		fi
	fi

	cp "$top/tests/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null
	seeds=$(find "$work/corpus" -type f | wc -l)
	# 0 seconds: run the corpus once, nothing more.
	limit=-max_total_time=$seconds
	[ "$seconds" -eq 0 ] && limit=-runs=0
	(cd "$work" && TMPDIR=$work "$out/$t" "$limit" \
	    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1)
	rc=$?
	execs=$(field number_of_executed_units "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	corpus=$(find "$work/corpus" -type f | wc -l)
	summary="${execs:-0} execs, ${cov:-no coverage}, corpus $seeds -> $corpus"
	if [ $rc -eq 0 ]; then
		echo "$t: ok, $summary"
		passed=$((passed + 1))
	else
		grep -v -e '^#[0-9]' -e '^INFO:' -e 'NEW_FUNC' "$log" |
		    tail -n 60
		echo "$t: FAILED (exit $rc), $summary"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
		    "$work"/oom-*; do
			[ -f "$a" ] && echo "$t: input: $a"
		done
		echo "$t: log: $log"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
