"""Stop the embedded Postgres when its owner ends, however it ends (even SIGKILL).

The owner starts `python -m etl_core.embedded.watchdog DATADIR` with a pipe on its stdin that it
never writes to: the pipe closes when the owner exits or is killed, and the watchdog then stops
the Postgres of DATADIR (fast shutdown, then immediate) and removes its private socket folder.
It shares the state folder's lock, so no next owner starts before it has finished.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

from etl_core.embedded.postmaster import private_socket_dir, stop_postmaster

STOP_TIMEOUT_S = 15  # the watchdog's own stop_postmaster ends within 10 s


class Watchdog:
    """The owner's side: spawn the watchdog, and end it at a normal stop."""

    def __init__(self, datadir: Path):
        self.datadir = datadir
        self._process: subprocess.Popen[bytes] | None = None

    def spawn(self, lock_fd: int) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "etl_core.embedded.watchdog", str(self.datadir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(lock_fd,),  # holds the lock after the owner dies, until Postgres is stopped
            start_new_session=True,
        )

    def stop(self) -> None:
        """Close the pipe and wait until the watchdog has done its part (nothing, after a clean stop)."""
        if self._process is None:
            return
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


def main(argv: list[str]) -> None:
    datadir = Path(argv[0])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the pipe ends the watch
    sys.stdin.buffer.read()  # returns when the owner closes the pipe or dies
    socket_dir = private_socket_dir(datadir)
    stop_postmaster(datadir)
    if socket_dir is not None:
        shutil.rmtree(socket_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
