#!/bin/sh
# faults-sse.sh: litepush-sse when things go wrong around it.  Behind
# Apache (mod_proxy_fcgi, litepush-sse standalone and restarted by this
# script as a supervisor would) and lighttpd (which spawns it and respawns
# it): kill -9 while 200 clients stream 2000 events; a writer holding the
# database for 5 s; the database missing, not a database, unreadable,
# removed and restored, recreated from scratch; the publisher's disk full.
#
# What a client sees in each case is what tests/fault_client.py does,
# which reconnects as a browser (or www/litepush.js) would: with its last
# id, after a dropped connection or a 502/503.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2 /usr/sbin/lighttpd
if [ "$(id -u)" -eq 0 ]; then
	require_command setpriv
fi
# shellcheck source=tests/faults_lib.sh
. "$top_srcdir/tests/faults_lib.sh"

# Prints the time in unix ms.
now_ms()
{
	date +%s%3N
}

# Succeeds when at least $2 lines of the client log $1 are "open".
opened_at_least()
{
	[ "$(grep -c '^[0-9]* [0-9]* open' "$1")" -ge "$2" ]
}

# Kills litepush-sse ($sse_pid) with SIGKILL, waits until it is gone and,
# as a supervisor would, starts it again half a second later.
crash_and_restart_sse()
{
	kill -KILL "$sse_pid"
	wait "$sse_pid" 2>/dev/null
	untrack_pid "$sse_pid"
	sleep 0.5 # a supervisor's restart delay (systemd's RestartSec)
	start_sse "$@"
}

# Prints, for the client log $1, how long after unix ms $2 the last of the
# clients noticed that its connection had dropped ("lost").
noticed_after()
{
	awk -v t="$2" '$3 == "lost" && $1 >= t { if ($1 - t > m) m = $1 - t }
	    END { print m + 0 }' "$1"
}

# --- Apache: litepush-sse killed while 200 clients stream -------------------

db=$tmp/events.db
"$litepush" init "$db" >/dev/null
start_sse --keepalive 1
start_apache "$top_srcdir/tests/conf/apache-fcgi.conf.in"

start_follow kill --url "$url" --channels kill --concurrent 200 \
    --count 2000 --reconnect --print ids --timeout 90 \
    --ready-file "$tmp/kill.ready" --log "$tmp/kill.log"
wait_for "apache: 200 clients stream" 60 follow_ready kill "$follow_pid"
start_paced_publisher kill 2000 200
wait_for "apache: the publisher is under way (400 of 2000 at ~200/s)" 20 \
    has_events kill 400
killed_at=$(now_ms)
crash_and_restart_sse --keepalive 1
wait_for "apache: after kill -9 and a restart every client is back" 30 \
    opened_at_least "$tmp/kill.log" 400
echo "# apache: the clients noticed the crash after at most $(noticed_after "$tmp/kill.log" "$killed_at") ms"
# Note that Apache (mod_proxy_fcgi, 2.4) keeps a client's connection open
# for KeepAliveTimeout (5 s) after its backend died mid-response, unless
# the location sets "SetEnv nokeepalive 1": events are late, not lost.
killed_at=$(now_ms)
crash_and_restart_sse --keepalive 1
wait_for "apache: after a second kill -9 and restart every client is back" 30 \
    opened_at_least "$tmp/kill.log" 600
wait "$publisher_pid"
expect_eq "apache: the sqlite3 publisher never failed" "0 " \
    "$? $(cat "$tmp/publisher.err")"
untrack_pid "$publisher_pid"
end_follow "apache: 200 clients end with 2000 events each" kill "$follow_pid"
ids_of kill >"$tmp/kill.expected"
expect_same_lines "apache: every event exactly once, in order, for each client" \
    "$tmp/kill.expected" "$tmp/kill.out"

# --- Apache: a writer holds the database for 5 s ------------------------------

# Succeeds while another connection holds the write lock.
db_locked()
{
	! sqlite3 -cmd ".timeout 0" "$db" "BEGIN IMMEDIATE; ROLLBACK" \
	    >/dev/null 2>&1
}

start_follow hold --url "$url" --channels hold --concurrent 20 --count 10 \
    --timeout 60 --ready-file "$tmp/hold.ready" --log "$tmp/hold.log"
