"""COPY's errors as operator messages: object key, the line the record starts on, column, value escaped.

COPY names a line but not always the record's first one, often no column (bad bytes, a missing
field, a broken rule) and a value only as it parsed it; a second look at the object (`locate`, which
reads it again) finds the record, its fields, and the byte at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg2
import psycopg2.errors

from etl_core.errors import DataError
from etl_core.stages.staging.file_check import bad_bytes
from etl_core.stages.staging.file_errors import file_error
from etl_core.stages.staging.records import Record
from etl_core.stages.staging.sources import SourceFile

# Reads the object again; returns the first record `wanted(record, line COPY names for it)` accepts.
Locate = Callable[[Callable[[Record, int], bool]], Record | None]

_COPY_CONTEXT = re.compile(r'COPY \S+, line (\d+)(?:, column (\w+))?(?:: "(.*)")?', re.DOTALL)
_ENCODING_ERRORS = (psycopg2.errors.CharacterNotInRepertoire, psycopg2.errors.UntranslatableCharacter)
END_OF_DATA = (b"\\.", b"\\.\r")  # a line holding only \. ends COPY's input


def data_error(exc: psycopg2.Error, key: str, source: SourceFile, file_columns: list[str], locate: Locate) -> DataError:
    """Turn a COPY error into a message naming the object key, the record's line, the column and the value."""
    diag = exc.diag
    context = _COPY_CONTEXT.search(diag.context or "")
    copy_line = int(context.group(1)) if context else None
    column = (context.group(2) if context else None) or diag.column_name
    if column is None and diag.constraint_name:
        column = next((c for c in source.columns if diag.constraint_name.startswith(c)), None)
    problem = shorten_quoted((diag.message_primary or str(exc)).strip())
    if isinstance(exc, psycopg2.errors.CheckViolation):
        problem = f"value breaks the rule {diag.constraint_name}"
    elif isinstance(exc, psycopg2.errors.NotNullViolation):
        problem = "empty, but the column needs a value"
    if problem == "unterminated CSV quoted field":
        record = locate(lambda r, _line: not r.closed)
        opened = record.unclosed_quote() if record else None
        if record is not None and opened is not None:
            index = record.field_index_at(opened)
            return _at_field(
                key,
                source,
                file_columns,
                record,
                index,
                "unterminated CSV quoted field: this quote "
                "is never closed, so COPY read the rest of the file as one field",
                record.data[opened - record.start :],
            )
    record = locate(lambda _r, line: line == copy_line) if copy_line else None
    if record is None:  # the object could not be read again: COPY's own numbers
        line = copy_line + 1 if copy_line else None  # +1: the header line is not sent to COPY
        value = context.group(3) if context else None
        field = file_columns.index(column) + 1 if column in file_columns else None
        return file_error(
            key, source.table, problem, line=line, column=column if field else None, field=field, value=value
        )
    if isinstance(exc, _ENCODING_ERRORS):
        return _bad_bytes(key, source, file_columns, record) or file_error(key, source.table, problem, line=record.line)
    if column in file_columns:  # the value is shown from the file, as written: not again as COPY parsed it
        return _at_field(
            key,
            source,
            file_columns,
            record,
            file_columns.index(column),
            re.sub(r': ".*"$', "", problem, flags=re.DOTALL),
        )
    return file_error(key, source.table, problem, line=record.line, value=record.data)


def row_count_error(key: str, source: SourceFile, rows: int, file_rows: int, locate: Locate) -> DataError:
    """COPY loaded fewer rows than the file has: name the `\\.` line that ended its input, if that is why."""
    record = locate(lambda r, _line: r.data in END_OF_DATA)
    if record is not None:
        return file_error(
            key,
            source.table,
            f"the line holds only \\., PostgreSQL's end-of-data marker, so COPY "
            f"stopped there after {rows:,} of {file_rows:,} rows; delete the line, or quote it "
            '("\\.") if it is data',
            line=record.line,
        )
    return file_error(key, source.table, f"COPY loaded {rows:,} rows but the file has {file_rows:,} data rows")


def _at_field(
    key: str,
    source: SourceFile,
    file_columns: list[str],
    record: Record,
    index: int,
    problem: str,
    value: bytes | None = None,
) -> DataError:
    fields = record.fields()
    column = file_columns[index] if index < len(file_columns) else None
    shown = value if value is not None else (fields[index][1] if index < len(fields) else b"")
    return file_error(
        key, source.table, problem, line=record.line, column=column, field=index + 1 if column else None, value=shown
    )


def _bad_bytes(key: str, source: SourceFile, file_columns: list[str], record: Record) -> DataError | None:
    """The first NUL or invalid UTF-8 byte of the record, named with its column and field."""
    if (found := bad_bytes(record)) is None:
        return None
    problem, index = found
    return _at_field(key, source, file_columns, record, index, problem)


def shorten_quoted(text: str, limit: int = 80) -> str:
    """Cut long quoted values (Postgres echoes them whole) so a 10 MB field never floods a message."""
    return re.sub(f'"([^"]{{{limit + 1},}})"', lambda m: f'"{m.group(1)[: limit - 3]}..."', text)
