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
ws_log=ws
start_ws --listen "127.0.0.1:$ws_port" --publish 'chat_*'
main_pid=$ws_pid
wait_for "litepush-ws listens on 127.0.0.1:$ws_port" 10 \
    port_listens "$ws_port"

start_apache "$top_srcdir/tests/conf/apache-ws.conf.in" WSPORT="$ws_port" &&
    ok "Apache listens on 127.0.0.1:$apache_port"
port=$apache_port

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
