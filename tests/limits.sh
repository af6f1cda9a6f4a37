#!/bin/sh
# limits.sh: litepush-sse (behind Apache and lighttpd) and litepush-ws
# (directly) pushed past their limits and abused: thousands of requests
# beyond --max-streams / --max-conns, clients that never read while others
# receive 10,000 events, slowloris handshakes, a 1 MB query string, 10,000
# channels, a 100 MB row and a WebSocket frame announcing 2^63 bytes.
#
# Memory is checked as growth of the daemon's resident set (/proc) against
# a generous bound stated with each check: a bound on growth, not a
# measurement of speed.  The clients are tests/fault_client.py's.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2 /usr/sbin/lighttpd
# shellcheck source=tests/faults_lib.sh
. "$top_srcdir/tests/faults_lib.sh"

db=$tmp/events.db
"$litepush" init "$db" >/dev/null

# Checks that daemon $2 is still running (it did not crash).
expect_alive()
{
	if pid_gone "$2"; then
		fail "$1" "running" "exited"
	else
		ok "$1"
	fi
}

# Note that AddressSanitizer's quarantine keeps freed memory for a while:
# under it (--enable-sanitizers) memory is not checked.
sanitized=
if ldd "$sse" 2>/dev/null | grep -q libasan; then
	sanitized=yes
fi

# Checks that growing from $2 kB to $3 kB stays within $4 kB.
expect_growth_within()
{
	if [ -n "$sanitized" ]; then
		echo "# skip $1: built with AddressSanitizer (from $2 kB to $3 kB)"
	elif [ $(($3 - $2)) -le "$4" ]; then
		ok "$1 (from $2 kB to $3 kB, within $4 kB)"
	else
		fail "$1" "at most $4 kB more than $2 kB" "$3 kB"
	fi
}

# Publishes COUNT ($2) events of about 1 KB on channel $1, in
# transactions of 1000, from one sqlite3 shell.
publish_kb_events()
{
	publish_kb_i=0
	while [ "$publish_kb_i" -lt "$2" ]; do
		echo "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
		    WHERE i < 1000)
		INSERT INTO events(channel, data) SELECT '$1',
		    i || ' ' || replace(hex(zeroblob(500)), '0', 'x') FROM n;"
		publish_kb_i=$((publish_kb_i + 1000))
	done | sql
}

# --- beyond --max-streams and --max-conns -----------------------------------------

# Opens $2 streams that wait for one event; their client is $follow_pid.
# $1 names them, $3 is the transport and $4 the URL.
hold_slots()
{
	start_follow "$1" --transport "$3" --url "$4" --channels "$1" \
	    --concurrent "$2" --count 1 --timeout 60 --ready-file "$tmp/$1.ready"
	wait_for "$1: $2 of $2 slots taken" 30 follow_ready "$1" "$follow_pid"
}

# Checks that $4 requests for URL $3 ($2: sse or ws) beyond the limit all
# get 503 text/plain, and that the daemon $5 grows by at most $6 kB.
expect_clean_refusals()
{
	expect_clean_name=$1
	refusals_before=$(rss_kb "$5")
	run fault_client refusals --transport "$2" --url "$3" \
	    --requests "$4" --concurrent 50 --timeout 60
	expect_eq "$expect_clean_name: $4 requests beyond the limit all get 503 text/plain" \
	    "503 text/plain $4" "$run_out"
	expect_alive "$expect_clean_name: the daemon is still running" "$5"
	expect_growth_within "$expect_clean_name: its memory stays flat" \
	    "$refusals_before" "$(rss_kb "$5")" "$6"
}

start_sse --keepalive 1 --max-streams 20
start_apache_sse
hold_slots full-sse 20 sse "$url"
# Warm-up: the first refusals size the threads' arenas.
fault_client refusals --url "$url?channel=full-sse" --requests 200 \
    --concurrent 50 >/dev/null
