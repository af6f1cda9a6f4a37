#!/bin/sh
# examples.sh: the deployment examples work as shipped.  apache.conf.example
# and lighttpd.conf.example are rendered (their Define / var.litepush_*
# lines rewritten, nothing else) and run, the daemons are started from
# contrib/systemd/*.service (paths and ports replaced, nothing else); then
# the pages, /stream and /ws are checked through each server with curl and
# ws_client.py, including a restart of each daemon.  The same stack in a
# browser: browser-lighttpd.sh, browser-apache.sh.

# Helpers called only through run and wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2 /usr/sbin/lighttpd
# shellcheck source=tests/stack_setup.sh
. "$top_srcdir/tests/stack_setup.sh"

# Runs ws_client.py (a WebSocket client) with the arguments.
ws_client()
{
	"$PYTHON" "$top_srcdir/tests/ws_client.py" "$@"
}

# Succeeds when a stream of channel $1 through the web server opens.
stream_opens()
{
	curl -s -N --max-time 2 "http://127.0.0.1:$stack_port/stream?channel=$1" |
	    grep -q '^retry:'
}

# Prints the status line of a WebSocket handshake for URL $1 with the
# extra header lines $2...
handshake_status()
{
	handshake_status_url=$1
	shift
	for handshake_status_header in "$@"; do
		set -- "$@" --header "$handshake_status_header"
		shift
	done
	ws_client handshake --url "$handshake_status_url" --origin auto "$@" \
	    2>/dev/null | head -n 1 | tr -d '\r'
}

# Succeeds when /ws through the web server upgrades.
ws_upgrades()
{
	ws_client handshake --url "ws://127.0.0.1:$stack_port/ws" \
	    --origin auto 2>/dev/null | grep -qx "accept ok"
}

# --- rendering ----------------------------------------------------------------

if stack_render_example "$top_srcdir/apache.conf.example" "$tmp/bad.conf" \
    LITEPUSH_NOT_THERE=1 2>"$tmp/render.err"; then
	fail "rendering refuses a name the example does not set" "failure" \
	    "success"
else
	expect_contains "rendering refuses a name the example does not set" \
	    "sets LITEPUSH_NOT_THERE on 0 lines" "$(cat "$tmp/render.err")"
fi

for unit in litepush-sse litepush-ws; do
	stack_render_unit "$unit"
	expect_eq "$unit.service: rendering changes paths and ports only" "" \
	    "$(diff "$top_srcdir/contrib/systemd/$unit.service" \
	    "$tmp/$unit.service" | grep '^[<>]' | sed 's/^[<>] //' |
	    grep -v -E '^(#|Environment=|ExecStart=|ReadWritePaths=)')"
	if command -v systemd-analyze >/dev/null 2>&1; then
		run systemd-analyze verify "$tmp/$unit.service"
		expect_eq "$unit.service: systemd-analyze verify finds nothing" \
		    "0:" "$run_status:$run_err"
	fi
done

# --- the daemons, from their units ---------------------------------------------

if stack_start_sse; then
	ok "litepush-sse starts from litepush-sse.service"
	sse_pid=$stack_sse_pid
	track_pid "$sse_pid"
else
	fail "litepush-sse starts from litepush-sse.service"
	finish
fi
expect_eq "its socket is not open to others (UMask=0007)" "srwxrwx---" \
    "$(stat -c %A "$stack_run/sse.sock")"
if stack_start_ws; then
	ok "litepush-ws starts from litepush-ws.service"
	ws_pid=$stack_ws_pid
	track_pid "$ws_pid"
else
	fail "litepush-ws starts from litepush-ws.service"
	finish
fi

# --- each web server -----------------------------------------------------------

