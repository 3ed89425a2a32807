"""Cancel, terminate and inspect our own backends over a fresh connection whose every step is bounded.

psycopg2's `connection.cancel()` (libpq's PQcancel) holds the GIL while it waits for the server to
close the cancel connection: on a path that never passes a close, every thread of the process
waits with it, signal handlers included. So a cancel here is `pg_cancel_backend()` on a fresh
connection: its connect is bounded by `connect_timeout` (psycopg2 releases the GIL while libpq
connects), and its statement and close by a timer that shuts the socket at a deadline.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions

from etl_core.background import BackgroundCall
from etl_core.sql_files import load_sql

ADMIN_CONNECT_S = 4  # at most this to connect (libpq rounds 1 up to 2); a slow link still gets its cancel
ADMIN_STATEMENT_S = 3.0  # after connecting, at most this for the statement and its answer
SETTLE_S = 1.0  # at close, how long the calls still in flight (a terminate sent on a cancel) may take to land

_in_flight: set[BackgroundCall[Any]] = set()  # the background calls not finished yet (see `settle`)
_in_flight_lock = threading.Lock()


def shut(sock: socket.socket) -> None:
    """Shut a socket down (any thread): a libpq call blocked on it fails at once."""
    with contextlib.suppress(OSError):  # already shut, or closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


class BackendAdmin:
    """Bounded side connections to one warehouse, to act on our own backends by pid."""

    def __init__(self, dsn: str, connect_s: float):
        self._dsn = dsn  # may hold a password: never log or show it
        self.connect_s = max(2, min(ADMIN_CONNECT_S, round(connect_s)))
        self.budget_s = self.connect_s + ADMIN_STATEMENT_S + 1  # what one session can take in all

    @contextlib.contextmanager
    def session(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor on a fresh autocommit connection; its socket is shut `ADMIN_STATEMENT_S` after connecting."""
        conn = psycopg2.connect(self._dsn, connect_timeout=self.connect_s, application_name="d2b-console admin")
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        timer = threading.Timer(ADMIN_STATEMENT_S, shut, (sock,))
        timer.daemon = True
        timer.start()
        try:
            conn.autocommit = True  # no statement is sent for this (psycopg2 2.9 on a server >= 8.0)
            with conn.cursor() as cur:
                yield cur
        finally:
            timer.cancel()
            shut(sock)  # the close sends one message: never let it wait on a full socket
            conn.close()
            sock.close()

    def run(self, sql_file: str, pids: Sequence[int]) -> list[tuple[Any, ...]]:
        """Run one of sql/watchdog/*.sql for `pids`; bounded by `budget_s` in all."""
        with self.session() as cur:
            cur.execute(load_sql(sql_file), {"pids": list(pids)})
            return cur.fetchall()

    def in_background(self, sql_file: str, pids: Sequence[int], name: str) -> BackgroundCall[list[tuple[Any, ...]]]:
        """`run` on a daemon thread, best effort: nobody waits for it (but `settle`), and it ends by itself."""

        def run_and_forget() -> list[tuple[Any, ...]]:
            try:
                return self.run(sql_file, pids)
            finally:
                with _in_flight_lock:
                    _in_flight.discard(call)

        with _in_flight_lock:  # registered before it can finish
            call = BackgroundCall(run_and_forget, name)
            _in_flight.add(call)
        return call

    def cancel(self, pid: int) -> BackgroundCall[list[tuple[Any, ...]]]:
        """Ask the server to cancel the running statement of backend `pid` (returns at once)."""
        return self.in_background("watchdog/cancel_backends.sql", [pid], "cancel-query")

    def terminate(self, pids: Sequence[int]) -> BackgroundCall[list[tuple[Any, ...]]]:
        """End backends `pids` on the server, so their transactions roll back and locks go now (returns at once)."""
        return self.in_background("watchdog/terminate_backends.sql", pids, "terminate-backend")


def settle(timeout: float = SETTLE_S) -> None:
    """Wait, at most `timeout` in all, for the background calls still in flight: a process about to exit
    right after a cancel would otherwise drop the terminate of the backend it had to cut off."""
    deadline = time.monotonic() + timeout
    with _in_flight_lock:
        calls = list(_in_flight)
    for call in calls:
        with contextlib.suppress(Exception):  # best effort, like the call itself
            call.result(timeout=max(0.0, deadline - time.monotonic()))
