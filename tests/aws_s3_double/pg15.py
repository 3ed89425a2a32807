"""A throw-away Debian PostgreSQL 15 server with the aws_s3 test double available as an extension.

The server runs from a private copy of Debian's installation layout (the binaries copied, the
libraries and shared files linked), whose extension folder also holds the double, so that
`CREATE EXTENSION aws_s3 CASCADE` works exactly as on RDS without touching the system's
PostgreSQL folders that other servers on this machine use. As root it runs as the `postgres`
OS user; data, sockets and the double's FIFOs live in one `mkdtemp` folder removed at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")
DEBIAN_LIB = Path("/usr/lib/postgresql/15/lib")
DEBIAN_SHARE = Path("/usr/share/postgresql/15")
DEBIAN_PYTHON = Path("/usr/bin/python3")
DOUBLE = Path(__file__).resolve().parent
PACKAGES = "postgresql-plpython3-15 python3-boto3"


def missing_packages() -> str | None:
    """Why the double cannot run here, naming the Debian packages to install (None: it can)."""
    if not (DEBIAN_BIN / "postgres").exists():
        return f"Debian's PostgreSQL 15 is missing ({DEBIAN_BIN}/postgres); apt-get install postgresql-15 {PACKAGES}"
    if not (DEBIAN_SHARE / "extension" / "plpython3u.control").exists():
        return f"plpython3u for PostgreSQL 15 is missing; run bash scripts/test.sh or apt-get install {PACKAGES}"
    probe = subprocess.run([str(DEBIAN_PYTHON), "-c", "import boto3"], capture_output=True)
    if probe.returncode != 0:
        return f"Debian's python3 has no boto3; run bash scripts/test.sh or apt-get install {PACKAGES}"
    return None


@dataclass
class Pg15Server:
    root: Path
    port: int

    @property
    def admin_dsn(self) -> str:
        return self.dsn("postgres")

    def dsn(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str, *, s3_endpoint: str | None, extension: bool = True) -> str:
        """A new database, with `CREATE EXTENSION aws_s3 CASCADE` run in it (as a DBA does on RDS)
        and the double pointed at `s3_endpoint` (the setting RDS does not need); returns its DSN."""
        conn = psycopg2.connect(self.admin_dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                if s3_endpoint is not None:
                    cur.execute(
                        sql.SQL("ALTER DATABASE {} SET d2b_test_double.s3_endpoint = {}").format(
                            sql.Identifier(name), sql.Literal(s3_endpoint)
                        )
                    )
        finally:
            conn.close()
        if extension:
            conn = psycopg2.connect(self.dsn(name))
            try:
                with conn, conn.cursor() as cur:
                    cur.execute("CREATE EXTENSION aws_s3 CASCADE")
            finally:
                conn.close()
        return self.dsn(name)

    def stop(self) -> None:
        # Immediate: the folder is deleted next, and a fast shutdown waits up to 60 s for a backend that
        # does not end (a full run once spent 60 s in this teardown).
        _run_as_postgres(
            [str(self._bin / "pg_ctl"), "stop", "-D", str(self.root / "data"), "-m", "immediate", "-w", "-t", "20"],
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    @property
    def _bin(self) -> Path:
        return self.root / "lib" / "postgresql" / "15" / "bin"


def start_pg15() -> Pg15Server:
    """initdb and start a server on a free 127.0.0.1 port; the caller stops it."""
    root = Path(tempfile.mkdtemp(prefix="d2b-pg15-aws-s3-double-"))
    try:
        _lay_out_installation(root)
        (root / "tmp").mkdir()
        _chown_to_postgres(root)
        _run_as_postgres(
            [
                str(DEBIAN_BIN / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        for attempt in range(3):  # a free port can be taken between asking and listening
            port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            started = _run_as_postgres(
                [
                    str(root / "lib/postgresql/15/bin/pg_ctl"),
                    "start",
                    "-D",
                    str(root / "data"),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(root / "server.log"),
                    "-o",
                    options,
                ],
                check=False,
                env={"TMPDIR": str(root / "tmp")},
            )
            if started.returncode == 0:
                return Pg15Server(root, port)
            time.sleep(0.2 * (attempt + 1))
        log = (root / "server.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"Debian PostgreSQL 15 did not start:\n{log}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _lay_out_installation(root: Path) -> None:
    """bin/ holds copies (PostgreSQL finds share/ relative to its real path), the rest are links,
    and share/extension/ adds the double, its helper path and python3 filled in."""
    bin_dir, share = root / "lib/postgresql/15/bin", root / "share/postgresql/15"
    bin_dir.mkdir(parents=True)
    for program in ("postgres", "pg_ctl"):
        shutil.copy2(DEBIAN_BIN / program, bin_dir / program)
    (root / "lib/postgresql/15/lib").symlink_to(DEBIAN_LIB)
    (share / "extension").mkdir(parents=True)
    for entry in DEBIAN_SHARE.iterdir():
        if entry.name != "extension":
            (share / entry.name).symlink_to(entry)
    for entry in (DEBIAN_SHARE / "extension").iterdir():
        (share / "extension" / entry.name).symlink_to(entry)
    helper = root / "s3_pipe.py"
    shutil.copy2(DOUBLE / "s3_pipe.py", helper)
    for source in (DOUBLE / "extension").iterdir():
        text = source.read_text(encoding="utf-8")
        text = text.replace("@PYTHON@", str(DEBIAN_PYTHON)).replace("@S3_PIPE@", str(helper))
        (share / "extension" / source.name).write_text(text, encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_root() -> bool:
    return os.geteuid() == 0


def _chown_to_postgres(root: Path) -> None:
    if _is_root():
        subprocess.run(["chown", "-R", "-h", "postgres:postgres", str(root)], check=True)


def _run_as_postgres(
    command: list[str], *, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a server program as the postgres OS user when we are root (PostgreSQL refuses root)."""
    environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}
    prefix = (
        ["runuser", "-u", "postgres", "--", "env", *(f"{k}={v}" for k, v in environment.items())] if _is_root() else []
    )
    result = subprocess.run(
        prefix + command,
        capture_output=True,
        text=True,
        check=False,
        env=None if _is_root() else {**os.environ, **environment},
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result
