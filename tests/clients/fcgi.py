"""fcgi.py: the web server's side of FastCGI 1.0, for the tests that talk
to litepush-sse's socket themselves: records, the name-value pairs of
FCGI_PARAMS, the records of one request, and a reader of the response.

A record holds at most 65535 bytes, so a stream (PARAMS, STDIN) of more is
cut into several records, each of at most that, then closed by an empty
one; a name or value of over 127 bytes has a 4-byte length with the top
bit set (the spec's section 3.4).  Pure: bytes in, bytes or values out.
"""

import struct
from typing import NamedTuple

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST = 1, 2, 3
PARAMS, STDIN, STDOUT, STDERR, DATA = 4, 5, 6, 7, 8
GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE = 9, 10, 11
RESPONDER = 1
KEEP_CONN = 1
MAX_CONTENT = 65535
HEADER = struct.Struct("!BBHHBB")


def record(record_type, request_id=1, content=b"", padding=0):
    """One record: its header, content (at most 65535 bytes) and padding
    zero bytes."""
    if len(content) > MAX_CONTENT:
        raise ValueError("a record of %d bytes" % len(content))
    return HEADER.pack(VERSION, record_type, request_id, len(content),
                       padding, 0) + content + b"\0" * padding


def stream_records(record_type, request_id, data):
    """The records of a whole stream: data in records of at most 65535
    bytes, then the empty record that ends the stream."""
    records = [record(record_type, request_id, data[i:i + MAX_CONTENT])
               for i in range(0, len(data), MAX_CONTENT)]
    return b"".join(records) + record(record_type, request_id)


def encode_length(length):
    """A name-value length: one byte up to 127, else four, top bit set."""
    if length < 128:
        return bytes([length])
    return struct.pack("!I", length | 0x80000000)


def encode_params(pairs):
    """The FCGI_PARAMS stream of (name, value) pairs, both bytes."""
    return b"".join(encode_length(len(name)) + encode_length(len(value)) +
                    name + value for name, value in pairs)


def decode_params(stream):
    """The (name, value) pairs of a whole FCGI_PARAMS stream; raises
    ValueError when it ends inside a pair."""
    pairs = []
    position = 0

    def length():
        nonlocal position
        if position >= len(stream):
            raise ValueError("params end inside a length")
        if stream[position] < 128:
            position += 1
            return stream[position - 1]
        if position + 4 > len(stream):
            raise ValueError("params end inside a length")
        position += 4
        return struct.unpack_from("!I", stream, position - 4)[0] & 0x7FFFFFFF

    while position < len(stream):
        name_length = length()
        value_length = length()
        end = position + name_length + value_length
        if end > len(stream):
            raise ValueError("params end inside a pair")
        pairs.append((stream[position:position + name_length],
                      stream[position + name_length:end]))
        position = end
    return pairs


def begin_request(request_id=1, role=RESPONDER, keep_connection=False):
    """The BEGIN_REQUEST record."""
    body = struct.pack("!HB5x", role, KEEP_CONN if keep_connection else 0)
    return record(BEGIN_REQUEST, request_id, body)


def abort_request(request_id=1):
    """The ABORT_REQUEST record."""
    return record(ABORT_REQUEST, request_id)


def params_records(pairs, request_id=1):
    """The PARAMS stream of pairs, cut into records, and its end."""
    return stream_records(PARAMS, request_id, encode_params(pairs))


def stdin_records(data, request_id=1):
    """The STDIN stream (the request body), cut into records, and its end."""
    return stream_records(STDIN, request_id, data)


def request(pairs, stdin=b"", request_id=1, keep_connection=False):
    """A whole responder request: BEGIN_REQUEST, the params, the body."""
    return (begin_request(request_id, keep_connection=keep_connection) +
            params_records(pairs, request_id) +
            stdin_records(stdin, request_id))


class Record(NamedTuple):
    """A decoded record (content without its padding)."""
    type: int
    request_id: int
    content: bytes


class RecordDecoder:
    """Records out of a byte stream, fed as it comes (the buffer is cut
    once per feed)."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        """Returns the records that data completed, in order."""
        self.buffer += data
        records = []
        position = 0
        while len(self.buffer) - position >= HEADER.size:
            _, record_type, request_id, length, padding, _ = \
                HEADER.unpack_from(self.buffer, position)
            start = position + HEADER.size
            if len(self.buffer) < start + length + padding:
                break
            records.append(Record(record_type, request_id,
                                  bytes(self.buffer[start:start + length])))
            position = start + length + padding
        if position:
            del self.buffer[:position]
        return records


class ResponseReader:
    """What a responder sends for one request: stdout and stderr (growing
    bytearrays), and once END_REQUEST has come, ended, with app_status and
    protocol_status.  Records of other requests are ignored."""

    def __init__(self, request_id=1):
        self.request_id = request_id
        self.decoder = RecordDecoder()
        self.stdout = bytearray()
        self.stderr = bytearray()
        self.ended = False
        self.app_status = None
        self.protocol_status = None

    def feed(self, data):
        """Takes the bytes of the response as they come."""
        for item in self.decoder.feed(data):
            if item.request_id != self.request_id or self.ended:
                continue
            if item.type == STDOUT:
                self.stdout += item.content
            elif item.type == STDERR:
                self.stderr += item.content
            elif item.type == END_REQUEST:
                self.ended = True
                if len(item.content) >= 5:
                    self.app_status, self.protocol_status = \
                        struct.unpack_from("!IB", item.content)
