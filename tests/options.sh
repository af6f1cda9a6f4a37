#!/bin/sh
# options.sh: the command line wins over LITEPUSH_<NAME>, for every
# spelling getopt accepts: "--pub chat" keeps LITEPUSH_PUBLISH out as
# "--publish chat" does, for both daemons.  (The tool, litepush, reads no
# LITEPUSH_ variables.)

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"
require_command timeout

# Starts litepush-ws on a free port with env $1 and the options after it;
# sets $url.
start_with_env()
{
	start_env=$1
	shift
	port=$(free_port)
	url=ws://127.0.0.1:$port/
	env "$start_env" "$ws_bin" --db "$db" --listen "127.0.0.1:$port" "$@" \
	    2>"$test_tmpdir/ws-$port.err" &
	ws_pid=$!
	track_pid "$ws_pid"
	poll_until 10 port_listens "$port"
}

# Prints the reply to one publish to channel $1.
reply_to()
{
	ws_client publish --url "$url" --channels news \
	    --send "{\"channel\":\"$1\",\"data\":\"x\"}" | sed 's/[0-9][0-9]*/N/'
}

for spelling in "--pub chat" "--pub=chat" "--publish chat" "--publ=chat"; do
	# shellcheck disable=SC2086 # the spelling is two words or one
	start_with_env "LITEPUSH_PUBLISH=*" $spelling
	expect_eq "LITEPUSH_PUBLISH='*' with $spelling: chat is allowed" \
	    'reply {"ack":N}' "$(reply_to chat)"
	expect_eq "and admin is not: the command line wins" "reply error" \
	    "$(reply_to admin)"
	stop_pid "$ws_pid"
done

for spelling in "--orig https://good.example" "--ori=https://good.example"; do
	# shellcheck disable=SC2086
	start_with_env "LITEPUSH_ORIGIN=*" $spelling
	run ws_client handshake --url "$url" --origin https://good.example
	expect_status "LITEPUSH_ORIGIN='*' with $spelling: that Origin gets 101" 101
	run ws_client handshake --url "$url" --origin http://evil.example
	expect_status "and another gets 403: the command line wins" 403
	stop_pid "$ws_pid"
done

# Without the option on the command line, the variable applies.
start_with_env "LITEPUSH_PUBLISH=*"
expect_eq "LITEPUSH_PUBLISH='*' alone allows admin" 'reply {"ack":N}' \
    "$(reply_to admin)"
stop_pid "$ws_pid"

# An option's value that looks like another option is a value, not the
# option: LITEPUSH_PUBLISH still applies.
for spelling in "--origin=--publish" "--origin --publish"; do
	# shellcheck disable=SC2086
	start_with_env "LITEPUSH_PUBLISH=*" $spelling
	expect_eq "$spelling does not count as --publish" 'reply {"ack":N}' \
	    "$(reply_to admin)"
	stop_pid "$ws_pid"
done

# litepush-sse, as plain CGI: its retry: field.  A single option's last
# value wins, so the variable given first would only show when it is
# refused: one the command line replaces is not even read.
for env_retry in 9000 soon; do
	for spelling in "--ret 1234" "--retry=1234"; do
		# shellcheck disable=SC2086
		LITEPUSH_RETRY=$env_retry REQUEST_METHOD=GET \
		    QUERY_STRING=channel=news timeout -k 1 3 \
		    "$top_builddir/fcgi/litepush-sse" --db "$db" $spelling \
		    >"$test_tmpdir/sse.out" 2>"$test_tmpdir/sse.err" </dev/null
		got=$(tr -d '\r' <"$test_tmpdir/sse.out" | grep -m 1 '^retry:')
		[ -n "$got" ] || got=$(cat "$test_tmpdir/sse.err")
		expect_eq "litepush-sse: LITEPUSH_RETRY=$env_retry with $spelling sends retry: 1234" \
		    "retry: 1234" "$got"
	done
done
LITEPUSH_RETRY=9000 REQUEST_METHOD=GET QUERY_STRING=channel=news \
    timeout -k 1 3 "$top_builddir/fcgi/litepush-sse" --db "$db" \
    >"$test_tmpdir/sse.out" 2>/dev/null </dev/null
expect_eq "and LITEPUSH_RETRY=9000 alone sends retry: 9000" "retry: 9000" \
    "$(tr -d '\r' <"$test_tmpdir/sse.out" | grep -m 1 '^retry:')"
finish
