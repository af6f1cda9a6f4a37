#!/usr/bin/env python3
"""make_corpus.py: writes the seed corpora of the fuzz targets.

Usage: tests/fuzz/make_corpus.py   (rewrites tests/fuzz/corpus/*/)

The seeds are valid and near-valid inputs taken from the unit tests' cases
(tests/check_query.c, check_handshake.c, check_wsconn.c, check_sse.c), one
file each, named after what it is.  The fuzzers find the rest; this only
gives them the shapes a mutation would take long to reach.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, seeds):
    """Replaces corpus/TARGET with one file per (name, bytes) seed."""
    path = os.path.join(HERE, "corpus", target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    for name, data in seeds:
        if isinstance(data, str):
            data = data.encode("latin-1")
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


A64 = "a" * 64

QUERY = [
    ("empty", ""),
    ("one", "channel=news"),
    ("ids", "lastEventId=42&backlog=10"),
    ("all", "channel=a&lastEventId=7&backlog=3"),
    ("ignored", "x=1&channel=a&y"),
    ("case", "Channel=a&CHANNEL=b&channels=c"),
    ("empty-pairs", "&channel=a&&channel=b&"),
    ("semicolon", "channel=a;channel=b"),
    ("equals", "x=a=b=c&channel=d"),
    ("cache-buster", "_=1699999999999&channel=live"),
    ("percent", "c%68annel=%61%62&%6castEventId=5"),
    ("percent-comma", "channel=a%2Cb%2cc"),
    ("plus", "channel=a+b"),
    ("binary", "x=%00%ff%FF"),
    ("list", "channel=a,b&channel=c,d"),
    ("duplicates", "channel=b,a,b&channel=a"),
    ("rule", "channel=A-z_0.9:x&channel=-&channel=.&channel=:&channel=_"),
    ("long-channel", "channel=" + A64),
    ("too-long-channel", "channel=a," + A64 + "a,b"),
    ("bad-channel", "channel=a/b"),
    ("utf8-channel", "channel=%C3%A9t%C3%A9"),
    ("empty-item", "channel=a,,b"),
    ("trailing-comma", "channel=a%2C"),
    ("max-id", "lastEventId=9223372036854775807"),
    ("zeros", "lastEventId=000000000000000000000009223372036854775807"),
    ("overflow", "lastEventId=9223372036854775808"),
    ("repeat-id", "lastEventId=1&lastEventId=&backlog=5&backlog=6"),
    ("sign", "lastEventId=+1&backlog=-5"),
    ("bad-escape", "channel=a%G1"),
    ("cut-escape", "channel=a%4"),
    ("first-error", "channel=a/b&x=%G"),
    ("error-order", "backlog=y&lastEventId=x"),
    ("long-escape", "x=" + A64 + "%GGzz"),
    ("33-channels", "channel=" + ",".join("c%d" % i for i in range(33))),
    ("32-channels", "&".join("channel=c%d" % i for i in range(32))),
    ("header-blanks", " \t 42\t "),
    ("header-inner", " 4\t2 "),
    ("header-nul", "42\x00junk"),
]

REST = ("Host: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
GOOD = ("GET /ws?channel=news&channel=chat&lastEventId=42 HTTP/1.1\r\n"
        "Host: example.com:8131\r\n"
        "Connection: Upgrade\r\n"
        "Pragma: no-cache\r\n"
        "Upgrade: websocket\r\n"
        "Origin: http://example.com:8131\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "User-Agent: Mozilla/5.0\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; "
        "client_max_window_bits\r\n"
        "X-Forwarded-For: 203.0.113.7\r\n"
        "\r\n")

HANDSHAKE = [
    ("good", GOOD),
    ("good-with-frame", GOOD + "\x89\x80\x01\x02\x03\x04"),
    ("minimal", "GET / HTTP/1.1\r\n" + REST + "\r\n"),
    ("bare-lf", "GET / HTTP/1.1\n" + REST.replace("\r\n", "\n") + "\n"),
    ("cases", "GET /x HTTP/1.1\r\nhOsT:h\r\nupgrade:   WebSocket  \r\n"
     "CONNECTION: keep-alive, Upgrade\r\nsec-websocket-version:\t13\r\n"
     "SEC-WEBSOCKET-KEY: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    ("repeated", "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
     "Upgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n"
     "Content-Length: 0\r\nSec-WebSocket-Version: 13\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    ("http-1.2", "GET /x HTTP/1.2\r\n" + REST + "\r\n"),
    ("odd-headers", "GET /x HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n"
     "X-Text: a b\xc3\xa9\r\n" + REST[9:] + "\r\n"),
    ("post", "POST / HTTP/1.1\r\n" + REST + "\r\n"),
    ("http-1.0", "GET / HTTP/1.0\r\n" + REST + "\r\n"),
    ("two-spaces", "GET  / HTTP/1.1\r\n" + REST + "\r\n"),
    ("no-version", "GET /\r\n" + REST + "\r\n"),
    ("absolute-target", "GET http://h/ HTTP/1.1\r\n" + REST + "\r\n"),
    ("control-in-target", "GET /a\x01 HTTP/1.1\r\n" + REST + "\r\n"),
    ("no-host", "GET / HTTP/1.1\r\n" + REST[9:] + "\r\n"),
    ("upgrade-h2c", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
     "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    ("version-8", "GET / HTTP/1.1\r\n" + REST.replace(": 13", ": 8") + "\r\n"),
    ("short-key", "GET / HTTP/1.1\r\n" + REST.replace("ZQ==", "ZQ") + "\r\n"),
    ("duplicate-key", "GET / HTTP/1.1\r\n" + REST +
     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
    ("folded", "GET / HTTP/1.1\r\n" + REST + "X-A: b\r\n c\r\n\r\n"),
    ("body", "GET / HTTP/1.1\r\n" + REST + "Content-Length: 5\r\n\r\nhello"),
    ("chunked", "GET / HTTP/1.1\r\n" + REST +
     "Transfer-Encoding: chunked\r\n\r\n"),
    ("origin-same", "GET / HTTP/1.1\r\n" + REST.replace("Host: h", "Host: h:80")
     + "Origin: http://h\r\n\r\n"),
    ("origin-other", "GET / HTTP/1.1\r\n" + REST +
     "Origin: https://evil.example\r\n\r\n"),
    ("origin-listed", "GET / HTTP/1.1\r\n" + REST +
     "Origin: https://example.com:443\r\n\r\n"),
    ("origin-null", "GET / HTTP/1.1\r\n" + REST + "Origin: null\r\n\r\n"),
    ("origin-ipv6", "GET / HTTP/1.1\r\n" +
     REST.replace("Host: h", "Host: [::1]:8131") +
     "Origin: http://[::1]:8131\r\n\r\n"),
    ("origin-path", "GET / HTTP/1.1\r\n" +
     REST.replace("Host: h", "Host: localhost:8131") +
     "Origin: http://localhost:8131\r\n\r\n"),
    ("bad-query", "GET /?channel=a/b HTTP/1.1\r\n" + REST + "\r\n"),
    ("bad-escape", "GET /?channel=%G1 HTTP/1.1\r\n" + REST + "\r\n"),
    ("query-all", "GET /p?channel=a,b&backlog=9&lastEventId=1 HTTP/1.1\r\n"
     + REST + "\r\n"),
    ("control-in-header", "GET / HTTP/1.1\r\n" + REST + "X-A: \x7f\r\n\r\n"),
    ("nul-in-header", "GET / HTTP/1.1\r\n" + REST + "X-A: a\x00b\r\n\r\n"),
    ("no-colon", "GET / HTTP/1.1\r\n" + REST + "Bad header\r\n\r\n"),
    ("incomplete", "GET / HTTP/1.1\r\n" + REST),
    ("empty-line-first", "\r\n" + "GET / HTTP/1.1\r\n" + REST + "\r\n"),
    ("too-large", "GET / HTTP/1.1\r\n" + REST + "X-Pad: " + "p" * 8200 +
     "\r\n\r\n"),
]

# Client frames: masked unless told not to.
MASK = b"\x37\xfa\x21\x3d"


def frame(opcode, payload=b"", fin=True, rsv=0, masked=True):
    """Returns one client frame."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogateescape")
    out = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    bit = 0x80 if masked else 0
    n = len(payload)
    if n < 126:
        out += bytes([bit | n])
    elif n < 65536:
        out += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        out += bytes([bit | 127]) + struct.pack(">Q", n)
    if masked:
        out += MASK
        payload = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return out + payload


