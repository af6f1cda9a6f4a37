# sse_scenarios.sh: what litepush-sse must do behind every web server; each
# tests/sse-*.sh sources lib.sh, describes its deployment, then sources this.
#
# A deployment script defines:
#
#   deploy_start      starts the web server (and litepush-sse, when the server
#                     does not spawn it) for the database $db with the
#                     settings $keepalive, $max_age and $max_streams; sets
#                     $url to http://127.0.0.1:PORT/stream; 1 if it failed
#   deploy_stop       stops what deploy_start started, by PID
#   deploy_sse_pids   prints the PIDs of the litepush-sse processes serving
#   $deploy_streams   how many streams the crowd scenario opens at once
#   $deploy_per_request  "yes" when each stream is its own process (CGI),
#                     where --max-streams has nothing to count
#
# The stack is started four times: plain settings (streams, resume, backlog,
# keepalive, errors, the crowd, then SIGTERM), --max-age 2 (pauses),
# --max-streams 2 (503 when full) and a database that does not exist yet.
# $sse, if set, replaces $top_builddir/fcgi/litepush-sse.

# shellcheck disable=SC2317
require_command sqlite3 curl ps

: "${sse:=$top_builddir/fcgi/litepush-sse}"
litepush=$top_builddir/cli/litepush
for program in "$sse" "$litepush"; do
	if [ ! -x "$program" ]; then
		echo "not built: $program"
		exit 99
	fi
done
client="$top_srcdir/tests/sse_client.py"
tmp=$test_tmpdir
# The servers' workers (www-data) reach sockets and files in here.
chmod 755 "$tmp"

# Inserts COUNT events "1".."COUNT" on CHANNEL, each committed on its own,
# from one sqlite3 process; with "together", in one transaction.
publish()
{
	seq "$2" | {
		[ "${3:-}" = together ] && echo "BEGIN;"
		sed "s/.*/INSERT INTO events(channel, data) VALUES('$1', '&');/"
		[ "${3:-}" = together ] && echo "COMMIT;"
	} | sqlite3 -cmd ".timeout 10000" "$db"
}

# Prints the status code of the header file $1.
status_of()
{
	head -n 1 "$1" | cut -d ' ' -f 2
}

# Starts sse_client.py in the background, output to $tmp/$1.out (what
# --print prints) and $tmp/$1.err (its reasons and summary); sets
# $client_pid.  Pass --ready-file $tmp/$1.ready to wait on it.  Its
# --timeout, 20 s unless given, is only a safety limit.
start_client()
{
	start_client_name=$1
	shift
	rm -f "$tmp/$start_client_name.ready"
	"$PYTHON" "$client" --timeout 20 "$@" >"$tmp/$start_client_name.out" \
	    2>"$tmp/$start_client_name.err" &
	client_pid=$!
	track_pid "$client_pid"
}

# Waits for the client $2 started as $3 and checks that it exited 0.
expect_client_ok()
{
	wait "$2"
	expect_client_status=$?
	untrack_pid "$2"
	if [ "$expect_client_status" -eq 0 ]; then
		ok "$1"
	else
		fail "$1" "exit status 0" "$expect_client_status: $(tail -n 5 "$tmp/$3.err")"
	fi
}

# Checks that a request for $url$2 (curl options $4...) gets status $3 and a
# one-line text/plain reason; the headers stay in $tmp/error.head.
expect_error()
{
	expect_error_desc=$1
	expect_error_query=$2
	expect_error_status=$3
	shift 3
	rm -f "$tmp/error.head" "$tmp/error.body"
	code=$(curl -s --max-time 20 -D "$tmp/error.head" -o "$tmp/error.body" \
	    -w '%{http_code}' "$@" "$url$expect_error_query")
	expect_eq "$expect_error_desc: status" "$expect_error_status" "$code"
	case $(header Content-Type "$tmp/error.head") in
	text/plain*)
		ok "$expect_error_desc: text/plain"
		;;
	*)
		fail "$expect_error_desc: text/plain" "text/plain" \
		    "$(header Content-Type "$tmp/error.head")"
		;;
	esac
	if [ -s "$tmp/error.body" ] &&
	    [ "$(sed '$a\' "$tmp/error.body" | wc -l)" -eq 1 ]; then
		ok "$expect_error_desc: a one-line reason ($(cat "$tmp/error.body"))"
	else
		fail "$expect_error_desc: a one-line reason" "one line" \
		    "$(cat "$tmp/error.body")"
	fi
}

