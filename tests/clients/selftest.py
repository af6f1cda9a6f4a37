#!/usr/bin/python3
"""selftest.py: the unit tests of the clients package (stdlib unittest).

Each parser gets its cases whole, byte by byte and cut at every offset, and
must give the same result each way; the large inputs (a 5 MB SSE line in
4 KB pieces, 64-bit frame lengths, 70,000 bytes of FastCGI params) check
that nothing is quadratic or cut at the wrong size.  tests/clients.sh runs
it: /usr/bin/python3 tests/clients/selftest.py -v
"""

import os
import socket
import struct
import sys
import time
import unittest

# Run as a script, Python puts this directory first on sys.path; the
# package is imported from its parent instead, as the scripts in tests/ do.
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
sys.path.insert(0, os.path.dirname(here))

from clients import common, fcgi, http1, sse, ws  # noqa: E402


def every_split(data):
    """The ways of feeding data this file tries: whole, byte by byte, and
    in two pieces cut at every offset."""
    yield [data]
    yield [data[i:i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]


def in_pieces(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


# --- sse ----------------------------------------------------------------------

def message(data, last_event_id=""):
    return sse.Event("message", data, last_event_id, False)


def parse_stream(pieces, comments=False):
    parser = sse.EventStreamParser(comments=comments)
    items = []
    for piece in pieces:
        items += parser.feed(piece)
    return items, parser


class TestEventStream(unittest.TestCase):
    """sse.EventStreamParser on the spec's examples and the edge cases."""

    def assert_stream(self, stream, expected, comments=False):
        for pieces in every_split(stream):
            items, _ = parse_stream(pieces, comments)
            self.assertEqual(items, expected,
                             "fed in %d pieces, the first %r"
                             % (len(pieces), pieces[0][:20]))

    # The examples of the HTML spec's "Server-sent events" section.

    def test_sse_spec_three_messages(self):
        self.assert_stream(
            b"data: This is the first message.\n\n"
            b"data: This is the second message, it\n"
            b"data: has two lines.\n\n"
            b"data: This is the third message.\n\n",
            [message("This is the first message."),
             message("This is the second message, it\nhas two lines."),
             message("This is the third message.")])

    def test_sse_spec_event_types(self):
        self.assert_stream(
            b"event: add\ndata: 73857293\n\n"
            b"event: remove\ndata: 2153\n\n"
            b"event: add\ndata: 113411\n\n",
            [sse.Event("add", "73857293", "", True),
             sse.Event("remove", "2153", "", True),
             sse.Event("add", "113411", "", True)])

    def test_sse_spec_lines_joined(self):
        self.assert_stream(b"data: YHOO\ndata: +2\ndata: 10\n\n",
                           [message("YHOO\n+2\n10")])

    def test_sse_spec_four_blocks(self):
        stream = (b": test stream\n\n"
                  b"data: first event\nid: 1\n\n"
                  b"data:second event\nid\n\n"
                  b"data:  third event\n\n")
        events = [message("first event", "1"), message("second event"),
                  message(" third event")]
        self.assert_stream(stream, events)
        self.assert_stream(stream, [sse.Comment(" test stream")] + events,
                           comments=True)

    def test_sse_spec_empty_data(self):
        # The last block is dropped: no blank line follows it.
        self.assert_stream(b"data\n\ndata\ndata\n\ndata:",
                           [message(""), message("\n")])

    def test_sse_spec_space_after_colon(self):
        self.assert_stream(b"data:test\n\ndata: test\n\n",
                           [message("test"), message("test")])

    # Line ends.

    def test_sse_line_ends_alike(self):
        expected = [message("a\nb", "1"), message("c", "1")]
        for end in (b"\n", b"\r", b"\r\n"):
            self.assert_stream(end.join([b"id: 1", b"data: a", b"data: b",
                                         b"", b"data: c", b"", b""]),
                               expected)
        self.assert_stream(b"id: 1\rdata: a\r\ndata: b\n\r\ndata: c\r\r",
                           expected)

    def test_sse_cr_then_lf_in_the_next_feed(self):
        items, _ = parse_stream([b"data: a\r", b"\n", b"\r", b"\n"])
        self.assertEqual(items, [message("a")])
        items, _ = parse_stream([b"data: a\r", b"\r", b"data: b\r", b"\r"])
        self.assertEqual(items, [message("a"), message("b")])

    # The byte order mark.

    def test_sse_bom_stripped_once(self):
        bom = b"\xef\xbb\xbf"
        self.assert_stream(bom + b"data: a\n\n", [message("a")])
        # A second one is part of the field name: an unknown field.
        self.assert_stream(bom + bom + b"data: a\n\ndata: b\n\n",
                           [message("b")])
        self.assert_stream(b"data: a\n\n" + bom + b"data: b\n\n",
                           [message("a")])
        self.assert_stream(b"\xef\xbbdata: a\n\n", [])
        self.assert_stream(b"\xefdata: a\n\ndata: b\n\n", [message("b")])

    # Fields.

    def test_sse_field_values(self):
        self.assert_stream(b"data:   two spaces\ndata: a:b\ndata\n"
                           b"foo: bar\nDATA: no\n\n",
                           [message("  two spaces\na:b\n")])

    def test_sse_event_type_reset_after_dispatch(self):
        self.assert_stream(b"event: x\n\ndata: y\n\nevent: z\nevent: w\n"
                           b"data: v\n\ndata: u\n\nevent:\ndata: t\n\n",
                           [message("y"), sse.Event("w", "v", "", True),
                            message("u"), message("t")])

    def test_sse_id_kept_until_changed(self):
        stream = (b"id: 7\n\ndata: a\n\nid: 8\ndata: b\n\n"
                  b"id: x\0y\ndata: c\n\nid:\ndata: d\n\n")
        self.assert_stream(stream, [message("a", "7"), message("b", "8"),
                                    message("c", "8"), message("d", "")])
        _, parser = parse_stream([b"id: 12\n\n"])
        self.assertEqual(parser.last_event_id, "12")

    def test_sse_retry_digits_only(self):
        stream = (b"retry: 1500\nretry: 15x\nretry:\nretry: -1\n"
                  b"retry: \xd9\xa1\nretry: 007\ndata: a\n\n")
        self.assert_stream(stream, [sse.Retry(1500), sse.Retry(7),
                                    message("a")])
        _, parser = parse_stream([stream])
        self.assertEqual(parser.reconnection_time, 7)

    def test_sse_comments_only_when_asked(self):
        stream = b": keepalive\n:\n:x: y\ndata: a\n\n"
        self.assert_stream(stream, [message("a")])
        self.assert_stream(stream, [sse.Comment(" keepalive"),
                                    sse.Comment(""), sse.Comment("x: y"),
                                    message("a")], comments=True)

    def test_sse_utf8(self):
        self.assert_stream("data: caf\u00e9 \u2713 \U0001F600\n\n".encode(),
                           [message("caf\u00e9 \u2713 \U0001F600")])
        self.assert_stream(b"data: \xff a \xe2\x82\n\n",
                           [message("\ufffd a \ufffd")])

    def test_sse_unfinished_block_dropped(self):
        self.assert_stream(b"data: a\n\ndata: b\n", [message("a")])

    # Size.

    def test_sse_5mb_line_in_4kb_pieces(self):
        size = 5 * 1024 * 1024
        stream = b"id: 1\ndata: " + b"x" * size + b"\n\n"
        items, _ = parse_stream(in_pieces(stream, 4096))
        self.assertEqual(len(items), 1)
        self.assertEqual(len(items[0].data), size)
        self.assertEqual(items[0].last_event_id, "1")

    def test_sse_many_lines_in_one_feed(self):
        count = 100000
        items, _ = parse_stream([b"data: e\n\n" * count])
        self.assertEqual(len(items), count)


# --- http1 --------------------------------------------------------------------

CHUNKED_BODY = (b"4\r\nWiki\r\n5;name=value\r\npedia\r\n"
                b"E \r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n")


def decode_chunked(pieces):
    decoder = http1.ChunkedDecoder()
    return b"".join(decoder.feed(piece) for piece in pieces), decoder


class TestHttp(unittest.TestCase):
    """http1: targets, heads, and the body decoders."""

    def test_http_request_target(self):
        self.assertEqual(http1.request_target("http://h:81/s?a=1",
                                              [("channel", "a b")]),
                         ("h", 81, "h:81", "/s?a=1&channel=a+b"))
        self.assertEqual(http1.request_target("ws://h", [("channel", "a b")],
                                              quote_via=http1.urllib.parse
                                              .quote),
                         ("h", 80, "h", "/?channel=a%20b"))
        self.assertEqual(http1.request_target("wss://h/p")[1:], (443, "h",
                                                                 "/p"))

    def test_http_request_head(self):
        self.assertEqual(http1.request_head("GET", "/s", ["Host: h",
                                                          "A: b"]),
                         b"GET /s HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n")

    def test_http_response_head(self):
        head = http1.parse_response_head(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"X-A:  1 \r\nx-a: 2\r\n\r\n")
        self.assertEqual((head.status_line, head.status),
                         ("HTTP/1.1 200 OK", "200"))
        self.assertEqual(head.fields, [("content-type", "text/event-stream"),
                                       ("x-a", "1"), ("x-a", "2")])
        self.assertEqual(head.header("x-a"), "2")
        self.assertEqual(head.header("missing", "-"), "-")
        self.assertEqual(http1.parse_response_head(b"garbage").status, "")

    def test_http_find_head_end(self):
        data = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody"
        self.assertEqual(http1.find_head_end(data), len(data) - 4)
        self.assertEqual(http1.find_head_end(data[:-6]), -1)

    def test_http_chunked_every_split(self):
        for pieces in every_split(CHUNKED_BODY + b"ignored"):
            body, decoder = decode_chunked(pieces)
            self.assertEqual(body, b"Wikipedia in\r\n\r\nchunks.")
            self.assertTrue(decoder.finished)
            self.assertEqual(decoder.trailers, [b"Trailer: x"])

    def test_http_chunked_states(self):
        states = []
        decoder = http1.ChunkedDecoder()
        for byte in in_pieces(b"2\r\nab\r\n0\r\n\r\n", 1):
            decoder.feed(byte)
            states.append(decoder.state)
        self.assertEqual(states[:3], [decoder.SIZE_LINE] * 2 + [decoder.DATA])
        self.assertEqual(states[4], decoder.DATA_END)
        self.assertEqual(states[-3], decoder.TRAILERS)
        self.assertEqual(states[-1], decoder.DONE)

    def test_http_chunked_errors(self):
        for bad in (b"zz\r\n", b"0x3\r\nabc\r\n", b"3\r\nabcX\r\n",
                    b"\r\n", b"1" * (http1.MAX_LINE + 1)):
            with self.assertRaises(http1.BodyError, msg=bad):
                decode_chunked([bad])

    def test_http_chunked_large_chunk(self):
        size = 1024 * 1024
        body, decoder = decode_chunked(in_pieces(
            b"%x\r\n" % size + b"y" * size + b"\r\n0\r\n\r\n", 4096))
        self.assertEqual(len(body), size)
        self.assertTrue(decoder.finished)

    def test_http_other_bodies(self):
        head = http1.parse_response_head(b"HTTP/1.1 200 OK\r\n"
                                         b"Content-Length: 5\r\n\r\n")
        decoder = http1.body_decoder(head)
        self.assertEqual(decoder.feed(b"abc") + decoder.feed(b"defg"),
                         b"abcde")
        self.assertTrue(decoder.finished)
        decoder = http1.body_decoder(http1.parse_response_head(
            b"HTTP/1.1 200 OK\r\n\r\n"))
        self.assertTrue(decoder.ends_at_close)
        self.assertEqual(decoder.feed(b"abc"), b"abc")
        decoder = http1.body_decoder(http1.parse_response_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n"
            b"Content-Length: 9\r\n\r\n"))
        self.assertIsInstance(decoder, http1.ChunkedDecoder)


# --- ws -----------------------------------------------------------------------

def decode_frames(pieces):
    decoder = ws.FrameDecoder()
    frames = []
    for piece in pieces:
        frames += decoder.feed(piece)
    return frames


class TestWebSocket(unittest.TestCase):
    """ws: the handshake, the frame encoder and decoder, close payloads."""

    def test_ws_accept(self):
        # RFC 6455 section 1.3's example.
        self.assertEqual(ws.accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
                         "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertEqual(len(ws.new_key()), 24)
        self.assertNotEqual(ws.new_key(), ws.new_key())

    def test_ws_handshake_request(self):
        self.assertEqual(ws.handshake_request("/ws?channel=a", "h:1", "KEY"),
                         b"GET /ws?channel=a HTTP/1.1\r\nHost: h:1\r\n"
                         b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Key: KEY\r\n"
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
        self.assertEqual(ws.handshake_lines("h", None, version=None,
                                            upgrade=False, origin="o"),
                         ["Host: h", "Origin: o"])

    def test_ws_encoder_bytes(self):
        # RFC 6455 section 5.7's examples.
        self.assertEqual(ws.encode_frame(ws.OP_TEXT, b"Hello", mask=False),
                         b"\x81\x05Hello")
        self.assertEqual(ws.encode_frame(ws.OP_TEXT, b"Hello",
                                         mask_key=b"\x37\xfa\x21\x3d"),
                         bytes.fromhex("818537fa213d7f9f4d5158"))
        self.assertEqual(ws.encode_frame(ws.OP_BINARY, b"x" * 256,
                                         mask=False)[:4],
                         b"\x82\x7e\x01\x00")
        self.assertEqual(ws.encode_frame(ws.OP_BINARY, b"x" * 65536,
                                         mask=False)[:10],
                         b"\x82\x7f" + struct.pack("!Q", 65536))
        self.assertEqual(ws.encode_frame(ws.OP_PING, b"p", fin=False, rsv=5,
                                         mask=False), b"\x59\x01p")
        # A wrong length: 2^63 announced, one byte sent.
        self.assertEqual(ws.encode_frame(ws.OP_TEXT, b"x", mask=False,
                                         length=1 << 63),
                         b"\x81\x7f\x80" + b"\0" * 7 + b"x")
        self.assertEqual(ws.encode_frame(ws.OP_TEXT, b"ab", mask=False,
                                         length_bits=16), b"\x81\x7e\0\x02ab")

    def test_ws_decoder_every_split(self):
        sent = [ws.Frame(True, 0, ws.OP_TEXT, True, b"hello"),
                ws.Frame(False, 4, ws.OP_BINARY, False, b""),
                ws.Frame(True, 0, ws.OP_CONTINUATION, True, b"z" * 300),
                ws.Frame(True, 0, ws.OP_PING, False, b"p" * 125),
                ws.Frame(True, 0, ws.OP_CLOSE, True,
                         ws.close_payload(1000, b"bye"))]
        stream = b"".join(ws.encode_frame(f.opcode, f.payload, f.fin, f.rsv,
                                          f.masked) for f in sent)
        # The shortest length field is not the decoder's business: a
        # 16-bit and a 64-bit length of a short payload decode the same.
        stream += ws.encode_frame(ws.OP_TEXT, b"16", length_bits=16)
        stream += ws.encode_frame(ws.OP_TEXT, b"64", mask=False,
                                  length_bits=64)
        sent += [ws.Frame(True, 0, ws.OP_TEXT, True, b"16"),
                 ws.Frame(True, 0, ws.OP_TEXT, False, b"64")]
        for pieces in every_split(stream):
            self.assertEqual(decode_frames(pieces), sent)

    def test_ws_decoder_64_bit_lengths(self):
        payload = bytes(range(256)) * 400  # 102,400 bytes
        stream = (ws.encode_frame(ws.OP_BINARY, payload) +
                  ws.encode_frame(ws.OP_BINARY, payload, mask=False) +
                  ws.encode_frame(ws.OP_TEXT, b"after"))
        expected = [ws.Frame(True, 0, ws.OP_BINARY, True, payload),
                    ws.Frame(True, 0, ws.OP_BINARY, False, payload),
                    ws.Frame(True, 0, ws.OP_TEXT, True, b"after")]
        cuts = list(range(0, 20)) + [len(stream) // 2] + \
            list(range(len(stream) - 20, len(stream)))
        for cut in cuts:
            self.assertEqual(decode_frames([stream[:cut], stream[cut:]]),
                             expected, "cut at %d" % cut)
        self.assertEqual(decode_frames(in_pieces(stream, 4096)), expected)
        self.assertEqual(decode_frames(in_pieces(stream, 1)), expected)

    def test_ws_decoder_waits_for_the_whole_frame(self):
        decoder = ws.FrameDecoder()
        self.assertEqual(decoder.feed(b"\x81\x7f" + struct.pack("!Q", 1 << 40)
                                      + b"x" * 1000), [])

    def test_ws_mask(self):
        key = b"\x01\x02\x03\x04"
        data = bytes(range(251)) * 41
        self.assertEqual(ws.apply_mask(ws.apply_mask(data, key), key), data)
        self.assertEqual(ws.apply_mask(b"\0\0\0\0\0", key),
                         b"\x01\x02\x03\x04\x01")
        self.assertEqual(ws.apply_mask(b"", key), b"")

    def test_ws_close_payloads(self):
        self.assertEqual(ws.close_payload(1000, b"bye"), b"\x03\xe8bye")
        self.assertEqual(ws.close_payload(), b"")
        self.assertEqual(ws.parse_close(b"\x03\xe8bye"), (1000, b"bye"))
        self.assertEqual(ws.parse_close(b"\x03"), (None, b""))


# --- fcgi ---------------------------------------------------------------------

def decode_records(pieces):
    decoder = fcgi.RecordDecoder()
    records = []
    for piece in pieces:
        records += decoder.feed(piece)
    return records


class TestFastCgi(unittest.TestCase):
    """fcgi: records, params, a request and a response."""

    def test_fcgi_lengths(self):
        self.assertEqual(fcgi.encode_length(0), b"\0")
        self.assertEqual(fcgi.encode_length(127), b"\x7f")
        self.assertEqual(fcgi.encode_length(128), b"\x80\0\0\x80")
        self.assertEqual(fcgi.encode_length(70000),
                         struct.pack("!I", 0x80000000 | 70000))

    def test_fcgi_records(self):
        self.assertEqual(fcgi.begin_request(),
                         b"\x01\x01\0\x01\0\x08\0\0" + b"\0\x01\0" + b"\0" * 5)
        self.assertEqual(fcgi.begin_request(3, keep_connection=True)[8:11],
                         b"\0\x01\x01")
        self.assertEqual(fcgi.abort_request(2), b"\x01\x02\0\x02\0\0\0\0")
        self.assertEqual(fcgi.record(fcgi.STDIN, 1, b"ab", padding=3),
                         b"\x01\x05\0\x01\0\x02\x03\0ab\0\0\0")
        with self.assertRaises(ValueError):
            fcgi.record(fcgi.STDIN, 1, b"x" * 65536)

    def test_fcgi_params_of_70000_bytes(self):
        pairs = [(b"REQUEST_METHOD", b"GET"),
                 (b"QUERY_STRING", b"channel=" + b"c" * 70000),
                 (b"N" * 200, b""), (b"SERVER_PROTOCOL", b"HTTP/1.1")]
        stream = fcgi.params_records(pairs, request_id=7)
        for pieces in ([stream], in_pieces(stream, 1000),
                       [stream[:5], stream[5:65540], stream[65540:]]):
            records = decode_records(pieces)
            self.assertTrue(all(r.type == fcgi.PARAMS and r.request_id == 7
                                for r in records))
            sizes = [len(r.content) for r in records]
            self.assertGreaterEqual(sum(sizes), 70000)
            self.assertEqual(sizes[0], 65535)
            self.assertTrue(all(0 < size <= 65535 for size in sizes[:-1]))
            self.assertEqual(sizes[-1], 0)
            self.assertEqual(fcgi.decode_params(
                b"".join(r.content for r in records)), pairs)

    def test_fcgi_params_cut_inside_a_pair(self):
        with self.assertRaises(ValueError):
            fcgi.decode_params(fcgi.encode_params([(b"A", b"bc")])[:-1])
        with self.assertRaises(ValueError):
            fcgi.decode_params(b"\x80\0")

    def test_fcgi_request(self):
        records = decode_records([fcgi.request([(b"A", b"1")], b"body")])
        self.assertEqual([r.type for r in records],
                         [fcgi.BEGIN_REQUEST, fcgi.PARAMS, fcgi.PARAMS,
                          fcgi.STDIN, fcgi.STDIN])
        self.assertEqual(records[3].content, b"body")

    def test_fcgi_response_every_split(self):
        stream = (fcgi.record(fcgi.STDOUT, 1, b"Status: 200 OK\r\n", 3) +
                  fcgi.record(fcgi.STDERR, 1, b"a warning") +
                  fcgi.record(fcgi.STDOUT, 2, b"another request's") +
                  fcgi.record(fcgi.STDOUT, 1, b"\r\nbody") +
                  fcgi.record(fcgi.STDOUT, 1) +
                  fcgi.record(fcgi.END_REQUEST, 1,
                              struct.pack("!IB3x", 5, 0)) +
                  fcgi.record(fcgi.STDOUT, 1, b"after the end"))
        for pieces in every_split(stream):
            response = fcgi.ResponseReader()
            for piece in pieces:
                response.feed(piece)
            self.assertEqual(bytes(response.stdout),
                             b"Status: 200 OK\r\n\r\nbody")
            self.assertEqual(bytes(response.stderr), b"a warning")
            self.assertEqual((response.ended, response.app_status,
                              response.protocol_status), (True, 5, 0))


# --- common -------------------------------------------------------------------

class TestCommon(unittest.TestCase):
    """common.SocketReader over a socketpair."""

    def test_common_socket_reader(self):
        ours, theirs = socket.socketpair()
        with ours, theirs:
            reader = common.SocketReader(ours, time.monotonic() + 10)
            theirs.sendall(b"HTTP/1.1 101 Switching\r\nA: b\r")
            theirs.sendall(b"\n\r\nrest")
            theirs.shutdown(socket.SHUT_WR)
            head = reader.read_head()
            self.assertEqual((head.status, head.fields),
                             ("101", [("a", "b")]))
            self.assertEqual(reader.take(2), b"re")
            self.assertEqual(reader.take_some(), b"st")
            with self.assertRaises(EOFError):
                reader.take_some()
            self.assertTrue(reader.eof)

    def test_common_socket_reader_deadline(self):
        ours, theirs = socket.socketpair()
        with ours, theirs:
            reader = common.SocketReader(ours, time.monotonic() - 1)
            with self.assertRaises(common.Timeout):
                reader.fill()


if __name__ == "__main__":
    unittest.main()
