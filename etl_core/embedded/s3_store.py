"""The embedded S3's buckets and objects on disk, written so that a stored object survives kill -9.

Layout of the store folder (`<state>/s3`):

    buckets/<bucket>/bucket.json            the bucket's name, region, creation time and versioning
    buckets/<bucket>/objects/<sha256(key)>  the object's bytes, then its metadata as JSON, then
                                            the JSON's length (8 bytes, big-endian)
    buckets/<bucket>/objects/<sha256(key + NUL + version id)>
                                            one version of a versioned bucket's object (or a delete
                                            marker: no bytes), same format; `seq` in the metadata
                                            orders a key's versions
    uploads/<upload id>                     the parts of an incomplete multipart upload, appended
                                            as they arrive (their writing to disk started at once)

Every object is written to a temporary name, fsync'd, renamed into place and its folder fsync'd,
so a crash leaves the old object or the new one, never a torn one. A multipart upload whose parts
arrived in order becomes its object by appending the metadata, an fsync and a rename: the bytes
went to disk part by part while the client was still sending, so that fsync has little left to do.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

TRAILER_LENGTH = struct.Struct(">Q")
TEMP_PREFIX = ".tmp-"
NULL_VERSION = "null"  # S3's version id of an object written while the bucket was not versioned


@dataclass(frozen=True)
class ObjectMeta:
    """What S3 says about an object besides its bytes."""

    key: str
    size: int
    etag: str  # without quotes; "<md5 of part md5s>-<parts>" for a multipart upload
    last_modified: str  # ISO 8601, UTC
    headers: dict[str, str] = field(default_factory=dict)  # Content-Type, x-amz-meta-*, ...
    version_id: str = NULL_VERSION
    delete_marker: bool = False  # a versioned bucket's deletion: a version without bytes
    seq: int = field(default=0, compare=False)  # the version's place among its key's versions, oldest first


@dataclass(frozen=True)
class StoredBucket:
    region: str
    created: str  # ISO 8601
    versioning: str = ""  # "", "Enabled" or "Suspended", as S3's GetBucketVersioning says


@dataclass
class _Upload:
    path: Path
    size: int = 0
    parts: dict[int, tuple[int, int, str]] = field(default_factory=dict)  # number -> (offset, length, md5)
    intact: bool = True  # False once a part could not be stored
    lock: threading.Lock = field(default_factory=threading.Lock)


class StoreWriteError(Exception):
    """Writing to the store failed; `os_error` says why (ENOSPC for a full disk)."""

    def __init__(self, path: Path, os_error: OSError):
        super().__init__(f"{path}: {os_error.strerror}")
        self.path, self.os_error = path, os_error


class ObjectStore:
    """Buckets and objects under `root`; an index in memory of what is on disk."""

    def __init__(self, root: Path):
        self.root = root
        # Each key's versions, oldest first; a tuple replaced whole, so readers never see it half-changed.
        self._index: dict[tuple[str, str], tuple[ObjectMeta, ...]] = {}
        self._buckets: dict[str, StoredBucket] = {}
        self._uploads: dict[str, _Upload] = {}
        self._lock = threading.Lock()

    # --- reading what is stored (at start) ---------------------------------------------------

    def load(self) -> None:
        """Index what is stored; leftovers of interrupted writes are removed."""
        shutil.rmtree(self.root / "uploads", ignore_errors=True)  # the server forgot them: so do we
        for folder in sorted(self._buckets_dir().glob("*")):
            try:
                bucket = json.loads((folder / "bucket.json").read_text())
                objects = list((folder / "objects").iterdir())
            except (OSError, ValueError):
                continue  # a bucket whose creation was interrupted
            name = bucket["name"]
            self._buckets[name] = StoredBucket(bucket["region"], bucket["created"], bucket.get("versioning", ""))
            for path in objects:
                if path.name.startswith(TEMP_PREFIX):
                    path.unlink(missing_ok=True)  # a write cut short: the object it was replacing is intact
                elif (meta := _read_trailer(path)) is not None:
                    self._index[(name, meta.key)] = (*self._index.get((name, meta.key), ()), meta)
                # else: not written by us, or damaged on disk; left as it is for whoever looks
        for place, versions in self._index.items():
            self._index[place] = tuple(sorted(versions, key=lambda meta: meta.seq))

    def buckets(self) -> dict[str, StoredBucket]:
        return dict(self._buckets)

    def versions(self, bucket: str, key: str) -> tuple[ObjectMeta, ...]:
        """The key's stored versions, oldest first (one, "null", in a bucket never versioned); () when none."""
        return self._index.get((bucket, key), ())

    def read(self, bucket: str, meta: ObjectMeta) -> bytes:
        with open(self._object_path(bucket, meta.key, meta.version_id), "rb") as file:
            return file.read(meta.size)

    def has_bucket(self, bucket: str) -> bool:
        return bucket in self._buckets

    def bucket(self, bucket: str) -> StoredBucket:
        return self._buckets[bucket]

    def bucket_names(self) -> set[str]:
        return set(self._buckets)

    def keys(self, bucket: str) -> set[str]:
        return {k for (b, k) in list(self._index) if b == bucket}

    # --- buckets -----------------------------------------------------------------------------

    def create_bucket(self, bucket: str, region: str, created: str) -> None:
        folder = self._bucket_dir(bucket)
        stored = StoredBucket(region, created)
        with _writing(folder):
            (folder / "objects").mkdir(parents=True, exist_ok=True)
            self._write_bucket_file(bucket, stored)
            _fsync_dir(self._buckets_dir())
            _fsync_dir(self.root)
        self._buckets[bucket] = stored

    def set_versioning(self, bucket: str, status: str) -> None:
        stored = replace(self._buckets[bucket], versioning=status)
        with _writing(self._bucket_dir(bucket)):
            self._write_bucket_file(bucket, stored)
        self._buckets[bucket] = stored

    def _write_bucket_file(self, bucket: str, stored: StoredBucket) -> None:
        description = {"name": bucket, **asdict(stored)}
        _write_atomically(self._bucket_dir(bucket) / "bucket.json", [json.dumps(description).encode()])

    def delete_bucket(self, bucket: str) -> None:
        folder = self._bucket_dir(bucket)
        with _writing(folder):
            (folder / "bucket.json").unlink(missing_ok=True)
            shutil.rmtree(folder)
            _fsync_dir(self._buckets_dir())
        self._buckets.pop(bucket, None)

    # --- objects -----------------------------------------------------------------------------

    def write(self, bucket: str, meta: ObjectMeta, chunks: Iterable[bytes]) -> None:
        """Store one version of an object (the only one, "null", in a bucket never versioned)."""
        meta = self._placed(bucket, meta)
        path = self._object_path(bucket, meta.key, meta.version_id)
        with _writing(path):
            _write_atomically(path, [*chunks, *_trailer(meta)])
        self._remember(bucket, meta)

    def delete(self, bucket: str, key: str, version_id: str = NULL_VERSION) -> None:
        path = self._object_path(bucket, key, version_id)
        with _writing(path):
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        kept = tuple(meta for meta in self.versions(bucket, key) if meta.version_id != version_id)
        if kept:
            self._index[(bucket, key)] = kept
        else:
            self._index.pop((bucket, key), None)

    def _placed(self, bucket: str, meta: ObjectMeta) -> ObjectMeta:
        """`meta` with its `seq`: the one of the version it replaces, else after the key's newest version."""
        versions = self.versions(bucket, meta.key)
        same = next((v for v in versions if v.version_id == meta.version_id), None)
        seq = same.seq if same is not None else max((v.seq for v in versions), default=-1) + 1
        return replace(meta, seq=seq)

    def _remember(self, bucket: str, meta: ObjectMeta) -> None:
        others = [v for v in self.versions(bucket, meta.key) if v.version_id != meta.version_id]
        self._index[(bucket, meta.key)] = tuple(sorted([*others, meta], key=lambda v: v.seq))

    # --- multipart uploads -------------------------------------------------------------------

    def store_part(self, upload_id: str, number: int, data: bytes, etag: str) -> None:
        """Append a part (`etag`: its MD5, as the server computed it) to its upload's file.

        A part need not survive a crash (the server forgets incomplete uploads when it restarts):
        only the completion waits for the disk.
        """
        upload = self._upload(upload_id)
        with upload.lock, _writing(upload.path):
            try:
                with open(upload.path, "ab") as file:
                    file.write(data)
                    file.flush()
                    # Start writing the part to disk now, without waiting: completion's fsync then
                    # finds little left to do, and this answer does not wait for the disk.
                    os.posix_fadvise(file.fileno(), upload.size, len(data), os.POSIX_FADV_DONTNEED)
            except OSError:
                upload.intact = False  # the object is then written whole at completion, if it can be
                with contextlib.suppress(OSError):
                    os.truncate(upload.path, upload.size)
                raise
            upload.parts[number] = (upload.size, len(data), etag)
            upload.size += len(data)

    def complete_upload(self, upload_id: str, bucket: str, meta: ObjectMeta) -> bool:
        """Turn the upload's file into the object, when it holds exactly the object's bytes in order.

        Returns False when it does not (parts sent out of order or again, or one failed to store):
        the caller then writes the object from the server's copy.
        """
        upload = self._uploads.get(upload_id)
        if upload is None or not upload.intact or not _is_exactly(upload, meta):
            return False
        meta = self._placed(bucket, meta)
        path = self._object_path(bucket, meta.key, meta.version_id)
        with upload.lock, _writing(path):
            with open(upload.path, "ab") as file:
                file.writelines(_trailer(meta))
                file.flush()
                os.fsync(file.fileno())
            os.replace(upload.path, path)
            _fsync_dir(path.parent)
        self._uploads.pop(upload_id, None)
        self._remember(bucket, meta)
        return True

    def discard_upload(self, upload_id: str) -> None:
        upload = self._uploads.pop(upload_id, None)
        if upload is not None:
            upload.path.unlink(missing_ok=True)

    def _upload(self, upload_id: str) -> _Upload:
        with self._lock:
            if upload_id not in self._uploads:
                folder = self.root / "uploads"
                with _writing(folder):
                    folder.mkdir(parents=True, exist_ok=True)
                path = folder / quote(upload_id, safe="")
                path.unlink(missing_ok=True)
                self._uploads[upload_id] = _Upload(path)
            return self._uploads[upload_id]

    # --- paths -------------------------------------------------------------------------------

    def _buckets_dir(self) -> Path:
        return self.root / "buckets"

    def _bucket_dir(self, bucket: str) -> Path:
        return self._buckets_dir() / quote(bucket, safe="")

    def _object_path(self, bucket: str, key: str, version_id: str = NULL_VERSION) -> Path:
        # A hash, so that no key (long, or with "/" or "..") becomes a path of its own.
        name = key if version_id == NULL_VERSION else f"{key}\0{version_id}"
        return self._bucket_dir(bucket) / "objects" / hashlib.sha256(name.encode()).hexdigest()