# 5000 refusals: a leak of a single kilobyte each would be 5 MB.
expect_clean_refusals "sse --max-streams 20" sse "$url?channel=full-sse" \
    5000 "$sse_pid" 2048
sql "INSERT INTO events(channel, data) VALUES('full-sse', 'go')"
end_follow "sse: the 20 streams got their event" full-sse "$follow_pid"
wait_for "sse: once they have gone, a stream opens again" 10 \
    sse_stream_opens
stop_pid "$sse_pid"

start_ws --max-conns 20 --ping 1
hold_slots full-ws 20 ws "$ws_url"
fault_client refusals --transport ws --url "$ws_url?channel=full-ws" \
    --requests 200 --concurrent 50 >/dev/null
expect_clean_refusals "ws --max-conns 20" ws "$ws_url?channel=full-ws" \
    5000 "$ws_pid" 2048
sql "INSERT INTO events(channel, data) VALUES('full-ws', 'go')"
end_follow "ws: the 20 WebSockets got their event" full-ws "$follow_pid"
wait_for "ws: once they have gone, a WebSocket opens again" 10 ws_opens
stop_pid "$ws_pid"

# --- clients that never read ---------------------------------------------------------

# Runs the slow-reader scenario on daemon $2 (standard error in $3) at URL
# $4 over transport $5: 5 clients that never read and 5 that do, 10,000
# events of 1 KB.  $1 names it (and its channel).
scenario_stalled()
{
	name=$1
	rm -f "$tmp/$name.go"
	"$PYTHON" "$fault_client" stall --transport "$5" --url "$4" \
	    --channels "$name" --concurrent 5 --hold-until "$tmp/$name.go" \
	    --drain-timeout 20 --timeout 120 --ready-file "$tmp/$name-stall.ready" \
	    >"$tmp/$name-stall.out" 2>"$tmp/$name-stall.err" &
	stall_pid=$!
	track_pid "$stall_pid"
	wait_for "$name: 5 clients that never read are connected" 20 \
	    follow_ready "$name-stall" "$stall_pid"
	# A slow reader (32 KB/s for 8 s, then at full speed) may look
	# stalled from behind the web server's buffers (or, for litepush-ws,
	# miss its pings): if it is dropped, it resumes where it was.
	start_follow "$name-slow" --transport "$5" --url "$4" \
	    --channels "$name" --count 10000 --print ids --timeout 120 \
	    --slow 32768:8 --reconnect --ready-file "$tmp/$name-slow.ready"
	slow_pid=$follow_pid
	wait_for "$name: a slow reader is connected" 20 \
	    follow_ready "$name-slow" "$slow_pid"
	start_follow "$name" --transport "$5" --url "$4" --channels "$name" \
	    --concurrent 5 --count 10000 --print ids --timeout 120 \
	    --ready-file "$tmp/$name.ready"
	wait_for "$name: 5 readers are connected" 20 \
	    follow_ready "$name" "$follow_pid"
	stalled_before=$(rss_kb "$2")
	publish_kb_events "$name" 10000
	end_follow "$name: the readers get all 10,000 events" "$name" \
	    "$follow_pid"
	ids_of "$name" >"$tmp/$name.expected"
	expect_same_lines "$name: each once, in order" "$tmp/$name.expected" \
	    "$tmp/$name.out"
	end_follow "$name: so does a slow reader, dropped or not" \
	    "$name-slow" "$slow_pid"
	expect_same_lines "$name: each once, in order" "$tmp/$name.expected" \
	    "$tmp/$name-slow.out"
	# The ring keeps at most 4096 events (4 MB here); a queue per stalled
	# client would be 10 MB each.
	expect_growth_within "$name: the daemon's peak memory stays flat" \
	    "$stalled_before" "$(peak_rss_kb "$2")" 16384
	# Dropped two or three --keepalive (or --ping) intervals after their
	# socket filled: 10 s is only a safety limit.
	wait_for "$name: the clients that never read are dropped" 10 \
	    has_cursors "$2" "$3" 0
	: >"$tmp/$name.go"
	wait "$stall_pid"
	untrack_pid "$stall_pid"
	expect_eq "$name: and find their connection closed when they read again" \
	    "" "$(grep -v '^\(eof\|reset\) ' "$tmp/$name-stall.out")"
	expect_alive "$name: the daemon is still running" "$2"
}

