#!/bin/sh
# hostile-ws.sh: litepush-ws while a publisher waits for a locked store.
# A writer holds SQLite's lock (BEGIN IMMEDIATE) while one client sends 40
# publishes in one go: the other clients must notice nothing (pings
# answered, new handshakes completed, each within 2 s where the old loop
# stalled about 8 s), and the publisher gets, in order, an ack or "event
# store busy" for each message.

# Helpers called only through wait_for look unreachable to shellcheck.
# shellcheck disable=SC2317
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/ws_scenarios.sh
. "$(dirname "$0")/ws_scenarios.sh"

port=$(free_port)
start_ws --listen "127.0.0.1:$port" --publish 'chat*'
wait_for "litepush-ws listens" 10 port_listens "$port"

cat >"$test_tmpdir/locked.py" <<'PY'
import asyncio, json, sqlite3, sys, time
import websockets

url, db = sys.argv[1], sys.argv[2]

async def main():
    lock = sqlite3.connect(db, isolation_level=None)
    observer = await websockets.connect(url + "?channel=other",
                                        ping_interval=None)
    publisher = await websockets.connect(url + "?channel=quiet",
                                         ping_interval=None)
    await publisher.recv()  # its {"position":N}
    lock.execute("BEGIN IMMEDIATE")
    for i in range(40):
        await publisher.send(json.dumps({"channel": "chat", "data": "m%d" % i}))
    replies = [json.loads(await asyncio.wait_for(publisher.recv(), 30))]
    # While the others wait for the lock (200 ms each, 8 s in all):
    for i in range(3):
        t = time.monotonic()
        try:
            await asyncio.wait_for(await observer.ping(), 2)
            print("ping ok")
        except asyncio.TimeoutError:
            print("ping stalled")
        t = time.monotonic()
        try:
            ws = await asyncio.wait_for(
                websockets.connect(url + "?channel=other", ping_interval=None), 2)
            await ws.close()
            print("handshake ok")
        except asyncio.TimeoutError:
            print("handshake stalled")
    lock.execute("COMMIT")
    lock.close()
    while len(replies) < 40:
        replies.append(json.loads(await asyncio.wait_for(publisher.recv(), 30)))
    for i, reply in enumerate(replies):
        if "ack" in reply:
            print("reply %d ack %d" % (i, reply["ack"]))
        else:
            print("reply %d error %s" % (i, reply["error"]))
    await publisher.close()
    await observer.close()

asyncio.run(main())
PY
run "$PYTHON" "$test_tmpdir/locked.py" "ws://127.0.0.1:$port/" "$db"
expect_eq "the client ran" 0 "$run_status"
expect_eq "while 40 publishes wait for the lock, another client's pings are answered at once" \
    "3" "$(printf '%s\n' "$run_out" | grep -c '^ping ok$')"
expect_eq "and new handshakes complete at once" \
    "3" "$(printf '%s\n' "$run_out" | grep -c '^handshake ok$')"
replies=$(printf '%s\n' "$run_out" | grep '^reply ')
expect_eq "the publisher gets 40 replies" 40 "$(printf '%s\n' "$replies" | grep -c .)"
expect_eq "each an ack or 'event store busy: try again'" "" \
    "$(printf '%s\n' "$replies" | grep -v ' ack [0-9]*$' |
        grep -v ' error event store busy: try again$')"
expect_eq "the first, answered while the lock was held, is busy" \
    "reply 0 error event store busy: try again" \
    "$(printf '%s\n' "$replies" | head -n 1)"
# In order: the row each ack names holds the data of the message it
# answers (reply i is for message "m<i>").
mismatch=$(printf '%s\n' "$replies" | awk '$3 == "ack" { print $2, $4 }' |
    while read -r i id; do
	data=$(sqlite3 "$db" "SELECT data FROM events WHERE id = $id")
	[ "$data" = "m$i" ] || echo "reply $i: row $id holds $data"
done)
expect_eq "each ack answers its own message, in order" "" "$mismatch"
if kill -0 "$ws_pid" 2>/dev/null; then
	ok "litepush-ws is still running"
else
	fail "litepush-ws is still running" running gone
fi
finish