wait_for "hold: 20 streams open (--keepalive 1)" 30 \
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
run fault_client follow --url "$url" --channels hold_new --concurrent 50 \
    --count 0 --timeout 20
expect_eq "hold: 50 new streams open meanwhile" 0 "$run_status"
run fault_client follow --url "$url?backlog=5" --channels kill --count 5 \
    --timeout 20
expect_eq "hold: a stream with backlog=5 (read from SQLite) opens and gets 5 events" \
    0 "$run_status"
run fault_client follow --url "$url" --channels kill --last-event-id 1000 \
    --count 1000 --timeout 20
expect_eq "hold: a stream resuming 1000 events back catches up meanwhile" \
    0 "$run_status"
expect_refusal "hold: a bad request still gets its answer" \
    "$url?channel=bad%20name" 400
if db_locked; then
	ok "hold: all of that while the lock was held"
else
	fail "hold: all of that while the lock was held" "locked" "released"
fi
wait "$holder_pid"
expect_eq "hold: the writer commits" "0 " "$? $(cat "$tmp/holder.err")"
untrack_pid "$holder_pid"
hold_end=$(now_ms)
end_follow "hold: the 20 streams get the 10 held events" hold "$hold_pid"
# Per stream: keepalives while the lock was held, and when the events came.
awk -v start="$hold_start" -v end="$hold_end" '
	$3 == "keepalive" && $1 > start && $1 < end { ka[$2]++ }
	$3 == "event" { if (!($2 in first) || $1 < first[$2]) first[$2] = $1
		if ($1 > last[$2]) last[$2] = $1 }
	END {
		min = -1
		for (i = 0; i < 20; i++)
			if (min < 0 || ka[i] + 0 < min) min = ka[i] + 0
		early = 0; late = 0
		for (i in first) if (first[i] < start) early++
		for (i in last) if (last[i] - end > late) late = last[i] - end
		print min, early, late
	}' "$tmp/hold.log" >"$tmp/hold.summary"
read -r hold_keepalives hold_early hold_late <"$tmp/hold.summary"
if [ "$hold_keepalives" -ge 3 ]; then
	ok "hold: every open stream got keepalives during the $(((hold_end - hold_start) / 1000)) s hold (at least $hold_keepalives)"
else
	fail "hold: every open stream got keepalives during the hold" \
	    "at least 3 each" "$hold_keepalives for one of them"
fi
expect_eq "hold: no held event arrived before the commit" 0 "$hold_early"
# A figure, not a test: how long after the commit the last one came.
echo "# hold: the last held event arrived ${hold_late} ms after the writer exited"
expect_eq "hold: with their ids" \
    "$(ids_of hold "$held_before" | tr '\n' ' ')" \
    "$(awk '$2 == 0 && $3 == "event" { printf "%s ", $4 }' "$tmp/hold.log")"

# --- Apache: the database removed and restored while running -------------------

start_follow removed --url "$url" --channels removed --count 2 \
    --timeout 60 --ready-file "$tmp/removed.ready" --log "$tmp/removed.log"
wait_for "removed: a stream is open" 20 follow_ready removed "$follow_pid"
removed_pid=$follow_pid
mv "$db" "$db.away"
wait_for "removed: once the file is gone, new streams get 503" 10 \
    answers_status "$url?channel=removed" 503
expect_refusal "removed: the 503 says why" "$url?channel=removed" 503
expect_contains "removed: naming the store" "event store unavailable" \
    "$error_reason"
removed_keepalives=$(grep -c keepalive "$tmp/removed.log")

# Succeeds once the client log $1 has more than $2 keepalives.
more_keepalives()
{
	[ "$(grep -c keepalive "$1")" -gt "$2" ]
}
wait_for "removed: the open stream still gets keepalives" 10 \
    more_keepalives "$tmp/removed.log" $((removed_keepalives + 2))
mv "$db.away" "$db"
wait_until "removed: once it is back, streams open again by themselves" 10 \
    sse_stream_opens
sql "INSERT INTO events(channel, data) VALUES('removed', 'after 1');
    INSERT INTO events(channel, data) VALUES('removed', 'after 2')"
end_follow "removed: the stream open all along gets the new events" \
    removed "$removed_pid"
if pid_gone "$sse_pid"; then
	fail "removed: litepush-sse is still running" "running" "exited"
else
	ok "removed: litepush-sse is still running"
fi

