"""One record of a source file against its staging table: every reason COPY (or the strict date rule)
would refuse it, each with line, column, field and the bytes as written.

Shared by staging (which names every bad record of a file it refused) and the S3 preview, so both
give one verdict. What it knows of COPY: PostgreSQL's CSV records (`records`), UTF-8 and NUL bytes,
the number of fields, the `\\.` end-of-data line, and each field's type and rules (`value_checks`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from etl_core.stages.staging.file_errors import invalid_utf8
from etl_core.stages.staging.records import Record, unquoted
from etl_core.stages.staging.sources import SourceFile
from etl_core.stages.staging.table_columns import ExpectedColumn, expected_columns
from etl_core.stages.staging.value_checks import ColumnCheck

END_OF_DATA = (b"\\.", b"\\.\r")  # a line holding only \. ends COPY's input
NUL_BYTE = "a NUL byte (0x00), which a text file cannot hold (is this a binary file?)"
UNTERMINATED = (
    "unterminated CSV quoted field: this quote is never closed, so COPY read the rest of the file as one field"
)


@dataclass(frozen=True)
class BadRecord:
    """One refused record (or one refused value of it): where, what, and the bytes as written."""

    line: int  # the file line the record starts on (the header is line 1)
    column: str | None
    field: int | None  # 1-based position in the file's records
    problem: str
    value: bytes | None
    record: int = 0  # 1 = the first data record


def end_of_data_problem(rows_before: int, file_rows: int) -> str:
    return (
        f"the line holds only \\., PostgreSQL's end-of-data marker, so COPY stopped there after {rows_before:,} "
        f'of {file_rows:,} rows; delete the line, or quote it ("\\.") if it is data'
    )


class FileCheck:
    """The checks of one file of a table whose header gave `file_columns` (already checked against the table)."""

    def __init__(self, columns: tuple[ExpectedColumn, ...], file_columns: list[str], key: str | None = None):
        expected = {column.name: column for column in columns}
        self.file_columns = file_columns
        self.columns = [ColumnCheck(expected[name]) for name in file_columns]
        self.key_index = file_columns.index(key) if key in file_columns else None
        fast = [column.fast for column in self.columns]
        if all(pattern is not None for pattern in fast):
            groups = [
                b"(" + pattern + b")" if i == self.key_index else pattern  # type: ignore[operator]
                for i, pattern in enumerate(fast)
            ]
            body = b",".join(groups)  # type: ignore[arg-type]
            if self.key_index is None:
                body = b"(" + body + b")"
        else:
            body = b"(?!)"  # no line is surely clean: every one is checked exactly
        # One match per line: the key field (or the whole line) when it is surely clean, else b"".
        self.clean_lines = re.compile(b"^(?:" + body + rb"\r?$|[^\n]*)", re.MULTILINE)

    @classmethod
    def for_source(cls, source: SourceFile, file_columns: list[str]) -> FileCheck:
        return cls(expected_columns(source), file_columns, source.key)

    def check_record(self, record: Record, number: int) -> list[BadRecord]:
        data = record.data

        def bad(problem: str, index: int | None = None, value: bytes | None = None) -> BadRecord:
            if index is None or index >= len(self.file_columns):
                return BadRecord(record.line, None, None, problem, value, number)
            return BadRecord(record.line, self.file_columns[index], index + 1, problem, value, number)

        if not record.closed:
            opened = record.unclosed_quote()
            if opened is None:
                return [bad(UNTERMINATED, None, data)]
            return [bad(UNTERMINATED, record.field_index_at(opened), data[opened - record.start :])]
        if data in END_OF_DATA:
            return [bad(end_of_data_problem(number - 1, number - 1), None, None)]  # numbers set at the end
        if encoding := bad_bytes(record):
            problem, at = encoding
            fields = record.fields()
            return [bad(problem, at, fields[at][1])]
        fields = record.fields()
        if record.cut:  # only its beginning is known: its complete fields, and the field it was cut in
            return self._check_cut(bad, fields)
        if len(fields) < len(self.columns):
            missing: str = self.file_columns[len(fields)]
            return [bad(f'missing data for column "{missing}"', len(fields), data)]
        if len(fields) > len(self.columns):
            return [bad("extra data after last expected column", None, data)]
        found = []
        for index, (check, (_start, raw)) in enumerate(zip(self.columns, fields, strict=True)):
            if refused := check.problem(raw):
                found.append(bad(refused, index, raw))
        return found

    def _check_cut(self, bad: Callable[..., BadRecord], fields: list[tuple[int, bytes]]) -> list[BadRecord]:
        """A record longer than MAX_RECORD_BYTES: a field that long is refused by any integer or date column."""
        found = []
        for index, (check, (_start, raw)) in enumerate(zip(self.columns, fields, strict=False)):
            last = index == len(fields) - 1
            if refused := check.problem(raw) or (last and "value too long for an integer or a date"):
                found.append(bad(refused, index, raw))
        return found

    def key_of(self, record: Record) -> int | bytes | None:
        """The record's key when it is a valid value (for finding duplicates), else None."""
        if self.key_index is None or not record.closed:
            return None
        fields = record.fields()
        if len(fields) != len(self.columns):
            return None
        check, raw = self.columns[self.key_index], fields[self.key_index][1]
        if check.column.type_name == "integer":
            value = check.valid_value(raw)
            return value if isinstance(value, int) else None
        return unquoted(raw)[0] if check.problem(raw) is None else None  # a date or text as written

    def clean_key(self, text: bytes) -> int | bytes:
        """The key of a line the fast path cleared (its field as written, unquoted)."""
        assert self.key_index is not None
        return int(text) if self.columns[self.key_index].column.type_name == "integer" else text


def bad_bytes(record: Record) -> tuple[str, int] | None:
    """The first NUL or invalid UTF-8 byte of the record: its problem and the index of its field."""
    data = record.data
    nul = data.find(b"\0")
    try:
        data.decode("utf-8")
        invalid = None
    except UnicodeDecodeError as exc:
        invalid = exc.start
    if invalid is None and nul < 0:
        return None
    if nul >= 0 and (invalid is None or nul < invalid):
        return NUL_BYTE, record.field_index_at(record.start + nul)
    assert invalid is not None
    return invalid_utf8(data[invalid : invalid + 4]), record.field_index_at(record.start + invalid)
