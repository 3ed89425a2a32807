"""The embedded PostgreSQL: pgserver's binaries, run on a data directory in the state folder.

We run `initdb` and `postgres` ourselves (no shell, no pg_ctl) so that every failure can be
named (a full disk, a damaged folder), the server never listens on TCP (a Unix socket in its
data directory only), and stopping it needs nothing but the pid in `postmaster.pid`, which the
watchdog uses when the owner dies.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from etl_core.embedded import postgres_errors
from etl_core.embedded.postmaster import PRIVATE_SOCKET_PREFIX, read_postmaster, stop_postmaster
from etl_core.embedded.reader_role import READER_ROLE, ensure_reader_role
from etl_core.embedded.s3_child import describe_exit
from etl_core.embedded.service_user import ServiceUser, postgres_service_user
from etl_core.errors import ServiceUnavailable

POSTGRES_MAJOR = "16"  # pgserver 0.1.x ships PostgreSQL 16
START_TIMEOUT_S = 60.0  # crash recovery of a large WAL can take a while
INITDB_TIMEOUT_S = 120.0
SOCKET_NAME = ".s.PGSQL.5432"
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the terminating NUL
# Characters Postgres' unix_socket_directories list and libpq's DSN take as they are.
PLAIN_PATH = re.compile(r"^[A-Za-z0-9/._+@:~-]+$")


def postgres_bin_dir() -> Path:
    """pgserver's `pginstall/bin`, found without importing pgserver (whose import wants XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable("the embedded Postgres needs the pgserver package: pip install pgserver")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


STOPPED_GRACE_S = 0.5