TEXT, BINARY, CLOSE, PING, PONG, CONT = 1, 2, 8, 9, 10, 0
PUBLISH = '{"channel":"chat","event":"msg","data":"hi"}'

# Flags of fuzz_wsmessage (byte 0): see the top of fuzz_wsmessage.c.
BACKLOG, WITH_HEAD, BYTES, SEVENS, SIXTY_FOURS, NO_PUBLISH = 1, 2, 4, 8, 12, 16

WSMESSAGE = [
    ("nothing", bytes([0])),
    ("backlog", bytes([BACKLOG])),
    ("publish", bytes([0]) + frame(TEXT, PUBLISH)),
    ("publish-backlog-bytes", bytes([BACKLOG | BYTES]) + frame(TEXT, PUBLISH)),
    ("publish-disabled", bytes([NO_PUBLISH]) + frame(TEXT, PUBLISH)),
    ("publish-twice-with-head", bytes([WITH_HEAD | SEVENS]) +
     frame(TEXT, PUBLISH) +
     frame(TEXT, '{"channel":"chat-2","data":"a\\u0000b","event":null}')),
    ("publish-many", bytes([SIXTY_FOURS]) + b"".join(
        frame(TEXT, '{"channel":"chat","data":"%d"}' % i) for i in range(12))),
    ("publish-not-allowed", bytes([0]) +
     frame(TEXT, '{"channel":"news","data":"x"}')),
    ("publish-errors", bytes([0]) + frame(TEXT, "hello") + frame(TEXT, "[1]") +
     frame(TEXT, '{"channel":"chat"}') +
     frame(TEXT, '{"channel":"bad channel","data":"x"}') +
     frame(TEXT, '{"channel":"chat","event":"a\\nb","data":"x"}') +
     frame(TEXT, '{"channel":"chat","data":"b","data":"c"}') +
     frame(TEXT, '{"channel":"chat","data":"\\ud800"}')),
    ("binary", bytes([0]) + frame(BINARY, b"\x01\x02")),
    ("ping", bytes([0]) + frame(PING, "hello") + frame(PONG, "unsolicited") +
     frame(PING)),
    ("fragmented", bytes([BYTES]) + frame(TEXT, '{"channel":"chat-2",', False) +
     frame(PING, "mid") + frame(CONT, '"data":"fr', False) +
     frame(CONT, 'ag"}')),
    ("close", bytes([0]) + frame(CLOSE, b"\x03\xe8bye")),
    ("close-empty", bytes([0]) + frame(CLOSE)),
    ("close-then-more", bytes([0]) + frame(CLOSE, b"\x0f\xa0") +
     frame(TEXT, PUBLISH)),
    ("unmasked", bytes([0]) + frame(TEXT, "hi", masked=False)),
    ("rsv1", bytes([0]) + frame(TEXT, "", rsv=4)),
    ("opcode-3", bytes([0]) + frame(3)),
    ("continuation-first", bytes([0]) + frame(CONT)),
    ("text-in-fragments", bytes([0]) + frame(TEXT, "", False) + frame(TEXT)),
    ("fragmented-ping", bytes([0]) + frame(PING, "", False)),
    ("ping-126", bytes([0]) + frame(PING, "p" * 126)),
    ("top-bit-length", bytes([0]) +
     b"\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01\x01\x02\x03\x04"),
    ("close-one-byte", bytes([0]) + frame(CLOSE, b"\x03")),
    ("close-999", bytes([0]) + frame(CLOSE, b"\x03\xe7")),
    ("close-1005", bytes([0]) + frame(CLOSE, b"\x03\xed")),
    ("close-bad-utf8", bytes([0]) + frame(CLOSE, b"\x03\xe8\xff")),
    ("bad-utf8", bytes([0]) + frame(TEXT, b"\xff")),
    ("overlong-utf8", bytes([BYTES]) + frame(TEXT, b"\xc0\xaf")),
    ("utf8-cut", bytes([0]) + frame(TEXT, b"\xc3", False) +
     frame(CONT, b"\x80", False)),
    ("too-big", bytes([SIXTY_FOURS]) + frame(TEXT, "x" * 1025)),
    ("too-big-fragments", bytes([0]) + frame(TEXT, "x" * 600, False) +
     frame(CONT, "x" * 425)),
    ("huge-header", bytes([0]) +
     b"\x82\xff\x40\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04x"),
    ("at-limit", bytes([0]) + frame(TEXT, "x" * 1024)),
    ("garbage", bytes([WITH_HEAD]) + b"GET / HTTP/1.1\r\n\r\n"),
]


