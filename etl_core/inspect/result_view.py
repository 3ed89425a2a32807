"""A query result sorted or filtered on the server: the operator's query wrapped, run again, paged.

Like a table view, but over any query: the sort names the column by its position (a result may
have two columns of one name), an equality filter names it by name (an ambiguous name is
Postgres' error, shown as it comes), a typed condition is checked as one expression. The wrapped
text runs through the read-only session's guards like every statement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from psycopg2 import sql

from etl_core.inspect.paging import Page
from etl_core.inspect.session import Column, QueryResult, ReadOnlySession
from etl_core.inspect.sql_lexer import SqlTextError, check_expression, line_column
from etl_core.inspect.table_view import Condition, Equals, Filter, FilterError


@dataclass(frozen=True)
class ResultView:
    text: str  # the operator's query, as it ran
    sort_index: int | None = None  # 0-based position of the sort column
    descending: bool = False
    filters: tuple[Filter, ...] = field(default=())

    def sorted_by(self, index: int, descending: bool = False) -> ResultView:
        return replace(self, sort_index=index, descending=descending)

    def where(self, condition: Filter) -> ResultView:
        return replace(self, filters=self.filters + (condition,))

    def unfiltered(self) -> ResultView:
        return replace(self, filters=())

    @property
    def plain(self) -> bool:
        return self.sort_index is None and not self.filters


def compose_result_query(session: ReadOnlySession, view: ResultView) -> str:
    """The query with its filters and sort around it, as text for the session."""
    if view.plain:
        return view.text
    pieces = [f"SELECT * FROM (\n{view.text}\n) AS result"]
    for index, condition in enumerate(view.filters):
        pieces.append(" WHERE " if index == 0 else " AND ")
        if isinstance(condition, Equals):
            column = sql.SQL("result.{}").format(sql.Identifier(condition.column))
            pieces.append(
                session.render(
                    sql.SQL("{} IS NULL").format(column)
                    if condition.value is None
                    else sql.SQL("{} = {}").format(column, sql.Literal(condition.value))
                )
            )
        else:
            try:
                check_expression(condition.text)
            except SqlTextError as exc:
                raise FilterError(
                    f"condition {condition.describe()}: {exc}", index, position=line_column(condition.text, exc.offset)
                ) from None
            pieces.append(f"(\n{condition.text}\n)")
    if view.sort_index is not None:
        pieces.append(f" ORDER BY {int(view.sort_index) + 1}{' DESC' if view.descending else ''}")
    return "".join(pieces)


def describe_result_view(view: ResultView, columns: tuple[Column, ...]) -> str:
    """ "where product_id = 7 · sorted by unit_price descending" (empty for the plain result)."""
    parts = []
    if view.filters:
        parts.append("where " + " and ".join(f.describe() for f in view.filters))
    if view.sort_index is not None and view.sort_index < len(columns):
        parts.append(f"sorted by {columns[view.sort_index].name} {'descending' if view.descending else 'ascending'}")
    return " · ".join(parts)


def open_result_view(
    session: ReadOnlySession, view: ResultView, on_first_page: Callable[[tuple[Column, ...], Page], None] | None = None
) -> QueryResult:
    """The wrapped query's rows (not recorded in the history: the operator's query is)."""
    return session.open_result(compose_result_query(session, view), on_first_page)


__all__ = ["Condition", "Equals", "ResultView", "compose_result_query", "describe_result_view", "open_result_view"]
