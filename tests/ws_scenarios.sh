# ws_scenarios.sh: what the litepush-ws tests share, sourced after lib.sh by
# ws-direct.sh, ws-apache.sh and ws-lighttpd.sh: starting the daemon, and
# the scenarios each of them runs on its own path (directly, or through a
# web server) to the same daemon.
#
# Note that every scenario uses channels suffixed with the path's name, so
# that the paths could share one database without seeing each other.

# shellcheck shell=sh
# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

require_command sqlite3

ws_bin=$top_builddir/ws/litepush-ws
litepush=$top_builddir/cli/litepush
for ws_program in "$ws_bin" "$litepush"; do
	if [ ! -x "$ws_program" ]; then
		echo "not built: $ws_program"
		exit 99
	fi
done
client="$top_srcdir/tests/ws_client.py"

db=$test_tmpdir/events.db
"$litepush" init "$db" >/dev/null || exit 99

# A thousand WebSockets need a thousand descriptors in this process (the
# client) and the servers it starts.
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# Runs ws_client.py with the arguments.
ws_client()
{
	"$PYTHON" "$client" "$@"
}

# Succeeds once a handshake to URL $1 gets 101 with the right
# Sec-WebSocket-Accept.
upgrades()
{
	ws_client handshake --url "$1" 2>/dev/null | grep -qx "accept ok"
}

# Starts `ws_client.py collect ARGS...` in the background with
# --ready-file; its output goes to $test_tmpdir/$1.out and .err.  Sets
# $collect_pid; returns once every connection is open (or failed).
start_collect()
{
	start_collect_name=$1
	shift
	# Note that the client runs directly, not through the ws_client
	# function: a function in the background is a subshell, whose PID
	# would be the one stopped, leaving the client running.
	"$PYTHON" "$client" collect "$@" \
	    --ready-file "$test_tmpdir/$start_collect_name.ready" \
	    >"$test_tmpdir/$start_collect_name.out" \
	    2>"$test_tmpdir/$start_collect_name.err" &
	collect_pid=$!
	track_pid "$collect_pid"
	wait_for "$start_collect_name: the WebSockets are open" 60 \
	    collect_ready "$start_collect_name" "$collect_pid"
}

# Succeeds once the collect $1 is ready; stops the wait when it died.
collect_ready()
{
	[ -f "$test_tmpdir/$1.ready" ] && return 0
	pid_gone "$2" && return 0
	return 1
}

# Waits for the collect $1 (PID $2) to end; checks it exited 0.
end_collect()
{
	wait "$2"
	end_collect_status=$?
	untrack_pid "$2"
	if [ "$end_collect_status" -eq 0 ]; then
		ok "$1: the client got what it waited for"
	else
		fail "$1: the client got what it waited for" "exit 0" \
		    "exit $end_collect_status: $(cat "$test_tmpdir/$1.err")"
	fi
}

# Prints, in id order, the events of the channels $2... after id $1 as the
# daemon must send them, one JSON text a line.
expected_json()
{
	expected_after=$1
	shift
	expected_in=$(printf "'%s'," "$@")
	sqlite3 "$db" "SELECT json_object('id', id, 'channel', channel,
	    'event', event, 'data', data) FROM events
	    WHERE id > $expected_after AND channel IN (${expected_in%,})
	    ORDER BY id"
}

# Prints the ids of the events of channel $2 after id $1, one a line.
expected_ids()
{
	sqlite3 "$db" "SELECT id FROM events WHERE channel = '$2' AND id > $1
	    ORDER BY id"
}

# Prints the largest id in the store.
last_id()
{
	sqlite3 "$db" "SELECT coalesce(max(id), 0) FROM events"
}

# Runs the SQL $1 (else standard input) in the sqlite3 shell, as a
# publisher would; an error (such as "database is locked") is a failure.
publish_sql()
{
	if ! sqlite3 "$db" "$@" 2>"$test_tmpdir/.publish.err"; then
		fail "the sqlite3 shell publishes" "exit 0, no error" \
		    "$(cat "$test_tmpdir/.publish.err")"
	fi
}

# Prints SQL that INSERTs $2 events "$3 1".."$3 N" into channel $1, one
# statement (and transaction) each.
insert_sql()
{
	insert_i=1
	while [ "$insert_i" -le "$2" ]; do
		printf "INSERT INTO events(channel, data) VALUES('%s', '%s %d');\n" \
		    "$1" "$3" "$insert_i"
		insert_i=$((insert_i + 1))
	done
}

# Checks that the last `run` printed exactly $2; on a mismatch, shows what
# it wrote to standard error too.
expect_out()
{
	if [ "$run_out" = "$2" ]; then
		ok "$1"
	else
		fail "$1" "$2" "$run_out${run_err:+
(stderr: $run_err)}"
	fi
}

