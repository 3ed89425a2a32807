"""Disk full is called disk full: a warehouse or S3 out of space, named with its path or endpoint.

Postgres reports a full disk as SQLSTATE 53100 (`could not extend file "base/...": No space left
on device`); psycopg2 files that under OperationalError, which would otherwise read as a lost
connection. S3-compatible servers answer 507 Insufficient Storage, a storage-full code, or an
error whose message says the device is full.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg2
import psycopg2.errors
from botocore.exceptions import ClientError

from etl_core.errors import DiskFull
from etl_core.secrets import redact

if TYPE_CHECKING:
    from etl_core.services import Services

NO_SPACE = "No space left on device"
S3_FULL_CODES = ("InsufficientStorage", "XMinioStorageFull", "StorageFull")


def warehouse_disk_full(exc: BaseException, services: Services) -> DiskFull | None:
    """A DiskFull naming the warehouse (and the embedded data folder) when `exc` is a full disk, else None."""
    if not isinstance(exc, psycopg2.Error):
        return None
    message = redact((exc.diag.message_primary or str(exc)).strip())
    if not (isinstance(exc, psycopg2.errors.DiskFull) or NO_SPACE in message):
        return None
    where = services.warehouse_label
    if services.config.warehouse.embedded:
        where += f" (data in {services.config.console.state_dir / 'pg'})"
    return DiskFull(
        f"the warehouse {where} is out of disk space: {message}; the stage's transaction was rolled "
        "back and the previous data is intact. Free space on the warehouse's disk, then resume"
    )


def s3_disk_full(exc: BaseException, endpoint_label: str, uri: str) -> DiskFull | None:
    """A DiskFull naming the S3 endpoint and the object when `exc` says S3 is out of space, else None."""
    if not isinstance(exc, ClientError):
        return None
    error: Any = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    message = str(error.get("Message", ""))
    if not (status == 507 or error.get("Code") in S3_FULL_CODES or NO_SPACE in message):
        return None
    detail = f": {redact(message)}" if message else ""
    return DiskFull(
        f"S3 endpoint {endpoint_label} is out of space and could not store {uri} "
        f"({error.get('Code') or status}{detail}); no partial object was left. Free space on the "
        "S3 server's disk, then resume"
    )
