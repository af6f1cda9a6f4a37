#!/usr/bin/python3
"""ws_client.py: a WebSocket client for the litepush-ws integration tests.

Four modes, each checking what it receives and saying what went wrong:

  collect    K subscribers (one asyncio process, the `websockets` library as
             a strict client) that each read N events, or until the server
             closes; every stream must have strictly increasing ids, after
             --last-event-id, and all streams the same events.
  publish    one subscriber that sends text messages, reads the reply
             ({"ack":ID} or {"error":...}) to each, then N events.
  raw        one connection over a plain socket that sends hand-made frames
             (--case NAME) and prints each frame it gets back, one a line:
             "close CODE", "pong PAYLOAD", "ping PAYLOAD", "text PAYLOAD",
             then "eof" if the server closed TCP without a close frame.
  handshake  one hand-made HTTP request; prints the status line, the
             headers (names in lower case), a blank line and the body (for a
             101: "accept ok", or "accept wrong ..." if Sec-WebSocket-Accept
             does not match the key).

Run it with /usr/bin/python3 (websockets 10.4, asyncio API).  Exit status:
0 when the mode did what was asked, 1 when the server did not (reason on
standard error), 2 on usage errors, 3 when --timeout ran out first.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time
import urllib.parse

# client_lib.py sits next to this script: found from any directory, also
# when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client_lib  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA


class Failure(Exception):
    """The server did not do what the test asked."""


# The safety limit ran out (client_lib's, so recv_by raises it).
Timeout = client_lib.Timeout


def accept_for(key):
    """The Sec-WebSocket-Accept value that answers key (RFC 6455 4.2.2)."""
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def request_target(args):
    """Returns (host, port, path?query) of --url plus the query options."""
    url = urllib.parse.urlsplit(args.url)
    params = []
    for channel in (args.channels.split(",") if args.channels else []):
        params.append(("channel", channel))
    if getattr(args, "last_event_id", None) is not None:
        params.append(("lastEventId", args.last_event_id))
    if getattr(args, "backlog", None) is not None:
        params.append(("backlog", args.backlog))
    query = url.query
    if params:
        extra = urllib.parse.urlencode(params)
        query = query + "&" + extra if query else extra
    path = (url.path or "/") + ("?" + query if query else "")
    default_port = 443 if url.scheme in ("https", "wss") else 80
    return url.hostname, url.port or default_port, path


def browser_origin(args):
    """The Origin a browser on the page's own host would send."""
    url = urllib.parse.urlsplit(args.url)
    scheme = "https" if url.scheme in ("https", "wss") else "http"
    return "%s://%s" % (scheme, url.netloc)


def origin_of(args):
    if args.origin == "none":
        return None
    if args.origin == "auto":
        return browser_origin(args)
    return args.origin


def event_of(text, channels):
    """Parses and checks one event frame; returns (id, channel, event, data)."""
    try:
        event = json.loads(text)
    except ValueError:
        raise Failure("event frame is not JSON: %r" % text[:200]) from None
    if not isinstance(event, dict) or \
            set(event) != {"id", "channel", "event", "data"}:
        raise Failure("event frame is not {id, channel, event, data}: %r"
                      % text[:200])
    if not isinstance(event["id"], int) or isinstance(event["id"], bool):
        raise Failure("event id is not a number: %r" % text[:200])
    if channels and event["channel"] not in channels:
        raise Failure("event of channel %r, not subscribed to: %r"
                      % (event["channel"], text[:200]))
    if not (event["event"] is None or isinstance(event["event"], str)):
        raise Failure("event name is neither null nor a string: %r"
                      % text[:200])
    if not isinstance(event["data"], str):
        raise Failure("event data is not a string: %r" % text[:200])
    return (event["id"], event["channel"], event["event"], event["data"])


def event_json(event):
    """The event as the contract writes it: compact, in id/channel/event/data
    order, so the shell can compare it to a literal."""
    keys = ("id", "channel", "event", "data")
    return json.dumps(dict(zip(keys, event)), ensure_ascii=False,
                      separators=(",", ":"))


# --- collect ----------------------------------------------------------------

