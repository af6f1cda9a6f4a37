# faults_lib.sh: what faults-sse.sh, faults-ws.sh and limits.sh share,
# sourced after lib.sh: the programs, a publisher, the daemons and web
# servers started on free ports in $test_tmpdir, and the reconnecting
# clients of fault_client.py.
#
# Note that everything runs as whoever runs the tests; as root the web
# servers' workers are www-data, so the directory is opened to them.

# shellcheck shell=sh
# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

require_command sqlite3 curl

sse=$top_builddir/fcgi/litepush-sse
ws_bin=$top_builddir/ws/litepush-ws
litepush=$top_builddir/cli/litepush
for faults_program in "$sse" "$ws_bin" "$litepush"; do
	if [ ! -x "$faults_program" ]; then
		echo "not built: $faults_program"
		exit 99
	fi
done
fault_client=$top_srcdir/tests/fault_client.py
tmp=$test_tmpdir
chmod 755 "$tmp"
# Hundreds of clients need descriptors, here and in the servers started.
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Runs SQL on $db with the sqlite3 shell, as a publisher would.
sql()
{
	sqlite3 -cmd ".timeout 10000" "$db" "$@"
}

# Prints SQL that INSERTs events "1".."$2" into channel $1, one
# transaction each.
insert_sql()
{
	seq "$2" | sed "s/.*/INSERT INTO events(channel, data) VALUES('$1', '&');/"
}

# Publishes $2 events on channel $1 from one sqlite3 shell at about $3 a
# second (the INSERTs are fed to it in batches every 50 ms), in the
# background; sets $publisher_pid.  Its errors go to $tmp/publisher.err.
start_paced_publisher()
{
	"$PYTHON" -c 'import sys, time
channel, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
start = time.monotonic()
for i in range(1, count + 1):
    sys.stdout.write("INSERT INTO events(channel, data) VALUES(%r, %r);\n"
                     % (channel, "event %d" % i))
    if i % max(1, int(rate / 20)) == 0 or i == count:
        sys.stdout.flush()
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)' "$1" "$2" "$3" |
	    sqlite3 -cmd ".timeout 10000" "$db" 2>"$tmp/publisher.err" &
	publisher_pid=$!
	track_pid "$publisher_pid"
}

# Like lib.sh's wait_for, but TIMEOUT_SECONDS are of the clock however
# long each try of COMMAND takes (a client that connects, say).
wait_until()
{
	wait_until_desc=$1
	wait_until_end=$(($(date +%s) + $2 + 1))
	shift 2
	while :; do
		if "$@" >/dev/null 2>&1; then
			ok "$wait_until_desc"
			return 0
		fi
		if [ "$(date +%s)" -ge "$wait_until_end" ]; then
			fail "$wait_until_desc" "success of: $*" "still failing"
			return 1
		fi
		sleep 0.05
	done
}

# Prints how many events channel $1 has.
count_of()
{
	sql "SELECT count(*) FROM events WHERE channel = '$1'"
}

# Succeeds once channel $1 has at least $2 events.
has_events()
{
	[ "$(count_of "$1")" -ge "$2" ]
}

# Prints the ids of channel $1 after id $2 (default 0), one a line.
ids_of()
{
	sql "SELECT id FROM events WHERE channel = '$1' AND id > ${2:-0}
	    ORDER BY id"
}

# Starts `fault_client.py follow ARGS...` in the background; its output
# goes to $tmp/$1.out and .err, its log (if --log is given) wherever that
# says.  Sets $follow_pid.  Pass --ready-file $tmp/$1.ready to wait on.
start_follow()
{
	start_follow_name=$1
	shift
	rm -f "$tmp/$start_follow_name.ready"
	"$PYTHON" "$fault_client" follow "$@" >"$tmp/$start_follow_name.out" \
	    2>"$tmp/$start_follow_name.err" &
	follow_pid=$!
	track_pid "$follow_pid"
}

