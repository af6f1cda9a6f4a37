#!/bin/sh
# pg-schema.sh: the PostgreSQL schema (store/pg_schema.sql) on a real
# PostgreSQL 15, started here: idempotent, the same rules under the same
# names as SQLite's, and commit order as id order.  The last is the
# skipped-row test: transaction A inserts and stays open, B inserts; a
# reader following WHERE id > last must not see B's row before A's, and
# then sees both, in id order.  The same script against a plain bigserial
# table must show the skip (the negative control), so that the test is
# known to catch it.  The sessions are psql processes fed through FIFOs,
# each step awaited on what the server reports (pg_locks, the output).

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command psql "$pg_bindir/initdb" "$pg_bindir/postgres"

schema=$top_srcdir/store/pg_schema.sql
start_postgres || finish

# Runs SQL $1 in a session of its own; prints the rows, unaligned.
pg()
{
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

# Runs SQL $1 that must fail; prints the error (psql's last line).
pg_refused()
{
	if psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" >"$test_tmpdir/refused" 2>&1; then
		echo "accepted"
	else
		grep 'ERROR' "$test_tmpdir/refused" | head -n 1
	fi
}

# Opens a psql session $1 (a or b) reading its commands from a FIFO,
# output to $test_tmpdir/$1.out; sets $session_pid.  The caller opens the
# FIFO for writing: fd 3 for session a, 4 for b.
open_session()
{
	rm -f "$test_tmpdir/$1.in"
	mkfifo "$test_tmpdir/$1.in"
	: >"$test_tmpdir/$1.out"
	psql -X -q -At -v ON_ERROR_STOP=1 <"$test_tmpdir/$1.in" \
	    >"$test_tmpdir/$1.out" 2>&1 &
	session_pid=$!
	track_pid "$session_pid"
}

# Sends SQL $2 to session $1, then a marker, and waits until the marker
# is out (the SQL ran), unless $3 is "nowait" (the SQL may block).
send()
{
	send_mark=$(($(date +%s%N) % 1000000000))
	case $1 in
	a) printf '%s\nSELECT %s;\n' "$2" "$send_mark" >&3 ;;
	b) printf '%s\nSELECT %s;\n' "$2" "$send_mark" >&4 ;;
	esac
	[ "${3:-}" = nowait ] && return 0
	poll_until 20 grep -qx "$send_mark" "$test_tmpdir/$1.out"
}

# Succeeds once B's row ('B') is in table $table, or B waits for the lock.
b_in_or_waiting()
{
	[ "$(pg "SELECT count(*) FROM $table WHERE data = 'B'")" = 1 ] ||
	    waits_for_lock
}

# Succeeds once a session waits for an advisory lock.
waits_for_lock()
{
	[ "$(pg "SELECT count(*) FROM pg_locks
	    WHERE locktype = 'advisory' AND NOT granted")" -ge 1 ]
}

# Prints the data of the rows of table $1 with an id above $2, in id order.
read_after()
{
	pg "SELECT string_agg(data, ' ' ORDER BY id) FROM $1 WHERE id > $2"
}

# --- the schema -----------------------------------------------------------------

if pg "SET client_min_messages = warning; $(cat "$schema")" >/dev/null; then
	ok "store/pg_schema.sql makes the schema"
else
	fail "store/pg_schema.sql makes the schema"
	finish
fi
dump()
{
	"$pg_bindir/pg_dump" -s -X -d litepush 2>/dev/null |
	    grep -v '^--' | grep -v '^$'
}
before=$(dump)
pg "SET client_min_messages = warning; $(cat "$schema")" >/dev/null
expect_eq "running it again changes nothing" "$before" "$(dump)"
expect_eq "litepush_meta says schema 3" "3|0|0" \
    "$(pg "SELECT version, edits, pruned FROM litepush_meta")"

expect_eq "a plain INSERT gets id 1" 1 \
    "$(pg "INSERT INTO events(channel, event, data) VALUES ('news', 'add', 'hello') RETURNING id")"
expect_eq "with the defaults of the other columns" "news|add|hello|t|" \
    "$(pg "SELECT channel, event, data, created > 1700000000000, sender FROM events")"
expect_contains "a bad channel is refused by channel_valid" '"channel_valid"' \
    "$(pg_refused "INSERT INTO events(channel, data) VALUES ('bad channel', 'x')")"
expect_contains "a channel of 65 characters too" '"channel_valid"' \
    "$(pg_refused "INSERT INTO events(channel) VALUES (repeat('a', 65))")"
expect_contains "an event name with a newline by event_valid" '"event_valid"' \
    "$(pg_refused "INSERT INTO events(channel, event) VALUES ('a', 'x' || chr(10))")"
expect_contains "the protocol's pause by event_not_reserved" '"event_not_reserved"' \
    "$(pg_refused "INSERT INTO events(channel, event) VALUES ('a', 'pause')")"
expect_contains "and reset, also by UPDATE" '"event_not_reserved"' \
    "$(pg_refused "UPDATE events SET event = 'reset'")"
expect_contains "a sender with a CR by sender_valid" '"sender_valid"' \
    "$(pg_refused "INSERT INTO events(channel, sender) VALUES ('a', 'x' || chr(13))")"
