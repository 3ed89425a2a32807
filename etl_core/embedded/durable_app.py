"""WSGI middleware around moto's S3 app: a change is on disk before its success answer leaves.

For every request that changes something (a PUT, POST or DELETE that moto answered 2xx), the
middleware brings the store in line with moto's new state for what the request touched (one
object, one bucket's objects, a bucket, a part) and only then lets the answer out. If the store
cannot be written (a full disk), moto's state is put back as the store has it and the client gets
507 Insufficient Storage naming the store: the request failed, as it would on S3, and nothing
reports a success that is not on disk. A bucket's versioning is kept, and every version of its
objects (delete markers too), so that a versioned bucket answers the same after a restart; other
bucket configuration (policies, tags, ACLs) is not kept: the console does not use it.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from wsgiref.types import StartResponse, WSGIApplication
from xml.sax.saxutils import escape

from etl_core.embedded.disk_space import describe_free_space, is_disk_full_error
from etl_core.embedded.moto_backend import MotoS3
from etl_core.embedded.s3_store import ObjectMeta, ObjectStore, StoreWriteError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Change:
    """What a request changes: kind is object, objects (of a bucket), bucket, versioning (of a bucket), part,
    complete, abort or all."""

    kind: str
    bucket: str = ""
    key: str = ""
    upload_id: str = ""
    part_number: int = 0

    @property
    def resource(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"


def change_of(environ: dict[str, Any]) -> Change | None:
    """The change a request asks for, or None for one that changes nothing that is kept."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("PUT", "POST", "DELETE"):
        return None
    if urlsplit("//" + environ.get("HTTP_HOST", "")).hostname not in LOOPBACK_HOSTS:
        return Change("all")  # a virtual-hosted request: the bucket is in the host name
    path, _, query_string = environ.get("RAW_URI", environ.get("PATH_INFO", "")).partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    query = parse_qs(query_string, keep_blank_values=True)
    upload_id = query.get("uploadId", [""])[0]
    if not bucket:
        return None
    if not key:
        if method == "POST":
            return Change("objects", bucket)  # DeleteObjects, or a browser form upload
        if "versioning" in query:
            return Change("versioning", bucket)
        return None if query else Change("bucket", bucket)  # create or delete; not its other configuration
    if method == "PUT" and upload_id:
        return Change("part", bucket, key, upload_id, int(query.get("partNumber", ["0"])[0] or 0))
    if method == "POST":
        return Change("complete", bucket, key, upload_id) if upload_id else None
    if method == "DELETE" and upload_id:
        return Change("abort", bucket, key, upload_id)
    return Change("object", bucket, key)


