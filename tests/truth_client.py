#!/usr/bin/python3
"""truth_client.py: one raw subscriber for tests/truth.sh.

Opens one stream (SSE over HTTP/1.1, or a WebSocket) and writes what it
receives to standard output as it comes, in one form for both transports,
so that the shell compares them alike:

  : open                      once the stream is open
  id: N                       an SSE id-only block (the position)
  id: N / event: E / data: D  an event, then a blank line
  event: reset / data: {...}  a reset (an SSE event, a WebSocket frame)

SSE is passed through as the server wrote it (the raw lines of the body);
each WebSocket frame is rewritten to those lines.  Unlike sse_client.py it
checks nothing itself: ids may go down (a restarted log), and the test
says what it expected.  Runs until --timeout or until the stream ends.
"""

import argparse
import asyncio
import codecs
import json
import os
import socket
import sys
import time

# The clients package sits next to this script: found from any directory,
# also when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import common, http1  # noqa: E402


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def run_sse(args):
    host, port, netloc, target = http1.request_target(args.url)
    lines = ["Host: %s" % netloc,
             "Accept: text/event-stream", "Connection: close"]
    if args.last_event_id is not None:
        lines.append("Last-Event-ID: %s" % args.last_event_id)
    deadline = time.monotonic() + args.timeout
    sock = socket.create_connection((host, port), args.timeout)
    sock.sendall(http1.request_head("GET", target, lines))
    reader = common.SocketReader(sock, deadline)
    try:
        head = reader.read_head()
    except (EOFError, common.Timeout):
        return
    if head.status != "200":
        out(": status %s\n" % head.status_line)
        return
    out(": open\n")
    # The body as text (chunk sizes dropped), written a whole line at a
    # time: the shell reads the file while it grows, and must never see
    # half a "data:" line.
    body = http1.body_decoder(head)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = ""
    try:
        while not body.finished:
            text += decoder.decode(body.feed(reader.take_some()))
            cut = text.rfind("\n") + 1
            if cut:
                out(text[:cut])
                text = text[cut:]
    except (EOFError, common.Timeout, http1.BodyError):
        pass
    out(text + decoder.decode(b"", final=True))


async def run_ws(args):
    import websockets
    url = args.url
    if args.last_event_id is not None:
        url += ("&" if "?" in url else "?") + "lastEventId=%s" % \
            args.last_event_id
    try:
        async with websockets.connect(url, ping_interval=None) as ws:
            out(": open\n")
            while True:
                frame = json.loads(await ws.recv())
                if "position" in frame:
                    # As SSE's id-only block: the connection's position.
                    out("id: %d\n\n" % frame["position"])
                elif "reset" in frame:
                    out("event: reset\ndata: %s\n\n" % json.dumps(
                        frame["reset"], separators=(",", ":")))
                elif "id" in frame:
                    text = "id: %d\n" % frame["id"]
                    if frame["event"] is not None:
                        text += "event: %s\n" % frame["event"]
                    out(text + "data: %s\n\n" % frame["data"])
                else:
                    out(": frame %s\n" % json.dumps(frame))
    except websockets.exceptions.ConnectionClosed as closed:
        out(": closed %s\n" % closed.code)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("transport", choices=["sse", "ws"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--last-event-id")
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    if args.transport == "sse":
        run_sse(args)
    else:
        try:
            asyncio.run(asyncio.wait_for(run_ws(args), args.timeout))
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    main()
