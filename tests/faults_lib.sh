# faults_lib.sh: what faults-sse.sh, faults-ws.sh and limits.sh share,
# sourced after lib.sh: the programs, a publisher, the daemons and web
# servers started on free ports in $test_tmpdir, the reconnecting clients
# of fault_client.py, and the faults both daemons are put through (the
# last section).
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

# Prints SQL that INSERTs events "1".."$2" into channel $1, one
# transaction each.
insert_sql()
{
	seq "$2" | sed "s/.*/INSERT INTO events(channel, data) VALUES('$1', '&');/"
}

# Publishes $2 events on channel $1 from one sqlite3 shell at about $3 a
# second (the INSERTs are fed to it in batches every 50 ms), in the
# background; sets $publisher_pid.  Its errors go to $tmp/publisher.err.
# With $4, it stops after that many events until the file $5 exists
# (open_gate), so that the clients cannot finish before the test has
# done what it does meanwhile.
start_paced_publisher()
{
	"$PYTHON" -c 'import os, sys, time
channel, count, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
hold = int(sys.argv[4]) if len(sys.argv) > 4 else 0
start = time.monotonic()
for i in range(1, count + 1):
    sys.stdout.write("INSERT INTO events(channel, data) VALUES(%r, %r);\n"
                     % (channel, "event %d" % i))
    if i % max(1, int(rate / 20)) == 0 or i == count or i == hold:
        sys.stdout.flush()
        if i == hold:
            while not os.path.exists(sys.argv[5]):
                time.sleep(0.05)
            start = time.monotonic() - i / rate
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)' "$@" |
	    sqlite3 -cmd ".timeout 10000" "$db" 2>"$tmp/publisher.err" &
	publisher_pid=$!
	track_pid "$publisher_pid"
}

# Lets a publisher held by start_paced_publisher's $5 = $1 go on.
open_gate()
{
	: >"$1"
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

# Starts Apache (servers.sh) on tests/conf/apache-fcgi.conf.in, or the
# template $1, in front of $tmp/sse.sock; sets $url and checks that it
# reaches litepush-sse.
start_apache_sse()
{
	start_apache "${1:-$top_srcdir/tests/conf/apache-fcgi.conf.in}" ||
	    return 1
	url=http://127.0.0.1:$apache_port/stream
	wait_for "Apache on 127.0.0.1:$apache_port reaches litepush-sse" 20 \
	    sse_answers "$url"
}

# Succeeds when a stream on channel $1 (default probe) opens at $url.
sse_stream_opens()
{
	fault_client follow --url "$url" --channels "${1:-probe}" --count 0 \
	    --timeout 3
}

# --- litepush-lighttpd (mod_fastcgi spawning litepush-sse) ----------------------

# Starts lighttpd (servers.sh) spawning litepush-sse for $db with
# keepalive $1 and max-streams $2 (tests/conf/lighttpd-sse.conf.in); sets
# $url and checks that it answers.
start_lighttpd_sse()
{
	start_lighttpd "$top_srcdir/tests/conf/lighttpd-sse.conf.in" \
	    SSE="$sse" DB="$db" KEEPALIVE="$1" MAX_AGE=600 MAX_STREAMS="$2" ||
	    return 1
	url=http://127.0.0.1:$lighttpd_port/stream
	wait_for "lighttpd on 127.0.0.1:$lighttpd_port spawns litepush-sse" 20 \
	    sse_answers "$url"
}

# --- litepush-ws ------------------------------------------------------------------

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

# --- the faults faults-sse.sh and faults-ws.sh put both daemons through ----------
#
# Each script chooses its daemon with use_transport, then runs these
# scenarios against it and adds the checks only that daemon has.  The
# checks are named in the transport's own words (streams and keepalives,
# or WebSockets and pings).

# Prints the time in unix ms.
now_ms()
{
	date +%s%3N
}

# Succeeds when each of the $3 clients of the client log $1 lost its
# connection at or after unix ms $2 and has opened one since.  (Counting
# opens is not enough: a client the daemon dropped for a late pong opens
# twice, and one that finished opens no more.)
all_back_since()
{
	awk -v since="$2" -v n="$3" '
	    $3 == "lost" && $1 >= since { lost[$2] = 1 }
	    $3 == "lost" || $3 == "open" { last[$2] = $3 }
	    END {
		for (c = 0; c < n; c++)
			if (!lost[c] || last[c] != "open")
				exit 1
	    }' "$1"
}

# Succeeds while another connection holds the write lock on $db.
db_locked()
{
	! sqlite3 -cmd ".timeout 0" "$db" "BEGIN IMMEDIATE; ROLLBACK" \
	    >/dev/null 2>&1
}

# Chooses the daemon the scenarios below run against, and the words their
# checks are named with: sse (litepush-sse behind a web server at $url,
# whose streams get keepalives; --keepalive 1) or ws (litepush-ws at
# $ws_url, whose WebSockets get pings; --ping 1).
use_transport()
{
	transport=$1
	case $1 in
	sse)
		daemon="litepush-sse"
		stream=stream
		streams=streams
		new_connections="new streams"
		heartbeat=keepalive
		heartbeat_option="--keepalive 1"
		got_heartbeats="got keepalives"
		heartbeat_times=
		still_heartbeat="still gets keepalives"
		resume_with="Last-Event-ID: "
		;;
	ws)
		daemon="litepush-ws"
		stream=WebSocket
		streams=WebSockets
		new_connections=handshakes
		heartbeat=ping
		heartbeat_option="--ping 1"
		got_heartbeats="was pinged"
		heartbeat_times=" times"
		still_heartbeat="is still pinged"
		resume_with=lastEventId=
		;;
	esac
}

