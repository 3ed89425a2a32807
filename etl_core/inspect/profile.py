"""Column profiles, VisiData-style: rows, nulls, distinct values, min, max and the ten most frequent values.

Tables and query results are profiled in SQL on the server (`sql/inspect/profile_column.sql`,
one pass, bounded by the session's statement timeout): a table over all its rows (or the view's
filtered rows), a query result by running the query again inside the profile query. An S3
object is profiled with pandas over the ranged sample the preview reads, and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from etl_core.errors import D2BError
from etl_core.inspect.catalog import Catalog
from etl_core.inspect.object_sample import ObjectSample
from etl_core.inspect.session import QueryResult, ReadOnlySession
from etl_core.inspect.statement import QueryError
from etl_core.inspect.table_view import TableView, compose_view_query
from etl_core.sql_files import load_sql

TOP_VALUES = 10
UNDEFINED_FUNCTION = "42883"  # min/max or equality missing for the type (boolean has no min, json no "=")


@dataclass(frozen=True)
class ValueCount:
    value: Any  # None for NULL
    count: int
    share: float  # of all rows in scope, 0..1


@dataclass(frozen=True)
class ColumnProfile:
    column: str
    type_name: str
    rows: int
    nulls: int
    distinct: int  # distinct non-null values
    min_value: Any
    max_value: Any
    top: tuple[ValueCount, ...]
    scope: str  # what the numbers are over, e.g. "all 1,000,000 rows of demo_staging.orders"
    method: str  # how they were computed: "SQL over the table", "pandas over the sample"...
    as_text: bool = False  # compared as text: the type has no min/max or no equality

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0


def profile_table(session: ReadOnlySession, catalog: Catalog, view: TableView, column: str) -> ColumnProfile:
    """A column of a table over all its rows, or over the rows the view's filters keep."""
    table = catalog.describe(view.schema, view.table)
    info = table.column(column)
    query = compose_view_query(session, view, table)
    source = sql.SQL("({}) AS src").format(sql.SQL(query.source))
    rows, as_text = _run_profile(session, source, sql.SQL("src.{}").format(sql.Identifier(info.name)))
    where = f" {query.filter_note}" if query.filter_note else ""
    scope = f"{_rows_word(rows)} of {view.schema}.{view.table}{where}"
    return _profile(info.name, info.type_name, rows, scope, "SQL over the table", as_text)


def profile_result(session: ReadOnlySession, result: QueryResult, column_index: int) -> ColumnProfile:
    """A column of a query result, computed by SQL around the query (which therefore runs again)."""
    if result.kind != "query":
        raise D2BError(f"a profile needs a query; this is {result.kind.upper()} output")
    column = result.columns[column_index]
    # Columns renamed by position: a result may hold two columns of the same name.
    aliases = sql.SQL(", ").join(sql.Identifier(f"c{i + 1}") for i in range(column_index + 1))
    source = sql.SQL("({}) AS src({})").format(sql.SQL(result.text), aliases)
    rows, as_text = _run_profile(session, source, sql.SQL("src.{}").format(sql.Identifier(f"c{column_index + 1}")))
    return _profile(
        column.name,
        column.type_name,
        rows,
        f"{_rows_word(rows)} of the query result",
        "SQL around the query (run again)",
        as_text,
    )


def profile_sample(sample: ObjectSample, column: str) -> ColumnProfile:
    """A column of an S3 object's ranged sample, with pandas; the scope says it is a sample."""
    frame = sample.frame
    if column not in frame.columns:
        raise D2BError(f"{sample.uri} has no column {column!r}; its columns are {', '.join(map(str, frame.columns))}")
    series = frame[column]
    present = series.dropna()
    as_text = False
    try:
        low, high = (_plain(present.min()), _plain(present.max())) if len(present) else (None, None)
    except TypeError:  # mixed types in one column: compare their text
        as_text, present = True, present.astype(str)
        low, high = present.min(), present.max()
    rows = len(series)
    counts = [
        (None if _is_missing(value) else _plain(value), int(n))
        for value, n in series.value_counts(dropna=False).items()
    ]
    counts.sort(key=lambda vc: (-vc[1], vc[0] is not None, str(vc[0]) if as_text else _sort_key(vc[0])))
    top = tuple(ValueCount(value, n, n / rows if rows else 0.0) for value, n in counts[:TOP_VALUES])
    return ColumnProfile(
        column,
        str(series.dtype),
        rows,
        int(series.isna().sum()),
        int(present.nunique()),
        low,
        high,
        top,
        sample.scope,
        "pandas over the ranged sample",
        as_text,
    )


def _run_profile(
    session: ReadOnlySession, source: sql.Composable, value: sql.Composable
) -> tuple[list[tuple[Any, ...]], bool]:
    template = sql.SQL(load_sql("inspect/profile_column.sql"))
    try:
        _columns, rows = session.read_all(
            session.render(template.format(source=source, value=value)), max_rows=TOP_VALUES + 1
        )
        return rows, False
    except QueryError as exc:
        if exc.sqlstate != UNDEFINED_FUNCTION:
            raise
    as_text = sql.SQL("{}::text").format(value)
    _columns, rows = session.read_all(
        session.render(template.format(source=source, value=as_text)), max_rows=TOP_VALUES + 1
    )
    return rows, True


def _profile(
    column: str, type_name: str, rows: list[tuple[Any, ...]], scope: str, method: str, as_text: bool
) -> ColumnProfile:
    total, nulls, distinct, low, high = rows[0][:5]
    top = tuple(ValueCount(value, n, n / total) for *_summary, value, n in rows if n is not None)
    return ColumnProfile(column, type_name, total, nulls, distinct, low, high, top, scope, method, as_text)


def _rows_word(rows: list[tuple[Any, ...]]) -> str:
    total = rows[0][0]
    return {0: "no rows", 1: "the only row"}.get(total, f"all {total:,} rows")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds."""
    return value.item() if hasattr(value, "item") else value


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> Any:
    return (0, value) if isinstance(value, (int, float)) else (1, str(value))
