"""Types of an S3 object: what pandas infers per column, what the staging table expects, what would not load.

The expected columns come from the staging DDL (`sql/ddl/staging/<table>.sql`), read with our
SQL lexer. Each sampled value is checked by PostgreSQL itself with `pg_input_is_valid` (the
input function COPY uses; PostgreSQL 16+) and against the column's CHECK rules, in a read-only
transaction; a NOT NULL column is checked for empty fields here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from psycopg2 import sql

from etl_core.errors import D2BError
from etl_core.inspect.object_sample import ObjectSample
from etl_core.inspect.sql_lexer import Token, tokenize
from etl_core.services import Services
from etl_core.sql_files import load_sql
from etl_core.stages.staging.sources import SOURCE_FILES, SourceFile

MAX_BAD_VALUES = 100
NO_PANDAS = "no inferred types: pandas is not installed (pip install 'd2b-console[profile]')"
CHECK_TIMEOUT = "30s"
_COLUMN_STOP_WORDS = {
    "not",
    "null",
    "constraint",
    "check",
    "default",
    "primary",
    "references",
    "unique",
    "generated",
    "collate",
}


@dataclass(frozen=True)
class Rule:
    name: str
    expression: str  # SQL over the column, from the DDL


@dataclass(frozen=True)
class ExpectedColumn:
    name: str
    type_name: str
    nullable: bool
    rules: tuple[Rule, ...] = ()


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


def expected_columns(source: SourceFile) -> tuple[ExpectedColumn, ...]:
    """The columns of the staging table, as its DDL declares them."""
    return parse_create_table(load_sql(f"ddl/staging/{source.table}.sql"))


def parse_create_table(ddl: str) -> tuple[ExpectedColumn, ...]:
    """Column definitions of a CREATE TABLE: name, type, NOT NULL, CHECK rules (table constraints are skipped)."""
    tokens = [t for t in tokenize(ddl) if t.kind != "comment"]
    opening = next(i for i, t in enumerate(tokens) if ddl[t.start : t.end] == "(")
    columns = []
    for element in _split_top_level(ddl, tokens[opening + 1 :]):
        first = ddl[element[0].start : element[0].end].lower()
        if first in ("constraint", "check", "primary", "unique", "foreign", "exclude", "like"):
            continue
        columns.append(_column(ddl, element))
    return tuple(columns)


def check_object_types(services: Services, sample: ObjectSample) -> ObjectTypes:
    source = source_for(sample.key)
    dtypes, dtype_note = _inferred_dtypes(sample)
    if source is None:
        unchecked = tuple(
            ColumnTypes(str(c), dtype, None, None, 0) for c, dtype in zip(sample.header, dtypes, strict=False)
        )
        note = "not a source file of the pipeline: no staging table to compare with"
        return ObjectTypes(sample.uri, None, sample.scope, unchecked, (), 0, _notes(note, dtype_note))
    expected = {c.name: c for c in expected_columns(source)}
    header = [name.strip().lower() for name in sample.header]
    bad, note = _bad_values(services, sample, header, expected)
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
        sample.uri,
        source.table,
        sample.scope,
        tuple(columns),
        tuple(bad[:MAX_BAD_VALUES]),
        len(bad),
        _notes(note, dtype_note),
    )


def _inferred_dtypes(sample: ObjectSample) -> tuple[list[str], str]:
    """pandas' dtype of each column of the header; without pandas (an optional extra) "" for each, and why."""
    try:
        frame = sample.frame
    except D2BError:
        return ["" for _name in sample.header], NO_PANDAS
    return [str(frame[c].dtype) for c in frame.columns], ""


def _notes(*notes: str) -> str:
    return " · ".join(note for note in notes if note)