# Prints the PID of the chosen daemon.
daemon_pid()
{
	if [ "$transport" = ws ]; then
		echo "$ws_pid"
	else
		echo "$sse_pid"
	fi
}

# Prints the URL the chosen daemon's clients connect to.
transport_url()
{
	if [ "$transport" = ws ]; then
		echo "$ws_url"
	else
		echo "$url"
	fi
}

# Kills the chosen daemon with SIGKILL, waits until it is gone and, as a
# supervisor would, starts it again (litepush-ws on the same port) half a
# second later with the options given.
crash_and_restart()
{
	crash_pid=$(daemon_pid)
	kill -KILL "$crash_pid"
	wait "$crash_pid" 2>/dev/null
	untrack_pid "$crash_pid"
	sleep 0.5 # a supervisor's restart delay (systemd's RestartSec)
	if [ "$transport" = ws ]; then
		start_ws "$@"
	else
		start_sse "$@"
	fi
}

# Waits for the publisher and for the 200 clients of the kill run on
# channel $2, then checks that each got every event once, in order.  The
# checks' names start with $1.
end_kill_run()
{
	wait "$publisher_pid"
	expect_eq "${1}the sqlite3 publisher never failed" "0 " \
	    "$? $(cat "$tmp/publisher.err")"
	untrack_pid "$publisher_pid"
	end_follow "${1}200 clients end with 2000 events each" "$2" "$follow_pid"
	ids_of "$2" >"$tmp/$2.expected"
	expect_same_lines "${1}every event exactly once, in order, for each client" \
	    "$tmp/$2.expected" "$tmp/$2.out"
}

# Succeeds when a new stream on channel $1 gets a 503 (for litepush-ws,
# any handshake).
refuses_new()
{
	if [ "$transport" = ws ]; then
		[ "$(ws_status "$ws_url")" = 503 ]
	else
		answers_status "$url?channel=$1" 503
	fi
}

# Checks that a new stream on channel $2 (for litepush-ws, any handshake)
# is refused with a 503 and a one-line text/plain reason, left in
# $error_reason.  $1 names the check.
expect_unavailable()
{
	if [ "$transport" = ws ]; then
		expect_ws_refusal "$1" "$ws_url" 503
	else
		expect_refusal "$1" "$url?channel=$2" 503
	fi
}

