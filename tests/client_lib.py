"""client_lib.py: what the test clients (fault_client.py, ws_client.py,
sse_client.py) share: the ready file a script waits on, the report on K
subscribers that must all have got the same events, and a read bounded by
a deadline.

Each client imports it from its own directory (tests/), so it is found
whatever the current directory.  Standard library only.
"""

import os
import socket
import sys
import time


class Timeout(Exception):
    """The deadline passed."""


def recv_by(sock, deadline):
    """Reads what sock has (up to 64 KiB) before the monotonic deadline;
    returns b"" at the end of the stream (or a reset), raises Timeout."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout()
    sock.settimeout(remaining)
    try:
        return sock.recv(65536)
    except socket.timeout:
        raise Timeout() from None
    except ConnectionResetError:
        return b""


def write_ready_file(path, count):
    """Writes count to path in one step (a rename), so that a script
    polling for path never reads it half written."""
    with open(path + ".tmp", "w") as ready:
        ready.write("%d\n" % count)
    os.rename(path + ".tmp", path)


def print_events(events, output, as_json):
    """Prints events (tuples, the id first) as --print asks: "ids" one id a
    line, "json" one as_json(event) a line; any other output nothing."""
    if output == "ids":
        for event in events:
            print(event[0])
    elif output == "json":
        for event in events:
            print(as_json(event))


def report_streams(subs, timeout, timed_out, details=""):
    """Says on standard error how the subscribers did and returns the exit
    status: 3 when timed_out, 1 when one failed or got other events than
    the first, else 0 after an "ok:" line that ends with details.

    Each of subs has .index, .events (tuples, the id first) and .error
    (a reason, or None)."""
    first = subs[0]
    name = "streams" if len(subs) > 1 else "stream"
    errors = [s for s in subs if s.error]
    for sub in errors[:5]:
        print("stream %d: %s" % (sub.index, sub.error), file=sys.stderr)
    if len(errors) > 5:
        print("... and %d more" % (len(errors) - 5), file=sys.stderr)
    if timed_out:
        counts = sorted({len(s.events) for s in subs})
        print("%d %s: timed out after %g s (having %s events)"
              % (len(subs), name, timeout,
                 "/".join(map(str, counts))), file=sys.stderr)
        return 3
    if errors:
        return 1
    for sub in subs[1:]:
        if sub.events != first.events:
            at = next((i for i, (a, b) in enumerate(zip(first.events,
                                                        sub.events))
                       if a != b), min(len(first.events), len(sub.events)))
            print("stream %d differs from stream 0 at event %d: %r, not %r"
                  % (sub.index, at, sub.events[at:at + 1],
                     first.events[at:at + 1]), file=sys.stderr)
            return 1
    ids = "%d..%d" % (first.events[0][0], first.events[-1][0]) \
        if first.events else "none"
    print("ok: %d %s, %d events each (ids %s)%s"
          % (len(subs), name, len(first.events), ids, details),
          file=sys.stderr)
    return 0
