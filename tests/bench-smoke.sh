#!/bin/sh
# bench-smoke.sh: a 5-second run of the load generator (bench/litepush-bench)
# against litepush-sse spawned by lighttpd and against litepush-ws: every
# stream opens, every event arrives once and in order, the report is one
# JSON line, and the feed's counters come back on SIGUSR1.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/lighttpd

bench=$top_builddir/bench/litepush-bench
if [ ! -x "$bench" ]; then
	fail "bench/litepush-bench is built (make bench)" "an executable $bench" "nothing"
	finish
fi
db=$test_tmpdir/events.db
"$top_builddir/cli/litepush" init "$db" >/dev/null

# Checks one generator report: $1 names the system, $2 is the JSON line.
check_report()
{
	expect_contains "$1: 20 streams open" '"conns_ok":20,"conns_failed":0,"conns_closed":0' "$2"
	expect_contains "$1: nothing lost, repeated or out of order" \
	    '"lost":0,"repeated":0,"out_of_order":0' "$2"
	smoke_published=$(printf '%s\n' "$2" | sed -n 's/.*"published":\([0-9]*\).*/\1/p')
	smoke_received=$(printf '%s\n' "$2" | sed -n 's/.*"received":\([0-9]*\).*/\1/p')
	if [ "${smoke_published:-0}" -ge 200 ]; then
		ok "$1: 50 events/s for 5 s published ($smoke_published)"
	else
		fail "$1: 50 events/s for 5 s published" "at least 200" "${smoke_published:-none}"
	fi
	expect_eq "$1: every stream received every event" \
	    "$((${smoke_published:-0} * 20))" "${smoke_received:-none}"
	expect_contains "$1: latency percentiles reported" '"latency_us":{"min":' "$2"
	case $2 in
	*'"feed":{"statements":'[0-9]*)
		ok "$1: the feed's counters came back on SIGUSR1" ;;
	*)
		fail "$1: the feed's counters came back on SIGUSR1" '"feed":{"statements":N' "$2" ;;
	esac
}

# --- litepush-sse behind lighttpd ---------------------------------------------

port=$(free_port)
render "$top_srcdir/tests/conf/lighttpd-sse.conf.in" "$test_tmpdir/lighttpd.conf" \
    TMP="$test_tmpdir" PORT="$port" SSE="$top_builddir/fcgi/litepush-sse" \
    DB="$db" KEEPALIVE=15 MAX_AGE=600 MAX_STREAMS=100
/usr/sbin/lighttpd -D -f "$test_tmpdir/lighttpd.conf" >"$test_tmpdir/lighttpd.out" 2>&1 &
lighttpd_pid=$!
track_pid "$lighttpd_pid"
sse_child()
{
	sse_pid=$(descendant_pids "$lighttpd_pid" | head -n 1)
	[ -n "$sse_pid" ]
}
wait_for "lighttpd spawns litepush-sse" 10 sse_child
sse_child
run "$bench" --url "http://127.0.0.1:$port/stream?channel=bench" --conns 20 \
    --rate 50 --size 100 --duration 5 --db "$db" \
    --pid "lighttpd=$lighttpd_pid" --pid "litepush-sse=$sse_pid" \
    --feed-stats "$sse_pid:$test_tmpdir/lighttpd.out" --label smoke-sse
expect_eq "litepush-bench exits 0 (SSE through lighttpd)" 0 "$run_status"
check_report "SSE through lighttpd" "$run_out"
expect_contains "the readable table names the servers" "litepush-sse  1 procs" "$run_err"
stop_pid "$lighttpd_pid"

# --- litepush-ws, direct ---------------------------------------------------------

port=$(free_port)
"$top_builddir/ws/litepush-ws" --db "$db" --listen "127.0.0.1:$port" \
    >"$test_tmpdir/ws.log" 2>&1 &
ws_pid=$!
track_pid "$ws_pid"
ws_listens()
{
	grep -q 'listening on' "$test_tmpdir/ws.log"
}
wait_for "litepush-ws listens" 10 ws_listens
run "$bench" --url "ws://127.0.0.1:$port/ws?channel=bench" --conns 20 \
    --rate 50 --size 100 --duration 5 --db "$db" --pid "litepush-ws=$ws_pid" \
    --feed-stats "$ws_pid:$test_tmpdir/ws.log" --label smoke-ws
expect_eq "litepush-bench exits 0 (WebSocket, direct)" 0 "$run_status"
check_report "WebSocket" "$run_out"
stop_pid "$ws_pid"

# --- a refused connection is counted, not fatal ------------------------------------

port=$(free_port)
run "$bench" --url "http://127.0.0.1:$port/stream" --conns 3 --rate 0 --duration 1
expect_eq "litepush-bench exits 1 when streams fail" 1 "$run_status"
expect_contains "refused connections are counted" '"conns_ok":0,"conns_failed":3' "$run_out"

finish
