#!/bin/sh
# access-ws.sh: private channels for litepush-ws from Apache's login:
# mod_auth_basic on /private/ws, the user passed on by mod_headers in
# X-Remote-User (set on every request, so a client's own copy never gets
# through) and trusted by litepush-ws --user-header X-Remote-User, under
# --private 'user.{user}'.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"
require_command /usr/sbin/apache2 htpasswd

tmp=$test_tmpdir
htpasswd -b -c "$tmp/htpasswd" alice alice-secret >/dev/null 2>&1 &&
    htpasswd -b "$tmp/htpasswd" bob bob-secret >/dev/null 2>&1 || exit 99
chmod 644 "$tmp/htpasswd"

# Prints the Authorization header line for user $1 (password $1-secret).
basic()
{
	printf 'Authorization: Basic %s' \
	    "$(printf '%s:%s-secret' "$1" "$1" | base64)"
}

# Runs a handshake for URL $2 with the header lines $3...; checks that the
# answer's status is $1 and, for a refusal, that its one-line body is $4
# (pass "" for none to check).
expect_handshake()
{
	expect_handshake_desc=$1 expect_handshake_status=$2
	expect_handshake_url=$3 expect_handshake_body=$4
	shift 4
	run ws_client handshake --url "$expect_handshake_url" "$@"
	expect_status "$expect_handshake_desc" "$expect_handshake_status"
	if [ -n "$expect_handshake_body" ]; then
		expect_eq "$expect_handshake_desc: saying why" \
		    "$expect_handshake_body" "$(http_body "$run_out")"
	fi
}

ws_port=$(free_port)
ws_log=ws
start_ws --listen "127.0.0.1:$ws_port" --private 'user.{user}' \
    --user-header X-Remote-User
wait_for "litepush-ws --user-header X-Remote-User listens" 10 \
    port_listens "$ws_port"
start_apache "$top_srcdir/tests/conf/apache-ws-auth.conf.in" \
    WSPORT="$ws_port" && ok "Apache with the login listens"
site=ws://127.0.0.1:$apache_port

expect_handshake "alice through the login gets user.alice" 101 \
    "$site/private/ws?channel=user.alice" "" --header "$(basic alice)"
expect_handshake "bob through the login gets 403 for user.alice" 403 \
    "$site/private/ws?channel=user.alice" \
    'channel "user.alice" is not open to this login' --header "$(basic bob)"
expect_handshake "nobody gets 401 for user.alice" 401 \
    "$site/ws?channel=user.alice" 'channel "user.alice" needs a login'
expect_handshake "a client's own X-Remote-User does not get through Apache" \
    401 "$site/ws?channel=user.alice" 'channel "user.alice" needs a login' \
    --header "X-Remote-User: alice"
expect_handshake "nor past the login: bob claiming to be alice gets 403" 403 \
    "$site/private/ws?channel=user.alice" \
    'channel "user.alice" is not open to this login' \
    --header "$(basic bob)" --header "X-Remote-User: alice"
expect_handshake "a public channel needs no login" 101 \
    "$site/ws?channel=news" ""
expect_handshake "a wrong password is refused by Apache" 401 \
    "$site/private/ws?channel=user.alice" "" \
    --header "Authorization: Basic $(printf 'alice:wrong' | base64)"

# alice's WebSocket gets her row, through Apache.
"$PYTHON" -c '
import asyncio, json, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1],
            extra_headers={"Authorization": sys.argv[2]}) as ws:
        print("open", flush=True)
        print(json.loads(await ws.recv())["data"], flush=True)
asyncio.run(asyncio.wait_for(main(), 30))
' "$site/private/ws?channel=user.alice" "$(basic alice | sed 's/^[^:]*: //')" \
    >"$tmp/alice.out" 2>"$tmp/alice.err" &
