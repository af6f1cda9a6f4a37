# stack.sh: runs litepush as the example files deploy it; sourced by demo.sh
# and the tests (tests/examples.sh, tests/browser-*.sh).
#
# Everything is rendered from the files a user copies: the web server's
# configuration from apache.conf.example or lighttpd.conf.example (only its
# Define / var.litepush_* lines rewritten), and each daemon's command line
# from its systemd unit in contrib/systemd/ (ExecStart, Environment, UMask;
# only paths and ports replaced).  Set first:
#
#   stack_src       the source tree (examples, contrib/, www/)
#   stack_build     the build tree (cli/, fcgi/, ws/)
#   stack_dir       where the rendered files, logs and pid files go
#   stack_state     the store's directory, for /var/lib/litepush
#   stack_run       the directory of the socket, for /run/litepush
#   stack_www       the pages the web server serves
#   stack_port      the web server's port on 127.0.0.1
#   stack_ws_port   litepush-ws's port on 127.0.0.1
#   stack_htpasswd  the users of the login (/private/), for
#                   /etc/litepush/htpasswd
#
# Functions:
#
#   stack_add_user FILE USER PASSWORD  a line of an htpasswd file
#   stack_render_example SOURCE OUTPUT NAME=VALUE...
#   stack_render_unit NAME             contrib/systemd/NAME.service
#   stack_start_sse / stack_start_ws   set $stack_sse_pid / $stack_ws_pid
#   stack_start_server lighttpd|apache sets $stack_server_pid
#   stack_wait SECONDS COMMAND...      polls COMMAND until it succeeds
#   stack_serves URL                   succeeds once URL answers at all
#
# Each process is started in the background of the calling shell, its
# output in $stack_dir/NAME.log; the caller stops them by PID.  Note that
# lighttpd must be stopped with SIGTERM: SIGINT waits for the streams.

# shellcheck shell=sh
# The stack_* variables are set and read by the script that sources this.
# shellcheck disable=SC2034,SC2154

# Prints the user the web server's workers run as, started by this user.
stack_web_user()
{
	if [ "$(id -u)" -eq 0 ]; then
		echo www-data
	else
		id -un
	fi
}