class Subscriber:
    """One websockets connection that reads and checks events."""

    def __init__(self, index, args, channels):
        self.index = index
        self.args = args
        self.channels = channels
        self.events = []
        self.close_code = None
        self.error = None
        self.last_id = args.last_event_id

    def done(self):
        return self.args.count is not None and \
            len(self.events) >= self.args.count

    def take(self, text):
        if isinstance(text, bytes):
            raise Failure("binary frame of %d bytes" % len(text))
        event = event_of(text, self.channels)
        if self.events and event[0] <= self.events[-1][0]:
            raise Failure("id %d after id %d" % (event[0], self.events[-1][0]))
        if self.last_id is not None and event[0] <= self.last_id:
            raise Failure("id %d after resuming from %d"
                          % (event[0], self.last_id))
        self.events.append(event)


async def open_subscriber(args, uri, origin):
    import websockets
    options = dict(origin=origin, ping_interval=None, close_timeout=5,
                   open_timeout=None, max_size=2 ** 24)
    if args.unix:
        return await websockets.unix_connect(args.unix, uri, **options)
    return await websockets.connect(uri, **options)


async def run_subscriber(sub, uri, origin, gate, opened):
    import websockets
    try:
        async with gate:
            ws = await open_subscriber(sub.args, uri, origin)
        await opened(sub)
        while sub.args.hold_until and not os.path.exists(sub.args.hold_until):
            # Reads nothing meanwhile: the library stops reading once its
            # queue is full, and the server's writes back up.
            await asyncio.sleep(0.05)
        try:
            while not sub.done():
                sub.take(await ws.recv())
        except websockets.exceptions.ConnectionClosed:
            sub.close_code = ws.close_code
            if not sub.args.until_close:
                raise Failure("closed (code %s) after %d events"
                              % (ws.close_code, len(sub.events))) from None
        else:
            await ws.close()
    except websockets.exceptions.InvalidStatusCode as error:
        sub.error = "handshake answered %d" % error.status_code
    except (Failure, OSError, websockets.exceptions.WebSocketException) \
            as error:
        sub.error = str(error) or type(error).__name__


async def collect_all(args, subs, uri, origin):
    gate = asyncio.Semaphore(args.open_at_once)
    opened = [0]

    async def on_open(sub):
        opened[0] += 1
        if opened[0] == len(subs) and args.ready_file:
            client_lib.write_ready_file(args.ready_file, opened[0])

    tasks = [asyncio.ensure_future(run_subscriber(s, uri, origin, gate,
                                                  on_open)) for s in subs]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), args.timeout)
    except asyncio.TimeoutError:
        raise Timeout() from None


def mode_collect(args):
    host, port, path = request_target(args)
    uri = "ws://%s:%d%s" % (host, port, path)
    channels = set(args.channels.split(",")) if args.channels else set()
    subs = [Subscriber(i, args, channels) for i in range(args.concurrent)]
    timed_out = False
    try:
        asyncio.run(collect_all(args, subs, uri, origin_of(args)))
    except Timeout:
        timed_out = True

    client_lib.print_events(subs[0].events, args.output, event_json)
    if args.output == "close":
        for sub in subs:
            print("close %s" % sub.close_code)
    return client_lib.report_streams(subs, args.timeout, timed_out)


# --- publish ----------------------------------------------------------------

async def publish(args):
    import websockets
    host, port, path = request_target(args)
    uri = "ws://%s:%d%s" % (host, port, path)
    channels = set(args.channels.split(",")) if args.channels else set()
    ws = await open_subscriber(args, uri, origin_of(args))
    events = []

    def take(text):
        """Prints an event or returns a reply."""
        try:
            message = json.loads(text)
        except ValueError:
            raise Failure("frame is not JSON: %r" % text[:200]) from None
        if isinstance(message, dict) and "id" in message:
            event = event_of(text, channels)
            if events and event[0] <= events[-1][0]:
                raise Failure("id %d after id %d" % (event[0], events[-1][0]))
            events.append(event)
            print("event " + event_json(event), flush=True)
            return None
        if isinstance(message, dict) and set(message) in ({"ack"},
                                                          {"error"}):
            return message
        raise Failure("frame is neither an event nor a reply: %r" % text)

    try:
        for text in args.send:
            await ws.send(text)
            reply = None
            while reply is None:
                reply = take(await ws.recv())
            if "ack" in reply:
                print("reply " + json.dumps(reply, separators=(",", ":")),
                      flush=True)
            else:
                # The reason is free text: print only that it is an error,
                # and the reason on standard error.
                print("reply error", flush=True)
                print("error: %s" % reply["error"], file=sys.stderr)
        while args.receive is not None and len(events) < args.receive:
            reply = take(await ws.recv())
            if reply is not None:
                raise Failure("unexpected reply %r" % reply)
    except websockets.exceptions.ConnectionClosed:
        raise Failure("connection closed (code %s)" % ws.close_code) from None
    await ws.close()
    return 0


