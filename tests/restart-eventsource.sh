#!/bin/sh
# restart-eventsource.sh: litepush-sse restarted under plain EventSources.
#
# Three deployments, one after the other: Apache and lighttpd as their
# examples deploy them (apache.conf.example, lighttpd.conf.example:
# litepush-sse standalone on its socket, started from its systemd unit,
# and started again here as systemd would), and lighttpd spawning
# litepush-sse itself (tests/conf/lighttpd-sse.conf.in, bin-path: lighttpd
# starts it again).  In each, two clients follow one channel while the
# sqlite3 shell inserts numbered rows into it: Chromium's own EventSource
# in a page that web server serves (tests/restart_page.html) and npm's
# eventsource package in Node (both run by tests/browser/restart.mjs).
# litepush-sse is stopped with SIGTERM, started again, killed with kill -9
# and started again.  Each client must come back by itself (readyState
# OPEN again, resuming with its Last-Event-ID) and end with every row
# exactly once, in order.
#
# Nothing helps the clients: a plain EventSource gives up for good at the
# first response that is not a 200, so a single 503 from the web server
# once litepush-sse is back fails this test.  While the standalone
# litepush-sse is down, a visitor's request finds it gone (and gets a 503,
# as it must): that failed connect is what makes lighttpd back off (see
# "disable-time" in lighttpd.conf.example).

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/clients_log.sh
. "$(dirname "$0")/clients_log.sh"
require_command node npm flock /usr/bin/chromium /usr/sbin/lighttpd \
    /usr/sbin/apache2
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
	echo "skip: playwright-core and eventsource need Node.js 20 or later, not $(node --version)"
	exit 77
fi

browser_dir=$top_srcdir/tests/browser
browser_packages

# shellcheck source=tests/stack_setup.sh
. "$top_srcdir/tests/stack_setup.sh"
sse=$top_builddir/fcgi/litepush-sse

# The reconnection delay every client is given (litepush-sse's default,
# said here because the scenario depends on it): a plain EventSource comes
# back this long after its stream ended.  No stream reaches its max-age
# here, so every reconnect is a restart's.
LITEPUSH_RETRY=3000
LITEPUSH_MAX_AGE=600
export LITEPUSH_RETRY LITEPUSH_MAX_AGE

# Prints how many rows channel $channel has.
published()
{
	sql "SELECT count(*) FROM events WHERE channel = '$channel'"
}

# Starts a sqlite3 shell inserting "row 1", "row 2"... into $channel, one
# transaction each, about 20 a second, until $tmp/$channel.stop exists
# (the odd ones with a sender); sets $publisher_pid.
start_publisher()
{
	"$PYTHON" -c 'import os, sys, time
channel, stop = sys.argv[1], sys.argv[2]
number = 0
while not os.path.exists(stop):
    number += 1
    # Every other row records a sender: the user: line it brings is a
    # field that EventSource must ignore, delivering the row as any other.
    sender = "'\''publisher'\''" if number % 2 else "NULL"
    print("INSERT INTO events(channel, data, sender) VALUES(%r, %r, %s);"
          % (channel, "row %d" % number, sender), flush=True)
    time.sleep(0.05)' "$channel" "$tmp/$channel.stop" |
	    sqlite3 -cmd ".timeout 10000" "$db" 2>"$tmp/$channel.publisher.err" &
	publisher_pid=$!
	track_pid "$publisher_pid"
}

# Stops the publisher and checks that every INSERT succeeded.
stop_publisher()
{
	: >"$tmp/$channel.stop"
	wait "$publisher_pid"
	expect_eq "$name: the sqlite3 publisher never failed" "0 " \
	    "$? $(cat "$tmp/$channel.publisher.err")"
	untrack_pid "$publisher_pid"
}

# Succeeds once both clients have logged at least $2 lines "$1 ...".
both_logged()
{
	[ "$(logged browser "$1")" -ge "$2" ] && [ "$(logged node "$1")" -ge "$2" ]
}

# Prints the clients whose EventSource gave up (an error with readyState
# CLOSED, 2), one a line.
gave_up()
{
	awk '$3 == "error" && $4 == 2 { print $2 }' "$clients_log" | sort -u
}

# Succeeds once both clients have opened $1 times, or one has given up.
opened_or_gave_up()
{
	both_logged open "$1" || [ -n "$(gave_up)" ]
}

# Prints the Last-Event-ID of each request of client $1 but the first.
resumed_with()
{
	logged_values "$1" request | sed 1d
}

# Sleeps until the current second of CLOCK_MONOTONIC (the clock lighttpd
# counts its back-off in) is $1 through, 0 to 1; prints that clock then.
until_phase()
{
	"$PYTHON" -c 'import sys, time
time.sleep((float(sys.argv[1]) - time.monotonic()) % 1.0)
print(time.monotonic())' "$1"
}

