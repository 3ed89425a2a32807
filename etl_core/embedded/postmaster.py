"""A running postmaster, known from its `postmaster.pid`: is it ours and alive, where is its socket, stop it.

Used by the owner and by the watchdog that stops Postgres when the owner dies, so neither needs
the other's process handle.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Postgres' own shutdown modes, as pg_ctl sends them: fast rolls back and checkpoints; immediate
# just stops (the next start recovers from the WAL, losing nothing committed).
FAST_SHUTDOWN, IMMEDIATE_SHUTDOWN = signal.SIGINT, signal.SIGQUIT
FAST_TIMEOUT_S, IMMEDIATE_TIMEOUT_S = 6.0, 2.0
# A socket folder of our own in the temp folder, used when the data directory's path is too long.
PRIVATE_SOCKET_PREFIX = "d2b-pg-"


@dataclass(frozen=True)
class Postmaster:
    pid: int
    socket_dir: str
    status: str

    @property
    def ready(self) -> bool:
        return self.status == "ready"


def read_postmaster(datadir: Path) -> Postmaster | None:
    """The server `datadir/postmaster.pid` describes, if that process is a live postgres."""
    try:
        lines = (datadir / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not is_postgres_process(pid):
        return None  # a stale file (the server died), or its pid now belongs to another program
    socket_dir = lines[4].strip() if len(lines) > 4 else ""
    status = lines[7].strip() if len(lines) > 7 else ""
    return Postmaster(pid, socket_dir, status)


def private_socket_dir(datadir: Path) -> Path | None:
    """The private socket folder the last server of `datadir` used, if it used one (alive or not)."""
    try:
        folder = Path((datadir / "postmaster.pid").read_text().splitlines()[4].strip())
    except (OSError, IndexError):
        return None
    is_private = folder.name.startswith(PRIVATE_SOCKET_PREFIX) and folder.parent == Path(tempfile.gettempdir())
    return folder if is_private else None


def is_postgres_process(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def stop_postmaster(datadir: Path) -> bool:
    """Stop the server of `datadir` if one runs: fast shutdown, then immediate, then SIGKILL.

    Returns True when no server is left running.
    """
    postmaster = read_postmaster(datadir)
    if postmaster is None:
        return True
    for sig, timeout in (
        (FAST_SHUTDOWN, FAST_TIMEOUT_S),
        (IMMEDIATE_SHUTDOWN, IMMEDIATE_TIMEOUT_S),
        (signal.SIGKILL, IMMEDIATE_TIMEOUT_S),
    ):
        try:
            os.kill(postmaster.pid, sig)
        except ProcessLookupError:
            return True
        if wait_for_exit(postmaster.pid, timeout):
            return True
    return False


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait until `pid` is gone (or a zombie), at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while is_postgres_process(pid) and not _is_zombie(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
