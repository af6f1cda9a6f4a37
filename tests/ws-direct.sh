#!/bin/sh
# ws-direct.sh: litepush-ws on its own, with clients connecting straight to
# it: events, resume, publish (to WebSockets and to litepush-sse's SSE), the
# handshake and its errors, Origin rules, every close code, limits,
# timeouts, a missing store, a unix socket, SIGTERM, resuming while events
# are published, a slow reader and a thousand connections.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"

require_command cgi-fcgi timeout

port=$(free_port)
url=ws://127.0.0.1:$port/ws
ws_log=ws
start_ws --listen "127.0.0.1:$port" --publish 'chat_*' --publish room
wait_for "litepush-ws listens on 127.0.0.1:$port" 10 port_listens "$port"

# The SSE responder on the same store, for the cross-transport check.
ws_sse_port=$(free_port)
"$top_builddir/fcgi/litepush-sse" --db "$db" \
    --listen "127.0.0.1:$ws_sse_port" 2>"$test_tmpdir/sse.err" &
sse_pid=$!
track_pid "$sse_pid"
wait_for "litepush-sse listens" 10 port_listens "$ws_sse_port"

# Opens an SSE stream of channel $2 through cgi-fcgi (a FastCGI client),
# output to $test_tmpdir/$1.out; sets $sse_reader_pid; returns once it is
# open.
start_sse_reader()
{
	# Note that cgi-fcgi ignores SIGTERM: timeout sends it SIGKILL.
	REQUEST_METHOD=GET QUERY_STRING="channel=$2" SERVER_PROTOCOL=HTTP/1.1 \
	    timeout -k 1 60 cgi-fcgi -bind -connect "127.0.0.1:$ws_sse_port" \
	    >"$test_tmpdir/$1.out" 2>"$test_tmpdir/$1.err" &
	sse_reader_pid=$!
	track_pid "$sse_reader_pid"
	wait_for "$1: the SSE stream is open" 10 \
	    grep -q '^retry:' "$test_tmpdir/$1.out"
}

# --- events, resume, publish --------------------------------------------------

scenario_subscribe direct "$url"
scenario_resume direct "$url"
scenario_publish direct "$url"
if stop_pid "$sse_pid"; then
	ok "litepush-sse exits on SIGTERM"
else
	fail "litepush-sse exits on SIGTERM" "exit within 10 s" "SIGKILL needed"
fi

run ws_client publish --url "$url" --channels news \
    --send '{"channel":"room","data":"a glob without a wildcard"}' \
    --send '{"channel":"rooms","data":"no"}' \
    --send '{"channel":"bad channel","data":"no"}' \
    --send '{"channel":"room","event":"a\nb","data":"no"}' \
    --send '{"channel":"room","data":"still open"}'
expect_eq "--publish room allows room, not rooms; a bad channel or event name is an error" \
    "reply {\"ack\":N}
reply error
reply error
reply error
reply {\"ack\":N}" "$(printf '%s\n' "$run_out" | sed 's/[0-9][0-9]*/N/')"

# --- the handshake ------------------------------------------------------------

run ws_client handshake --url "$url" --channels news \
    --key dGhlIHNhbXBsZSBub25jZQ==
expect_status "a valid handshake gets 101" 101
expect_eq "with RFC 6455's Sec-WebSocket-Accept for its key" \
    s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \
    "$(http_header "$run_out" sec-websocket-accept)"
expect_eq "and Upgrade: websocket" websocket \
    "$(http_header "$run_out" upgrade | tr '[:upper:]' '[:lower:]')"
run ws_client handshake --url "$url" --connection "keep-alive, Upgrade"
expect_status "Connection: keep-alive, Upgrade (Firefox's) gets 101" 101
run ws_client handshake --url "$url" --connection "keep-alive,upgrade" \
    --header "Upgrade: WebSocket"
expect_contains "Connection and Upgrade values are case-insensitive" \
    "accept ok" "$run_out"

# Checks that a handshake with the arguments gets status $2 and a one-line
# reason as its body.
expect_refusal()
{
	expect_refusal_desc=$1
	expect_refusal_status=$2
	shift 2
	run ws_client handshake --url "$url" "$@"
	expect_status "$expect_refusal_desc gets $expect_refusal_status" \
	    "$expect_refusal_status"
	refusal_body=$(http_body "$run_out")
	if [ -n "$refusal_body" ] && [ "$(printf '%s\n' "$refusal_body" |
	    wc -l)" -eq 1 ]; then
		ok "$expect_refusal_desc: with a one-line reason"
	else
		fail "$expect_refusal_desc: with a one-line reason" \
		    "one line of text" "$run_out"
	fi
}

expect_refusal "Sec-WebSocket-Version: 8" 426 --version 8
expect_eq "426 says Sec-WebSocket-Version: 13" 13 \
    "$(http_header "$run_out" sec-websocket-version)"
run ws_client handshake --url "$url" --version none
case $(http_status "$run_out") in
400 | 426)
	ok "no Sec-WebSocket-Version gets 400 or 426"
	;;
