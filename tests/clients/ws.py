"""ws.py: the client side of RFC 6455 for the tests that speak WebSocket on
a plain socket: the opening handshake, one frame encoder that can also
write what a client must not (any opcode, RSV bits, no mask, a length of
any size that need not match the payload), one incremental frame decoder,
and close payloads.

Pure: bytes in, bytes or values out; the scripts do the socket I/O.
"""

import base64
import hashlib
import os
import struct
from typing import NamedTuple

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
CLOSE_NO_STATUS = 1005  # RFC 6455 7.4.1: the code of a close without one


def new_key():
    """A random Sec-WebSocket-Key (16 bytes, base64)."""
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    """The Sec-WebSocket-Accept value that answers key (RFC 6455 4.2.2)."""
    digest = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def handshake_lines(host, key, version="13", upgrade=True,
                    connection="Upgrade", origin=None):
    """The header lines of an opening handshake, in this order: Host,
    Upgrade and Connection (unless not upgrade), Sec-WebSocket-Key (unless
    key is None), Sec-WebSocket-Version (unless version is None), Origin
    (unless None).  The tests of refusals leave out or bend each one."""
    lines = ["Host: " + host]
    if upgrade:
        lines += ["Upgrade: websocket", "Connection: " + connection]
    if key is not None:
        lines.append("Sec-WebSocket-Key: " + key)
    if version is not None:
        lines.append("Sec-WebSocket-Version: " + version)
    if origin is not None:
        lines.append("Origin: " + origin)
    return lines


def handshake_request(target, host, key):
    """The bytes of a plain opening handshake for target on host."""
    return ("GET %s HTTP/1.1\r\n%s\r\n\r\n"
            % (target, "\r\n".join(handshake_lines(host, key)))).encode()


def apply_mask(data, key):
    """data XOR the 4-byte key repeated (masking and unmasking alike), as
    one big-integer XOR: linear, and fast for megabytes too."""
    if not data:
        return b""
    repeated = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^
            int.from_bytes(repeated, "big")).to_bytes(len(data), "big")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True,
                 length=None, length_bits=None, mask_key=None):
    """One frame.  By default a client's: final, masked with a random key,
    announcing len(payload) in the shortest length field.  rsv is the three
    RSV bits (4 is RSV1); length announces another length (up to 2^64 - 1)
    than the payload's; length_bits (7, 16 or 64) forces a length field,
    the shortest being the only valid one."""
    if length is None:
        length = len(payload)
    if length_bits is None:
        length_bits = 7 if length < 126 else 16 if length < 65536 else 64
    head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if length_bits == 7:
        head.append(mask_bit | length)
    elif length_bits == 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", length)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", length)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4) if mask_key is None else mask_key
    return bytes(head) + key + apply_mask(payload, key)


class Frame(NamedTuple):
    """A decoded frame; payload is unmasked when the frame was masked."""
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes


class FrameDecoder:
    """Frames out of a byte stream, fed as it comes.

    Bytes wait in one buffer until a whole frame is there; the buffer is
    cut once per feed, so many small frames in one read cost one pass, and
    so does a large frame in many reads."""

    def __init__(self):
        self.buffer = bytearray()

    def feed(self, data):
        """Returns the frames that data completed, in order."""
        self.buffer += data
        buffer = self.buffer
        frames = []
        position = 0
        while len(buffer) - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, head_size = second & 0x7F, 2
            if length == 126:
                head_size = 4
            elif length == 127:
                head_size = 10
            masked = bool(second & 0x80)
            if masked:
                head_size += 4
            if len(buffer) - position < head_size:
                break
            if length == 126:
                length = struct.unpack_from("!H", buffer, position + 2)[0]
            elif length == 127:
                length = struct.unpack_from("!Q", buffer, position + 2)[0]
            end = position + head_size + length
            if len(buffer) < end:
                break
            payload = bytes(buffer[position + head_size:end])
            if masked:
                key = bytes(buffer[position + head_size - 4:
                                   position + head_size])
                payload = apply_mask(payload, key)
            frames.append(Frame(bool(first & 0x80), (first >> 4) & 7,
                                first & 0x0F, masked, payload))
            position = end
        if position:
            del buffer[:position]
        return frames


def close_payload(code=None, reason=b""):
    """The payload of a close frame: code (none: empty) then reason."""
    return b"" if code is None else struct.pack("!H", code) + reason


def parse_close(payload):
    """Returns (code, reason) of a close payload; code is None when the
    payload is shorter than a code."""
    if len(payload) < 2:
        return None, b""
    return struct.unpack("!H", payload[:2])[0], payload[2:]
