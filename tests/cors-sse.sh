#!/bin/sh
# cors-sse.sh: litepush-sse --cors-origin through a real Apache
# (mod_proxy_fcgi, standalone litepush-sse) and a real lighttpd
# (mod_fastcgi, spawned), and as plain CGI: a listed Origin is echoed with
# Vary: Origin and, credentials being on (--private, --jwt-key),
# Access-Control-Allow-Credentials, on the stream and on its refusals;
# another Origin gets none of it; the preflight (OPTIONS) is answered 204
# by litepush-sse itself, through a login-protected location too; its
# 401s carry WWW-Authenticate: Bearer, with error="invalid_token" for a
# bad token; without --cors-origin nothing changes; bad values are usage
# errors.

# Helpers called only through poll_until look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2 /usr/sbin/lighttpd htpasswd curl sqlite3

tmp=$test_tmpdir
db=$tmp/events.db
"$top_builddir/cli/litepush" init "$db" >/dev/null || exit 99
login_users "$tmp/htpasswd"
printf 'the application secret\n' >"$tmp/jwt.key"
chmod 644 "$tmp/jwt.key"

page=http://127.0.0.1:8080
other=http://127.0.0.1:8081

# Succeeds once request $1 (curl PID $2) has ended, or its stream has
# begun (its retry: field has come).
fetched()
{
	pid_gone "$2" || grep -q '^retry:' "$tmp/$1.body"
}

# Requests URL $2 with the curl options $3... and keeps the response head
# in $tmp/$1.head, the body in $tmp/$1.body; a stream is cut once it has
# begun.  Sets $status to the response's status code.
fetch()
{
	fetch_name=$1 fetch_url=$2
	shift 2
	: >"$tmp/$fetch_name.head"
	: >"$tmp/$fetch_name.body"
	curl -s -N --max-time 20 -D "$tmp/$fetch_name.head" \
	    -o "$tmp/$fetch_name.body" "$@" "$fetch_url" 2>/dev/null &
	fetch_pid=$!
	track_pid "$fetch_pid"
	poll_until 20 fetched "$fetch_name" "$fetch_pid"
	kill "$fetch_pid" 2>/dev/null
	wait "$fetch_pid" 2>/dev/null
	untrack_pid "$fetch_pid"
	status=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$tmp/$fetch_name.head")
}

# Checks ($1 names the check) that header $3 of response $2 is exactly $4
# ("" for absent).
expect_header()
{
	expect_eq "$1" "$4" "$(header "$3" "$tmp/$2.head")"
}

# Preflights URL $2 for Origin $3 (request $1), as a browser does before
# a reconnect with Last-Event-ID.
preflight()
{
	fetch "$1" "$2" -X OPTIONS -H "Origin: $3" \
	    -H 'Access-Control-Request-Method: GET' \
	    -H 'Access-Control-Request-Headers: last-event-id'
}