*)
	fail "no Sec-WebSocket-Version gets 400 or 426" "400 or 426" "$run_out"
	;;
esac
run ws_client handshake --url "$url" --no-upgrade
case $(http_status "$run_out") in
4??)
	ok "a GET without Upgrade and Connection is refused (4xx)"
	;;
*)
	fail "a GET without Upgrade and Connection is refused (4xx)" "4xx" \
	    "$run_out"
	;;
esac
expect_refusal "no Sec-WebSocket-Key" 400 --no-key
expect_refusal "a Sec-WebSocket-Key that is not 16 bytes in base64" 400 \
    --key "bm90IDE2IGJ5dGVz"
expect_refusal "a POST" 400 --method POST
expect_refusal "a bad channel" 400 --channels "bad channel"
expect_refusal "a bad lastEventId" 400 --url "$url?lastEventId=x"

# --- Origin -------------------------------------------------------------------

scenario_origin direct "$url"
run ws_client handshake --url "$url" --origin none
expect_status "a request without Origin (not a browser) is accepted" 101
run ws_client handshake --url "$url" --origin "http://127.0.0.1:$port.evil.example"
expect_status "an Origin that only starts with the Host gets 403" 403
# DNS rebinding: a page at rebind.attacker.example, its name re-pointed at
# 127.0.0.1, sends an Origin and a Host that agree.  Without --origin only
# loopback names are browsers' origins litepush-ws takes.
run ws_client handshake --url "$url" --host "rebind.attacker.example:$port" \
    --origin "http://rebind.attacker.example:$port"
expect_status "without --origin, an Origin naming the Host but not loopback gets 403 (DNS rebinding)" 403
for loopback in "http://localhost:3000" "https://127.0.0.2" "http://[::1]:$port"; do
	run ws_client handshake --url "$url" --host "elsewhere.example" \
	    --origin "$loopback"
	expect_status "without --origin, the loopback Origin $loopback is accepted, whatever the Host" 101
done

origin_port=$(free_port)
ws_log=origin
start_ws --listen "127.0.0.1:$origin_port" \
    --origin http://allowed.example
wait_for "litepush-ws --origin http://allowed.example listens" 10 \
    port_listens "$origin_port"
run ws_client handshake --url "ws://127.0.0.1:$origin_port/" \
    --origin http://allowed.example
expect_status "--origin http://allowed.example accepts that Origin" 101
run ws_client handshake --url "ws://127.0.0.1:$origin_port/" \
    --origin http://evil.example
expect_status "and refuses another with 403" 403
stop_pid "$ws_pid"

# --- frames -------------------------------------------------------------------

scenario_frames direct "$url"

# Checks that `ws_client.py raw --case $2` gets exactly $3.
expect_frames()
{
	run ws_client raw --url "$url" --channels raw --case "$2"
	expect_out "$1" "$3"
}

expect_frames "a ping sent a byte at a time (after such a handshake) gets its pong" \
    bytewise "pong litepush ✓
close 1000"
expect_frames "a ping in the same write as the request gets its pong" \
    eager "pong litepush ✓
close 1000"
expect_frames "a ping of 125 bytes (the most) gets its pong" ping-125 \
    "pong $(printf '%0125d' 0 | tr 0 p)
close 1000"
expect_frames "an unsolicited pong is ignored" unsolicited-pong \
    "pong asked
close 1000"
expect_frames "a close is answered with a close" close "close 1000"
expect_frames "a close with code 999 (invalid) gets close 1002" \
    close-bad-code "close 1002"
expect_frames "a close with a 1-byte payload gets close 1002" \
    close-one-byte "close 1002"
# RFC 6455's codes a peer may send, and those IANA registered since (1012
# service restart, 1013 try again later, 1014 bad gateway), are echoed;
# the reserved ones (1004-1006, 1015, under 1000, 1016-2999) get 1002.
for code in 1000 1001 1002 1003 1007 1008 1009 1010 1011 1012 1013 1014 3000 4999; do
	run ws_client raw --url "$url" --channels raw --case close-code --code "$code"
	expect_out "a close with code $code is echoed" "close $code"
