"""One owner at a time for a state folder: an flock that dies with its holder.

The owner's watchdog and S3 child share the lock (they inherit its file descriptor), so after
the owner is killed the folder stays locked until they have stopped its services; a next owner
that finds the recorded holder dead waits that long for the lock, and no longer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl_core.errors import RunLocked

HANDOVER_TIMEOUT_S = 15.0  # a killed owner's services stop within 10 s


class StateFolderLock:
    """Exclusive, non-blocking lock on `<state_dir>/owner.lock`; the file says who holds it."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / "owner.lock"
        self._fd: int | None = None

    @property
    def fd(self) -> int:
        assert self._fd is not None, "acquire the lock first"
        return self._fd

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if not _lock(fd):
            holder = _read_holder(fd)
            if _may_be_alive(holder) or not _wait_for_lock(fd):
                os.close(fd)
                raise RunLocked(
                    f"the state folder {self.path.parent} is in use by {_describe(holder)}; only one "
                    "d2b-console at a time may run the embedded services: wait for it to finish or quit it, "
                    "then retry"
                ) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200],
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(owner).encode(), 0)
        except OSError:
            pass  # a full disk: the lock holds all the same, only its holder goes unnamed
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_for_lock(fd: int) -> bool:
    """The holder is dead: its watchdog is stopping the services; wait for it, boundedly."""
    deadline = time.monotonic() + HANDOVER_TIMEOUT_S
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if _lock(fd):
            return True
    return False


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (ValueError, OSError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _may_be_alive(holder: dict[str, Any]) -> bool:
    """False only for a holder we know is dead: on this host, with a pid that no longer exists."""
    if not isinstance(holder.get("pid"), int) or holder.get("host") != socket.gethostname():
        return True
    return _process_exists(holder["pid"])


def _describe(holder: dict[str, Any]) -> str:
    try:
        return f"pid {holder['pid']} on {holder['host']} ({holder['command']}, since {holder['since']})"
    except KeyError:
        return "another process"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