start_sse --keepalive 1
scenario_stalled stall-apache "$sse_pid" "$tmp/sse.log" "$url" sse
stop_pid "$sse_pid"
stop_pid "$apache_pid"

start_lighttpd_sse 1 10000
lighttpd_sse=$(pids_below "$lighttpd_pid" "$sse")
scenario_stalled stall-lighttpd "$lighttpd_sse" "$tmp/lighttpd.log" "$url" sse
stop_pid "$lighttpd_pid"

# litepush-ws has no timeout of its own for a blocked socket: it stops
# reading while output waits, so the client's pongs go unread and the
# ping timeout (two --ping intervals) closes it.
start_ws --ping 1
scenario_stalled stall-ws "$ws_pid" "$tmp/ws.log" "$ws_url" ws
stop_pid "$ws_pid"

# --- slowloris (WebSocket; for SSE the web server deals with it) --------------------

echo "# skip slowloris for SSE: the web server reads the request, not litepush-sse"
start_ws --ping 1 --handshake-timeout 2
start_follow loris-reader --transport ws --url "$ws_url" \
    --channels loris --count 1 --timeout 60 \
    --ready-file "$tmp/loris-reader.ready"
wait_for "slowloris: a WebSocket is open" 20 \
    follow_ready loris-reader "$follow_pid"
reader_pid=$follow_pid
"$PYTHON" "$fault_client" slowloris --url "$ws_url" --concurrent 20 \
    --interval 1 --timeout 30 --ready-file "$tmp/dribble.ready" \
    >"$tmp/dribble.out" 2>"$tmp/dribble.err" &
dribble_pid=$!
track_pid "$dribble_pid"
"$PYTHON" "$fault_client" slowloris --url "$ws_url" --concurrent 20 \
    --silent --timeout 30 --ready-file "$tmp/silent.ready" \
    >"$tmp/silent.out" 2>"$tmp/silent.err" &
silent_pid=$!
track_pid "$silent_pid"
wait_for "slowloris: 20 dribbling and 20 silent connections" 10 \
    test -e "$tmp/dribble.ready" -a -e "$tmp/silent.ready"
wait_for "slowloris: meanwhile a handshake succeeds" 5 ws_opens
wait "$dribble_pid" "$silent_pid"
untrack_pid "$dribble_pid"
untrack_pid "$silent_pid"

# Checks that every connection of file $2 was closed after about 2 s
# (--handshake-timeout 2): between 1.5 and 4 s.
expect_closed_in_time()
{
	if awk '$1 != "closed" || $2 < 1.5 || $2 > 4 { bad = 1 }
	    END { exit bad }' "$2"; then
		ok "$1 ($(sort "$2" | uniq -c | tr -s ' ' | tr '\n' ';'))"
	else
		fail "$1" "20 lines: closed 2.x HTTP/1.1 408 ..." \
		    "$(sort "$2" | uniq -c | tr '\n' ';')"
	fi
}
expect_closed_in_time "slowloris: one byte a second is cut off at --handshake-timeout" \
    "$tmp/dribble.out"
expect_closed_in_time "slowloris: silent connections too" "$tmp/silent.out"
sql "INSERT INTO events(channel, data) VALUES('loris', 'still here')"
end_follow "slowloris: the open WebSocket was not disturbed" loris-reader \
    "$reader_pid"
stop_pid "$ws_pid"

# Handshakes in progress are limited to max(64, --max-conns): past that a
# new connection is closed at once, until the slow ones time out.
start_ws --ping 1 --handshake-timeout 2 --max-conns 10
"$PYTHON" "$fault_client" slowloris --url "$ws_url" --concurrent 80 \
    --silent --timeout 30 >"$tmp/silent80.out" 2>&1 &
