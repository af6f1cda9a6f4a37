#!/bin/sh
# memory.sh: memory that litepush-ws frees goes back to the system, as
# resident set size (/proc), not only in the allocator's counters.  50
# WebSockets that never read, while twenty rows of 1 MB come, make the
# daemon hold a megabyte or more for each; once they are dropped (two
# missed pings) and gone, the RSS comes back near where it was (it stayed
# at the peak, 80 MB, before net/proc.c fixed glibc's mmap threshold).

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/faults_lib.sh
. "$top_srcdir/tests/faults_lib.sh"

db=$tmp/events.db
"$litepush" init "$db" >/dev/null

# Under AddressSanitizer freed memory sits in its quarantine: the RSS
# figures are printed there, not checked (tests/skips-allowed).
sanitized=
if ldd "$ws_bin" 2>/dev/null | grep -q libasan; then
	sanitized=yes
fi

# Succeeds when litepush-ws has no TCP connection open (its listener aside).
no_connections()
{
	[ "$(ls -l "/proc/$ws_pid/fd" 2>/dev/null | grep -c socket)" -le 1 ]
}

start_ws --ping 1
# A warm-up: a reader that takes two rows of 1 MB whole, as a daemon that
# has run a while has done; the memory they needed has been freed since.
start_follow warm --transport ws --url "$ws_url" --channels warm \
    --count 2 --timeout 60 --ready-file "$tmp/warm.ready"
wait_for "a reader is connected" 20 follow_ready warm "$follow_pid"
for i in 1 2; do
	sql "INSERT INTO events(channel, data)
	    VALUES('warm', replace(hex(zeroblob(524288)), '0', 'w'))"
done
end_follow "it gets both rows" warm "$follow_pid"
baseline=$(rss_kb "$ws_pid")

rm -f "$tmp/go"
"$PYTHON" "$fault_client" stall --transport ws --url "$ws_url" \
    --channels big --concurrent 50 --hold-until "$tmp/go" \
    --drain-timeout 20 --timeout 120 --ready-file "$tmp/stall.ready" \
    >"$tmp/stall.out" 2>"$tmp/stall.err" &
stall_pid=$!
track_pid "$stall_pid"
wait_for "50 WebSockets that never read are open" 20 \
    follow_ready stall "$stall_pid"
# Rows of 1 MB, until the 50 hold some each (their sockets full).
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	sql "INSERT INTO events(channel, data)
	    VALUES('big', replace(hex(zeroblob(524288)), '0', '$i'))"
done
wait_for "they are dropped after two missed pings" 30 \
    has_cursors "$ws_pid" "$tmp/ws.log" 0
# Their connections go once they read the close (they now read).
: >"$tmp/go"
wait "$stall_pid"
untrack_pid "$stall_pid"
expect_eq "and find their connection closed" "" \
    "$(grep -v '^\(eof\|reset\) ' "$tmp/stall.out")"
wait_for "the daemon holds no connection for them" 10 no_connections
after=$(rss_kb "$ws_pid")
peak=$(peak_rss_kb "$ws_pid")
echo "# memory: litepush-ws RSS $baseline kB at start, $peak kB at the peak, $after kB once they are dropped"
if [ -n "$sanitized" ]; then
	echo "# skip the RSS checks: built with AddressSanitizer ($baseline, $peak, $after kB)"
else
	if [ $((peak - baseline)) -ge 40960 ]; then
		ok "the 50 made the daemon hold over 40 MB ($baseline kB to $peak kB)"
	else
		fail "the 50 made the daemon hold over 40 MB" \
		    "more than $((baseline + 40960)) kB" "$peak kB"
	fi
	# The ring keeps the newest rows, up to 16 MiB of them: that, and
	# 8 MB of slack for the allocator and SQLite's cache, may stay.
	if [ $((after - baseline)) -le 24576 ]; then
		ok "once they are dropped, the RSS is back within the ring's 16 MB and 8 MB of the start ($after kB)"
	else
		fail "once they are dropped, the RSS is back within the ring's 16 MB and 8 MB of the start" \
		    "at most $((baseline + 24576)) kB" "$after kB"
	fi
fi
if pid_gone "$ws_pid"; then
	fail "litepush-ws is still running" running exited
else
	ok "litepush-ws is still running"
fi
finish
