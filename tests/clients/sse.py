"""sse.py: the WHATWG "event stream interpretation" (HTML, Server-sent
events), fed with the bytes of a response body as they come.

A line ends at CRLF, CR or LF, a CRLF cut between two feeds included; a
UTF-8 BOM at the very start is dropped once; "field:value" loses one space
after the colon; data lines are joined with LF; a blank line dispatches.
An event's id is the last event ID buffer as the server sent it, a string:
callers that want numbers convert.

Note that a line may be 100 MB long: bytes are kept in one buffer that
grows in place, each byte is searched for a line end once (from a
remembered offset), and the buffer is cut once per feed, never per line.
"""

import re
from typing import NamedTuple

BOM = b"\xef\xbb\xbf"
LINE_END = re.compile(rb"[\r\n]")


class Event(NamedTuple):
    """A dispatched event.  type is "message" unless an event field named
    one; named says whether one did (litepush sends no event field for a
    row without a name)."""
    type: str
    data: str
    last_event_id: str
    named: bool


class Comment(NamedTuple):
    """A comment line (":text"): text is what follows the colon, as sent."""
    text: str


class Retry(NamedTuple):
    """A retry field of ASCII digits: the new reconnection time."""
    milliseconds: int


def decode(raw):
    """The WHATWG UTF-8 decode of one line's bytes (U+FFFD for errors).
    Decoding line by line is the same as decoding the stream: CR and LF
    never occur inside a multi-byte sequence."""
    return str(raw, "utf-8", "replace")


class EventStreamParser:
    """The parser's state: the buffers of the spec, and the bytes of an
    unfinished line.

    feed() returns what the bytes completed, in stream order: an Event per
    dispatch, a Retry per valid retry field, and, when comments is true, a
    Comment per comment line.  last_event_id is the event source's last
    event ID (an id-only block sets it too); reconnection_time the last
    valid retry, or None."""

    def __init__(self, comments=False):
        self.comments = comments
        self.buffer = bytearray()
        self.searched = 0          # buffer[:searched] holds no line end
        self.bom_checked = False
        self.cr_ended_last = False  # a CR ended the last line: skip an LF
        self.data = []
        self.event_type = ""
        self.last_event_id = ""
        self.reconnection_time = None

    def feed(self, chunk):
        """Parses chunk (bytes); returns the items it completed."""
        self.buffer += chunk
        if not self.bom_checked:
            if len(self.buffer) < len(BOM) and \
                    BOM.startswith(bytes(self.buffer)):
                return []  # perhaps a BOM still coming
            self.bom_checked = True
            if self.buffer.startswith(BOM):
                del self.buffer[:len(BOM)]
        items = []
        start = 0
        while True:
            if self.cr_ended_last and start < len(self.buffer):
                self.cr_ended_last = False
                if self.buffer[start] == 0x0A:
                    start += 1
                    self.searched = max(self.searched, start)
            match = LINE_END.search(self.buffer, self.searched)
            if match is None:
                self.searched = len(self.buffer)
                break
            end = match.start()
            self.cr_ended_last = self.buffer[end] == 0x0D
            self._line(start, end, items)
            start = end + 1
            self.searched = start
        if start:
            del self.buffer[:start]
            self.searched -= start
        return items

    def _line(self, start, end, items):
        """Processes buffer[start:end], one line without its end."""
        buffer = self.buffer
        if start == end:
            self._dispatch(items)
            return
        colon = buffer.find(b":", start, end)
        if colon == start:
            if self.comments:
                items.append(Comment(decode(buffer[start + 1:end])))
            return
        if colon < 0:
            field, value_start = bytes(buffer[start:end]), end
        else:
            field, value_start = bytes(buffer[start:colon]), colon + 1
            if value_start < end and buffer[value_start] == 0x20:
                value_start += 1
        if field == b"data":
            # Through a memoryview: a 100 MB value is decoded without a
            # copy (and the view is released before the buffer is cut).
            with memoryview(buffer)[value_start:end] as value:
                self.data.append(decode(value))
        elif field == b"event":
            self.event_type = decode(buffer[value_start:end])
        elif field == b"id":
            value = decode(buffer[value_start:end])
            if "\0" not in value:
                self.last_event_id = value
        elif field == b"retry":
            value = bytes(buffer[value_start:end])
            if value.isdigit():  # bytes.isdigit: ASCII digits only
                self.reconnection_time = int(value)
                items.append(Retry(self.reconnection_time))

    def _dispatch(self, items):
        data, event_type = self.data, self.event_type
        self.data, self.event_type = [], ""
        if not data:
            return
        items.append(Event(event_type or "message", "\n".join(data),
                           self.last_event_id, bool(event_type)))