# The checks of one deployment, $1 its name, at $site; credentials are on
# and the Authorization header allowed (--private and --jwt-key).
cors_checks()
{
	name=$1

	fetch ok "$site/stream?channel=news" -H "Origin: $page"
	expect_eq "$name: a stream for a listed Origin is a 200" 200 "$status"
	expect_header "$name: the Origin is echoed" ok \
	    Access-Control-Allow-Origin "$page"
	expect_header "$name: with Vary: Origin" ok Vary Origin
	expect_header "$name: and credentials, since they are on" ok \
	    Access-Control-Allow-Credentials true
	expect_contains "$name: and it is the stream" "retry:" \
	    "$(cat "$tmp/ok.body")"

	fetch other "$site/stream?channel=news" -H "Origin: $other"
	expect_eq "$name: another Origin still gets the stream (CORS is the browser's to enforce)" \
	    200 "$status"
	expect_header "$name: but no Access-Control-Allow-Origin" other \
	    Access-Control-Allow-Origin ""
	expect_header "$name: nor credentials" other \
	    Access-Control-Allow-Credentials ""
	expect_header "$name: and Vary: Origin all the same" other Vary Origin
	fetch none "$site/stream?channel=news"
	expect_header "$name: no Origin: Vary: Origin" none Vary Origin
	expect_header "$name: and nothing else of CORS" none \
	    Access-Control-Allow-Origin ""

	preflight pre "$site/stream?channel=news" "$page"
	expect_eq "$name: the preflight of a listed Origin is a 204 from litepush-sse" \
	    204 "$status"
	expect_header "$name: preflight: the Origin echoed" pre \
	    Access-Control-Allow-Origin "$page"
	expect_header "$name: preflight: Vary" pre Vary Origin
	expect_header "$name: preflight: credentials" pre \
	    Access-Control-Allow-Credentials true
	expect_header "$name: preflight: GET" pre Access-Control-Allow-Methods GET
	expect_header "$name: preflight: Last-Event-ID, and Authorization with --jwt-key" \
	    pre Access-Control-Allow-Headers "Last-Event-ID, Authorization"
	expect_header "$name: preflight: cached 600 s" pre \
	    Access-Control-Max-Age 600
	expect_eq "$name: preflight: no body" 0 \
	    "$(wc -c <"$tmp/pre.body" | tr -d ' ')"

	preflight priv "$site/private/stream?channel=user.alice" "$page"
	expect_eq "$name: the login-protected location lets the preflight through, to a 204" \
	    204 "$status"
	expect_header "$name: with litepush-sse's answer" priv \
	    Access-Control-Allow-Origin "$page"
	fetch privget "$site/private/stream?channel=user.alice" \
	    -H "Origin: $page"
	expect_eq "$name: while a GET there without a login is the web server's 401" \
	    401 "$status"
	fetch alice "$site/private/stream?channel=user.alice" \
	    -H "Origin: $page" -u alice:alice-secret
	expect_eq "$name: and alice's GET is her stream" 200 "$status"
	expect_header "$name: with the CORS headers" alice \
	    Access-Control-Allow-Credentials true

	preflight bad "$site/stream?channel=news" "$other"
	expect_eq "$name: the preflight of another Origin gets 403" 403 "$status"
	expect_eq "$name: saying why" \
	    "origin \"$other\" may not read this stream (--cors-origin)" \
	    "$(head -n 1 "$tmp/bad.body")"
	expect_header "$name: and no Access-Control-Allow-Origin" bad \
	    Access-Control-Allow-Origin ""
	fetch post "$site/stream?channel=news" -X OPTIONS -H "Origin: $page" \
	    -H 'Access-Control-Request-Method: POST'
	expect_eq "$name: a preflight for POST gets 405" 405 "$status"
	expect_header "$name: with Allow: GET" post Allow GET
	expect_header "$name: and the Origin, so that the page can tell" post \
	    Access-Control-Allow-Origin "$page"
	fetch plain "$site/stream?channel=news" -X OPTIONS
	expect_eq "$name: an OPTIONS that is no preflight gets 405" 405 "$status"

	fetch anon "$site/stream?channel=user.alice" -H "Origin: $page"
	expect_eq "$name: nobody asking for user.alice gets 401" 401 "$status"
	expect_header "$name: with a Bearer challenge" anon WWW-Authenticate \
	    'Bearer realm="litepush"'
	expect_header "$name: and the CORS headers, so that the page can tell" \
	    anon Access-Control-Allow-Origin "$page"
	fetch token "$site/stream?channel=user.alice&token=$expired" \
	    -H "Origin: $page"
	expect_eq "$name: an expired token gets 401" \
	    "401 the token has expired" \
	    "$status $(head -n 1 "$tmp/token.body")"
	expect_header "$name: with error=\"invalid_token\"" token \
	    WWW-Authenticate 'Bearer realm="litepush", error="invalid_token"'
	fetch forged "$site/stream?channel=user.alice" -H "Origin: $page" \
	    -H "Authorization: Bearer $forged"
	expect_header "$name: a token signed with another key: the same" \
	    forged WWW-Authenticate \
	    'Bearer realm="litepush", error="invalid_token"'
	fetch bob "$site/private/stream?channel=user.alice" -H "Origin: $page" \
	    -u bob:bob-secret
	expect_eq "$name: bob gets 403" 403 "$status"
	expect_header "$name: a 403 has no challenge" bob WWW-Authenticate ""
	expect_header "$name: and the CORS headers" bob \
	    Access-Control-Allow-Origin "$page"
	fetch badchan "$site/stream?channel=bad%20channel" -H "Origin: $page"
	expect_eq "$name: a bad channel gets 400" 400 "$status"
	expect_header "$name: with the CORS headers" badchan \
	    Access-Control-Allow-Origin "$page"
}

expired=$(jwt_mint '{"sub": "alice", "exp": -10}' HS256 "$tmp/jwt.key")
printf 'another secret' >"$tmp/other.key"
forged=$(jwt_mint '{"sub": "alice", "exp": 3600}' HS256 "$tmp/other.key")

# --- Apache, mod_proxy_fcgi -------------------------------------------------
start_sse --private 'user.{user}' --jwt-key "$tmp/jwt.key" \
    --cors-origin "$page" --cors-origin 'http://app.example.com' || finish
start_apache "$top_srcdir/tests/conf/apache-cors.conf.in" || finish
site=http://127.0.0.1:$apache_port
cors_checks apache
if grep -q "$expired\|$forged" "$tmp/sse.log"; then
	fail "no token appears in the log" "none" "$(grep -c . "$tmp/sse.log") lines"
else
	ok "no token appears in the log"
fi
expect_contains "the refused preflight is logged" \
    "refuse 127.0.0.1 403 origin \"$other\" may not read this stream" \
    "$(cat "$tmp/sse.log")"

