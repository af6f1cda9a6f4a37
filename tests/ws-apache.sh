#!/bin/sh
# ws-apache.sh: litepush-ws behind a real Apache, mod_proxy_wstunnel on /ws
# (tests/conf/apache-ws.conf.in): events, resume, publish, frames passed
# through, Origin, a thousand connections and the shutdown.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"

require_command /usr/sbin/apache2

ws_port=$(free_port)
start_ws ws --listen "127.0.0.1:$ws_port" --publish 'chat_*'
main_pid=$ws_pid
wait_for "litepush-ws listens on 127.0.0.1:$ws_port" 10 \
    port_listens "$ws_port"

# Apache runs its workers as www-data: they must reach the directory.
chmod 755 "$test_tmpdir"
port=$(free_port)
render "$top_srcdir/tests/conf/apache-ws.conf.in" "$test_tmpdir/apache.conf" \
    TMP="$test_tmpdir" PORT="$port" WSPORT="$ws_port"
run /usr/sbin/apache2 -t -f "$test_tmpdir/apache.conf"
expect_eq "apache2 -t accepts the configuration" 0 "$run_status"
/usr/sbin/apache2 -f "$test_tmpdir/apache.conf" -DFOREGROUND \
    2>"$test_tmpdir/apache.err" &
track_pid $!
wait_for "Apache listens on 127.0.0.1:$port" 20 port_listens "$port"

url=ws://127.0.0.1:$port/ws
scenario_subscribe apache "$url"
scenario_resume apache "$url"
scenario_publish apache "$url"
scenario_frames apache "$url"
scenario_origin apache "$url"
scenario_thousand apache "$url"
scenario_shutdown apache "$url" "$main_pid"
expect_no_sanitizer_report

finish
