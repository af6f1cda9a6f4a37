#!/bin/sh
# faults-ws.sh: litepush-ws when things go wrong around it: kill -9 (and a
# restart, as a supervisor would) while 200 clients stream 2000 events; a
# writer holding the database for 5 s; the database missing, not a
# database, unreadable, removed and restored, recreated from scratch; the
# disk full for a sqlite3 publisher and for a WebSocket one.
#
# The clients are tests/fault_client.py's, which reconnect as
# www/litepush.js does: with lastEventId= after a close or a refusal.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
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

# Succeeds once the client log $1 has more than $2 lines of kind $3.
more_of()
{
	[ "$(grep -c "^[0-9]* [0-9]* $3" "$1")" -gt "$2" ]
}

# Succeeds when a handshake for $ws_url gets status $1.
ws_answers()
{
	[ "$(ws_status "$ws_url")" = "$1" ]
}

# Publishes the JSON text $1 over a WebSocket; prints the reply line.
ws_publish()
{
	"$PYTHON" "$top_srcdir/tests/ws_client.py" publish --url "$ws_url" \
	    --channels probe --send "$1" --timeout 10 2>&1
}

# Kills litepush-ws with SIGKILL and, as a supervisor would, starts it
# again on the same port half a second later.
crash_and_restart_ws()
{
	kill -KILL "$ws_pid"
	wait "$ws_pid" 2>/dev/null
	untrack_pid "$ws_pid"
	sleep 0.5 # a supervisor's restart delay (systemd's RestartSec)
	start_ws "$@"
}

# --- litepush-ws killed while 200 clients stream ------------------------------

db=$tmp/events.db
"$litepush" init "$db" >/dev/null
start_ws --ping 1 --publish 'chat*'
wait_for "litepush-ws listens" 10 port_listens "$ws_port"

start_follow kill --transport ws --url "$ws_url" --channels kill \
    --concurrent 200 --count 2000 --reconnect --print ids --timeout 90 \
    --ready-file "$tmp/kill.ready" --log "$tmp/kill.log"
wait_for "200 WebSockets open" 60 follow_ready kill "$follow_pid"
start_paced_publisher kill 2000 200
wait_for "the publisher is under way (400 of 2000 at ~200/s)" 20 \
    has_events kill 400
crash_and_restart_ws --ping 1 --publish 'chat*'
wait_for "after kill -9 and a restart every client is back" 30 \
    opened_at_least "$tmp/kill.log" 400
wait_for "the publisher is past half way" 20 has_events kill 1200
crash_and_restart_ws --ping 1 --publish 'chat*'
wait_for "after a second kill -9 and restart every client is back" 30 \
    opened_at_least "$tmp/kill.log" 600
wait "$publisher_pid"
expect_eq "the sqlite3 publisher never failed" "0 " \
    "$? $(cat "$tmp/publisher.err")"
untrack_pid "$publisher_pid"
end_follow "200 clients end with 2000 events each" kill "$follow_pid"
ids_of kill >"$tmp/kill.expected"
expect_same_lines "every event exactly once, in order, for each client" \
    "$tmp/kill.expected" "$tmp/kill.out"

# --- a writer holds the database for 5 s ----------------------------------------

# Succeeds while another connection holds the write lock.
db_locked()
{
	! sqlite3 -cmd ".timeout 0" "$db" "BEGIN IMMEDIATE; ROLLBACK" \
	    >/dev/null 2>&1
}

start_follow hold --transport ws --url "$ws_url" --channels hold \
    --concurrent 20 --count 10 --timeout 60 --ready-file "$tmp/hold.ready" \
    --log "$tmp/hold.log"
wait_for "hold: 20 WebSockets open (--ping 1)" 30 \
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
run fault_client follow --transport ws --url "$ws_url" --channels hold_new \
    --concurrent 50 --count 0 --timeout 20
expect_eq "hold: 50 new WebSockets open meanwhile" 0 "$run_status"
run fault_client follow --transport ws --url "$ws_url?backlog=5" \
    --channels kill --count 5 --timeout 20
expect_eq "hold: a WebSocket with backlog=5 (read from SQLite) opens and gets 5 events" \
    0 "$run_status"
run fault_client follow --transport ws --url "$ws_url" --channels kill \
    --last-event-id 1000 --count 1000 --timeout 20
expect_eq "hold: a WebSocket resuming 1000 events back catches up meanwhile" \
    0 "$run_status"
# The publishing connection waits 200 ms for the lock (a busy timeout the
# loop can afford): the client is told to try again.
run ws_publish '{"channel":"chat","data":"during the hold"}'
expect_contains "hold: publishing over WebSocket gets an error reply, not a hang" \
    "reply error" "$run_out"
expect_contains "hold: saying the store is busy" "busy" "$run_out"
if db_locked; then
	ok "hold: all of that while the lock was held"
else
	fail "hold: all of that while the lock was held" "locked" "released"