# Checks that the response printed by the last `run ws_client handshake`
# has status $2; on a mismatch, shows the whole response.
expect_status()
{
	if [ "$(http_status "$run_out")" = "$2" ]; then
		ok "$1"
	else
		fail "$1" "status $2" "$run_out${run_err:+
(stderr: $run_err)}"
	fi
}

# Checks that no daemon wrote an AddressSanitizer/UBSan report (builds
# with --enable-sanitizers).
expect_no_sanitizer_report()
{
	expect_eq "the daemons wrote no sanitizer report" "" \
	    "$(grep -h -A 5 'Sanitizer\|runtime error' "$test_tmpdir"/*.err "$test_tmpdir"/*.log)"
}

# Prints the status code of a response printed by `ws_client.py handshake`.
http_status()
{
	printf '%s\n' "$1" | sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p'
}

# Prints the value of header $2 (lower case) of such a response.
http_header()
{
	printf '%s\n' "$1" | sed -n '2,/^$/p' | sed -n "s/^$2: //p"
}

# Prints the body of such a response.
http_body()
{
	printf '%s\n' "$1" | sed '1,/^$/d'
}

# --- the scenarios every path runs --------------------------------------------

# Subscribes to two channels with a browser's Origin, INSERTs rows with the
# sqlite3 shell and checks they arrive as the contract's JSON.  $1 names
# the path, $2 is the WebSocket URL.
scenario_subscribe()
{
	name=$1
	before=$(last_id)
	start_collect "$name-sub" --url "$2" \
	    --channels "news_$name,sports_$name" --origin auto --count 3 \
	    --print json
	publish_sql "INSERT INTO events(channel, event, data)
	        VALUES('news_$name', 'add', 'hello');
	    INSERT INTO events(channel, data) VALUES('other_$name', 'not ours');
	    INSERT INTO events(channel, data) VALUES('sports_$name',
	        'say \"hi\"' || char(10) || 'caf' || char(233) || ' ' ||
	        char(10003) || ' \\ </script>');
	    INSERT INTO events(channel, event, data)
	        VALUES('news_$name', 'remove', '')"
	end_collect "$name-sub" "$collect_pid"
	expect_eq "$name: rows INSERTed by sqlite3 arrive, in id order, as JSON" \
	    "$(expected_json "$before" "news_$name" "sports_$name")" \
	    "$(cat "$test_tmpdir/$name-sub.out")"

	# A frame of more than 65535 bytes has a 64-bit length.
	before=$(last_id)
	publish_sql "INSERT INTO events(channel, data) VALUES('news_$name',
	    'big ' || replace(hex(zeroblob(35000)), '0', 'x'))"
	run ws_client collect --url "$2" --channels "news_$name" \
	    --last-event-id "$before" --count 1 --print json
	expect_eq "$name: an event of 70004 bytes of data arrives whole" \
	    "$(expected_json "$before" "news_$name" | cksum)" \
	    "$(printf '%s\n' "$run_out" | cksum)"
}

# Resumes with lastEventId after 1000 events (and 100 of another channel)
# published while away: each arrives once, in order, none is missing.
scenario_resume()
{
	name=$1
	seen=$(last_id)
	{
		insert_sql "news_$name" 1000 missed
		insert_sql "other_$name" 100 other
		echo "INSERT INTO events(channel, data) VALUES('news_$name', 'last');"
	} | publish_sql
	run ws_client collect --url "$2" --channels "news_$name" \
	    --last-event-id "$seen" --count 1001 --print ids --timeout 60
	expect_out "$name: resuming after 1000 missed events gets each once, in order" \
	    "$(expected_ids "$seen" "news_$name")"

	run ws_client collect --url "$2" --channels "news_$name" --backlog 3 \
	    --count 3 --print ids
	expect_out "$name: backlog=3 starts with the channel's last 3 events" \
	    "$(expected_ids "$seen" "news_$name" | tail -n 3)"
}

