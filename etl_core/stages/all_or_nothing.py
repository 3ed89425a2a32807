"""Several transactions at once, committed together: the first failure rolls every one back."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from etl_core.errors import Cancelled
from etl_core.events import CancelToken

if TYPE_CHECKING:
    from etl_core.services import Services

T = TypeVar("T")


@dataclass(frozen=True)
class OpenTransaction(Generic[T]):
    """A job's connection, its transaction still open, and what the job produced."""

    conn: Any
    result: T


@contextmanager
def open_transaction(services: Services, purpose: str, cancel: CancelToken) -> Iterator[tuple[Any, Any]]:
    """(connection, cursor) of a transaction a job leaves open; `cancel` stops its queries.

    If the block fails, the connection is closed, which rolls the transaction back.
    """
    conn = services.connect(purpose=purpose)
    remove_cancel = cancel.on_cancel(conn.cancel)
    try:
        with conn.cursor() as cur:
            yield conn, cur
    except BaseException:
        conn.close()
        raise
    finally:
        remove_cancel()


def run_all_or_nothing(jobs: Sequence[Callable[[CancelToken], OpenTransaction[T]]], cancel: CancelToken,
                       name: str) -> list[T]:
    """Run every job at once, each on its own connection; commit them back to back once all succeeded.

    A job gets a token that fires on the operator's cancel or on another job's failure, and
    must close its connection itself when it fails (`open_transaction` does both). On any failure
    every open transaction is rolled back and the first failure is raised (Cancelled if the
    operator cancelled).
    Results come back in job order.
    """
    abort = CancelToken()
    unlink = cancel.on_cancel(abort.cancel)
    done: list[OpenTransaction[T] | None] = [None] * len(jobs)
    failures: list[BaseException] = []
    try:
        with ThreadPoolExecutor(max_workers=max(len(jobs), 1), thread_name_prefix=name) as pool:
            futures = {pool.submit(job, abort): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                failure = future.exception()
                if failure is None:
                    done[futures[future]] = future.result()
                else:
                    failures.append(failure)
                    abort.cancel()  # the others stop at their next chunk or query
    finally:
        unlink()
    opened = [t for t in done if t is not None]
    try:
        if failures:
            if cancel.cancelled:
                raise Cancelled("cancelled by the operator")
            raise failures[0]  # the later ones were caused by stopping the others
        for transaction in opened:
            transaction.conn.commit()
    finally:
        for transaction in opened:
            transaction.conn.close()  # rolls back whatever was not committed
    return [t.result for t in opened]