# Requests $url$2 twenty times and checks that each gets litepush-sse's own
# 503 (text/plain, with Retry-After), never one the web server made up.
expect_refusals()
{
	for refusal in $(seq 20); do
		curl -s --max-time 20 -D "$tmp/refusal.head" -o /dev/null \
		    -w '%{http_code} %{content_type}' "$url$2"
		echo " Retry-After: $(header Retry-After "$tmp/refusal.head")"
	done >"$tmp/refusals"
	if grep -qv '^503 text/plain.* Retry-After: [0-9]' "$tmp/refusals"; then
		fail "$1" "20 times: 503 text/plain; charset=utf-8 Retry-After: N" \
		    "$(sort "$tmp/refusals" | uniq -c | tr '\n' ';')"
	else
		ok "$1"
	fi
}

# Starts the deployment with the given settings, or ends the script.
start_stack()
{
	db=$1 keepalive=$2 max_age=$3 max_streams=$4
	if ! deploy_start; then
		tail -n 20 "$tmp"/*.log 2>/dev/null
		finish
	fi
}

# Stops the deployment and checks that no litepush-sse outlives it.
stop_stack()
{
	stop_stack_pids=$(deploy_sse_pids)
	deploy_stop
	for stop_stack_pid in $stop_stack_pids; do
		if ! poll_until 10 pid_gone "$stop_stack_pid"; then
			fail "litepush-sse ($stop_stack_pid) exits with its server" \
			    "gone" "still running"
			kill -KILL "$stop_stack_pid"
		fi
	done
}

# --- plain settings ---------------------------------------------------------

db=$tmp/events.db
"$litepush" init "$db" >/dev/null
sql "INSERT INTO events(channel, data) VALUES('news', 'before')"
# SQLite makes the -wal and -shm files of root's writes the database owner's.
if [ "$(id -u)" -eq 0 ]; then
	chown www-data:www-data "$tmp" "$db"
fi

start_stack "$db" 1 600 1000

curl -sN -D "$tmp/live.head" -o "$tmp/live.body" "$url?channel=news" &
curl_pid=$!
track_pid "$curl_pid"
wait_for "a stream opens (its retry: field arrives)" 10 \
    grep -q '^retry: ' "$tmp/live.body"
sql "INSERT INTO events(channel, data) VALUES('sports', 'other');
    INSERT INTO events(channel, data) VALUES('news', 'plain');
    INSERT INTO events(channel, event, data)
    VALUES('news', 'add', 'line one' || char(10) || 'line two')"
wait_for "rows inserted by sqlite3 arrive" 10 \
    has_line "$tmp/live.body" "data: line two"
expect_eq "status 200" 200 "$(status_of "$tmp/live.head")"
expect_eq "Content-Type" "text/event-stream; charset=utf-8" \
    "$(header Content-Type "$tmp/live.head")"
expect_eq "Cache-Control" no-cache "$(header Cache-Control "$tmp/live.head")"
expect_eq "X-Accel-Buffering" no "$(header X-Accel-Buffering "$tmp/live.head")"
plain=$(sql "SELECT id FROM events WHERE data = 'plain'")
if head -n 4 "$tmp/live.body" | tr '\n' ' ' |
    grep -qx "retry: [0-9]*  id: $((plain - 2))  *"; then
	ok "the body starts with retry: MS, then the position (id: $((plain - 2))), each with a blank line"
else
	fail "the body starts with retry: MS and the position" \
	    "retry: MS, id: $((plain - 2))" "$(head -n 4 "$tmp/live.body")"
fi
expect_eq "only the new events of the channel, each with id, event, data" \
    "$(printf 'id: %s\ndata: plain\n\nid: %s\nevent: add\ndata: line one\ndata: line two\n\n' \
    "$plain" "$((plain + 1))")" \
    "$(sed '1,4d; /^: keepalive$/{N;d;}' "$tmp/live.body")"
wait_for "keepalive comments arrive (--keepalive 1)" 10 \
    has_line "$tmp/live.body" ": keepalive"
stop_pid "$curl_pid"

# No query string at all: the channel "default".
curl -sN -D "$tmp/default.head" -o "$tmp/default.body" "$url" &
curl_pid=$!
track_pid "$curl_pid"
wait_for "without a query string, a stream opens" 10 \
    grep -q '^retry: ' "$tmp/default.body"
sql "INSERT INTO events(data) VALUES('to default')"
wait_for "without a query string, the channel default streams" 10 \
    has_line "$tmp/default.body" "data: to default"
stop_pid "$curl_pid"

start_client repeated --url "$url" --channels multi1,multi2 --count 2 \
    --print ids --ready-file "$tmp/repeated.ready"
repeated_pid=$client_pid
start_client comma --url "$url?channel=multi1,multi2" --count 2 \
    --print ids --ready-file "$tmp/comma.ready"
wait_for "streams of two channels open" 10 \
    test -e "$tmp/repeated.ready" -a -e "$tmp/comma.ready"
sql "INSERT INTO events(channel, data) VALUES('multi1', 'a');
    INSERT INTO events(channel, data) VALUES('multi3', 'b');
    INSERT INTO events(channel, data) VALUES('multi2', 'c')"
expect_client_ok "channel=a&channel=b gets the events of both" \
    "$repeated_pid" repeated
expect_client_ok "channel=a,b gets the events of both" "$client_pid" comma
sql "SELECT id FROM events WHERE channel IN ('multi1', 'multi2')" \
    >"$tmp/multi.expected"
expect_same_lines "channel=a&channel=b: their ids, in order" \
    "$tmp/multi.expected" "$tmp/repeated.out"
expect_same_lines "channel=a,b: their ids, in order" \
    "$tmp/multi.expected" "$tmp/comma.out"

# Resume: three events live, a disconnection, 1000 more, then back.
start_client resume1 --url "$url" --channels resume --count 3 --print ids \
    --ready-file "$tmp/resume1.ready"
wait_for "a stream on channel resume opens" 10 test -e "$tmp/resume1.ready"
publish resume 3
expect_client_ok "it receives three events" "$client_pid" resume1
ids_of resume >"$tmp/resume1.expected"
expect_same_lines "the three ids" "$tmp/resume1.expected" "$tmp/resume1.out"
last=$(tail -n 1 "$tmp/resume1.out")
publish resume 500
publish other 10
publish resume 500 together
ids_of resume "$last" >"$tmp/resume.expected"
expect_eq "1000 events were published meanwhile" 1000 \
    "$(wc -l <"$tmp/resume.expected")"
start_client header --url "$url" --channels resume --last-event-id "$last" \
    --count 1000 --print ids
expect_client_ok "Last-Event-ID: $last resumes" "$client_pid" header
expect_same_lines "with exactly the 1000 new ids, in order" \
    "$tmp/resume.expected" "$tmp/header.out"
start_client query --url "$url?channel=resume&lastEventId=$last" \
    --count 1000 --print ids
expect_client_ok "lastEventId=$last resumes" "$client_pid" query
expect_same_lines "with exactly the 1000 new ids, in order" \
    "$tmp/resume.expected" "$tmp/query.out"
start_client both --url "$url?channel=resume&lastEventId=0" \
    --last-event-id "$last" --count 1000 --print ids
expect_client_ok "Last-Event-ID and lastEventId=0" "$client_pid" both
expect_same_lines "the header wins over the query parameter" \
    "$tmp/resume.expected" "$tmp/both.out"

# An id past the newest is from a log since reset or recreated: its client
# has seen none of this log, and gets a reset, then all of it.  Sent as a
# plain header, so the client does not hold the stream to it.
ids_of resume >"$tmp/future.expected"
start_client future --url "$url" --channels resume \
    --header "Last-Event-ID: 999999999" \
    --count "$(wc -l <"$tmp/future.expected")" --print ids
expect_client_ok "Last-Event-ID past the newest id gets the log from its beginning" \
    "$client_pid" future
expect_same_lines "every event of the channel, once, in order" \
    "$tmp/future.expected" "$tmp/future.out"

# Backlog: the last five events, then the live ones.
publish backlog 8
start_client backlog --url "$url?channel=backlog&backlog=5" --count 6 \
    --print ids --ready-file "$tmp/backlog.ready"
wait_for "a stream with backlog=5 opens" 10 test -e "$tmp/backlog.ready"
publish backlog 1
expect_client_ok "it receives six events" "$client_pid" backlog
ids_of backlog | tail -n 6 >"$tmp/backlog.expected"
expect_same_lines "backlog=5 sends the last five events of the channel first" \
    "$tmp/backlog.expected" "$tmp/backlog.out"

start_client clamp --url "$url?channel=resume&backlog=5000" --count 1001 \
    --print ids --ready-file "$tmp/clamp.ready"
wait_for "a stream with backlog=5000 opens" 10 test -e "$tmp/clamp.ready"
publish resume 1
expect_client_ok "it receives 1001 events" "$client_pid" clamp
ids_of resume | tail -n 1001 >"$tmp/clamp.expected"
expect_same_lines "backlog=5000 is clamped to --backlog-max (1000 by default)" \
    "$tmp/clamp.expected" "$tmp/clamp.out"

# Bad requests.
expect_error "a bad channel name" "?channel=bad%20name" 400
expect_error "an empty channel name" "?channel=" 400
expect_error "a channel of 65 bytes" "?channel=$(printf '%065d' 0)" 400
channels=$(seq -s , -f '%064g' 33)
expect_error "33 channels" "?channel=$channels" 400
start_client channels32 --url "$url?channel=${channels%,*}" --count 0
expect_client_ok "32 channels of 64 bytes are fine" "$client_pid" channels32
expect_error "a bad lastEventId" "?channel=news&lastEventId=abc" 400
expect_error "a bad Last-Event-ID header" "?channel=news" 400 -H "Last-Event-ID: 12abc"
expect_error "a bad backlog" "?channel=news&backlog=many" 400
expect_error "POST" "?channel=news" 405 -X POST -d x=1
expect_eq "POST: Allow: GET" GET "$(header Allow "$tmp/error.head")"

# The crowd: every stream receives the same events, in order.
start_client crowd --url "$url" --channels crowd \
    --concurrent "$deploy_streams" --count 500 --print ids --timeout 120 \
    --ready-file "$tmp/crowd.ready"
wait_for "$deploy_streams streams open" 60 test -e "$tmp/crowd.ready"
publish crowd 250
publish crowd 250 together
expect_client_ok "$deploy_streams streams each receive the 500 events" \
    "$client_pid" crowd
ids_of crowd >"$tmp/crowd.expected"
expect_same_lines "all 500, in order" "$tmp/crowd.expected" "$tmp/crowd.out"

# Succeeds when no litepush-sse serves the deployment.
no_sse_left()
{
	[ -z "$(deploy_sse_pids)" ]
}

# Succeeds when every process of $term_pids has exited.
term_pids_gone()
{
	for term_pid in $term_pids; do
		pid_gone "$term_pid" || return 1
	done
}

if [ "$deploy_per_request" = yes ]; then
	wait_for "the processes of the closed streams exit" 30 no_sse_left
fi

# SIGTERM: every stream gets a pause, then the processes exit.
start_client term --url "$url" --channels term --concurrent 5 \
    --until-pause --print pauses --ready-file "$tmp/term.ready"
wait_for "5 streams open" 10 test -e "$tmp/term.ready"
term_pids=$(deploy_sse_pids)
if [ "$deploy_per_request" = yes ]; then
	expect_eq "5 litepush-sse processes serve them" 5 \
	    "$(echo "$term_pids" | wc -w)"
else
	expect_eq "one litepush-sse process serves them" 1 \
	    "$(echo "$term_pids" | wc -w)"
fi
# shellcheck disable=SC2086
kill -TERM $term_pids
expect_client_ok "after SIGTERM each stream ends with a pause" "$client_pid" \
    term
expect_eq "5 pauses" 5 "$(wc -l <"$tmp/term.out")"
wait_for "litepush-sse exits after SIGTERM" 10 term_pids_gone
stop_stack

# --- --max-age 2: pauses ----------------------------------------------------

start_stack "$db" 1 2 1000

run timeout 30 curl -sN -o "$tmp/pause.body" "$url?channel=pause"
expect_eq "at --max-age the response ends" 0 "$run_status"
if tail -n 3 "$tmp/pause.body" | tr '\n' ' ' |
    grep -qx 'event: pause data: [0-9]* *'; then
	ok "with event: pause, data: a time"
else
	fail "with event: pause, data: a time" "event: pause, data: MS" \
	    "$(tail -n 3 "$tmp/pause.body")"
fi

start_client pause --url "$url" --channels pause --until-pause \
    --print pauses
expect_client_ok "a pause arrives at --max-age" "$client_pid" pause
read -r pause_at received_at <"$tmp/pause.out"
if [ "$pause_at" -ge $((received_at - 1000)) ] &&
    [ "$pause_at" -le $((received_at + 600000)) ]; then
	ok "the pause's time is in the next minutes, in unix ms"
else
	fail "the pause's time is in the next minutes, in unix ms" \
	    "$((received_at - 1000))..$((received_at + 600000))" "$pause_at"
fi

start_client follow --url "$url" --channels follow --last-event-id 0 \
    --follow-pause --count 20 --print json --ready-file "$tmp/follow.ready"
wait_for "a stream that follows pauses opens" 10 test -e "$tmp/follow.ready"
publish follow 10
wait_for "it is paused" 10 grep -q '"event": "pause"' "$tmp/follow.out"
publish follow 10
expect_client_ok "it reconnects at the pause's time and resumes" \
    "$client_pid" follow
ids_of follow >"$tmp/follow.expected"
grep -v '"event": "pause"' "$tmp/follow.out" | sed 's/^{"id": "\([0-9]*\)".*/\1/' \
    >"$tmp/follow.ids"
expect_same_lines "nothing lost or repeated across the pause" \
    "$tmp/follow.expected" "$tmp/follow.ids"
stop_stack

# --- --max-streams 2: full --------------------------------------------------

if [ "$deploy_per_request" = yes ]; then
	echo "# skip --max-streams: under CGI each stream is its own process"
else
	start_stack "$db" 1 600 2
	start_client full --url "$url" --channels full --concurrent 2 \
	    --count 1 --ready-file "$tmp/full.ready"
	wait_for "2 streams open" 10 test -e "$tmp/full.ready"
		expect_error "a third stream with --max-streams 2" "?channel=full" 503
	expect_refusals "20 more get litepush-sse's 503 with Retry-After" \
	    "?channel=full"
	publish full 1
	expect_client_ok "the two streams go on" "$client_pid" full

	# Succeeds when a stream opens.
	stream_opens()
	{
		"$PYTHON" "$client" --url "$url?channel=full" --count 0 \
		    --timeout 10
	}
	wait_for "once they close, a stream opens again" 10 stream_opens
	stop_stack
fi

# --- a database that is not there yet ---------------------------------------

start_stack "$tmp/later.db" 1 600 1000
expect_error "a missing database" "?channel=news" 503
expect_refusals "20 more get litepush-sse's 503 with Retry-After" \
    "?channel=news"
if [ -e "$tmp/later.db" ]; then
	fail "litepush-sse does not create the database" "no file" "a file"
else
	ok "litepush-sse does not create the database"
fi
"$litepush" init "$tmp/later.db" >/dev/null
if [ "$(id -u)" -eq 0 ]; then
	chown www-data:www-data "$tmp/later.db"
fi

# Succeeds when a stream on the new database opens.
later_opens()
{
	"$PYTHON" "$client" --url "$url?channel=news" --count 0 --timeout 10
}
wait_for "once the database exists, a stream opens" 30 later_opens
stop_stack

# On failure, the servers' own words help.
if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log; do
		echo "# --- $log"
		tail -n 30 "$log" | sed 's/^/# /'
	done
fi
finish