def mode_publish(args):
    import websockets

    async def bounded():
        return await asyncio.wait_for(publish(args), args.timeout)

    try:
        return asyncio.run(bounded())
    except asyncio.TimeoutError:
        print("timed out after %g s" % args.timeout, file=sys.stderr)
        return 3
    except websockets.exceptions.InvalidStatusCode as error:
        print("handshake answered %d" % error.status_code, file=sys.stderr)
        return 1
    except (Failure, OSError, websockets.exceptions.WebSocketException) \
            as error:
        print(str(error), file=sys.stderr)
        return 1


# --- raw frames -------------------------------------------------------------

def frame(opcode, payload=b"", fin=True, rsv=0, mask=True):
    """One client frame, masked unless told otherwise."""
    head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    length = len(payload)
    bit = 0x80 if mask else 0
    if length < 126:
        head.append(bit | length)
    elif length < 65536:
        head.append(bit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(bit | 127)
        head += struct.pack("!Q", length)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) \
        if length < 4096 else mask_fast(payload, key)
    return bytes(head) + key + masked


def mask_fast(payload, key):
    repeat = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^
            int.from_bytes(repeat, "big")).to_bytes(len(payload), "big")


class Connection:
    """A plain socket with a deadline, and the server-side frame reader."""

    def __init__(self, args):
        self.deadline = time.monotonic() + args.timeout
        if args.unix:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(args.timeout)
            self.sock.connect(args.unix)
        else:
            host, port, _ = request_target(args)
            self.sock = socket.create_connection((host, port),
                                                 timeout=args.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False

    def send(self, data, bytewise=False):
        try:
            if bytewise:
                for i in range(len(data)):
                    self.sock.sendall(data[i:i + 1])
            else:
                self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # what the server said before closing is still readable

    def fill(self):
        data = client_lib.recv_by(self.sock, self.deadline)
        if not data:
            self.eof = True
            raise EOFError()
        self.buf += data

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def http_head(self):
        """Reads a response head; returns (status line, [(name, value)])."""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        end = self.buf.index(b"\r\n\r\n")
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[:end + 4]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        return lines[0], headers

    def read_frame(self):
        """Returns (fin, rsv, opcode, payload) of one server frame."""
        first, second = self.take(2)
        if second & 0x80:
            raise Failure("the server sent a masked frame")
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self.take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self.take(8))[0]
        return first >> 7, (first >> 4) & 7, first & 0x0F, self.take(length)


def handshake_request(args, path, host_header, key):
    lines = ["%s %s HTTP/1.1" % (args.method, path), "Host: " + host_header]
    if not args.no_upgrade:
        lines += ["Upgrade: websocket", "Connection: " + args.connection]
    if args.version != "none":
        lines.append("Sec-WebSocket-Version: " + args.version)
    if key is not None:
        lines.append("Sec-WebSocket-Key: " + key)
    origin = origin_of(args)
    if origin is not None:
        lines.append("Origin: " + origin)
    lines += args.header
    if args.method == "POST":
        lines += ["Content-Length: 2"]
    text = "\r\n".join(lines) + "\r\n\r\n" + ("{}" if args.method == "POST"
                                              else "")
    return text.encode()


def open_raw(args):
    """Connects and upgrades; returns the Connection, or raises Failure."""
    conn = Connection(args)
    _, _, path = request_target(args)
    key = base64.b64encode(os.urandom(16)).decode()
    netloc = urllib.parse.urlsplit(args.url).netloc
    request = handshake_request(args, path, netloc, key)
    if args.case == "eager":
        # A client may send its first frame right behind the request.
        request += frame(OP_PING, args.data.encode())
    conn.send(request, bytewise=args.case == "bytewise")
    status, headers = conn.http_head()
    if status.split(" ")[1:2] != ["101"]:
        raise Failure("handshake answered %r" % status)
    got = dict(headers).get("sec-websocket-accept")
    if got != accept_for(key):
        raise Failure("Sec-WebSocket-Accept %r, not %r"
                      % (got, accept_for(key)))
    return conn