fi
wait "$holder_pid"
expect_eq "hold: the writer commits" "0 " "$? $(cat "$tmp/holder.err")"
untrack_pid "$holder_pid"
hold_end=$(now_ms)
end_follow "hold: the 20 WebSockets get the 10 held events" hold "$hold_pid"
awk -v start="$hold_start" -v end="$hold_end" '
	$3 == "ping" && $1 > start && $1 < end { pings[$2]++ }
	$3 == "event" { if (!($2 in first) || $1 < first[$2]) first[$2] = $1
		if ($1 > last[$2]) last[$2] = $1 }
	END {
		min = -1
		for (i = 0; i < 20; i++)
			if (min < 0 || pings[i] + 0 < min) min = pings[i] + 0
		early = 0; late = 0
		for (i in first) if (first[i] < start) early++
		for (i in last) if (last[i] - end > late) late = last[i] - end
		print min, early, late
	}' "$tmp/hold.log" >"$tmp/hold.summary"
read -r hold_pings hold_early hold_late <"$tmp/hold.summary"
if [ "$hold_pings" -ge 3 ]; then
	ok "hold: every open WebSocket was pinged during the $(((hold_end - hold_start) / 1000)) s hold (at least $hold_pings times)"
else
	fail "hold: every open WebSocket was pinged during the hold" \
	    "at least 3 each" "$hold_pings for one of them"
fi
expect_eq "hold: no held event arrived before the commit" 0 "$hold_early"
# A figure, not a test: how long after the commit the last one came.
echo "# hold: the last held event arrived ${hold_late} ms after the writer exited"
expect_eq "hold: with their ids" \
    "$(ids_of hold "$held_before" | tr '\n' ' ')" \
    "$(awk '$2 == 0 && $3 == "event" { printf "%s ", $4 }' "$tmp/hold.log")"

# --- the database removed and restored while running ----------------------------

start_follow removed --transport ws --url "$ws_url" --channels removed \
    --count 2 --timeout 60 --ready-file "$tmp/removed.ready" \
    --log "$tmp/removed.log"
wait_for "removed: a WebSocket is open" 20 follow_ready removed "$follow_pid"
removed_pid=$follow_pid
mv "$db" "$db.away"
wait_for "removed: once the file is gone, handshakes get 503" 10 \
    ws_answers 503
expect_ws_refusal "removed: the 503 says why" "$ws_url" 503
expect_contains "removed: naming the store" "event store unavailable" \
    "$error_reason"
removed_pings=$(grep -c ping "$tmp/removed.log")
wait_for "removed: the open WebSocket is still pinged" 10 \
    more_of "$tmp/removed.log" $((removed_pings + 2)) ping
mv "$db.away" "$db"
wait_until "removed: once it is back, WebSockets open again by themselves" \
    10 ws_opens
sql "INSERT INTO events(channel, data) VALUES('removed', 'after 1');
    INSERT INTO events(channel, data) VALUES('removed', 'after 2')"
end_follow "removed: the WebSocket open all along gets the new events" \
    removed "$removed_pid"

# --- the database recreated from scratch -----------------------------------------

# Note the rule (as for litepush-sse): a new event is never silently
# withheld from a connected client, so every open WebSocket starts again
# from the beginning of the new log; a client that resumes later with an
# id past the new log's newest starts at the newest event.
start_follow again --transport ws --url "$ws_url" --channels again \
    --count 4 --any-order --print ids --timeout 60 \
    --ready-file "$tmp/again.ready" --log "$tmp/again.log"
wait_for "recreate: a WebSocket is open" 20 follow_ready again "$follow_pid"
again_pid=$follow_pid
sql "INSERT INTO events(channel, data) VALUES('again', 'old log')"
high=$(sql "SELECT max(id) FROM events")
wait_for "recreate: it gets id $high" 10 \
    grep -q "^[0-9]* 0 event $high\$" "$tmp/again.log"
rm -f "$db" "$db-wal" "$db-shm"
wait_for "recreate: once the file is removed, handshakes get 503" 10 \
    ws_answers 503
"$litepush" init "$db" >/dev/null
sql "INSERT INTO events(channel, data) VALUES('again', 'new 1');
    INSERT INTO events(channel, data) VALUES('again', 'new 2');
    INSERT INTO events(channel, data) VALUES('again', 'new 3')"
end_follow "recreate: the open WebSocket gets the new log's events" \
    again "$again_pid"
expect_eq "recreate: from its beginning (ids $high, then 1 2 3)" \
    "$high 1 2 3 " "$(tr '\n' ' ' <"$tmp/again.out")"
start_follow again-late --transport ws --url "$ws_url" --channels again \
    --any-order --last-event-id "$high" --count 1 --print ids --timeout 30 \
    --ready-file "$tmp/again-late.ready"
wait_for "recreate: a client resuming with lastEventId=$high (past the newest, 3) opens" \
    20 follow_ready again-late "$follow_pid"
