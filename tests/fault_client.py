#!/usr/bin/python3
"""fault_client.py: reconnecting subscribers and misbehaving clients for the
fault and limit tests (tests/faults-sse.sh, faults-ws.sh, limits.sh).

Seven modes:

  follow     K subscribers over Server-Sent Events (--transport sse, raw
             HTTP/1.1, chunked or not) or WebSocket (--transport ws, a small
             RFC 6455 client) in one asyncio process.  Each reads until it
             has --count events.  With --reconnect a connection that drops
             or is refused (EOF, reset, 502, 503, a pause, a close frame)
             is opened again after a short random delay with the last id
             seen (Last-Event-ID for SSE, lastEventId= for WebSocket), as a
             browser or litepush.js does.  Ids must strictly increase
             across reconnections (each event once, in order) unless
             --any-order, and every subscriber must get the same events.
  refusals   --requests N requests (stream or handshake), --concurrent K
             at a time, each closed once its response head has come;
             prints "STATUS CONTENT-TYPE COUNT" lines.
  stall      K connections that open a stream (200 or 101) with a small
             receive buffer, then read nothing until --hold-until FILE
             exists; then each reads until the server closes it or
             --drain-timeout passes, and prints "eof BYTES" (the server
             closed it), "reset BYTES" or "open BYTES" (still open).
  slowloris  K connections that send a WebSocket request one byte every
             --interval seconds (--silent: nothing at all); each prints
             "closed SECONDS STATUS-LINE" when the server closes it, or
             "open SECONDS" if --timeout passes first.
  http       one GET (or WebSocket handshake, --upgrade) of a URL read
             from --url-file, of any length; prints the whole response.
  fcgi       one FastCGI request straight to litepush-sse's unix socket
             (--socket), with --param NAME=VALUE or NAME=@FILE (values of
             any size); prints what comes on STDOUT.
  frame      one WebSocket that sends a text frame header announcing
             --length bytes and a little payload; prints the server's
             answer: "close CODE" or "eof".

Run it with /usr/bin/python3 (stdlib only).  Exit status: 0 when the mode
did what was asked, 1 when a server did not (reason on standard error), 2
on usage errors, 3 when --timeout ran out first.
"""

import argparse
import asyncio
import json
import os
import random
import selectors
import socket
import sys
import time
import zlib

# The clients package sits next to this script: found from any directory,
# also when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import common, fcgi, http1, sse, ws  # noqa: E402
from clients.common import now_ms  # noqa: E402

# Statuses worth retrying: the web server could not reach the daemon, the
# daemon is full, restarting or without its store, or it gave up on a
# request head that came too slowly (408: a starved client, as a browser's
# WebSocket would retry after its close 1006).
RETRY_STATUSES = {"408", "502", "503", "504"}


class Failure(Exception):
    """The server did not do what the test asked."""


class Lost(Exception):
    """The connection ended or was refused; a reconnecting client retries."""


def target(args, extra=()):
    """Returns (host, port, netloc, path?query) of --url plus options."""
    params = [("channel", c) for c in
              (args.channels.split(",") if args.channels else [])]
    return http1.request_target(args.url, params + list(extra))


def ws_request(netloc, path):
    """A WebSocket opening handshake and the accept value that answers it."""
    key = ws.new_key()
    return ws.handshake_request(path, netloc, key), ws.accept_for(key)


def stream_request(transport, netloc, path):
    """The least request that opens a stream: an SSE GET or a handshake."""
    if transport == "sse":
        return http1.request_head("GET", path, ["Host: %s" % netloc,
                                                "Accept: text/event-stream"])
    return ws_request(netloc, path)[0]


def read_size(args):
    """How much one read of a stream asks for: little for a slow reader,
    so that its slowness reaches the server."""
    return 4096 if args.slow else 1 << 20


# --- follow ---------------------------------------------------------------------