silent_pid=$!
track_pid "$silent_pid"
wait_for "slowloris: with 80 silent connections on --max-conns 10 a handshake gets through within the timeout" \
    6 ws_opens
wait "$silent_pid"
untrack_pid "$silent_pid"
expect_alive "slowloris: litepush-ws is still running" "$ws_pid"
stop_pid "$ws_pid"

# --- oversized requests -----------------------------------------------------------------

megabyte=$(head -c 1048576 /dev/zero | tr '\0' a)
many=$(seq -s , -f 'c%g' 10000)

# Prints the response to a GET of URL $1 (a WebSocket handshake if $2 is
# "ws"), made from a file: the URL may be longer than a command line.
long_get()
{
	printf '%s\n' "$1" >"$tmp/long-url"
	if [ "${2:-}" = ws ]; then
		fault_client http --url-file "$tmp/long-url" --upgrade --timeout 20
	else
		fault_client http --url-file "$tmp/long-url" --timeout 20
	fi
}

# Prints the status a request for URL $1 gets.
status_for()
{
	long_get "$1" | head -n 1 | cut -d ' ' -f 2
}

# Checks that a handshake for URL $2 gets status $3 and a one-line
# text/plain reason containing $4.
expect_long_ws_refusal()
{
	long_get "$2" ws >"$tmp/long.response"
	long_status=$(head -n 1 "$tmp/long.response" | cut -d ' ' -f 2)
	long_reason=$(sed '1,/^\r*$/d' "$tmp/long.response")
	if [ "$long_status" = "$3" ] &&
	    grep -qi '^content-type: text/plain' "$tmp/long.response" &&
	    [ "$(printf '%s\n' "$long_reason" | wc -l)" -eq 1 ] &&
	    printf '%s\n' "$long_reason" | grep -qF -e "$4"; then
		ok "$1: $3, text/plain: $long_reason"
	else
		fail "$1" "$3, text/plain, a one-line reason containing $4" \
		    "$(tr '\r\n' '  ' <"$tmp/long.response" | head -c 400)"
	fi
}

# Checks that status $2 is one of the space-separated list $3.
expect_one_of()
{
	case " $3 " in
	*" $2 "*)
		ok "$1: $2"
		;;
	*)
		fail "$1" "one of $3" "$2"
		;;
	esac
}

start_sse --keepalive 1
start_apache_sse
expect_one_of "apache: a 1 MB query string" \
    "$(status_for "$url?channel=$megabyte")" "400 414"
expect_one_of "apache: 10,000 channels" \
    "$(status_for "$url?channel=$many")" "400 414"
expect_alive "apache: litepush-sse is still running" "$sse_pid"
stop_pid "$apache_pid"

# What a web server with higher limits would pass on, straight to
# litepush-sse's socket.  Note that Apache with LimitRequestLine raised
# does not: mod_proxy_fcgi drops a QUERY_STRING over 16 KB (AH02536), and
# litepush-sse then answers 400 (CGI always sets QUERY_STRING).
printf 'channel=%s' "$megabyte" >"$tmp/query-1mb"
printf 'channel=%s' "$many" >"$tmp/query-many"
head -c 1048576 /dev/zero | tr '\0' 9 >"$tmp/id-1mb"

# Prints litepush-sse's answer to a FastCGI GET with the parameters given.
fcgi_get()
{
	fault_client fcgi --socket "$tmp/sse.sock" --timeout 20 \
	    --param REQUEST_METHOD=GET --param SERVER_PROTOCOL=HTTP/1.1 "$@"
}

