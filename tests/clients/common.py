"""common.py: what the test clients share besides the protocols: reads from
a socket bounded by a deadline, the ready file a shell script waits on,
and the report on K subscribers that must all have got the same events.
"""

import os
import socket
import sys
import time

from clients import http1


class Timeout(Exception):
    """The deadline passed."""


def now_ms():
    """The wall clock in milliseconds (what a pause time is written in)."""
    return int(time.time() * 1000)


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


class SocketReader:
    """A blocking socket read before a monotonic deadline; buffer holds
    what was read and not yet taken.  Each read raises Timeout when the
    deadline passes, and EOFError at the end of the stream (then eof is
    true)."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()
        self.eof = False

    def fill(self):
        """Reads once more into buffer."""
        data = recv_by(self.sock, self.deadline)
        if not data:
            self.eof = True
            raise EOFError()
        self.buffer += data

    def take(self, count):
        """Returns the next count bytes."""
        while len(self.buffer) < count:
            self.fill()
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def take_some(self):
        """Returns what is buffered, reading first if nothing is."""
        if not self.buffer:
            self.fill()
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def read_head(self):
        """Reads a response head; returns it parsed (http1.ResponseHead)
        and leaves what follows it in buffer."""
        searched = 0
        while True:
            end = http1.find_head_end(self.buffer,
                                      searched - len(http1.HEAD_END) + 1)
            if end >= 0:
                break
            searched = len(self.buffer)
            self.fill()
        head = bytes(self.buffer[:end])
        del self.buffer[:end]
        return http1.parse_response_head(head)


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

    Each of subs has .index, .events (tuples, the id first, a number) and
    .error (a reason, or None)."""
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