sql "INSERT INTO events(channel, data) VALUES('again', 'new 4')"
end_follow "recreate: it starts at the newest event" again-late "$follow_pid"
expect_eq "recreate: and gets the next one, id 4" 4 "$(cat "$tmp/again-late.out")"
run ws_publish '{"channel":"chat","data":"into the new log"}'
expect_eq "recreate: publishing over WebSocket goes to the new log" \
    'reply {"ack":5}' "$run_out"

# --- missing, not a database, unreadable at start ---------------------------------

stop_pid "$ws_pid"
db=$tmp/later/events.db
mkdir -p "$tmp/later"
start_ws --ping 1
expect_ws_refusal "start: the database is missing" "$ws_url" 503
expect_contains "start: the reason" "No such file" "$error_reason"
# Written elsewhere and moved in whole: the daemon would create the
# schema in an empty file (as any program opening the store does).
echo "this is not an SQLite database, but a text file of some length: $(seq 200)" \
    >"$tmp/later/junk"
mv "$tmp/later/junk" "$db"
wait_for "start: a file that is not a database: still 503" 10 ws_answers 503
expect_ws_refusal "start: a file that is not a database" "$ws_url" 503
expect_contains "start: the reason" "not a database" "$error_reason"
"$litepush" init "$tmp/later/new.db" >/dev/null
mv "$tmp/later/new.db" "$db"
wait_until "start: once a database is moved in, WebSockets open by themselves" \
    10 ws_opens
stop_pid "$ws_pid"

# As root every file is readable: then litepush-ws runs as www-data (or
# nobody).
mkdir -p "$tmp/private"
db=$tmp/private/events.db
"$litepush" init "$db" >/dev/null
chmod 000 "$db"
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
	user=www-data
	id "$user" >/dev/null 2>&1 || user=nobody
	chown -R "$user" "$tmp/private"
	ws_user=$user
fi
start_ws --ping 1
ws_user=
expect_ws_refusal "unreadable: the database is mode 000 (litepush-ws as $user)" \
    "$ws_url" 503
expect_contains "unreadable: the reason" "ermission denied" "$error_reason"
chmod 600 "$db"
wait_until "unreadable: once it is readable, WebSockets open by themselves" \
    10 ws_opens
if pid_gone "$ws_pid"; then
	fail "litepush-ws survived all of that" "running" "exited"
else
	ok "litepush-ws survived all of that"
fi
stop_pid "$ws_pid"

# --- the disk is full ---------------------------------------------------------------

full=$tmp/full
mkdir -p "$full"
if mount -t tmpfs -o size=4m,mode=0755 litepush-test "$full" 2>"$tmp/mount.err"; then
	at_exit "umount '$full'"
	db=$full/events.db
	"$litepush" init "$db" >/dev/null
	start_ws --ping 1 --publish 'chat*'
	wait_for "full: litepush-ws on a 4 MB tmpfs listens" 10 \
	    port_listens "$ws_port"
	start_follow full --transport ws --url "$ws_url" --channels full,chat \
	    --count 3 --timeout 60 --ready-file "$tmp/full.ready" \
	    --log "$tmp/full.log"
	wait_for "full: a WebSocket is open" 20 follow_ready full "$follow_pid"
	full_pid=$follow_pid
	dd if=/dev/zero of="$full/filler" bs=64k 2>/dev/null
	# 60 KB, under --max-message (64 KiB): more than the -wal file has.
	run ws_publish "{\"channel\":\"chat\",\"data\":\"$(head -c 60000 /dev/zero | tr '\0' x)\"}"
	expect_contains "full: publishing 60 KB over WebSocket gets an error reply" \
	    "reply error" "$run_out"
	expect_contains "full: with SQLite's error" "database or disk is full" \
	    "$run_out"
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
	full_pings=$(grep -c ping "$tmp/full.log")
	wait_for "full: the open WebSocket is still pinged" 10 \
	    more_of "$tmp/full.log" $((full_pings + 2)) ping
	wait_until "full: new WebSockets open" 10 ws_opens
	rm -f "$full/filler"
	run sqlite3 "$db" "INSERT INTO events(channel, data)
	    VALUES('full', hex(randomblob(262144)));
	    INSERT INTO events(channel, data) VALUES('full', 'small')"
	expect_eq "full: once space is freed the INSERTs succeed" "0 " \
	    "$run_status $run_err"
	run ws_publish '{"channel":"chat","data":"space again"}'
	expect_contains "full: and publishing over WebSocket too" 'reply {"ack":' \
	    "$run_out"
	end_follow "full: the WebSocket gets the later events" full "$full_pid"
	stop_pid "$ws_pid"
else
	echo "# skip the full disk: cannot mount a tmpfs ($(cat "$tmp/mount.err"))"
fi

if [ "$lib_failed" -gt 0 ]; then
	echo "# --- $tmp/ws.log"
	grep -v '^litepush-ws: \(open\|close\)' "$tmp/ws.log" | tail -n 30 |
	    sed 's/^/# /'
fi
finish