# Checks that the last `run fcgi_get` printed status $2 and a reason
# containing $3.
expect_fcgi_answer()
{
	if printf '%s\n' "$run_out" | head -n 1 | grep -q "^Status: $2" &&
	    printf '%s\n' "$run_out" | tail -n 1 | grep -qF -e "$3"; then
		ok "$1: $2 ($(printf '%s\n' "$run_out" | tail -n 1 | cut -c 1-100))"
	else
		fail "$1" "Status: $2 with a reason containing $3" \
		    "$(printf '%s\n' "$run_out" | head -c 300) $run_err"
	fi
}
# Parameters over 256 KiB are not read whole (the intake's bound per
# pending connection): 431, before any of them is parsed.
run fcgi_get --param QUERY_STRING=@"$tmp/query-1mb"
expect_fcgi_answer "litepush-sse: a 1 MB query string over FastCGI" 431 \
    "the request's parameters are over 256 KiB"
run fcgi_get --param QUERY_STRING=@"$tmp/query-many"
expect_fcgi_answer "litepush-sse: 10,000 channels over FastCGI" 400 \
    "too many channels"
run fcgi_get
expect_fcgi_answer "litepush-sse: no QUERY_STRING at all (dropped by the server)" \
    400 "no QUERY_STRING"
run fcgi_get --param QUERY_STRING=channel=news \
    --param HTTP_LAST_EVENT_ID=@"$tmp/id-1mb"
expect_fcgi_answer "litepush-sse: a Last-Event-ID of 1 MB over FastCGI" 431 \
    "the request's parameters are over 256 KiB"
expect_alive "litepush-sse is still running" "$sse_pid"
stop_pid "$sse_pid"

start_lighttpd_sse 1 10000
expect_one_of "lighttpd: a 1 MB query string" \
    "$(status_for "$url?channel=$megabyte")" "400 414 431"
expect_one_of "lighttpd: 10,000 channels" \
    "$(status_for "$url?channel=$many")" "400 414 431"
wait_for "lighttpd: streams still open" 5 sse_stream_opens
lighttpd_sse=$(pids_below "$lighttpd_pid" "$sse")

start_ws --ping 1
expect_long_ws_refusal "litepush-ws: a 1 MB query string" \
    "$ws_url?channel=$megabyte" 431 "larger than"
expect_long_ws_refusal "litepush-ws: 10,000 channels" "$ws_url?channel=$many" \
    431 "larger than"
expect_long_ws_refusal "litepush-ws: 1000 channels (in 8 KiB)" \
    "$ws_url?channel=$(seq -s , -f 'c%g' 1000)" 400 "too many channels"
wait_for "litepush-ws: WebSockets still open" 5 ws_opens

# --- a WebSocket frame announcing 2^63 bytes ---------------------------------------------

start_follow frame-reader --transport ws --url "$ws_url" --channels frame \
    --count 1 --timeout 60 --ready-file "$tmp/frame-reader.ready"
wait_for "frame: a WebSocket is open" 20 follow_ready frame-reader "$follow_pid"
reader_pid=$follow_pid
run fault_client frame --url "$ws_url" --channels frame \
    --length 9223372036854775807
expect_one_of "frame: a length of 2^63 - 1 gets" "$(printf '%s' "$run_out" | tr ' ' _)" \
    "close_1009 close_1002"
run fault_client frame --url "$ws_url" --channels frame \
    --length 9223372036854775808
expect_one_of "frame: a length of 2^63 (the top bit set) gets" \
    "$(printf '%s' "$run_out" | tr ' ' _)" "close_1002 close_1009"
sql "INSERT INTO events(channel, data) VALUES('frame', 'unaffected')"
end_follow "frame: the other WebSocket goes on" frame-reader "$reader_pid"
expect_alive "frame: litepush-ws is still running" "$ws_pid"

stop_pid "$ws_pid"

# --- a row of 100 MB ----------------------------------------------------------------------

# One subscriber of the huge row's channel and two of another channel, on
# each transport; the huge row, then a small one on each channel.
huge_mb=100
# With the default --ping (30 s): a client has two of them to read the
# row (with --ping 1 it would be closed with 1011, and again each time it
# came back for it).
start_ws
start_follow huge-sse --url "$url" --channels huge --count 2 \
    --print json --timeout 120 --ready-file "$tmp/huge-sse.ready" \
    --log "$tmp/huge-sse.log"
