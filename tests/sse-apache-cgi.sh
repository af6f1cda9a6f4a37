#!/bin/sh
# sse-apache-cgi.sh: litepush-sse as a plain CGI program under Apache
# (mod_cgid, mpm_event), one process per stream, settings from SetEnv,
# through the scenarios of sse_scenarios.sh.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
require_command /usr/sbin/apache2

# Apache runs the CGI as www-data, which may not reach the build tree (a
# clone under a private directory): it runs a copy in the test directory.
: "${sse:=$top_builddir/fcgi/litepush-sse}"
if [ -x "$sse" ]; then
	cp "$sse" "$test_tmpdir/litepush-sse" && chmod 755 "$test_tmpdir/litepush-sse"
	sse=$test_tmpdir/litepush-sse
fi

deploy_streams=200
deploy_per_request=yes

deploy_start()
{
	start_apache "$top_srcdir/tests/conf/apache-cgi.conf.in" SSE="$sse" \
	    DB="$db" KEEPALIVE="$keepalive" MAX_AGE="$max_age" \
	    MAX_STREAMS="$max_streams" || return 1
	server_pid=$apache_pid
	url=http://127.0.0.1:$apache_port/stream
	wait_for "Apache (max-age $max_age) runs litepush-sse as CGI" \
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