done
for code in 999 1004 1005 1006 1015 1016 2999 5000; do
	run ws_client raw --url "$url" --channels raw --case close-code --code "$code"
	expect_out "a close with code $code gets close 1002" "close 1002"
done
expect_frames "a message of 65537 bytes (over --max-message) gets close 1009" \
    oversized "close 1009"
expect_frames "65537 bytes in fragments of 16 KiB get close 1009" \
    oversized-fragments "close 1009"
expect_frames "RSV1 without an extension gets close 1002" rsv1 "close 1002"
expect_frames "RSV3 on a ping gets close 1002" rsv3 "close 1002"
expect_frames "reserved opcode 3 gets close 1002" opcode "close 1002"
expect_frames "reserved control opcode 11 gets close 1002" control-opcode \
    "close 1002"
expect_frames "a ping of 126 bytes gets close 1002" big-control "close 1002"
expect_frames "a fragmented ping gets close 1002" fragmented-ping "close 1002"
expect_frames "a continuation frame with no message begun gets close 1002" \
    continuation-first "close 1002"
expect_frames "a text frame inside a fragmented message gets close 1002" \
    text-in-fragments "close 1002"
expect_frames "invalid UTF-8 across fragments gets close 1007" \
    bad-utf8-fragments "close 1007"
expect_frames "a text message that is not JSON gets an error, not a close" \
    text "text error
close 1000"

run ws_client raw --url "$url" --channels raw --case fragments \
    --publish-channel room
case $run_out in
"pong between
text {\"ack\":"*"}
close 1000")
	ok "a message in 3 fragments, a ping between, is published (ack)"
	;;
*)
	fail "a message in 3 fragments, a ping between, is published (ack)" \
	    "pong between, text {\"ack\":N}, close 1000" "$run_out"
	;;
esac
run ws_client raw --url "$url" --channels raw --case utf8-split \
    --publish-channel room --data "price: €"
case $run_out in
"text {\"ack\":"*"}
close 1000")
	ok "a character cut between two fragments is valid UTF-8 (ack)"
	;;
*)
	fail "a character cut between two fragments is valid UTF-8 (ack)" \
	    "text {\"ack\":N}, close 1000" "$run_out"
	;;
esac
expect_eq "and stored whole" "price: €" \
    "$(sqlite3 "$db" "SELECT data FROM events WHERE channel = 'room'
        ORDER BY id DESC LIMIT 1")"

# --- limits and timeouts ------------------------------------------------------

full_port=$(free_port)
ws_log=full
start_ws --listen "127.0.0.1:$full_port" --max-conns 2
wait_for "litepush-ws --max-conns 2 listens" 10 port_listens "$full_port"
start_collect full-holders --url "ws://127.0.0.1:$full_port/" \
    --concurrent 2 --until-close --timeout 60
expect_refusal "with --max-conns 2 and 2 open, a third" 503 \
    --url "ws://127.0.0.1:$full_port/"
stop_pid "$collect_pid"
wait_for "once they close, a new connection is accepted" 10 \
    upgrades "ws://127.0.0.1:$full_port/"
stop_pid "$ws_pid"

idle_port=$(free_port)
LITEPUSH_PING=1
LITEPUSH_HANDSHAKE_TIMEOUT=1
export LITEPUSH_PING LITEPUSH_HANDSHAKE_TIMEOUT
ws_log=idle
start_ws --listen "127.0.0.1:$idle_port"
unset LITEPUSH_PING LITEPUSH_HANDSHAKE_TIMEOUT
wait_for "litepush-ws with LITEPUSH_PING=1 listens" 10 \
    port_listens "$idle_port"
run ws_client raw --url "ws://127.0.0.1:$idle_port/" --case answer-pings \
    --pings 3
expect_out "a client that answers pings is pinged, and kept, 3 times" \
    "pings 3 open"
run ws_client raw --url "ws://127.0.0.1:$idle_port/" --case ignore-pings
case $run_out in
"pings 1 close "* | "pings 1 eof")
	ok "a client that never answers is pinged, then closed"
	;;
*)
	fail "a client that never answers is pinged, then closed" \
	    "pings 1 close CODE (or eof)" "$run_out"
	;;
esac
run ws_client raw --url "ws://127.0.0.1:$idle_port/" --case silent
case $run_out in
eof*)
	ok "a connection that sends no handshake is closed (LITEPUSH_HANDSHAKE_TIMEOUT)"
	;;
