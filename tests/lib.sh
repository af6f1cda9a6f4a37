# lib.sh: helpers the shell integration tests share; sourced by tests/*.sh.
#
# A test script sources this file, runs its checks with ok/fail/expect_*,
# and ends with `finish`.  It gets:
#
#   $top_srcdir, $top_builddir  from the environment (make check sets both),
#                               else the parent of the script's directory
#   $test_tmpdir                a fresh directory, removed on exit
#   track_pid PID               kill (by PID) and reap PID on exit
#   untrack_pid PID             forget PID once the test has reaped it
#   ok DESC / fail DESC [EXPECTED GOT]
#   expect_eq DESC EXPECTED GOT
#   expect_contains DESC NEEDLE HAYSTACK
#   expect_not_contains DESC NEEDLE HAYSTACK
#   expect_same_lines DESC EXPECTED_FILE GOT_FILE
#   run COMMAND...              sets $run_status, $run_out, $run_err
#   wait_for DESC TIMEOUT_SECONDS COMMAND...
#   poll_until TIMEOUT_SECONDS COMMAND...  the same, silent: only the status
#   free_port                   prints a free TCP port on 127.0.0.1
#   require_command NAME...     skips the script (exit 77) without them
#   pid_gone PID                succeeds once PID has exited (zombie or reaped)
#   stop_pid PID                SIGTERM, then SIGKILL after 10 s; reaps it
#   descendant_pids PID         prints the PIDs of every process below PID
#   pids_below PID PROGRAM      the same, only those running PROGRAM
#   header NAME FILE            the value of header NAME in the response
#                               head FILE (curl -D), without the CR
#   has_line FILE LINE          succeeds when FILE has exactly that line
#   sse_answers URL             succeeds when litepush-sse itself answers
#                               at URL (through the web server in front)
#   render TEMPLATE OUTPUT NAME=VALUE...  copies TEMPLATE, @NAME@ -> VALUE
#   at_exit COMMAND             runs COMMAND (a shell string) on exit, after
#                               the tracked processes are stopped and before
#                               the temporary directory is removed
#   rss_kb PID / peak_rss_kb PID  VmRSS / VmHWM of PID in kB (from /proc)
#   browser_packages            installs tests/browser's npm packages once
#                               per source tree, or fails the script
#   login_users FILE            an htpasswd file with alice and bob
#                               (passwords alice-secret, bob-secret)
#   basic USER                  the Authorization: Basic line for USER
#   status_and_reason USER URL  "STATUS first-line-of-body" for URL as
#                               USER ("-" for nobody), with curl
#   finish                      prints the counts, exits 1 on any failure
#
# Note that Python, where a test needs it, is /usr/bin/python3: the python3
# first on PATH may be another build.

lib_script_dir=$(cd "$(dirname "$0")" && pwd)
: "${top_srcdir:=$(dirname "$lib_script_dir")}"
: "${top_builddir:=$(dirname "$lib_script_dir")}"
export top_srcdir top_builddir

PYTHON=/usr/bin/python3

lib_passed=0
lib_failed=0
lib_pids=
lib_exit_commands=

# Kills the tracked processes and removes the temporary directory.
lib_cleanup()
{
	for lib_pid in $lib_pids; do
		kill "$lib_pid" 2>/dev/null
		wait "$lib_pid" 2>/dev/null
	done
	lib_pids=
	# The commands of at_exit (an unmount, say), in the order given.
	eval "$lib_exit_commands"
	lib_exit_commands=
	# LITEPUSH_TEST_KEEP=1 keeps a failed test's directory (its logs).
	if [ -n "${test_tmpdir:-}" ] && [ "${LITEPUSH_TEST_KEEP:-}" = 1 ] &&
	    [ "${lib_failed:-0}" -gt 0 ]; then
		echo "# kept $test_tmpdir"
	elif [ -n "${test_tmpdir:-}" ]; then
		rm -rf "$test_tmpdir"
	fi
}
trap lib_cleanup EXIT
# Note that sh runs the EXIT trap after a signal only if the signal is caught.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

test_tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/litepush-test.XXXXXX") || {
	echo "cannot create a temporary directory" >&2
	exit 99
}

# Registers a background process to be killed and reaped on exit.
track_pid()
{
	lib_pids="$lib_pids $1"
}

# Forgets a process the test has reaped itself, so its PID is never killed.
untrack_pid()
{
	lib_keep=
	for lib_pid in $lib_pids; do
		[ "$lib_pid" = "$1" ] || lib_keep="$lib_keep $lib_pid"
	done
	lib_pids=$lib_keep
}

# Reports a passed check.
ok()
{
	lib_passed=$((lib_passed + 1))
	printf 'ok - %s\n' "$1"
}

