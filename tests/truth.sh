#!/bin/sh
# truth.sh: the events table is the truth, on both daemons (litepush-sse
# behind Apache, litepush-ws direct), with the real sqlite3 shell as the
# publisher and the admin: deleted and edited rows are not served from
# memory; a prune (litepush prune, or a plain DELETE of the oldest rows)
# is announced to a client whose resume point it took (reset), a backlog
# never is; a log reset inside the file (rows deleted, sqlite_sequence
# lowered) is a new log; the protocol's event names and ids beyond 2^53
# are refused; a symlinked --db wakes the feed without the fallback poll;
# a database recreated in a tight loop leaves no daemon on the deleted
# file; a stream gives its position before any event and on its pause.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
	require_command setpriv
fi
require_command /usr/sbin/apache2
# shellcheck source=tests/faults_lib.sh
. "$top_srcdir/tests/faults_lib.sh"

truth_client=$top_srcdir/tests/truth_client.py

# Opens client $1 on query $2 (and Last-Event-ID $3) with the chosen
# transport, in the background; what it receives goes to $tmp/$1.out.
open_client()
{
	open_client_name=$1
	if [ "$transport" = ws ]; then
		open_client_url="$ws_url?$2"
	else
		open_client_url="$url?$2"
	fi
	# Emptied here, not by the background job's redirection: that one may
	# run after the poll below, which would then find the ": open" of the
	# client that wrote this file before.
	: >"$tmp/$open_client_name.out"
	"$PYTHON" "$truth_client" "$transport" --url "$open_client_url" \
	    ${3:+--last-event-id "$3"} --timeout 60 \
	    >>"$tmp/$open_client_name.out" 2>"$tmp/$open_client_name.err" &
	eval "client_pid_$open_client_name=\$!"
	track_pid "$!"
	poll_until 10 grep -q '^: open' "$tmp/$open_client_name.out"
}

# Stops client $1.
close_client()
{
	eval "close_client_pid=\$client_pid_$1"
	kill "$close_client_pid" 2>/dev/null
	wait "$close_client_pid" 2>/dev/null
	untrack_pid "$close_client_pid"
}

# Prints the data lines client $1 received, one a line.
datas()
{
	sed -n 's/^data: //p' "$tmp/$1.out"
}

# Succeeds when client $1 has received at least $2 data lines.
has_datas()
{
	[ "$(datas "$1" | wc -l)" -ge "$2" ]
}

# Succeeds when a new client on query $1 (Last-Event-ID $2) receives
# exactly the data lines $3 (newline-separated), in that order; it waits
# for as many lines as expected, or 3 s, then compares.
client_shows()
{
	open_client probe "$1" "$2" || return 1
	poll_until 3 has_datas probe "$(printf '%s\n' "$3" | wc -l)"
	close_client probe
	[ "$(datas probe)" = "$3" ]
}

# Checks what client_shows does, awaited for 20 s (the feed notices a
# change within milliseconds; before that a client may see the old state).
expect_shows()
{
	expect_shows_end=$(($(date +%s) + 20))
	until client_shows "$2" "$3" "$4"; do
		if [ "$(date +%s)" -ge "$expect_shows_end" ]; then
			fail "$1" "$(printf '%s' "$4" | tr '\n' ' ')" \
			    "$(datas probe | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	ok "$1"
}

# Inserts events $2.. ($3 of them, "$1-N") on channel $1, one commit each.
publish()
{
	seq "$2" "$(($2 + $3 - 1))" |
	    sed "s/.*/INSERT INTO events(channel, data) VALUES('$1', '$1-&');/" |
	    sql
}

# Prints the lines "$1-$2" to "$1-$3".
names()
{
	seq "$2" "$3" | sed "s/^/$1-/"
}

# Succeeds when the daemon (PID $1) has no deleted file open.
no_deleted_files()
{
	! ls -l "/proc/$1/fd" 2>/dev/null | grep -q '(deleted)'
}

# Starts the chosen daemon on a new database $db; $@ are extra options.
start_daemon()
{
	rm -f "$db" "$db-wal" "$db-shm"
	"$litepush" init "$db" >/dev/null
	if [ "$transport" = ws ]; then
		start_ws --publish 'chat*' "$@"
		wait_for "litepush-ws listens" 10 port_listens "$ws_port"
	else
		start_sse "$@"
		[ -n "${apache_pid:-}" ] || start_apache_sse
	fi
}