class PersistBeforeAnswer:
    """The middleware; `app` is moto's WSGI application."""

    def __init__(self, app: WSGIApplication, moto: MotoS3, store: ObjectStore):
        self._app, self._moto, self._store = app, moto, store
        self._key_locks: defaultdict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        change = change_of(environ)
        if change is None:
            return self._app(environ, start_response)
        answer: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answer[:] = [status, headers]
            return lambda _data: None

        result = self._app(environ, hold)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        status, headers = answer
        if status.startswith("2"):
            try:
                self._persist(change)
            except StoreWriteError as error:
                with contextlib.suppress(OSError):  # the answer is a failure either way
                    self._undo(change)
                return self._refuse(change, error, start_response)
        start_response(status, headers)
        return [body]

    # --- bringing the store in line with moto ------------------------------------------------

    def _persist(self, change: Change) -> None:
        if change.kind == "object":
            self._sync_object(change.bucket, change.key)
        elif change.kind == "objects":
            self._sync_bucket_objects(change.bucket)
        elif change.kind == "bucket":
            self._sync_bucket(change.bucket)
        elif change.kind == "versioning":
            self._sync_versioning(change.bucket)
        elif change.kind == "part":
            part = self._moto.part(change.bucket, change.upload_id, change.part_number)
            if part is not None:
                self._store.store_part(change.upload_id, change.part_number, *part)
        elif change.kind == "complete":
            with self._lock_for(change.bucket, change.key):
                try:
                    versions = self._moto.versions(change.bucket, change.key)
                    meta = versions[-1] if versions else None  # the upload's object: the newest version
                    if meta is not None and not self._store.complete_upload(change.upload_id, change.bucket, meta):
                        self._write_version(change.bucket, meta)
                finally:
                    self._store.discard_upload(change.upload_id)  # moto has forgotten the upload either way
            self._sync_object(change.bucket, change.key)  # the versions it replaced, in a bucket not versioned
        elif change.kind == "abort":
            self._store.discard_upload(change.upload_id)
        else:
            for bucket in self._store.bucket_names() | self._moto.bucket_names():
                self._sync_bucket(bucket)
                self._sync_versioning(bucket)
                self._sync_bucket_objects(bucket)

    def _sync_bucket(self, bucket: str) -> None:
        region = self._moto.bucket_region(bucket)
        if region is not None and not self._store.has_bucket(bucket):
            self._store.create_bucket(bucket, region, self._moto.bucket_created(bucket))
        elif region is None and self._store.has_bucket(bucket):
            self._store.delete_bucket(bucket)

    def _sync_versioning(self, bucket: str) -> None:
        status = self._moto.versioning(bucket)
        if self._store.has_bucket(bucket) and self._store.bucket(bucket).versioning != status:
            self._store.set_versioning(bucket, status)

    def _sync_bucket_objects(self, bucket: str) -> None:
        for key in self._store.keys(bucket) | self._moto.key_names(bucket):
            self._sync_object(bucket, key)

    def _sync_object(self, bucket: str, key: str) -> None:
        """Make the store's versions of `key` moto's: the ones gone deleted, the new or changed ones written."""
        with self._lock_for(bucket, key):
            current = self._moto.versions(bucket, key)
            wanted = {meta.version_id for meta in current}
            for stored in self._store.versions(bucket, key):
                if stored.version_id not in wanted:
                    self._store.delete(bucket, key, stored.version_id)
            stored_by_id = {meta.version_id: meta for meta in self._store.versions(bucket, key)}
            for meta in current:
                if stored_by_id.get(meta.version_id) != meta:
                    self._write_version(bucket, meta)

    def _write_version(self, bucket: str, meta: ObjectMeta) -> None:
        value = b"" if meta.delete_marker else self._moto.version_value(bucket, meta.key, meta.version_id)
        self._store.write(bucket, meta, [value])

    # --- when the store cannot be written ----------------------------------------------------

    def _undo(self, change: Change) -> None:
        """Put moto back the way the store has it, for what the failed request touched."""
        if change.kind in ("object", "complete"):
            self._restore_object(change.bucket, change.key)
        elif change.kind == "objects":
            for key in self._store.keys(change.bucket) | self._moto.key_names(change.bucket):
                self._restore_object(change.bucket, key)
        elif change.kind == "versioning":
            if self._store.has_bucket(change.bucket):
                self._moto.set_versioning(change.bucket, self._store.bucket(change.bucket).versioning)
        elif change.kind == "bucket":
            if self._store.has_bucket(change.bucket) and self._moto.bucket_region(change.bucket) is None:
                stored = self._store.bucket(change.bucket)
                self._moto.create_bucket(change.bucket, stored.region, stored.created)
            elif not self._store.has_bucket(change.bucket):
                self._moto.delete_bucket(change.bucket)

    def _restore_object(self, bucket: str, key: str) -> None:
        with self._lock_for(bucket, key):
            stored = self._store.versions(bucket, key)
            if list(stored) != self._moto.versions(bucket, key):
                self._moto.set_versions(bucket, key, [(meta, self._store.read(bucket, meta)) for meta in stored])

    def _refuse(self, change: Change, error: StoreWriteError, start_response: StartResponse) -> list[bytes]:
        root = self._store.root
        if is_disk_full_error(error.os_error):
            code = "InsufficientStorage"
            message = (
                f"the embedded S3 store {root} is full ({error.os_error.strerror}; "
                f"{describe_free_space(root)}): {change.resource} was not stored; "
                "free space on that disk, then run again"
            )
        else:
            code = "InternalError"
            message = (
                f"the embedded S3 store {root} could not be written ({error.os_error.strerror}: "
                f"{error.path}): {change.resource} was not stored; fix that folder, then run again"
            )
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{escape(message)}</Message><Resource>{escape(change.resource)}</Resource>"
            "</Error>"
        ).encode()
        # 507, not 500: botocore retries 500s, and a retried completion would find its upload gone.
        start_response(
            "507 Insufficient Storage", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
        )
        return [body]

    def _lock_for(self, bucket: str, key: str) -> threading.Lock:
        with self._locks_lock:
            return self._key_locks[(bucket, key)]