# Succeeds when a stream (or a WebSocket) on channel probe opens.
transport_opens()
{
	if [ "$transport" = ws ]; then
		ws_opens
	else
		sse_stream_opens
	fi
}

# Prints how many heartbeats (keepalives or pings) the client log $1 has.
heartbeats_in()
{
	grep -c "^[0-9]* [0-9]* $heartbeat" "$1"
}

# Succeeds once the client log $1 has more than $2 heartbeats.
more_heartbeats()
{
	[ "$(heartbeats_in "$1")" -gt "$2" ]
}

# hold, first half: 20 clients open on channel hold, a sqlite3 shell holds
# the database (BEGIN EXCLUSIVE, 10 INSERTs, 5 s, COMMIT), and meanwhile
# new clients open, one reads a backlog and one catches up.  The script
# adds its own checks under the lock, then calls writer_commits.
writer_holds_database()
{
	start_follow hold --transport "$transport" --url "$(transport_url)" \
	    --channels hold --concurrent 20 --count 10 --timeout 60 \
	    --ready-file "$tmp/hold.ready" --log "$tmp/hold.log"
	wait_for "hold: 20 $streams open ($heartbeat_option)" 30 \
	    follow_ready hold "$follow_pid"
	hold_pid=$follow_pid
	held_before=$(sql "SELECT max(id) FROM events")
	{
		echo "BEGIN EXCLUSIVE;"
		insert_sql hold 10
		sleep 5
		echo "COMMIT;"
	} | sqlite3 -cmd ".timeout 10000" "$db" 2>"$tmp/holder.err" &
	holder_pid=$!
	track_pid "$holder_pid"
	wait_for "hold: a sqlite3 shell holds the database (BEGIN EXCLUSIVE, 10 INSERTs)" \
	    5 db_locked
	hold_start=$(now_ms)
	run fault_client follow --transport "$transport" \
	    --url "$(transport_url)" --channels hold_new --concurrent 50 \
	    --count 0 --timeout 20
	expect_eq "hold: 50 new $streams open meanwhile" 0 "$run_status"
	run fault_client follow --transport "$transport" \
	    --url "$(transport_url)?backlog=5" --channels kill --count 5 \
	    --timeout 20
	expect_eq "hold: a $stream with backlog=5 (read from SQLite) opens and gets 5 events" \
	    0 "$run_status"
	run fault_client follow --transport "$transport" \
	    --url "$(transport_url)" --channels kill --last-event-id 1000 \
	    --count 1000 --timeout 20
	expect_eq "hold: a $stream resuming 1000 events back catches up meanwhile" \
	    0 "$run_status"
}

# hold, second half: the lock was held all along; once the writer commits
# the 20 clients get the 10 events, none before the commit, and each got
# heartbeats while it waited.
writer_commits()
{
	if db_locked; then
		ok "hold: all of that while the lock was held"
	else
		fail "hold: all of that while the lock was held" "locked" "released"
	fi
	wait "$holder_pid"
	expect_eq "hold: the writer commits" "0 " "$? $(cat "$tmp/holder.err")"
	untrack_pid "$holder_pid"
	hold_end=$(now_ms)
	end_follow "hold: the 20 $streams get the 10 held events" hold "$hold_pid"
	# Per client: heartbeats while the lock was held, and when the events
	# came.
	awk -v start="$hold_start" -v end="$hold_end" -v kind="$heartbeat" '
		$3 == kind && $1 > start && $1 < end { beats[$2]++ }
		$3 == "event" { if (!($2 in first) || $1 < first[$2]) first[$2] = $1
			if ($1 > last[$2]) last[$2] = $1 }
		END {
			min = -1
			for (i = 0; i < 20; i++)
				if (min < 0 || beats[i] + 0 < min) min = beats[i] + 0
			early = 0; late = 0
			for (i in first) if (first[i] < start) early++
			for (i in last) if (last[i] - end > late) late = last[i] - end
			print min, early, late
		}' "$tmp/hold.log" >"$tmp/hold.summary"
	read -r hold_heartbeats hold_early hold_late <"$tmp/hold.summary"
	if [ "$hold_heartbeats" -ge 3 ]; then
		ok "hold: every open $stream $got_heartbeats during the $(((hold_end - hold_start) / 1000)) s hold (at least $hold_heartbeats$heartbeat_times)"
	else
		fail "hold: every open $stream $got_heartbeats during the hold" \
		    "at least 3 each" "$hold_heartbeats for one of them"
	fi
	expect_eq "hold: no held event arrived before the commit" 0 "$hold_early"
	# A figure, not a test: how long after the commit the last one came.
	echo "# hold: the last held event arrived ${hold_late} ms after the writer exited"
	expect_eq "hold: with their ids" \
	    "$(ids_of hold "$held_before" | tr '\n' ' ')" \
	    "$(awk '$2 == 0 && $3 == "event" { printf "%s ", $4 }' "$tmp/hold.log")"
}