# Stops the chosen daemon.
stop_daemon()
{
	if [ "$transport" = ws ]; then
		stop_pid "$ws_pid"
		untrack_pid "$ws_pid"
	else
		stop_pid "$sse_pid"
		untrack_pid "$sse_pid"
	fi
}

# The scenarios, run against each daemon.
scenarios()
{
	db=$tmp/events.db
	start_daemon
	t=$daemon

	# Deleted and edited rows are not served from memory.
	publish a 1 10
	expect_shows "$t: a backlog=10 client gets the ten rows" \
	    "channel=a&backlog=10" "" "$(names a 1 10)"
	sql "DELETE FROM events WHERE data = 'a-5';
	    UPDATE events SET data = 'a-7 edited' WHERE data = 'a-7'"
	expect_shows "$t: after a DELETE and an UPDATE with the sqlite3 shell, a new backlog client gets the table as it is" \
	    "channel=a&backlog=10" "" \
	    "$(printf 'a-1\na-2\na-3\na-4\na-6\na-7 edited\na-8\na-9\na-10')"

	# A prune, announced to a resume point it took, never to a backlog.
	"$litepush" prune "$db" --keep-last 3 >/dev/null
	expect_shows "$t: after litepush prune --keep-last 3, resuming from 0 gets a reset, then the three kept" \
	    "channel=a" 0 "$(printf '{"oldest":8,"newest":10}\n%s' "$(names a 8 10)")"
	expect_shows "$t: a backlog=10 client after the prune gets the three kept and no reset" \
	    "channel=a&backlog=10" "" "$(names a 8 10)"
	expect_shows "$t: resuming from 7, the last pruned id, gets no reset" \
	    "channel=a" 7 "$(names a 8 10)"
	publish a 11 10
	sql "DELETE FROM events WHERE id <= 15"
	expect_shows "$t: after a plain DELETE of the oldest rows, resuming from 9 gets a reset" \
	    "channel=a" 9 "$(printf '{"oldest":16,"newest":20}\n%s' "$(names a 16 20)")"

	# A log reset inside the file is a new log.
	open_client live "channel=b"
	sql "DELETE FROM events; DELETE FROM sqlite_sequence"
	publish b 1 3
	wait_for "$t: after DELETE FROM events and sqlite_sequence, a connected client gets the new rows 1..3" \
	    20 has_datas live 3
	expect_eq "$t: the connected client got exactly b-1..b-3" \
	    "$(names b 1 3)" "$(datas live)"
	expect_eq "$t: with the new log's ids" "$(printf 'id: 1\nid: 2\nid: 3')" \
	    "$(grep '^id: [1-9]' "$tmp/live.out" | tail -n 3)"
	expect_shows "$t: resuming from 20 (the old log) gets a reset and the new log" \
	    "channel=b" 20 "$(printf '{"oldest":1,"newest":3}\n%s' "$(names b 1 3)")"
	publish b 4 7
	wait_for "$t: the connected client follows the new log" 20 \
	    grep -q '^id: 10$' "$tmp/live.out"
	close_client live
	open_client live "channel=d"
	sql "DELETE FROM events WHERE id > 7;
	    UPDATE sqlite_sequence SET seq = 7 WHERE name = 'events'"
	publish d 8 2
	wait_for "$t: after the newest rows are deleted and sqlite_sequence lowered, new rows reach a connected client" \
	    20 has_datas live 2
	expect_eq "$t: the connected client got d-8 and d-9" \
	    "$(names d 8 9)" "$(datas live)"
	close_client live

	# A quiet stream knows its position before any event.
	if [ "$transport" = sse ]; then
		open_client quiet "channel=quiet"
		poll_until 5 grep -q '^id: ' "$tmp/quiet.out"
		expect_eq "$t: a new stream's first block is the position (id: 9)" \
		    "$(printf 'retry: 3000\n\nid: 9\n')" \
		    "$(sed -n '2,4p' "$tmp/quiet.out")"
		close_client quiet
	fi

	# A database recreated in a tight loop: no daemon stays on a deleted file.
	recreate_end=$(($(date +%s) + 8))
	recreations=0
	while [ "$(date +%s)" -lt "$recreate_end" ]; do
		rm -f "$db" "$db-wal" "$db-shm" && "$litepush" init "$db" >/dev/null
		recreations=$((recreations + 1))
	done
	publish after 1 1
	expect_shows "$t: after $recreations recreations of the database, a new client gets the new row" \
	    "channel=after" 0 "after-1"
	wait_for "$t: the daemon holds no deleted database file" 10 \
	    no_deleted_files "$(daemon_pid)"
	stop_daemon

	# A symlinked --db: the feed watches where the file really is.
	mkdir -p "$tmp/real" "$tmp/link"
	"$litepush" init "$tmp/real/events.db" >/dev/null
	ln -sf "$tmp/real/events.db" "$tmp/link/events.db"
	db=$tmp/link/events.db
	if [ "$transport" = ws ]; then
		start_ws --poll-ms 3600000
	else
		start_sse --poll-ms 3600000
	fi
	open_client linked "channel=linked"
	publish linked 1 1
	wait_for "$t: through a symlinked --db, an insert arrives with the fallback poll at one hour" \
	    20 has_datas linked 1
	close_client linked
	stop_daemon
}