expect_contains "an id beyond 2^53 - 1 by id_in_range" '"id_in_range"' \
    "$(pg_refused "INSERT INTO events(id, channel) VALUES (9007199254740992, 'a')")"
expect_contains "an id at or below the newest given by id_in_order" '"id_in_order"' \
    "$(pg_refused "INSERT INTO events(id, channel) VALUES (1, 'a')")"
expect_eq "an id above the newest is kept, and the sequence moves past it" "50 51" \
    "$(pg "INSERT INTO events(id, channel) VALUES (50, 'a') RETURNING id" |
        tr '\n' ' ')$(pg "INSERT INTO events(channel) VALUES ('a') RETURNING id")"

# --- commit order is id order ---------------------------------------------------

pg "CREATE TABLE plain_events (id bigserial PRIMARY KEY, data text)" >/dev/null

# The scenario on table $1: A inserts and stays open, B inserts and
# commits (or waits), the reader reads after the newest id before; then A
# commits and the reader reads on from the newest id it saw.  Prints what
# the reader saw: "first read | second read | all rows".
skipped_row()
{
	table=$1
	start=$(pg "SELECT coalesce(max(id), 0) FROM $table")
	open_session a
	a_pid=$session_pid
	open_session b
	b_pid=$session_pid
	exec 3>"$test_tmpdir/a.in" 4>"$test_tmpdir/b.in"
	send a "BEGIN; INSERT INTO $table(data) VALUES ('A');" || echo "A did not insert"
	send b "INSERT INTO $table(data) VALUES ('B');" nowait
	# B has either committed or is waiting for A's lock.
	poll_until 20 b_in_or_waiting
	first=$(read_after "$table" "$start")
	seen=$(pg "SELECT coalesce(max(id), $start) FROM $table")
	send a "COMMIT;" || echo "A did not commit"
	exec 3>&- 4>&-
	wait "$b_pid"
	wait "$a_pid"
	second=$(read_after "$table" "$seen")
	printf '%s | %s | %s\n' "$first" "$second" "$(read_after "$table" "$start")"
	rm -f "$test_tmpdir/a.in" "$test_tmpdir/b.in"
}

expect_eq "a plain bigserial table skips A's row: the negative control" \
    "B |  | A B" "$(skipped_row plain_events)"
expect_eq "events: B waits for A, the reader sees neither, then both in id order" \
    " | A B | A B" "$(skipped_row events)"

# While A holds the lock, B is seen waiting for it (not for anything else).
open_session a
a_pid=$session_pid
open_session b
b_pid=$session_pid
exec 3>"$test_tmpdir/a.in" 4>"$test_tmpdir/b.in"
send a "BEGIN; INSERT INTO events(data) VALUES ('held');"
send b "INSERT INTO events(data) VALUES ('behind');" nowait
wait_for "a second publisher waits on the advisory lock while the first is open" \
    20 waits_for_lock
send a "ROLLBACK;"
exec 3>&- 4>&-
wait "$b_pid"
wait "$a_pid"
expect_eq "after A's rollback B's row is in, and A's id is a gap no row fills" \
    "behind|t" \
    "$(pg "SELECT data, id > (SELECT max(id) FROM events WHERE data = 'B') + 1
        FROM events WHERE data IN ('held', 'behind')")"

# --- what readers learn besides the rows ----------------------------------------

pg "DELETE FROM events WHERE data = 'B'" >/dev/null
expect_eq "deleting a row in the middle is an edit, not a prune" "1|0" \
    "$(pg "SELECT edits, pruned FROM litepush_meta")"
pg "DELETE FROM events WHERE id <= 50" >/dev/null
expect_eq "deleting the oldest rows is a prune up to below the oldest left" \
    "2|$(($(pg "SELECT min(id) FROM events") - 1))" \
    "$(pg "SELECT edits, pruned FROM litepush_meta")"
pg "UPDATE events SET data = 'edited' WHERE id = (SELECT max(id) FROM events)" >/dev/null
expect_eq "an UPDATE is an edit" 3 "$(pg "SELECT edits FROM litepush_meta")"
newest=$(pg "SELECT last_value FROM events_id_seq")
pg "TRUNCATE events" >/dev/null
expect_eq "TRUNCATE is a prune of everything given" "4|$newest" \
    "$(pg "SELECT edits, pruned FROM litepush_meta")"

# NOTIFY at commit, nothing on rollback: a listening session sees it on
# its next command.
open_session a
a_pid=$session_pid
exec 3>"$test_tmpdir/a.in"
send a "LISTEN litepush_events;"
pg "BEGIN; INSERT INTO events(data) VALUES ('x'); ROLLBACK;" >/dev/null
send a "SELECT 'after the rollback';"
pg "INSERT INTO events(data) VALUES ('y')" >/dev/null
send a "SELECT 'after the commit';"
exec 3>&-
wait "$a_pid"
expect_eq "an INSERT notifies litepush_events at its commit, a rollback not" \
    "after the rollback
Asynchronous notification \"litepush_events\" received from server process" \
    "$(grep -E '^after the rollback$|^Asynchronous' "$test_tmpdir/a.out" |
        sed 's/ with PID [0-9]*\.$//; s/ process with PID.*/ process/')"

finish
