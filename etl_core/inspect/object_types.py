"""Types of an S3 object: what pandas infers per column, what the staging table expects, what would not load.

The expected columns come from the staging DDL (`sql/ddl/staging/<table>.sql`). The sample is
judged by staging's own checks (`etl_core.stages.staging.file_check`: PostgreSQL's CSV rules, the
strict ISO dates, the types and rules of the staging tables), so the preview flags exactly what
staging would refuse in those lines; no warehouse is needed for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from etl_core.errors import D2BError, DataError
from etl_core.inspect.object_sample import ObjectSample
from etl_core.services import Services
from etl_core.stages.staging.csv_stream import MAX_HEADER_BYTES, check_header
from etl_core.stages.staging.file_check import UNTERMINATED, FileCheck
from etl_core.stages.staging.file_kind import not_csv_text
from etl_core.stages.staging.file_scan import FileScan
from etl_core.stages.staging.sources import SOURCE_FILES, SourceFile
from etl_core.stages.staging.table_columns import ExpectedColumn, Rule, expected_columns, parse_create_table

__all__ = ["ExpectedColumn", "Rule", "check_object_types", "expected_columns", "parse_create_table", "source_for"]

MAX_BAD_VALUES = 100
NO_PANDAS = "no inferred types: pandas is not installed (pip install 'd2b-console[profile]')"


@dataclass(frozen=True)
class ColumnTypes:
    column: str
    pandas_dtype: str  # what pandas infers from the sample: int64, float64, object...; "" without pandas
    expected_type: str | None  # the staging column's type; None when the table has no such column
    nullable: bool | None
    bad_values: int  # sampled values of this column that would not load


@dataclass(frozen=True)
class BadValue:
    line: int  # line in the object (the header is line 1)
    column: str
    value: str | None
    problem: str


@dataclass(frozen=True)
class ObjectTypes:
    uri: str
    table: str | None  # the staging table this object loads into, None when it is not a source file
    scope: str  # "the first 2,314 rows of s3://..."
    columns: tuple[ColumnTypes, ...]
    bad_values: tuple[BadValue, ...]  # the first MAX_BAD_VALUES, by line
    bad_value_count: int
    note: str = ""


def source_for(key: str) -> SourceFile | None:
    """The staging source whose accepted object names include this key's file name."""
    name = PurePosixPath(key).name
    return next((source for source in SOURCE_FILES if name in source.names), None)


def _ragged(sample: ObjectSample) -> str:
    """Rows whose field count is not the header's: the grid shows the header's columns, so say what it cut or padded."""
    width = len(sample.header)
    ragged = [record for record in sample.records if len(record.values) != width]
    if not ragged:
        return ""
    first = ragged[0]
    fields = f"{len(first.values)} field{'s' if len(first.values) != 1 else ''}"
    return f"{len(ragged)} row(s) do not have the header's {width} fields (line {first.line}: {fields})"


def check_object_types(services: Services, sample: ObjectSample) -> ObjectTypes:
    """The sample's columns and the values staging would refuse: the same reader and checks as staging."""
    source = source_for(sample.key)
    dtypes, dtype_note = _inferred_dtypes(sample)
    if source is None:
        unchecked = tuple(
            ColumnTypes(str(c), dtype, None, None, 0) for c, dtype in zip(sample.header, dtypes, strict=False)
        )
        note = "not a source file of the pipeline: no staging table to compare with"
        return ObjectTypes(sample.uri, None, sample.scope, unchecked, (), 0, _notes(_ragged(sample), note, dtype_note))
    expected = {c.name: c for c in expected_columns(source)}
    header = [name.strip().lower() for name in sample.header]
    bad, count = sample_verdict(sample, source)
    counts = {name: sum(1 for b in bad if b.column == name) for name in header}
    columns: list[ColumnTypes] = []
    for name, dtype in zip(header, dtypes, strict=False):
        column = expected.get(name)
        columns.append(
            ColumnTypes(
                name, dtype, column.type_name if column else None, column.nullable if column else None, counts[name]
            )
        )
    return ObjectTypes(
        sample.uri, source.table, sample.scope, tuple(columns), tuple(bad[:MAX_BAD_VALUES]), count, dtype_note
    )


def sample_verdict(sample: ObjectSample, source: SourceFile) -> tuple[list[BadValue], int]:
    """What staging would refuse in the sample (in line order) and how many: its own checks, record by record."""
    if problem := not_csv_text(sample.data[:MAX_HEADER_BYTES]):
        return [BadValue(1, "", None, problem)], 1
    try:
        file_columns = check_header(sample.header_line, source, sample.key)
    except DataError as exc:
        return [BadValue(1, "", None, str(exc).removeprefix(f"{sample.key}: "))], 1
    scan = FileScan(FileCheck.for_source(source, file_columns)).feed_all([sample.data[sample.data_start :]])
    found = [
        BadValue(b.line, b.column or "", _shown(b.value), b.problem)
        for b in scan.bad
        if not (sample.partial and b.problem == UNTERMINATED)  # the sample ends where the object does not
    ]
    return found, scan.bad_count - (len(scan.bad) - len(found))


def _shown(value: bytes | None) -> str | None:
    return value.decode("utf-8", errors="backslashreplace") if value is not None else None


def _inferred_dtypes(sample: ObjectSample) -> tuple[list[str], str]:
    """pandas' dtype of each column of the header; without pandas (an optional extra) "" for each, and why."""
    try:
        frame = sample.frame
    except D2BError:
        return ["" for _name in sample.header], NO_PANDAS
    except ValueError:  # pandas' ParserError: a file staging refuses may not parse for pandas either
        return ["" for _name in sample.header], "no inferred types: pandas could not read the sample"
    return [str(frame[c].dtype) for c in frame.columns], ""


def _notes(*notes: str) -> str:
    return " · ".join(note for note in notes if note)