# Succeeds once client $1 (PID $2) is ready, or has died (then the check
# of its exit status says why).
follow_ready()
{
	[ -f "$tmp/$1.ready" ] && return 0
	pid_gone "$2"
}

# Waits for the client $2 (PID $3) and checks that it exited 0.
end_follow()
{
	wait "$3"
	end_follow_status=$?
	untrack_pid "$3"
	if [ "$end_follow_status" -eq 0 ]; then
		ok "$1 ($(tail -n 1 "$tmp/$2.err"))"
	else
		fail "$1" "exit 0" \
		    "exit $end_follow_status: $(tail -n 6 "$tmp/$2.err" | tr '\n' ' ')"
	fi
}

# Runs fault_client.py with the arguments.
fault_client()
{
	"$PYTHON" "$fault_client" "$@"
}

# Checks that file $2 holds the same lines as file $3 (expected first).
expect_same_lines()
{
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		fail "$1" "$(wc -l <"$2") lines: $(head -c 60 "$2" | tr '\n' ' ')..." \
		    "$(wc -l <"$3") lines: $(head -c 60 "$3" | tr '\n' ' ')...; first difference: $(diff "$2" "$3" | head -n 3 | tr '\n' ' ')"
	fi
}

# Prints the value of header $1 in the header file $2, without the CR.
header()
{
	grep -i "^$1:" "$2" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# Requests URL $2 (curl options $4...) and checks that it gets status $3
# with a one-line text/plain reason; the reason is left in $error_reason.
expect_refusal()
{
	expect_refusal_desc=$1
	expect_refusal_url=$2
	expect_refusal_status=$3
	shift 3
	rm -f "$tmp/refusal.head" "$tmp/refusal.body"
	expect_refusal_code=$(curl -s --max-time 20 -D "$tmp/refusal.head" \
	    -o "$tmp/refusal.body" -w '%{http_code}' "$@" "$expect_refusal_url")
	error_reason=$(head -c 300 "$tmp/refusal.body")
	if [ "$expect_refusal_code" = "$expect_refusal_status" ] &&
	    header Content-Type "$tmp/refusal.head" | grep -q '^text/plain' &&
	    [ "$(sed '$a\' "$tmp/refusal.body" | wc -l)" -eq 1 ]; then
		ok "$expect_refusal_desc: $expect_refusal_status, text/plain: $error_reason"
	else
		fail "$expect_refusal_desc" \
		    "$expect_refusal_status, text/plain, a one-line reason" \
		    "$expect_refusal_code $(header Content-Type "$tmp/refusal.head"): $error_reason"
	fi
}

# Prints the status code of a request for URL $1 (curl options $2...).
status_of_request()
{
	status_of_request_url=$1
	shift
	curl -s --max-time 20 -o /dev/null -w '%{http_code}' "$@" \
	    "$status_of_request_url"
}

# Succeeds when a request for URL $1 gets status $2.
answers_status()
{
	[ "$(status_of_request "$1")" = "$2" ]
}

# Succeeds once process $1 has exited and been reaped or is a zombie.
# (lib.sh's pid_gone.)

# Asks daemon $1 for its feed counters (SIGUSR1, one JSON line on its
# standard error, which goes to file $2) and prints that line.
feed_stats()
{
	feed_stats_before=$(grep -c feed_stats "$2" 2>/dev/null)
	kill -USR1 "$1" 2>/dev/null || return 1
	# Note that this is often called through wait_for: poll_until here
	# would reuse its counter.
	feed_stats_tries=200
	while [ "$(grep -c feed_stats "$2")" -le "${feed_stats_before:-0}" ]; do
		feed_stats_tries=$((feed_stats_tries - 1))
		[ "$feed_stats_tries" -gt 0 ] || return 1
		sleep 0.05
	done
	grep feed_stats "$2" | tail -n 1
}

# Prints the number of cursors (streams or WebSockets) of daemon $1
# whose standard error goes to file $2.
cursors_of()
{
	feed_stats "$1" "$2" | sed -n 's/.*"cursors":\([0-9]*\).*/\1/p'
}

# Succeeds when daemon $1 (standard error in $2) has exactly $3 cursors.
has_cursors()
{
	[ "$(cursors_of "$1" "$2")" = "$3" ]
}

# --- litepush-sse behind Apache (mod_proxy_fcgi) --------------------------------

# Starts litepush-sse on unix:$tmp/sse.sock for $db with the options
# given, as a supervisor would (again after a crash); its standard error
# goes to $tmp/sse.log.  Sets $sse_pid.  With $sse_user set, it runs as
# that user (setpriv).
start_sse()
{
	rm -f "$tmp/sse.sock"
	if [ -n "${sse_user:-}" ]; then
		setpriv --reuid="$sse_user" --regid="$sse_user" --clear-groups \
		    "$sse" --listen "unix:$tmp/sse.sock" --db "$db" "$@" \
		    2>>"$tmp/sse.log" &
	else
		"$sse" --listen "unix:$tmp/sse.sock" --db "$db" "$@" \
		    2>>"$tmp/sse.log" &
	fi
	sse_pid=$!
	track_pid "$sse_pid"
	if ! poll_until 10 test -S "$tmp/sse.sock"; then
		fail "litepush-sse creates its socket" "a socket" \
		    "$(tail -n 3 "$tmp/sse.log")"
		return 1
	fi
	# Apache's workers (www-data) connect to it.
	chmod 666 "$tmp/sse.sock"
}

# Stops litepush-sse ($sse_pid) with SIGTERM.
stop_sse()
{
	stop_pid "$sse_pid"
}

# Starts Apache (tests/conf/apache-fcgi.conf.in, or the template $1) in
# front of $tmp/sse.sock; sets $apache_pid and $url.
# shellcheck disable=SC2120 # $1 is optional
start_apache()
{
	apache_port=$(free_port)
	url=http://127.0.0.1:$apache_port/stream
	render "${1:-$top_srcdir/tests/conf/apache-fcgi.conf.in}" \
	    "$tmp/apache.conf" TMP="$tmp" PORT="$apache_port"
	/usr/sbin/apache2 -f "$tmp/apache.conf" -DFOREGROUND \
	    >>"$tmp/apache.log" 2>&1 &
	apache_pid=$!
	track_pid "$apache_pid"
	wait_for "Apache on 127.0.0.1:$apache_port reaches litepush-sse" 20 \
	    sse_answers
}

# Succeeds when litepush-sse itself answers through the web server (400
# for a bad channel, or its own text/plain 503).
sse_answers()
{
	sse_answers_code=$(curl -s -o /dev/null -D "$tmp/answers.head" \
	    -w '%{http_code}' "$url?channel=bad%20channel") || return 1
	case $sse_answers_code in
	400)
		return 0
		;;
	503)
		header Content-Type "$tmp/answers.head" | grep -q '^text/plain'
		;;
	*)
		return 1
		;;
	esac
}

