#!/bin/sh
# cli.sh: drives the built `litepush` and the real sqlite3 shell on the same
# databases: init, publish, tail, prune, stats and the errors of each.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

require_command sqlite3 timeout

litepush=$top_builddir/cli/litepush
if [ ! -x "$litepush" ]; then
	echo "not built: $litepush"
	exit 99
fi

# Prints the number of rows in the events table of database $1.
count_events()
{
	sqlite3 "$1" "SELECT count(*) FROM events"
}

# Starts `litepush tail ARGS...` in the background, output to $1.out and
# $1.err in the temporary directory; sets $tail_pid.
start_tail()
{
	start_tail_name=$1
	shift
	"$litepush" tail "$@" >"$test_tmpdir/$start_tail_name.out" \
	    2>"$test_tmpdir/$start_tail_name.err" &
	tail_pid=$!
	track_pid "$tail_pid"
}

# Sends signal $1 to the tail $2, reaps it and sets $tail_status.
stop_tail()
{
	kill "-$1" "$2"
	wait "$2"
	tail_status=$?
	untrack_pid "$2"
}

# --- init -------------------------------------------------------------------

db=$test_tmpdir/events.db

run "$litepush" init "$db"
expect_eq "init exits 0" 0 "$run_status"
expect_eq "init reports the empty store" "$db: ready (0 events)" "$run_out"
if [ -f "$db" ]; then
	ok "init creates the file"
else
	fail "init creates the file" "a file at $db" "none"
fi
schema=$(sqlite3 "$db" .schema)
expect_contains "init creates the events table" "CREATE TABLE events" \
    "$schema"
run "$litepush" init "$db"
expect_eq "init again exits 0" 0 "$run_status"
expect_eq "init again leaves the schema unchanged" "$schema" \
    "$(sqlite3 "$db" .schema)"
expect_eq "user_version is 3" 3 "$(sqlite3 "$db" "PRAGMA user_version")"
expect_eq "journal_mode is wal" wal "$(sqlite3 "$db" "PRAGMA journal_mode")"

printf 'this is not a database, only text that goes on and on' \
    >"$test_tmpdir/text.db"
run "$litepush" init "$test_tmpdir/text.db"
expect_eq "init on a file that is not a database exits 1" 1 "$run_status"
expect_contains "and says why" "litepush: " "$run_err"

# --- publish ----------------------------------------------------------------

run "$litepush" publish "$db" news first
expect_eq "publish exits 0" 0 "$run_status"
expect_eq "publish prints the first id" 1 "$run_out"
run "$litepush" publish "$db" news second
expect_eq "publish prints the next id" 2 "$run_out"
expect_eq "the row holds channel and data" "news||first" \
    "$(sqlite3 "$db" "SELECT channel, event, data FROM events WHERE id = 1")"

run "$litepush" publish "$db" news --event add third
expect_eq "publish --event after the channel exits 0" 0 "$run_status"
expect_eq "publish --event stores the name" "add|third" \
    "$(sqlite3 "$db" "SELECT event, data FROM events WHERE id = $run_out")"
run "$litepush" publish --event=remove "$db" news fourth
expect_eq "publish --event=NAME before the arguments" "remove|fourth" \
    "$(sqlite3 "$db" "SELECT event, data FROM events WHERE id = $run_out")"
run "$litepush" publish "$db" news -- -dash
expect_eq "publish -- DATA takes data starting with a dash" "-dash" \
    "$(sqlite3 "$db" "SELECT data FROM events WHERE id = $run_out")"

sender_db=$test_tmpdir/sender.db
run "$litepush" publish "$sender_db" chat --sender alice --event msg hi
expect_eq "publish --sender records who sent it" "alice|msg|hi" \
    "$(sqlite3 "$sender_db" "SELECT sender, event, data FROM events")"
run "$litepush" publish "$sender_db" chat --sender "$(printf 'a\nb')" x
expect_eq "publish --sender with a newline exits 1" 1 "$run_status"
expect_contains "publish --sender with a newline names the rule" \
    "sender_valid" "$run_err"
expect_eq "the refused row is not stored" 1 \
    "$(sqlite3 "$sender_db" "SELECT count(*) FROM events")"

printf 'line one\nline two\n' >"$test_tmpdir/input"
run "$litepush" publish "$db" news - <"$test_tmpdir/input"
expect_eq "publish - exits 0" 0 "$run_status"
expect_eq "publish - keeps the newlines of standard input" \
    6C696E65206F6E650A6C696E652074776F0A \
    "$(sqlite3 "$db" "SELECT hex(data) FROM events WHERE id = $run_out")"
