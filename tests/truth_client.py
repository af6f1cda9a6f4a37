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
import json
import socket
import sys
import time
import urllib.parse


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def run_sse(args):
    url = urllib.parse.urlsplit(args.url)
    path = url.path + ("?" + url.query if url.query else "")
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % url.netloc,
             "Accept: text/event-stream", "Connection: close"]
    if args.last_event_id is not None:
        lines.append("Last-Event-ID: %s" % args.last_event_id)
    deadline = time.monotonic() + args.timeout
    sock = socket.create_connection((url.hostname, url.port), args.timeout)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    head_done = False
    chunked = False
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            more = sock.recv(65536)
        except socket.timeout:
            break
        if not more:
            break
        data += more
        if not head_done:
            if b"\r\n\r\n" not in data:
                continue
            head, data = data.split(b"\r\n\r\n", 1)
            status = head.split(b"\r\n", 1)[0].decode("latin-1")
            if " 200 " not in status + " ":
                out(": status %s\n" % status)
                return
            chunked = b"chunked" in head.lower()
            head_done = True
            out(": open\n")
        if chunked:
            # Chunk sizes are dropped; what is left is the body's text.
            while b"\r\n" in data:
                size_line, rest = data.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0] or b"0", 16)
                if len(rest) < size + 2:
                    break
                out(rest[:size].decode("utf-8", "replace"))
                data = rest[size + 2:]
        else:
            out(data.decode("utf-8", "replace"))
            data = b""


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
                if "reset" in frame:
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