# Sleeps until 20 ms into the next second of CLOCK_MONOTONIC, unless that
# is more than 0.85 s after its time $1: then it returns at once.
until_next_second()
{
	"$PYTHON" -c 'import math, sys, time
now = time.monotonic()
then = math.floor(now) + 1.02
if then - float(sys.argv[1]) <= 0.85:
    time.sleep(then - now)' "$1"
}

# Stops the standalone litepush-sse ($stack_sse_pid) with signal $1 and,
# as a supervisor would, has another one from its unit take over about
# half a second later.  Just before it is back, a visitor loads a page,
# whose stream finds litepush-sse gone: that request fails, as it must,
# and is what lighttpd backs off after.  Our clients come back about 2.5 s
# after the visitor (--retry, 3 s, after their streams ended).
#
# How long a process takes to start is not what this measures, and under
# load (a sanitizer build beside other tests) it can take longer than
# those 2.5 s.  So the new litepush-sse is started before the old one is
# stopped, listening on a socket in a directory of its own, and that
# socket is renamed into the place of the old one right after the
# visitor's request: from then on, connections reach it, with nothing left
# to wait for.  (A rename keeps a listening socket working; it is what a
# supervisor handing over a bound socket amounts to here.)
#
# Note that lighttpd counts the back-off in whole seconds of its clock,
# which it reads once per turn of its loop: it ends at the start of the
# second after next ("disable-time" => 0) or the one after that (its
# default, 1), counted from the second in which the connect failed.  So
# the visitor comes just after a second starts, the worst case: the
# back-off then lasts 2 s, or 3 s with the default, and the clients come
# back in between.  (The page request before the stream makes lighttpd
# read its clock in that second.)  A failed connect late in a second
# costs less: unaligned, the default would go unnoticed half of the time.
restart_standalone()
{
	old_pid=$stack_sse_pid
	live_run=$stack_run
	stack_run=$tmp/staged-run
	mkdir -p "$stack_run"
	if stack_start_sse; then
		track_pid "$stack_sse_pid"
	else
		fail "$name: another litepush-sse starts from its unit"
	fi
	stack_run=$live_run
	stopped_at=$(until_phase 0.45)
	kill "-$1" "$old_pid"
	if poll_until 10 pid_gone "$old_pid"; then
		ok "$name: litepush-sse exits on SIG$1"
	else
		fail "$name: litepush-sse exits on SIG$1" "exit within 10 s" \
		    "still running"
	fi
	wait "$old_pid" 2>/dev/null
	untrack_pid "$old_pid"
	until_next_second "$stopped_at"
	visitor=$(curl -s --max-time 10 -o /dev/null -o /dev/null \
	    -w '%{http_code} ' "$site/restart_page.html" \
	    "$site/stream?channel=visitor")
	if mv "$tmp/staged-run/sse.sock" "$stack_run/sse.sock"; then
		ok "$name: the new litepush-sse takes over the socket"
	else
		fail "$name: the new litepush-sse takes over the socket"
	fi
	expect_eq "$name: a visitor while litepush-sse is down gets the page, and a 503 from $server for its stream" \
	    "200 503 " "$visitor"
}

# Succeeds once lighttpd ($lighttpd_pid) runs a litepush-sse other than
# process $1, which has exited.
respawned()
{
	pid_gone "$1" && [ -n "$(pids_below "$lighttpd_pid" "$sse")" ]
}

# Sends signal $1 to the litepush-sse lighttpd spawned and waits until
# lighttpd has started another.
restart_spawned()
{
	spawned=$(pids_below "$lighttpd_pid" "$sse")
	expect_eq "$name: lighttpd runs one litepush-sse" 1 \
	    "$(echo "$spawned" | wc -w)"
	kill "-$1" "$spawned"
	wait_for "$name: after SIG$1 to litepush-sse ($spawned) lighttpd starts another" \
	    20 respawned "$spawned"
}