def sse(flags, event_id, name, data):
    """Returns an input of fuzz_sse_encoder (see the top of its file)."""
    if isinstance(name, str):
        name = name.encode("latin-1")
    if isinstance(data, str):
        data = data.encode("latin-1")
    return (bytes([flags]) + struct.pack("<q", event_id) +
            bytes([len(name)]) + name + data)


NO_EVENT, NULL_DATA, PENDING = 1, 2, 4

SSE = [
    ("simple", sse(0, 1, "add", "hello")),
    ("no-event", sse(NO_EVENT, 42, "", "x")),
    ("empty-data", sse(0, 1, "t", "")),
    ("null-data", sse(NULL_DATA, 1, "t", "")),
    ("pending", sse(PENDING, 7, "e", "after")),
    ("lf", sse(0, 5, "", "a\nb\n")),
    ("cr", sse(0, 5, "", "a\rb\r")),
    ("crlf", sse(0, 5, "", "a\r\nb\r\n")),
    ("mixed", sse(0, 5, "", "  x\r\r\ny\n\n\r")),
    ("only-ends", sse(0, 5, "", "\n\n\r\r\n")),
    ("nul", sse(0, 3, "", "a\x00b")),
    ("leading-space", sse(0, 3, " sp", " data")),
    ("colon", sse(0, 3, "a:b", "data: x\nid: 9\nevent: y")),
    ("name-crlf", sse(0, 2, "na\r\nme", "d")),
    ("name-lf-first", sse(0, 2, "\nname", "d")),
    ("name-nul", sse(0, 2, "na\x00me", "d")),
    ("name-bad-utf8", sse(0, 2, "n\xff\xc3", "d")),
    ("utf8", sse(0, 9, "caf\xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80")),
    ("bad-utf8", sse(0, 9, "", "\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80")),
    ("cut-utf8", sse(0, 9, "", "\xe2\x82\n\xf0\x9f\x98\r\xc3")),
    ("bom", sse(0, 1, "", "\xef\xbb\xbfdata")),
    ("zero-id", sse(0, 0, "", "z")),
    ("negative-id", sse(0, -1, "", "n")),
    ("min-id", sse(0, -2**63, "", "min")),
    ("max-id", sse(0, 2**63 - 1, "", "max")),
    ("long-name", sse(0, 1, "n" * 200, "d")),
    ("long-line", sse(0, 1, "", "l" * 2000 + "\xc3")),
    ("short", b"\x00\x01"),
]

if __name__ == "__main__":
    write("fuzz_query", QUERY)
    write("fuzz_handshake", HANDSHAKE)
    write("fuzz_wsmessage", WSMESSAGE)
    write("fuzz_sse_encoder", SSE)
