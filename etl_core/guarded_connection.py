"""Warehouse connections whose blocking calls can be ended from another thread: by a cancel or by a stall.

Once connected, libpq waits on its socket with no timeout, and psycopg2's one hook into those
waits (the wait callback) refuses COPY. So each call here records what it is doing and when it
last made progress; ending a call shuts the socket down, which makes the blocked libpq call
fail at once, and the call then raises Cancelled or Stalled instead of a lost-connection error.
No call here waits on the network holding the GIL: psycopg2's own `cancel()` (PQcancel) would, so
it is replaced by a bounded `pg_cancel_backend()` (etl_core/backend_admin.py). A kernel error
(TCP user timeout, keepalive) on a call that made no progress for `stall_s` is the same stall,
reported the same way; a session the server ended (57P01-57P03) is named as such.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from etl_core.backend_admin import BackendAdmin, shut
from etl_core.background import BackgroundCall
from etl_core.errors import Cancelled, SessionEnded, Stalled
from etl_core.events import CancelToken
from etl_core.secrets import redact

CANCEL_GRACE_S = 1.0  # after a cancel request, how long a call may take to stop before its socket is shut
# Why the server ended a session, by SQLSTATE: a session ended from outside is not a network failure.
ENDED_BY_SERVER = {
    "57P01": "an administrator or another session ended it (pg_terminate_backend), or the server is shutting down",
    "57P02": "the server crashed and restarted (every session was ended)",
    "57P03": "the server is starting up, shutting down or failing over",
}


class GuardedConnection(psycopg2.extensions.connection):
    """A psycopg2 connection whose calls are tracked (see the module's docstring); create with `connect`."""

    def __init__(self, dsn: str, *args: Any, **kwargs: Any):
        super().__init__(dsn, *args, **kwargs)
        self.label = "the warehouse"  # the endpoint as messages show it (masked)
        self.activity = "working"  # what it is doing, for messages: "loading orders_data/orders.csv"
        self.backend_pid = self.get_backend_pid()
        # Our own handle on the socket: shutting it down is safe from any thread, and it can never
        # hit another socket that reused libpq's descriptor after a close.
        self._socket = socket.socket(fileno=os.dup(self.fileno()))
        self._lock = threading.Condition()
        self._call = 0  # number of the current (or last) call
        self._in_call = False
        self._away = 0  # > 0 while the call waits on our own code (an S3 read or write)
        self._last_progress = 0.0
        self._ended: str | None = None  # "cancelled", or the message of a stall
        self._cancel: CancelToken | None = None
        self._unlink_cancel: Callable[[], None] = lambda: None
        self.stall_s: float | None = None  # set by the watchdog that watches it
        self.warehouse_silent: Callable[[], bool] = lambda: False  # the watchdog's: a probe just went unanswered
        # Bounded side connections (set by `warehouse.connect`): cancels, and ending our backend on the
        # server when its socket had to be shut (a peer that keeps its side open never tells it).
        self.admin: BackendAdmin | None = None

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cursor_factory", GuardedCursor)
        return super().cursor(*args, **kwargs)

    def commit(self) -> None:
        with self.call():
            super().commit()

    def rollback(self) -> None:
        with self.call(refuse_if_cancelled=False):  # a cancel wants the rollback
            super().rollback()

    def close(self) -> None:
        self._unlink_cancel()
        if self._ended is not None:  # the close sends a message: never on a socket that stopped moving
            shut(self._socket)
        super().close()
        self._socket.close()

    def cancel(self) -> None:
        """Ask the server to cancel the running statement; returns at once (see the module's docstring)."""
        if self.admin is not None and not self.closed:
            self.admin.cancel(self.backend_pid)

    def stall_message(self, stall_s: float) -> str:
        return f"no answer from warehouse {self.label} for {stall_s:g}s while {self.activity}"

    def bind_cancel(self, cancel: CancelToken) -> None:
        """`cancel` stops this connection's running call (and refuses new ones) until the connection closes."""
        self._unlink_cancel()
        self._cancel = cancel
        self._unlink_cancel = cancel.on_cancel(self.interrupt)

    @contextlib.contextmanager
    def call(self, *, refuse_if_cancelled: bool = True) -> Iterator[None]:
        """Wrap one blocking libpq call: tracked for the watchdog, its failures explained."""
        with self._lock:
            cancelled = self._cancel is not None and self._cancel.cancelled
            if self._ended is not None or (cancelled and refuse_if_cancelled):
                raise self._ended_error()
            if self.stall_s is not None and self.warehouse_silent():
                raise Stalled(f"{self.stall_message(self.stall_s)} (it did not answer a fresh connection either)")
            self._call += 1
            self._in_call, self._away, self._last_progress = True, 0, time.monotonic()
        try:
            yield
        except psycopg2.Error as exc:
            if self._ended is None and exc.pgcode in ENDED_BY_SERVER:
                raise self._ended_by_server(exc) from None
            if self._ended is None and self._kernel_saw_the_stall(exc):
                self._terminate_backend()
            if self._ended is not None or (
                isinstance(exc, psycopg2.errors.QueryCanceled) and self._cancel is not None and self._cancel.cancelled
            ):
                raise self._ended_error() from None
            raise
        finally:
            with self._lock:
                self._in_call = False
                self._lock.notify_all()

    @contextlib.contextmanager
    def away(self) -> Iterator[None]:
        """Time the running call spends in our own code (S3 reads for a COPY): not the warehouse's delay."""
        with self._lock:
            self._away += 1
        try:
            yield
        finally:
            with self._lock:
                self._away -= 1
                self._last_progress = time.monotonic()

    def progress(self, call: int | None = None) -> None:
        """The running call moved (or the server confirmed it is working): restart its stall clock."""
        with self._lock:
            if call is None or call == self._call:
                self._last_progress = time.monotonic()

    def idle_for(self, now: float) -> tuple[int, float] | None:
        """(call number, seconds without progress) of a call waiting on the warehouse, else None."""
        with self._lock:
            if not self._in_call or self._away or self._ended is not None:
                return None
            return self._call, now - self._last_progress

    def end(self, call: int, reason: str, *, shut_now: bool = True) -> bool:
        """End call number `call` if it is still running: shut the socket so that libpq gives up (or, with
        `shut_now` False, only claim it: whatever the call then gets is `reason`, until `shut_down()`)."""
        with self._lock:
            if not self._in_call or self._call != call or self._ended is not None:
                return False
            self._ended = reason
            if shut_now:
                shut(self._socket)
            return True

    def shut_down(self) -> None:
        """Shut the socket of an ended call (idempotent): the blocked libpq call fails at once."""
        with self._lock:
            if self._ended is not None:
                shut(self._socket)

    def interrupt(self) -> None:
        """Stop the running call without blocking the caller (it may be a signal handler): a cancel
        request to the server first, then the socket if the call is still stuck after a grace period."""
        with self._lock:
            if not self._in_call:
                return  # the next call sees the cancel token
            call = self._call
        BackgroundCall(lambda: self._cancel_then_end(call), name="cancel-query")

    def _cancel_then_end(self, call: int) -> None:
        self.cancel()
        with self._lock:
            stuck = not self._lock.wait_for(lambda: not self._in_call or self._call != call, CANCEL_GRACE_S)
        if stuck and self.end(call, "cancelled"):
            self._terminate_backend()

    def _terminate_backend(self) -> None:
        if self.admin is not None:
            self.admin.terminate([self.backend_pid])

    def _kernel_saw_the_stall(self, exc: psycopg2.Error) -> bool:
        """The kernel gave up on the socket (TCP user timeout, keepalives) of a call that made no progress
        for `stall_s`: the stall the watchdog would have reported; it is recorded as that stall."""
        if self.stall_s is None or exc.pgcode is not None or not self.closed:
            return False
        with self._lock:
            idle = time.monotonic() - self._last_progress
            if self._away or idle < self.stall_s:
                return False
            self._ended = self.stall_message(self.stall_s)
            return True

    def _ended_by_server(self, exc: psycopg2.Error) -> SessionEnded:
        diag = exc.diag
        said = redact((diag.message_primary or str(exc).strip().splitlines()[0]).strip())
        detail = f" ({redact(diag.message_detail.strip())})" if diag.message_detail else ""
        return SessionEnded(
            f"the warehouse {self.label} ended this session while {self.activity}: {said}{detail} "
            f"[SQLSTATE {exc.pgcode}: {ENDED_BY_SERVER[exc.pgcode or '']}]; its transaction was rolled back"
        )

    def _ended_error(self) -> Exception:
        if self._ended is None or self._ended == "cancelled":
            return Cancelled("cancelled by the operator")
        return Stalled(self._ended)


class GuardedCursor(psycopg2.extensions.cursor):
    """A cursor whose statements and COPYs are calls of its GuardedConnection."""

    connection: GuardedConnection

    def execute(self, query: Any, vars: Any = None) -> None:
        with self.connection.call():
            super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Any) -> None:
        with self.connection.call():
            super().executemany(query, vars_list)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> None:
        with self.connection.call():
            super().copy_expert(sql, file, size)