# removed: the database moved away while a client is open, then back.
database_removed_and_restored()
{
	start_follow removed --transport "$transport" --url "$(transport_url)" \
	    --channels removed --count 2 --timeout 60 \
	    --ready-file "$tmp/removed.ready" --log "$tmp/removed.log"
	wait_for "removed: a $stream is open" 20 follow_ready removed "$follow_pid"
	removed_pid=$follow_pid
	mv "$db" "$db.away"
	wait_for "removed: once the file is gone, $new_connections get 503" 10 \
	    refuses_new removed
	expect_unavailable "removed: the 503 says why" removed
	expect_contains "removed: naming the store" "event store unavailable" \
	    "$error_reason"
	removed_heartbeats=$(heartbeats_in "$tmp/removed.log")
	wait_for "removed: the open $stream $still_heartbeat" 10 \
	    more_heartbeats "$tmp/removed.log" $((removed_heartbeats + 2))
	mv "$db.away" "$db"
	wait_for "removed: once it is back, $streams open again by themselves" \
	    10 transport_opens
	sql "INSERT INTO events(channel, data) VALUES('removed', 'after 1');
	    INSERT INTO events(channel, data) VALUES('removed', 'after 2')"
	end_follow "removed: the $stream open all along gets the new events" \
	    removed "$removed_pid"
}

# recreate: the database removed with its -wal and -shm files and created
# again while a client is open; then a client that resumes past the new
# log's newest id.
database_recreated()
{
	start_follow again --transport "$transport" --url "$(transport_url)" \
	    --channels again --count 4 --any-order --print ids --timeout 60 \
	    --ready-file "$tmp/again.ready" --log "$tmp/again.log"
	wait_for "recreate: a $stream is open" 20 follow_ready again "$follow_pid"
	again_pid=$follow_pid
	sql "INSERT INTO events(channel, data) VALUES('again', 'old log')"
	high=$(sql "SELECT max(id) FROM events")
	wait_for "recreate: it gets id $high" 10 \
	    grep -q "^[0-9]* 0 event $high\$" "$tmp/again.log"
	rm -f "$db" "$db-wal" "$db-shm"
	wait_for "recreate: once the file is removed, $new_connections get 503" \
	    10 refuses_new again
	"$litepush" init "$db" >/dev/null
	sql "INSERT INTO events(channel, data) VALUES('again', 'new 1');
	    INSERT INTO events(channel, data) VALUES('again', 'new 2');
	    INSERT INTO events(channel, data) VALUES('again', 'new 3')"
	end_follow "recreate: the open $stream gets the new log's events" \
	    again "$again_pid"
	expect_eq "recreate: from its beginning (ids $high, then 1 2 3)" \
	    "$high 1 2 3 " "$(tr '\n' ' ' <"$tmp/again.out")"
	start_follow again-late --transport "$transport" \
	    --url "$(transport_url)" --channels again --any-order \
	    --last-event-id "$high" --count 4 --print ids --timeout 30 \
	    --ready-file "$tmp/again-late.ready" --log "$tmp/again-late.log"
	wait_for "recreate: a client resuming with $resume_with$high (past the newest, 3) opens" \
	    20 follow_ready again-late "$follow_pid"
	sql "INSERT INTO events(channel, data) VALUES('again', 'new 4')"
	end_follow "recreate: it is told of the reset, and gets the new log from its beginning" \
	    again-late "$follow_pid"
	expect_eq "recreate: ids 1 2 3, then the next one, 4" "1 2 3 4 " \
	    "$(tr '\n' ' ' <"$tmp/again-late.out")"
	expect_eq "recreate: after one reset" 1 \
	    "$(grep -c '^[0-9]* [0-9]* reset' "$tmp/again-late.log")"
}

