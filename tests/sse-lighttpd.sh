#!/bin/sh
# sse-lighttpd.sh: litepush-sse spawned by lighttpd's mod_fastcgi
# ("bin-path", the listening socket on fd 0, settings from
# "bin-environment"), through the scenarios of sse_scenarios.sh.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/lighttpd

deploy_streams=200
deploy_per_request=no

deploy_start()
{
	start_lighttpd "$top_srcdir/tests/conf/lighttpd-sse.conf.in" \
	    SSE="$sse" DB="$db" KEEPALIVE="$keepalive" MAX_AGE="$max_age" \
	    MAX_STREAMS="$max_streams" || return 1
	server_pid=$lighttpd_pid
	url=http://127.0.0.1:$lighttpd_port/stream
	wait_for "lighttpd (max-age $max_age, max-streams $max_streams) and litepush-sse answer" \
	    10 sse_answers "$url"
}

deploy_stop()
{
	stop_pid "$server_pid"
}

deploy_sse_pids()
{
	pids_below "$server_pid" "$sse"
}

# shellcheck source=tests/sse_scenarios.sh
. "$top_srcdir/tests/sse_scenarios.sh"
