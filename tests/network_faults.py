"""Helpers for network fault tests: a warehouse connection that stalls, an endpoint that never answers,
and the console's sessions left on the warehouse afterwards."""

from __future__ import annotations

import socket
import time
from typing import Any

from faultproxy import FaultProxy, Rule
from support import Env


def our_sessions(env: Env, within_s: float = 10) -> list[tuple[Any, ...]]:
    """Backends of the console still on the warehouse (with any lock they hold) once the server has
    seen the closes (asynchronous: polled, bounded)."""
    deadline = time.monotonic() + within_s
    while True:
        sessions = env.query(
            "SELECT a.application_name, a.state, l.mode, l.relation::regclass::text "
            "FROM pg_stat_activity AS a LEFT JOIN pg_locks AS l ON l.pid = a.pid AND l.granted "
            "WHERE a.application_name LIKE 'd2b-console%%'"
        )
        if not sessions or time.monotonic() > deadline:
            return sessions
        time.sleep(0.1)


def warehouse_stalls(proxy: FaultProxy, application: str, direction: str, after_bytes: int, times: int = 1) -> Rule:
    # The startup packet carries the application name, NUL-terminated: match it exactly.
    return proxy.add(
        Rule(match=f"{application}\x00", action="stall", direction=direction, after_bytes=after_bytes, times=times)
    )


def silent_endpoint() -> socket.socket:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    return socket.create_server(("127.0.0.1", 0), backlog=16)
