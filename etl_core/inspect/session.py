"""The read-only SQL session of the query pane: one statement at a time, nothing can be changed.

Four guards, each enough against a different trick:

1. Our lexer (`sql_lexer`) finds every `;` outside literals and comments: several statements,
   or a first word that is not a query (SELECT, WITH, VALUES, TABLE) or EXPLAIN, are refused
   before anything is sent.
2. PostgreSQL's own parser confirms the text is one statement that returns rows
   (`sql/inspect/confirm_one_query.sql`, the text passed as a bound value), so a text our lexer
   misreads still cannot carry a second statement such as `COMMIT; DROP TABLE x`.
3. Queries run as `DECLARE ... CURSOR FOR <text>`, which accepts only a query: no DML, no DDL,
   no data-modifying WITH.
4. Everything runs in a `READ ONLY` transaction with `statement_timeout` and `lock_timeout`,
   on a connection whose session settings and role are reset before every statement and whose
   session advisory locks are released after it (so the pane can never keep the run lock).

And one guard under all four: the connection is a reader role's (`Services.query`: the embedded
warehouse's `d2b_reader`, or `D2B_QUERY_URL`), which may read and nothing else, so a function
that escapes the transaction (a file read, a signal to another backend) is refused by the server.

Results are `SCROLL CURSOR WITH HOLD`: the first page is fetched inside the transaction, the
commit materialises the rest on the server, after which the session holds no lock and no
snapshot while the operator pages (see `PagedRows`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from etl_core.errors import D2BError
from etl_core.events import utc_now
from etl_core.inspect.paging import PAGE_SIZE, WINDOW_PAGES, InMemoryRows, Page, PagedRows
from etl_core.inspect.statement import QueryError, QueryRefused, Statement, parse_statement, server_error
from etl_core.query_address import QuerySource
from etl_core.services import Services
from etl_core.sql_files import load_sql

if TYPE_CHECKING:
    from etl_core.inspect.query_history import QueryHistory

DEFAULT_STATEMENT_TIMEOUT_S = 30.0
DEFAULT_LOCK_TIMEOUT_S = 5.0
MAX_OPEN_RESULTS = 4  # held cursors kept on the server (each holds its materialised rows)
BACKWARD_COST_RATIO = 40  # a held cursor moves back 40 times slower a row than forward (measured, 1M rows)

_BEGIN = (
    "RESET SESSION AUTHORIZATION; RESET ROLE; "
    "SELECT set_config('statement_timeout', %(statement_timeout)s, false), "
    "set_config('lock_timeout', %(lock_timeout)s, false), "
    "set_config('standard_conforming_strings', 'on', false), "
    "set_config('default_transaction_read_only', 'on', false); "
    "BEGIN READ ONLY; "
    "SELECT set_config('d2b.inspect_query', %(text)s, true); "
)


@dataclass(frozen=True)
class SessionRole:
    """Who the session's statements run as: the role, whether it is a superuser, and how it was chosen."""

    name: str
    superuser: bool
    source: QuerySource

    @property
    def caption(self) -> str:
        """A short line for the pane's title, e.g. `as d2b_reader (reader role)`."""
        what = {
            "embedded reader": "reader role",
            "query url": "D2B_QUERY_URL",
            "warehouse role": "the pipeline's role: set D2B_QUERY_URL for a reader",
        }[self.source]
        power = "SUPERUSER, " if self.superuser else ""
        return f"as {self.name} ({power}{what})"


@dataclass(frozen=True)
class Column:
    name: str
    type_name: str  # as PostgreSQL spells it: integer, character varying, date...


@dataclass
class QueryResult:
    text: str
    kind: str
    columns: tuple[Column, ...]
    rows: PagedRows
    started_at: datetime = field(default_factory=utc_now)
    first_page_s: float = 0.0  # until the first page was fetched
    duration_s: float = 0.0  # until every row was materialised and counted

    @property
    def total_rows(self) -> int:
        return self.rows.total_rows

    def close(self) -> None:
        self.rows.close()