class Subscriber:
    """One reconnecting subscriber."""

    def __init__(self, index, args, shared):
        self.index = index
        self.args = args
        self.shared = shared
        self.events = []  # (id, event, len(data), crc32(data))
        self.last_id = args.last_event_id
        self.connections = 0
        self.refusals = 0
        self.drops = 0
        self.keepalives = 0
        self.pings = 0
        self.opened = False
        self.error = None

    def log(self, kind, detail=""):
        if self.shared["log"] is not None:
            self.shared["log"].write("%d %d %s %s\n"
                                     % (now_ms(), self.index, kind, detail))

    def done(self):
        if self.args.count == 0:
            return self.opened
        return len(self.events) >= self.args.count

    def mark_open(self):
        self.connections += 1
        self.log("open", "" if self.last_id is None else self.last_id)
        if not self.opened:
            self.opened = True
            self.shared["on_open"]()

    async def throttle(self, nbytes):
        """With --slow RATE:SECONDS, reads at RATE bytes a second for the
        first SECONDS of the subscriber's life."""
        if not self.args.slow:
            return
        rate, seconds = (float(x) for x in self.args.slow.split(":"))
        if "slow_until" not in self.shared:
            self.shared["slow_until"] = time.monotonic() + seconds
        if time.monotonic() < self.shared["slow_until"]:
            await asyncio.sleep(nbytes / rate)

    def take(self, number, event, data):
        """Records one event (data as bytes)."""
        if self.done():
            return
        if not self.args.any_order:
            if self.events and number <= self.events[-1][0]:
                raise Failure("id %d after id %d (connection %d)"
                              % (number, self.events[-1][0],
                                 self.connections))
            if self.last_id is not None and number <= self.last_id:
                raise Failure("id %d after resuming from %d"
                              % (number, self.last_id))
        self.last_id = number
        self.events.append((number, event, len(data), zlib.crc32(data)))
        self.log("event", number)

    async def run(self):
        delay = self.args.retry_ms
        while not self.done():
            pause_at = None
            try:
                if self.args.transport == "sse":
                    pause_at = await self.sse_once()
                else:
                    await self.ws_once()
                delay = self.args.retry_ms
            except (Lost, OSError, asyncio.IncompleteReadError) as error:
                reason = str(error) or type(error).__name__
                self.log("lost", reason.replace("\n", " "))
                if not self.args.reconnect:
                    raise Failure("connection %d: %s after %d events"
                                  % (self.connections + 1, reason,
                                     len(self.events))) from None
                self.drops += 1
            if self.done():
                return
            if pause_at is not None:
                wait = min(max(pause_at - now_ms(), 0), 10000)
            else:
                wait = random.uniform(0.5, 1.5) * delay
                delay = min(delay * 2, 2000)
            await asyncio.sleep(wait / 1000)

    async def connect(self, host, port, request):
        if self.opened:
            return await self.connect_now(host, port, request)
        # The first connections go a few at a time; reconnections run free.
        async with self.shared["gate"]:
            return await self.connect_now(host, port, request)

    async def connect_now(self, host, port, request):
        if self.args.slow:
            # A small receive buffer, so that the slowness reaches the
            # server instead of piling up here.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, port))
            reader, writer = await asyncio.open_connection(sock=sock,
                                                           limit=4096)
        else:
            reader, writer = await asyncio.open_connection(host, port,
                                                           limit=1 << 20)
        writer.write(request)
        try:
            head = await reader.readuntil(http1.HEAD_END)
        except asyncio.IncompleteReadError:
            writer.close()
            raise Lost("closed before the response head") from None
        return reader, writer, http1.parse_response_head(head)

    def refused(self, writer, head):
        writer.close()
        self.refusals += 1
        self.log("refused", head.status)
        if head.status in RETRY_STATUSES:
            raise Lost("refused: %s" % head.status_line)
        raise Failure("refused: %s" % head.status_line)

    async def sse_once(self):
        """One SSE response; returns the time of a pause, or None."""
        host, port, netloc, path = target(self.args)
        lines = ["Host: %s" % netloc,
                 "Accept: text/event-stream", "Cache-Control: no-cache"]
        if self.last_id is not None:
            lines.append("Last-Event-ID: %d" % self.last_id)
        request = http1.request_head("GET", path, lines)
        reader, writer, head = await self.connect(host, port, request)
        if head.status != "200":
            self.refused(writer, head)
        try:
            return await self.sse_body(reader, http1.body_decoder(head))
        except http1.BodyError as error:
            raise Failure("bad response body: %s" % error) from None
        finally:
            writer.close()

    async def sse_body(self, reader, body):
        """Parses events until the body ends, a pause, or --count."""
        parser = sse.EventStreamParser(comments=True)
        while True:
            chunk = await reader.read(read_size(self.args))
            if not chunk:
                if isinstance(body, http1.ChunkedDecoder) and \
                        body.state != body.DATA:
                    raise Lost("closed inside the chunked body")
                raise Lost("closed (EOF)")
            await self.throttle(len(chunk))
            for item in parser.feed(body.feed(chunk)):
                if isinstance(item, sse.Retry):
                    self.mark_open()
                    if self.args.count == 0:
                        return None
                elif isinstance(item, sse.Comment):
                    if item.text.strip() == "keepalive":
                        self.keepalives += 1
                        self.log("keepalive")
                elif item.type == "pause":
                    self.log("pause", item.data)
                    return int(item.data)
                elif item.type == "reset":
                    self.log("reset", item.data)
                else:
                    self.take(sse_id(item), item.type if item.named else None,
                              item.data.encode())
                    if self.done():
                        return None
            if body.finished:
                raise Lost("the response ended")

    async def ws_once(self):
        host, port, netloc, path = target(
            self.args, [("lastEventId", self.last_id)]
            if self.last_id is not None else [])
        request, accept = ws_request(netloc, path)
        reader, writer, head = await self.connect(host, port, request)
        if head.status != "101":
            self.refused(writer, head)
        if head.header("sec-websocket-accept") != accept:
            writer.close()
            raise Failure("bad Sec-WebSocket-Accept")
        self.mark_open()
        try:
            if self.args.count == 0:
                writer.write(ws.encode_frame(ws.OP_CLOSE,
                                             ws.close_payload(1000)))
                return
            await self.ws_frames(reader, writer)
        finally:
            writer.close()

    async def ws_frames(self, reader, writer):
        decoder = ws.FrameDecoder()
        message = b""
        while not self.done():
            data = await reader.read(read_size(self.args))
            if not data:
                raise Lost("closed (EOF)")
            await self.throttle(len(data))
            for frame in decoder.feed(data):
                if self.done():
                    break
                if frame.opcode == ws.OP_PING:
                    self.pings += 1
                    self.log("ping")
                    writer.write(ws.encode_frame(ws.OP_PONG, frame.payload))
                elif frame.opcode == ws.OP_CLOSE:
                    code, _ = ws.parse_close(frame.payload)
                    if code is None:
                        code = ws.CLOSE_NO_STATUS
                    self.log("close", code)
                    writer.write(ws.encode_frame(ws.OP_CLOSE,
                                                 frame.payload[:2]))
                    raise Lost("close %d" % code)
                elif frame.opcode in (ws.OP_TEXT, ws.OP_CONTINUATION):
                    message += frame.payload
                    if frame.fin:
                        self.ws_message(json.loads(message))
                        message = b""
        writer.write(ws.encode_frame(ws.OP_CLOSE, ws.close_payload(1000)))

    def ws_message(self, event):
        """Takes one whole message: the position, an event or a reset."""
        if "position" in event:
            return  # where the connection starts; the last id says as much
        if "reset" in event:
            self.log("reset", json.dumps(event["reset"]))
            return
        self.take(event["id"], event["event"],
                  event["data"].encode("utf-8", "surrogatepass"))