# --- the schema -----------------------------------------------------------------

db=$tmp/schema.db
"$litepush" init "$db" >/dev/null
run sql "INSERT INTO events(channel, event, data) VALUES('a', 'pause', '0')"
expect_contains "an event named pause is refused at INSERT" \
    "CHECK constraint failed: event_not_reserved" "$run_err"
run sql "INSERT INTO events(channel, event, data) VALUES('a', 'reset', '')"
expect_contains "an event named reset is refused at INSERT" \
    "CHECK constraint failed: event_not_reserved" "$run_err"
run sql "INSERT INTO events(id, channel, data) VALUES(9007199254740992, 'a', '')"
expect_contains "an id above 2^53 - 1 is refused at INSERT" \
    "CHECK constraint failed: id_in_range" "$run_err"
expect_eq "nothing was stored" 0 "$(sql "SELECT count(*) FROM events")"

# --- litepush-sse behind Apache ----------------------------------------------------

use_transport sse
scenarios

# The pause tells where the stream is, and a plain EventSource when to come back.
db=$tmp/events.db
start_daemon
publish p 1 3
open_client paused "channel=quiet"
before_ms=$(now_ms)
stop_pid "$sse_pid"
untrack_pid "$sse_pid"
poll_until 10 grep -q '^data: [0-9]' "$tmp/paused.out"
after_ms=$(now_ms)
close_client paused
expect_eq "SIGTERM: the pause is preceded by the position (id: 3) in a block of its own" \
    "$(printf 'id: 3\n\nretry:')" \
    "$(grep -B 3 '^event: pause' "$tmp/paused.out" | head -n 3 | cut -c 1-6)"
pause_retry=$(sed -n 's/^retry: //p' "$tmp/paused.out" | tail -n 1)
pause_at=$(sed -n 's/^data: //p' "$tmp/paused.out" | tail -n 1)
if [ $((pause_at - pause_retry)) -ge "$before_ms" ] &&
    [ $((pause_at - pause_retry)) -le "$after_ms" ]; then
	ok "SIGTERM: retry: $pause_retry is the time until the pause time $pause_at"
else
	fail "SIGTERM: retry is the time until the pause time" \
	    "$pause_at - retry within [$before_ms, $after_ms]" "retry $pause_retry"
fi

# --- litepush-ws ---------------------------------------------------------------------

use_transport ws
scenarios
db=$tmp/events.db
start_daemon
run "$PYTHON" "$top_srcdir/tests/ws_client.py" publish --url "$ws_url" \
    --channels probe --send '{"channel":"chat","event":"pause","data":"0"}' \
    --timeout 10
expect_eq "publishing an event named pause over WebSocket gets an error reply" \
    "reply error" "$run_out"
expect_contains "saying why" 'error: bad event name: "pause" is the protocol' \
    "$run_err"
expect_eq "and stores nothing" 0 "$(sql "SELECT count(*) FROM events")"

finish
