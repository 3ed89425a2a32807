"""The embedded warehouse's reader role, made (or mended) by its superuser at every start.

The console's own sessions run as the superuser `postgres`; what an operator types or opens (the
`:` pane, previews, profiles, saves) runs as `d2b_reader`, which can read every schema and do
nothing else: no server files, no programs, no signals to the pipeline's sessions.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from etl_core.embedded import postgres_errors
from etl_core.embedded.disk_space import is_nearly_full
from etl_core.errors import ServiceUnavailable

if TYPE_CHECKING:
    import psycopg2

READER_ROLE = "d2b_reader"
# Roles whose membership would let the reader end or cancel sessions, or read, write or run
# anything on the server; a membership found (granted by hand) is taken away at start.
FORBIDDEN_MEMBERSHIPS = (
    "pg_signal_backend",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
    "pg_write_all_data",
)


def ensure_reader_role(admin_dsn: str, where: str) -> None:
    """Create the reader role when missing and set its attributes and memberships; `where` names the
    data folder in an error."""
    import psycopg2  # here: the console starts the embedded services before its first frame, without psycopg2
    from psycopg2 import sql

    from etl_core.sql_files import render_sql

    try:
        conn = psycopg2.connect(admin_dsn, application_name="d2b-console setup", connect_timeout=10)
    except psycopg2.Error as exc:
        problem = _first_line(exc)
        if is_nearly_full(Path(where)):  # a full disk can fail the first session, not the start ("init file")
            raise postgres_errors.disk_full(
                Path(where),
                f"Postgres said: {problem}",
                "could not start",
                "The data folder is intact: do not move or delete it",
            ) from None
        raise ServiceUnavailable(f"the embedded Postgres in {where} refused its superuser: {problem}") from None
    try:
        conn.autocommit = True  # CREATE ROLE and GRANT are each their own statement; reruns change nothing
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (READER_ROLE,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(READER_ROLE)))
            cur.execute(render_sql("embedded/reader_role.sql", reader=READER_ROLE))
            cur.execute(
                "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND r.rolname = ANY(%s)",
                (READER_ROLE, list(FORBIDDEN_MEMBERSHIPS)),
            )
            for (granted,) in cur.fetchall():
                cur.execute(
                    sql.SQL("REVOKE {} FROM {} CASCADE").format(sql.Identifier(granted), sql.Identifier(READER_ROLE))
                )
    except psycopg2.Error as exc:
        raise ServiceUnavailable(
            f"the embedded Postgres in {where} could not set up its reader role {READER_ROLE}: {_first_line(exc)}"
        ) from None
    finally:
        conn.close()


def _first_line(exc: psycopg2.Error) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
