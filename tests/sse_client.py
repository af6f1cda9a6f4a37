#!/usr/bin/python3
"""sse_client.py: a Server-Sent Events reader for the integration tests.

Opens one or more streams over raw HTTP/1.1 sockets (chunked, Content-Length
or close-delimited bodies), parses them by the WHATWG rules and checks, per
connection, that the event ids strictly increase (so none repeats).  With
--concurrent K every stream must receive the same events.  Stdlib only; run
it with /usr/bin/python3.

Exit status: 0 when every stream did what was asked, 1 when one did not (a
status other than 200, ids out of order, streams that differ, a response
that ended too soon), 2 on usage errors, 3 when --timeout ran out first.
The reason goes to standard error, with a one-line summary on success.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

# The clients package sits next to this script: found from any directory,
# also when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import common, http1, sse  # noqa: E402
from clients.common import Timeout, now_ms  # noqa: E402


class Failure(Exception):
    """A stream did not do what the test asked."""


class Stream:
    """One subscriber: connects, reads, checks, reconnects after a pause."""

    def __init__(self, index, args, shared):
        self.index = index
        self.args = args
        self.shared = shared
        self.events = []
        self.pauses = []
        self.keepalives = 0
        self.connections = 0
        self.last_id = args.last_event_id
        self.ready = False
        self.error = None

    def request(self):
        """Returns (host, port, request bytes) of the next connection."""
        channels = self.args.channels.split(",") if self.args.channels \
            else []
        host, port, netloc, target = http1.request_target(
            self.args.url, [("channel", c) for c in channels],
            quote_via=urllib.parse.quote)
        lines = ["Host: %s" % netloc,
                 "Accept: text/event-stream",
                 "Cache-Control: no-cache",
                 "Connection: close"]
        if self.last_id is not None:
            lines.append("Last-Event-ID: %s" % self.last_id)
        lines += self.args.header
        return host, port, http1.request_head(self.args.method, target,
                                              lines)

    def run(self):
        try:
            while True:
                pause = self.connect_once()
                if pause is None or not self.args.follow_pause or self.done():
                    return
                wait = pause - now_ms()
                remaining = self.shared["deadline"] - time.monotonic()
                if wait > 0:
                    if wait / 1000 > remaining:
                        raise Timeout()
                    time.sleep(wait / 1000)
        except Timeout:
            self.error = "timeout"
        except (Failure, OSError) as error:
            self.error = str(error)

    def done(self):
        return self.args.count is not None and \
            len(self.events) >= self.args.count

    def connect_once(self):
        """Reads one response; returns the pause time, or None."""
        host, port, request = self.request()
        remaining = self.shared["deadline"] - time.monotonic()
        if remaining <= 0:
            raise Timeout()
        try:
            sock = socket.create_connection((host, port), timeout=remaining)
        except socket.timeout:
            raise Timeout() from None
        self.connections += 1
        with sock:
            sock.sendall(request)
            reader = common.SocketReader(sock, self.shared["deadline"])
            try:
                head = reader.read_head()
            except EOFError:
                raise Failure("connection %d closed before the headers"
                              % self.connections) from None
            if head.status != "200":
                raise Failure("status %r" % head.status_line)
            content_type = head.header("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise Failure("Content-Type %r" % content_type)
            try:
                body = http1.body_decoder(head)
                return self.read_body(reader, body)
            except http1.BodyError as error:
                raise Failure("bad chunked encoding (%s)" % error) from None

    def read_body(self, reader, body):
        """Reads the events of one response body; returns the pause time,
        or None."""
        parser = sse.EventStreamParser(comments=True)
        pause = None
        while not body.finished:
            try:
                data = body.feed(reader.take_some())
            except EOFError:
                if body.ends_at_close:
                    break
                if isinstance(body, http1.LengthDecoder):
                    raise Failure("body shorter than its Content-Length") \
                        from None
                raise Failure("connection %d closed before the end of the "
                              "response" % self.connections) from None
            for item in parser.feed(data):
                if isinstance(item, sse.Event):
                    pause = self.take({"id": item.last_event_id,
                                       "event": item.type,
                                       "data": item.data,
                                       "received_ms": now_ms()}, pause)
                elif isinstance(item, sse.Comment) and \
                        item.text.strip() == "keepalive":
                    self.keepalives += 1
            if parser.reconnection_time is not None and not self.ready:
                self.ready = True
                self.shared["on_ready"]()
            if self.args.count == 0 and self.ready:
                return None
            if self.done() and pause is None:
                return None
        if pause is not None:
            return pause
        if self.done():
            return None
        raise Failure("response %d ended after %d events, without a "
                      "pause" % (self.connections, len(self.events)))

    def take(self, event, pause):
        """Records one event; returns the pause time when it is a pause."""
        if pause is not None:
            raise Failure("event after the pause: %r" % event)
        if event["event"] == "reset":
            # The resume point is gone; the events from the oldest follow.
            self.shared["emit"](self.index, event)
            return None
        if event["event"] == "pause":
            try:
                at = int(event["data"])
            except ValueError:
                raise Failure("pause data %r is not a number"
                              % event["data"]) from None
            self.pauses.append(event)
            self.shared["emit"](self.index, event)
            return at
        if self.done():
            return None  # more than asked for; not recorded
        try:
            number = int(event["id"])
        except ValueError:
            raise Failure("event without a numeric id: %r" % event) from None
        if self.events and number <= int(self.events[-1]["id"]):
            raise Failure("id %d after id %s" % (number, self.events[-1]["id"]))
        if self.last_id is not None and self.last_id.isdigit() and \
                number <= int(self.last_id):
            raise Failure("id %d after resuming from %s"
                          % (number, self.last_id))
        self.last_id = event["id"]
        self.events.append(event)
        self.shared["emit"](self.index, event)
        return None


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True,
                        help="http://127.0.0.1:PORT/stream?QUERY")
    parser.add_argument("--header", action="append", default=[],
                        help="an extra request header 'Name: value'")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--channels", help="a,b: adds channel=a&channel=b")
    parser.add_argument("--last-event-id",
                        help="sends Last-Event-ID on the first request")
    parser.add_argument("--count", type=int,
                        help="stop after N events (not counting pauses); "
                        "0: once the stream is open")
    parser.add_argument("--until-pause", action="store_true",
                        help="read until a pause event and the end of the "
                        "response")
    parser.add_argument("--follow-pause", action="store_true",
                        help="after a pause, reconnect at its time with the "
                        "last id, until --count events")
    parser.add_argument("--concurrent", type=int, default=1, metavar="K",
                        help="open K streams that must get the same events")
    parser.add_argument("--ready-file",
                        help="create this file once every stream is open "
                        "(has its retry: field)")
    parser.add_argument("--print", dest="output", default="none",
                        choices=["none", "ids", "json", "pauses"],
                        help="ids: the first stream's ids, one a line; "
                        "json: every event as a JSON line; pauses: "
                        "'DATA RECEIVED_MS' per pause")
    parser.add_argument("--timeout", type=float, default=60,
                        help="safety limit in seconds (exit 3)")
    args = parser.parse_args()
    if args.count is None and not (args.until_pause or args.follow_pause):
        parser.error("need --count, --until-pause or --follow-pause")
    if args.follow_pause and args.count is None:
        parser.error("--follow-pause needs --count")
    if args.concurrent < 1:
        parser.error("--concurrent must be at least 1")
    return args


def main():
    args = parse_args()
    lock = threading.Lock()
    opened = [0]

    def on_ready():
        with lock:
            opened[0] += 1
            if opened[0] == args.concurrent and args.ready_file:
                common.write_ready_file(args.ready_file, opened[0])

    def emit(index, event):
        line = None
        if args.output == "json":
            line = json.dumps(dict(event, conn=index))
        elif args.output == "pauses" and event["event"] == "pause":
            line = "%s %d" % (event["data"], event["received_ms"])
        elif args.output == "ids" and index == 0 and \
                event["event"] not in ("pause", "reset"):
            line = event["id"]
        if line is not None:
            with lock:
                print(line, flush=True)

    shared = {"deadline": time.monotonic() + args.timeout,
              "on_ready": on_ready, "emit": emit}
    streams = [Stream(i, args, shared) for i in range(args.concurrent)]
    threads = [threading.Thread(target=s.run, daemon=True) for s in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    name = "streams" if len(streams) > 1 else "stream"
    errors = [(s.index, s.error) for s in streams if s.error]
    if errors:
        timeouts = [i for i, e in errors if e == "timeout"]
        for index, error in errors[:5]:
            print("stream %d: %s" % (index, error), file=sys.stderr)
        if len(errors) > 5:
            print("... and %d more" % (len(errors) - 5), file=sys.stderr)
        if timeouts:
            counts = sorted({len(streams[i].events) for i in timeouts})
            print("%d of %d %s timed out after %g s (having %s events)"
                  % (len(timeouts), len(streams), name, args.timeout,
                     "/".join(map(str, counts))), file=sys.stderr)
            return 3
        return 1
    if args.until_pause:
        missing = [s.index for s in streams if not s.pauses]
        if missing:
            print("streams without a pause: %s" % missing, file=sys.stderr)
            return 1
    first = [(e["id"], e["event"], e["data"]) for e in streams[0].events]
    for stream in streams[1:]:
        got = [(e["id"], e["event"], e["data"]) for e in stream.events]
        if got != first:
            diff = next((i for i, (a, b) in enumerate(zip(first, got))
                         if a != b), min(len(first), len(got)))
            print("stream %d differs from stream 0 at event %d: %r, not %r"
                  % (stream.index, diff, got[diff:diff + 1],
                     first[diff:diff + 1]), file=sys.stderr)
            return 1
    ids = "%s..%s" % (first[0][0], first[-1][0]) if first else "none"
    print("ok: %d %s, %d events each (ids %s), %d pauses, %d keepalives, "
          "%d connections" % (len(streams), name, len(first), ids,
                              sum(len(s.pauses) for s in streams),
                              sum(s.keepalives for s in streams),
                              sum(s.connections for s in streams)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
