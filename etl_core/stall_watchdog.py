"""The stall watchdog: ends warehouse calls that made no progress for `stall_s`, unless the server is working.

TCP keepalives do not see a peer (or a proxy) that acknowledges bytes and forwards nothing, so
the bound is ours: a call with no progress for `stall_s` makes the watchdog ask the server, on a
fresh connection, what that backend is doing. Computing or waiting for a lock is work (a long
query is not a stall); waiting on us, idle, gone, or a server that does not answer at all means
the connection is stalled: the backend is terminated (its locks go now) and the call is ended.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from etl_core.background import BackgroundCall
from etl_core.guarded_connection import GuardedConnection
from etl_core.sql_files import load_sql

PROBE_GRACE_S = 5.0  # a probe may take the connect timeout plus this before the server counts as silent


class StallWatchdog:
    """One daemon thread watching every guarded connection of a Services object."""

    def __init__(self, stall_s: float, connect_probe: Callable[[], Any], connect_timeout_s: float):
        self.stall_s = stall_s
        self._connect_probe = connect_probe  # a plain connection to the same warehouse
        self._probe_timeout_s = connect_timeout_s + PROBE_GRACE_S
        self._connections: weakref.WeakSet[GuardedConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, conn: GuardedConnection) -> None:
        with self._lock:
            self._connections.add(conn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="stall-watchdog", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def terminate(self, pid: int) -> None:
        """End one of our backends on the server, in the background (best effort)."""

        def run() -> None:
            probe = self._connect_probe()
            try:
                probe.autocommit = True
                with probe.cursor() as cur:
                    cur.execute(load_sql("watchdog/terminate_backends.sql"), {"pids": [pid]})
            finally:
                probe.close()

        BackgroundCall(run, "terminate-backend")

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

    def _judge(self, stale: dict[GuardedConnection, int]) -> None:
        """Ask the server about the stale calls; end those it is not working on."""
        try:
            BackgroundCall(lambda: self._probe_and_end(stale), "stall-probe").result(timeout=self._probe_timeout_s)
        except Exception:  # noqa: BLE001 - a warehouse that cannot answer a probe is stalled for every call
            for conn, call in stale.items():
                self._end(conn, call)

    def _probe_and_end(self, stale: dict[GuardedConnection, int]) -> None:
        """End the stale calls whose backends the server is not working on, then terminate those backends
        (ended first: a terminated backend must not read as a plain lost connection)."""
        probe = self._connect_probe()
        try:
            probe.autocommit = True
            with probe.cursor() as cur:
                cur.execute(load_sql("watchdog/backend_states.sql"), {"pids": [c.backend_pid for c in stale]})
                working = {pid for pid, state, wait in cur.fetchall() if state == "active" and wait != "Client"}
                ended = []
                for conn, call in stale.items():
                    if conn.backend_pid in working:
                        conn.progress(call)
                    elif self._end(conn, call):
                        ended.append(conn.backend_pid)
                if ended:
                    cur.execute(load_sql("watchdog/terminate_backends.sql"), {"pids": ended})
        finally:
            probe.close()

    def _end(self, conn: GuardedConnection, call: int) -> bool:
        return conn.end(call, f"no answer from warehouse {conn.label} for {self.stall_s:g}s while {conn.activity}")
