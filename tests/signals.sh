#!/bin/sh
# signals.sh: what each signal does to both daemons.  SIGHUP (logrotate's
# habit, a closing terminal, a careless `systemctl kill -s HUP`) is noted
# and changes nothing: the daemon keeps running and its open streams keep
# getting events.  (SIGTERM's drain and SIGUSR1's counters have their own
# checks in ws-direct.sh, faults-*.sh and limits.sh.)

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"
require_command cgi-fcgi timeout

publish()
{
	sqlite3 "$db" "INSERT INTO events(channel, data) VALUES('$1', '$2')"
}

# --- litepush-sse ---------------------------------------------------------

sse_port=$(free_port)
"$top_builddir/fcgi/litepush-sse" --db "$db" --listen "127.0.0.1:$sse_port" \
    2>"$test_tmpdir/sse.err" &
sse_pid=$!
track_pid "$sse_pid"
wait_for "litepush-sse listens" 10 port_listens "$sse_port"
REQUEST_METHOD=GET QUERY_STRING=channel=hup SERVER_PROTOCOL=HTTP/1.1 \
    timeout -k 1 60 cgi-fcgi -bind -connect "127.0.0.1:$sse_port" \
    >"$test_tmpdir/sse.out" 2>&1 </dev/null &
track_pid $!
wait_for "an SSE stream is open" 10 grep -q '^retry:' "$test_tmpdir/sse.out"

kill -HUP "$sse_pid"
wait_for "litepush-sse notes the SIGHUP" 10 grep -q \
    "litepush-sse: SIGHUP: nothing to reload or reopen" "$test_tmpdir/sse.err"
publish hup "after the hangup"
wait_for "its open stream still gets events" 10 \
    grep -q '^data: after the hangup$' "$test_tmpdir/sse.out"
if kill -0 "$sse_pid" 2>/dev/null; then
	ok "litepush-sse is still running after SIGHUP"
else
	fail "litepush-sse is still running after SIGHUP" running gone
fi
REQUEST_METHOD=GET QUERY_STRING=channel=hup SERVER_PROTOCOL=HTTP/1.1 \
    timeout -k 1 60 cgi-fcgi -bind -connect "127.0.0.1:$sse_port" \
    >"$test_tmpdir/sse2.out" 2>&1 </dev/null &
track_pid $!
wait_for "and opens new ones" 10 grep -q '^retry:' "$test_tmpdir/sse2.out"

# Plain CGI: one process per stream, which a SIGHUP does not end either.
QUERY_STRING=channel=hup REQUEST_METHOD=GET \
    "$top_builddir/fcgi/litepush-sse" --db "$db" \
    >"$test_tmpdir/cgi.out" 2>"$test_tmpdir/cgi.err" </dev/null &
cgi_pid=$!
track_pid "$cgi_pid"
wait_for "a CGI stream is open" 10 grep -q '^retry:' "$test_tmpdir/cgi.out"
kill -HUP "$cgi_pid"
wait_for "the CGI process notes the SIGHUP" 10 grep -q "SIGHUP" \
    "$test_tmpdir/cgi.err"
publish hup "cgi after the hangup"
wait_for "and its stream goes on" 10 \
    grep -q '^data: cgi after the hangup$' "$test_tmpdir/cgi.out"

# --- litepush-ws ----------------------------------------------------------

ws_port=$(free_port)
start_ws --listen "127.0.0.1:$ws_port"
wait_for "litepush-ws listens" 10 port_listens "$ws_port"
start_collect hupsub --url "ws://127.0.0.1:$ws_port/" --channels hupws \
    --count 1 --print json
kill -HUP "$ws_pid"
wait_for "litepush-ws notes the SIGHUP" 10 grep -q \
    "litepush-ws: SIGHUP: nothing to reload or reopen" "$test_tmpdir/ws.log"
publish hupws "ws after the hangup"
end_collect hupsub "$collect_pid"
expect_contains "its open WebSocket got the event" "ws after the hangup" \
    "$(cat "$test_tmpdir/hupsub.out")"
if kill -0 "$ws_pid" 2>/dev/null; then
	ok "litepush-ws is still running after SIGHUP"
else
	fail "litepush-ws is still running after SIGHUP" running gone
fi
wait_for "and takes new handshakes" 10 upgrades "ws://127.0.0.1:$ws_port/"
finish