# Succeeds when a stream on channel $1 (default probe) opens at $url.
sse_stream_opens()
{
	fault_client follow --url "$url" --channels "${1:-probe}" --count 0 \
	    --timeout 3
}

# --- litepush-lighttpd (mod_fastcgi spawning litepush-sse) ----------------------

# Starts lighttpd spawning litepush-sse for $db with keepalive $1,
# max-streams $2 (tests/conf/lighttpd-sse.conf.in); sets $lighttpd_pid
# and $url.
start_lighttpd()
{
	lighttpd_port=$(free_port)
	url=http://127.0.0.1:$lighttpd_port/stream
	render "$top_srcdir/tests/conf/lighttpd-sse.conf.in" \
	    "$tmp/lighttpd.conf" TMP="$tmp" PORT="$lighttpd_port" SSE="$sse" \
	    DB="$db" KEEPALIVE="$1" MAX_AGE=600 MAX_STREAMS="$2"
	# Note that lighttpd takes SIGINT as "finish the open responses
	# first", which for streams is never: it is stopped with SIGTERM.
	/usr/sbin/lighttpd -D -f "$tmp/lighttpd.conf" >>"$tmp/lighttpd.log" 2>&1 &
	lighttpd_pid=$!
	track_pid "$lighttpd_pid"
	wait_for "lighttpd on 127.0.0.1:$lighttpd_port spawns litepush-sse" 20 \
	    sse_answers
}