class ReadOnlySession:
    """One connection of its own for the operator's queries; thread-safe, cancellable from any thread."""

    def __init__(
        self,
        services: Services,
        *,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
        page_size: int = PAGE_SIZE,
        window_pages: int = WINDOW_PAGES,
        history: QueryHistory | None = None,
        purpose: str = "query pane",
        max_open_results: int = MAX_OPEN_RESULTS,
    ):
        self._services, self._purpose = services, purpose
        self.statement_timeout_s, self.lock_timeout_s = statement_timeout_s, lock_timeout_s
        self.page_size, self.window_pages = page_size, window_pages
        self.history = history
        self._max_open = max_open_results
        self._conn: psycopg2.extensions.connection | None = None
        self._lock = threading.RLock()
        self._running = False
        self._cancel_requested = False
        self._names = itertools.count(1)
        self._open: OrderedDict[str, _HeldCursor] = OrderedDict()
        self._type_names: dict[int, str] = {}
        self._role: SessionRole | None = None

    # --- public ------------------------------------------------------------------------------

    def run(self, text: str, on_first_page: Callable[[tuple[Column, ...], Page], None] | None = None) -> QueryResult:
        """Run the operator's statement and page its rows; recorded in the query history."""
        started, clock = utc_now(), time.monotonic()
        try:
            result = self.open_result(text, on_first_page)
        except D2BError as exc:
            self._record(text, started, time.monotonic() - clock, None, str(exc))
            raise
        self._record(text, started, result.duration_s, result.total_rows, None)
        return result

    def open_result(
        self, text: str, on_first_page: Callable[[tuple[Column, ...], Page], None] | None = None
    ) -> QueryResult:
        """Like `run`, without the history (table views, our own composed queries)."""
        statement = parse_statement(text)
        started, clock = utc_now(), time.monotonic()
        with self._lock:
            if statement.kind == "explain":
                columns, rows = self._explain(statement)
                paged = PagedRows(
                    InMemoryRows(rows),
                    len(rows),
                    page_size=self.page_size,
                    window_pages=self.window_pages,
                    first_page=rows[: self.page_size],
                )
                elapsed = time.monotonic() - clock
                return QueryResult(statement.text, "explain", columns, paged, started, elapsed, elapsed)
            return self._open_held(statement, started, clock, on_first_page)

    def read_all(self, text: str, max_rows: int = 1000) -> tuple[tuple[Column, ...], list[tuple[Any, ...]]]:
        """A small query's columns and rows (at most `max_rows`), with the same guards; nothing stays open."""
        statement = parse_statement(text)
        if statement.kind == "explain":  # "unparsed" goes on: the one-query check gives the server's error
            raise QueryRefused(f"only a query can run here, not {statement.kind.upper()}")
        name = f"d2b_read_{next(self._names)}"
        prefix = f"DECLARE {name} NO SCROLL CURSOR FOR "
        with self._lock, self._statement(statement, prefix) as cur:
            cur.execute(f"{prefix}{statement.text}; FETCH FORWARD {int(max_rows)} FROM {name}")
            rows = cur.fetchall()
            columns = self._columns(cur)
            cur.execute("COMMIT")
        return columns, rows

    def copy_csv(self, text: str, sink: Any) -> int:
        """`COPY (<query>) TO STDOUT` as CSV with a header into `sink` (a file object); the rows written."""
        statement = parse_statement(text)
        if statement.kind == "explain":
            raise QueryRefused(f"only a query can be saved, not {statement.kind.upper()} output")
        prefix = "COPY ("
        with self._lock, self._statement(statement, prefix) as cur:
            cur.copy_expert(f"{prefix}{statement.text}\n) TO STDOUT WITH (FORMAT csv, HEADER true)", sink)
            rows: int = cur.rowcount
            cur.execute("COMMIT")
        return rows

    def role(self) -> SessionRole:
        """The role this session's statements run as (asked once per connection)."""
        with self._lock:
            conn = self._connection()
            if self._role is None:
                try:
                    with conn.cursor() as cur:
                        cur.execute("SELECT rolname, rolsuper FROM pg_roles WHERE rolname = session_user")
                        name, superuser = cur.fetchone() or ("?", False)
                except psycopg2.Error as exc:
                    raise self._translate(exc, None, "") from None
                self._role = SessionRole(name, bool(superuser), self._services.query.source)
            return self._role

    @property
    def backend_pid(self) -> int:
        """The server process of this session (to look it up in pg_stat_activity / pg_locks)."""
        with self._lock:
            return self._connection().get_backend_pid()

    def render(self, composable: sql.Composable) -> str:
        """SQL composed with quoted identifiers and literal values, as text for `run` / `read_all`."""
        with self._lock:
            return composable.as_string(self._connection())

    def cancel(self) -> None:
        """Stop the running statement (from any thread); the session stays usable."""
        self._cancel_requested = True
        conn = self._conn
        if conn is not None and not conn.closed and self._running:
            conn.cancel()

    def close(self) -> None:
        with self._lock:
            for held in list(self._open.values()):
                held.forget()
            self._open.clear()
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- statements --------------------------------------------------------------------------

    def _open_held(
        self,
        statement: Statement,
        started: datetime,
        clock: float,
        on_first_page: Callable[[tuple[Column, ...], Page], None] | None,
    ) -> QueryResult:
        name = f"d2b_result_{next(self._names)}"
        prefix = f"DECLARE {name} SCROLL CURSOR WITH HOLD FOR "
        with self._statement(statement, prefix) as cur:
            cur.execute(f"{prefix}{statement.text}; FETCH FORWARD {self.page_size} FROM {name}")
            first = cur.fetchall()
            columns = self._columns(cur)
            first_page_s = time.monotonic() - clock
            if on_first_page is not None:
                on_first_page(columns, Page(0, 0, first, len(first) if len(first) < self.page_size else None))
            cur.execute("COMMIT")  # materialises the rest on the server; from here no lock, no snapshot
            total = len(first)
            if len(first) == self.page_size:
                cur.execute(f"MOVE FORWARD ALL FROM {name}")
                total += cur.rowcount
        held = _HeldCursor(self, name, total)
        self._keep_open(held)
        paged = PagedRows(held, total, page_size=self.page_size, window_pages=self.window_pages, first_page=first)
        return QueryResult(statement.text, "query", columns, paged, started, first_page_s, time.monotonic() - clock)

    def _explain(self, statement: Statement) -> tuple[tuple[Column, ...], list[tuple[Any, ...]]]:
        with self._statement(statement, "") as cur:
            cur.execute(statement.text)
            rows = cur.fetchall()
            columns = self._columns(cur)
            cur.execute("COMMIT")
        return columns, rows

    def _statement(self, statement: Statement, prefix: str) -> _StatementScope:
        return _StatementScope(self, statement, prefix)

    def _begin(self, cur: Any, statement: Statement) -> None:
        cur.execute(
            _BEGIN + load_sql("inspect/confirm_one_query.sql"),
            {
                "statement_timeout": f"{max(1, round(self.statement_timeout_s * 1000))}ms",
                "lock_timeout": f"{max(1, round(self.lock_timeout_s * 1000))}ms",
                "text": statement.text,
            },
        )

    def _columns(self, cur: Any) -> tuple[Column, ...]:
        description = cur.description
        missing = sorted({d.type_code for d in description} - set(self._type_names))
        if missing:
            cur.execute("SELECT oid::int, format_type(oid, NULL) FROM pg_type WHERE oid = ANY(%s)", (missing,))
            self._type_names.update(dict(cur.fetchall()))
        return tuple(Column(d.name, self._type_names.get(d.type_code, "unknown")) for d in description)

    def _connection(self) -> psycopg2.extensions.connection:
        if self._conn is None or self._conn.closed:
            for held in list(self._open.values()):
                held.forget()  # their cursors died with the old connection
            self._open.clear()
            self._conn = self._services.connect(autocommit=True, purpose=self._purpose, reader=True)
            self._role = None
        return self._conn

    def _keep_open(self, held: _HeldCursor) -> None:
        self._open[held.name] = held
        while len(self._open) > self._max_open:
            _name, oldest = self._open.popitem(last=False)
            oldest.close_on_server(reason=f"at most {self._max_open} results stay open")

    def _fetch(self, held: _HeldCursor, start: int, count: int) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._conn is None or self._conn.closed:
                held.forget()
            if held.closed_because:
                raise QueryError(f"this result is no longer available ({held.closed_because}); run the query again")
            conn = self._conn
            assert conn is not None  # checked above: a closed connection forgets the result
            self._running, self._cancel_requested = True, False
            # A held result is a tuplestore on disk: moving back costs about 40 times more a row than
            # moving forward (6 µs against 0.15 µs), so a long way back starts again from the top.
            back = held.position - start
            rewind = f"MOVE ABSOLUTE 0 FROM {held.name}; " if back > start // BACKWARD_COST_RATIO else ""
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        f"{rewind}MOVE ABSOLUTE {int(start)} FROM {held.name}; "
                        f"FETCH FORWARD {int(count)} FROM {held.name}"
                    )
                    rows = cur.fetchall()
                    held.position = start + len(rows)
                    return rows
            except psycopg2.Error as exc:
                raise self._translate(exc, None, "") from None
            finally:
                self._running = False

    def _close_held(self, held: _HeldCursor) -> None:
        with self._lock:
            self._open.pop(held.name, None)
            conn = self._conn
            if conn is not None and not conn.closed and not held.closed_because:
                try:
                    with conn.cursor() as cur:
                        cur.execute(f"CLOSE {held.name}")
                except psycopg2.Error:
                    self._drop_connection()

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _record(self, text: str, started: datetime, duration_s: float, rows: int | None, error: str | None) -> None:
        if self.history is not None:
            self.history.append(text, started, duration_s, rows, error)

    # --- errors ------------------------------------------------------------------------------

    def _translate(self, exc: psycopg2.Error, statement: Statement | None, prefix: str) -> D2BError:
        """Postgres' error as an operator reads it; a lost connection is dropped so the next query reconnects."""
        if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) and (
            self._conn is None or self._conn.closed
        ):
            self._drop_connection()
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            return QueryError(
                f"the connection to the warehouse was lost ({first}); open results are gone, the next query reconnects"
            )
        return server_error(
            exc,
            statement,
            prefix,
            cancelled=self._cancel_requested,
            statement_timeout_s=self.statement_timeout_s,
            lock_timeout_s=self.lock_timeout_s,
        )


