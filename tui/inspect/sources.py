"""What a results viewer shows, and how it sorts, filters, profiles and saves it (no Textual here).

Three kinds, one interface: a warehouse table (a core `TableView`: primary-key order, sorted and
filtered on the server), a query result (a `ResultView`: the query wrapped and run again on the
server), and the ranged sample of an S3 object (in memory: sorted and filtered here, profiled
with pandas, its columns typed against the staging table). Each method blocks: viewers call
them in thread workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from etl_core.content_kind import sniff
from etl_core.errors import D2BError
from etl_core.inspect.object_sample import ObjectSample, read_sample
from etl_core.inspect.object_types import ObjectTypes, check_object_types
from etl_core.inspect.paging import PAGE_SIZE, InMemoryRows, Page, PagedRows
from etl_core.inspect.profile import ColumnProfile, profile_result, profile_sample, profile_table
from etl_core.inspect.result_view import ResultView, describe_result_view, open_result_view
from etl_core.inspect.save_csv import SaveOptions, SaveResult, save_result_csv, save_view_csv
from etl_core.inspect.table_view import Equals, Filter, TableView, open_view

if TYPE_CHECKING:
    from etl_core.inspect.session import Column, QueryResult
    from tui.inspect.workbench import Workbench


class NotTabular(D2BError):
    """The object is not CSV text with one width (binary, compressed, ragged): the plain preview names it."""


@dataclass(frozen=True)
class ColumnHead:
    name: str
    type_name: str  # integer, varchar(20); for an S3 sample "int64 → integer"
    key: bool = False  # part of the primary key
    nullable: bool | None = None
    bad_values: int = 0  # sampled values that would not load (S3)


@dataclass
class Opened:
    """One opened result: its columns, its paged rows and what the caption says about them."""

    columns: tuple[ColumnHead, ...]
    rows: PagedRows
    notes: str = ""  # "ordered by order_id (primary key)", "where product_id = 7"...
    warning: str = ""  # values that would not load, rows of the wrong width
    bad_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, column) -> problem
    result: QueryResult | None = None  # the server's result, for profiles and saves

    def close(self) -> None:
        self.rows.close()


FirstPage = Callable[[tuple[ColumnHead, ...], Page], None]


class DataSource(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def kind(self) -> str:
        """ "table", "query" or "sample"."""
        ...

    @property
    def filters(self) -> tuple[Filter, ...]: ...

    def open(self, on_first_page: FirstPage | None = None) -> Opened: ...

    def sorted_by(self, index: int, column: str, descending: bool) -> DataSource: ...

    def where(self, condition: Filter) -> DataSource: ...

    def unfiltered(self) -> DataSource: ...

    def profile(self, opened: Opened, index: int) -> ColumnProfile: ...

    def save(self, opened: Opened, path: Path, options: SaveOptions) -> SaveResult: ...

    def cancel(self) -> None:
        """Stop the statement running for this source (a profile, an open); safe from the UI thread."""
        ...


def heads(columns: tuple[Column, ...]) -> tuple[ColumnHead, ...]:
    return tuple(ColumnHead(c.name, c.type_name) for c in columns)


@dataclass(frozen=True)
class TableSource:
    """A warehouse table in primary-key order; sort, filter and profile run on the server over all rows."""

    workbench: Workbench
    view: TableView
    kind: str = "table"

    @property
    def title(self) -> str:
        return f"{self.view.schema}.{self.view.table}"

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self.view.filters

    def open(self, on_first_page: FirstPage | None = None) -> Opened:
        describe = self.workbench.catalog.describe(self.view.schema, self.view.table)
        typed = tuple(ColumnHead(c.name, c.type_name, c.primary_key, c.nullable) for c in describe.columns)

        def first(_columns: tuple[Column, ...], page: Page) -> None:
            if on_first_page is not None:
                on_first_page(typed, page)

        viewed = open_view(self.workbench.previews, self.workbench.catalog, self.view, first)
        notes = " · ".join(n for n in (viewed.query.filter_note, viewed.query.order_note) if n)
        return Opened(typed, viewed.result.rows, notes, result=viewed.result)

    def sorted_by(self, index: int, column: str, descending: bool) -> TableSource:
        return TableSource(self.workbench, self.view.sorted_by(column, descending))

    def where(self, condition: Filter) -> TableSource:
        return TableSource(self.workbench, self.view.where(condition))

    def unfiltered(self) -> TableSource:
        return TableSource(self.workbench, self.view.unfiltered())

    def profile(self, opened: Opened, index: int) -> ColumnProfile:
        return profile_table(self.workbench.previews, self.workbench.catalog, self.view, opened.columns[index].name)

    def save(self, opened: Opened, path: Path, options: SaveOptions) -> SaveResult:
        return save_view_csv(
            self.workbench.services, self.workbench.catalog, self.view, path, options, total_rows=opened.rows.total_rows
        )

    def cancel(self) -> None:
        self.workbench.previews.cancel()


@dataclass(frozen=True)
class QuerySource:
    """The SQL pane's result; sorted or filtered by wrapping the query and running it again."""

    workbench: Workbench
    view: ResultView
    kind: str = "query"
    title: str = "query result"

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self.view.filters

    def open(self, on_first_page: FirstPage | None = None) -> Opened:
        def first(columns: tuple[Column, ...], page: Page) -> None:
            if on_first_page is not None:
                on_first_page(heads(columns), page)

        result = open_result_view(self.workbench.queries, self.view, first)
        return self.opened(result)

    def opened(self, result: QueryResult) -> Opened:
        """An already-run result (the pane's `run`, recorded in the history) as the viewer shows it."""
        return Opened(
            heads(result.columns), result.rows, describe_result_view(self.view, result.columns), result=result
        )

    def sorted_by(self, index: int, column: str, descending: bool) -> QuerySource:
        return QuerySource(self.workbench, self.view.sorted_by(index, descending))

    def where(self, condition: Filter) -> QuerySource:
        return QuerySource(self.workbench, self.view.where(condition))

    def unfiltered(self) -> QuerySource:
        return QuerySource(self.workbench, self.view.unfiltered())

    def profile(self, opened: Opened, index: int) -> ColumnProfile:
        if opened.result is None:
            raise D2BError("no result to profile")
        return profile_result(self.workbench.queries, opened.result, index)

    def save(self, opened: Opened, path: Path, options: SaveOptions) -> SaveResult:
        if opened.result is None or opened.result.kind != "query":
            raise D2BError("only a query's result can be saved (EXPLAIN output cannot)")
        return save_result_csv(self.workbench.services, opened.result, path, options)

    def cancel(self) -> None:
        self.workbench.queries.cancel()


