#!/bin/sh
# demo.sh: litepush running on this machine, in one command (the README's
# first).
#
# Usage: ./demo.sh [--apache] [--port N] [--ws-port N]
#
# Installs the Debian packages it needs (as root or with sudo; otherwise it
# names them), builds in build/, creates var/events.db and starts what the
# example files deploy, rendered into var/demo/ by scripts/stack.sh:
# litepush-sse and litepush-ws from their systemd units, lighttpd (Apache
# with --apache) on 127.0.0.1:8080 serving the pages of www/, /stream and
# /ws, and a publisher that posts the time on the channel "clock" every
# second.  The login-protected part (/private.html, /private/stream) has
# two users, alice and bob, with passwords made afresh each run and
# printed.  Ctrl-C stops everything it started.
set -eu
cd "$(dirname "$0")"
top=$(pwd)

usage()
{
	echo "usage: $0 [--apache] [--port N] [--ws-port N]"
}

server=lighttpd
port=8080
ws_port=8131
while [ $# -gt 0 ]; do
	case $1 in
	--apache) server=apache ;;
	--lighttpd) server=lighttpd ;;
	--port) port=${2:?--port needs a number}; shift ;;
	--ws-port) ws_port=${2:?--ws-port needs a number}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$server" = apache ]; then
	scripts/deps.sh demo-apache
else
	scripts/deps.sh demo
fi
if [ ! -f build/Makefile ]; then
	./autogen.sh
	mkdir -p build
	(cd build && ../configure -q)
fi
make -s -C build -j"$(nproc 2>/dev/null || echo 2)"
litepush=$top/build/cli/litepush

mkdir -p var
"$litepush" init var/events.db
rm -rf var/demo
mkdir -p var/demo

# Where scripts/stack.sh puts things: the store in var/ (the units'
# /var/lib/litepush), the rendered files and logs in var/demo/, the socket
# in var/demo/run/ (their /run/litepush).
stack_src=$top
stack_build=$top/build
stack_dir=$top/var/demo
stack_state=$top/var
stack_run=$top/var/demo/run
stack_www=$top/www
stack_port=$port
stack_ws_port=$ws_port
# Started as root, the web server's workers run as www-data: they read the
# pages and connect to the socket.  When www-data cannot reach this tree
# (a clone in /root, say), the pages and the socket go to a directory in
# /tmp that it can reach.
shared=
if [ "$(id -u)" -eq 0 ] &&
    ! runuser -u www-data -- test -r "$top/www/index.html" -a -x "$stack_dir"; then
	shared=$(mktemp -d /tmp/litepush-demo.XXXXXX)
	chmod 755 "$shared"
	cp -R www "$shared/www"
	chmod -R a+rX "$shared/www"
	stack_www=$shared/www
	stack_run=$shared/run
fi
mkdir -p "$stack_run"
chmod 755 "$stack_run"
# shellcheck source=scripts/stack.sh
. "$top/scripts/stack.sh"

# The login's users (the examples' /etc/litepush/htpasswd), readable by the
# web server's workers, as the pages are; new passwords every run.
stack_htpasswd=${shared:-$stack_dir}/htpasswd
alice_password=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
bob_password=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
: >"$stack_htpasswd"
stack_add_user "$stack_htpasswd" alice "$alice_password"
stack_add_user "$stack_htpasswd" bob "$bob_password"
chmod 644 "$stack_htpasswd"

stack_sse_pid=
stack_ws_pid=
stack_server_pid=
clock_pid=

# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
# Stops what was started, by PID: the web server with SIGTERM (lighttpd
# takes SIGINT as "wait for the open streams", which is forever).
cleanup()
{
	trap - EXIT INT TERM
	for pid in $clock_pid $stack_server_pid $stack_ws_pid $stack_sse_pid; do
		kill -TERM "$pid" 2>/dev/null || :
	done
	for pid in $clock_pid $stack_server_pid $stack_ws_pid $stack_sse_pid; do
		wait "$pid" 2>/dev/null || :
	done
	if [ -n "$shared" ]; then
		rm -rf "$shared"
	fi
	echo "litepush demo: stopped."
}
trap cleanup EXIT
trap 'exit 0' INT TERM

stack_start_sse
stack_start_ws
stack_start_server "$server" || {
	echo "litepush demo: $server did not start; see var/demo/" >&2
	exit 1
}

# The clock: a publisher like any other, one event a second.
(
	while :; do
		"$litepush" publish var/events.db clock --event tick \
		    "$(date +%H:%M:%S)" >/dev/null || :
		sleep 1
	done
) 2>>var/demo/clock.log &
clock_pid=$!

site=http://127.0.0.1:$port
cat <<END

litepush demo: $server on $site/ (logs and configuration in var/demo/)

  $site/            Server-Sent Events (index.html)
  $site/ws.html     WebSocket
  $site/chat.html   a chat over both
  $site/private.html  private notifications, behind a login:
                      alice (password $alice_password), bob ($bob_password)

The channel "clock" ticks every second.  Publish from another terminal,
with the sqlite3 shell or with the litepush tool:

  sqlite3 var/events.db "INSERT INTO events(channel, event, data) VALUES('demo', 'add', 'hello')"
  build/cli/litepush publish var/events.db demo --event add hello

and follow a stream without a browser:

  curl -N '$site/stream?channel=demo,clock'

A notification for alice only (her private.html shows it, bob's does not):

  sqlite3 var/events.db "INSERT INTO events(channel, data) VALUES('user.alice', 'hello alice')"
  curl -N -u alice:$alice_password '$site/private/stream?channel=user.alice'

Ctrl-C stops everything.
END

wait "$stack_server_pid" || :
echo "litepush demo: $server exited; see var/demo/$server.log" >&2
exit 1