def sse_id(event):
    """The id of an SSE event as a number; raises Failure without one."""
    if not event.last_event_id:
        raise Failure("an event without an id")
    try:
        return int(event.last_event_id)
    except ValueError:
        raise Failure("event id %r is not a number"
                      % event.last_event_id) from None


async def follow_all(args, subs):
    subs[0].shared["gate"] = asyncio.Semaphore(args.open_at_once)

    async def one(sub):
        try:
            await sub.run()
        except Failure as error:
            sub.error = str(error)

    await asyncio.wait_for(asyncio.gather(*(one(s) for s in subs)),
                           args.timeout)


def mode_follow(args):
    if args.count is None:
        raise SystemExit("follow needs --count")
    opened = [0]
    log = open(args.log, "a", buffering=1) if args.log else None

    def on_open():
        opened[0] += 1
        if opened[0] == args.concurrent and args.ready_file:
            common.write_ready_file(args.ready_file, opened[0])

    shared = {"on_open": on_open, "log": log}
    subs = [Subscriber(i, args, shared) for i in range(args.concurrent)]
    timed_out = False
    try:
        asyncio.run(follow_all(args, subs))
    except asyncio.TimeoutError:
        timed_out = True
    if log is not None:
        log.close()

    common.print_events(
        subs[0].events, args.output,
        lambda event: json.dumps({"id": event[0], "event": event[1],
                                  "length": event[2], "crc32": event[3]}))
    details = (", %d connections, %d drops, %d refusals, %d keepalives, "
               "%d pings"
               % (sum(s.connections for s in subs), sum(s.drops for s in subs),
                  sum(s.refusals for s in subs),
                  sum(s.keepalives for s in subs),
                  sum(s.pings for s in subs)))
    return common.report_streams(subs, args.timeout, timed_out, details)


