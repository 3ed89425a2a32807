"""The S3 object as COPY reads it: the header split off and checked, records counted, progress reported."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

from etl_core.errors import DataError
from etl_core.events import CancelToken
from etl_core.stages.staging.date_guard import DateGuard
from etl_core.stages.staging.file_errors import invalid_utf8
from etl_core.stages.staging.file_kind import not_csv_text
from etl_core.stages.staging.sources import SourceFile

READ_SIZE = 1024 * 1024  # bytes per COPY chunk: big enough for COPY speed, small enough for flat memory
MAX_HEADER_BYTES = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"


def check_header(header: bytes, source: SourceFile, key: str) -> list[str]:
    """The file's columns in file order, after checking they are exactly the expected set (any order)."""
    if not header.strip():
        raise DataError(
            f"{key}: the object is empty (0 bytes or a blank first line); expected the header "
            f"line {','.join(source.columns)}"
        )
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{key}: line 1 (header), byte {exc.start + 1}: {invalid_utf8(header[exc.start :])}") from None
    names = [name.strip().lower() for name in next(csv.reader([text.rstrip("\r\n")]))]
    expected = set(source.columns)
    unknown = [n for n in names if n not in expected]
    missing = [c for c in source.columns if c not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s): " + ", ".join(f"{n!r} (column {names.index(n) + 1})" for n in unknown))
    if duplicated:
        problems.append("duplicated column(s): " + ", ".join(duplicated))
    if problems:
        hint = ""
        if len(names) == 1 and any(d in text for d in ";\t|"):
            hint = "; the file does not look comma separated"
        raise DataError(
            f"{key}: line 1 (header): {'; '.join(problems)}{hint}. Expected the columns "
            f"{','.join(source.columns)} in any order"
        )
    return names


class CsvStreamReader:
    """File-like view of an S3 body for COPY: splits off the header, counts records, reports progress.

    Records are counted as newlines outside double quotes, so quoted line breaks are not rows.
    COPY takes its line ending from the first data line and refuses a file whose lines mix CRLF and
    LF, which real files do: a chunk holding the other ending is rewritten to the first line's (every
    column is a number or a date, so no value holds a line break this could change). A file with one
    ending throughout passes untouched: an LF file pays one search for CR per chunk, a CRLF file two byte counts.
    The `guard`, once the header is known, checks the dates of every chunk before COPY gets it.
    Any exception here aborts the COPY; it is kept in `error` because psycopg2 re-raises its own.
    """

    def __init__(self, body: Any, key: str, size: int, cancel: CancelToken, on_progress: Callable[[int], None]):
        self._body, self.key, self.size = body, key, size
        self._cancel, self._on_progress = cancel, on_progress
        self._pending = b""
        self._in_quotes = False
        self._last_byte = b"\n"
        self._newlines = 0
        self._held_cr = b""  # a CR ending a chunk: sent with the next one, which may begin with its LF
        self._ending: bytes | None = None  # the first data line's, which COPY holds every line to
        self.bytes_read = 0
        self.rows = 0  # what COPY loaded
        self.data_start = 0  # offset of the first byte after the header line
        self.guard: DateGuard | None = None
        self.error: BaseException | None = None

    @property
    def data_rows(self) -> int:
        return self._newlines + (0 if self._last_byte == b"\n" else 1)

    def _next_chunk(self, size: int) -> bytes:
        chunk: bytes = self._body.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def read_header(self) -> bytes:
        buffer = b""
        while b"\n" not in buffer and len(buffer) < MAX_HEADER_BYTES:
            chunk = self._next_chunk(READ_SIZE)
            if not chunk:
                break
            buffer += chunk
        if problem := not_csv_text(buffer):
            raise DataError(f"{self.key}: {problem}")
        start = len(UTF8_BOM) if buffer.startswith(UTF8_BOM) else 0
        header, newline, rest = buffer[start:].partition(b"\n")
        self.data_start = start + len(header) + len(newline)
        if not newline and len(buffer) >= MAX_HEADER_BYTES:
            raise DataError(
                f"{self.key}: line 1 (header) is longer than {MAX_HEADER_BYTES // 1024} KB; is this a CSV file?"
            )
        self._pending = rest
        return header

    def read(self, size: int = READ_SIZE) -> bytes:
        try:
            self._cancel.raise_if_cancelled()
            chunk = b""
            while not chunk:  # an empty chunk ends COPY: only the end of the object may give one
                if self._pending:
                    raw, self._pending = self._pending, b""
                else:
                    raw = self._next_chunk(size)
                chunk = self._one_ending(raw)
                if not raw:
                    break
            if chunk:
                newlines = self._count_records(chunk)
                if self.guard is not None:
                    self.guard.check(chunk, newlines)
                self._on_progress(self.bytes_read)
            elif self.guard is not None:
                self.guard.finish()
            return chunk
        except BaseException as exc:  # keep it: psycopg2 replaces it with a generic COPY error
            self.error = exc
            raise

    def _one_ending(self, chunk: bytes) -> bytes:
        """`chunk` with every line ending as the first data line's; a CR at its end waits for the next chunk
        (sent as is at the end of the object)."""
        if self._held_cr:
            if not chunk:  # the end of the object: a last lone CR goes to COPY as is (it refuses it)
                held, self._held_cr = self._held_cr, b""
                return held
            chunk, self._held_cr = self._held_cr + chunk, b""
        if self._ending is None and (lf := chunk.find(b"\n")) >= 0:
            self._ending = b"\r\n" if chunk[lf - 1 : lf] == b"\r" else b"\n"
        if b"\r" not in chunk and self._ending != b"\r\n":
            return chunk  # an LF file: untouched
        if chunk.endswith(b"\r"):
            chunk, self._held_cr = chunk[:-1], b"\r"
        if self._ending == b"\r\n":
            if chunk.count(b"\n") == chunk.count(b"\r"):
                return chunk  # a CRLF file: untouched (a lone CR beside a bare LF is COPY's to refuse)
            return chunk.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return chunk.replace(b"\r\n", b"\n")

    def _count_records(self, chunk: bytes) -> int | None:
        """Counts the records that end in `chunk`; returns its newline bytes when it holds no quote."""
        newlines = None
        if not self._in_quotes and b'"' not in chunk:
            newlines = chunk.count(b"\n")
            self._newlines += newlines
        else:
            for i, segment in enumerate(chunk.split(b'"')):
                if i:
                    self._in_quotes = not self._in_quotes
                if not self._in_quotes:
                    self._newlines += segment.count(b"\n")
        self._last_byte = chunk[-1:]
        return newlines
