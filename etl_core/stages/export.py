"""Export: each analytics table, `COPY (...) TO STDOUT` streamed to S3 (multipart beyond 8 MB).

The object appears at its key only when the upload completes; any failure aborts the upload.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
from botocore.exceptions import BotoCoreError, ClientError
from psycopg2 import sql

from etl_core.checks import ANALYTICS_CHECKS, ANALYTICS_TABLES, blocking_failures, run_checks
from etl_core.config import Config
from etl_core.errors import Cancelled, StageError
from etl_core.s3 import MultipartWriter, abort_stale_uploads
from etl_core.sql_files import safe_identifier
from etl_core.stages.context import StageContext, StageOutput
from etl_core.warehouse import transaction


@dataclass(frozen=True)
class ExportTarget:
    table: str
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def export_targets(config: Config) -> list[ExportTarget]:
    return [ExportTarget(t, config.export.bucket, f"{config.export.prefix}{t}.csv") for t in ANALYTICS_TABLES]


def export_query(cur: Any, schema: str, table: str) -> sql.Composed:
    """SELECT of the whole table in column order, booleans as true/false, ordered by ingestion_date."""
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        (schema, table),
    )
    columns = cur.fetchall()
    if not columns:
        raise StageError(f"table {schema}.{table} does not exist; run the prepare and analytics stages first")
    select: list[sql.Composable] = []
    for name, data_type in columns:
        ident = safe_identifier(name)
        if data_type == "boolean":
            select.append(sql.SQL("CASE {0} WHEN true THEN 'true' WHEN false THEN 'false' END AS {0}").format(ident))
        else:
            select.append(ident)
    return sql.SQL("SELECT {} FROM {}.{} ORDER BY ingestion_date").format(
        sql.SQL(", ").join(select), safe_identifier(schema), safe_identifier(table))


def run_export(ctx: StageContext) -> StageOutput:
    config, client = ctx.config, ctx.services.s3()
    output = StageOutput()
    targets = export_targets(config)
    try:
        stale = abort_stale_uploads(client, config.export.bucket, config.export.prefix)
    except ClientError as exc:
        raise _s3_write_error(exc, f"s3://{config.export.bucket}/{config.export.prefix}") from None
    for key in stale:
        ctx.warn(f"aborted an incomplete upload of {key} left by an earlier run")
    conn = ctx.services.connect(purpose="export")
    remove_cancel = ctx.cancel.on_cancel(conn.cancel)
    try:
        with transaction(conn) as cur:
            # One snapshot for the checks and all three exports: what was checked is what is written.
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            output.checks = run_checks(cur, config, ANALYTICS_CHECKS)
            if blocking := blocking_failures(output.checks):
                raise StageError(f"export refused, analytics checks failed: {blocking}; run the analytics stage first")
            for done, target in enumerate(targets):
                ctx.cancel.raise_if_cancelled()
                ctx.progress(done, len(targets), "tables", target.table, force=True)
                rows, size = export_table(ctx, cur, target)
                output.rows += rows
                output.details[target.table] = {"uri": target.uri, "key": target.key, "rows": rows, "bytes": size}
                ctx.log(f"exported {config.analytics_schema}.{target.table} ({rows} rows, {size:,} bytes) "
                        f"to {target.uri}")
            ctx.progress(len(targets), len(targets), "tables", "done", force=True)
    finally:
        remove_cancel()
        conn.close()
    return output


def export_table(ctx: StageContext, cur: Any, target: ExportTarget) -> tuple[int, int]:
    query = export_query(cur, ctx.config.analytics_schema, target.table)
    copy = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER true)").format(query).as_string(cur)
    writer = MultipartWriter(ctx.services.s3(), target.bucket, target.key,
                             on_part=lambda _done: ctx.cancel.raise_if_cancelled())
    try:
        # psycopg2 writes once per row: a 1 MB buffer in front keeps that cost out of the hot path.
        buffered = io.BufferedWriter(_RawSink(writer), buffer_size=1024 * 1024)
        cur.copy_expert(copy, buffered)
        buffered.flush()
        writer.complete()
    except BaseException as exc:
        writer.abort()
        if isinstance(exc, psycopg2.errors.QueryCanceled) or ctx.cancel.cancelled:
            raise Cancelled("cancelled by the operator") from None
        if isinstance(exc, (ClientError, BotoCoreError)):
            raise _s3_write_error(exc, target.uri) from None
        if isinstance(exc, psycopg2.Error) and (cur.connection.closed or "no message from the libpq" in str(exc)):
            raise StageError(f"the warehouse connection was lost while exporting {target.table} to {target.uri}; "
                             "the upload was aborted, so no partial object is at the key and the analytics tables "
                             "are unchanged; run the export stage again when the warehouse is back") from None
        raise
    return cur.rowcount, writer.bytes_written


class _RawSink(io.RawIOBase):
    """Adapts MultipartWriter to io.BufferedWriter."""

    def __init__(self, writer: MultipartWriter):
        self._writer = writer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self._writer.write(data)


def _s3_write_error(exc: Exception, where: str) -> StageError:
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else exc.__class__.__name__
    hint = {"NoSuchBucket": "the export bucket does not exist; create it or set [export] bucket",
            "AccessDenied": "the credentials may not write there; check the bucket policy or [export] bucket",
            }.get(code, "check S3 and retry the export stage")
    return StageError(f"could not write {where} ({code}): {hint}. No partial object was left at the key; "
                      "the analytics tables are unchanged")
