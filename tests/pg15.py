"""A throwaway Debian PostgreSQL 15 on TCP, for tests that need a second server or one on the network.

pgserver (the session's PostgreSQL 16) listens on a Unix socket only; a fault proxy, a tablespace
on a small tmpfs or a second server need a real one. `Pg15.start(folder)` runs `initdb` and
`pg_ctl` as the `postgres` OS user on a free 127.0.0.1 port, with trust authentication on the
loopback interface only; `stop()` stops it and removes its data. The `pg15` fixture in conftest.py
gives one per test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")
OS_USER = "postgres"


def available() -> str | None:
    """None when a PostgreSQL 15 can be started here, else the reason it cannot (for pytest.skip)."""
    if not (BIN / "pg_ctl").exists():
        return f"Debian PostgreSQL 15 is not installed ({BIN} is missing)"
    if os.geteuid() != 0:
        return "starting PostgreSQL 15 as the postgres OS user needs root"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_postgres(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", OS_USER, "--", *map(str, command)],
                          capture_output=True, text=True, timeout=120, check=True)


@dataclass
class Pg15:
    folder: Path  # owned by the postgres OS user: data/, the log and the socket
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def uri(self, user: str = OS_USER, database: str = "postgres", host: str = "127.0.0.1",
            port: int | None = None) -> str:
        """A libpq URL (no SSL: the server has none, and a fault proxy sees the startup packet first)."""
        return f"postgresql://{user}@{host}:{port or self.port}/{database}?sslmode=disable"

    @classmethod
    def start(cls, parent: Path | None = None) -> Pg15:
        folder = Path(tempfile.mkdtemp(prefix="pg15-", dir=parent))
        shutil.chown(folder, OS_USER, OS_USER)
        server = cls(folder, free_port())
        as_postgres(BIN / "initdb", "-D", server.data, "-U", OS_USER, "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8")
        as_postgres(BIN / "pg_ctl", "-D", server.data, "-l", folder / "log", "-w", "-t", "60", "start", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {server.port} -c unix_socket_directories={folder} "
                    "-c fsync=off -c max_connections=100")
        return server

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", OS_USER, "--", str(BIN / "pg_ctl"), "-D", str(self.data), "-m",
                        "immediate", "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_text(self) -> str:
        return (self.folder / "log").read_text(errors="replace")
