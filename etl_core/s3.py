"""S3 access: client creation (AWS, anonymous or any endpoint), listing, ranged reads, multipart writes."""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config as BotoConfig
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.loaders import Loader, create_loader

from etl_core.background import BackgroundCall
from etl_core.config import TimeoutSettings
from etl_core.errors import ServiceUnavailable, StageError
from etl_core.events import CancelToken

if TYPE_CHECKING:
    from botocore.config import _S3Dict

DEFAULT_TIMEOUTS = TimeoutSettings()
PART_SIZE = 8 * 1024 * 1024  # multipart part size: above S3's 5 MB minimum, small enough to keep memory flat


def make_s3_client(
    region: str,
    endpoint_url: str | None,
    *,
    anonymous: bool = False,
    access_key: str | None = None,
    secret_key: str | None = None,
    timeouts: TimeoutSettings = DEFAULT_TIMEOUTS,
) -> Any:
    """A boto3 S3 client; anonymous clients send unsigned requests and never consult local credentials.

    Every request is bounded: `connect_s` to connect, `s3_read_s` without a byte (also while
    streaming a body), `s3_attempts` tries in all on a transient error.
    """
    s3_options: _S3Dict = {"addressing_style": "path"} if endpoint_url else {}
    if is_loopback(endpoint_url):
        # Over http botocore SHA-256s every payload byte to sign it; on the loopback interface
        # nothing can alter the bytes (and the CRC32 checksums stay), so skip that CPU.
        s3_options["payload_signing_enabled"] = False
    config = BotoConfig(
        region_name=region,
        connect_timeout=timeouts.connect_s,
        read_timeout=timeouts.s3_read_s,
        retries={"total_max_attempts": timeouts.s3_attempts, "mode": "standard"},
        signature_version=UNSIGNED if anonymous else None,
        s3=s3_options,
    )
    # With UNSIGNED, botocore neither signs nor walks the credential chain (a test proves it).
    session = boto3.session.Session(botocore_session=_botocore_session())
    return session.client(
        "s3",
        endpoint_url=endpoint_url or None,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=config,
    )


_loader_made = threading.Lock()
_loader: Loader | None = None


def _botocore_session() -> botocore.session.Session:
    """A session of its own (credentials are looked up afresh), with the process's one data loader: each new
    loader parsed botocore's endpoint and S3 model files again, 0.3 CPU-s a client, most of a small run's."""
    global _loader
    with _loader_made:
        if _loader is None:
            _loader = create_loader()
    session = botocore.session.Session()
    session.register_component("data_loader", _loader)
    return session


def is_loopback(endpoint_url: str | None) -> bool:
    """True for an endpoint on this machine's loopback interface (the embedded S3, a local MinIO)."""
    host = urlsplit(endpoint_url).hostname if endpoint_url else None
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class S3Entry:
    """One row of a bucket listing: a common prefix (is_prefix) or an object."""

    key: str
    is_prefix: bool
    size: int = 0
    last_modified: datetime | None = None

    @property
    def name(self) -> str:
        trimmed = self.key.rstrip("/")
        return trimmed.rsplit("/", 1)[-1] + ("/" if self.is_prefix else "")


def list_level(client: Any, bucket: str, prefix: str = "") -> list[S3Entry]:
    """The prefixes and objects directly under `prefix` (one level, using the '/' delimiter)."""
    entries: list[S3Entry] = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        entries += [S3Entry(p["Prefix"], True) for p in page.get("CommonPrefixes", [])]
        entries += [
            S3Entry(o["Key"], False, o["Size"], o["LastModified"])
            for o in page.get("Contents", [])
            if o["Key"] != prefix
        ]
    return sorted(entries, key=lambda e: (not e.is_prefix, e.key))