huge_sse_pid=$follow_pid
start_follow huge-ws --transport ws --url "$ws_url" --channels huge \
    --count 2 --print json --timeout 120 --ready-file "$tmp/huge-ws.ready" \
    --log "$tmp/huge-ws.log"
huge_ws_pid=$follow_pid
start_follow small-sse --url "$url" --channels small --concurrent 2 \
    --count 2 --timeout 120 --ready-file "$tmp/small-sse.ready"
small_sse_pid=$follow_pid
start_follow small-ws --transport ws --url "$ws_url" --channels small \
    --concurrent 2 --count 2 --timeout 120 --ready-file "$tmp/small-ws.ready"
small_ws_pid=$follow_pid
wait_for "huge: the subscribers are connected" 20 test -e "$tmp/huge-sse.ready" \
    -a -e "$tmp/huge-ws.ready" -a -e "$tmp/small-sse.ready" \
    -a -e "$tmp/small-ws.ready"
sql "INSERT INTO events(channel, data) VALUES('small', 'before')"
huge_before_sse=$(rss_kb "$lighttpd_sse")
huge_before_ws=$(rss_kb "$ws_pid")
run sql "INSERT INTO events(channel, data)
    VALUES('huge', replace(hex(zeroblob($huge_mb * 524288)), '0', 'x'))"
expect_eq "huge: sqlite3 stores a row of $huge_mb MB" "0 " "$run_status $run_err"
sql "INSERT INTO events(channel, data) VALUES('small', 'after');
    INSERT INTO events(channel, data) VALUES('huge', 'small after')"
end_follow "huge: the other SSE streams go on" small-sse "$small_sse_pid"
end_follow "huge: the other WebSockets go on" small-ws "$small_ws_pid"
huge_length=$((huge_mb * 1048576))
for transport in sse ws; do
	case $transport in
	sse) huge_pid=$huge_sse_pid ;;
	ws) huge_pid=$huge_ws_pid ;;
	esac
	wait "$huge_pid"
	huge_status=$?
	untrack_pid "$huge_pid"
	if [ "$huge_status" -eq 0 ]; then
		expect_eq "huge: the $transport subscriber gets the row whole, then the next" \
		    "$huge_length 11" \
		    "$(sed 's/.*"length": \([0-9]*\).*/\1/' "$tmp/huge-$transport.out" | tr '\n' ' ' | sed 's/ $//')"
	elif grep -q ' lost ' "$tmp/huge-$transport.log"; then
		ok "huge: the $transport subscriber's connection was closed ($(grep ' lost ' "$tmp/huge-$transport.log" | head -n 1 | cut -d ' ' -f 4-))"
	else
		fail "huge: the $transport subscriber gets the row or a clean close" \
		    "the row, or a closed connection" \
		    "exit $huge_status: $(tail -n 3 "$tmp/huge-$transport.err")"
	fi
done
expect_alive "huge: litepush-sse is still running" "$lighttpd_sse"
expect_alive "huge: litepush-ws is still running" "$ws_pid"
echo "# huge: peak memory litepush-sse $(peak_rss_kb "$lighttpd_sse") kB, litepush-ws $(peak_rss_kb "$ws_pid") kB"
# Once delivered, the row's memory goes back (scratch buffers shrink, the
# ring does not keep a row of half its budget): 16 MB of slack for the
# allocator and SQLite's page cache.
expect_growth_within "huge: litepush-sse gives the row's memory back" \
    "$huge_before_sse" "$(rss_kb "$lighttpd_sse")" 16384
expect_growth_within "huge: litepush-ws gives the row's memory back" \
    "$huge_before_ws" "$(rss_kb "$ws_pid")" 16384
stop_pid "$ws_pid"
stop_pid "$lighttpd_pid"

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log "$tmp"/*.err; do
		echo "# --- $log"
		grep -v '^litepush-ws: \(open\|close\|refuse\)' "$log" |
		    tail -n 10 | cut -c 1-300 | sed 's/^/# /'
	done
fi
finish