# Publishes from one WebSocket (the daemon allows chat_*): another
# WebSocket, the sender and, if $ws_sse_port is set, an SSE stream of
# litepush-sse on it get the event; a refused channel and a message that is
# not JSON get an error, and the connection stays usable.
scenario_publish()
{
	name=$1
	start_collect "$name-peer" --url "$2" --channels "chat_$name" --count 2 \
	    --print json
	if [ -n "${ws_sse_port:-}" ]; then
		start_sse_reader "$name-sse" "chat_$name"
	fi
	run ws_client publish --url "$2" --channels "chat_$name" \
	    --send "{\"channel\":\"chat_$name\",\"event\":\"msg\",\"data\":\"hi\"}" \
	    --send "{\"channel\":\"secret_$name\",\"event\":\"msg\",\"data\":\"no\"}" \
	    --send "this is not JSON" \
	    --send "{\"channel\":\"chat_$name\",\"data\":\"again\"}" \
	    --receive 2
	expect_eq "$name: publishing exits 0" 0 "$run_status"
	replies=$(printf '%s\n' "$run_out" | grep '^reply ')
	first_ack=$(printf '%s\n' "$replies" | sed -n '1s/^reply {"ack":\([0-9]*\)}$/\1/p')
	second_ack=$(printf '%s\n' "$replies" | sed -n '4s/^reply {"ack":\([0-9]*\)}$/\1/p')
	expect_eq "$name: allowed, refused, not JSON, allowed: ack, error, error, ack" \
	    "reply {\"ack\":$first_ack}
reply error
reply error
reply {\"ack\":$second_ack}" "$replies"
	if [ -z "$first_ack" ] || [ -z "$second_ack" ]; then
		return
	fi
	expect_eq "$name: the acks are the ids of the stored rows" \
	    "chat_$name|msg|hi
chat_$name||again" \
	    "$(sqlite3 "$db" "SELECT channel, event, data FROM events
	        WHERE id IN ($first_ack, $second_ack) ORDER BY id")"
	expect_eq "$name: the refused channel got no row" 0 \
	    "$(sqlite3 "$db" "SELECT count(*) FROM events
	        WHERE channel = 'secret_$name'")"
	published=$(expected_json "$((first_ack - 1))" "chat_$name")
	expect_eq "$name: the sender gets its own events" \
	    "$published" \
	    "$(printf '%s\n' "$run_out" | sed -n 's/^event //p')"
	end_collect "$name-peer" "$collect_pid"
	expect_eq "$name: another WebSocket gets them" \
	    "$published" "$(cat "$test_tmpdir/$name-peer.out")"
	if [ -n "${ws_sse_port:-}" ]; then
		wait_for "$name: an SSE stream of litepush-sse gets them" 10 \
		    grep -qx "data: again" "$test_tmpdir/$name-sse.out"
		expect_contains "$name: with the same ids" \
		    "id: $first_ack
event: msg
data: hi

id: $second_ack
data: again" "$(cat "$test_tmpdir/$name-sse.out")"
		stop_pid "$sse_reader_pid"
	fi
}

# Hand-made frames: a ping gets a pong with its payload, an unmasked frame
# and invalid UTF-8 get their close codes.
scenario_frames()
{
	name=$1
	run ws_client raw --url "$2" --channels "raw_$name" --case ping \
	    --data "are you there?"
	expect_out "$name: a ping gets a pong with its payload, a close a close" \
	    "pong are you there?
close 1000"
	run ws_client raw --url "$2" --channels "raw_$name" --case unmasked
	expect_out "$name: an unmasked client frame gets close 1002" \
	    "close 1002"
	run ws_client raw --url "$2" --channels "raw_$name" --case bad-utf8
	expect_out "$name: a text message of invalid UTF-8 gets close 1007" \
	    "close 1007"
}

# Origins a browser could send: its page's own (the Host it asks), or a
# foreign one.
scenario_origin()
{
	name=$1
	run ws_client handshake --url "$2" --channels news --origin auto
	expect_status "$name: a request from the page's own Origin is accepted" \
	    101
	run ws_client handshake --url "$2" --channels news \
	    --origin http://evil.example
	expect_status "$name: a request from a foreign Origin gets 403" 403
}

# A thousand WebSockets of one process all get the same 200 events.
scenario_thousand()
{
	name=$1
	before=$(last_id)
	start_collect "$name-1000" --url "$2" --channels "load_$name" \
	    --concurrent 1000 --count 200 --print ids --timeout 150
	insert_sql "load_$name" 200 load | publish_sql
	end_collect "$name-1000" "$collect_pid"
	expect_eq "$name: 1000 WebSockets each got the 200 events, in order" \
	    "$(expected_ids "$before" "load_$name")" \
	    "$(cat "$test_tmpdir/$name-1000.out")"
}

# Stops the daemon (PID $3) with SIGTERM while 50 clients listen: each
# gets close 1001 (going away), and the daemon exits 0.
scenario_shutdown()
{
	name=$1
	start_collect "$name-shutdown" --url "$2" --channels "news_$name" \
	    --concurrent 50 --until-close --print close
	kill -TERM "$3"
	wait_for "$name: on SIGTERM litepush-ws exits" 10 pid_gone "$3"
	wait "$3"
	expect_eq "$name: with status 0" 0 "$?"
	untrack_pid "$3"
	end_collect "$name-shutdown" "$collect_pid"
	expect_eq "$name: every client got close 1001 (going away)" \
	    "50 close 1001" \
	    "$(sort "$test_tmpdir/$name-shutdown.out" | uniq -c | sed 's/^ *//')"
}