# --- refusals -------------------------------------------------------------------

async def refusal_one(args, counts):
    host, port, netloc, path = target(args)
    request = stream_request(args.transport, netloc, path)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        counts["connect: %s" % error.__class__.__name__] = \
            counts.get("connect: %s" % error.__class__.__name__, 0) + 1
        return
    try:
        writer.write(request)
        head = http1.parse_response_head(
            await reader.readuntil(http1.HEAD_END))
        key = "%s %s" % (head.status,
                         head.header("content-type", "-").split(";")[0])
    except (asyncio.IncompleteReadError, OSError):
        key = "closed without a response"
    finally:
        writer.close()
    counts[key] = counts.get(key, 0) + 1


def mode_refusals(args):
    counts = {}

    async def all_of_them():
        gate = asyncio.Semaphore(args.concurrent)

        async def one():
            async with gate:
                await refusal_one(args, counts)

        await asyncio.wait_for(asyncio.gather(*(one() for _ in
                                                range(args.requests))),
                               args.timeout)

    try:
        asyncio.run(all_of_them())
    except asyncio.TimeoutError:
        print("timed out after %g s" % args.timeout, file=sys.stderr)
        return 3
    for key in sorted(counts):
        print("%s %d" % (key, counts[key]))
    return 0


# --- http ---------------------------------------------------------------------

def mode_http(args):
    """One GET (a WebSocket handshake with --upgrade) of the URL in
    --url-file, which may be longer than a command line allows; prints the
    response as it came (head and body) until the server closes or
    --timeout passes."""
    with open(args.url_file) as f:
        args.url = f.read().strip()
    host, port, netloc, path = target(args)
    if args.upgrade:
        request, _ = ws_request(netloc, path)
    else:
        request = http1.request_head("GET", path, ["Host: %s" % netloc,
                                                   "Connection: close"])
    sock = socket.create_connection((host, port), timeout=args.timeout)
    got = b""
    try:
        sock.sendall(request)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer before reading it all
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            got += data
    except ConnectionResetError:
        pass
    except socket.timeout:
        if not got:
            print("timeout", file=sys.stderr)
            return 3
    sys.stdout.write(got.decode("utf-8", "replace"))
    return 0


# --- fcgi ---------------------------------------------------------------------

def mode_fcgi(args):
    """One FastCGI request straight to litepush-sse's socket; prints what
    it writes on STDOUT until END_REQUEST, EOF or --max-bytes."""
    params = []
    for item in args.param:
        name, _, value = item.partition("=")
        if value.startswith("@"):
            with open(value[1:], "rb") as f:
                value = f.read().rstrip(b"\n")
        else:
            value = value.encode()
        params.append((name.encode(), value))
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(args.timeout)
    sock.connect(args.socket)
    # Not keeping the connection; the params cut into records of at most
    # 65535 bytes, then an empty stdin.
    sock.sendall(fcgi.request(params))
    response = fcgi.ResponseReader()
    try:
        while len(response.stdout) < args.max_bytes and not response.ended:
            data = sock.recv(65536)
            if not data:
                break
            response.feed(data)
    except socket.timeout:
        print("timeout", file=sys.stderr)
        return 3
    sys.stdout.write(response.stdout[:args.max_bytes].decode("utf-8",
                                                             "replace"))
    return 0


