#!/bin/sh
# cors-browser.sh: Chromium's own EventSource, in a page that one web
# server (lighttpd, port P1) serves, reads a stream that another (Apache
# with mod_proxy_fcgi, port P2, another origin) passes to a standalone
# litepush-sse --cors-origin http://127.0.0.1:P1.  Two pages of that
# origin: one plain EventSource on a public channel, one withCredentials
# on a private channel, its grant in the cookie litepush_token (sent only
# because of withCredentials and Access-Control-Allow-Credentials).  The
# sqlite3 shell inserts rows; litepush-sse is killed with kill -9 and
# replaced; more rows come while the pages wait to reconnect.  Each page
# must come back by itself with its Last-Event-ID, and end with every row
# exactly once, in order.  Chromium sends that reconnect without a
# preflight (its EventSource exempts Last-Event-ID); a fetch() of the
# stream with a Last-Event-ID header gets one, and must pass it.  The same
# page from http://localhost:P1, an origin not listed, can read nothing.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/clients_log.sh
. "$(dirname "$0")/clients_log.sh"
require_command node npm flock /usr/bin/chromium /usr/sbin/lighttpd \
    /usr/sbin/apache2 sqlite3 curl
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
	echo "skip: playwright-core needs Node.js 20 or later, not $(node --version)"
	exit 77
fi
browser_packages

tmp=$test_tmpdir
db=$tmp/events.db
"$top_builddir/cli/litepush" init "$db" >/dev/null || exit 99
: >"$tmp/htpasswd"
chmod 644 "$tmp/htpasswd"
printf 'the application secret\n' >"$tmp/jwt.key"
clients_log=$tmp/clients.log
: >"$clients_log"

# Succeeds once both readers have logged at least $2 lines "$1 ...".
both_logged()
{
	[ "$(logged plain "$1")" -ge "$2" ] &&
	    [ "$(logged credentials "$1")" -ge "$2" ]
}

# Inserts rows "row N" for N from $1 to $2 into both channels.
publish()
{
	publish_n=$1
	while [ "$publish_n" -le "$2" ]; do
		echo "INSERT INTO events(channel, data) VALUES('news', 'row $publish_n');"
		echo "INSERT INTO events(channel, data) VALUES('user.carol', 'row $publish_n');"
		publish_n=$((publish_n + 1))
	done | sql
}

# The page's origin, and the stream's web server.
mkdir -p "$tmp/www"
cp "$top_srcdir/tests/cors_page.html" "$tmp/www/"
chmod -R a+rX "$tmp/www"
start_lighttpd "$top_srcdir/tests/conf/lighttpd-page.conf.in" || finish
origin=http://127.0.0.1:$lighttpd_port
sse_options="--private user.{user} --jwt-key $tmp/jwt.key --cors-origin $origin --retry 2000"
# shellcheck disable=SC2086
start_sse $sse_options || finish
start_apache "$top_srcdir/tests/conf/apache-cors.conf.in" || finish
streams=http://127.0.0.1:$apache_port

token=$(jwt_mint '{"sub": "carol", "exp": 3600}' HS256 "$tmp/jwt.key")
# The page's query: the stream's URL, encoded.
page_for()
{
	"$PYTHON" -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}
plain_url="$origin/cors_page.html?stream=$(page_for "$streams/stream?channel=news")"
credentials_url="$origin/cors_page.html?credentials=1&stream=$(page_for "$streams/stream?channel=user.carol")"
denied_url="http://localhost:$lighttpd_port/cors_page.html?stream=$(page_for "$streams/stream?channel=news")"

LITEPUSH_PAGES="plain=$plain_url credentials=$credentials_url denied=$denied_url" \
    LITEPUSH_COOKIE="litepush_token=$token 127.0.0.1" \
    LITEPUSH_LOG=$clients_log LITEPUSH_PROFILE=$tmp/profile \
    node "$top_srcdir/tests/browser/cors.mjs" >"$tmp/clients.out" 2>&1 &
clients_pid=$!
track_pid "$clients_pid"
wait_for "both pages of $origin open their stream from $streams" 60 \
    both_logged open 1 || {
	cat "$tmp/clients.out"
	finish
}
wait_for "the page from http://localhost:$lighttpd_port (not listed) gets an error" \
    30 grep -q ' denied error ' "$clients_log"
