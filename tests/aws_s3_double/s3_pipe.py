"""The S3 side of the aws_s3 TEST DOUBLE (a test double of a managed-service extension; tests only).

The double's SQL functions run a real server-side COPY against a FIFO; this program, started by
them in a process of its own, moves the bytes between that FIFO and the S3 test server:

    s3_pipe.py get FIFO STATUS   S3 object  -> FIFO  (aws_s3.table_import_from_s3)
    s3_pipe.py put FIFO STATUS   FIFO       -> S3 object(s)  (aws_s3.query_export_to_s3)

The object, endpoint and limits come as D2B_DOUBLE_* environment variables, credentials as the
usual AWS_* ones. It prints "ready" on stdout just before opening the FIFO (so the database never
waits on a helper that failed to start), and writes a JSON status file before it exits:
{"ok": true, "bytes": n, "files": n} or {"ok": false, "error": "..."}; the exit code says why
it stopped: 0 done, 2 failed (S3), 3 the database stopped reading, 130 cancelled (SIGINT).

It runs in the backend's process group, so pg_cancel_backend's SIGINT reaches it too: it then
stops (aborting any multipart upload), which ends the COPY at once even while S3 is stalled.
It is run by Debian's python3 (python3-boto3), so it keeps to the standard library and botocore.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import zlib
from typing import Any

READ_BYTES = 1024 * 1024
PART_BYTES = 8 * 1024 * 1024  # multipart part size of the export (S3's minimum is 5 MB)
WAIT_FOR_DATABASE_S = 600  # then the statement that started this helper is surely gone


def main(argv: list[str]) -> int:
    direction, fifo, status_path = argv[1:4]
    env = os.environ
    bucket, key = env["D2B_DOUBLE_BUCKET"], env["D2B_DOUBLE_KEY"]
    status: dict[str, Any] = {"ok": False, "error": "the helper stopped early"}
    try:
        signal.signal(signal.SIGALRM, _no_database)
        signal.alarm(WAIT_FOR_DATABASE_S)  # in case the COPY never opens the FIFO
        print("ready", flush=True)
        with open(fifo, "wb" if direction == "get" else "rb", buffering=0) as pipe:
            signal.alarm(0)
            client = _client(env)
            if direction == "get":
                status = _get(client, bucket, key, pipe)
            else:
                commit = os.path.join(os.path.dirname(fifo), "commit")
                status = _put(client, bucket, key, pipe, int(env["D2B_DOUBLE_MAX_FILE_BYTES"]), commit)
        return 0
    except KeyboardInterrupt:
        status = {"ok": False, "error": "cancelled"}
        return 130
    except BrokenPipeError:
        status = {"ok": False, "error": "the database stopped reading (its COPY failed)"}
        return 3
    except Exception as exc:  # noqa: BLE001 - every failure becomes the status the database reports
        status = {"ok": False, "error": _describe(exc, bucket, key, direction)}
        return 2
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a late SIGINT must not cut the status file short
        _write_status(status_path, status)  # the database reads it once this process has exited


def _no_database(_signum: int, _frame: Any) -> None:
    raise TimeoutError("the database did not open the FIFO in time")


def _client(env: os._Environ[str]) -> Any:
    # botocore's own client (what boto3.client returns) without boto3 and s3transfer: 0.1 CPU-s less a call.
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=10,
        read_timeout=int(env.get("D2B_DOUBLE_READ_TIMEOUT_S", "60")),
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
    )
    return botocore.session.get_session().create_client(
        "s3", endpoint_url=env["D2B_DOUBLE_ENDPOINT"], region_name=env["D2B_DOUBLE_REGION"], config=config
    )


def _get(client: Any, bucket: str, key: str, pipe: Any) -> dict[str, Any]:
    """Stream the object into the FIFO; a gzip object (Content-Encoding: gzip) is decompressed."""
    response = client.get_object(Bucket=bucket, Key=key)
    size, body = int(response["ContentLength"]), response["Body"]
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if response.get("ContentEncoding") == "gzip" else None
    received = 0
    while chunk := body.read(READ_BYTES):
        received += len(chunk)
        pipe.write(inflate.decompress(chunk) if inflate else chunk)
    if inflate:
        pipe.write(inflate.flush())
    if received != size:
        raise OSError(f"the object ended after {received} of {size} bytes")
    return {"ok": True, "bytes": size, "files": 1}


def _put(client: Any, bucket: str, key: str, pipe: Any, max_file_bytes: int, commit: str) -> dict[str, Any]:
    """Upload what the COPY writes: files of at most about max_file_bytes, split between lines,
    named key, key_part2, key_part3, ... (the documented naming of large exports).

    The end of the FIFO also comes when the COPY fails, so the last object is completed only once
    the database has created the `commit` file (after its COPY succeeded); SIGINT aborts it."""
    files, total = 0, 0
    writer = _ObjectWriter(client, bucket, key)
    try:
        while chunk := pipe.read(READ_BYTES):
            total += len(chunk)
            while len(chunk) > max_file_bytes - writer.size:
                room = max(0, max_file_bytes - writer.size)
                cut = chunk.rfind(b"\n", 0, room) + 1 or chunk.find(b"\n") + 1 or len(chunk)
                writer.write(chunk[:cut])
                chunk = chunk[cut:]
                if not chunk:
                    break
                writer.complete()
                files += 1
                writer = _ObjectWriter(client, bucket, f"{key}_part{files + 1}")
            writer.write(chunk)
        _wait_for(commit)
        writer.complete()
    except BaseException:
        writer.abort()
        raise
    return {"ok": True, "bytes": total, "files": files + 1}


def _wait_for(path: str) -> None:
    deadline = time.monotonic() + WAIT_FOR_DATABASE_S
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the database never confirmed the export")
        time.sleep(0.01)


class _ObjectWriter:
    """One object: a single PUT up to PART_BYTES, else a multipart upload aborted on failure."""

    def __init__(self, client: Any, bucket: str, key: str):
        self.client, self.bucket, self.key = client, bucket, key
        self.size = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= PART_BYTES:
            self._upload_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def complete(self) -> None:
        if self._upload_id is None:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer))
            return
        if self._buffer or not self._parts:
            self._upload_part(bytes(self._buffer))
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        if self._upload_id is not None:
            with contextlib.suppress(Exception):  # the original failure is the one to report
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)

    def _upload_part(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key)["UploadId"]
        number = len(self._parts) + 1
        etag = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=data
        )["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})


def _describe(exc: Exception, bucket: str, key: str, direction: str) -> str:
    action = "read" if direction == "get" else "write"
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return (
            f"could not {action} s3://{bucket}/{key}: HTTP {status} {error.get('Code', '')} "
            f"{error.get('Message', '')}".strip()
        )
    return f"could not {action} s3://{bucket}/{key}: {exc.__class__.__name__}: {exc}"


def _write_status(path: str, status: dict[str, Any]) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(status, handle)
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
