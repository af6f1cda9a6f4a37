# servers.sh: the one launcher of the shell tests, sourced by lib.sh:
# Apache, lighttpd, litepush-sse and litepush-ws started in the test's
# directory on free 127.0.0.1 ports, each by PID (tracked, so that lib.sh
# stops it when the script ends), its output appended to a log there.
#
# Each start_* renders or builds its command, starts it in the background,
# waits (poll_until, no check of its own) until it answers, and returns
# non-zero with a failed check naming the log when it does not.  The
# callers then check what they came to check.

# shellcheck shell=sh
# Helpers called only through poll_until look unreachable to shellcheck.
# shellcheck disable=SC2317

: "${sse:=$top_builddir/fcgi/litepush-sse}"
: "${ws_bin:=$top_builddir/ws/litepush-ws}"

# Runs COMMAND ($2...) as user $1 (with setpriv, as root) or, with $1
# empty, as whoever runs the tests.  Note that it replaces the shell it
# runs in: start it in the background (&), where $! is then the PID of
# COMMAND itself, which a kill -9 then reaches.
exec_as()
{
	exec_as_user=$1
	shift
	if [ -n "$exec_as_user" ]; then
		exec setpriv --reuid="$exec_as_user" --regid="$exec_as_user" \
		    --clear-groups "$@"
	fi
	exec "$@"
}

# Succeeds once something accepts TCP connections on 127.0.0.1 port $1.
port_listens()
{
	"$PYTHON" -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"
}

# Waits until the server $1 (PID $2, log $3) passes COMMAND ($4...);
# fails a check with the log's last lines when it does not, or dies.
servers_await()
{
	servers_await_name=$1 servers_await_pid=$2 servers_await_log=$3
	shift 3
	poll_until 20 "$@" && return 0
	if pid_gone "$servers_await_pid"; then
		servers_await_state="it exited"
	else
		servers_await_state="it runs but does not answer"
	fi
	fail "$servers_await_name starts" "$*" \
	    "$servers_await_state; $servers_await_log: $(tail -n 5 "$servers_await_log" 2>/dev/null)"
	return 1
}

# Starts web server $1 (apache or lighttpd) in the foreground on the
# template $2 rendered to $test_tmpdir/$1.conf with TMP, PORT (a free
# port) and the NAME=VALUE pairs $3...; its output goes to
# $test_tmpdir/$1.log.  Sets $web_pid and $web_port; waits until it
# listens.  The directory is opened to the server's workers (www-data, as
# root).
servers_start_web()
{
	web_name=$1 web_template=$2
	shift 2
	chmod 755 "$test_tmpdir"
	web_port=$(free_port)
	render "$web_template" "$test_tmpdir/$web_name.conf" \
	    TMP="$test_tmpdir" PORT="$web_port" "$@"
	case $web_name in
	apache)
		/usr/sbin/apache2 -f "$test_tmpdir/apache.conf" -DFOREGROUND \
		    >>"$test_tmpdir/apache.log" 2>&1 &
		;;
	lighttpd)
		/usr/sbin/lighttpd -D -f "$test_tmpdir/lighttpd.conf" \
		    >>"$test_tmpdir/lighttpd.log" 2>&1 &
		;;
	esac
	web_pid=$!
	track_pid "$web_pid"
	servers_await "$web_name" "$web_pid" "$test_tmpdir/$web_name.log" \
	    port_listens "$web_port"
}

# Starts Apache (servers_start_web) on the template $1 with the NAME=VALUE
# pairs $2...; sets $apache_pid and $apache_port.
start_apache()
{
	servers_start_web apache "$@"
	start_web_status=$?
	apache_pid=$web_pid apache_port=$web_port
	return $start_web_status
}

# Starts lighttpd (servers_start_web) on the template $1 with the
# NAME=VALUE pairs $2...; sets $lighttpd_pid and $lighttpd_port.  Note
# that lighttpd takes SIGINT as "finish the open responses first", which
# for streams is never: stop_pid stops it with SIGTERM.
start_lighttpd()
{
	servers_start_web lighttpd "$@"
	start_web_status=$?
	lighttpd_pid=$web_pid lighttpd_port=$web_port
	return $start_web_status
}

# Starts litepush-sse for $db on unix:$test_tmpdir/sse.sock with the
# options given, as $sse_user when that is set (setpriv); its standard
# error goes to $test_tmpdir/sse.log.  Sets $sse_pid; waits for the
# socket, which Apache's workers (www-data) may then connect to.
start_sse()
{
	rm -f "$test_tmpdir/sse.sock"
	exec_as "${sse_user:-}" "$sse" --listen "unix:$test_tmpdir/sse.sock" \
	    --db "$db" "$@" 2>>"$test_tmpdir/sse.log" &
	sse_pid=$!
	track_pid "$sse_pid"
	servers_await litepush-sse "$sse_pid" "$test_tmpdir/sse.log" \
	    test -S "$test_tmpdir/sse.sock" || return 1
	chmod 666 "$test_tmpdir/sse.sock"
}