printf 'a\n\n' >"$test_tmpdir/input"
run "$litepush" publish "$db" news <"$test_tmpdir/input"
expect_eq "publish without DATA reads standard input" 610A0A \
    "$(sqlite3 "$db" "SELECT hex(data) FROM events WHERE id = $run_out")"
run "$litepush" publish "$db" news </dev/null
expect_eq "publish of empty standard input stores empty data" "0|" \
    "$(sqlite3 "$db" "SELECT length(data), hex(data) FROM events
        WHERE id = $run_out")"

run "$litepush" publish "$test_tmpdir/new.db" news hi
expect_eq "publish creates a missing database" "0|1" "$run_status|$run_out"
expect_eq "with the schema" 3 \
    "$(sqlite3 "$test_tmpdir/new.db" "PRAGMA user_version")"

# --- refused rows -----------------------------------------------------------

before=$(count_events "$db")
run "$litepush" publish "$db" "bad channel" x
expect_eq "publish to a bad channel exits 1" 1 "$run_status"
expect_contains "with SQLite's CHECK reason" "CHECK constraint failed" \
    "$run_err"
expect_contains "after the tool's name" "litepush: " "$run_err"
expect_eq "publish to a bad channel prints no id" "" "$run_out"
long=$(printf '%065d' 0)
run "$litepush" publish "$db" "$long" x
expect_eq "publish to a 65-byte channel exits 1" 1 "$run_status"
run "$litepush" publish "$db" "" x
expect_eq "publish to an empty channel exits 1" 1 "$run_status"
run "$litepush" publish "$db" news --event "$(printf 'a\nb')" x
expect_eq "publish with LF in the event name exits 1" 1 "$run_status"
expect_contains "with SQLite's CHECK reason" "CHECK constraint failed" \
    "$run_err"
run "$litepush" publish "$db" news --event "$(printf 'a\rb')" x
expect_eq "publish with CR in the event name exits 1" 1 "$run_status"
expect_eq "refused publishes change nothing" "$before" "$(count_events "$db")"

run sqlite3 "$db" "INSERT INTO events(channel, data) VALUES('bad/channel', 'x')"
if [ "$run_status" -ne 0 ]; then
	ok "sqlite3 INSERT to a bad channel fails"
else
	fail "sqlite3 INSERT to a bad channel fails" "non-zero status" 0
fi
expect_contains "with a CHECK message" "CHECK constraint failed" "$run_err"
run sqlite3 "$db" "INSERT INTO events(channel, event, data)
    VALUES('news', 'a' || char(13, 10) || 'b', 'x')"
expect_contains "sqlite3 INSERT of CR/LF in the event name fails" \
    "CHECK constraint failed" "$run_err"
expect_eq "refused INSERTs change nothing" "$before" "$(count_events "$db")"

run "$litepush" publish "$db" "$(printf '%064d' 0)" x
expect_eq "publish to a 64-byte channel exits 0" 0 "$run_status"
run "$litepush" publish "$db" "a-Z_0.9:x" x
expect_eq "publish to a channel of every allowed kind exits 0" 0 \
    "$run_status"

# --- tail -------------------------------------------------------------------

live=$test_tmpdir/live.db
"$litepush" init "$live" >/dev/null
"$litepush" publish "$live" news old >/dev/null

# Publishes a marker and succeeds once tail has printed one.
marker_seen()
{
	"$litepush" publish "$live" news marker >/dev/null &&
	    has_line "$test_tmpdir/live.out" "data: marker"
}

start_tail live "$live" news --poll-ms 100
wait_for "tail is running (a marker arrives)" 10 marker_seen
expect_not_contains "tail without --from starts after the newest event" \
    "data: old" "$(cat "$test_tmpdir/live.out")"

