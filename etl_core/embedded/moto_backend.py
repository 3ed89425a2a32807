"""What the embedded S3 reads from and writes into moto's in-memory S3 backend.

These are moto internals (`s3_backends`, `FakeBucket`, `FakeKey`, `FakeMultipart`), kept in this
one module; pyproject.toml pins moto below the next minor version for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import FakeDeleteMarker, FakeKey, s3_backends

from etl_core.embedded.s3_store import NULL_VERSION, ObjectMeta


class MotoS3:
    """moto's S3 state for the one account and partition the embedded server serves."""

    def __init__(self) -> None:
        self._backend: Any = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]

    def bucket_region(self, bucket: str) -> str | None:
        found = self._backend.buckets.get(bucket)
        return found.region_name if found is not None else None

    def bucket_created(self, bucket: str) -> str:
        created: str = self._backend.buckets[bucket].creation_date.isoformat()
        return created

    def bucket_names(self) -> set[str]:
        return set(self._backend.buckets)

    def key_names(self, bucket: str) -> set[str]:
        found = self._backend.buckets.get(bucket)
        return set(found.keys.keys()) if found is not None else set()

    def versioning(self, bucket: str) -> str:
        """ "", "Enabled" or "Suspended"."""
        found = self._backend.buckets.get(bucket)
        return (found.versioning_status or "") if found is not None else ""

    def set_versioning(self, bucket: str, status: str) -> None:
        self._backend.buckets[bucket].versioning_status = status or None

    def versions(self, bucket: str, key: str) -> list[ObjectMeta]:
        """Every version of `key`, oldest first: the one object of a bucket never versioned, delete markers too."""
        found = self._backend.buckets.get(bucket)
        listed = found.keys.getlist(key, []) if found is not None else []
        return [_meta(key, version) for version in list(listed)]

    def version_value(self, bucket: str, key: str, version_id: str) -> bytes:
        found = self._backend.buckets.get(bucket)
        for version in found.keys.getlist(key, []) if found is not None else []:
            if isinstance(version, FakeKey) and version.version_id == version_id:
                return version.value
        return b""

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

    def set_versions(self, bucket: str, key: str, versions: list[tuple[ObjectMeta, bytes]]) -> None:
        """Make `key`'s versions exactly these, as they were stored: same version ids, ETags, times, headers."""
        found = self._backend.buckets[bucket]
        restored: list[Any] = []
        for meta, value in versions:
            if meta.delete_marker:
                marker = FakeDeleteMarker(key=_last_key(restored) or self._fake_key(bucket, key, b"", NULL_VERSION))
                marker._version_id = meta.version_id
                marker.last_modified = datetime.fromisoformat(meta.last_modified)
                restored.append(marker)
            else:
                version = self._fake_key(bucket, key, value, meta.version_id, meta.etag)
                version.set_metadata(dict(meta.headers))
                version.last_modified = datetime.fromisoformat(meta.last_modified)
                restored.append(version)
        if restored:
            found.keys.setlist(key, restored)
        elif key in found.keys:
            found.keys.pop(key)

    def _fake_key(self, bucket: str, key: str, value: bytes, version_id: str, etag: str | None = None) -> FakeKey:
        return FakeKey(
            name=key,
            value=value,
            account_id=self._backend.account_id,
            region_name=self._backend.buckets[bucket].region_name,
            etag=etag,
            is_versioned=version_id != NULL_VERSION,
            version_id=version_id,
            bucket_name=bucket,
        )


def _meta(key: str, version: Any) -> ObjectMeta:
    if isinstance(version, FakeDeleteMarker):
        return ObjectMeta(key, 0, "", version.last_modified.isoformat(), {}, version.version_id, delete_marker=True)
    return ObjectMeta(
        key=key,
        size=version.size,
        etag=version.etag.strip('"'),
        last_modified=version.last_modified.isoformat(),
        headers=dict(version.metadata),
        version_id=version.version_id,
    )


def _last_key(versions: list[Any]) -> FakeKey | None:
    return next((v for v in reversed(versions) if isinstance(v, FakeKey)), None)
