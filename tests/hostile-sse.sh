#!/bin/sh
# hostile-sse.sh: litepush-sse against FastCGI peers that misbehave: a peer
# that connects and sends nothing, or half a record header, or more idle
# connections than the intake keeps; a request that announces a body; a
# stream whose peer sends a body anyway, or floods records; a health check
# that connects and goes.  Each must cost the other streams nothing: a new
# stream opens at once, events keep coming.  (litepush-sse standalone on
# 127.0.0.1, cgi-fcgi from libfcgi-bin as the well-behaved web server.)

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command cgi-fcgi timeout sqlite3

db=$test_tmpdir/events.db
"$top_builddir/cli/litepush" init "$db" >/dev/null
peer="$PYTHON $top_srcdir/tests/fcgi_peer.py"

port=$(free_port)
addr=127.0.0.1:$port
log=$test_tmpdir/sse.err
"$top_builddir/fcgi/litepush-sse" --db "$db" --listen "$addr" \
    --keepalive 1 2>"$log" &
sse_pid=$!
track_pid "$sse_pid"
wait_for "litepush-sse listens on $addr" 10 port_listens "$port"

# Opens a stream of channel $2 with cgi-fcgi, output to $test_tmpdir/$1.out,
# for at most $3 seconds; sets $reader_pid.
start_reader()
{
	# Note that cgi-fcgi ignores SIGTERM: timeout sends it SIGKILL.
	REQUEST_METHOD=GET QUERY_STRING="channel=$2" SERVER_PROTOCOL=HTTP/1.1 \
	    timeout -k 1 "$3" cgi-fcgi -bind -connect "$addr" \
	    >"$test_tmpdir/$1.out" 2>"$test_tmpdir/$1.err" </dev/null &
	reader_pid=$!
	track_pid "$reader_pid"
}

# Succeeds when the stream $1 has begun (its retry: field has come).
stream_open()
{
	grep -q '^retry:' "$test_tmpdir/$1.out"
}

publish()
{
	sqlite3 "$db" "INSERT INTO events(channel, data) VALUES('$1', '$2')"
}

# --- idle peers ---------------------------------------------------------------

# Two peers that hold their connection: one silent, one that sent half a
# record header.  The old acceptors waited in libfcgi's blocking read for
# either, so no new stream opened until they went.
$peer idle --connect "$addr" --count 1 --send-bytes 0 \
    --hold-file "$test_tmpdir/silent.ready" --timeout 30 \
    >"$test_tmpdir/silent.out" 2>&1 &
silent_pid=$!
track_pid "$silent_pid"
$peer idle --connect "$addr" --count 1 --send-bytes 4 \
    --hold-file "$test_tmpdir/half.ready" --timeout 30 \
    >"$test_tmpdir/half.out" 2>&1 &
half_pid=$!
track_pid "$half_pid"
poll_until 10 test -f "$test_tmpdir/silent.ready"
poll_until 10 test -f "$test_tmpdir/half.ready"

# Within 3 s: well before the 5 s after which the idle ones are dropped, so
# the stream did not just wait for that.
start_reader first news 60
wait_for "a new stream opens while a silent peer and one with half a header hold theirs" \
    3 stream_open first
publish news "while they wait"
wait_for "and gets its event" 5 grep -q '^data: while they wait$' \
    "$test_tmpdir/first.out"

wait_for "the silent peer is dropped after the deadline" 15 \
    grep -qx eof "$test_tmpdir/silent.out"
wait_for "so is the one with half a header" 15 \
    grep -qx eof "$test_tmpdir/half.out"
expect_contains "the log says why, with the bytes it had" \
    "dropped a FastCGI connection after 0 bytes: no complete request within 5000 ms" \
    "$(cat "$log")"
expect_contains "for each of them" "after 4 bytes: no complete request" \
    "$(cat "$log")"
expect_not_contains "a probe that connects and goes (port_listens) is not logged" \
    "the peer closed it" "$(cat "$log")"

# More idle connections than the intake keeps (1024): the oldest are
# dropped to make room, and a new stream still opens at once.
$peer idle --connect "$addr" --count 1100 --hold-file "$test_tmpdir/many.ready" \
    --timeout 30 >"$test_tmpdir/many.out" 2>"$test_tmpdir/many.err" &
many_pid=$!
track_pid "$many_pid"
if poll_until 20 test -f "$test_tmpdir/many.ready"; then
	start_reader second news 60
	wait_for "with 1100 idle connections open, a new stream opens" 3 \
	    stream_open second
	kill "$many_pid" 2>/dev/null
else
	fail "1100 idle connections can be opened" "ready" \
	    "$(cat "$test_tmpdir/many.err")"
fi
wait_for "the log says the oldest were dropped for room" 10 \
    grep -q "the oldest of too many connections without a request" "$log"
wait_for "ten lines a second at most, then how many more" 10 \
    grep -q "dropped or refused [0-9]* more FastCGI connections in that second" "$log"

# --- bodies -------------------------------------------------------------------

run env REQUEST_METHOD=GET QUERY_STRING=channel=news CONTENT_LENGTH=1000000000 \
    timeout 10 cgi-fcgi -bind -connect "$addr" </dev/null
expect_contains "a request that announces a body gets 400" \
    "Status: 400 Bad Request" "$run_out"
expect_contains "with the reason" "a GET request for an event stream has no body" \
    "$run_out"
run env REQUEST_METHOD=GET QUERY_STRING=channel=news HTTP_TRANSFER_ENCODING=chunked \
    timeout 10 cgi-fcgi -bind -connect "$addr" </dev/null
expect_contains "so does one with Transfer-Encoding" "Status: 400 Bad Request" \
    "$run_out"

# A POST whose body came in the same read as its parameters: refused with
# 405 all the same (the body does not end a refusal before it is written).
run $peer post --connect "$addr" --timeout 10
expect_eq "a POST with its body in the same write gets 405" \
    "Status: 405 Method Not Allowed" "$run_out"

# A stream whose peer sends a body anyway: it is ended at the first byte
# of it, not read to its end (the old stream read it all, 512 bytes at a
# time, for as long as the peer sent).
run $peer body --connect "$addr" --timeout 10
case "$run_out" in
closed*) ok "a stream whose peer sends a body is closed ($run_out bytes sent)" ;;
*) fail "a stream whose peer sends a body is closed" "closed BYTES" "$run_out" ;;
esac

# A peer that floods records of an unknown type, which are skipped: the
# other streams are served meanwhile.
$peer flood --connect "$addr" --timeout 8 >"$test_tmpdir/flood.out" 2>&1 &
flood_pid=$!
track_pid "$flood_pid"
start_reader third news 60
wait_for "while a peer floods records, a new stream opens" 3 stream_open third
publish news "during the flood"
wait_for "and an open one gets its event" 3 \
    grep -q '^data: during the flood$' "$test_tmpdir/first.out"
wait "$flood_pid"
untrack_pid "$flood_pid"

if kill -0 "$sse_pid" 2>/dev/null; then
	ok "litepush-sse is still running"
else
	fail "litepush-sse is still running" "running" "gone"
fi
finish
