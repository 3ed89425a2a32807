"""Several jobs at once, each on its own warehouse connection: the first failure stops the others."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from etl_core.errors import Cancelled
from etl_core.events import CancelToken

if TYPE_CHECKING:
    from etl_core.guarded_connection import GuardedConnection
    from etl_core.services import Services

T = TypeVar("T")


@contextmanager
def job_connection(
    services: Services, purpose: str, cancel: CancelToken, activity: str
) -> Iterator[tuple[GuardedConnection, Any]]:
    """(connection, cursor) for one job; `cancel` stops its running call. Closed on the way out, which
    rolls back whatever the job did not commit."""
    conn = services.connect(purpose=purpose, cancel=cancel, activity=activity)
    try:
        with conn.cursor() as cur:
            yield conn, cur
    finally:
        conn.close()


def run_together(jobs: Sequence[Callable[[CancelToken], T]], cancel: CancelToken, name: str) -> list[T]:
    """Run every job at once; results in job order.

    A job gets a token that fires on the operator's cancel or on another job's failure. The first
    failure is raised once every job has stopped (Cancelled if the operator cancelled): the later
    ones were caused by stopping the others.
    """
    abort = CancelToken()
    unlink = cancel.on_cancel(abort.cancel)
    results: list[Any] = [None] * len(jobs)
    failures: list[BaseException] = []
    try:
        with ThreadPoolExecutor(max_workers=max(len(jobs), 1), thread_name_prefix=name) as pool:
            futures = {pool.submit(job, abort): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                if (failure := future.exception()) is None:
                    results[futures[future]] = future.result()
                else:
                    failures.append(failure)
                    abort.cancel()  # the others stop at their next chunk or query
    finally:
        unlink()
    if failures:
        if cancel.cancelled:
            raise Cancelled("cancelled by the operator")
        raise failures[0]
    return results
