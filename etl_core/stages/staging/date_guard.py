"""Strict ISO dates at COPY speed: a date field that is not exactly YYYY-MM-DD (or empty: NULL) fails the file.

PostgreSQL's date input accepts far more than ISO whatever the DateStyle (`today`, `epoch`,
`5 Sep 22`, `20220905`, `J2459828`, `2022-9-5`...), so the check must see the text: the stream
reader runs it on each chunk before COPY gets it. Checking in the server costs more than the COPY
itself (a domain or CHECK on a text column plus a generated date column: +60% to +200% of the
COPY's CPU, measured), so the check is here, in two parts:

- the proof, with whole-buffer bytes operations (translate and count: C speed, no Python loop per
  record) for whole lines of digits, `-` and separators only: every `-` must sit in a field shaped
  `dddd-dd-dd` between separators, and such fields plus empty fields must number exactly the date
  fields. It is sound because the table rejects everything else itself: the other columns are
  integers that may not be empty, so a date-shaped or empty value there, or a wrong number of
  fields, fails COPY anyway;
- the exact check, record by record, for what the proof cannot clear (quotes, negative numbers, a
  bad date): it clears the records or names line, column and value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl_core.stages.staging.file_errors import file_error
from etl_core.stages.staging.records import MAX_RECORD_BYTES, Record, RecordScanner, unquoted

ISO_DATE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Digits to d, newline to the separator ",", "-" and "," kept, every other byte to x.
_SHAPE = bytes(
    ord("d") if 48 <= c <= 57 else c if c in b"-," else ord(",") if c == 10 else ord("x") for c in range(256)
)


@dataclass(frozen=True)
class DateField:
    index: int  # 0-based position in the file's records
    column: str
    nullable: bool


class DateGuard:
    """Checks the date fields of each chunk the reader hands to COPY; raises DataError at the first bad one."""

    def __init__(self, key: str, table: str, file_columns: list[str], dates: dict[str, bool]):
        self.key, self.table = key, table
        self.fields = [DateField(i, c, dates[c]) for i, c in enumerate(file_columns) if c in dates]
        self._columns = len(file_columns)
        self._nullable = any(f.nullable for f in self.fields)
        self._tail = b"\n"  # the newline that ended the last checked line, then the line in progress
        self._line = 2  # the file line the line in progress starts on (the header is line 1)
        self._scanner: RecordScanner | None = None  # the exact check, while it follows quoted records

    def check(self, chunk: bytes, newlines: int | None = None) -> None:
        """`newlines`: the chunk's count of newline bytes when the caller has it (one pass less)."""
        if not self.fields or not chunk:
            return
        if self._scanner is not None:
            self._check_exactly(chunk)
            return
        first, cut = chunk.find(b"\n"), chunk.rfind(b"\n") + 1
        if first < 0 and len(self._tail) < MAX_RECORD_BYTES:
            self._tail += chunk  # a line longer than a chunk: wait for its end
            return
        lines = None if first < 0 or b'"' in chunk or b'"' in self._tail else self._proven(chunk, cut, newlines)
        if lines is None:
            self._scanner = RecordScanner(0, self._line)
            data, self._tail = self._tail[1:] + chunk, b""
            self._check_exactly(data)
            return
        self._line += lines
        self._tail = b"\n" + chunk[cut:]

    def finish(self) -> None:
        """Check the last record (one without a final newline); later calls do nothing."""
        if not self.fields:
            return
        if self._scanner is None:
            self._scanner = RecordScanner(0, self._line)
            self._scanner.pending = self._tail[1:]
        for record in self._scanner.finish():
            self._check_record(record)
        self.fields = []

    def _proven(self, chunk: bytes, cut: int, newlines: int | None) -> int | None:
        """The lines that end in `chunk`, if their dates are proven ISO (else None)."""
        data = self._tail + chunk[:cut]
        if b"\r" in data:  # CRLF: compare as LF (a CR anywhere else fails the shape)
            data = data.replace(b"\r\n", b"\n")
        return self._proven_lines(data, newlines)  # the tail holds no newline but its first byte

    def _proven_lines(self, data: bytes, lines: int | None = None) -> int | None:
        """The number of lines in `data` (a newline, then `lines` whole lines) if all their dates are proven ISO."""
        shapes = data.translate(_SHAPE)
        if b"x" in shapes:  # anything but digits, '-' and separators: the exact check decides
            return None
        # Fields shaped dddd-dd-dd: the suffix matches, less those with a fifth digit before them.
        dates = shapes.count(b"dddd-dd-dd,") - shapes.count(b"ddddd-dd-dd,")
        if data.count(b"-") != 2 * dates:  # every dash in a date-shaped field (so none before one either)
            return None
        lines = data.count(b"\n") - 1 if lines is None else lines
        empty = _empty_fields(shapes, lines * self._columns) if self._nullable else 0
        return lines if dates + empty == lines * len(self.fields) else None

    def _check_exactly(self, chunk: bytes) -> None:
        assert self._scanner is not None
        for record in self._scanner.feed(chunk):
            self._check_record(record)
        if not self._scanner.in_record:  # back at a plain line: the proof can take over again
            self._tail, self._line, self._scanner = b"\n" + self._scanner.pending, self._scanner.line, None

    def _check_record(self, record: Record) -> None:
        if not record.closed:
            return  # the object ends inside a quoted field: COPY's error names that
        fields = record.fields()
        for field in self.fields:
            if field.index >= len(fields):
                return  # too few fields: COPY names the missing column
            value, quoted = unquoted(fields[field.index][1])
            if (value or quoted or not field.nullable) and not ISO_DATE.fullmatch(value):
                problem = "not an ISO date (YYYY-MM-DD" + (", or empty for none)" if field.nullable else ")")
                raise file_error(
                    self.key,
                    self.table,
                    problem,
                    line=record.line,
                    column=field.column,
                    field=field.index + 1,
                    value=fields[field.index][1],
                )


def _empty_fields(shapes: bytes, fields: int) -> int:
    """Fields with nothing between their separators, of the `fields` (lines times columns) in `shapes`.

    Not `count(b",,")`, which counts "a,,," once: an empty pair of dates (a shipment not sent yet,
    most of them) then failed the proof, and the exact check read the whole file record by record.
    Every field follows a "," (the newline before the first line is one); once every dash is in a
    date, a field that is not empty starts with a digit, so the empty ones are the rest. `fields`
    is the count COPY holds every line to (a line with another count fails the file anyway).
    """
    return fields - shapes.count(b",d")
