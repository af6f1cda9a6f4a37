#!/bin/sh
# access-ws.sh: private channels for litepush-ws from Apache's login:
# mod_auth_basic on /private/ws, the user passed on by mod_headers in
# X-Remote-User (set on every request, so a client's own copy never gets
# through) and trusted by litepush-ws --user-header X-Remote-User, under
# --private 'user.{user}'; then publishing by the same rules (--publish
# with {user}, a grant's publish list), each event recording its sender.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"
require_command /usr/sbin/apache2 htpasswd

tmp=$test_tmpdir
login_users "$tmp/htpasswd"

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
expect_eq "the 401 challenges for a grant (Bearer), not a password" \
    'www-authenticate: Bearer realm="litepush"' \
    "$(printf '%s\n' "$run_out" | grep -i '^www-authenticate:')"
expect_eq "a 403 carries no challenge" "" \
    "$(ws_client handshake --url "$site/private/ws?channel=user.alice" \
        --header "$(basic bob)" 2>/dev/null | grep -i '^www-authenticate:')"
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
        frame = json.loads(await ws.recv())
        while "data" not in frame:  # the position first
            frame = json.loads(await ws.recv())
        print(frame["data"], flush=True)
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

# --- publish rights per user -------------------------------------------------

# Publishes over WebSocket URL $1 with the header line $2 ("" for none):
# sends each message $3... in order, prints each reply ("ack" or the
# error), then for every message acked on a channel the connection
# follows, the "user" of the event as it came back ("-" when absent).
publish_as()
{
	"$PYTHON" -c '
import asyncio, json, sys, websockets
async def main():
    url, header, messages = sys.argv[1], sys.argv[2], sys.argv[3:]
    headers = {}
    if header:
        name, value = header.split(": ", 1)
        headers[name] = value
    async with websockets.connect(url, extra_headers=headers) as ws:
        for m in messages:
            await ws.send(m)
        replies, events, acked = [], {}, []
        while len(replies) < len(messages) or any(i not in events for i in acked):
            frame = json.loads(await ws.recv())
            if "ack" in frame:
                replies.append("ack")
                acked.append(frame["ack"])
            elif "error" in frame:
                replies.append(frame["error"])
            elif "id" in frame:
                events[frame["id"]] = frame.get("user", "-")
        for r in replies:
            print(r)
        for i in acked:
            print("user", events[i])
asyncio.run(asyncio.wait_for(main(), 30))
' "$@"
}

stop_pid "$ws_pid"
ws_log=ws-publish
start_ws --listen "127.0.0.1:$ws_port" --private 'user.{user}' \
    --user-header X-Remote-User --publish 'chat,inbox.{user},user.*'
wait_for "litepush-ws --publish 'chat,inbox.{user},user.*' listens" 10 \
    port_listens "$ws_port"
expect_eq "alice publishes to chat, to her inbox and her channel, and the events carry her name" \
    "ack
ack
ack
user alice
user alice
user alice" \
    "$(publish_as "$site/private/ws?channel=chat,inbox.alice,user.alice" \
        "$(basic alice)" '{"channel":"chat","data":"hi from alice"}' \
        '{"channel":"inbox.alice","data":"note"}' \
        '{"channel":"user.alice","data":"self"}')"
expect_eq "the rows record alice as their sender" "alice|chat|hi from alice
alice|inbox.alice|note
alice|user.alice|self" \
    "$(sql "SELECT sender, channel, data FROM events WHERE sender IS NOT NULL ORDER BY id")"
expect_eq "alice may not publish to bob's channel or inbox" \
    'channel "user.bob" does not take events from this login
publishing to channel "inbox.bob" is not allowed' \
    "$(publish_as "$site/private/ws?channel=news" "$(basic alice)" \
        '{"channel":"user.bob","data":"x"}' \
        '{"channel":"inbox.bob","data":"x"}')"
expect_eq "nobody publishes to chat anonymously, and the event has no user" \
    "ack
user -" \
    "$(publish_as "$site/ws?channel=chat" "" \
        '{"channel":"chat","data":"anonymous"}')"
expect_eq "nobody may publish to a private channel or a {user} pattern" \
    'publishing to channel "user.alice" needs a login
publishing to channel "inbox.alice" is not allowed' \
    "$(publish_as "$site/ws?channel=news" "" \
        '{"channel":"user.alice","data":"x"}' \
        '{"channel":"inbox.alice","data":"x"}')"
expect_eq "a client's own X-Remote-User does not make it alice when publishing" \
    "ack
user -" \
    "$(publish_as "$site/ws?channel=chat" "X-Remote-User: alice" \
        '{"channel":"chat","data":"forged"}')"
expect_eq "the anonymous rows have no sender" "|anonymous
|forged" \
    "$(sql "SELECT sender, data FROM events WHERE data IN ('anonymous', 'forged') ORDER BY id")"
expect_eq "litepush-ws refuses a --publish pattern with a brace other than {user}" \
    2 "$(sh -c '"$1" --db "$2" --publish "inbox.{name}" >/dev/null 2>&1; echo $?' \
        - "$top_builddir/ws/litepush-ws" "$db")"

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
expect_eq "and its challenge says the token is invalid (RFC 6750)" \
    'www-authenticate: Bearer realm="litepush", error="invalid_token"' \
    "$(printf '%s\n' "$run_out" | grep -i '^www-authenticate:')"
expect_handshake "a token signed with another key gets 401" 401 \
    "$direct?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": 3600}' HS256 "$tmp/other.key")" \
    'bad token: not signed with the key'
expect_handshake "an unsigned token (alg none) gets 401" 401 \
    "$direct?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"]}}' none -)" ""
poster=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"], "publish": ["room.1"]}}' HS256 "$tmp/jwt.key")
expect_eq "a grant's publish list lets carol publish to room.1, in her name, with no --publish" \
    'ack
publishing to channel "room.2" is not allowed
user carol' \
    "$(publish_as "$direct?channel=room.1&token=$poster" "" \
        '{"channel":"room.1","data":"from carol"}' \
        '{"channel":"room.2","data":"x"}')"
expect_eq "a grant without a publish list publishes nowhere" \
    "publishing is disabled on this server" \
    "$(publish_as "$direct?channel=room.1&token=$room" "" \
        '{"channel":"room.1","data":"x"}')"
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
