#!/bin/sh
# access-sse.sh: private channels from the web server's login (Apache's
# mod_auth_basic, lighttpd's mod_auth, one htpasswd file made with Debian's
# htpasswd): litepush-sse --private
# 'user.{user}' serves user.alice to alice alone, answers 401 to nobody
# and 403 to bob, each with a one-line reason and a log line that names
# the client and the channel; other channels stay public unless
# --require-login.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2 /usr/sbin/lighttpd htpasswd curl sqlite3

tmp=$test_tmpdir
db=$tmp/events.db
"$top_builddir/cli/litepush" init "$db" >/dev/null || exit 99
login_users "$tmp/htpasswd"

# Checks that user $2 asking for URL $3 gets exactly "$4" (status and reason).
expect_reply()
{
	expect_eq "$1" "$4" "$(status_and_reason "$2" "$3")"
}

# Starts a stream for user $2 on URL $3 in the background, to $tmp/$1.out.
open_stream()
{
	if [ "$2" = - ]; then
		curl -s -N --max-time 30 "$3" >"$tmp/$1.out" 2>/dev/null &
	else
		curl -s -N --max-time 30 -u "$2:$2-secret" "$3" \
		    >"$tmp/$1.out" 2>/dev/null &
	fi
	track_pid $!
	eval "stream_pid_$1=\$!"
}

start_sse --private 'user.{user}' --private 'members.*' || finish
start_apache "$top_srcdir/tests/conf/apache-auth.conf.in" || finish
site=http://127.0.0.1:$apache_port

: >"$tmp/alice.out"
open_stream alice alice "$site/private/stream?channel=user.alice"
wait_for "alice's stream on user.alice opens" 10 \
    grep -q '^retry:' "$tmp/alice.out"
open_stream anon - "$site/stream?channel=news"
wait_for "nobody's stream on a public channel opens" 10 \
    grep -q '^retry:' "$tmp/anon.out"
sql "INSERT INTO events(channel, data) VALUES('user.alice', 'for alice');
    INSERT INTO events(channel, data) VALUES('news', 'for everybody')"
wait_for "alice gets the row INSERTed for her" 10 \
    grep -q '^data: for alice$' "$tmp/alice.out"
wait_for "the public stream gets the public row" 10 \
    grep -q '^data: for everybody$' "$tmp/anon.out"
sql "INSERT INTO events(channel, event, data, sender)
    VALUES('news', 'msg', 'said by alice', 'alice')"
wait_for "a row's sender reaches the stream" 10 \
    grep -q '^data: said by alice$' "$tmp/anon.out"
expect_eq "as a user: field between the event name and the data" \
    "event: msg
user: alice
data: said by alice" \
    "$(grep -B2 '^data: said by alice$' "$tmp/anon.out")"

expect_reply "bob asking for user.alice gets 403 with the reason" bob \
    "$site/private/stream?channel=user.alice" \
    '403 channel "user.alice" is not open to this login'
expect_reply "nobody asking for user.alice gets 401 with the reason" - \
    "$site/stream?channel=user.alice" \
    '401 channel "user.alice" needs a login'
expect_reply "one private channel among public ones is enough for a 403" \
    bob "$site/private/stream?channel=news&channel=user.alice" \
    '403 channel "user.alice" is not open to this login'
expect_reply "a rule without {user} lets any login in, not nobody" - \
    "$site/stream?channel=members.board" \
    '401 channel "members.board" needs a login'
expect_eq "a wrong password is refused by Apache itself" 401 \
    "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' \
        -u alice:wrong "$site/private/stream?channel=user.alice")"
sql "INSERT INTO events(channel, data) VALUES('user.bob', 'for bob')"
expect_reply "a channel's rows do not change the answer (user.bob has one, user.carol none)" \
    alice "$site/private/stream?channel=user.carol" \
    '403 channel "user.carol" is not open to this login'
expect_reply "nor does a channel that exists" alice \
    "$site/private/stream?channel=user.bob" \
    '403 channel "user.bob" is not open to this login'
expect_eq "nothing was streamed to alice but her own row" "for alice" \
    "$(sed -n 's/^data: //p' "$tmp/alice.out")"

grep 'refuse' "$tmp/sse.log" >"$tmp/refusals" 2>/dev/null
expect_contains "each refusal is logged with the client's address and the channel" \
    'refuse 127.0.0.1 403 channel "user.alice" is not open to this login' \
    "$(cat "$tmp/refusals")"
if grep -q 'secret' "$tmp/sse.log"; then
	fail "no password appears in the log" "no 'secret'" \
	    "$(grep secret "$tmp/sse.log")"
else
	ok "no password appears in the log"
fi

# --require-login: every channel needs a login.
stop_pid "$sse_pid"
start_sse --private 'user.{user}' --require-login || finish
expect_reply "with --require-login, nobody asking for news gets 401" - \
    "$site/stream?channel=news" '401 channel "news" needs a login'
: >"$tmp/bobnews.out"
open_stream bobnews bob "$site/private/stream?channel=news"
wait_for "with --require-login, bob's stream on news opens" 10 \
    grep -q '^retry:' "$tmp/bobnews.out"

# Signed grants: --jwt-key, tokens minted by python3-jwt.
stop_pid "$sse_pid"
printf 'the application secret\n' >"$tmp/jwt.key"
printf 'another secret' >"$tmp/other.key"
start_sse --private 'user.{user}' --private 'room.*' --jwt-key "$tmp/jwt.key" ||
    finish

