"""Archive on load: each source object is copied under `[source] archive_prefix` before it is loaded.

The copy is server-side (CopyObject, the bytes never pass through the console) and carries the
source's ETag and version as metadata; an archived object is never overwritten by a different one,
so a day can be replayed later from an unversioned bucket (`archive_prefix` holding `{date}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from etl_core.background import call_interruptibly
from etl_core.errors import StageError
from etl_core.s3 import object_info
from etl_core.stages.context import StageContext
from etl_core.stages.staging.inputs import SourceInput, dated_prefix

SOURCE_ETAG, SOURCE_VERSION = "d2b-source-etag", "d2b-source-version"


def archive_inputs(ctx: StageContext, inputs: Sequence[SourceInput]) -> None:
    template = ctx.config.source.archive_prefix
    if not template:
        return
    folder = dated_prefix(template, ctx.config.pipeline.ingestion_date)
    for found in inputs:
        destination = folder + found.key.rsplit("/", 1)[-1]
        copied = call_interruptibly(
            ctx.cancel, partial(_archive, ctx.services.s3(), ctx.config.source.bucket, found, destination)
        )
        ctx.log(f"{'archived' if copied else 'already archived'}: s3://{ctx.config.source.bucket}/{destination}")


def _archive(client: Any, bucket: str, found: SourceInput, destination: str) -> bool:
    """Copy `found` to `destination`; False when that exact object is already there. StageError when a
    different object is (it is never overwritten)."""
    where = f"s3://{bucket}/{destination}"
    try:
        existing = object_info(client, bucket, destination)
        if existing is not None:
            if existing.get("Metadata", {}).get(SOURCE_ETAG) == found.etag:
                return False
            raise StageError(
                f"{where} already holds a different object than {found.key} (ETag {found.etag}); an archived "
                "object is never overwritten: move it away, or change [source] archive_prefix; nothing was loaded"
            )
        source: dict[str, str] = {"Bucket": bucket, "Key": found.key}
        if found.version_id:
            source["VersionId"] = found.version_id
        client.copy_object(
            Bucket=bucket,
            Key=destination,
            CopySource=source,
            MetadataDirective="REPLACE",
            Metadata={SOURCE_ETAG: found.etag, SOURCE_VERSION: found.version_id or ""},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise StageError(
            f"{found.key} could not be archived to {where} ({code}); check the bucket policy or [source] "
            "archive_prefix; nothing was loaded"
        ) from None
    return True