# Prints the PIDs of the litepush-sse processes below process $1.
sse_pids_below()
{
	for sse_below in $(descendant_pids "$1"); do
		if tr '\0' ' ' <"/proc/$sse_below/cmdline" 2>/dev/null |
		    grep -qF -e "$sse"; then
			echo "$sse_below"
		fi
	done
}

# --- litepush-ws ------------------------------------------------------------------

# Starts litepush-ws for $db on a free port with the options given; its
# standard error goes to $tmp/ws.log.  Sets $ws_pid, $ws_port and
# $ws_url.  With $ws_user set, it runs as that user.  Reuses $ws_port if
# set.
start_ws()
{
	: "${ws_port:=$(free_port)}"
	ws_url=ws://127.0.0.1:$ws_port/ws
	if [ -n "${ws_user:-}" ]; then
		setpriv --reuid="$ws_user" --regid="$ws_user" --clear-groups \
		    "$ws_bin" --listen "127.0.0.1:$ws_port" --db "$db" "$@" \
		    2>>"$tmp/ws.log" &
	else
		"$ws_bin" --listen "127.0.0.1:$ws_port" --db "$db" "$@" \
		    2>>"$tmp/ws.log" &
	fi
	ws_pid=$!
	track_pid "$ws_pid"
	poll_until 10 port_listens "$ws_port"
}

# Succeeds once something accepts TCP connections on 127.0.0.1 port $1.
port_listens()
{
	"$PYTHON" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"
}

# Prints the status code litepush-ws answers a handshake for URL $1 with.
ws_status()
{
	fault_client follow --transport ws --url "$1" --count 0 --timeout 10 \
	    2>&1 >/dev/null | sed -n 's/.*refused: HTTP\/1\.1 \([0-9]*\).*/\1/p'
}

# Succeeds when a WebSocket on channel $1 (default probe) opens at $ws_url.
ws_opens()
{
	fault_client follow --transport ws --url "$ws_url" \
	    --channels "${1:-probe}" --count 0 --timeout 3
}

# Prints the whole response (head and body) of a WebSocket handshake
# for URL $1 made with curl (a refusal), with the curl options $2...
ws_refusal()
{
	ws_refusal_url=$(printf '%s\n' "$1" | sed 's|^ws://|http://|')
	shift
	curl -s --max-time 5 -i -H "Upgrade: websocket" \
	    -H "Connection: Upgrade" -H "Sec-WebSocket-Version: 13" \
	    -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" "$@" \
	    "$ws_refusal_url"
}

# Checks that a handshake for URL $2 is refused with status $3 and a
# one-line text/plain reason (left in $error_reason).
expect_ws_refusal()
{
	ws_refusal "$2" >"$tmp/ws-refusal"
	expect_ws_refusal_status=$(head -n 1 "$tmp/ws-refusal" | cut -d ' ' -f 2)
	error_reason=$(sed '1,/^\r*$/d' "$tmp/ws-refusal" | head -c 300)
	if [ "$expect_ws_refusal_status" = "$3" ] &&
	    grep -qi '^content-type: text/plain' "$tmp/ws-refusal" &&
	    [ "$(printf '%s\n' "$error_reason" | wc -l)" -eq 1 ]; then
		ok "$1: $3, text/plain: $error_reason"
	else
		fail "$1" "$3, text/plain, a one-line reason" \
		    "$(tr '\r\n' '  ' <"$tmp/ws-refusal" | head -c 400)"
	fi
}
