"""Export in the aws_s3 transfer mode: the warehouse writes each table's CSV to S3 itself.

`aws_s3.query_export_to_s3` runs the same query with the same COPY options as client mode, so the
object at the key is byte for byte what client mode writes. The function splits outputs beyond
about 6 GB into `<key>_part2`, `<key>_part3`, ...: a layout client mode never produces, so such an
export fails, naming the parts, and the parts are deleted (they are our exact keys).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from psycopg2 import sql

from etl_core import transfer_aws_s3
from etl_core.background import call_interruptibly
from etl_core.errors import StageError
from etl_core.stages.context import StageContext
from etl_core.stages.export_target import ExportTarget


def export_on_server(ctx: StageContext, cur: Any, query: sql.Composed, target: ExportTarget) -> tuple[int, int]:
    """Have the warehouse write the query's result to `target` (aws_s3.query_export_to_s3); (rows, bytes)."""
    report = transfer_aws_s3.export_query(cur, query, target.bucket, target.key, ctx.config.source.region)
    if report.files > 1:
        raise _split_export(ctx, target, report.object_keys(target.key))
    return report.rows, report.bytes


def _split_export(ctx: StageContext, target: ExportTarget, keys: list[str]) -> StageError:
    client = ctx.services.s3()
    try:
        for key in keys:
            call_interruptibly(
                ctx.cancel, partial(client.delete_object, Bucket=target.bucket, Key=key), "s3-delete-part"
            )
        outcome = "they were deleted"
    except (BotoCoreError, ClientError) as exc:
        outcome = f"they could not all be deleted ({exc.__class__.__name__}: {exc}): delete them by hand"
    names = ", ".join(f"s3://{target.bucket}/{key}" for key in keys)
    return StageError(
        f"the warehouse split the export of {target.table} into {len(keys)} files ({names}), a "
        f"layout client mode never writes (one object per table at {target.uri}); {outcome}. The "
        'analytics tables are unchanged. Export this table with [warehouse] transfer = "client"'
    )