# Starts litepush-ws for $db with the options given, as $ws_user when that
# is set; its standard error goes to $test_tmpdir/${ws_log:-ws}.log.
# Without a --listen among the options it listens on 127.0.0.1:$ws_port
# (a free port unless $ws_port is set, as after a crash) and is waited
# for; with one, the caller waits.  Sets $ws_pid, $ws_port and $ws_url.
start_ws()
{
	start_ws_listen=
	for start_ws_arg in "$@"; do
		case $start_ws_arg in
		--listen | --listen=*) start_ws_listen=given ;;
		esac
	done
	if [ -z "$start_ws_listen" ]; then
		: "${ws_port:=$(free_port)}"
		ws_url=ws://127.0.0.1:$ws_port/ws
		set -- --listen "127.0.0.1:$ws_port" "$@"
	fi
	exec_as "${ws_user:-}" "$ws_bin" --db "$db" "$@" \
	    2>>"$test_tmpdir/${ws_log:-ws}.log" &
	ws_pid=$!
	track_pid "$ws_pid"
	[ -n "$start_ws_listen" ] ||
	    servers_await litepush-ws "$ws_pid" \
	        "$test_tmpdir/${ws_log:-ws}.log" port_listens "$ws_port"
}

# The PostgreSQL of the tests: Debian's postgresql-15, found by its
# versioned directory (pg_config may be another major's).
: "${pg_bindir:=/usr/lib/postgresql/15/bin}"

# Starts a PostgreSQL cluster of its own in $test_tmpdir/pg: initdb, then
# postgres in the foreground of a background job, listening on a unix
# socket in $test_tmpdir/pg-run and on 127.0.0.1:$pg_port (a free port).
# As root it runs as the system user postgres (PostgreSQL refuses root),
# whom the directory is given to.  The superuser is litepush: the socket
# trusts it, TCP asks its password (scram-sha-256), which is
# $test_tmpdir/pg-password, kept in $PGPASSFILE for libpq (and psql) to
# find.  Sets $pg_pid, $pg_port, $pg_socket_dir and $pg_uri (a URI with no
# password, TCP), and PGHOST, PGPORT, PGUSER, PGDATABASE for psql.
start_postgres()
{
	start_postgres_user=
	[ "$(id -u)" -eq 0 ] && start_postgres_user=postgres
	pg_port=$(free_port)
	pg_socket_dir=$test_tmpdir/pg-run
	mkdir -p "$test_tmpdir/pg" "$pg_socket_dir" || return 1
	chmod a+x "$test_tmpdir"
	printf 'pg-%s\n' "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')" \
	    >"$test_tmpdir/pg-password"
	if [ -n "$start_postgres_user" ]; then
		chown "$start_postgres_user" "$test_tmpdir/pg" "$pg_socket_dir" \
		    "$test_tmpdir/pg-password"
	fi
	chmod 700 "$test_tmpdir/pg"
	(exec_as "$start_postgres_user" "$pg_bindir/initdb" -D "$test_tmpdir/pg" \
	    -U litepush --pwfile="$test_tmpdir/pg-password" \
	    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
	    --locale=C.UTF-8 --no-sync) >>"$test_tmpdir/postgres.log" 2>&1 || {
		fail "initdb makes a cluster" "exit 0" \
		    "$(tail -n 5 "$test_tmpdir/postgres.log")"
		return 1
	}
	exec_as "$start_postgres_user" "$pg_bindir/postgres" \
	    -D "$test_tmpdir/pg" -k "$pg_socket_dir" -p "$pg_port" \
	    -c listen_addresses=127.0.0.1 -c fsync=off \
	    -c log_min_messages=warning \
	    >>"$test_tmpdir/postgres.log" 2>&1 &
	pg_pid=$!
	track_pid "$pg_pid"
	PGPASSFILE=$test_tmpdir/pgpass
	printf '127.0.0.1:%s:*:litepush:%s\n' "$pg_port" \
	    "$(cat "$test_tmpdir/pg-password")" >"$PGPASSFILE"
	chmod 600 "$PGPASSFILE"
	PGHOST=$pg_socket_dir PGPORT=$pg_port PGUSER=litepush PGDATABASE=postgres
	export PGPASSFILE PGHOST PGPORT PGUSER PGDATABASE
	servers_await postgres "$pg_pid" "$test_tmpdir/postgres.log" \
	    "$pg_bindir/pg_isready" -q -h "$pg_socket_dir" -p "$pg_port" ||
	    return 1
	psql -q -X -v ON_ERROR_STOP=1 -c 'CREATE DATABASE litepush' \
	    >>"$test_tmpdir/postgres.log" 2>&1 || return 1
	PGDATABASE=litepush
	pg_uri=postgresql://litepush@127.0.0.1:$pg_port/litepush
}