@dataclass(frozen=True)
class SampleSource:
    """The ranged sample of an S3 CSV object: typed against its staging table; sorted and filtered in memory."""

    workbench: Workbench
    bucket: str
    key: str
    sort: tuple[int, bool] | None = None
    equals: tuple[Equals, ...] = ()
    kind: str = "sample"

    @property
    def title(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def filters(self) -> tuple[Filter, ...]:
        return self.equals

    def read(self) -> ObjectSample:
        return read_sample(self.workbench.services, self.bucket, self.key)

    def open(self, on_first_page: FirstPage | None = None) -> Opened:
        sample = self.read()
        if (kind := sniff(sample.data)) is not None:
            raise NotTabular(f"{self.title} is not CSV text ({kind})")
        names = [str(name) for name in sample.header]
        types = check_object_types(self.workbench.services, sample)
        typed = self._typed_heads(names, types)
        # A record of another width is shown in the header's columns; the checks name it (as staging would).
        width = len(names)
        shaped = [(r.line, (r.values + (None,) * width)[:width]) for r in sample.records]
        rows = self._filter(shaped, names)
        if self.sort is not None:
            rows = _sorted(rows, self.sort[0], self.sort[1], _numeric(sample, names[self.sort[0]]))
        problems = {(bad.line, bad.column): bad.problem for bad in types.bad_values}
        bad_cells = {
            (i, j): problems[(line, name)]
            for i, (line, _values) in enumerate(rows)
            for j, name in enumerate(names)
            if (line, name) in problems
        }
        values = [values for _line, values in rows]
        paged = PagedRows(InMemoryRows(values), len(values), first_page=values[:PAGE_SIZE])
        return Opened(typed, paged, self._notes(sample, names), _warning(types), bad_cells)

    def _typed_heads(self, names: list[str], types: ObjectTypes) -> tuple[ColumnHead, ...]:
        known = {c.column: c for c in types.columns}
        heads = []
        for name in names:
            typed = known.get(name)
            if typed is None:
                heads.append(ColumnHead(name, "?"))
                continue
            expected = typed.expected_type or "not in the table"
            type_name = f"{typed.pandas_dtype} → {expected}" if typed.pandas_dtype else f"→ {expected}"
            heads.append(ColumnHead(name, type_name, nullable=typed.nullable, bad_values=typed.bad_values))
        return tuple(heads)

    def _filter(self, rows: list[tuple[int, tuple[Any, ...]]], names: list[str]) -> list[tuple[int, tuple[Any, ...]]]:
        for condition in self.equals:
            index = names.index(condition.column)
            wanted = None if condition.value in (None, "") else str(condition.value)
            rows = [row for row in rows if row[1][index] == wanted]
        return rows

    def _notes(self, sample: ObjectSample, names: list[str]) -> str:
        parts = [sample.scope]
        if self.equals:
            parts.append("where " + " and ".join(e.describe() for e in self.equals))
        if self.sort is not None:
            parts.append(
                f"sorted by {names[self.sort[0]]} {'descending' if self.sort[1] else 'ascending'} "
                "(in memory, over the sample)"
            )
        return " · ".join(parts)

    def sorted_by(self, index: int, column: str, descending: bool) -> SampleSource:
        return SampleSource(self.workbench, self.bucket, self.key, (index, descending), self.equals)

    def where(self, condition: Filter) -> SampleSource:
        if not isinstance(condition, Equals):
            raise D2BError(
                "a typed condition needs SQL: on an S3 sample, filter by a cell's value (/ on a cell, then Enter)"
            )
        return SampleSource(self.workbench, self.bucket, self.key, self.sort, self.equals + (condition,))

    def unfiltered(self) -> SampleSource:
        return SampleSource(self.workbench, self.bucket, self.key, self.sort)

    def profile(self, opened: Opened, index: int) -> ColumnProfile:
        return profile_sample(self.read(), opened.columns[index].name)

    def save(self, opened: Opened, path: Path, options: SaveOptions) -> SaveResult:
        raise D2BError(f"an S3 object is a file already: download {self.title} itself rather than its sample")

    def cancel(self) -> None:
        """Nothing to stop: a sample is profiled in memory."""


def _numeric(sample: ObjectSample, column: str) -> bool:
    """Every value of the sampled column reads as a number (what pandas would infer as int64 or float64)."""
    index = [str(name) for name in sample.header].index(column)
    values = [value for record in sample.records if (value := record.values[index]) is not None]
    try:
        for value in values:
            float(value)
    except ValueError:
        return False
    return bool(values)


def _sorted(
    rows: list[tuple[int, tuple[Any, ...]]], index: int, descending: bool, numeric: bool
) -> list[tuple[int, tuple[Any, ...]]]:
    """Rows by one column; empty values last either way, as Postgres puts NULLs for ASC (and we keep for DESC)."""

    def key(row: tuple[int, tuple[Any, ...]]) -> Any:
        value = row[1][index]
        if numeric:
            try:
                number = float(value)
                return -number if descending else number
            except (TypeError, ValueError):
                return math.inf
        return value

    present = [row for row in rows if row[1][index] is not None]
    missing = [row for row in rows if row[1][index] is None]
    if numeric:
        return sorted(present, key=key) + missing
    return sorted(present, key=key, reverse=descending) + missing


def _warning(types: ObjectTypes) -> str:
    """The first value that would not load comes first, line number leading, so 80 columns show where it is."""
    parts = []
    if types.bad_value_count:
        first = types.bad_values[0]
        where = f"line {first.line}" + (f", {first.column}" if first.column else "")
        value = f" {first.value!r}" if first.value is not None else ""
        count = f"{types.bad_value_count:,} value{'s' if types.bad_value_count != 1 else ''}"
        parts.append(f"{where}{value}: {first.problem} · {count} of the sample would not load into {types.table}")
    if types.note:
        parts.append(types.note)
    return " · ".join(parts)
