"""The embedded PostgreSQL: pgserver's server on a data directory in the state folder."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from etl_core.embedded.runtime_dir import ensure_runtime_dir
from etl_core.errors import ServiceUnavailable


class EmbeddedPostgres:
    """Start and stop the Postgres whose data directory is `datadir`; `dsn` once started."""

    def __init__(self, datadir: Path):
        self.datadir = datadir
        self._pg: Any = None
        self.dsn: str | None = None

    def start(self) -> None:
        ensure_runtime_dir()
        logging.getLogger("pgserver").setLevel(logging.ERROR)
        import pgserver

        forget_dead_postgres_users(self.datadir)
        try:
            self._pg = pgserver.get_server(self.datadir, cleanup_mode="stop")
        except Exception as exc:  # noqa: BLE001 - pgserver raises plain exceptions for every start failure
            raise ServiceUnavailable(
                f"the embedded Postgres in {self.datadir} could not start ({exc.__class__.__name__}: "
                f"{str(exc)[:300]}); see {self.datadir / 'log'}; if the folder is damaged, move it aside "
                "and the next start creates a fresh one"
            ) from None
        self.dsn = self._pg.get_uri()

    def stop(self) -> None:
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None


def forget_dead_postgres_users(datadir: Path) -> None:
    """Drop killed processes from pgserver's list of the server's users.

    pgserver stops Postgres when the last process on its list lets go; a process killed with
    SIGKILL never does, so without this its pid would keep the server running after every later
    run. We hold the state folder's lock, so no live process is dropped by mistake.
    """
    handles = datadir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return  # no list yet: nothing to forget
    alive = [pid for pid in pids if _process_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
