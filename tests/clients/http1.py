"""http1.py: the HTTP/1.1 the test clients speak: request targets and heads,
response heads, and the three ways a response body ends (chunked,
Content-Length, the connection's close), each an incremental decoder.

Pure: bytes in, values out; the scripts do the socket I/O.  Note that the
module is not called http.py: selftest.py, run as a script, has this
directory first on sys.path, where an http.py would hide the standard
library's http package from everything that imports it.
"""

import re
import urllib.parse

HEAD_END = b"\r\n\r\n"


def request_target(url, params=(), quote_via=urllib.parse.quote_plus):
    """Returns (host, port, netloc, target) of url, whose path (or "/") and
    query get params ((name, value) pairs) appended, encoded with quote_via.
    The port defaults to 443 for https and wss, else 80."""
    parts = urllib.parse.urlsplit(url)
    query = parts.query
    params = list(params)
    if params:
        extra = urllib.parse.urlencode(params, quote_via=quote_via)
        query = query + "&" + extra if query else extra
    target = (parts.path or "/") + ("?" + query if query else "")
    default_port = 443 if parts.scheme in ("https", "wss") else 80
    return parts.hostname, parts.port or default_port, parts.netloc, target


def request_head(method, target, header_lines):
    """Returns the bytes of a request head: the request line, each of
    header_lines ("Name: value", sent as given) and the blank line."""
    lines = ["%s %s HTTP/1.1" % (method, target)] + list(header_lines)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def find_head_end(buffer, start=0):
    """Returns the offset just past the blank line that ends a head in
    buffer, or -1.  Searching from start (the length of what was already
    searched, less 3) keeps a head that comes in pieces linear."""
    end = buffer.find(HEAD_END, max(0, start))
    return -1 if end < 0 else end + len(HEAD_END)


class ResponseHead:
    """A parsed response head.

    status_line is the first line; status the code as sent ("200"), or ""
    when the line has none; fields the header lines in order, each
    (lower-case name, value) with surrounding blanks stripped."""

    def __init__(self, status_line, status, fields):
        self.status_line = status_line
        self.status = status
        self.fields = fields

    def header(self, name, default=None):
        """Returns the value of the last field called name (lower case)."""
        for field_name, value in reversed(self.fields):
            if field_name == name:
                return value
        return default


def parse_response_head(head):
    """Parses a response head (bytes, with or without its blank line)."""
    if head.endswith(HEAD_END):
        head = head[:-len(HEAD_END)]
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name.strip().lower(), value.strip()))
    parts = lines[0].split(" ")
    return ResponseHead(lines[0], parts[1] if len(parts) > 1 else "", fields)


class BodyError(ValueError):
    """The body's framing is broken (a bad chunk size, a missing CRLF)."""


# A chunk size: hex digits, then perhaps blanks and ";extensions".
CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;.*)?")
# Longer size or trailer lines than this are an error, not a wait: the
# decoder buffers a line until its end, and must not do so forever.
MAX_LINE = 8192


class ChunkedDecoder:
    """The chunked transfer coding, decoded as the bytes come.

    The state names the part of the coding the next byte belongs to.  Only
    an unfinished size or trailer line is kept between calls; chunk data
    goes straight through, so a 100 MB chunk costs one pass."""

    SIZE_LINE = "size line"        # the hex size of the next chunk
    DATA = "data"                  # chunk_left bytes of the chunk
    DATA_END = "CRLF after data"   # the line end that closes a chunk
    TRAILERS = "trailers"          # after the last chunk, until a blank line
    DONE = "done"                  # the body has ended

    ends_at_close = False

    def __init__(self):
        self.state = self.SIZE_LINE
        self.chunk_left = 0
        self.trailers = []
        self.line = bytearray()

    @property
    def finished(self):
        return self.state == self.DONE

    def feed(self, data):
        """Returns the body bytes that data holds (b"" when none); bytes
        after the end of the body are ignored.  Raises BodyError."""
        body = []
        position = 0
        while position < len(data) and self.state != self.DONE:
            if self.state == self.DATA:
                end = min(len(data), position + self.chunk_left)
                body.append(data[position:end])
                self.chunk_left -= end - position
                position = end
                if self.chunk_left == 0:
                    self.state = self.DATA_END
                continue
            newline = data.find(b"\n", position)
            if newline < 0:
                self.line += data[position:]
                if len(self.line) > MAX_LINE:
                    raise BodyError("a %s of over %d bytes"
                                    % (self.state, MAX_LINE))
                break
            self.line += data[position:newline]
            position = newline + 1
            line = bytes(self.line)
            self.line.clear()
            self._take_line(line[:-1] if line.endswith(b"\r") else line)
        return b"".join(body)

    def _take_line(self, line):
        if self.state == self.SIZE_LINE:
            match = CHUNK_SIZE.fullmatch(line)
            if match is None:
                raise BodyError("bad chunk size line %r" % line[:80])
            self.chunk_left = int(match.group(1), 16)
            self.state = self.DATA if self.chunk_left else self.TRAILERS
        elif self.state == self.DATA_END:
            if line:
                raise BodyError("chunk data longer than its size: %r"
                                % line[:80])
            self.state = self.SIZE_LINE
        elif line:
            self.trailers.append(line)
        else:
            self.state = self.DONE


class LengthDecoder:
    """A body of Content-Length bytes."""

    ends_at_close = False

    def __init__(self, length):
        self.remaining = length

    @property
    def finished(self):
        return self.remaining == 0

    def feed(self, data):
        """Returns the body bytes that data holds; the rest is ignored."""
        body = data[:self.remaining]
        self.remaining -= len(body)
        return body


class CloseDelimitedDecoder:
    """A body that ends when the server closes the connection."""

    ends_at_close = True
    finished = False

    def feed(self, data):
        """Returns data: all of it is body."""
        return data


def body_decoder(head):
    """Returns the decoder for the body of the response whose head is
    head: chunked, Content-Length or until the close.  Raises BodyError
    for a Content-Length that is not a number."""
    if "chunked" in head.header("transfer-encoding", "").lower():
        return ChunkedDecoder()
    length = head.header("content-length")
    if length is not None:
        if not length.isdigit():
            raise BodyError("Content-Length %r" % length)
        return LengthDecoder(int(length))
    return CloseDelimitedDecoder()
