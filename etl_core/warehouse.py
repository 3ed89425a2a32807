"""Warehouse connections: psycopg2 with timeouts, masked labels, and errors that name the endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from etl_core.backend_admin import BackendAdmin
from etl_core.background import BackgroundCall
from etl_core.errors import ServiceUnavailable
from etl_core.events import CancelToken
from etl_core.guarded_connection import GuardedConnection
from etl_core.secrets import redact
from etl_core.sql_files import safe_identifier

CONNECT_TIMEOUT_S = 10
CONNECT_POLL_S = 0.25  # how often a wait for libpq's connect asks whether to give up


KERNEL_MARGIN_S = 15  # the kernel gives up on a silent socket this long after the watchdog's bound


def tcp_options(stall_s: float) -> dict[str, int]:
    """libpq's TCP settings that let the kernel notice a dead peer (ignored on a Unix socket). They cannot
    see a peer that acknowledges and never answers: the stall watchdog does, within `stall_s` plus its
    bounded probe; the kernel's limits sit past that, so the watchdog reports a stall first (and when the
    kernel still wins a race, GuardedConnection reports the same stall)."""
    seconds = max(1, int(stall_s))
    return {
        "keepalives": 1,
        "keepalives_idle": seconds,
        "keepalives_interval": KERNEL_MARGIN_S // 3,
        "keepalives_count": 3,
        "tcp_user_timeout": (seconds + KERNEL_MARGIN_S) * 1000,
    }


def connect(
    dsn: str,
    label: str,
    *,
    autocommit: bool = False,
    application_name: str = "d2b-console",
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    stall_s: float | None = None,
    watch: Callable[[GuardedConnection], None] = lambda _conn: None,
    cancel: CancelToken | None = None,
    activity: str = "connecting",
    failed: Callable[[str], str] | None = None,
    give_up: Callable[[], None] = lambda: None,
) -> GuardedConnection:
    """Open a connection, or raise ServiceUnavailable naming the (masked) endpoint.

    libpq's connect is bounded by `connect_timeout` (and psycopg2 releases the GIL while it waits);
    the connection is then given to `watch` (the stall watchdog) and bound to `cancel` before any
    statement runs on it, so the session settings below are as bounded as any other call. `failed` words
    a failed connect (given libpq's first line, redacted) for a connection that is not the pipeline's.
    While libpq connects, `cancel` and `give_up` (which raises to stop waiting) end the wait at once."""
    options: dict[str, Any] = dict(tcp_options(stall_s)) if stall_s else {}
    opening = BackgroundCall(
        lambda: psycopg2.connect(
            dsn,
            connection_factory=GuardedConnection,
            connect_timeout=max(1, round(connect_timeout_s)),
            application_name=application_name,
            **options,
        ),
        "connect",
    )
    try:
        conn: GuardedConnection = _opened(opening, cancel, give_up)
    except psycopg2.OperationalError as exc:
        first_line = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__)
        raise ServiceUnavailable(
            failed(first_line)
            if failed is not None
            else f"warehouse {label} could not be reached: {first_line}; check [warehouse] url or "
            "D2B_WAREHOUSE_URL and that the server is up"
        ) from None
    conn.label = label
    conn.activity = activity
    conn.admin = BackendAdmin(dsn, connect_timeout_s)
    conn.stall_s = stall_s
    conn.autocommit = autocommit  # no statement is sent for this (psycopg2 2.9 on a server >= 8.0)
    if cancel is not None:
        conn.bind_cancel(cancel)
    watch(conn)
    try:
        with conn.cursor() as cur:
            cur.execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'")
        if not autocommit:
            conn.commit()
    except BaseException:
        conn.close()
        raise
    return conn


def _opened(
    opening: BackgroundCall[GuardedConnection], cancel: CancelToken | None, give_up: Callable[[], None]
) -> GuardedConnection:
    """The connection libpq opens on its own thread (bounded only by `connect_timeout`), waited for in slices so a
    cancel or a warehouse the watchdog found silent ends the wait at once; one given up on is closed when it opens."""
    try:
        while True:
            try:
                return opening.result(cancel, timeout=CONNECT_POLL_S)
            except TimeoutError:
                give_up()
    except BaseException:  # a cancel, giving up, a signal's exception, or the connect's own error
        opening.abandon(GuardedConnection.close)
        raise


@contextmanager
def transaction(conn: psycopg2.extensions.connection) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor inside one transaction: commit on success, roll back on any error."""
    try:
        with conn.cursor() as cur:
            yield cur
        conn.commit()
    except BaseException:
        if not conn.closed:
            conn.rollback()
        raise


def schema_exists(cur: psycopg2.extensions.cursor, schema: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def table_exists(cur: psycopg2.extensions.cursor, schema: str, table: str) -> bool:
    cur.execute("SELECT to_regclass(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL", (schema, table))
    return bool(fetch_value(cur))


def fetch_value(cur: psycopg2.extensions.cursor) -> Any:
    """The first column of the one row the last query returned (count(*), exists, ...)."""
    row = cur.fetchone()
    if row is None:
        raise ValueError("the query returned no row")
    return row[0]


def row_count(cur: psycopg2.extensions.cursor, schema: str, table: str) -> int:
    """The rows of `schema`.`table` (in the cursor's transaction)."""
    cur.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(safe_identifier(schema), safe_identifier(table)))
    return int(fetch_value(cur))


def column_names(cur: psycopg2.extensions.cursor) -> list[str]:
    """The column names of the last query's result."""
    if cur.description is None:
        raise ValueError("the last statement returned no result set")
    return [column.name for column in cur.description]