# The scenario, under the web server at $site; $1 names the run (the
# channel is restart_$1), $2 restarts litepush-sse given a signal.
scenario()
{
	name=$1
	restart=$2
	channel=restart_$name
	clients_log=$tmp/$name.clients.log
	: >"$clients_log"
	LITEPUSH_PAGE="$site/restart_page.html?channel=$channel" \
	    LITEPUSH_STREAM="$site/stream?channel=$channel" \
	    LITEPUSH_LOG=$clients_log LITEPUSH_PROFILE=$tmp/$name.profile \
	    node "$browser_dir/restart.mjs" >"$tmp/$name.clients.out" 2>&1 &
	clients_pid=$!
	track_pid "$clients_pid"
	if ! wait_for "$name: Chromium's EventSource and npm's eventsource open" \
	    60 both_logged open 1; then
		stop_pid "$clients_pid"
		return 1
	fi

	start_publisher
	wait_for "$name: both get the rows the sqlite3 shell inserts" 20 \
	    both_logged event 10
	opens=1
	for signal in TERM KILL; do
		$restart "$signal"
		opens=$((opens + 1))
		poll_until 30 opened_or_gave_up "$opens"
		if both_logged open "$opens"; then
			ok "$name: after SIG$signal and a restart both are open again, by themselves"
		else
			fail "$name: after SIG$signal and a restart both are open again, by themselves" \
			    "both opened $opens times" \
			    "$(logged browser open) and $(logged node open) times; gave up: $(gave_up | tr '\n' ' ')"
			break
		fi
		wait_for "$name: and get the rows inserted meanwhile and since" 20 \
		    both_logged event $(($(published) + 5))
	done
	stop_publisher
	total=$(published)
	if [ -z "$(gave_up)" ]; then
		wait_for "$name: both end with all $total rows" 20 \
		    both_logged event "$total"
	fi

	kill -TERM "$clients_pid"
	wait "$clients_pid"
	expect_eq "$name: restart.mjs ends cleanly" "0" "$?"
	untrack_pid "$clients_pid"
	sql "SELECT id || ' ' || data FROM events WHERE channel = '$channel'
	    ORDER BY id" >"$tmp/$name.expected"
	for client in browser node; do
		case $client in
		browser) who="Chromium's EventSource" ;;
		node) who="npm's eventsource" ;;
		esac
		logged_values $client event >"$tmp/$name.$client.got"
		expect_same_lines "$name: $who got every row exactly once, in order" \
		    "$tmp/$name.expected" "$tmp/$name.$client.got"
		expect_eq "$name: $who opened three times, each time OPEN (readyState 1)" \
		    "1 1 1 " "$(logged_values $client open | tr '\n' ' ')"
		expect_eq "$name: $who got a 200 every time, never a 503" \
		    "200 200 200 " "$(logged_values $client status | tr '\n' ' ')"
		expect_eq "$name: $who never gave up (readyState CLOSED)" "" \
		    "$(logged_values $client error | grep '^2')"
		expect_eq "$name: $who resumed each time with the id of the last row it got" \
		    "$(ids_before_reopens $client | tr '\n' ' ')" \
		    "$(resumed_with $client | tr '\n' ' ')"
		expect_eq "$name: $who is OPEN at the end" 1 \
		    "$(logged_values $client final)"
	done
}

# --- Apache and lighttpd from their examples, litepush-sse standalone -----------

cp "$top_srcdir/tests/restart_page.html" "$stack_www/"
chmod a+r "$stack_www/restart_page.html"
for server in apache lighttpd; do
	stack_port=$(free_port)
	site=http://127.0.0.1:$stack_port
	if stack_start_sse; then
		track_pid "$stack_sse_pid"
	else
		fail "$server: litepush-sse starts from its unit"
		continue
	fi
	stack_server_pid=
	stack_start_server $server
	stack_server_status=$?
	[ -n "$stack_server_pid" ] && track_pid "$stack_server_pid"
	if [ "$stack_server_status" -eq 0 ]; then
		ok "$server serves the page and /stream from its example"
		scenario "$server" restart_standalone
	else
		fail "$server serves the page and /stream from its example"
	fi
	# litepush-sse first: its streams end, and Apache's threads with them.
	stop_pid "$stack_sse_pid"
	stop_pid "$stack_server_pid"
done

# --- lighttpd spawning litepush-sse (bin-path) ------------------------------------

server=lighttpd
spawn_dir=$tmp/spawn
mkdir -p "$spawn_dir"
cp "$top_srcdir/tests/restart_page.html" "$spawn_dir/"
lighttpd_port=$(free_port)
site=http://127.0.0.1:$lighttpd_port
render "$top_srcdir/tests/conf/lighttpd-sse.conf.in" "$spawn_dir/lighttpd.conf" \
    TMP="$spawn_dir" PORT="$lighttpd_port" SSE="$sse" DB="$db" KEEPALIVE=15 \
    MAX_AGE="$LITEPUSH_MAX_AGE" MAX_STREAMS=100
/usr/sbin/lighttpd -D -f "$spawn_dir/lighttpd.conf" >>"$tmp/lighttpd-spawn.log" 2>&1 &
lighttpd_pid=$!
track_pid "$lighttpd_pid"
if wait_for "lighttpd (bin-path) spawns litepush-sse" 20 sse_answers "$site/stream"; then
	scenario lighttpd-spawn restart_spawned
fi
stop_pid "$lighttpd_pid"

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log "$tmp"/*.clients.out "$spawn_dir/lighttpd-error.log"; do
		[ -f "$log" ] || continue
		echo "# --- $log"
		tail -n 30 "$log" | sed 's/^/# /'
	done
fi
finish