for server in lighttpd apache; do
	stack_server_pid=
	stack_start_server "$server"
	server_status=$?
	[ -n "$stack_server_pid" ] && track_pid "$stack_server_pid"
	if [ "$server_status" -ne 0 ]; then
		fail "$server runs its example"
		continue
	fi
	ok "$server runs its example"
	case $server in
	apache)
		example=apache.conf.example rendered=apache-site.conf
		;;
	*)
		example=lighttpd.conf.example rendered=lighttpd.conf
		;;
	esac
	expect_eq "$server: the rendered example differs only in its settings" "" \
	    "$(diff "$top_srcdir/$example" "$tmp/$rendered" | grep '^[<>]' |
	    grep -v -E '^[<>] (Define LITEPUSH_|var\.litepush_)')"
	site=http://127.0.0.1:$stack_port

	# The pages.
	for page in / /index.html /ws.html /chat.html /litepush.js /demo.js \
	    /style.css; do
		run curl -s -o "$tmp/page.body" -D "$tmp/page.head" \
		    -w '%{http_code}' "$site$page"
		expect_eq "$server: GET $page" 200 "$run_out"
		case $page in
		*.js) type=text/javascript ;;
		*.css) type=text/css ;;
		*) type=text/html ;;
		esac
		expect_contains "$server: $page is $type" "$type" \
		    "$(header Content-Type "$tmp/page.head")"
		file=${page#/}
		if cmp -s "$tmp/page.body" "$stack_www/${file:-index.html}"; then
			ok "$server: $page is www/${file:-index.html}"
		else
			fail "$server: $page is www/${file:-index.html}" \
			    "the file" "$(head -c 200 "$tmp/page.body")"
		fi
	done
	if [ "$server" = apache ]; then
		curl -s -o /dev/null -D "$tmp/page.head" \
		    -H 'Accept-Encoding: gzip, br' "$site/litepush.js"
		expect_eq "apache: the server compresses pages (so the next check means something)" \
		    br "$(header Content-Encoding "$tmp/page.head")"
	fi

	# A stream, asked for with compression.  Note that curl creates its
	# output files only when the response comes: each server has its own.
	channel=example_$server
	curl -s -N -H 'Accept-Encoding: gzip, br' -D "$tmp/stream-$server.head" \
	    -o "$tmp/stream-$server.body" "$site/stream?channel=$channel" &
	curl_pid=$!
	track_pid "$curl_pid"
	wait_for "$server: /stream opens" 20 \
	    grep -q '^retry: ' "$tmp/stream-$server.body"
	run sqlite3 -cmd ".timeout 10000" "$db" "INSERT INTO events(channel,
	    event, data) VALUES('$channel', 'add', 'through $server')"
	expect_eq "$server: the sqlite3 shell publishes" "0:" \
	    "$run_status:$run_err"
	wait_for "$server: a row INSERTed by sqlite3 arrives on /stream" 20 \
	    has_line "$tmp/stream-$server.body" "data: through $server"
	expect_eq "$server: /stream is text/event-stream" \
	    "text/event-stream; charset=utf-8" \
	    "$(header Content-Type "$tmp/stream-$server.head")"
	expect_eq "$server: /stream is not compressed" "" \
	    "$(header Content-Encoding "$tmp/stream-$server.head")"

	# WebSocket: the page's own Origin, another, publishing.
	run ws_client handshake --url "ws://127.0.0.1:$stack_port/ws" \
	    --origin auto
	expect_contains "$server: /ws upgrades a request from the site's own Origin" \
	    "accept ok" "$run_out"
	run ws_client handshake --url "ws://127.0.0.1:$stack_port/ws" \
	    --origin http://elsewhere.example
	expect_contains "$server: /ws refuses another Origin" "HTTP/1.1 403" \
	    "$run_out"
	run ws_client publish --url "ws://127.0.0.1:$stack_port/ws" \
	    --channels news --origin auto \
	    --send '{"channel":"chat","event":"msg","data":"over /ws"}' \
	    --send '{"channel":"clock","data":"not allowed"}'
	expect_eq "$server: /ws publishes to chat, not to clock (LITEPUSH_PUBLISH of the unit)" \
	    "reply {\"ack\":N}