# start: the daemon, just started for a $db that does not exist, refuses
# with the reason until a database is moved into $db's directory (first a
# file that is not one).
started_without_database()
{
	expect_unavailable "start: the database is missing" news
	expect_contains "start: the reason" "No such file" "$error_reason"
	# Written elsewhere and moved in whole: the daemon would create the
	# schema in an empty file (as any program opening the store does).
	echo "this is not an SQLite database, but a text file of some length: $(seq 200)" \
	    >"$db.junk"
	mv "$db.junk" "$db"
	wait_for "start: a file that is not a database: still 503" 10 \
	    refuses_new news
	expect_unavailable "start: a file that is not a database" news
	expect_contains "start: the reason" "not a database" "$error_reason"
	"$litepush" init "$db.new" >/dev/null
	mv "$db.new" "$db"
	wait_for "start: once a database is moved in, $streams open by themselves" \
	    10 transport_opens
}

# unreadable: the daemon, just started for a $db of mode 000 that it
# cannot read, refuses (the check named $1) with the reason until the file
# is readable; then it must still be running.
started_unreadable()
{
	expect_unavailable "$1" news
	expect_contains "unreadable: the reason" "ermission denied" \
	    "$error_reason"
	chmod 600 "$db"
	wait_for "unreadable: once it is readable, $streams open by themselves" \
	    10 transport_opens
	if pid_gone "$(daemon_pid)"; then
		fail "$daemon survived all of that" "running" "exited"
	else
		ok "$daemon survived all of that"
	fi
}

# Mounts a 4 MB tmpfs on $full ($tmp/full) and creates $db in it; 1 if it
# cannot mount (the reason in $tmp/mount.err).
mount_small_disk()
{
	full=$tmp/full
	mkdir -p "$full"
	mount -t tmpfs -o size=4m,mode=0755 litepush-test "$full" \
	    2>"$tmp/mount.err" || return 1
	at_exit "umount '$full'"
	db=$full/events.db
	"$litepush" init "$db" >/dev/null
}

# full: with $full filled up, an INSERT fails with SQLite's error while
# the open client "full" still gets heartbeats and new clients open; once
# the filler is removed the INSERTs succeed.
disk_full_and_freed()
{
	run sqlite3 "$db" "INSERT INTO events(channel, data)
	    VALUES('full', hex(randomblob(262144)))"
	if [ "$run_status" -ne 0 ]; then
		ok "full: an INSERT of 512 KB fails (sqlite3 exits $run_status)"
	else
		fail "full: an INSERT of 512 KB fails" "sqlite3 exits non-zero" \
		    "exit 0"
	fi
	expect_contains "full: with SQLite's error" "database or disk is full" \
	    "$run_err"
	full_heartbeats=$(heartbeats_in "$tmp/full.log")
	wait_for "full: the open $stream $still_heartbeat" 10 \
	    more_heartbeats "$tmp/full.log" $((full_heartbeats + 2))
	wait_for "full: new $streams open" 10 transport_opens
	rm -f "$full/filler"
	run sqlite3 "$db" "INSERT INTO events(channel, data)
	    VALUES('full', hex(randomblob(262144)));
	    INSERT INTO events(channel, data) VALUES('full', 'small')"
	expect_eq "full: once space is freed the INSERTs succeed" "0 " \
	    "$run_status $run_err"
}
