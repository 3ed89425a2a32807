"""What the embedded S3 reads from and writes into moto's in-memory S3 backend.

These are moto internals (`s3_backends`, `FakeBucket`, `FakeKey`, `FakeMultipart`), kept in this
one module; pyproject.toml pins moto below the next minor version for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeKey, s3_backends

from etl_core.embedded.s3_store import ObjectMeta


class MotoS3:
    """moto's S3 state for the one account and partition the embedded server serves."""

    def __init__(self) -> None:
        self._backend: Any = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def bucket_region(self, bucket: str) -> str | None:
        found = self._backend.buckets.get(bucket)
        return found.region_name if found is not None else None

    def bucket_created(self, bucket: str) -> str:
        return self._backend.buckets[bucket].creation_date.isoformat()

    def bucket_names(self) -> set[str]:
        return set(self._backend.buckets)

    def key_names(self, bucket: str) -> set[str]:
        found = self._backend.buckets.get(bucket)
        return set(found.keys.keys()) if found is not None else set()

    def object_meta(self, bucket: str, key: str) -> ObjectMeta | None:
        found = self._key(bucket, key)
        if found is None:
            return None
        return ObjectMeta(
            key=key,
            size=found.size,
            etag=found.etag.strip('"'),
            last_modified=found.last_modified.isoformat(),
            headers=dict(found.metadata),
        )

    def object_value(self, bucket: str, key: str) -> bytes:
        found = self._key(bucket, key)
        return found.value if found is not None else b""

    def part(self, bucket: str, upload_id: str, number: int) -> tuple[bytes, str] | None:
        """A multipart upload's part: its bytes and its MD5 (its ETag)."""
        found = self._backend.buckets.get(bucket)
        upload = found.multiparts.get(upload_id) if found is not None else None
        part = upload.parts.get(number) if upload is not None else None
        return (part.value, part.etag.strip('"')) if part is not None else None

    def create_bucket(self, bucket: str, region: str, created: str) -> None:
        """Create a bucket as it was stored: same region and creation time."""
        self._backend.create_bucket(bucket, region).creation_date = datetime.fromisoformat(created)

    def delete_bucket(self, bucket: str) -> None:
        if bucket in self._backend.buckets:
            self._backend.delete_bucket(bucket)

    def put(self, bucket: str, meta: ObjectMeta, value: bytes) -> None:
        """Put an object back as it was stored: same ETag, last-modified time and headers."""
        restored = self._backend.put_object(bucket, meta.key, value, etag=meta.etag, disable_notification=True)
        restored.set_metadata(dict(meta.headers))
        restored.last_modified = datetime.fromisoformat(meta.last_modified)

    def delete(self, bucket: str, key: str) -> None:
        if self._key(bucket, key) is not None:
            self._backend.delete_object(bucket, key)

    def _key(self, bucket: str, key: str) -> Any:
        """The current FakeKey at `key` (None when absent, or a versioned bucket's delete marker)."""
        found = self._backend.buckets.get(bucket)
        current = found.keys.get(key) if found is not None else None
        return current if isinstance(current, FakeKey) else None