# Reports a failed check, with what was expected and what came.
fail()
{
	lib_failed=$((lib_failed + 1))
	printf 'not ok - %s\n' "$1"
	if [ $# -ge 3 ]; then
		printf 'Expected: %s\n' "$2"
		printf 'But got: %s\n' "$3"
	fi
}

# Checks that GOT is exactly EXPECTED.
expect_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		fail "$1" "$2" "$3"
	fi
}

# Checks that HAYSTACK contains NEEDLE.
expect_contains()
{
	case $3 in
	*"$2"*)
		ok "$1"
		;;
	*)
		fail "$1" "something containing: $2" "$3"
		;;
	esac
}

# Checks that HAYSTACK does not contain NEEDLE.
expect_not_contains()
{
	case $3 in
	*"$2"*)
		fail "$1" "nothing containing: $2" "$3"
		;;
	*)
		ok "$1"
		;;
	esac
}

# Checks that file EXPECTED holds the same lines as file GOT.
expect_same_lines()
{
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		fail "$1" "$(wc -l <"$2") lines: $(head -c 60 "$2" | tr '\n' ' ')..." \
		    "$(wc -l <"$3") lines: $(head -c 60 "$3" | tr '\n' ' ')...; first difference: $(diff "$2" "$3" | head -n 3 | tr '\n' ' ')"
	fi
}

# Runs a command; sets $run_status, $run_out and $run_err (trailing
# newlines removed, as by command substitution).
# shellcheck disable=SC2034
run()
{
	"$@" >"$test_tmpdir/.run.out" 2>"$test_tmpdir/.run.err"
	run_status=$?
	run_out=$(cat "$test_tmpdir/.run.out")
	run_err=$(cat "$test_tmpdir/.run.err")
}

# Polls COMMAND every 0.05 s until it succeeds or TIMEOUT_SECONDS, a whole
# number, pass; returns the command's last status and prints nothing.
poll_until()
{
	lib_tries=$(($1 * 20))
	shift
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		lib_tries=$((lib_tries - 1))
		if [ "$lib_tries" -le 0 ]; then
			return 1
		fi
		sleep 0.05
	done
}

# Polls COMMAND like poll_until, reporting success (ok) or the timeout (fail).
wait_for()
{
	lib_desc=$1
	shift
	if poll_until "$@"; then
		ok "$lib_desc"
		return 0
	fi
	shift
	fail "$lib_desc" "success of: $*" "still failing"
	return 1
}

# Prints a TCP port that is free on 127.0.0.1 now.
free_port()
{
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Skips the script (exit 77 for automake) when a command is missing.
require_command()
{
	for lib_command in "$@"; do
		if ! command -v "$lib_command" >/dev/null 2>&1; then
			echo "skip: $lib_command not found"
			exit 77
		fi
	done
}

# Succeeds once process PID has exited; a zombie not yet reaped counts.
pid_gone()
{
	kill -0 "$1" 2>/dev/null || return 0
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	Z*)
		return 0
		;;
	esac
	return 1
}

# Stops process PID with SIGTERM (SIGKILL if it is still there after 10 s),
# reaps it if it is a child of this shell and forgets it.  Returns 1 if it
# needed SIGKILL.
stop_pid()
{
	lib_status=0
	kill -TERM "$1" 2>/dev/null
	if ! poll_until 10 pid_gone "$1"; then
		kill -KILL "$1" 2>/dev/null
		lib_status=1
	fi
	wait "$1" 2>/dev/null
	untrack_pid "$1"
	return $lib_status
}

# Prints the PIDs of the children of PID, their children, and so on.
descendant_pids()
{
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			found[root] = 1
			do {
				more = 0
				for (pid in parent)
					if (!(pid in found) && (parent[pid] in found)) {
						found[pid] = 1
						print pid
						more = 1
					}
			} while (more)
		}'
}

# Prints the PIDs of the processes below process $1 whose command line
# holds the program $2.
pids_below()
{
	for lib_below in $(descendant_pids "$1"); do
		if tr '\0' ' ' <"/proc/$lib_below/cmdline" 2>/dev/null |
		    grep -qF -e "$2"; then
			echo "$lib_below"
		fi
	done
}

# Prints the value of header $1 in the header file $2, without the CR.
header()
{
	grep -i "^$1:" "$2" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# Succeeds once file $1 has a line that is exactly $2.
has_line()
{
	grep -qxF -e "$2" "$1"
}

# Succeeds when litepush-sse itself answers a request at URL $1 (the web
# server in front is up and reaches it): a 400 for a bad channel, or its
# own text/plain 503.
sse_answers()
{
	lib_code=$(curl -s -o /dev/null -D "$test_tmpdir/.answers.head" \
	    -w '%{http_code}' "$1?channel=bad%20channel") || return 1
	case $lib_code in
	400)
		return 0
		;;
	503)
		header Content-Type "$test_tmpdir/.answers.head" |
		    grep -q '^text/plain'
		;;
	*)
		return 1
		;;
	esac
}