alice_pid=$!
track_pid "$alice_pid"
wait_for "alice's WebSocket opens" 10 grep -qx open "$tmp/alice.out"
sqlite3 "$db" "INSERT INTO events(channel, data) VALUES('user.bob', 'for bob');
    INSERT INTO events(channel, data) VALUES('user.alice', 'for alice')"
wait "$alice_pid"
untrack_pid "$alice_pid"
expect_eq "and gets the row for her, not bob's" "open
for alice" "$(cat "$tmp/alice.out")"

expect_contains "refusals are logged with the peer and the channel" \
    "refuse 127.0.0.1" "$(grep 'refuse.*user.alice.*403' "$tmp/ws.log")"
if grep -q 'secret\|Basic' "$tmp/ws.log"; then
	fail "no credential appears in the log" "none" \
	    "$(grep 'secret\|Basic' "$tmp/ws.log")"
else
	ok "no credential appears in the log"
fi

# Without --user-header the header is not trusted even when sent directly.
stop_pid "$ws_pid"
ws_log=ws2
start_ws --listen "127.0.0.1:$ws_port" --private 'user.{user}'
wait_for "litepush-ws without --user-header listens" 10 port_listens "$ws_port"
expect_handshake "without --user-header, X-Remote-User is no login" 401 \
    "ws://127.0.0.1:$ws_port/ws?channel=user.alice" \
    'channel "user.alice" needs a login' --header "X-Remote-User: alice"
# Signed grants: --jwt-key, tokens minted by python3-jwt.
stop_pid "$ws_pid"
printf 'the application secret\n' >"$tmp/jwt.key"
printf 'another secret' >"$tmp/other.key"
ws_log=ws3
start_ws --listen "127.0.0.1:$ws_port" --private 'room.*' --jwt-key "$tmp/jwt.key"
wait_for "litepush-ws --jwt-key listens" 10 port_listens "$ws_port"
direct=ws://127.0.0.1:$ws_port/ws

room=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"]}}' HS256 "$tmp/jwt.key")
expect_handshake "a grant for room.* in token= opens room.1" 101 \
    "$direct?channel=room.1&token=$room" ""
expect_handshake "and as Authorization: Bearer" 101 "$direct?channel=room.1" "" \
    --header "Authorization: Bearer $room"
expect_handshake "and as the cookie litepush_token" 101 "$direct?channel=room.1" "" \
    --header "Cookie: theme=dark; litepush_token=$room"
expect_handshake "without a token room.1 needs a login" 401 \
    "$direct?channel=room.1" 'channel "room.1" needs a login'
expect_handshake "an expired token gets 401 saying so" 401 \
    "$direct?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": -10}' HS256 "$tmp/jwt.key")" \
    'the token has expired'
expect_handshake "a token signed with another key gets 401" 401 \
    "$direct?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": 3600}' HS256 "$tmp/other.key")" \
    'bad token: not signed with the key'
expect_handshake "an unsigned token (alg none) gets 401" 401 \
    "$direct?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"]}}' none -)" ""
if grep -q "$room" "$tmp/ws3.log"; then
	fail "no token appears in the log" "none" "$(grep -c . "$tmp/ws3.log") lines"
else
	ok "no token appears in the log"
fi
short=$(jwt_mint '{"sub": "carol", "exp": 2, "litepush": {"subscribe": ["room.*"]}}' HS256 "$tmp/jwt.key")
"$PYTHON" -c '
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        print("open", flush=True)
        try:
            while True:
                await ws.recv()
        except websockets.exceptions.ConnectionClosed as closed:
            print("closed", closed.code, closed.reason, flush=True)
asyncio.run(asyncio.wait_for(main(), 30))
' "$direct?channel=room.1&token=$short" >"$tmp/short.out" 2>"$tmp/short.err" &
short_pid=$!
track_pid "$short_pid"
wait "$short_pid"
untrack_pid "$short_pid"
expect_eq "a WebSocket whose grant runs out is closed with 4001" "open
closed 4001 grant expired" "$(cat "$tmp/short.out")"

expect_no_sanitizer_report

finish
