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
import codecs
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

# client_lib.py sits next to this script: found from any directory, also
# when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client_lib  # noqa: E402


class Failure(Exception):
    """A stream did not do what the test asked."""


# The safety limit ran out (client_lib's, so recv_by raises it).
Timeout = client_lib.Timeout


class EndOfBody(Exception):
    """The response body ended."""


def now_ms():
    return int(time.time() * 1000)


class Reader:
    """Buffered reads from a socket, bounded by an absolute deadline."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buf = bytearray()

    def fill(self):
        data = client_lib.recv_by(self.sock, self.deadline)
        if not data:
            raise EndOfBody()
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        end = self.buf.index(b"\r\n")
        line = bytes(self.buf[:end])
        del self.buf[:end + 2]
        return line

    def some(self, limit=None):
        """Returns what is buffered (at most limit bytes), reading if empty."""
        if not self.buf:
            self.fill()
        n = len(self.buf) if limit is None else min(limit, len(self.buf))
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


def body_chunks(reader, headers):
    """Yields the body as it arrives; returns at its end."""
    encoding = headers.get("transfer-encoding", "").lower()
    if "chunked" in encoding:
        while True:
            size = int(reader.line().split(b";")[0].strip(), 16)
            if size == 0:
                while reader.line():  # trailers
                    pass
                return
            while size > 0:
                data = reader.some(size)
                size -= len(data)
                yield data
            if reader.line() != b"":
                raise Failure("bad chunked encoding")
    elif "content-length" in headers:
        size = int(headers["content-length"])
        while size > 0:
            try:
                data = reader.some(size)
            except EndOfBody:
                raise Failure("body shorter than its Content-Length") from None
            size -= len(data)
            yield data
    else:
        while True:
            try:
                yield reader.some()
            except EndOfBody:
                return


class Parser:
    """The WHATWG event stream interpretation, fed with bytes."""

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.text = ""
        self.started = False
        self.after_cr = False
        self.data = []
        self.event_type = ""
        self.last_id = ""
        self.retry = None
        self.comments = []

    def feed(self, data):
        """Returns the events dispatched by these bytes, as dicts."""
        self.text += self.decoder.decode(data)
        if not self.started and self.text:
            self.started = True
            if self.text.startswith("\ufeff"):
                self.text = self.text[1:]
        events = []
        while True:
            cut = min((i for i in (self.text.find("\r"), self.text.find("\n"))
                       if i >= 0), default=-1)
            if cut < 0:
                return events
            line, end = self.text[:cut], self.text[cut]
            self.text = self.text[cut + 1:]
            if self.after_cr and end == "\n" and cut == 0:
                self.after_cr = False  # the LF of a CRLF split across reads
                continue
            self.after_cr = end == "\r"
            event = self.line(line)
            if event is not None:
                events.append(event)

    def line(self, line):
        if line == "":
            return self.dispatch()
        if line.startswith(":"):
            self.comments.append(line[1:])
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self.event_type = value
        elif field == "data":
            self.data.append(value)
        elif field == "id":
            if "\0" not in value:
                self.last_id = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self.retry = int(value)
        return None

    def dispatch(self):
        data, event_type = self.data, self.event_type
        self.data, self.event_type = [], ""
        if not data:
            return None
        return {"id": self.last_id, "event": event_type or "message",
                "data": "\n".join(data), "received_ms": now_ms()}


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
        url = urllib.parse.urlsplit(self.args.url)
        path = url.path or "/"
        query = url.query
        if self.args.channels:
            extra = "&".join("channel=" + urllib.parse.quote(c, safe="")
                             for c in self.args.channels.split(","))
            query = query + "&" + extra if query else extra
        if query:
            path += "?" + query
        lines = ["%s %s HTTP/1.1" % (self.args.method, path),
                 "Host: %s" % url.netloc,
                 "Accept: text/event-stream",
                 "Cache-Control: no-cache",
                 "Connection: close"]
        if self.last_id is not None:
            lines.append("Last-Event-ID: %s" % self.last_id)
        lines += self.args.header
        return url, ("\r\n".join(lines) + "\r\n\r\n").encode()

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
        url, request = self.request()
        remaining = self.shared["deadline"] - time.monotonic()
        if remaining <= 0:
            raise Timeout()
        try:
            sock = socket.create_connection(
                (url.hostname, url.port or 80), timeout=remaining)
        except socket.timeout:
            raise Timeout() from None
        self.connections += 1
        with sock:
            sock.sendall(request)
            reader = Reader(sock, self.shared["deadline"])
            try:
                status = reader.line().decode("latin-1")
                headers = {}
                while True:
                    line = reader.line().decode("latin-1")
                    if not line:
                        break
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            except EndOfBody:
                raise Failure("connection %d closed before the headers"
                              % self.connections) from None
            parts = status.split(" ", 2)
            if len(parts) < 2 or parts[1] != "200":
                raise Failure("status %r" % status)
            content_type = headers.get("content-type", "")
            if not content_type.startswith("text/event-stream"):
                raise Failure("Content-Type %r" % content_type)
            parser = Parser()
            pause = None
            try:
                for data in body_chunks(reader, headers):
                    for event in parser.feed(data):
                        pause = self.take(event, pause)
                    self.keepalives += sum(
                        1 for c in parser.comments if c.strip() == "keepalive")
                    parser.comments.clear()
                    if parser.retry is not None and not self.ready:
                        self.ready = True
                        self.shared["on_ready"]()
                    if self.args.count == 0 and self.ready:
                        return None
                    if self.done() and pause is None:
                        return None
            except EndOfBody:
                raise Failure("connection %d closed before the end of the "
                              "response" % self.connections) from None
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
                client_lib.write_ready_file(args.ready_file, opened[0])

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