# Writes TEMPLATE to OUTPUT with each @NAME@ replaced by VALUE.
render()
{
	lib_template=$1
	lib_output=$2
	shift 2
	lib_script=
	for lib_pair in "$@"; do
		lib_value=$(printf '%s\n' "${lib_pair#*=}" | sed 's/[\\|&]/\\&/g')
		lib_script="$lib_script s|@${lib_pair%%=*}@|$lib_value|g;"
	done
	sed -e "$lib_script" "$lib_template" >"$lib_output"
}

# Runs the shell command $1 on exit, after the tracked processes are
# stopped and before the temporary directory is removed.
at_exit()
{
	lib_exit_commands="$lib_exit_commands
$1"
}

# Prints the resident set size of process $1 in kB (0 if it is gone).
rss_kb()
{
	awk '/^VmRSS:/ { kb = $2 } END { print kb + 0 }' "/proc/$1/status" \
	    2>/dev/null || echo 0
}

# Prints the peak resident set size of process $1 in kB (0 if it is gone).
peak_rss_kb()
{
	awk '/^VmHWM:/ { kb = $2 } END { print kb + 0 }' "/proc/$1/status" \
	    2>/dev/null || echo 0
}

# Installs the npm packages tests/browser/package.json names (playwright-
# core, eventsource; the lock file pins them) once per source tree, under
# a lock so that parallel tests do not race; ends the script with npm's
# output when that fails.  It never downloads a browser: the tests use
# Debian's.
browser_packages()
{
	lib_browser_dir=$top_srcdir/tests/browser
	# shellcheck disable=SC2016
	if ! flock "$lib_browser_dir/package.json" sh -c '
	    [ -f "$1/node_modules/playwright-core/package.json" ] &&
	    [ -f "$1/node_modules/eventsource/package.json" ] ||
	    npm ci --prefix "$1" --no-audit --no-fund --loglevel=error' \
	    sh "$lib_browser_dir" >"$test_tmpdir/npm.log" 2>&1; then
		cat "$test_tmpdir/npm.log"
		fail "npm ci installs playwright-core and eventsource"
		finish
	fi
}

# Prints the counts of this script and exits 1 if anything failed.
finish()
{
	printf '%d passed, %d failed\n' "$lib_passed" "$lib_failed"
	if [ "$lib_failed" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

# Runs SQL ($@, or standard input) on the store $db with the sqlite3
# shell, as a publisher or an admin would, waiting up to 10 s for a lock.
sql()
{
	sqlite3 -cmd ".timeout 10000" "$db" "$@"
}

# Prints the ids of channel $1 in $db above $2 (default 0), one a line.
ids_of()
{
	sql "SELECT id FROM events WHERE channel = '$1' AND id > ${2:-0}
	    ORDER BY id"
}

# Prints a JWT minted by python3-jwt: the JSON claims $1, where "exp" is
# in seconds from now; algorithm $2 ("none" for an unsigned one); signed
# with the key file $3, its final newline dropped as --jwt-key does.
jwt_mint()
{
	"$PYTHON" -c 'import json, jwt, sys, time
claims = json.loads(sys.argv[1])
if "exp" in claims:
    claims["exp"] = int(time.time()) + claims["exp"]
key = None
if sys.argv[2] != "none":
    key = open(sys.argv[3], "rb").read().rstrip(b"\n")
print(jwt.encode(claims, key, algorithm=sys.argv[2]))' "$1" "$2" "$3"
}

# The logins of the access tests: alice and bob, each password the name
# and "-secret" (tests/stack_setup.sh gives the demo stack the same).

# Writes the htpasswd file $1 with alice and bob, readable by the web
# servers' workers; exits the script (99, a hard error) when it cannot.
login_users()
{
	htpasswd -b -c "$1" alice alice-secret >/dev/null 2>&1 &&
	    htpasswd -b "$1" bob bob-secret >/dev/null 2>&1 || exit 99
	chmod 644 "$1"
}

# Prints the Authorization header line for user $1.
basic()
{
	printf 'Authorization: Basic %s' \
	    "$(printf '%s:%s-secret' "$1" "$1" | base64)"
}

# Prints the status and the body's first line for URL $2 as user $1
# ("-" for nobody), with curl; the body goes to $test_tmpdir/reply.body.
status_and_reason()
{
	if [ "$1" = - ]; then
		set -- "$2"
	else
		set -- "$2" -u "$1:$1-secret"
	fi
	status_and_reason_code=$(curl -s --max-time 10 \
	    -o "$test_tmpdir/reply.body" -w '%{http_code}' "$@")
	echo "$status_and_reason_code $(head -n 1 "$test_tmpdir/reply.body")"
}

# The launcher of the servers (Apache, lighttpd, both daemons).
# shellcheck source=tests/servers.sh
. "$top_srcdir/tests/servers.sh"