# --- stall --------------------------------------------------------------------

def open_blocking(args, transport):
    """Connects with a small receive buffer and reads the response head."""
    host, port, netloc, path = target(args)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Before connect(), so that the advertised window is small too.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(args.timeout)
    sock.connect((host, port))
    sock.sendall(stream_request(transport, netloc, path))
    # One byte at a time: whatever follows the head stays in the socket.
    head = bytearray()
    while not head.endswith(http1.HEAD_END):
        byte = sock.recv(1)
        if not byte:
            raise Failure("closed before the response head")
        head += byte
    head = http1.parse_response_head(bytes(head))
    if head.status not in ("200", "101"):
        raise Failure("refused: %s" % head.status_line)
    return sock


def mode_stall(args):
    socks = []
    try:
        for _ in range(args.concurrent):
            socks.append(open_blocking(args, args.transport))
    except (Failure, OSError) as error:
        print("opening: %s" % error, file=sys.stderr)
        return 1
    if args.ready_file:
        common.write_ready_file(args.ready_file, len(socks))
    deadline = time.monotonic() + args.timeout
    while not os.path.exists(args.hold_until):
        if time.monotonic() > deadline:
            print("timed out waiting for %s" % args.hold_until,
                  file=sys.stderr)
            return 3
        time.sleep(0.05)
    # Draining: every socket at once, until EOF or the drain time is up.
    end = time.monotonic() + args.drain_timeout
    totals = [0] * len(socks)
    states = ["open"] * len(socks)
    selector = selectors.DefaultSelector()
    for index, sock in enumerate(socks):
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, index)
    while selector.get_map() and time.monotonic() < end:
        for key, _ in selector.select(max(0.0, end - time.monotonic())):
            index = key.data
            try:
                data = key.fileobj.recv(1 << 20)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                data, states[index] = b"", "reset"
            if data:
                totals[index] += len(data)
                continue
            if states[index] == "open":
                states[index] = "eof"
            selector.unregister(key.fileobj)
    for index, sock in enumerate(socks):
        print("%s %d" % (states[index], totals[index]), flush=True)
        sock.close()
    return 0


# --- slowloris ----------------------------------------------------------------

async def slow_one(args, index, results, opened):
    host, port, netloc, path = target(args)
    request, _ = ws_request(netloc, path)
    reader, writer = await asyncio.open_connection(host, port)
    start = time.monotonic()
    opened()

    async def dribble():
        if args.silent:
            return
        for i in range(len(request)):
            writer.write(request[i:i + 1])
            await asyncio.sleep(args.interval)

    sender = asyncio.ensure_future(dribble())
    got = b""
    try:
        while True:
            remaining = args.timeout - (time.monotonic() - start)
            if remaining <= 0:
                results[index] = "open %.1f" % (time.monotonic() - start)
                break
            try:
                data = await asyncio.wait_for(reader.read(4096), remaining)
            except asyncio.TimeoutError:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                line = got.split(b"\r\n", 1)[0].decode("latin-1")
                results[index] = ("closed %.1f %s" % (
                    time.monotonic() - start, line)).rstrip()
                break
            got += data
    finally:
        sender.cancel()
        writer.close()


def mode_slowloris(args):
    results = [None] * args.concurrent
    count = [0]

    def opened():
        count[0] += 1
        if count[0] == args.concurrent and args.ready_file:
            common.write_ready_file(args.ready_file, count[0])

    async def all_of_them():
        await asyncio.gather(*(slow_one(args, i, results, opened)
                               for i in range(args.concurrent)))

    try:
        asyncio.run(all_of_them())
    except OSError as error:
        print("connecting: %s" % error, file=sys.stderr)
        return 1
    for line in results:
        print(line)
    return 0


# --- frame --------------------------------------------------------------------