def object_info(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """head_object, or None when the object does not exist."""
    try:
        info: dict[str, Any] = client.head_object(Bucket=bucket, Key=key)
        return info
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def read_head(client: Any, bucket: str, key: str, max_bytes: int) -> tuple[bytes, int]:
    """The first `max_bytes` of an object with a ranged GET, and the object's full size."""
    response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
    content_range = response.get("ContentRange") or ""
    total = int(content_range.rsplit("/", 1)[-1]) if "/" in content_range else response["ContentLength"]
    return response["Body"].read(), total


def startup_timeouts(timeouts: TimeoutSettings) -> TimeoutSettings:
    """Tighter bounds for the reachability check at start: a silent or failing S3 is reported within 15 s."""
    return TimeoutSettings(
        connect_s=min(timeouts.connect_s, 4),
        s3_read_s=min(timeouts.s3_read_s, 4),
        s3_attempts=min(timeouts.s3_attempts, 2),
    )


NO_CREDENTIALS_FIX = (
    "run `aws configure`, or set the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or set anonymous = true in [source] for a public bucket"
)


def connection_problem(exc: BaseException, endpoint_label: str) -> str | None:
    """What kept a request from reaching S3, in words (missing credentials, a refused or failed
    connection), or None for any other error."""
    if isinstance(exc, NoCredentialsError):
        return f"no AWS credentials were found to sign requests to S3 endpoint {endpoint_label}: {NO_CREDENTIALS_FIX}"
    if isinstance(exc, PartialCredentialsError):
        return f"the AWS credentials for S3 endpoint {endpoint_label} are incomplete ({exc}): {NO_CREDENTIALS_FIX}"
    if isinstance(exc, EndpointConnectionError):
        reason = str(exc.kwargs.get("error") or exc)
        if "refused" in reason.lower():
            return f"S3 endpoint {endpoint_label} refused the connection"
        return f"S3 endpoint {endpoint_label} could not be reached ({reason.rsplit(': ', 1)[-1]})"
    return None


def check_bucket(client: Any, bucket: str, endpoint_label: str) -> None:
    """Fail fast with exit code 3 when the endpoint is unreachable, silent or failing (5xx), or no
    credentials are found; a missing bucket is a stage problem."""
    try:
        client.head_bucket(Bucket=bucket)
    except (EndpointConnectionError, NoCredentialsError, PartialCredentialsError) as exc:
        problem = connection_problem(exc, endpoint_label)
        if isinstance(exc, EndpointConnectionError):
            problem = (
                f"{problem}; check [source] endpoint_url, that the S3 server is running and your network, then retry"
            )
        raise ServiceUnavailable(str(problem)) from None
    except BotoCoreError as exc:
        timeouts = client.meta.config
        problem = {
            ReadTimeoutError: f"did not answer within {timeouts.read_timeout:g}s",
            ConnectTimeoutError: f"accepted no connection within {timeouts.connect_timeout:g}s",
        }.get(type(exc), f"could not be reached ({exc.__class__.__name__})")
        raise ServiceUnavailable(
            f"S3 endpoint {endpoint_label} {problem}; check [source] endpoint_url and your network, then retry"
        ) from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            named = f" {code}" if code and code != str(status) else ""
            raise ServiceUnavailable(
                f"S3 endpoint {endpoint_label} answered {status}{named} to HeadBucket s3://{bucket}; "
                "the service is failing: retry when it is healthy"
            ) from None
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise StageError(
                f"bucket s3://{bucket} does not exist at {endpoint_label}; check [source] bucket"
            ) from None
        if code in ("403", "AccessDenied"):
            return  # a public bucket may deny HeadBucket to anonymous users yet allow GetObject
        raise


class MultipartWriter:
    """A file-like sink for COPY TO STDOUT: the object appears at its key only when complete.

    Up to one part (8 MB) it is a single PUT; beyond, a multipart upload whose parts upload in a
    background thread while COPY produces the next one (at most one part in flight, so memory
    stays at two parts). Either way nothing is visible at the key until `complete`; `abort`
    throws everything away. Every S3 request runs on a daemon thread and is waited for with
    `cancel`, so a stalled request never blocks a cancel.
    """

    def __init__(
        self, client: Any, bucket: str, key: str, content_type: str = "text/csv", cancel: CancelToken | None = None
    ):
        self.client, self.bucket, self.key = client, bucket, key
        self._content_type = content_type
        self._cancel = cancel or CancelToken()
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._in_flight: BackgroundCall[None] | None = None
        self.upload_id: str | None = None  # set once the object outgrows a single PUT
        self.bytes_written = 0

    def write(self, data: bytes | bytearray | memoryview | str) -> int:
        """Append `data` (copied: a caller may reuse its buffer); returns its length in bytes."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        before = len(self._buffer)
        self._buffer += data
        written = len(self._buffer) - before
        self.bytes_written += written
        if len(self._buffer) >= PART_SIZE:
            self._start_part(self._take_buffer())
        return written

    def _take_buffer(self) -> bytearray:
        """Hand the buffered bytes to an upload without copying them; start a fresh buffer."""
        body, self._buffer = self._buffer, bytearray()
        return body

    def _request(self, name: str, fn: Callable[[], Any]) -> Any:
        return BackgroundCall(fn, f"s3-{name}").result(self._cancel)

    def _start_part(self, body: bytearray) -> None:
        self._wait_for_part()
        self._cancel.raise_if_cancelled()
        if self.upload_id is None:
            self.upload_id = self._request(
                "create-upload",
                lambda: self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType=self._content_type
                ),
            )["UploadId"]
        number = len(self._parts) + 1
        self._in_flight = BackgroundCall(lambda: self._upload_part(number, body), "s3-part")

    def _upload_part(self, number: int, body: bytearray) -> None:
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def _wait_for_part(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            in_flight.result(self._cancel)  # re-raises an upload error here, in the writer's thread

    def complete(self) -> None:
        """Make the object visible at its key, all at once."""
        if self.upload_id is None:
            body = self._take_buffer()
            self._request(
                "put",
                lambda: self.client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=body, ContentType=self._content_type
                ),
            )
            return
        if self._buffer:
            self._start_part(self._take_buffer())
        self._wait_for_part()
        parts = sorted(self._parts, key=lambda p: p["PartNumber"])
        self._request(
            "complete",
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": parts}
            ),
        )

    def abort(self) -> None:
        self._buffer.clear()
        if self.upload_id is None:
            return  # nothing was sent
        upload_id, in_flight = self.upload_id, self._in_flight

        def abort_upload() -> None:
            if in_flight is not None:
                with contextlib.suppress(Exception):  # the upload is thrown away: its part's error no longer matters
                    in_flight.result()
            # The upload may already be gone; the next export also sweeps incomplete uploads of this key.
            with contextlib.suppress(ClientError, BotoCoreError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)

        call = BackgroundCall(abort_upload, "s3-abort")
        if not self._cancel.cancelled:  # after a cancel the abort goes on by itself: the operator waits for nothing
            with contextlib.suppress(Exception):
                call.result()
