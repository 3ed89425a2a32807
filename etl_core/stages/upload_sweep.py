"""Housekeeping before an export: abort incomplete uploads of the exact keys it is about to write.

Only those keys: an upload of any other key, even under the same prefix, may be another
operator's live export. And it is housekeeping: S3 refusing it (501 NotImplemented from a server
without ListMultipartUploads, 403 from a policy without the permission) or failing at it is a
warning, never a failed export.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from etl_core.background import call_interruptibly
from etl_core.stages.context import StageContext
from etl_core.stages.export_target import ExportTarget


def abort_incomplete_uploads(client: Any, bucket: str, key: str) -> int:
    """Abort the incomplete multipart uploads of exactly `key`; returns how many there were."""
    aborted = 0
    response = client.list_multipart_uploads(Bucket=bucket, Prefix=key)
    for upload in response.get("Uploads", []):
        if upload["Key"] == key:  # the prefix also matches longer keys: never touch those
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
            aborted += 1
    return aborted


def sweep_incomplete_uploads(ctx: StageContext, targets: Sequence[ExportTarget]) -> None:
    client = ctx.services.s3()
    for target in targets:
        try:
            aborted = call_interruptibly(
                ctx.cancel, partial(abort_incomplete_uploads, client, target.bucket, target.key), "s3-sweep"
            )
        except (ClientError, BotoCoreError) as exc:
            ctx.warn(
                f"could not clean up incomplete uploads of {target.uri} ({_reason(exc)}); this is only "
                "housekeeping: the export goes on"
            )
            return  # the same refusal would come for every key
        if aborted:
            ctx.warn(f"aborted {aborted} incomplete upload(s) of {target.uri} left by an earlier run")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"S3 answered {status} {error.get('Code', '')}".rstrip()
    return exc.__class__.__name__
