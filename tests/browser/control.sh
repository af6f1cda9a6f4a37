#!/bin/sh
# control.sh: what pages.mjs asks of the stack while the browser looks on.
#
# Usage: control.sh start-sse|kill-sse|start-ws|stop-ws
# Runs with the stack_* variables that tests/browser.sh exports, through
# scripts/stack.sh, so that a daemon starts again exactly as it first did
# (from its systemd unit).  The PID of each daemon is in $stack_dir/NAME.pid,
# where browser.sh stops it at the end.
set -eu
# shellcheck disable=SC2154 # stack_src and the rest come from browser.sh
. "$stack_src/scripts/stack.sh"

# Succeeds once process $1 has exited (a zombie counts: it is not ours).
gone()
{
	kill -0 "$1" 2>/dev/null || return 0
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*) return 0 ;;
	esac
	return 1
}

# Sends signal $2 to the daemon $1 and waits for it to exit.
stop_daemon()
{
	pid=$(cat "$stack_dir/$1.pid")
	kill "-$2" "$pid"
	stack_wait 20 gone "$pid" || {
		echo "control.sh: $1 ($pid) still runs after SIG$2" >&2
		exit 1
	}
}

case ${1:-} in
start-sse)
	stack_start_sse
	echo "$stack_sse_pid" >"$stack_dir/litepush-sse.pid"
	;;
kill-sse)
	stop_daemon litepush-sse KILL
	;;
start-ws)
	stack_start_ws
	echo "$stack_ws_pid" >"$stack_dir/litepush-ws.pid"
	;;
stop-ws)
	stop_daemon litepush-ws TERM
	;;
*)
	echo "usage: $0 start-sse|kill-sse|start-ws|stop-ws" >&2
	exit 2
	;;
esac
