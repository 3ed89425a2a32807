"""The embedded S3 objects on disk: one file per object under `<state>/s3/` plus a manifest.

Moto keeps objects in memory, so they are mirrored here whenever the console persists and
restored when the services start: an object written in one run is there in the next.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from boto3.s3.transfer import TransferConfig

from etl_core.s3 import PART_SIZE

# Two 8 MB parts in flight at most: restoring or saving large objects keeps memory flat.
TRANSFER = TransferConfig(multipart_chunksize=PART_SIZE, max_concurrency=2, max_io_queue=16)


class S3Mirror:
    """Restore the objects into a fresh server, and save the server's objects back."""

    def __init__(self, folder: Path, region: str, log: Callable[[str], None]):
        self.folder = folder
        self.region = region
        self._log = log

    def _manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    def _read_manifest(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self._manifest_path().read_text())
        except (OSError, ValueError):
            return {}

    def _object_path(self, bucket: str, key: str) -> Path:
        # Fully percent-encoded and prefixed, so no key (not even "..") can escape the mirror folder.
        return self.folder / "objects" / bucket / ("k_" + quote(key, safe=""))

    def restore(self, client: Any) -> None:
        manifest = self._read_manifest()
        restored = 0
        for bucket, objects in manifest.items():
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.region})
            for key in objects:
                path = self._object_path(bucket, key)
                if path.is_file():
                    client.upload_file(str(path), bucket, key, Config=TRANSFER)
                    restored += 1
        if restored:
            self._log(f"embedded S3: restored {restored} object(s) from {self.folder}")

    def save(self, client: Any) -> None:
        """Mirror every bucket and object to disk; unchanged objects (same ETag) are not rewritten."""
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
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._manifest_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(new, indent=1))
        os.replace(tmp, self._manifest_path())
