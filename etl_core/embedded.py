"""The embedded default: a real PostgreSQL (pgserver) and a real S3 HTTP API (moto) in the state folder.

Postgres keeps its data directory in `<state>/pg`. Moto keeps objects in memory, so they are
mirrored to `<state>/s3/` (one file per object plus a manifest) whenever the console persists,
and restored when the services start: an object written in one run is there in the next.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from etl_core.errors import ServiceUnavailable
from etl_core.s3 import make_s3_client
from etl_core.state_lock import StateFolderLock

EMBEDDED_ACCESS_KEY = "embedded"  # moto accepts any key; these are not secrets
EMBEDDED_REGION_DEFAULT = "eu-central-1"


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
        self._pg: Any = None
        self.postgres_dsn: str | None = None
        self.s3_endpoint: str | None = None

    @property
    def s3_mirror(self) -> Path:
        return self.state_dir / "s3"

    def start(self) -> None:
        self._lock.acquire()
        try:
            if self._want_postgres:
                self._start_postgres()
            if self._want_s3:
                self._start_s3()
                self.restore_objects()
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
        try:
            self._pg = pgserver.get_server(datadir, cleanup_mode="stop")
        except Exception as exc:  # pgserver raises plain exceptions for every start failure
            raise ServiceUnavailable(
                f"the embedded Postgres in {datadir} could not start ({exc.__class__.__name__}: "
                f"{str(exc)[:300]}); see {datadir / 'log'}; if the folder is damaged, move it aside "
                "and the next start creates a fresh one"
            ) from None
        self.postgres_dsn = self._pg.get_uri()
        self._log(f"embedded Postgres ready (socket in {datadir})")

    def _start_s3(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.s3_endpoint = f"http://{host}:{port}"
        # moto's backend is process-global: reset it so the disk mirror is the only source of truth.
        urllib.request.urlopen(urllib.request.Request(f"{self.s3_endpoint}/moto-api/reset", method="POST"), timeout=10)
        self._log(f"embedded S3 ready at {self.s3_endpoint}")

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
                    client.upload_file(str(path), bucket, key)
                    restored += 1
        if restored:
            self._log(f"embedded S3: restored {restored} object(s) from {self.s3_mirror}")

    def persist_objects(self) -> None:
        """Mirror every bucket and object to disk; unchanged objects (same ETag) are not rewritten."""
        if self._moto is None:
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
                        client.download_file(bucket, key, str(partial))
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
                    self._moto.stop()
                    self._moto = None
            if self._pg is not None:
                self._pg.cleanup()
                self._pg = None
        finally:
            self._lock.release()
