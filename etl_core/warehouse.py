"""Warehouse connections: psycopg2 with timeouts, masked labels, and errors that name the endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions

from etl_core.errors import ServiceUnavailable
from etl_core.guarded_connection import GuardedConnection
from etl_core.secrets import redact

CONNECT_TIMEOUT_S = 10


def tcp_options(stall_s: float) -> dict[str, int]:
    """libpq's TCP settings that let the kernel notice a dead peer within about `stall_s` (ignored on a
    Unix socket). They cannot see a peer that acknowledges and never answers: the stall watchdog does."""
    seconds = max(1, int(stall_s))
    return {
        "keepalives": 1,
        "keepalives_idle": max(1, seconds // 2),
        "keepalives_interval": max(1, seconds // 6),
        "keepalives_count": 3,
        "tcp_user_timeout": seconds * 1000,
    }


def connect(
    dsn: str,
    label: str,
    *,
    autocommit: bool = False,
    application_name: str = "d2b-console",
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    stall_s: float | None = None,
) -> GuardedConnection:
    """Open a connection, or raise ServiceUnavailable naming the (masked) endpoint."""
    options: dict[str, Any] = dict(tcp_options(stall_s)) if stall_s else {}
    try:
        conn: GuardedConnection = psycopg2.connect(
            dsn,
            connection_factory=GuardedConnection,
            connect_timeout=max(1, round(connect_timeout_s)),
            application_name=application_name,
            **options,
        )
    except psycopg2.OperationalError as exc:
        first_line = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__)
        raise ServiceUnavailable(
            f"warehouse {label} could not be reached: {first_line}; check [warehouse] url or "
            "D2B_WAREHOUSE_URL and that the server is up"
        ) from None
    conn.label = label
    conn.autocommit = autocommit
    with conn.cursor() as cur:
        cur.execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'")
    if not autocommit:
        conn.commit()
    return conn


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


def column_names(cur: psycopg2.extensions.cursor) -> list[str]:
    """The column names of the last query's result."""
    if cur.description is None:
        raise ValueError("the last statement returned no result set")
    return [column.name for column in cur.description]
