"""Objects saved by earlier versions (a `manifest.json` mirror, written after each run) moved into the store once."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from urllib.parse import quote

from etl_core.embedded.s3_store import ObjectMeta, ObjectStore


def migrate_legacy_mirror(store: ObjectStore, region: str) -> int:
    """Store every object of the old mirror (its file's time as last-modified), then remove the mirror."""
    manifest = store.root / "manifest.json"
    try:
        buckets = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return 0
    moved = 0
    for bucket, keys in buckets.items():
        if not store.has_bucket(bucket):
            store.create_bucket(bucket, region, datetime.now(UTC).isoformat())
        for key in keys:
            path = store.root / "objects" / bucket / ("k_" + quote(key, safe=""))
            if not path.is_file() or store.versions(bucket, key):
                continue
            data = path.read_bytes()
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
            meta = ObjectMeta(
                key,
                len(data),
                hashlib.md5(data).hexdigest(),
                modified.isoformat(),
                {"Content-Type": "binary/octet-stream"},
            )
            store.write(bucket, meta, [data])
            moved += 1
    manifest.unlink()  # last: a migration cut short is done again at the next start
    shutil.rmtree(store.root / "objects", ignore_errors=True)
    return moved