class _StatementScope:
    """One guarded statement on the session's connection: settings, READ ONLY, one-query check; errors translated."""

    def __init__(self, session: ReadOnlySession, statement: Statement, prefix: str):
        self._session, self._statement, self._prefix = session, statement, prefix
        self._cur: Any = None

    def __enter__(self) -> Any:
        session = self._session
        conn = session._connection()
        session._running, session._cancel_requested = True, False
        self._cur = conn.cursor()
        try:
            session._begin(self._cur, self._statement)
        except BaseException as exc:
            self.__exit__(type(exc), exc, None)
            raise
        return self._cur

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        session = self._session
        session._running = False
        try:
            self._leave_clean()
        finally:
            if self._cur is not None and not self._cur.closed:
                self._cur.close()
        if isinstance(exc, psycopg2.Error):
            raise session._translate(exc, self._statement, self._prefix) from None

    def _leave_clean(self) -> None:
        """No transaction left open, no session advisory lock taken by the text (one would block runs)."""
        conn = self._session._conn
        for attempt in (1, 2):  # a cancel that lands after the statement hits this cleanup: once more
            if conn is None or conn.closed:
                return
            try:
                if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    self._cur.execute("ROLLBACK")
                self._cur.execute("SELECT pg_advisory_unlock_all()")
                return
            except psycopg2.errors.QueryCanceled:
                if attempt == 2:
                    self._session._drop_connection()
            except psycopg2.Error:
                self._session._drop_connection()
                return


class _HeldCursor:
    """A RowSource over a WITH HOLD cursor of the session."""

    def __init__(self, session: ReadOnlySession, name: str, position: int):
        self._session, self.name = session, name
        self.position = position  # rows before the cursor's place on the server
        self.closed_because = ""

    def fetch(self, start: int, count: int) -> list[tuple[Any, ...]]:
        return self._session._fetch(self, start, count)

    def close(self) -> None:
        self._session._close_held(self)
        self.closed_because = self.closed_because or "it was closed"

    def close_on_server(self, reason: str) -> None:
        self._session._close_held(self)
        self.closed_because = reason

    def forget(self) -> None:
        self.closed_because = self.closed_because or "the session was closed or reconnected"