# Without --cors-origin: exactly as before.
stop_pid "$sse_pid"
start_sse --private 'user.{user}' || finish
fetch off "$site/stream?channel=news" -H "Origin: $page"
expect_eq "without --cors-origin a stream with an Origin is a 200" 200 "$status"
expect_eq "with no CORS header and no Vary" "" \
    "$(grep -i '^access-control-\|^vary:' "$tmp/off.head")"
preflight offpre "$site/stream?channel=news" "$page"
expect_eq "and the preflight gets 405 with Allow: GET, as any OPTIONS" \
    "405 GET" "$status $(header Allow "$tmp/offpre.head")"
expect_eq "with no CORS header and no Vary" "" \
    "$(grep -i '^access-control-\|^vary:' "$tmp/offpre.head")"
fetch offanon "$site/stream?channel=user.alice"
expect_header "a 401 still has its challenge" offanon WWW-Authenticate \
    'Bearer realm="litepush"'

# "*" without credentials: any Origin, and "*" it is.
stop_pid "$sse_pid"
start_sse --cors-origin '*' || finish
fetch any "$site/stream?channel=news" -H "Origin: http://anywhere.test"
expect_header "--cors-origin '*' without credentials answers *" any \
    Access-Control-Allow-Origin '*'
expect_header "and never credentials" any Access-Control-Allow-Credentials ""
stop_pid "$sse_pid"
stop_pid "$apache_pid"

# --- lighttpd, mod_fastcgi, litepush-sse spawned ------------------------------
start_lighttpd "$top_srcdir/tests/conf/lighttpd-cors.conf.in" SSE="$sse" \
    DB="$db" ORIGIN="$page, http://app.example.com" KEY="$tmp/jwt.key" ||
    finish
site=http://127.0.0.1:$lighttpd_port
wait_for "lighttpd spawns litepush-sse" 20 sse_answers "$site/stream"
cors_checks lighttpd
stop_pid "$lighttpd_pid"

# --- Plain CGI ----------------------------------------------------------------
# Runs litepush-sse as CGI for method $1 with the CGI variables $2...; the
# options from LITEPUSH_CORS_ORIGIN (a list, as a web server's SetEnv would
# give it) and LITEPUSH_PRIVATE.  Prints the head, CRs dropped.
cgi()
{
	cgi_method=$1
	shift
	env REQUEST_METHOD="$cgi_method" REMOTE_ADDR=192.0.2.7 \
	    LITEPUSH_CORS_ORIGIN="http://app.example.com, $page" \
	    LITEPUSH_PRIVATE='user.{user}' "$@" timeout 10 "$sse" --db "$db" \
	    </dev/null 2>"$tmp/cgi.err" | sed -n '/^\r$/q; s/\r$//p'
}
cgi OPTIONS HTTP_ORIGIN="$page" HTTP_ACCESS_CONTROL_REQUEST_METHOD=GET \
    QUERY_STRING=channel=news >"$tmp/cgi.head"
expect_eq "as CGI, the preflight of a listed Origin from a list in the environment gets 204" \
    "Status: 204 No Content" "$(head -n 1 "$tmp/cgi.head")"
expect_eq "with the preflight's headers (no Authorization without --jwt-key)" \
    "Vary: Origin
Access-Control-Allow-Origin: $page
Access-Control-Allow-Credentials: true
Access-Control-Allow-Methods: GET
Access-Control-Allow-Headers: Last-Event-ID
Access-Control-Max-Age: 600" "$(sed 1d "$tmp/cgi.head")"
cgi GET HTTP_ORIGIN=http://app.example.com QUERY_STRING=channel=user.alice \
    >"$tmp/cgi.head"
expect_eq "as CGI, a 401 has the challenge and the CORS headers" \
    "Status: 401 Unauthorized
Content-Type: text/plain; charset=utf-8
Cache-Control: no-cache
Vary: Origin
Access-Control-Allow-Origin: http://app.example.com
Access-Control-Allow-Credentials: true
WWW-Authenticate: Bearer realm=\"litepush\"" "$(cat "$tmp/cgi.head")"

# --- Bad values -----------------------------------------------------------------
# Checks that litepush-sse with the options $2... exits 2 saying $1.
expect_usage_error()
{
	expect_usage_error_why=$1
	shift
	run "$sse" --db "$db" "$@"
	expect_eq "$* is a usage error" 2 "$run_status"
	expect_contains "$*: saying why" "$expect_usage_error_why" "$run_err"
}
expect_usage_error 'an origin has no path, query or trailing slash' \
    --cors-origin "$page/"
expect_usage_error 'the scheme must be http or https' \
    --cors-origin 'ftp://files.example.com'
expect_usage_error 'not an origin' --cors-origin 'app.example.com'
expect_usage_error 'cannot be allowed' --cors-origin null
expect_usage_error '"*" cannot be allowed with credentials' \
    --cors-origin '*' --private 'user.{user}'
expect_usage_error '"*" cannot be allowed with credentials' --require-login \
    --cors-origin '*'
expect_contains "the usage text names --cors-origin" "--cors-origin ORIGIN" \
    "$("$sse" --help)"

finish
