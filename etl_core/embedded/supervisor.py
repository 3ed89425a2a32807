"""Start and stop the embedded Postgres and S3 together; one owner per state folder.

Postgres keeps its data directory in `<state>/pg`, the S3 server its buckets in `<state>/s3`
(each change on disk before it is answered: nothing is saved at stop). Neither outlives the
owner: the S3 child exits when its stdin closes, and a watchdog stops Postgres when the owner's
pipe to it closes, both of which happen however the owner ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from etl_core.embedded.postgres import EmbeddedPostgres
from etl_core.embedded.s3_child import S3Child
from etl_core.embedded.state_folder import check_state_folder, create_state_folder
from etl_core.embedded.state_lock import StateFolderLock
from etl_core.embedded.watchdog import Watchdog

if TYPE_CHECKING:
    from etl_core.config import Config


class EmbeddedServices:
    """The embedded services a config asks for, started and stopped as one."""

    def __init__(
        self,
        state_dir: Path,
        *,
        want_postgres: bool,
        want_s3: bool,
        region: str,
        log: Callable[[str], None] = lambda _m: None,
    ):
        self.state_dir = state_dir.absolute()
        self.region = region
        self._want_postgres, self._want_s3 = want_postgres, want_s3
        self._log = log
        self._lock = StateFolderLock(self.state_dir)
        self._s3 = S3Child(self.state_dir / "s3", region)
        self._postgres = EmbeddedPostgres(self.state_dir / "pg")
        self._watchdog = Watchdog(self._postgres.datadir)
        self._stopping = threading.Lock()

    @classmethod
    def for_config(cls, config: Config, log: Callable[[str], None] = lambda _m: None) -> Self:
        """The embedded services `config` asks for, in its state folder (not started)."""
        return cls(
            config.console.state_dir,
            want_postgres=config.warehouse.embedded,
            want_s3=config.source_embedded,
            region=config.source.region,
            log=log,
        )

    @property
    def postgres_dsn(self) -> str | None:
        return self._postgres.dsn

    @property
    def postgres_reader_dsn(self) -> str | None:
        return self._postgres.reader_dsn

    @property
    def s3_endpoint(self) -> str | None:
        return self._s3.endpoint

    def not_created(self) -> list[str]:
        """The wanted parts that `start` would create from nothing (read only: for a dry run)."""
        parts = []
        if self._want_postgres and not (self._postgres.datadir / "PG_VERSION").exists():
            parts.append(f"the embedded Postgres in {self._postgres.datadir}")
        if self._want_s3 and not (self._s3.store.is_dir() and any(self._s3.store.iterdir())):
            parts.append(f"the embedded S3 store in {self._s3.store}")
        return parts

    def start(self, before_launch: Callable[[], None] = lambda: None) -> None:
        """Take the state folder, then start the processes. `before_launch` runs once the folder is ours, before any
        process starts (the console holds the boot until its first frame is drawn); what it raises ends the start."""
        check_state_folder(self.state_dir)  # before anything is created or changed
        create_state_folder(self.state_dir)
        self._lock.acquire()
        try:
            before_launch()
            if self._want_postgres:
                self._watchdog.spawn(self._lock.fd)
            if self._want_s3:
                self._s3.spawn(self._lock.fd)  # loads its objects while Postgres starts
            if self._want_postgres:
                self._postgres.start()
                self._log(f"embedded Postgres ready (socket in {self._postgres.socket_dir})")
            if self._want_s3:
                self._s3.await_ready()
                self._log(f"embedded S3 ready at {self._s3.endpoint} (objects stored in {self._s3.store})")
        except BaseException:
            self.stop()
            raise

    def postgres_stopped(self) -> str | None:
        """A sentence for the operator when the embedded Postgres died under a run (killed, crashed); else None."""
        why = self._postgres.stopped() if self._want_postgres else None
        if why is None:
            return None
        return (
            f"the embedded Postgres server stopped ({why}); its data in {self._postgres.datadir} is kept "
            f"(Postgres recovers it at its next start); run again (--resume): the next start restarts it "
            f"(its log: {self._postgres.log_file})"
        )

    def s3_client(self) -> Any:
        return self._s3.client()

    def stop(self) -> None:
        """Stop everything that runs, each part even when another fails; then let go of the folder.

        Safe from two threads at once (a console quitting while its services worker gives up on them): one waits.
        """
        with self._stopping:
            try:
                self._s3.stop()
            finally:
                try:
                    self._postgres.stop()
                finally:
                    try:
                        self._watchdog.stop()
                    finally:
                        self._lock.release()