def _is_exactly(upload: _Upload, meta: ObjectMeta) -> bool:
    """True when the parts, in order, are the object: same size, same multipart ETag."""
    numbers = sorted(upload.parts)
    offset, md5s = 0, b""
    for number in numbers:
        start, length, md5 = upload.parts[number]
        if start != offset:
            return False
        offset += length
        md5s += bytes.fromhex(md5)
    etag = f"{hashlib.md5(md5s).hexdigest()}-{len(numbers)}"
    return offset == upload.size == meta.size and etag == meta.etag


def _trailer(meta: ObjectMeta) -> list[bytes]:
    encoded = json.dumps(asdict(meta), separators=(",", ":")).encode()
    return [encoded, TRAILER_LENGTH.pack(len(encoded))]


def _read_trailer(path: Path) -> ObjectMeta | None:
    try:
        with open(path, "rb") as file:
            total = file.seek(0, os.SEEK_END)
            file.seek(total - TRAILER_LENGTH.size)
            (length,) = TRAILER_LENGTH.unpack(file.read(TRAILER_LENGTH.size))
            file.seek(total - TRAILER_LENGTH.size - length)
            meta = ObjectMeta(**json.loads(file.read(length)))
    except (OSError, ValueError, TypeError, struct.error):
        return None
    return meta if meta.size + length + TRAILER_LENGTH.size == total else None


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    temp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
    try:
        with open(temp, "wb") as file:
            file.writelines(chunks)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OSError into a StoreWriteError naming `path`."""
    try:
        yield
    except OSError as exc:
        raise StoreWriteError(path, exc) from exc