reply error" "$(printf '%s\n' "$run_out" | sed 's/[0-9][0-9]*/N/')"

	# The login-protected part: the page, its stream, and the header
	# litepush-ws trusts (LITEPUSH_USER_HEADER of its unit), which a
	# client must not be able to send.
	expect_eq "$server: /private.html asks for a login" 401 \
	    "$(status_and_reason - "$site/private.html" | cut -d' ' -f1)"
	expect_eq "$server: a wrong password is refused" 401 \
	    "$(curl -s -o /dev/null -w '%{http_code}' -u alice:wrong \
	        "$site/private.html")"
	run curl -s -u alice:alice-secret "$site/private.html"
	expect_contains "$server: /private.html names the login (a server-side include)" \
	    '<strong class="mono" id="login">alice</strong>' "$run_out"
	curl -s -N -u alice:alice-secret -o "$tmp/private-$server.body" \
	    "$site/private/stream?channel=user.alice" &
	curl_private_pid=$!
	track_pid "$curl_private_pid"
	wait_for "$server: alice's /private/stream on user.alice opens" 20 \
	    grep -q '^retry: ' "$tmp/private-$server.body"
	sql "INSERT INTO events(channel, data) VALUES('user.alice', 'for alice through $server')"
	wait_for "$server: alice gets the row INSERTed for her" 20 \
	    has_line "$tmp/private-$server.body" "data: for alice through $server"
	stop_pid "$curl_private_pid"
	expect_eq "$server: bob asking for user.alice gets 403" \
	    '403 channel "user.alice" is not open to this login' \
	    "$(status_and_reason bob "$site/private/stream?channel=user.alice")"
	expect_eq "$server: nobody asking for user.alice on /stream gets 401" \
	    '401 channel "user.alice" needs a login' \
	    "$(status_and_reason - "$site/stream?channel=user.alice")"
	expect_eq "$server: a client's own X-Remote-User does not reach litepush-ws on /ws" \
	    "HTTP/1.1 401 Unauthorized" \
	    "$(handshake_status "ws://127.0.0.1:$stack_port/ws?channel=user.alice" \
	        "X-Remote-User: alice")"
	expect_eq "$server: nor two copies of it" "HTTP/1.1 401 Unauthorized" \
	    "$(handshake_status "ws://127.0.0.1:$stack_port/ws?channel=user.alice" \
	        "X-Remote-User: alice" "x-remote-user: alice")"
	expect_eq "$server: the same header sent to litepush-ws directly is a login (so the checks above mean something)" \
	    "HTTP/1.1 101 Switching Protocols" \
	    "$(handshake_status "ws://127.0.0.1:$stack_ws_port/ws?channel=user.alice" \
	        "X-Remote-User: alice")"
	if [ "$server" = apache ]; then
		expect_eq "apache: alice's /private/ws on user.alice upgrades" \
		    "HTTP/1.1 101 Switching Protocols" \
		    "$(handshake_status "ws://127.0.0.1:$stack_port/private/ws?channel=user.alice" \
		        "$(basic alice)")"
		expect_eq "apache: bob claiming to be alice on /private/ws gets 403" \
		    "HTTP/1.1 403 Forbidden" \
		    "$(handshake_status "ws://127.0.0.1:$stack_port/private/ws?channel=user.alice" \
		        "$(basic bob)" "X-Remote-User: alice")"
	fi

	# The daemons restart under the running server: it reaches them again
	# at once (Apache: retry=0), not after a minute of 503s.
	kill -KILL "$sse_pid"
	poll_until 10 pid_gone "$sse_pid"
	untrack_pid "$sse_pid"
	stack_start_sse || fail "$server: litepush-sse starts again"
	sse_pid=$stack_sse_pid
	track_pid "$sse_pid"
	wait_for "$server: after litepush-sse is killed and started again, /stream opens" \
	    20 stream_opens "$channel"
	stop_pid "$ws_pid"
	stack_start_ws || fail "$server: litepush-ws starts again"
	ws_pid=$stack_ws_pid
	track_pid "$ws_pid"
	wait_for "$server: after litepush-ws is stopped and started again, /ws upgrades" \
	    20 ws_upgrades

	stop_pid "$curl_pid"
	if stop_pid "$stack_server_pid"; then
		ok "$server stops on SIGTERM"
	else
		fail "$server stops on SIGTERM" "exit within 10 s" "SIGKILL needed"
	fi
done

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log; do
		echo "# --- $log"
		tail -n 20 "$log" | sed 's/^/# /'
	done
fi
finish
