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
import base64
import hashlib
import json
import os
import random
import selectors
import socket
import struct
import sys
import time
import urllib.parse
import zlib

# client_lib.py sits next to this script: found from any directory, also
# when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client_lib  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
# Statuses worth retrying: the web server could not reach the daemon, the
# daemon is full, restarting or without its store, or it gave up on a
# request head that came too slowly (408: a starved client, as a browser's
# WebSocket would retry after its close 1006).
RETRY_STATUSES = {"408", "502", "503", "504"}


class Failure(Exception):
    """The server did not do what the test asked."""


class Lost(Exception):
    """The connection ended or was refused; a reconnecting client retries."""


def now_ms():
    return int(time.time() * 1000)


def target(args, extra=()):
    """Returns (host, port, netloc, path?query) of --url plus options."""
    url = urllib.parse.urlsplit(args.url)
    params = [("channel", c) for c in
              (args.channels.split(",") if args.channels else [])]
    params += list(extra)
    query = url.query
    if params:
        more = urllib.parse.urlencode(params)
        query = query + "&" + more if query else more
    path = (url.path or "/") + ("?" + query if query else "")
    return url.hostname, url.port or 80, url.netloc, path


def ws_request(netloc, path):
    """A WebSocket opening handshake and the accept value that answers it."""
    key = base64.b64encode(os.urandom(16)).decode()
    accept = base64.b64encode(
        hashlib.sha1((key + GUID).encode()).digest()).decode()
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, netloc, key))
    return request.encode(), accept


def ws_frame(opcode, payload=b""):
    """One masked client frame."""
    head = bytearray([0x80 | opcode])
    if len(payload) < 126:
        head.append(0x80 | len(payload))
    elif len(payload) < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    key = os.urandom(4)
    return bytes(head) + key + bytes(b ^ key[i % 4]
                                     for i, b in enumerate(payload))


