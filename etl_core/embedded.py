"""The embedded default: a real PostgreSQL (pgserver) and a real S3 HTTP API (moto) in the state folder.

Postgres keeps its data directory in `<state>/pg`. Moto runs in a child process and keeps
objects in memory, so they are mirrored to `<state>/s3/` (one file per object plus a manifest)
whenever the console persists, and restored when the services start: an object written in one
run is there in the next.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig

from etl_core.errors import ServiceUnavailable
from etl_core.s3 import PART_SIZE, make_s3_client
from etl_core.state_lock import StateFolderLock

EMBEDDED_ACCESS_KEY = "embedded"  # moto accepts any key; these are not secrets
S3_START_TIMEOUT_S = 30
# Two 8 MB parts in flight at most: restoring or saving large objects keeps memory flat.
TRANSFER = TransferConfig(multipart_chunksize=PART_SIZE, max_concurrency=2, max_io_queue=16)


class EmbeddedServices:
    """Start, persist and stop the embedded Postgres and S3; one owner per state folder."""

    def __init__(self, state_dir: Path, *, want_postgres: bool, want_s3: bool, region: str,
                 log: Callable[[str], None] = lambda _m: None):
        self.state_dir = state_dir.resolve()
        self.region = region
        self._want_postgres, self._want_s3 = want_postgres, want_s3
        self._log = log
        self._lock = StateFolderLock(self.state_dir)
        self._moto: Any = None
        self._s3_restored = False  # only a fully restored S3 may be saved over the mirror
        self._pg: Any = None
        self.postgres_dsn: str | None = None
        self.s3_endpoint: str | None = None

    @property
    def s3_mirror(self) -> Path:
        return self.state_dir / "s3"

    def start(self) -> None:
        self._lock.acquire()
        try:
            if self._want_s3:
                self._spawn_s3()  # starts while Postgres starts
            if self._want_postgres:
                self._start_postgres()
            if self._want_s3:
                self._await_s3()
                self.restore_objects()
                self._s3_restored = True
        except BaseException:
            self.stop()
            raise

    def _start_postgres(self) -> None:
        if not os.environ.get("XDG_RUNTIME_DIR"):
            # pgserver warns without a private runtime dir; a fresh 0700 temp dir silences it.
            os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="d2b-runtime-")
        logging.getLogger("pgserver").setLevel(logging.ERROR)
        import pgserver

        datadir = self.state_dir / "pg"
        forget_dead_postgres_users(datadir)
        try:
            self._pg = pgserver.get_server(datadir, cleanup_mode="stop")
        except Exception as exc:  # noqa: BLE001 - pgserver raises plain exceptions for every start failure
            raise ServiceUnavailable(
                f"the embedded Postgres in {datadir} could not start ({exc.__class__.__name__}: "
                f"{str(exc)[:300]}); see {datadir / 'log'}; if the folder is damaged, move it aside "
                "and the next start creates a fresh one"
            ) from None
        self.postgres_dsn = self._pg.get_uri()
        self._log(f"embedded Postgres ready (socket in {datadir})")

    def _spawn_s3(self) -> None:
        self._moto = subprocess.Popen([sys.executable, "-m", "etl_core.s3_server"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def _await_s3(self) -> None:
        ready, _, _ = select.select([self._moto.stdout], [], [], S3_START_TIMEOUT_S)
        line = self._moto.stdout.readline().strip() if ready else ""
        if not line:
            self._stop_s3()
            raise ServiceUnavailable(f"the embedded S3 server did not start within {S3_START_TIMEOUT_S}s; "
                                     "check that the moto[server] package is installed (pip install 'moto[server]')")
        self.s3_endpoint = f"http://{line}"
        self._log(f"embedded S3 ready at {self.s3_endpoint}")

    def _stop_s3(self) -> None:
        if self._moto is not None:
            self._moto.stdin.close()  # the server exits when its stdin closes
            try:
                self._moto.wait(10)
            except subprocess.TimeoutExpired:
                self._moto.kill()
                self._moto.wait()
            self._moto = None

    def s3_client(self) -> Any:
        return make_s3_client(self.region, self.s3_endpoint,
                              access_key=EMBEDDED_ACCESS_KEY, secret_key=EMBEDDED_ACCESS_KEY)

    # --- persistence of the S3 objects -------------------------------------------------------

    def _manifest_path(self) -> Path:
        return self.s3_mirror / "manifest.json"

    def _read_manifest(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self._manifest_path().read_text())
        except (OSError, ValueError):
            return {}

    def _object_path(self, bucket: str, key: str) -> Path:
        # Fully percent-encoded and prefixed, so no key (not even "..") can escape the mirror folder.
        return self.s3_mirror / "objects" / bucket / ("k_" + quote(key, safe=""))

    def restore_objects(self) -> None:
        manifest = self._read_manifest()
        client = self.s3_client()
        restored = 0
        for bucket, objects in manifest.items():
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
            for key in objects:
                path = self._object_path(bucket, key)
                if path.is_file():
                    client.upload_file(str(path), bucket, key, Config=TRANSFER)
                    restored += 1
        if restored:
            self._log(f"embedded S3: restored {restored} object(s) from {self.s3_mirror}")

    def persist_objects(self) -> None:
        """Mirror every bucket and object to disk; unchanged objects (same ETag) are not rewritten."""
        if self._moto is None or not self._s3_restored:
            return
        client = self.s3_client()
        old = self._read_manifest()
        new: dict[str, dict[str, str]] = {}
        for bucket in (b["Name"] for b in client.list_buckets().get("Buckets", [])):
            new[bucket] = {}
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    key, etag = obj["Key"], obj["ETag"]
                    path = self._object_path(bucket, key)
                    if old.get(bucket, {}).get(key) != etag or not path.is_file():
                        path.parent.mkdir(parents=True, exist_ok=True)
                        partial = path.with_name(path.name + ".partial")
                        client.download_file(bucket, key, str(partial), Config=TRANSFER)
                        os.replace(partial, path)  # a crash mid-write never leaves a torn object
                    new[bucket][key] = etag
        for bucket, objects in old.items():
            for key in objects:
                if key not in new.get(bucket, {}):
                    self._object_path(bucket, key).unlink(missing_ok=True)
        self.s3_mirror.mkdir(parents=True, exist_ok=True)
        tmp = self._manifest_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(new, indent=1))
        os.replace(tmp, self._manifest_path())

    def stop(self) -> None:
        try:
            if self._moto is not None:
                try:
                    self.persist_objects()
                finally:
                    self._stop_s3()
                    self._s3_restored = False
            if self._pg is not None:
                self._pg.cleanup()
                self._pg = None
        finally:
            self._lock.release()


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