def _bad_values(
    services: Services, sample: ObjectSample, header: list[str], expected: dict[str, ExpectedColumn]
) -> tuple[list[BadValue], str]:
    bad: list[BadValue] = []
    checked = [(index, expected[name]) for index, name in enumerate(header) if name in expected]
    for index, column in checked:
        bad += [
            BadValue(r.line, column.name, None, "empty, but the column is NOT NULL (an empty field loads as NULL)")
            for r in sample.records
            if not column.nullable and _field(r.values, index) is None
        ]
    if "warehouse" in services.problems:  # the lake stays usable without it (open_services(each=True))
        return _by_line(bad), "values not checked against the column types: the warehouse is not reachable"
    with services.transaction("inspect") as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute("SET LOCAL statement_timeout = %s", (CHECK_TIMEOUT,))
        if cur.connection.server_version < 160000:
            return _by_line(bad), "PostgreSQL 16 or later is needed to check values against the column types"
        for index, column in checked:
            present = [(r.line, v) for r in sample.records if (v := _field(r.values, index)) is not None]
            if present:
                cur.execute(_invalid_values_query(column, [line for line, _v in present], [v for _l, v in present]))
                bad += [BadValue(line, column.name, value, problem) for line, value, problem in cur.fetchall()]
    return _by_line(bad), ""


def _invalid_values_query(column: ExpectedColumn, lines: list[int], values: list[str]) -> sql.Composed:
    rules = sql.SQL(" ").join(
        sql.SQL("WHEN NOT (SELECT {expression} FROM (SELECT v.value::{type} AS {column}) AS c) THEN {problem}").format(
            expression=sql.SQL(rule.expression),
            type=sql.SQL(column.type_name),
            column=sql.Identifier(column.name),
            problem=sql.Literal(f"breaks the rule {rule.name} ({rule.expression})"),
        )
        for rule in column.rules
    )
    return sql.SQL(load_sql("inspect/invalid_values.sql")).format(
        type_text=sql.Literal(column.type_name), rules=rules, lines=sql.Literal(lines), values=sql.Literal(values)
    )


def _by_line(bad: list[BadValue]) -> list[BadValue]:
    return sorted(bad, key=lambda b: (b.line, b.column))


def _field(values: tuple[str | None, ...], index: int) -> str | None:
    return values[index] if index < len(values) else None


def _split_top_level(ddl: str, tokens: list[Token]) -> list[list[Token]]:
    """The comma-separated elements inside the parentheses that open before `tokens`."""
    elements: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        text = ddl[token.start : token.end]
        if text == ")" and depth == 0:
            break
        if text == "," and depth == 0:
            elements.append([])
            continue
        depth += {"(": 1, ")": -1}.get(text, 0)
        elements[-1].append(token)
    return [e for e in elements if e]


def _column(ddl: str, element: list[Token]) -> ExpectedColumn:
    words = [ddl[t.start : t.end].lower() for t in element]
    stop = next((i for i, w in enumerate(words) if i and w in _COLUMN_STOP_WORDS), len(words))
    type_name = " ".join(ddl[element[1].start : element[stop - 1].end].split()).lower()
    not_null = any(words[i : i + 2] == ["not", "null"] for i in range(stop, len(words))) or "primary" in words[stop:]
    rules = []
    for i in range(stop, len(words)):
        if words[i] == "check" and i + 1 < len(words) and words[i + 1] == "(":
            name = words[i - 1] if i >= 2 and words[i - 2] == "constraint" else f"{words[0]}_check"
            expression = _parenthesised(ddl, element, i + 1)
            rules.append(Rule(name, expression))
    return ExpectedColumn(words[0], type_name, not not_null, tuple(rules))


def _parenthesised(ddl: str, element: list[Token], opening: int) -> str:
    """The text between the parenthesis at `element[opening]` and its match."""
    depth = 0
    for token in element[opening:]:
        text = ddl[token.start : token.end]
        depth += {"(": 1, ")": -1}.get(text, 0)
        if depth == 0:
            return " ".join(ddl[element[opening].end : token.start].split())
    raise ValueError("unbalanced parentheses in a CHECK rule")
