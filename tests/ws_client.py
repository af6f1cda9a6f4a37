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
import collections
import json
import os
import signal
import socket
import sys
import time
import urllib.parse

# The clients package sits next to this script: found from any directory,
# also when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import common, http1, ws  # noqa: E402
from clients.common import Timeout  # noqa: E402
from clients.ws import (OP_BINARY, OP_CLOSE, OP_CONTINUATION,  # noqa: E402
                        OP_PING, OP_PONG, OP_TEXT, encode_frame)


class Failure(Exception):
    """The server did not do what the test asked."""


def request_target(args):
    """Returns (host, port, path?query) of --url plus the query options."""
    params = []
    for channel in (args.channels.split(",") if args.channels else []):
        params.append(("channel", channel))
    if getattr(args, "last_event_id", None) is not None:
        params.append(("lastEventId", args.last_event_id))
    if getattr(args, "backlog", None) is not None:
        params.append(("backlog", args.backlog))
    host, port, _, target = http1.request_target(args.url, params)
    return host, port, target


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


def position_of(text):
    """The N of a {"position":N} frame, or None for any other frame."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if isinstance(message, dict) and set(message) == {"position"}:
        if not isinstance(message["position"], int) or \
                isinstance(message["position"], bool) or \
                message["position"] < 0:
            raise Failure("position is not an id: %r" % text[:200])
        return message["position"]
    return None


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
        self.position = None

    def done(self):
        return self.args.count is not None and \
            len(self.events) >= self.args.count

    def take(self, text):
        if isinstance(text, bytes):
            raise Failure("binary frame of %d bytes" % len(text))
        position = position_of(text)
        if position is not None:
            # The first text of a connection, once: where its events start.
            if self.position is not None or self.events:
                raise Failure("position %d after the first frame" % position)
            self.position = position
            return
        if self.position is None:
            raise Failure("the first frame is not the position: %r"
                          % text[:200])
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
            common.write_ready_file(args.ready_file, opened[0])

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

    common.print_events(subs[0].events, args.output, event_json)
    if args.output == "close":
        for sub in subs:
            print("close %s" % sub.close_code)
    return common.report_streams(subs, args.timeout, timed_out)


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
        if position_of(text) is not None:
            return None  # where this connection's events start
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

class Connection:
    """A plain socket with a deadline, and the server's frames decoded."""

    def __init__(self, args):
        deadline = time.monotonic() + args.timeout
        if args.unix:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(args.timeout)
            self.sock.connect(args.unix)
        else:
            host, port, _ = request_target(args)
            self.sock = socket.create_connection((host, port),
                                                 timeout=args.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = common.SocketReader(self.sock, deadline)
        self.decoder = ws.FrameDecoder()
        self.frames = collections.deque()

    def send(self, data, bytewise=False):
        try:
            if bytewise:
                for i in range(len(data)):
                    self.sock.sendall(data[i:i + 1])
            else:
                self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # what the server said before closing is still readable

    def read_frame(self):
        """Returns (fin, rsv, opcode, payload) of one server frame; raises
        EOFError or Timeout as common.SocketReader does."""
        while not self.frames:
            self.frames.extend(self.decoder.feed(self.reader.take_some()))
        frame = self.frames.popleft()
        if frame.masked:
            raise Failure("the server sent a masked frame")
        return frame.fin, frame.rsv, frame.opcode, frame.payload


def handshake_request(args, path, host_header, key):
    """The handshake the options ask for, bent as they say (see
    ws.handshake_lines); a POST carries a body of 2 bytes."""
    lines = ws.handshake_lines(
        host_header, key,
        version=None if args.version == "none" else args.version,
        upgrade=not args.no_upgrade, connection=args.connection,
        origin=origin_of(args))
    lines += args.header
    if args.method == "POST":
        lines += ["Content-Length: 2"]
    return http1.request_head(args.method, path, lines) + \
        (b"{}" if args.method == "POST" else b"")


def open_raw(args):
    """Connects and upgrades; returns the Connection, or raises Failure."""
    conn = Connection(args)
    _, _, path = request_target(args)
    key = ws.new_key()
    netloc = urllib.parse.urlsplit(args.url).netloc
    request = handshake_request(args, path, netloc, key)
    if args.case == "eager":
        # A client may send its first frame right behind the request.
        request += encode_frame(OP_PING, args.data.encode())
    conn.send(request, bytewise=args.case == "bytewise")
    head = conn.reader.read_head()
    if head.status != "101":
        raise Failure("handshake answered %r" % head.status_line)
    got = head.header("sec-websocket-accept")
    if got != ws.accept_for(key):
        raise Failure("Sec-WebSocket-Accept %r, not %r"
                      % (got, ws.accept_for(key)))
    return conn


def text_frames(text, pieces):
    """A text message cut into `pieces` fragments (bytes cut anywhere)."""
    data = text if isinstance(text, bytes) else text.encode()
    step = max(1, len(data) // pieces)
    cuts = [data[i:i + step] for i in range(0, len(data), step)]
    frames = []
    for i, part in enumerate(cuts):
        opcode = OP_TEXT if i == 0 else OP_CONTINUATION
        frames.append(encode_frame(opcode, part, fin=i == len(cuts) - 1))
    return frames


def publish_text(args):
    return json.dumps({"channel": args.publish_channel, "event": "msg",
                       "data": args.data}, ensure_ascii=False)


def case_frames(args):
    """The frames each --case sends, and whether it then closes (1000)."""
    name = args.case
    size = args.size
    if name in ("ping", "bytewise"):
        return [encode_frame(OP_PING, args.data.encode())], True
    if name == "eager":
        return [], True
    if name == "ping-125":
        return [encode_frame(OP_PING, b"p" * 125)], True
    if name == "unsolicited-pong":
        return [encode_frame(OP_PONG, b"unasked"),
                encode_frame(OP_PING, b"asked")], True
    if name == "close":
        return [encode_frame(OP_CLOSE, ws.close_payload(1000, b"bye"))], False
    if name == "close-bad-code":
        return [encode_frame(OP_CLOSE, ws.close_payload(999))], False
    if name == "close-code":
        return [encode_frame(OP_CLOSE,
                             ws.close_payload(args.code, b"why"))], False
    if name == "close-one-byte":
        return [encode_frame(OP_CLOSE, b"\x03")], False
    if name == "text":
        return [encode_frame(OP_TEXT, args.data.encode())], True
    if name == "unmasked":
        return [encode_frame(OP_TEXT, publish_text(args).encode(),
                             mask=False)], False
    if name == "bad-utf8":
        return [encode_frame(OP_TEXT,
                             b'{"channel":"x","data":"\xc3\x28"}')], False
    if name == "bad-utf8-fragments":
        # Each fragment alone could start or end a valid text; together
        # they hold an invalid sequence (a lead byte then ASCII).
        return [encode_frame(OP_TEXT, b'{"data":"\xe2\x82', fin=False),
                encode_frame(OP_CONTINUATION, b'x"}')], False
    if name == "utf8-split":
        # A valid message cut inside its first multi-byte character.
        data = publish_text(args).encode()
        cut = next((i for i, b in enumerate(data) if b >= 0x80), None)
        if cut is None:
            raise SystemExit("utf8-split needs --data with a non-ASCII "
                             "character")
        cut += 1
        return [encode_frame(OP_TEXT, data[:cut], fin=False),
                encode_frame(OP_CONTINUATION, data[cut:])], True
    if name == "fragments":
        # A message in three fragments with a ping between them.
        parts = text_frames(publish_text(args), 3)
        return (parts[:1] + [encode_frame(OP_PING, b"between")] + parts[1:],
                True)
    if name == "oversized":
        return [encode_frame(OP_TEXT, b"x" * size)], False
    if name == "oversized-fragments":
        return text_frames(b"x" * size, max(2, size // 16384 + 1)), False
    if name == "rsv1":
        return [encode_frame(OP_TEXT, b'"hi"', rsv=4)], False
    if name == "rsv3":
        return [encode_frame(OP_PING, b"hi", rsv=1)], False
    if name == "opcode":
        return [encode_frame(0x3, b"hi")], False
    if name == "control-opcode":
        return [encode_frame(0xB, b"hi")], False
    if name == "big-control":
        return [encode_frame(OP_PING, b"p" * 126)], False
    if name == "fragmented-ping":
        return [encode_frame(OP_PING, b"pi", fin=False),
                encode_frame(OP_CONTINUATION, b"ng")], False
    if name == "continuation-first":
        return [encode_frame(OP_CONTINUATION, b"hi")], False
    if name == "text-in-fragments":
        return [encode_frame(OP_TEXT, b'{"a":', fin=False),
                encode_frame(OP_TEXT, b'"b"}')], False
    if name in ("ignore-pings", "answer-pings"):
        return [], False
    raise SystemExit("unknown --case %r" % name)


def describe(opcode, payload):
    if opcode == OP_CLOSE:
        code, _ = ws.parse_close(payload)
        return "close none" if code is None else "close %d" % code
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
    position_seen = False
    try:
        while True:
            fin, rsv, opcode, payload = conn.read_frame()
            if rsv or not fin and opcode >= OP_CLOSE:
                raise Failure("the server sent a bad frame (fin %d rsv %d "
                              "opcode %d)" % (fin, rsv, opcode))
            # The first frame of every connection is its position.
            if not position_seen:
                if opcode != OP_TEXT or position_of(
                        payload.decode("utf-8", "replace")) is None:
                    raise Failure("the first frame is not the position: "
                                  "%s" % describe(opcode, payload))
                position_seen = True
                continue
            if opcode == OP_PING:
                pings += 1
                if args.case == "answer-pings":
                    conn.send(encode_frame(OP_PONG, payload))
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
                conn.send(encode_frame(OP_CLOSE, payload[:2]))
                return 0
            if replies_wanted:
                replies_wanted -= 1
                if not replies_wanted and then_close:
                    conn.send(encode_frame(OP_CLOSE, ws.close_payload(1000)))
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
            conn.reader.fill()
    except EOFError:
        head = bytes(conn.reader.buffer).split(b"\r\n", 1)[0] \
            .decode("latin-1")
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
        key = ws.new_key()
    netloc = args.host or urllib.parse.urlsplit(args.url).netloc
    conn.send(handshake_request(args, path, netloc, key))
    try:
        head = conn.reader.read_head()
    except EOFError:
        print("closed without a response", file=sys.stderr)
        return 1
    except Timeout:
        print("timed out waiting for the response", file=sys.stderr)
        return 3
    print(head.status_line)
    for name, value in head.fields:
        print("%s: %s" % (name, value))
    print()
    if head.status == "101":
        got = head.header("sec-websocket-accept")
        if got == ws.accept_for(key or ""):
            print("accept ok")
        else:
            print("accept wrong: %r for key %r" % (got, key))
        return 0
    length = head.header("content-length")
    try:
        if length is not None:
            body = conn.reader.take(int(length))
        else:
            try:
                while True:
                    conn.reader.fill()
            except EOFError:
                pass
            body = bytes(conn.reader.buffer)
    except (EOFError, Timeout):
        body = bytes(conn.reader.buffer)
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