def mode_frame(args):
    host, port, netloc, path = target(args)
    sock = socket.create_connection((host, port), timeout=args.timeout)
    reader = common.SocketReader(sock, time.monotonic() + args.timeout)
    request, _ = ws_request(netloc, path)
    sock.sendall(request)
    try:
        head = reader.read_head()
    except EOFError:
        print("closed during the handshake", file=sys.stderr)
        return 1
    except common.Timeout:
        print("timeout")
        return 3
    if head.status != "101":
        print("handshake answered %s" % head.status_line, file=sys.stderr)
        return 1
    # A text frame announcing --length bytes in a 64-bit length, then a
    # little payload.
    sock.sendall(ws.encode_frame(ws.OP_TEXT, b"x" * 1000, length=args.length,
                                 length_bits=64))
    decoder = ws.FrameDecoder()
    try:
        while True:
            for frame in decoder.feed(reader.take_some()):
                if frame.opcode == ws.OP_CLOSE:
                    code, _ = ws.parse_close(frame.payload)
                    print("close none" if code is None else "close %d" % code)
                    return 0
    except EOFError:
        print("eof")
        return 0
    except common.Timeout:
        print("timeout")
        return 3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["follow", "refusals", "stall",
                                         "slowloris", "frame", "fcgi",
                                         "http"])
    parser.add_argument("--url", default="http://127.0.0.1/",
                        help="http://127.0.0.1:PORT/stream or "
                        "ws://127.0.0.1:PORT/ws, with a query if wanted")
    parser.add_argument("--transport", choices=["sse", "ws"], default="sse")
    parser.add_argument("--channels", help="a,b: adds channel=a&channel=b")
    parser.add_argument("--concurrent", type=int, default=1, metavar="K")
    parser.add_argument("--ready-file", help="created once all K are open")
    parser.add_argument("--timeout", type=float, default=60,
                        help="safety limit in seconds (exit 3)")
    group = parser.add_argument_group("follow")
    group.add_argument("--count", type=int, help="events each must get; 0: "
                       "open, then stop")
    group.add_argument("--last-event-id", type=int,
                       help="resume from this id on the first connection")
    group.add_argument("--reconnect", action="store_true",
                       help="reconnect with the last id after a drop or a "
                       "refusal (502, 503, 504)")
    group.add_argument("--retry-ms", type=float, default=250,
                       help="reconnection delay, randomised +-50%%, "
                       "doubling while refused, at most 2 s")
    group.add_argument("--any-order", action="store_true",
                       help="do not require ids to increase (a log that "
                       "restarts)")
    group.add_argument("--open-at-once", type=int, default=50,
                       help="first connections in flight at a time")
    group.add_argument("--slow", metavar="RATE:SECONDS",
                       help="read at RATE bytes a second for the first "
                       "SECONDS (a slow reader, not a stalled one)")
    group.add_argument("--log", help="append 'MS INDEX KIND DETAIL' lines: "
                       "open, event, keepalive, ping, pause, close, lost, "
                       "refused")
    group.add_argument("--print", dest="output", default="none",
                       choices=["none", "ids", "json"],
                       help="the first subscriber's events")
    group = parser.add_argument_group("refusals")
    group.add_argument("--requests", type=int, default=100,
                       help="requests in all, --concurrent at a time")
    group = parser.add_argument_group("stall")
    group.add_argument("--hold-until", help="read nothing until FILE exists")
    group.add_argument("--drain-timeout", type=float, default=10)
    group = parser.add_argument_group("slowloris")
    group.add_argument("--interval", type=float, default=1.0)
    group.add_argument("--silent", action="store_true")
    group = parser.add_argument_group("http")
    group.add_argument("--url-file", help="the URL, read from this file")
    group.add_argument("--upgrade", action="store_true",
                       help="send a WebSocket handshake")
    group = parser.add_argument_group("fcgi")
    group.add_argument("--socket", help="litepush-sse's unix socket")
    group.add_argument("--param", action="append", default=[],
                       help="NAME=VALUE, or NAME=@FILE for a value read "
                       "from FILE")
    group.add_argument("--max-bytes", type=int, default=4096,
                       help="stop after this much of STDOUT")
    group = parser.add_argument_group("frame")
    group.add_argument("--length", type=int, default=(1 << 63) - 1)
    args = parser.parse_args()
    if args.mode == "stall" and not args.hold_until:
        parser.error("stall needs --hold-until")
    return args


def main():
    args = parse_args()
    return {"follow": mode_follow, "refusals": mode_refusals,
            "stall": mode_stall,
            "slowloris": mode_slowloris, "frame": mode_frame,
            "fcgi": mode_fcgi, "http": mode_http}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