room=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"]}}' HS256 "$tmp/jwt.key")
: >"$tmp/carol.out"
curl -s -N --max-time 30 "$site/stream?channel=room.1&token=$room" \
    >"$tmp/carol.out" 2>/dev/null &
track_pid $!
wait_for "a grant for room.* in token= opens room.1" 10 \
    grep -q '^retry:' "$tmp/carol.out"
sql "INSERT INTO events(channel, data) VALUES('room.1', 'for the room')"
wait_for "and gets its row" 10 grep -q '^data: for the room$' "$tmp/carol.out"
expect_reply "nobody without the token gets 401 for room.1" - \
    "$site/stream?channel=room.1" '401 channel "room.1" needs a login'
expect_eq "the token as the cookie litepush_token is the same" 200 \
    "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
        -b "litepush_token=$room" "$site/stream?channel=room.1")"
expect_reply "the grant's user is the login for the rules: carol gets 403 for user.bob" - \
    "$site/stream?channel=user.bob&token=$room" \
    '403 channel "user.bob" is not open to this login'
own=$(jwt_mint '{"sub": "bob", "exp": 3600}' HS256 "$tmp/jwt.key")
expect_eq "a grant without lists still logs its sub in: bob gets user.bob" 200 \
    "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
        "$site/stream?channel=user.bob&token=$own")"
expect_reply "an expired token gets 401 saying so" - \
    "$site/stream?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": -10}' HS256 "$tmp/jwt.key")" \
    '401 the token has expired'
expect_reply "a token without exp gets 401" - \
    "$site/stream?channel=room.1&token=$(jwt_mint '{"sub": "carol"}' HS256 "$tmp/jwt.key")" \
    '401 bad token: no exp claim'
expect_reply "a token signed with another key gets 401" - \
    "$site/stream?channel=room.1&token=$(jwt_mint '{"sub": "carol", "exp": 3600}' HS256 "$tmp/other.key")" \
    '401 bad token: not signed with the key'
none=$(jwt_mint '{"sub": "carol", "exp": 3600, "litepush": {"subscribe": ["room.*"]}}' none -)
expect_eq "an unsigned token (alg none) gets 401" 401 \
    "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' \
        "$site/stream?channel=room.1&token=$none")"
if grep -q "$room\|$own" "$tmp/sse.log"; then
	fail "no token appears in the log" "none" "$(grep -c . "$tmp/sse.log") lines"
else
	ok "no token appears in the log"
fi
short=$(jwt_mint '{"sub": "carol", "exp": 2, "litepush": {"subscribe": ["room.*"]}}' HS256 "$tmp/jwt.key")
: >"$tmp/short.out"
curl -s -N --max-time 30 "$site/stream?channel=room.1&token=$short" \
    >"$tmp/short.out" 2>/dev/null &
short_pid=$!
track_pid "$short_pid"
wait_for "a stream whose grant runs out ends with a pause" 20 \
    grep -q '^event: pause$' "$tmp/short.out"

# lighttpd's mod_auth: the same answers, the rule from LITEPUSH_PRIVATE.
stop_pid "$apache_pid"
stop_pid "$sse_pid"
start_lighttpd "$top_srcdir/tests/conf/lighttpd-auth.conf.in" SSE="$sse" \
    DB="$db" || finish
site=http://127.0.0.1:$lighttpd_port
: >"$tmp/lalice.out"
open_stream lalice alice "$site/private/stream?channel=user.alice"
wait_for "lighttpd: alice's stream on user.alice opens" 10 \
    grep -q '^retry:' "$tmp/lalice.out"
expect_reply "lighttpd: bob asking for user.alice gets 403" bob \
    "$site/private/stream?channel=user.alice" \
    '403 channel "user.alice" is not open to this login'
expect_reply "lighttpd: nobody asking for user.alice gets 401" - \
    "$site/stream?channel=user.alice" \
    '401 channel "user.alice" needs a login'
sql "INSERT INTO events(channel, data) VALUES('user.alice', 'again for alice')"
wait_for "lighttpd: alice gets her row" 10 \
    grep -q '^data: again for alice$' "$tmp/lalice.out"
stop_pid "$lighttpd_pid"

# As plain CGI the same rules apply, from the CGI environment (--max-age 1
# ends the allowed stream after its pause).
cgi_reply()
{
	REMOTE_USER=$1 REMOTE_ADDR=192.0.2.7 REQUEST_METHOD=GET \
	    QUERY_STRING="channel=$2" timeout 10 "$sse" --db "$db" \
	    --private 'user.{user}' --max-age 1 </dev/null 2>"$tmp/cgi.err" |
	    sed -n '1s/\r$//p'
}
expect_eq "as CGI, alice gets user.alice" "Status: 200 OK" \
    "$(cgi_reply alice user.alice)"
expect_eq "as CGI, bob gets 403" "Status: 403 Forbidden" \
    "$(cgi_reply bob user.alice)"
expect_eq "as CGI, nobody gets 401" "Status: 401 Unauthorized" \
    "$(cgi_reply "" user.alice)"
expect_contains "and it is logged with the address" \
    'refuse 192.0.2.7 401 channel "user.alice" needs a login' \
    "$(cat "$tmp/cgi.err")"

finish