# --- Apache: the database recreated from scratch ---------------------------------

# Note that a recreated log starts again at id 1.  litepush's rule: a new
# event is never silently withheld from a connected client, so every
# connected stream starts again from the beginning of the new log (its
# ids go down once); a client that resumes later with an id past the new
# log's newest starts at the newest event (what was published between
# the recreation and its return is not sent: nothing can tell which of
# the new events it has seen).  Recreate by removing the database with
# its -wal and -shm files (never by moving a new file over a live one
# whose -wal remains) and creating it again.
start_follow again --url "$url" --channels again --count 4 --any-order \
    --print ids --timeout 60 --ready-file "$tmp/again.ready" \
    --log "$tmp/again.log"
wait_for "recreate: a stream is open" 20 follow_ready again "$follow_pid"
again_pid=$follow_pid
sql "INSERT INTO events(channel, data) VALUES('again', 'old log')"
high=$(sql "SELECT max(id) FROM events")
wait_for "recreate: it gets id $high" 10 \
    grep -q "^[0-9]* 0 event $high\$" "$tmp/again.log"
rm -f "$db" "$db-wal" "$db-shm"
wait_for "recreate: once the file is removed, new streams get 503" 10 \
    answers_status "$url?channel=again" 503
"$litepush" init "$db" >/dev/null
sql "INSERT INTO events(channel, data) VALUES('again', 'new 1');
    INSERT INTO events(channel, data) VALUES('again', 'new 2');
    INSERT INTO events(channel, data) VALUES('again', 'new 3')"
end_follow "recreate: the connected stream gets the new log's events" \
    again "$again_pid"
expect_eq "recreate: from its beginning (ids $high, then 1 2 3)" \
    "$high 1 2 3 " "$(tr '\n' ' ' <"$tmp/again.out")"
start_follow again-late --url "$url" --channels again --any-order \
    --last-event-id "$high" --count 1 --print ids --timeout 30 \
    --ready-file "$tmp/again-late.ready"
wait_for "recreate: a client resuming with Last-Event-ID: $high (past the newest, 3) opens" \
    20 follow_ready again-late "$follow_pid"
sql "INSERT INTO events(channel, data) VALUES('again', 'new 4')"
end_follow "recreate: it starts at the newest event" again-late "$follow_pid"
expect_eq "recreate: and gets the next one, id 4" 4 "$(cat "$tmp/again-late.out")"

# --- Apache: missing, not a database, unreadable at start -------------------------

stop_sse
db=$tmp/later/events.db
mkdir -p "$tmp/later"
start_sse --keepalive 1
wait_for "start: litepush-sse of a missing database answers" 10 sse_answers
expect_refusal "start: the database is missing" "$url?channel=news" 503
expect_contains "start: the reason" "No such file" "$error_reason"
# Written elsewhere and moved in whole: the daemon would create the
# schema in an empty file (as any program opening the store does).
echo "this is not an SQLite database, but a text file of some length: $(seq 200)" \
    >"$tmp/later/junk"
mv "$tmp/later/junk" "$db"
wait_for "start: a file that is not a database: still 503" 10 \
    answers_status "$url?channel=news" 503
expect_refusal "start: a file that is not a database" "$url?channel=news" 503
expect_contains "start: the reason" "not a database" "$error_reason"
"$litepush" init "$tmp/later/new.db" >/dev/null
mv "$tmp/later/new.db" "$db"
wait_until "start: once a database is moved in, streams open by themselves" 10 \
    sse_stream_opens
stop_sse

# As root every file is readable: then litepush-sse runs as www-data.
mkdir -p "$tmp/private"
db=$tmp/private/events.db
"$litepush" init "$db" >/dev/null
chmod 000 "$db"
if [ "$(id -u)" -eq 0 ]; then
	chown -R www-data:www-data "$tmp/private"
	sse_user=www-data
	# It creates its socket in $tmp, opened to it for that time.
	chmod 1777 "$tmp"
fi
start_sse --keepalive 1
sse_user=
chmod 755 "$tmp"
wait_for "unreadable: litepush-sse ($(id -un 2>/dev/null) or www-data) answers" \
    10 sse_answers
expect_refusal "unreadable: the database is mode 000" "$url?channel=news" 503
expect_contains "unreadable: the reason" "ermission denied" "$error_reason"
chmod 600 "$db"
wait_until "unreadable: once it is readable, streams open by themselves" 10 \
    sse_stream_opens