# Each page's fetch() probe reads the start of its stream; they must be
# done before litepush-sse is killed below, or the kill cuts one short.
wait_for "the pages' fetch() probes are done" 30 both_logged probe 1

publish 1 5
wait_for "both get the rows the sqlite3 shell inserts" 20 both_logged event 5

# A new litepush-sse listens first, on a socket of its own moved into
# place; then the old one is killed under its streams.  The pages come
# back after --retry (2 s); the rows inserted meanwhile wait for them.
mkdir "$tmp/staged"
old_pid=$sse_pid
# shellcheck disable=SC2086
"$sse" --listen "unix:$tmp/staged/sse.sock" --db "$db" $sse_options \
    2>>"$tmp/sse.log" &
sse_pid=$!
track_pid "$sse_pid"
wait_for "another litepush-sse listens" 20 test -S "$tmp/staged/sse.sock"
chmod 666 "$tmp/staged/sse.sock"
mv "$tmp/staged/sse.sock" "$tmp/sse.sock"
kill -9 "$old_pid"
wait "$old_pid" 2>/dev/null
untrack_pid "$old_pid"
publish 6 10
wait_for "after kill -9 and a restart both pages are open again, by themselves" \
    30 both_logged open 2
publish 11 15
wait_for "and end with all 15 rows" 20 both_logged event 15

kill -TERM "$clients_pid"
wait "$clients_pid"
expect_eq "cors.mjs ends cleanly" 0 "$?"
untrack_pid "$clients_pid"

for client in plain credentials; do
	case $client in
	plain) channel=news ;;
	credentials) channel=user.carol ;;
	esac
	sql "SELECT id || ' ' || data FROM events WHERE channel = '$channel'
	    ORDER BY id" >"$tmp/$client.expected"
	logged_values $client event >"$tmp/$client.got"
	expect_same_lines "$client: Chromium's EventSource got every row of $channel exactly once, in order" \
	    "$tmp/$client.expected" "$tmp/$client.got"
	expect_eq "$client: it opened twice, each time OPEN (readyState 1)" \
	    "1 1 " "$(logged_values $client open | tr '\n' ' ')"
	expect_eq "$client: it got a 200 each time" "200 200 " \
	    "$(logged_values $client status | tr '\n' ' ')"
	expect_eq "$client: it resumed with the id of the last row it got" \
	    "$(ids_before_reopens $client | tr '\n' ' ')" \
	    "$(logged_values $client request | sed 1d | tr '\n' ' ')"
	expect_eq "$client: it is OPEN at the end" 1 \
	    "$(logged_values $client final)"
	expect_eq "$client: its fetch() with Last-Event-ID reads the stream, through a preflight" \
	    "200 retry: 2000" "$(logged_values $client probe)"
done
expect_eq "Chromium's preflights of fetch() asked for last-event-id alone; 204 for the listed origin, 403 for the other" \
    "OPTIONS /stream 204 origin=$origin request-headers=last-event-id
OPTIONS /stream 204 origin=$origin request-headers=last-event-id
OPTIONS /stream 403 origin=http://localhost:$lighttpd_port request-headers=last-event-id" \
    "$(sed -n 's/ last-event-id=.*//; /^OPTIONS /p' "$tmp/apache-access.log" |
        sort)"
# Chromium's EventSource sends its Last-Event-ID without a preflight (it
# exempts that header), so the three above are all there are: said here,
# not checked, as another browser or version may preflight.
echo "# OPTIONS requests beside the probes': $(($(grep -c '^OPTIONS ' "$tmp/apache-access.log") - 3))"
expect_eq "the page of an origin not listed never read its stream" "" \
    "$(logged_values denied event)$(logged_values denied open)"
expect_eq "its EventSource failed for good (readyState CLOSED)" 2 \
    "$(logged_values denied error | head -n 1)"
expect_eq "nor could its fetch(): the preflight was refused" \
    "failed TypeError" "$(logged_values denied probe)"

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log "$tmp/clients.out"; do
		echo "# --- $log"
		tail -n 30 "$log" | sed 's/^/# /'
	done
fi
finish
