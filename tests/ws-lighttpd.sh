#!/bin/sh
# ws-lighttpd.sh: litepush-ws behind a real lighttpd, mod_proxy with the
# upgrade enabled on /ws (tests/conf/lighttpd-ws.conf.in): events, resume,
# publish, frames passed through, Origin, a thousand connections and the
# shutdown.

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"

require_command /usr/sbin/lighttpd

ws_port=$(free_port)
ws_log=ws
start_ws --listen "127.0.0.1:$ws_port" --publish 'chat_*'
main_pid=$ws_pid
wait_for "litepush-ws listens on 127.0.0.1:$ws_port" 10 \
    port_listens "$ws_port"

start_lighttpd "$top_srcdir/tests/conf/lighttpd-ws.conf.in" WSPORT="$ws_port" &&
    ok "lighttpd listens on 127.0.0.1:$lighttpd_port"
port=$lighttpd_port

url=ws://127.0.0.1:$port/ws
scenario_subscribe lighttpd "$url"
scenario_resume lighttpd "$url"
scenario_publish lighttpd "$url"
scenario_frames lighttpd "$url"
scenario_origin lighttpd "$url"
scenario_thousand lighttpd "$url"
scenario_shutdown lighttpd "$url" "$main_pid"
expect_no_sanitizer_report

finish