if pid_gone "$sse_pid"; then
	fail "litepush-sse survived all of that" "running" "exited"
else
	ok "litepush-sse survived all of that"
fi
stop_sse

# --- Apache: the publisher's disk is full -----------------------------------------

full=$tmp/full
mkdir -p "$full"
if mount -t tmpfs -o size=4m,mode=0755 litepush-test "$full" 2>"$tmp/mount.err"; then
	at_exit "umount '$full'"
	db=$full/events.db
	"$litepush" init "$db" >/dev/null
	start_sse --keepalive 1
	wait_for "full: litepush-sse on a 4 MB tmpfs answers" 10 sse_answers
	start_follow full --url "$url" --channels full --count 2 \
	    --timeout 60 --ready-file "$tmp/full.ready" --log "$tmp/full.log"
	wait_for "full: a stream is open" 20 follow_ready full "$follow_pid"
	full_pid=$follow_pid
	dd if=/dev/zero of="$full/filler" bs=64k 2>/dev/null
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
	full_keepalives=$(grep -c keepalive "$tmp/full.log")
	wait_for "full: the open stream still gets keepalives" 10 \
	    more_keepalives "$tmp/full.log" $((full_keepalives + 2))
	wait_until "full: new streams open" 10 sse_stream_opens
	rm -f "$full/filler"
	run sqlite3 "$db" "INSERT INTO events(channel, data)
	    VALUES('full', hex(randomblob(262144)));
	    INSERT INTO events(channel, data) VALUES('full', 'small')"
	expect_eq "full: once space is freed the INSERTs succeed" "0 " \
	    "$run_status $run_err"
	end_follow "full: the stream gets the later events" full "$full_pid"
	stop_sse
else
	echo "# skip the full disk: cannot mount a tmpfs ($(cat "$tmp/mount.err"))"
fi
stop_pid "$apache_pid"

# --- lighttpd: litepush-sse killed, lighttpd respawns it ---------------------------

db=$tmp/events.db
start_lighttpd 1 10000
start_follow lkill --url "$url" --channels lkill --concurrent 200 \
    --count 2000 --reconnect --print ids --timeout 90 \
    --ready-file "$tmp/lkill.ready" --log "$tmp/lkill.log"
wait_for "lighttpd: 200 clients stream" 60 follow_ready lkill "$follow_pid"
start_paced_publisher lkill 2000 200
wait_for "lighttpd: the publisher is under way" 20 has_events lkill 400
lighttpd_sse=$(sse_pids_below "$lighttpd_pid")
expect_eq "lighttpd: one litepush-sse serves them" 1 \
    "$(echo "$lighttpd_sse" | wc -w)"
kill -KILL "$lighttpd_sse"
wait_for "lighttpd: after kill -9 every client is back (lighttpd respawned it)" \
    30 opened_at_least "$tmp/lkill.log" 400
respawned=$(sse_pids_below "$lighttpd_pid")
if [ -n "$respawned" ] && [ "$respawned" != "$lighttpd_sse" ]; then
	ok "lighttpd: a new litepush-sse ($respawned) replaced $lighttpd_sse"
else
	fail "lighttpd: a new litepush-sse replaced $lighttpd_sse" \
	    "another PID" "${respawned:-none}"
fi
wait_for "lighttpd: the publisher is past half way" 20 has_events lkill 1200
kill -KILL "$respawned"
wait_for "lighttpd: after a second kill -9 every client is back" 30 \
    opened_at_least "$tmp/lkill.log" 600
wait "$publisher_pid"
expect_eq "lighttpd: the sqlite3 publisher never failed" "0 " \
    "$? $(cat "$tmp/publisher.err")"
untrack_pid "$publisher_pid"
end_follow "lighttpd: 200 clients end with 2000 events each" lkill \
    "$follow_pid"
ids_of lkill >"$tmp/lkill.expected"
expect_same_lines "lighttpd: every event exactly once, in order, for each client" \
    "$tmp/lkill.expected" "$tmp/lkill.out"
stop_pid "$lighttpd_pid"

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log; do
		case $log in
		*/kill.log | */lkill.log | */hold.log) continue ;;
		esac
		echo "# --- $log"
		tail -n 20 "$log" | sed 's/^/# /'
	done
fi
finish
