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

use_transport sse

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
start_apache_sse

start_follow kill --url "$url" --channels kill --concurrent 200 \
    --count 2000 --reconnect --print ids --timeout 90 \
    --ready-file "$tmp/kill.ready" --log "$tmp/kill.log"
wait_for "apache: 200 clients stream" 60 follow_ready kill "$follow_pid"
start_paced_publisher kill 2000 200 1600 "$tmp/kill.gate"
wait_for "apache: the publisher is under way (400 of 2000 at ~200/s)" 20 \
    has_events kill 400
killed_at=$(now_ms)
crash_and_restart --keepalive 1
wait_for "apache: after kill -9 and a restart every client is back" 30 \
    all_back_since "$tmp/kill.log" "$killed_at" 200
echo "# apache: the clients noticed the crash after at most $(noticed_after "$tmp/kill.log" "$killed_at") ms"
# Note that Apache (mod_proxy_fcgi, 2.4) keeps a client's connection open
# for KeepAliveTimeout (5 s) after its backend died mid-response, unless
# the location sets "SetEnv nokeepalive 1": events are late, not lost.
killed_at=$(now_ms)
crash_and_restart --keepalive 1
wait_for "apache: after a second kill -9 and restart every client is back" 30 \
    all_back_since "$tmp/kill.log" "$killed_at" 200
open_gate "$tmp/kill.gate"
end_kill_run "apache: " kill

# --- Apache: a writer holds the database for 5 s ------------------------------

writer_holds_database
expect_refusal "hold: a bad request still gets its answer" \
    "$url?channel=bad%20name" 400
writer_commits

# --- Apache: the database removed and restored while running -------------------

database_removed_and_restored
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
# log's newest has seen none of the new log (its id is the old log's): it
# gets a reset, then the new log from its beginning.  Recreate by removing the database with
# its -wal and -shm files (never by moving a new file over a live one
# whose -wal remains) and creating it again.
database_recreated

# --- Apache: missing, not a database, unreadable at start -------------------------

stop_pid "$sse_pid"
db=$tmp/later/events.db
mkdir -p "$tmp/later"
start_sse --keepalive 1
wait_for "start: litepush-sse of a missing database answers" 10 \
    sse_answers "$url"
started_without_database
stop_pid "$sse_pid"

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
    10 sse_answers "$url"
started_unreadable "unreadable: the database is mode 000"
stop_pid "$sse_pid"

# --- Apache: the publisher's disk is full -----------------------------------------

if mount_small_disk; then
	start_sse --keepalive 1
	wait_for "full: litepush-sse on a 4 MB tmpfs answers" 10 \
	    sse_answers "$url"
	start_follow full --url "$url" --channels full --count 2 \
	    --timeout 60 --ready-file "$tmp/full.ready" --log "$tmp/full.log"
	wait_for "full: a stream is open" 20 follow_ready full "$follow_pid"
	full_pid=$follow_pid
	dd if=/dev/zero of="$full/filler" bs=64k 2>/dev/null
	disk_full_and_freed
	end_follow "full: the stream gets the later events" full "$full_pid"
	stop_pid "$sse_pid"
else
	echo "# skip the full disk: cannot mount a tmpfs ($(cat "$tmp/mount.err"))"
fi
stop_pid "$apache_pid"

# --- lighttpd: litepush-sse killed, lighttpd respawns it ---------------------------

db=$tmp/events.db
start_lighttpd_sse 1 10000
start_follow lkill --url "$url" --channels lkill --concurrent 200 \
    --count 2000 --reconnect --print ids --timeout 90 \
    --ready-file "$tmp/lkill.ready" --log "$tmp/lkill.log"
wait_for "lighttpd: 200 clients stream" 60 follow_ready lkill "$follow_pid"
start_paced_publisher lkill 2000 200 1600 "$tmp/lkill.gate"
wait_for "lighttpd: the publisher is under way" 20 has_events lkill 400
lighttpd_sse=$(pids_below "$lighttpd_pid" "$sse")
expect_eq "lighttpd: one litepush-sse serves them" 1 \
    "$(echo "$lighttpd_sse" | wc -w)"
killed_at=$(now_ms)
kill -KILL "$lighttpd_sse"
wait_for "lighttpd: after kill -9 every client is back (lighttpd respawned it)" \
    30 all_back_since "$tmp/lkill.log" "$killed_at" 200
respawned=$(pids_below "$lighttpd_pid" "$sse")
if [ -n "$respawned" ] && [ "$respawned" != "$lighttpd_sse" ]; then
	ok "lighttpd: a new litepush-sse ($respawned) replaced $lighttpd_sse"
else
	fail "lighttpd: a new litepush-sse replaced $lighttpd_sse" \
	    "another PID" "${respawned:-none}"
fi
wait_for "lighttpd: the publisher is past half way" 20 has_events lkill 1200
killed_at=$(now_ms)
kill -KILL "$respawned"
wait_for "lighttpd: after a second kill -9 every client is back" 30 \
    all_back_since "$tmp/lkill.log" "$killed_at" 200
open_gate "$tmp/lkill.gate"
end_kill_run "lighttpd: " lkill
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