sqlite3 "$live" "INSERT INTO events(channel, data) VALUES('sports', 'other')"
hello_id=$(sqlite3 "$live" "INSERT INTO events(channel, data)
    VALUES('news', 'hello'); SELECT last_insert_rowid()")
wait_for "a row INSERTed by sqlite3 reaches tail" 10 \
    has_line "$test_tmpdir/live.out" "data: hello"
expect_contains "with its id" "id: $hello_id
data: hello
" "$(cat "$test_tmpdir/live.out")
"
expect_not_contains "a row of another channel does not" "data: other" \
    "$(cat "$test_tmpdir/live.out")"

sqlite3 "$live" "INSERT INTO events(channel, event, data)
    VALUES('news', 'add', 'one' || char(10) || 'two')"
wait_for "a named multi-line event reaches tail" 10 \
    has_line "$test_tmpdir/live.out" "data: two"
expect_contains "as event: and one data: line per line" "event: add
data: one
data: two
" "$(cat "$test_tmpdir/live.out")
"

stop_tail TERM "$tail_pid"
expect_eq "tail exits 0 on SIGTERM" 0 "$tail_status"
expect_eq "tail wrote nothing to stderr" "" \
    "$(cat "$test_tmpdir/live.err")"

replay=$test_tmpdir/replay.db
"$litepush" publish "$replay" news a >/dev/null
"$litepush" publish "$replay" news --event x b >/dev/null
"$litepush" publish "$replay" sports c >/dev/null
"$litepush" publish "$replay" news "$(printf 'l1\nl2')" >/dev/null

start_tail from0 "$replay" news --from 0
wait_for "tail --from 0 reaches the last event" 10 \
    has_line "$test_tmpdir/from0.out" "data: l2"
stop_tail INT "$tail_pid"
expect_eq "tail exits 0 on SIGINT" 0 "$tail_status"
expect_eq "tail --from 0 prints the channel's events in order" \
    "$(printf 'id: 1\ndata: a\n\nid: 2\nevent: x\ndata: b\n\nid: 4\ndata: l1\ndata: l2\n\n')" \
    "$(cat "$test_tmpdir/from0.out")"

start_tail from2 --from 2 "$replay" sports news
wait_for "tail of two channels --from 2 reaches the last event" 10 \
    has_line "$test_tmpdir/from2.out" "data: l2"
stop_tail TERM "$tail_pid"
expect_eq "tail of two channels prints both, after the id" \
    "$(printf 'id: 3\ndata: c\n\nid: 4\ndata: l1\ndata: l2\n\n')" \
    "$(cat "$test_tmpdir/from2.out")"

"$litepush" publish "$replay" default d >/dev/null
start_tail default "$replay" --from 0
wait_for "tail without a channel follows \"default\"" 10 \
    has_line "$test_tmpdir/default.out" "data: d"
stop_tail TERM "$tail_pid"
expect_eq "and only it" "$(printf 'id: 5\ndata: d\n\n')" \
    "$(cat "$test_tmpdir/default.out")"

run timeout 10 "$litepush" tail "$test_tmpdir/missing.db" news
expect_eq "tail of a missing database exits 1" 1 "$run_status"
expect_contains "and names it" "missing.db" "$run_err"
if [ -e "$test_tmpdir/missing.db" ]; then
	fail "tail does not create the database" "no file" "a file"
else
	ok "tail does not create the database"
fi

# --- prune ------------------------------------------------------------------

prune=$test_tmpdir/prune.db
for data in 1 2 3 4 5; do
	"$litepush" publish "$prune" news "$data" >/dev/null
done
run "$litepush" prune "$prune" --keep-last 2
expect_eq "prune --keep-last exits 0" 0 "$run_status"
expect_eq "prune --keep-last reports the count" "deleted 3 events" "$run_out"
expect_eq "and keeps the newest" "4,5" \
    "$(sqlite3 "$prune" "SELECT group_concat(id) FROM events")"
run "$litepush" prune --keep-last=10 "$prune"
expect_eq "prune --keep-last more than there are deletes nothing" \
    "deleted 0 events" "$run_out"

aged=$test_tmpdir/aged.db
"$litepush" init "$aged" >/dev/null
sqlite3 "$aged" "INSERT INTO events(channel, data, created)
    VALUES('news', 'ancient', 1000);
    INSERT INTO events(channel, data, created)
    VALUES('news', 'two days', (strftime('%s', 'now') - 2 * 86400) * 1000)"
"$litepush" publish "$aged" news fresh >/dev/null
run "$litepush" prune "$aged" --older-than 3d
expect_eq "prune --older-than 3d exits 0" 0 "$run_status"
expect_eq "prune --older-than 3d deletes the ancient row" \
    "deleted 1 events" "$run_out"
run "$litepush" prune "$aged" --older-than 24h
expect_eq "prune --older-than 24h deletes the two-day-old row" \
    "deleted 1 events" "$run_out"
expect_eq "and leaves the fresh one" fresh \
    "$(sqlite3 "$aged" "SELECT group_concat(data) FROM events")"
run "$litepush" prune "$aged" --older-than 15m
expect_eq "prune --older-than 15m keeps a fresh row" "deleted 0 events" \
    "$run_out"

run "$litepush" prune "$test_tmpdir/nothing.db" --keep-last 1
expect_eq "prune of a missing database exits 1" 1 "$run_status"
if [ -e "$test_tmpdir/nothing.db" ]; then
	fail "prune does not create the database" "no file" "a file"
else
	ok "prune does not create the database"
fi

# --- stats ------------------------------------------------------------------

run "$litepush" stats "$replay"
expect_eq "stats exits 0" 0 "$run_status"
expect_eq "stats starts with events, first and last id" \
    "$(printf 'events: 5\nfirst id: 1\nlast id: 5')" \
    "$(printf '%s\n' "$run_out" | head -n 3)"
if printf '%s\n' "$run_out" | grep -qx 'file size: [0-9]* bytes'; then
	ok "stats prints the file size"
else
	fail "stats prints the file size" "file size: N bytes" "$run_out"
fi
expect_eq "stats lists the channels" \
    "$(printf 'channel default: 1\nchannel news: 3\nchannel sports: 1')" \
    "$(printf '%s\n' "$run_out" | grep '^channel ')"
run "$litepush" stats "$test_tmpdir/absent.db"
expect_eq "stats of a missing database exits 1" 1 "$run_status"

# --- usage ------------------------------------------------------------------

before=$(count_events "$db")

# Checks that `litepush ARGS...` is a usage error whose reason contains $2.
expect_usage()
{
	expect_usage_desc=$1
	expect_usage_reason=$2
	shift 2
	run "$litepush" "$@"
	expect_eq "$expect_usage_desc exits 2" 2 "$run_status"
	expect_contains "$expect_usage_desc says why" \
	    "litepush: $expect_usage_reason" "$run_err"
}

expect_usage "no arguments" "missing COMMAND"
expect_contains "with a hint" "Try 'litepush --help'." "$run_err"
expect_usage "an unknown command" "unknown command 'frobnicate'" frobnicate
expect_usage "an unknown global option" "unknown option '--bogus'" --bogus
expect_usage "init without DB" "init: missing DB" init
expect_usage "init with two DBs" "init: unexpected argument" init "$db" "$db"
expect_usage "publish without CHANNEL" "publish: missing CHANNEL" \
    publish "$db"
expect_usage "publish with two DATA" "publish: unexpected argument 'b'" \
    publish "$db" news a b
expect_usage "publish with an unknown option" \
    "publish: unknown option '--bogus'" publish "$db" news --bogus x
expect_usage "publish --event without a value" "publish: option" \
    publish "$db" news x --event
expect_usage "prune with neither option" "prune: need --keep-last or --older-than" \
    prune "$db"
expect_usage "prune with both options" "prune: --keep-last and --older-than" \
    prune "$db" --keep-last 1 --older-than 1d
expect_usage "prune with a bad duration" "prune: bad --older-than" \
    prune "$db" --older-than 5x
expect_usage "prune with a duration without unit" "prune: bad --older-than" \
    prune "$db" --older-than 5
expect_usage "prune with a bad number" "prune: bad --keep-last" \
    prune "$db" --keep-last 12abc
expect_usage "prune with a negative number" "prune: bad --keep-last" \
    prune "$db" --keep-last -1
expect_usage "prune with a number too large" "prune: bad --keep-last" \
    prune "$db" --keep-last 99999999999999999999
expect_usage "tail with a bad --from" "tail: bad --from" \
    tail "$db" news --from 1x
expect_usage "tail with --poll-ms 0" "tail: bad --poll-ms" \
    tail "$db" news --poll-ms 0
expect_usage "tail of a bad channel" "tail: bad channel" tail "$db" "a b"
expect_usage "stats without DB" "stats: missing DB" stats

expect_eq "usage errors change nothing" "$before" "$(count_events "$db")"

run "$litepush" --help
expect_eq "--help exits 0" 0 "$run_status"
expect_contains "--help prints the usage" "Usage: litepush" "$run_out"
run "$litepush" help
expect_contains "help prints the usage" "Usage: litepush" "$run_out"
run "$litepush" publish --help
expect_contains "publish --help prints the usage" "Usage: litepush" "$run_out"
run "$litepush" --version
expect_eq "--version exits 0" 0 "$run_status"
case $run_out in
"litepush "[0-9]*.*)
	ok "--version prints the version"
	;;
*)
	fail "--version prints the version" "litepush X.Y.Z" "$run_out"
	;;
esac

finish
