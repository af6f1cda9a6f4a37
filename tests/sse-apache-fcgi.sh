#!/bin/sh
# sse-apache-fcgi.sh: litepush-sse standalone on a unix socket (settings on
# its command line) behind Apache's mod_proxy_fcgi, mpm_event, through the
# scenarios of sse_scenarios.sh.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2

deploy_streams=200
deploy_per_request=no

deploy_start()
{
	rm -f "$tmp/sse.sock"
	"$sse" --listen "unix:$tmp/sse.sock" --db "$db" \
	    --keepalive "$keepalive" --max-age "$max_age" \
	    --max-streams "$max_streams" >>"$tmp/litepush-sse.log" 2>&1 &
	sse_pid=$!
	track_pid "$sse_pid"
	wait_for "litepush-sse --listen unix:... creates its socket" 10 \
	    test -S "$tmp/sse.sock" || return 1
	# Apache's workers (www-data) connect to it.
	chmod 666 "$tmp/sse.sock"

	port=$(free_port)
	url=http://127.0.0.1:$port/stream
	render "$top_srcdir/tests/conf/apache-fcgi.conf.in" "$tmp/apache.conf" \
	    TMP="$tmp" PORT="$port"
	/usr/sbin/apache2 -f "$tmp/apache.conf" -DFOREGROUND \
	    >>"$tmp/apache.log" 2>&1 &
	server_pid=$!
	track_pid "$server_pid"
	wait_for "Apache and litepush-sse (max-age $max_age, max-streams $max_streams) answer" \
	    10 sse_answers "$url"
}

deploy_stop()
{
	stop_pid "$server_pid"
	kill -TERM "$sse_pid" 2>/dev/null
	poll_until 10 pid_gone "$sse_pid" || kill -KILL "$sse_pid"
	wait "$sse_pid"
	deploy_stop_status=$?
	untrack_pid "$sse_pid"
	expect_eq "litepush-sse exits 0 on SIGTERM" 0 "$deploy_stop_status"
}

deploy_sse_pids()
{
	pid_gone "$sse_pid" || echo "$sse_pid"
}

# shellcheck source=tests/sse_scenarios.sh
. "$top_srcdir/tests/sse_scenarios.sh"
