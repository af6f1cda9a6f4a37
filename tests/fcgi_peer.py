#!/usr/bin/python3
"""fcgi_peer.py: FastCGI peers that misbehave, for tests/hostile-sse.sh.

Modes (each against --connect HOST:PORT):

  idle    --count K connections that send --send-bytes bytes of a valid
          request (0: nothing at all), then nothing more; each waits until
          the server closes it or --timeout passes and prints "eof" or
          "open".  With --hold-file FILE the connections are made, FILE is
          written once they all are, and they wait as above.
  body    one request whose parameters announce no body, then STDIN records
          with content, as fast as the socket takes them, until the server
          closes the connection or --timeout passes; prints "closed BYTES"
          (BYTES of body sent) or "open BYTES".
  post    a POST with a 5-byte body, all of it in one write (so that the
          body comes with the parameters); prints the response's Status
          line, or "eof" if the connection closed without one.
  flood   one valid request, then records of an unknown type with content,
          as fast as the socket takes them, for --timeout seconds; prints
          "closed BYTES" if the server closed it first, else "open BYTES".
          (The server must skip them and stay fair to other streams.)

Run with /usr/bin/python3 (stdlib only).  Exit status 0, or 2 on usage
errors.
"""

import argparse
import os
import resource
import select
import socket
import sys
import time

# The clients package sits next to this script: found from any directory,
# also when Python leaves the script's directory out of sys.path (-P).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clients import common, fcgi  # noqa: E402


def request(channel, request_id=1, method=b"GET", extra=()):
    """BEGIN_REQUEST and the params of a stream request, without a body."""
    params = [(b"REQUEST_METHOD", method),
              (b"QUERY_STRING", b"channel=" + channel.encode()),
              (b"SERVER_PROTOCOL", b"HTTP/1.1")] + list(extra)
    return (fcgi.begin_request(request_id) +
            fcgi.params_records(params, request_id))


def connect(address):
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def wait_closed(sock, deadline):
    """Returns True once the server has closed sock (EOF or reset)."""
    sock.setblocking(False)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            continue
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            return True
        if not data:
            return True


def mode_idle(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    prefix = request(args.channel)[:args.send_bytes]
    socks = []
    for _ in range(args.count):
        s = connect(args.connect)
        if prefix:
            s.sendall(prefix)
        socks.append(s)
    if args.hold_file:
        common.write_ready_file(args.hold_file, len(socks))
    deadline = time.monotonic() + args.timeout
    for s in socks:
        print("eof" if wait_closed(s, deadline) else "open", flush=True)
    return 0


def send_until_closed(sock, chunk, deadline):
    """Sends chunk over and over; returns (closed, bytes sent)."""
    sent = 0
    sock.setblocking(False)
    while time.monotonic() < deadline:
        _, writable, _ = select.select([sock], [sock], [], 0.2)
        try:
            if sock.recv(65536, socket.MSG_DONTWAIT) == b"":
                return True, sent
        except BlockingIOError:
            pass
        except OSError:
            return True, sent
        if writable:
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                pass
            except OSError:
                return True, sent
    return False, sent


def mode_post(args):
    s = connect(args.connect)
    s.sendall(request(args.channel, method=b"POST",
                      extra=[(b"CONTENT_LENGTH", b"5")]) +
              fcgi.stdin_records(b"hello"))
    response = fcgi.ResponseReader()
    s.settimeout(args.timeout)
    try:
        while b"\r\n" not in response.stdout and not response.ended:
            more = s.recv(65536)
            if not more:
                break
            response.feed(more)
    except OSError:
        pass
    line = bytes(response.stdout).split(b"\r\n", 1)[0]
    print(line.decode("latin-1") if line.startswith(b"Status:") else "eof")
    return 0


def mode_stream_then(args, rtype):
    s = connect(args.connect)
    s.sendall(request(args.channel))
    chunk = fcgi.record(rtype, 1, b"x" * fcgi.MAX_CONTENT) * 4
    closed, sent = send_until_closed(s, chunk,
                                     time.monotonic() + args.timeout)
    print("%s %d" % ("closed" if closed else "open", sent), flush=True)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["idle", "body", "post", "flood"])
    p.add_argument("--connect", required=True, help="HOST:PORT")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--send-bytes", type=int, default=0)
    p.add_argument("--hold-file")
    p.add_argument("--channel", default="news")
    p.add_argument("--timeout", type=float, default=10)
    args = p.parse_args()
    if args.mode == "idle":
        return mode_idle(args)
    if args.mode == "post":
        return mode_post(args)
    return mode_stream_then(args, fcgi.STDIN if args.mode == "body"
                            else fcgi.UNKNOWN_TYPE)


if __name__ == "__main__":
    sys.exit(main())
