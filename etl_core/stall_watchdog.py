"""The stall watchdog: ends warehouse calls that made no progress for `stall_s`, unless the server is working.

TCP keepalives do not see a peer (or a proxy) that acknowledges bytes and forwards nothing, so
the bound is ours: a call with no progress for `stall_s` makes the watchdog ask the server, on a
fresh connection, what that backend is doing. Computing or waiting for a lock is work (a long
query is not a stall); waiting on us, idle, gone, or a server that does not answer at all means
the connection is stalled: the backend is terminated (its locks go now) and the call is ended.
The question is bounded (BackendAdmin), so a stall is reported within `stall_s` plus about 10 s
even when the fresh connection cannot get through either.
"""

from __future__ import annotations

import threading
import time
import weakref

from etl_core.backend_admin import BackendAdmin
from etl_core.background import BackgroundCall
from etl_core.guarded_connection import GuardedConnection
from etl_core.sql_files import load_sql


class StallWatchdog:
    """One daemon thread watching every guarded connection of a Services object."""

    def __init__(self, stall_s: float, admin: BackendAdmin):
        self.stall_s = stall_s
        self._admin = admin  # bounded side connections to the same warehouse
        self._connections: weakref.WeakSet[GuardedConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Until then, the warehouse did not answer a probe: new calls fail at once instead of each waiting
        # `stall_s` (a run's last history writes on a dead path), and stale calls are not probed again.
        self._silent_until = 0.0
        # As long as a probe may take, at least: with a small `stall_s` the window closed before a run's last
        # write, which then waited a stall and a probe of its own (a black hole's run ended 6 s late).
        self.silent_s = max(stall_s, admin.budget_s)

    def watch(self, conn: GuardedConnection) -> None:
        conn.stall_s = self.stall_s
        conn.warehouse_silent = self.silent
        with self._lock:
            self._connections.add(conn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="stall-watchdog", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        interval = min(1.0, self.stall_s / 4)
        while not self._stop.wait(interval):
            now = time.monotonic()
            with self._lock:
                connections = list(self._connections)
            stale = {}
            for conn in connections:
                idle = conn.idle_for(now)
                if idle is not None and idle[1] >= self.stall_s:
                    stale[conn] = idle[0]
            if stale:
                self._judge(stale)

    def silent(self) -> bool:
        """The warehouse did not answer the last probe, less than `silent_s` ago."""
        return time.monotonic() < self._silent_until

    def _judge(self, stale: dict[GuardedConnection, int]) -> None:
        """Ask the server about the stale calls; end those it is not working on."""
        try:
            if self.silent():
                raise TimeoutError("the warehouse did not answer the last probe")
            BackgroundCall(lambda: self._probe_and_end(stale), "stall-probe").result(timeout=self._admin.budget_s + 1)
        except Exception:  # noqa: BLE001 - a warehouse that cannot answer a probe is stalled for every call
            self._silent_until = time.monotonic() + self.silent_s
            ended = [conn.backend_pid for conn, call in stale.items() if self._end(conn, call)]
            for conn in stale:  # a probe that timed out may have claimed calls it had no time to shut
                conn.shut_down()
            if ended:
                self._admin.terminate(ended)  # best effort: it may get through once the path is back

    def _probe_and_end(self, stale: dict[GuardedConnection, int]) -> None:
        """End the stale calls whose backends the server is not working on: claimed first (a terminated
        backend must not read as a plain lost connection), terminated on the server, then their sockets
        shut. In that order the stall is reported only once the server has ended the session: a process
        that exits on the report never leaves it behind."""
        ended: list[GuardedConnection] = []
        try:
            with self._admin.session() as cur:
                cur.execute(load_sql("watchdog/backend_states.sql"), {"pids": [c.backend_pid for c in stale]})
                working = {pid for pid, state, wait in cur.fetchall() if state == "active" and wait != "Client"}
                for conn, call in stale.items():
                    if conn.backend_pid in working:
                        conn.progress(call)
                    elif self._end(conn, call, shut_now=False):
                        ended.append(conn)
                if ended:
                    cur.execute(load_sql("watchdog/terminate_backends.sql"), {"pids": [c.backend_pid for c in ended]})
        finally:
            for conn in ended:
                conn.shut_down()

    def _end(self, conn: GuardedConnection, call: int, *, shut_now: bool = True) -> bool:
        return conn.end(call, conn.stall_message(self.stall_s), shut_now=shut_now)
