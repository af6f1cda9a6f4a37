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

use_transport ws

# Publishes the JSON text $1 over a WebSocket; prints the reply line.
ws_publish()
{
	"$PYTHON" "$top_srcdir/tests/ws_client.py" publish --url "$ws_url" \
	    --channels probe --send "$1" --timeout 10 2>&1
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
start_paced_publisher kill 2000 200 1600 "$tmp/kill.gate"
wait_for "the publisher is under way (400 of 2000 at ~200/s)" 20 \
    has_events kill 400
killed_at=$(now_ms)
crash_and_restart --ping 1 --publish 'chat*'
wait_for "after kill -9 and a restart every client is back" 30 \
    all_back_since "$tmp/kill.log" "$killed_at" 200
wait_for "the publisher is past half way" 20 has_events kill 1200
killed_at=$(now_ms)
crash_and_restart --ping 1 --publish 'chat*'
wait_for "after a second kill -9 and restart every client is back" 30 \
    all_back_since "$tmp/kill.log" "$killed_at" 200
open_gate "$tmp/kill.gate"
end_kill_run "" kill

# --- a writer holds the database for 5 s ----------------------------------------

writer_holds_database
# The publishing connection waits 200 ms for the lock (a busy timeout the
# loop can afford): the client is told to try again.
run ws_publish '{"channel":"chat","data":"during the hold"}'
expect_contains "hold: publishing over WebSocket gets an error reply, not a hang" \
    "reply error" "$run_out"
expect_contains "hold: saying the store is busy" "busy" "$run_out"
writer_commits

# --- the database removed and restored while running ----------------------------

database_removed_and_restored

# --- the database recreated from scratch -----------------------------------------

# Note the rule (as for litepush-sse): a new event is never silently
# withheld from a connected client, so every open WebSocket starts again
# from the beginning of the new log; a client that resumes later with an
# id past the new log's newest gets a reset, then the new log from its
# beginning.
database_recreated
run ws_publish '{"channel":"chat","data":"into the new log"}'
expect_eq "recreate: publishing over WebSocket goes to the new log" \
    'reply {"ack":5}' "$run_out"

# --- missing, not a database, unreadable at start ---------------------------------

stop_pid "$ws_pid"
db=$tmp/later/events.db
mkdir -p "$tmp/later"
start_ws --ping 1
started_without_database
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
started_unreadable \
    "unreadable: the database is mode 000 (litepush-ws as $user)"
stop_pid "$ws_pid"

# --- the disk is full ---------------------------------------------------------------

if mount_small_disk; then
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
	disk_full_and_freed
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