class EmbeddedPostgres:
    """Create (once), start and stop the Postgres whose data directory is `datadir`; `dsn` once started."""

    def __init__(self, datadir: Path):
        self.datadir = datadir
        self.log_file = datadir / "log"
        self.dsn: str | None = None  # the superuser's: the pipeline's own sessions
        self.reader_dsn: str | None = None  # the reader role's: what the operator types or opens
        self.socket_dir: Path | None = None
        self._private_socket_dir: Path | None = None  # ours to remove at stop
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        user = postgres_service_user()
        bin_dir = postgres_bin_dir()
        user.allow_traversal(bin_dir)
        if not (self.datadir / "PG_VERSION").exists():
            self._create(bin_dir, user)
        self._check_version()
        running = read_postmaster(self.datadir)
        if running is not None and running.ready:
            # Left by an owner that died with its watchdog: it serves this folder, so use it.
            self._connect_to(Path(running.socket_dir))
            return
        self._launch(bin_dir, user)

    def _create(self, bin_dir: Path, user: ServiceUser) -> None:
        """initdb into a side folder renamed into place, so that `pg/` is either complete or absent.

        An empty `pg/` that exists already (a mount point, a symlink to another disk) is used in place.
        """
        if self.datadir.exists():
            if any(p.name != "log" for p in self.datadir.iterdir()):
                raise postgres_errors.damaged_folder(
                    self.datadir, "it has files but no PG_VERSION, so it is not a complete Postgres data folder"
                )
            self._initdb(bin_dir, user, self.datadir)
            return
        staging = self.datadir.with_name(self.datadir.name + ".init")
        shutil.rmtree(staging, ignore_errors=True)  # a creation that was interrupted: it never held data
        try:
            staging.mkdir(mode=0o700)
            self._initdb(bin_dir, user, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        staging.rename(self.datadir)

    def _initdb(self, bin_dir: Path, user: ServiceUser, folder: Path) -> None:
        user.give(folder)
        user.allow_traversal(folder)
        try:
            result = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(folder),
                    "--auth=trust",
                    "--auth-local=trust",
                    "--encoding=utf8",
                    "-U",
                    "postgres",
                ],
                check=False,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=INITDB_TIMEOUT_S,
                start_new_session=True,
                **user.subprocess_options(),
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise postgres_errors.initdb_failure(self.datadir, str(exc)) from None
        if result.returncode != 0:  # initdb has removed what it wrote
            raise postgres_errors.initdb_failure(self.datadir, result.stderr + result.stdout)

    def _check_version(self) -> None:
        try:
            version = (self.datadir / "PG_VERSION").read_text().strip()
        except OSError as exc:
            raise postgres_errors.damaged_folder(self.datadir, f"PG_VERSION cannot be read: {exc.strerror}") from None
        if not version.isdigit():
            raise postgres_errors.damaged_folder(self.datadir, f"PG_VERSION holds {version[:40]!r}, not a version")
        if version != POSTGRES_MAJOR:
            raise ServiceUnavailable(
                f"the embedded Postgres in {self.datadir} was created by PostgreSQL {version}; this one is "
                f"PostgreSQL {POSTGRES_MAJOR} and cannot open it. The data is intact: dump it with PostgreSQL "
                f"{version}, or point [console] state_dir at another folder"
            )

    def _launch(self, bin_dir: Path, user: ServiceUser) -> None:
        socket_dir = self._choose_socket_dir(user)
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        try:
            with open(self.log_file, "ab") as log:
                self._process = subprocess.Popen(
                    [
                        str(bin_dir / "postgres"),
                        "-D",
                        str(self.datadir),
                        "-c",
                        "listen_addresses=",
                        "-c",
                        f"unix_socket_directories={socket_dir}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # like pg_ctl: the terminal's Ctrl-C and hang-up do not reach it
                    **user.subprocess_options(),
                )
        except OSError as exc:
            self._remove_private_socket_dir()
            raise postgres_errors.start_failure(self.datadir, str(exc), self.log_file) from None
        self._await_ready(log_offset)
        self._connect_to(socket_dir)

    def _choose_socket_dir(self, user: ServiceUser) -> Path:
        """The data directory (private to its owner), unless its path is too long or odd for a socket."""
        if len(str(self.datadir / SOCKET_NAME)) <= MAX_SOCKET_PATH and PLAIN_PATH.match(str(self.datadir)):
            return self.datadir
        folder = Path(tempfile.mkdtemp(prefix=PRIVATE_SOCKET_PREFIX))
        user.give(folder)
        self._private_socket_dir = folder
        return folder

    def _await_ready(self, log_offset: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self._process is not None
        while True:
            postmaster = read_postmaster(self.datadir)
            if postmaster is not None and postmaster.pid == self._process.pid and postmaster.ready:
                return
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise postgres_errors.start_failure(self.datadir, self._log_since(log_offset), self.log_file)
            time.sleep(0.05)

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_file, "rb") as log:
                log.seek(offset)
                return log.read(64 * 1024).decode("utf-8", "replace")
        except OSError:
            return ""

    def _connect_to(self, socket_dir: Path) -> None:
        self.socket_dir = socket_dir
        # A URL (libpq and SQLAlchemy both read it), the socket folder as its host parameter.
        host = quote(str(socket_dir), safe="/")
        self.dsn = f"postgresql://postgres@/postgres?host={host}"
        ensure_reader_role(self.dsn, str(self.datadir))
        self.reader_dsn = f"postgresql://{READER_ROLE}@/postgres?host={host}"

    def stopped(self) -> str | None:
        """Why the server this object started (or found running) is gone, in words; None while it serves."""
        if self.dsn is None:
            return None  # not started, or stopped by us
        if self._process is not None:
            try:  # asked after an error: a server just killed may close its sockets a moment before it exits
                return describe_exit(self._process.wait(STOPPED_GRACE_S))
            except subprocess.TimeoutExpired:
                return None
        return None if read_postmaster(self.datadir) is not None else "it is no longer running"

    def stop(self) -> None:
        """Fast shutdown (then immediate); returns once the server is gone."""
        stop_postmaster(self.datadir)
        if self._process is not None:
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._remove_private_socket_dir()
        self.dsn = self.reader_dsn = None

    def _remove_private_socket_dir(self) -> None:
        if self._private_socket_dir is not None:
            shutil.rmtree(self._private_socket_dir, ignore_errors=True)
            self._private_socket_dir = None
