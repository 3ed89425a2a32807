"""A CSV object cut into records exactly as PostgreSQL's CSV parser cuts it, with the line each starts on.

Every `"` toggles quoting, a newline outside quotes ends a record, a comma outside quotes ends a
field. Used where a message must name a record precisely: the exact date check, and the second
look at an object COPY rejected (COPY names a line that is not the record's first line: it counts
the newlines inside every record but the first).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

MAX_RECORD_BYTES = 256 * 1024  # kept of one record: enough to show any field; a runaway quote is cut here
# One complete record: unquoted runs and quoted sections, up to the newline outside quotes.
_RECORD = re.compile(rb'(?:[^"\n]*"[^"]*")*[^"\n]*\n')


@dataclass(frozen=True)
class Record:
    number: int  # 1 = the first record the scanner saw
    line: int  # the file line it starts on (the header is line 1)
    start: int  # offset of its first byte in the object
    data: bytes  # its bytes without the line ending, at most MAX_RECORD_BYTES
    newlines: int  # line breaks inside it (in quoted fields)
    closed: bool  # False: the object ends inside a quoted field
    cut: bool = False  # longer than MAX_RECORD_BYTES: `data` holds its beginning only

    def fields(self) -> list[tuple[int, bytes]]:
        """(offset in the object, raw bytes) of each field, split as COPY splits them."""
        fields, in_quotes, field_start = [], False, 0
        if b'"' not in self.data:  # the usual case, at C speed
            for raw in self.data.split(b","):
                fields.append((self.start + field_start, raw))
                field_start += len(raw) + 1
            return fields
        for i, byte in enumerate(self.data):
            if byte == 0x22:  # "
                in_quotes = not in_quotes
            elif byte == 0x2C and not in_quotes:  # ,
                fields.append((self.start + field_start, self.data[field_start:i]))
                field_start = i + 1
        fields.append((self.start + field_start, self.data[field_start:]))
        return fields

    def field_index_at(self, offset: int) -> int:
        """The index of the field that holds byte `offset` of the object."""
        return max(i for i, (start, _raw) in enumerate(self.fields()) if start <= offset)

    def unclosed_quote(self) -> int | None:
        """The object offset of the quote that opens a quoted field never closed, if any."""
        opened, in_quotes = None, False
        for i, byte in enumerate(self.data):
            if byte == 0x22:
                in_quotes = not in_quotes
                opened = self.start + i if in_quotes else None
        return opened


def unquoted(raw: bytes) -> tuple[bytes, bool]:
    """A field's value as COPY reads it, and whether it was quoted (an unquoted empty field is NULL)."""
    if b'"' not in raw:
        return raw, False
    value, in_quotes, i = bytearray(), False, 0
    while i < len(raw):
        if raw[i] != 0x22:
            value.append(raw[i])
        elif in_quotes and raw[i + 1 : i + 2] == b'"':  # "" inside quotes is one quote
            value.append(0x22)
            i += 1
        else:
            in_quotes = not in_quotes
        i += 1
    return bytes(value), True


class RecordScanner:
    """Cuts chunks into records, keeping at most MAX_RECORD_BYTES of the record in progress."""

    def __init__(self, start: int, line: int = 2):
        self.start, self.line, self.number = start, line, 0  # of the record in progress
        self.pending = b""  # its bytes so far
        self._head: bytes | None = None  # set once it outgrew MAX_RECORD_BYTES: only quotes are followed
        self._in_quotes, self._newlines, self._length = False, 0, 0  # of an outgrown record

    def feed(self, chunk: bytes) -> Iterator[Record]:
        if self._head is not None:
            end, self._in_quotes = _record_end(chunk, self._in_quotes)
            consumed = chunk if end < 0 else chunk[:end]
            self._newlines += consumed.count(b"\n")
            self._length += len(consumed)
            if end < 0:
                return
            yield self._next(self._head, self._newlines - 1, self._length, closed=True)
            chunk = chunk[end:]
        buffer, position = self.pending + chunk, 0
        while match := _RECORD.match(buffer, position):
            raw = buffer[position : match.end()]
            yield self._next(raw.removesuffix(b"\n").removesuffix(b"\r"), raw.count(b"\n") - 1, len(raw), closed=True)
            position = match.end()
        self.pending = buffer[position:]
        if len(self.pending) > MAX_RECORD_BYTES:
            self._head = self.pending[:MAX_RECORD_BYTES]
            self._in_quotes = self.pending.count(b'"') % 2 == 1
            self._newlines, self._length, self.pending = self.pending.count(b"\n"), len(self.pending), b""

    def finish(self) -> Iterator[Record]:
        """The last record, when the object does not end with a newline (or ends inside quotes)."""
        if self._head is not None:
            yield self._next(self._head, self._newlines, self._length, closed=not self._in_quotes)
        elif self.pending:
            yield self._next(
                self.pending, self.pending.count(b"\n"), len(self.pending), closed=self.pending.count(b'"') % 2 == 0
            )

    @property
    def in_record(self) -> bool:
        """True while the record in progress has a quote (so it may span lines)."""
        return self._head is not None or b'"' in self.pending

    def _next(self, data: bytes, newlines: int, length: int, *, closed: bool) -> Record:
        cut = len(data) > MAX_RECORD_BYTES or length > MAX_RECORD_BYTES + 2  # + the line ending
        record = Record(self.number + 1, self.line, self.start, data[:MAX_RECORD_BYTES], newlines, closed, cut)
        self.number, self.line, self.start = record.number, self.line + newlines + 1, self.start + length
        self._head = None
        return record


def _record_end(data: bytes, in_quotes: bool) -> tuple[int, bool]:
    """The index just past the newline that ends the record in `data` (-1: none), and the quote state there."""
    position = 0
    for i, segment in enumerate(data.split(b'"')):
        if i:
            in_quotes = not in_quotes
            position += 1
        if not in_quotes and (newline := segment.find(b"\n")) >= 0:
            return position + newline + 1, in_quotes
        position += len(segment)
    return -1, in_quotes


def records(chunks: Iterable[bytes], data_start: int) -> Iterator[Record]:
    """The data records of an object read as `chunks` from its first byte; its data begins at `data_start`."""
    scanner, offset = RecordScanner(data_start), 0
    for chunk in chunks:
        skip = max(0, data_start - offset)
        offset += len(chunk)
        if skip < len(chunk):
            yield from scanner.feed(chunk[skip:])
    yield from scanner.finish()


def find_record(chunks: Iterable[bytes], data_start: int, wanted: Callable[[Record, int], bool]) -> Record | None:
    """The first record for which `wanted(record, the line COPY names for it)` holds, or None."""
    embedded = 0  # COPY counts the newlines inside records as lines, except those of the first record
    for record in records(chunks, data_start):
        if record.number > 1:
            embedded += record.newlines
        if wanted(record, record.number + embedded):
            return record
    return None