*)
	fail "a connection that sends no handshake is closed (LITEPUSH_HANDSHAKE_TIMEOUT)" \
	    "eof" "$run_out"
	;;
esac
stop_pid "$ws_pid"

# --- starting -----------------------------------------------------------------

run timeout 10 "$ws_bin" --listen "127.0.0.1:$port" --db "$db"
expect_eq "litepush-ws on a port in use exits 1" 1 "$run_status"
expect_contains "and says why" "litepush-ws: " "$run_err"
run timeout 10 "$ws_bin" --listen "127.0.0.1:$port"
expect_eq "litepush-ws without --db is a usage error (exit 2)" 2 "$run_status"

# Note that the daemons never create the store: a missing one gets 503
# until it appears.
later_port=$(free_port)
ws_log=later
start_ws --listen "127.0.0.1:$later_port" --db "$test_tmpdir/later.db"
wait_for "litepush-ws of a store not created yet listens" 10 \
    port_listens "$later_port"
run ws_client handshake --url "ws://127.0.0.1:$later_port/"
expect_status "and answers 503 meanwhile" 503
"$litepush" init "$test_tmpdir/later.db" >/dev/null
wait_for "and 101 once it is created" 10 \
    upgrades "ws://127.0.0.1:$later_port/"
stop_pid "$ws_pid"

# --- a unix socket, and SIGTERM -----------------------------------------------

socket=$test_tmpdir/ws.sock
ws_log=unix
start_ws --listen "unix:$socket"
unix_pid=$ws_pid
wait_for "litepush-ws listens on unix:$socket" 10 test -S "$socket"
start_collect unix --unix "$socket" --url ws://localhost/ws --channels news \
    --concurrent 20 --until-close --print close --timeout 60
publish_sql "INSERT INTO events(channel, data) VALUES('news', 'over unix')"
run ws_client collect --unix "$socket" --url ws://localhost/ws \
    --channels news --backlog 1 --count 1 --print json
expect_contains "events arrive over the unix socket" '"data":"over unix"}' \
    "$run_out"
kill -TERM "$unix_pid"
wait_for "on SIGTERM litepush-ws exits" 10 pid_gone "$unix_pid"
wait "$unix_pid"
expect_eq "with status 0" 0 "$?"
untrack_pid "$unix_pid"
end_collect unix "$collect_pid"
expect_eq "every client got close 1001 (going away)" "20 close 1001" \
    "$(sort "$test_tmpdir/unix.out" | uniq -c | sed 's/^ *//')"

# --- resuming while events are published --------------------------------------

# The client catches up on 5000 events from the store while 1000 more are
# committed one by one: wherever catching up meets the live events, each
# must come once, in order.
before=$(last_id)
publish_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
        WHERE i < 5000)
    INSERT INTO events(channel, data) SELECT 'race', 'old ' || i FROM n"
"$PYTHON" "$client" collect --url "$url" --channels race \
    --last-event-id "$before" --count 6000 --print ids --timeout 60 \
    >"$test_tmpdir/race.out" 2>"$test_tmpdir/race.err" &
race_pid=$!
track_pid "$race_pid"
insert_sql race 1000 new | publish_sql
end_collect race "$race_pid"
expect_eq "resuming while 1000 events are committed gets all 6000 once, in order" \
    "$(expected_ids "$before" race)" "$(cat "$test_tmpdir/race.out")"

# --- a slow reader ------------------------------------------------------------

# 16 MB of events, more than the socket buffers hold: a client that reads
# nothing must not hold up another (which gets them all while it waits),
# and must get them all once it reads.
start_collect slow --url "$url" --channels slow --count 4000 --print ids \
    --hold-until "$test_tmpdir/go" --timeout 120
slow_pid=$collect_pid
start_collect fast --url "$url" --channels slow --count 4000 --print ids \
    --timeout 120
publish_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
        WHERE i < 4000)
    INSERT INTO events(channel, data)
    SELECT 'slow', i || ' ' || replace(hex(zeroblob(2000)), '0', 'x') FROM n"
end_collect fast "$collect_pid"
: >"$test_tmpdir/go"
end_collect slow "$slow_pid"
expect_eq "once it reads, it gets every event, once, in order" \
    "$(expected_ids 0 slow)" "$(cat "$test_tmpdir/slow.out")"
expect_eq "as did the other" \
    "$(expected_ids 0 slow)" "$(cat "$test_tmpdir/fast.out")"

# --- a thousand connections ---------------------------------------------------

scenario_thousand direct "$url"

expect_no_sanitizer_report

finish