def parse_head(head):
    """Returns (status code, status line, {lower name: value})."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parts = lines[0].split(" ")
    return (parts[1] if len(parts) > 1 else ""), lines[0], headers


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
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            writer.close()
            raise Lost("closed before the response head") from None
        code, line, headers = parse_head(head[:-4])
        return reader, writer, code, line, headers

    def refused(self, writer, code, line):
        writer.close()
        self.refusals += 1
        self.log("refused", code)
        if code in RETRY_STATUSES:
            raise Lost("refused: %s" % line)
        raise Failure("refused: %s" % line)

    async def sse_once(self):
        """One SSE response; returns the time of a pause, or None."""
        host, port, netloc, path = target(self.args)
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % netloc,
                 "Accept: text/event-stream", "Cache-Control: no-cache"]
        if self.last_id is not None:
            lines.append("Last-Event-ID: %d" % self.last_id)
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        reader, writer, code, line, headers = await self.connect(
            host, port, request)
        if code != "200":
            self.refused(writer, code, line)
        try:
            chunked = "chunked" in headers.get("transfer-encoding", "")
            return await self.sse_body(reader, chunked)
        finally:
            writer.close()

    async def sse_body(self, reader, chunked):
        """Parses events until the body ends, a pause, or --count."""
        pending = bytearray()
        data, event, number, left = [], None, None, 0
        while True:
            if chunked:
                if left == 0:
                    size_line = await reader.readline()
                    if not size_line.endswith(b"\n"):
                        raise Lost("closed inside the chunked body")
                    size_line = size_line.strip()
                    if not size_line:
                        continue  # the CRLF after a chunk
                    left = int(size_line.split(b";")[0], 16)
                    if left == 0:
                        raise Lost("the response ended")
                chunk = await reader.read(min(left, 4096 if self.args.slow
                                              else 1 << 20))
                left -= len(chunk)
            else:
                chunk = await reader.read(4096 if self.args.slow else 1 << 20)
            if not chunk:
                raise Lost("closed (EOF)")
            await self.throttle(len(chunk))
            # Note that a line may be 100 MB long: the buffer grows in
            # place, and only a chunk with a newline is split.
            cut = chunk.rfind(b"\n")
            if cut < 0:
                pending += chunk
                continue
            pending += chunk[:cut]
            complete = bytes(pending).split(b"\n")
            pending = bytearray(chunk[cut + 1:])
            for raw in complete:
                raw = raw.rstrip(b"\r")
                if raw == b"":
                    if data:
                        payload = b"\n".join(data)
                        if event == "pause":
                            self.log("pause", payload.decode())
                            return int(payload)
                        if event == "reset":
                            self.log("reset", payload.decode())
                            data, event = [], None
                            continue
                        if number is None:
                            raise Failure("an event without an id")
                        self.take(number, event, payload)
                        if self.done():
                            return None
                    data, event = [], None
                    continue
                if raw.startswith(b":"):
                    if raw[1:].strip() == b"keepalive":
                        self.keepalives += 1
                        self.log("keepalive")
                    continue
                field, _, value = raw.partition(b":")
                if value.startswith(b" "):
                    value = value[1:]
                if field == b"data":
                    data.append(value)
                elif field == b"id":
                    number = int(value)
                elif field == b"event":
                    event = value.decode()
                elif field == b"retry":
                    self.mark_open()
                    if self.args.count == 0:
                        return None

    async def ws_once(self):
        host, port, netloc, path = target(
            self.args, [("lastEventId", self.last_id)]
            if self.last_id is not None else [])
        request, accept = ws_request(netloc, path)
        reader, writer, code, line, headers = await self.connect(
            host, port, request)
        if code != "101":
            self.refused(writer, code, line)
        if headers.get("sec-websocket-accept") != accept:
            writer.close()
            raise Failure("bad Sec-WebSocket-Accept")
        self.mark_open()
        try:
            if self.args.count == 0:
                writer.write(ws_frame(OP_CLOSE, struct.pack("!H", 1000)))
                return
            await self.ws_frames(reader, writer)
        finally:
            writer.close()

    async def ws_frames(self, reader, writer):
        message = b""
        while not self.done():
            first, second = await reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", await reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await reader.readexactly(8))[0]
            payload = await reader.readexactly(length)
            await self.throttle(length + 2)
            opcode = first & 0x0F
            if opcode == OP_PING:
                self.pings += 1
                self.log("ping")
                writer.write(ws_frame(OP_PONG, payload))
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else 1005
                self.log("close", code)
                writer.write(ws_frame(OP_CLOSE, payload[:2]))
                raise Lost("close %d" % code)
            if opcode in (OP_TEXT, OP_CONT):
                message += payload
                if not first & 0x80:
                    continue
                event = json.loads(message)
                message = b""
                if "reset" in event:
                    self.log("reset", json.dumps(event["reset"]))
                    continue
                self.take(event["id"], event["event"],
                          event["data"].encode("utf-8", "surrogatepass"))
        writer.write(ws_frame(OP_CLOSE, struct.pack("!H", 1000)))


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
            client_lib.write_ready_file(args.ready_file, opened[0])

    shared = {"on_open": on_open, "log": log}
    subs = [Subscriber(i, args, shared) for i in range(args.concurrent)]
    timed_out = False
    try:
        asyncio.run(follow_all(args, subs))
    except asyncio.TimeoutError:
        timed_out = True
    if log is not None:
        log.close()

    client_lib.print_events(
        subs[0].events, args.output,
        lambda event: json.dumps({"id": event[0], "event": event[1],
                                  "length": event[2], "crc32": event[3]}))
    details = (", %d connections, %d drops, %d refusals, %d keepalives, "
               "%d pings"
               % (sum(s.connections for s in subs), sum(s.drops for s in subs),
                  sum(s.refusals for s in subs),
                  sum(s.keepalives for s in subs),
                  sum(s.pings for s in subs)))
    return client_lib.report_streams(subs, args.timeout, timed_out, details)


# --- refusals -------------------------------------------------------------------

async def refusal_one(args, counts):
    host, port, netloc, path = target(args)
    if args.transport == "sse":
        request = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream"
                   "\r\n\r\n" % (path, netloc)).encode()
    else:
        request, _ = ws_request(netloc, path)
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:
        counts["connect: %s" % error.__class__.__name__] = \
            counts.get("connect: %s" % error.__class__.__name__, 0) + 1
        return
    try:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        code, _, headers = parse_head(head[:-4])
        key = "%s %s" % (code, headers.get("content-type", "-").split(";")[0])
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
        request = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                   "\r\n" % (path, netloc)).encode()
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

def fcgi_record(kind, content, request_id=1):
    return struct.pack("!BBHHBB", 1, kind, request_id, len(content), 0, 0) + \
        content


def fcgi_length(n):
    return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)


def mode_fcgi(args):
    """One FastCGI request straight to litepush-sse's socket; prints what
    it writes on STDOUT until END_REQUEST, EOF or --max-bytes."""
    params = b""
    for item in args.param:
        name, _, value = item.partition("=")
        if value.startswith("@"):
            with open(value[1:], "rb") as f:
                value = f.read().rstrip(b"\n")
        else:
            value = value.encode()
        params += fcgi_length(len(name)) + fcgi_length(len(value)) + \
            name.encode() + value
    # BEGIN_REQUEST (responder, keep the connection: no), the parameters
    # cut into records of at most 65535 bytes, their end, an empty stdin.
    data = fcgi_record(1, struct.pack("!HB5x", 1, 0))
    for i in range(0, len(params), 65535):
        data += fcgi_record(4, params[i:i + 65535])
    data += fcgi_record(4, b"") + fcgi_record(5, b"")
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(args.timeout)
    sock.connect(args.socket)
    sock.sendall(data)
    buf, out = b"", b""
    try:
        while len(out) < args.max_bytes:
            while len(buf) < 8:
                more = sock.recv(65536)
                if not more:
                    raise EOFError()
                buf += more
            _, kind, _, length, padding, _ = struct.unpack("!BBHHBB", buf[:8])
            while len(buf) < 8 + length + padding:
                more = sock.recv(65536)
                if not more:
                    raise EOFError()
                buf += more
            content, buf = buf[8:8 + length], buf[8 + length + padding:]
            if kind == 6:
                out += content
            elif kind == 3:
                break
    except EOFError:
        pass
    except socket.timeout:
        print("timeout", file=sys.stderr)
        return 3
    sys.stdout.write(out[:args.max_bytes].decode("utf-8", "replace"))
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
    if transport == "sse":
        request = ("GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream"
                   "\r\n\r\n" % (path, netloc)).encode()
    else:
        request, _ = ws_request(netloc, path)
    sock.sendall(request)
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise Failure("closed before the response head")
        head += byte
    code, line, _ = parse_head(head[:-4])
    if code not in ("200", "101"):
        raise Failure("refused: %s" % line)
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
        client_lib.write_ready_file(args.ready_file, len(socks))
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
            client_lib.write_ready_file(args.ready_file, count[0])

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
    request, _ = ws_request(netloc, path)
    sock.sendall(request)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            print("closed during the handshake", file=sys.stderr)
            return 1
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    code, line, _ = parse_head(head)
    if code != "101":
        print("handshake answered %s" % line, file=sys.stderr)
        return 1
    # FIN + text, masked, 64-bit length, a mask, then a little payload.
    sock.sendall(bytes([0x81, 0xFF]) + struct.pack("!Q", args.length) +
                 os.urandom(4) + b"x" * 1000)
    try:
        while True:
            while len(buf) < 2:
                data = sock.recv(65536)
                if not data:
                    print("eof")
                    return 0
                buf += data
            length, start = buf[1] & 0x7F, 2
            if length == 126:
                length, start = struct.unpack("!H", buf[2:4])[0], 4
            elif length == 127:
                length, start = struct.unpack("!Q", buf[2:10])[0], 10
            if len(buf) < start + length:
                data = sock.recv(65536)
                if not data:
                    print("eof")
                    return 0
                buf += data
                continue
            opcode, payload = buf[0] & 0x0F, buf[start:start + length]
            buf = buf[start + length:]
            if opcode == OP_CLOSE:
                print("close %d" % struct.unpack("!H", payload[:2])[0]
                      if len(payload) >= 2 else "close none")
                return 0
    except ConnectionResetError:
        print("eof")
        return 0
    except socket.timeout:
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
