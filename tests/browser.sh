# browser.sh: the pages of www/ in a real browser (headless Chromium, driven
# by tests/browser/pages.mjs through playwright-core) against litepush as
# the examples deploy it: the web server from its example file, the two
# daemons from their systemd units.  Sourced after lib.sh by
# browser-lighttpd.sh and browser-apache.sh, which set $server.
#
# Screenshots of the pages go to $top_builddir/tests/screenshots/.
# litepush-sse runs with LITEPUSH_MAX_AGE=3, so that the pages meet the
# pause often, and both daemons with a key for signed grants
# (LITEPUSH_JWT_KEY), for the token callback's checks.

# shellcheck shell=sh
# lib.sh and the sourcing script set what this reads.
# shellcheck disable=SC2154
require_command node npm flock /usr/bin/chromium
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
	echo "skip: playwright-core needs Node.js 20 or later, not $(node --version)"
	exit 77
fi

browser_dir=$top_srcdir/tests/browser
browser_packages

# shellcheck source=tests/stack_setup.sh
. "$top_srcdir/tests/stack_setup.sh"

# Stops the daemons, whose PIDs control.sh keeps in files (a restarted one
# is not a child of this shell), then what lib.sh tracks.
browser_cleanup()
{
	for pid_file in "$tmp"/litepush-sse.pid "$tmp"/litepush-ws.pid; do
		[ -f "$pid_file" ] && kill -TERM "$(cat "$pid_file")" 2>/dev/null
	done
	lib_cleanup
}
trap browser_cleanup EXIT

LITEPUSH_MAX_AGE=3
export LITEPUSH_MAX_AGE
# Signed grants, for the token checks of pages.mjs: both daemons get the
# key as a drop-in's Environment= would give it (the units carry none).
# The test page and the token it fetches are under the login, /private/.
printf 'the browser tests secret\n' >"$tmp/jwt.key"
LITEPUSH_JWT_KEY=$tmp/jwt.key
export LITEPUSH_JWT_KEY
mkdir -p "$stack_www/private"
cp "$browser_dir/token.html" "$stack_www/private/token.html"
: >"$stack_www/private/token.txt"
chmod -R a+rX "$stack_www/private"
control=$browser_dir/control.sh
if sh "$control" start-sse && sh "$control" start-ws; then
	ok "litepush-sse and litepush-ws start from their systemd units"
else
	fail "litepush-sse and litepush-ws start from their systemd units"
	finish
fi
stack_server_pid=
stack_start_server "$server"
stack_server_status=$?
[ -n "$stack_server_pid" ] && track_pid "$stack_server_pid"
if [ "$stack_server_status" -eq 0 ]; then
	ok "$server serves the pages, /stream and /ws from its example"
else
	fail "$server serves the pages, /stream and /ws from its example"
	finish
fi

shots=$top_builddir/tests/screenshots
mkdir -p "$shots"
LITEPUSH_URL=http://127.0.0.1:$stack_port
LITEPUSH_DB=$db
LITEPUSH_CONTROL=$control
LITEPUSH_SCREENSHOTS=$shots
LITEPUSH_SERVER=$server
LITEPUSH_PROFILE=$tmp/chromium-profile
LITEPUSH_TOKEN_DIR=$stack_www/private
export LITEPUSH_URL LITEPUSH_DB LITEPUSH_CONTROL LITEPUSH_SCREENSHOTS \
    LITEPUSH_SERVER LITEPUSH_PROFILE LITEPUSH_TOKEN_DIR
node "$browser_dir/pages.mjs" >"$tmp/pages.out" 2>"$tmp/pages.err"
pages_status=$?

# Each line "ok - ..." or "not ok - ..." of pages.mjs is one check here.
while IFS= read -r line; do
	case $line in
	"ok - "*)
		ok "${line#ok - }"
		;;
	"not ok - "*)
		fail "${line#not ok - }"
		;;
	*)
		printf '%s\n' "$line"
		;;
	esac
done <"$tmp/pages.out"
if [ "$pages_status" -eq 0 ] && grep -qx '# done' "$tmp/pages.out"; then
	ok "pages.mjs ran to its end"
else
	fail "pages.mjs ran to its end" "exit 0 after '# done'" \
	    "exit $pages_status: $(tail -n 20 "$tmp/pages.err")"
fi

if stop_pid "$stack_server_pid"; then
	ok "$server stops on SIGTERM"
else
	fail "$server stops on SIGTERM" "exit within 10 s" "SIGKILL needed"
fi
for name in litepush-sse litepush-ws; do
	pid=$(cat "$tmp/$name.pid")
	kill -TERM "$pid"
	if poll_until 10 pid_gone "$pid"; then
		ok "$name stops on SIGTERM"
	else
		fail "$name stops on SIGTERM" "exit within 10 s" "still running"
	fi
	rm -f "$tmp/$name.pid"
done

if [ "$lib_failed" -gt 0 ]; then
	for log in "$tmp"/*.log "$tmp/pages.err"; do
		echo "# --- $log"
		tail -n 30 "$log" | sed 's/^/# /'
	done
fi
finish
