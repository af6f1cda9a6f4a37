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
	start_sse --keepalive "$keepalive" --max-age "$max_age" \
	    --max-streams "$max_streams" || return 1
	ok "litepush-sse --listen unix:... creates its socket"
	start_apache "$top_srcdir/tests/conf/apache-fcgi.conf.in" || return 1
	server_pid=$apache_pid
	url=http://127.0.0.1:$apache_port/stream
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
