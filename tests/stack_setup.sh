# stack_setup.sh: what examples.sh and browser.sh share, sourced after
# lib.sh: the variables of scripts/stack.sh for a stack in $test_tmpdir
# (store in state/, socket in run/, a copy of the pages in www/, two free
# ports, the login's users alice and bob in htpasswd, with the passwords
# alice-secret and bob-secret), a fresh store, and stack.sh itself.
#
# Note that the web server's workers run as www-data when the tests run as
# root: they read the pages and reach the socket in here, so the directory
# is opened to them and the pages are copied, as `make install` would.

# shellcheck shell=sh
# lib.sh sets what this reads.
# shellcheck disable=SC2154
require_command sqlite3 curl setsid

for program in "$top_builddir/cli/litepush" "$top_builddir/fcgi/litepush-sse" \
    "$top_builddir/ws/litepush-ws"; do
	if [ ! -x "$program" ]; then
		echo "not built: $program"
		exit 99
	fi
done

tmp=$test_tmpdir
chmod 755 "$tmp"
stack_src=$top_srcdir
stack_build=$top_builddir
stack_dir=$tmp
stack_state=$tmp/state
stack_run=$tmp/run
stack_www=$tmp/www
stack_port=$(free_port)
stack_ws_port=$(free_port)
stack_htpasswd=$tmp/htpasswd
export stack_src stack_build stack_dir stack_state stack_run stack_www \
    stack_port stack_ws_port stack_htpasswd
mkdir -p "$stack_state" "$stack_run"
cp -R "$top_srcdir/www" "$stack_www"
chmod -R a+rX "$stack_www" "$stack_run"
# shellcheck source=scripts/stack.sh
. "$top_srcdir/scripts/stack.sh"
db=$stack_state/events.db
# As demo.sh makes its users (readable by the web server's workers).
: >"$stack_htpasswd"
stack_add_user "$stack_htpasswd" alice alice-secret &&
    stack_add_user "$stack_htpasswd" bob bob-secret || exit 99
chmod 644 "$stack_htpasswd"
"$top_builddir/cli/litepush" init "$db" >/dev/null || exit 99