def text_frames(text, pieces):
    """A text message cut into `pieces` fragments (bytes cut anywhere)."""
    data = text if isinstance(text, bytes) else text.encode()
    step = max(1, len(data) // pieces)
    cuts = [data[i:i + step] for i in range(0, len(data), step)]
    frames = []
    for i, part in enumerate(cuts):
        frames.append(frame(OP_TEXT if i == 0 else OP_CONTINUATION, part,
                            fin=i == len(cuts) - 1))
    return frames


def publish_text(args):
    return json.dumps({"channel": args.publish_channel, "event": "msg",
                       "data": args.data}, ensure_ascii=False)


def case_frames(args):
    """The frames each --case sends, and whether it then closes (1000)."""
    name = args.case
    size = args.size
    if name in ("ping", "bytewise"):
        return [frame(OP_PING, args.data.encode())], True
    if name == "eager":
        return [], True
    if name == "ping-125":
        return [frame(OP_PING, b"p" * 125)], True
    if name == "unsolicited-pong":
        return [frame(OP_PONG, b"unasked"), frame(OP_PING, b"asked")], True
    if name == "close":
        return [frame(OP_CLOSE, struct.pack("!H", 1000) + b"bye")], False
    if name == "close-bad-code":
        return [frame(OP_CLOSE, struct.pack("!H", 999))], False
    if name == "close-code":
        return [frame(OP_CLOSE, struct.pack("!H", args.code) + b"why")], False
    if name == "close-one-byte":
        return [frame(OP_CLOSE, b"\x03")], False
    if name == "text":
        return [frame(OP_TEXT, args.data.encode())], True
    if name == "unmasked":
        return [frame(OP_TEXT, publish_text(args).encode(), mask=False)], False
    if name == "bad-utf8":
        return [frame(OP_TEXT, b'{"channel":"x","data":"\xc3\x28"}')], False
    if name == "bad-utf8-fragments":
        # Each fragment alone could start or end a valid text; together
        # they hold an invalid sequence (a lead byte then ASCII).
        return [frame(OP_TEXT, b'{"data":"\xe2\x82', fin=False),
                frame(OP_CONTINUATION, b'x"}')], False
    if name == "utf8-split":
        # A valid message cut inside its first multi-byte character.
        data = publish_text(args).encode()
        cut = next((i for i, b in enumerate(data) if b >= 0x80), None)
        if cut is None:
            raise SystemExit("utf8-split needs --data with a non-ASCII "
                             "character")
        cut += 1
        return [frame(OP_TEXT, data[:cut], fin=False),
                frame(OP_CONTINUATION, data[cut:])], True
    if name == "fragments":
        # A message in three fragments with a ping between them.
        parts = text_frames(publish_text(args), 3)
        return parts[:1] + [frame(OP_PING, b"between")] + parts[1:], True
    if name == "oversized":
        return [frame(OP_TEXT, b"x" * size)], False
    if name == "oversized-fragments":
        return text_frames(b"x" * size, max(2, size // 16384 + 1)), False
    if name == "rsv1":
        return [frame(OP_TEXT, b'"hi"', rsv=4)], False
    if name == "rsv3":
        return [frame(OP_PING, b"hi", rsv=1)], False
    if name == "opcode":
        return [frame(0x3, b"hi")], False
    if name == "control-opcode":
        return [frame(0xB, b"hi")], False
    if name == "big-control":
        return [frame(OP_PING, b"p" * 126)], False
    if name == "fragmented-ping":
        return [frame(OP_PING, b"pi", fin=False),
                frame(OP_CONTINUATION, b"ng")], False
    if name == "continuation-first":
        return [frame(OP_CONTINUATION, b"hi")], False
    if name == "text-in-fragments":
        return [frame(OP_TEXT, b'{"a":', fin=False),
                frame(OP_TEXT, b'"b"}')], False
    if name in ("ignore-pings", "answer-pings"):
        return [], False
    raise SystemExit("unknown --case %r" % name)


def describe(opcode, payload):
    if opcode == OP_CLOSE:
        if len(payload) >= 2:
            return "close %d" % struct.unpack("!H", payload[:2])[0]
        return "close none"
    text = payload.decode("utf-8", "replace")
    if opcode == OP_TEXT:
        try:
            message = json.loads(text)
            if isinstance(message, dict) and set(message) == {"error"}:
                print("error: %s" % message["error"], file=sys.stderr)
                return "text error"
        except ValueError:
            pass
        return "text " + text
    name = {OP_PING: "ping", OP_PONG: "pong", OP_BINARY: "binary"}
    return "%s %s" % (name.get(opcode, "opcode-%d" % opcode), text)


def mode_raw(args):
    if args.case == "silent":
        return raw_silent(args)
    try:
        conn = open_raw(args)
    except Failure as error:
        print(str(error), file=sys.stderr)
        return 1
    except EOFError:
        print("closed during the handshake", file=sys.stderr)
        return 1
    except Timeout:
        print("timed out in the handshake", file=sys.stderr)
        return 3
    frames, then_close = case_frames(args)
    for data in frames:
        conn.send(data, bytewise=args.case == "bytewise")
    # After a case that ends well, a reply per message is awaited before
    # the client's close: "close" then means the server answered it.
    replies_wanted = {"ping": 1, "bytewise": 1, "eager": 1, "ping-125": 1,
                      "unsolicited-pong": 1, "text": 1, "utf8-split": 1,
                      "fragments": 2}.get(args.case, 0)
    pings = 0
    try:
        while True:
            fin, rsv, opcode, payload = conn.read_frame()
            if rsv or not fin and opcode >= OP_CLOSE:
                raise Failure("the server sent a bad frame (fin %d rsv %d "
                              "opcode %d)" % (fin, rsv, opcode))
            if opcode == OP_PING:
                pings += 1
                if args.case == "answer-pings":
                    conn.send(frame(OP_PONG, payload))
                    if pings == args.pings:
                        print("pings %d open" % pings)
                        return 0
                    continue
                if args.case == "ignore-pings":
                    continue
            line = describe(opcode, payload)
            if args.case == "ignore-pings" and opcode == OP_CLOSE:
                line = "pings %d %s" % (min(pings, 1), line)
            print(line, flush=True)
            if opcode == OP_CLOSE:
                conn.send(frame(OP_CLOSE, payload[:2]))
                return 0
            if replies_wanted:
                replies_wanted -= 1
                if not replies_wanted and then_close:
                    conn.send(frame(OP_CLOSE, struct.pack("!H", 1000)))
    except EOFError:
        if args.case == "ignore-pings":
            print("pings %d eof" % min(pings, 1))
        else:
            print("eof")
        return 0
    except Timeout:
        print("timeout")
        print("timed out after %g s" % args.timeout, file=sys.stderr)
        return 3
    except Failure as error:
        print(str(error), file=sys.stderr)
        return 1


def raw_silent(args):
    """Connects, sends nothing, prints what came until the server closed."""
    conn = Connection(args)
    try:
        while True:
            conn.fill()
    except EOFError:
        head = bytes(conn.buf).split(b"\r\n", 1)[0].decode("latin-1")
        print(("eof after " + head) if head else "eof")
        return 0
    except Timeout:
        print("timeout")
        return 3


# --- handshake --------------------------------------------------------------

def mode_handshake(args):
    conn = Connection(args)
    _, _, path = request_target(args)
    key = args.key
    if key is None and not args.no_key:
        key = base64.b64encode(os.urandom(16)).decode()
    netloc = args.host or urllib.parse.urlsplit(args.url).netloc
    conn.send(handshake_request(args, path, netloc, key))
    try:
        status, headers = conn.http_head()
    except EOFError:
        print("closed without a response", file=sys.stderr)
        return 1
    except Timeout:
        print("timed out waiting for the response", file=sys.stderr)
        return 3
    print(status)
    for name, value in headers:
        print("%s: %s" % (name, value))
    print()
    code = status.split(" ")[1:2]
    if code == ["101"]:
        got = dict(headers).get("sec-websocket-accept")
        if got == accept_for(key or ""):
            print("accept ok")
        else:
            print("accept wrong: %r for key %r" % (got, key))
        return 0
    length = dict(headers).get("content-length")
    try:
        if length is not None:
            body = conn.take(int(length))
        else:
            try:
                while True:
                    conn.fill()
            except EOFError:
                pass
            body = bytes(conn.buf)
    except (EOFError, Timeout):
        body = bytes(conn.buf)
        print("body cut short or not ended: %r" % body, file=sys.stderr)
        sys.stdout.write(body.decode("utf-8", "replace"))
        return 3
    sys.stdout.write(body.decode("utf-8", "replace"))
    return 0


# --- arguments --------------------------------------------------------------

def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["collect", "publish", "raw",
                                         "handshake"])
    parser.add_argument("--url", required=True,
                        help="ws://127.0.0.1:PORT/PATH[?QUERY]")
    parser.add_argument("--unix", help="connect to this unix socket instead "
                        "(--url then gives the Host and path)")
    parser.add_argument("--channels", help="a,b: adds channel=a&channel=b")
    parser.add_argument("--last-event-id", type=int,
                        help="adds lastEventId=N (and checks ids are > N)")
    parser.add_argument("--backlog", type=int, help="adds backlog=N")
    parser.add_argument("--origin", default="none",
                        help="none (default), auto (the URL's own origin, "
                        "as a browser sends it) or an origin to send")
    parser.add_argument("--timeout", type=float, default=30,
                        help="safety limit in seconds (exit 3)")
    group = parser.add_argument_group("collect")
    group.add_argument("--count", type=int, help="stop after N events")
    group.add_argument("--until-close", action="store_true",
                       help="read until the server closes (without --count)")
    group.add_argument("--concurrent", type=int, default=1, metavar="K",
                       help="K connections that must get the same events")
    group.add_argument("--open-at-once", type=int, default=100,
                       help="handshakes in flight at a time (default 100)")
    group.add_argument("--ready-file", help="created once every connection "
                       "is open")
    group.add_argument("--hold-until", metavar="FILE", help="once open, "
                       "read nothing until FILE exists (a slow reader)")
    group.add_argument("--print", dest="output", default="none",
                       choices=["none", "ids", "json", "close"],
                       help="ids or json: the first connection's events; "
                       "close: 'close CODE' per connection")
    group = parser.add_argument_group("publish")
    group.add_argument("--send", action="append", default=[],
                       help="a text message to send (repeatable); each is "
                       "followed by reading its reply")
    group.add_argument("--receive", type=int,
                       help="then read until N events in all")
    group = parser.add_argument_group("raw")
    group.add_argument("--case", help="ping, bytewise (a ping sent one byte "
                       "at a time, after a handshake sent likewise), eager "
                       "(a ping in the same write as the request), "
                       "ping-125, unsolicited-pong, close, close-bad-code, "
                       "close-one-byte, "
                       "text, unmasked, bad-utf8, bad-utf8-fragments, "
                       "utf8-split, fragments, oversized, "
                       "oversized-fragments, rsv1, rsv3, opcode, "
                       "control-opcode, big-control, fragmented-ping, "
                       "continuation-first, text-in-fragments, "
                       "ignore-pings, answer-pings, silent")
    group.add_argument("--data", default="litepush \u2713",
                       help="payload of ping, text, and data of the "
                       "published message in utf8-split and fragments")
    group.add_argument("--publish-channel", default="chat")
    group.add_argument("--size", type=int, default=65537,
                       help="message size of the oversized cases")
    group.add_argument("--code", type=int, default=1000,
                       help="the code the close-code case closes with")
    group.add_argument("--pings", type=int, default=3,
                       help="answer-pings: stop after N pings")
    group = parser.add_argument_group("handshake (raw also uses these)")
    group.add_argument("--method", default="GET")
    group.add_argument("--version", default="13",
                       help="Sec-WebSocket-Version, or none")
    group.add_argument("--key", help="Sec-WebSocket-Key (default: random)")
    group.add_argument("--no-key", action="store_true")
    group.add_argument("--connection", default="Upgrade",
                       help="the Connection header")
    group.add_argument("--no-upgrade", action="store_true",
                       help="send neither Upgrade nor Connection")
    group.add_argument("--host", help="the Host header (default: the URL's)")
    group.add_argument("--header", action="append", default=[],
                       help="an extra request header 'Name: value'")
    args = parser.parse_args()
    if args.mode == "collect":
        if (args.count is None) == (not args.until_close):
            parser.error("collect needs one of --count and --until-close")
        if args.concurrent < 1:
            parser.error("--concurrent must be at least 1")
    if args.mode == "raw" and not args.case:
        parser.error("raw needs --case")
    return args


def main():
    # Stopped by the test (SIGTERM): exit at once, without the shell's
    # "Terminated" notice.
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(143))
    args = parse_args()
    try:
        return {"collect": mode_collect, "publish": mode_publish,
                "raw": mode_raw, "handshake": mode_handshake}[args.mode](args)
    except ConnectionRefusedError as error:
        print("cannot connect: %s" % error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
