"""Publishing new data in one short transaction that waits a bounded time for its locks.

Each attempt waits at most `[timeouts] lock_wait_s` for its locks (readers queue behind a waiting
lock, so the bound is also how long they can be held up); when the locks are not granted, the
sessions holding them are named (pid, application, since when) and the attempt is retried, up
to ATTEMPTS in all. Nothing is published unless the whole transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import psycopg2.errors

from etl_core.errors import Cancelled, StageError
from etl_core.events import CancelToken
from etl_core.sql_files import load_sql
from etl_core.warehouse import transaction

if TYPE_CHECKING:
    from etl_core.services import Services

ATTEMPTS = 3
RETRY_DELAY_S = 1.0


def publish(
    services: Services,
    what: str,
    tables: Sequence[str],
    work: Callable[[Any], None],
    cancel: CancelToken,
    warn: Callable[[str], None],
) -> None:
    """Run `work(cursor)` in one transaction with a bounded lock wait; `tables` ("schema.table") are the
    ones whose lock holders are named when the locks are not granted."""
    lock_wait_s = services.config.timeouts.lock_wait_s
    for attempt in range(1, ATTEMPTS + 1):
        conn = services.connect(purpose="publish", cancel=cancel, activity=f"publishing {what}")
        try:
            with transaction(conn) as cur:
                cur.execute("SET LOCAL lock_timeout = %s", (f"{round(lock_wait_s * 1000)}ms",))
                work(cur)
            return
        except psycopg2.errors.LockNotAvailable:
            pass
        finally:
            conn.close()
        waited = f"publishing {what} waited {lock_wait_s:g}s for its locks, held by {lock_holders(services, tables)}"
        if cancel.cancelled:
            raise Cancelled("cancelled by the operator")
        if attempt == ATTEMPTS:
            raise StageError(
                f"{waited}; gave up after {ATTEMPTS} attempts: nothing was published and the previous "
                "data is unchanged. Ask that session to finish (or end it with "
                "pg_terminate_backend(pid)), then resume"
            )
        warn(f"{waited}; retrying in {RETRY_DELAY_S:g}s (attempt {attempt + 1} of {ATTEMPTS})")
        if cancel.wait(RETRY_DELAY_S):
            raise Cancelled("cancelled by the operator")


def lock_holders(services: Services, tables: Sequence[str]) -> str:
    """The sessions holding locks on `tables`, for a message: "pid 42 (application 'psql', user bob, ...)"."""
    try:
        with services.transaction("publish") as cur:
            cur.execute(load_sql("publication/lock_holders.sql"), {"tables": list(tables)})
            holders = cur.fetchall()
    except psycopg2.Error as exc:
        return f"sessions that could not be listed ({(exc.diag.message_primary or str(exc)).strip()})"
    if not holders:
        return "sessions that have finished since"
    return "; ".join(
        f"pid {pid} (application {application!r}, user {user}, {state}"
        + (f", in a transaction since {since:%Y-%m-%d %H:%M:%S %Z}" if since else "")
        + f", holding {modes})"
        for pid, application, user, state, since, modes in holders
    )