# Adds USER ($2) with PASSWORD ($3) to the htpasswd file $1, as `htpasswd
# -b -5` would: a SHA-512 crypt hash ($6$), made by perl's crypt(), that is
# the C library's, which Apache and lighttpd both check passwords with.
# perl-base is in every Debian, Apache's htpasswd (apache2-utils) only
# where Apache is.  Note that the password is on perl's command line, for
# demo users only.
stack_add_user()
{
	perl -e '
		my @chars = (".", "/", 0 .. 9, "A" .. "Z", "a" .. "z");
		open(my $random, "<", "/dev/urandom") or die "/dev/urandom: $!\n";
		read($random, my $bytes, 16) == 16 or die "/dev/urandom: short read\n";
		my $salt = join("", map { $chars[ord($_) % 64] } split(//, $bytes));
		my $hash = crypt($ARGV[1], "\$6\$$salt\$");
		defined($hash) && $hash =~ /^\$6\$/ or die "crypt() has no SHA-512\n";
		print "$ARGV[0]:$hash\n";
	' "$2" "$3" >>"$1"
}

# Writes SOURCE to OUTPUT with each NAME=VALUE replacing the line that sets
# NAME: `Define NAME "..."` (Apache) or `var.NAME = ...` (lighttpd, quoted
# if the original value is).  Fails, saying which, if a NAME is not set by
# exactly one line: the example and its users would have drifted apart.
stack_render_example()
{
	stack_render_source=$1
	stack_render_output=$2
	shift 2
	cp "$stack_render_source" "$stack_render_output.tmp" || return 1
	for stack_render_pair in "$@"; do
		stack_render_name=${stack_render_pair%%=*}
		stack_render_value=$(printf '%s\n' "${stack_render_pair#*=}" |
		    sed 's/[\\|&]/\\&/g')
		stack_render_count=$(grep -c -E \
		    "^(Define $stack_render_name |var\\.$stack_render_name *=)" \
		    "$stack_render_output.tmp")
		if [ "$stack_render_count" -ne 1 ]; then
			echo "stack.sh: $stack_render_source sets $stack_render_name on $stack_render_count lines, not 1" >&2
			rm -f "$stack_render_output.tmp"
			return 1
		fi
		sed -i -E \
		    -e "s|^Define $stack_render_name .*|Define $stack_render_name \"$stack_render_value\"|" \
		    -e "s|^var\\.$stack_render_name *= *\".*|var.$stack_render_name = \"$stack_render_value\"|" \
		    -e t \
		    -e "s|^var\\.$stack_render_name *= *.*|var.$stack_render_name = $stack_render_value|" \
		    "$stack_render_output.tmp"
	done
	mv "$stack_render_output.tmp" "$stack_render_output"
}

# Writes contrib/systemd/$1.service to $stack_dir/$1.service with the
# example's paths and ports replaced by the stack's.
stack_render_unit()
{
	sed -e "s|/usr/local/bin/litepush-sse|$stack_build/fcgi/litepush-sse|g" \
	    -e "s|/usr/local/bin/litepush-ws|$stack_build/ws/litepush-ws|g" \
	    -e "s|/var/lib/litepush|$stack_state|g" \
	    -e "s|/run/litepush|$stack_run|g" \
	    -e "s|127\\.0\\.0\\.1:8131|127.0.0.1:$stack_ws_port|g" \
	    "$stack_src/contrib/systemd/$1.service" >"$stack_dir/$1.service"
}

# Starts the ExecStart of unit $1 (contrib/systemd/$1.service, rendered)
# with its Environment and UMask, output to $stack_dir/$1.log; sets
# $stack_pid.  Variables already in the environment stay unless the unit
# sets them (as with a drop-in's).  Note that the unit's values must not
# hold blanks: they are split here as words.
stack_start_unit()
{
	stack_render_unit "$1" || return 1
	stack_unit_env=$(sed -n 's/^Environment=//p' "$stack_dir/$1.service")
	stack_unit_exec=$(sed -n 's/^ExecStart=//p' "$stack_dir/$1.service")
	stack_unit_umask=$(sed -n 's/^UMask=//p' "$stack_dir/$1.service")
	# shellcheck disable=SC2086 # the unit's words, split as systemd does
	(
		umask "${stack_unit_umask:-0022}"
		exec setsid env $stack_unit_env $stack_unit_exec
	) >>"$stack_dir/$1.log" 2>&1 </dev/null &
	stack_pid=$!
}

# Polls COMMAND every 0.1 s until it succeeds (0) or SECONDS pass (1).
stack_wait()
{
	stack_wait_tries=$(($1 * 10))
	shift
	until "$@" >/dev/null 2>&1; do
		stack_wait_tries=$((stack_wait_tries - 1))
		[ "$stack_wait_tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

# Succeeds once something answers HTTP at URL $1, whatever the status.
stack_serves()
{
	curl -s -o /dev/null --max-time 5 "$1"
}

# Starts litepush-sse from its unit; returns once its socket is there.
stack_start_sse()
{
	rm -f "$stack_run/sse.sock"
	stack_start_unit litepush-sse
	stack_sse_pid=$stack_pid
	stack_wait 20 test -S "$stack_run/sse.sock" || {
		echo "stack.sh: litepush-sse did not create $stack_run/sse.sock:" >&2
		tail -n 5 "$stack_dir/litepush-sse.log" >&2
		return 1
	}
	# The web server's user is in the socket's group in a real setup (see
	# the unit); as root here, the socket's group is root's.
	if [ "$(id -u)" -eq 0 ]; then
		chgrp "$(stack_web_user)" "$stack_run/sse.sock"
	fi
}

# Starts litepush-ws from its unit; returns once it answers.
stack_start_ws()
{
	stack_start_unit litepush-ws
	stack_ws_pid=$stack_pid
	stack_wait 20 stack_serves "http://127.0.0.1:$stack_ws_port/" || {
		echo "stack.sh: litepush-ws does not answer on port $stack_ws_port:" >&2
		tail -n 5 "$stack_dir/litepush-ws.log" >&2
		return 1
	}
}

# Renders the example of web server $1 (lighttpd or apache) into
# $stack_dir and starts it in the foreground of a background job; returns
# once it answers on $stack_port.
stack_start_server()
{
	case $1 in
	lighttpd)
		stack_render_example "$stack_src/lighttpd.conf.example" \
		    "$stack_dir/lighttpd.conf" \
		    litepush_bind=127.0.0.1 litepush_port="$stack_port" \
		    litepush_www="$stack_www" \
		    litepush_sse_socket="$stack_run/sse.sock" \
		    litepush_ws_host=127.0.0.1 \
		    litepush_ws_port="$stack_ws_port" \
		    litepush_htpasswd="$stack_htpasswd" || return 1
		/usr/sbin/lighttpd -tt -f "$stack_dir/lighttpd.conf" \
		    >>"$stack_dir/lighttpd.log" 2>&1 || {
			tail -n 5 "$stack_dir/lighttpd.log" >&2
			return 1
		}
		setsid /usr/sbin/lighttpd -D -f "$stack_dir/lighttpd.conf" \
		    >>"$stack_dir/lighttpd.log" 2>&1 </dev/null &
		;;
	apache)
		stack_render_example "$stack_src/apache.conf.example" \
		    "$stack_dir/apache-site.conf" \
		    LITEPUSH_PORT="$stack_port" \
		    LITEPUSH_SERVER_NAME=127.0.0.1 \
		    LITEPUSH_WWW="$stack_www" \
		    LITEPUSH_SSE_SOCKET="$stack_run/sse.sock" \
		    LITEPUSH_WS="127.0.0.1:$stack_ws_port" \
		    LITEPUSH_HTPASSWD="$stack_htpasswd" || return 1
		sed -e "s|@DIR@|$stack_dir|g" \
		    -e "s|@LISTEN@|127.0.0.1:$stack_port|g" \
		    -e "s|@SITE@|$stack_dir/apache-site.conf|g" \
		    "$stack_src/contrib/apache-standalone.conf.in" \
		    >"$stack_dir/apache.conf"
		/usr/sbin/apache2 -t -f "$stack_dir/apache.conf" \
		    >>"$stack_dir/apache.log" 2>&1 || {
			tail -n 5 "$stack_dir/apache.log" >&2
			return 1
		}
		setsid /usr/sbin/apache2 -f "$stack_dir/apache.conf" -DFOREGROUND \
		    >>"$stack_dir/apache.log" 2>&1 </dev/null &
		;;
	*)
		echo "stack.sh: no such web server: $1" >&2
		return 1
		;;
	esac
	stack_server_pid=$!
	stack_wait 20 stack_serves "http://127.0.0.1:$stack_port/" || {
		echo "stack.sh: $1 does not answer on port $stack_port:" >&2
		tail -n 5 "$stack_dir/$1.log" >&2
		return 1
	}
}
