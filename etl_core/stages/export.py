"""Export: each analytics table, `COPY (...) TO STDOUT` streamed to S3 (multipart beyond 8 MB).

The object appears at its key only when the upload completes; any failure aborts the upload.
With `[warehouse] transfer = "aws_s3"` the warehouse writes the same bytes to the same key itself
(`aws_s3.query_export_to_s3`, see etl_core/stages/server_export.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import psycopg2
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from psycopg2 import sql

from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.checks import ANALYTICS_CHECKS, blocking_failures, run_checks
from etl_core.config import Config
from etl_core.copy_format import CSV_EXPORT_OPTIONS
from etl_core.disk_full import s3_disk_full
from etl_core.errors import Cancelled, SessionEnded, StageError, Stalled
from etl_core.events import CancelToken
from etl_core.export_diff import TableChanges, diff_csv, read_current
from etl_core.s3 import MultipartWriter, connection_problem
from etl_core.services import Services
from etl_core.sql_files import safe_identifier
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.export_target import ExportTarget
from etl_core.stages.server_export import export_on_server
from etl_core.stages.upload_sweep import sweep_incomplete_uploads
from etl_core.warehouse import row_count, transaction


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
        sql.SQL(", ").join(select), safe_identifier(schema), safe_identifier(table)
    )


def run_export(ctx: StageContext) -> StageOutput:
    config = ctx.config
    output = StageOutput()
    targets = export_targets(config)
    sweep_incomplete_uploads(ctx, targets)
    conn = ctx.services.connect(purpose="export", cancel=ctx.cancel, activity="checking the analytics tables")
    try:
        with transaction(conn) as cur:
            # One snapshot for the checks and all three exports: what was checked is what is written.
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            output.checks = run_checks(cur, config, ANALYTICS_CHECKS)
            if blocking := blocking_failures(output.checks):
                raise StageError(f"export refused, analytics checks failed: {blocking}; run the analytics stage first")
            by = " (the warehouse writes it itself: aws_s3.query_export_to_s3)" if config.warehouse.server_side else ""
            for done, target in enumerate(targets):
                ctx.cancel.raise_if_cancelled()
                ctx.progress(done, len(targets), "tables", target.table, force=True)
                conn.activity = f"exporting {config.analytics_schema}.{target.table} to {target.uri}{by}"
                try:
                    changes = table_changes(ctx.services, cur, target, ctx.cancel)
                except psycopg2.Error as exc:
                    if lost := _connection_lost(exc, cur, target, "nothing was written to it"):
                        raise lost from None
                    raise
                for line in changes.lines():
                    ctx.log(f"export changes {line}")
                if config.warehouse.server_side:
                    query = export_query(cur, config.analytics_schema, target.table)
                    rows, size = export_on_server(ctx, cur, query, target)
                else:
                    rows, size = export_table(ctx, cur, target)
                output.rows += rows
                output.details[target.table] = {
                    "uri": target.uri,
                    "key": target.key,
                    "rows": rows,
                    "bytes": size,
                    "changes": changes.as_json(),
                }
                ctx.log(
                    f"exported {config.analytics_schema}.{target.table} ({rows} rows, {size:,} bytes) "
                    f"to {target.uri}{by}"
                )
            ctx.progress(len(targets), len(targets), "tables", "done", force=True)
    finally:
        conn.close()
    return output


MAX_DIFF_ROWS = 100_000  # the most rows the export compares, in memory, with the object at its key


def table_changes(
    services: Services, cur: Any, target: ExportTarget, cancel: CancelToken, rows: int | None = None
) -> TableChanges:
    """What exporting `target` now would change at its key (read in `cur`'s snapshot: what is written);
    `rows`: the table's row count, when the caller counted it in the same snapshot."""
    schema = services.config.analytics_schema
    if rows is None:
        rows = row_count(cur, schema, target.table)
    if rows > MAX_DIFF_ROWS:  # one row per ingestion date: more is not a table we diff in memory
        return TableChanges(target.table, target.key, existed=True, unknown=f"{rows:,} rows, over {MAX_DIFF_ROWS:,}")
    query = export_query(cur, schema, target.table)
    copy = sql.SQL(f"COPY ({{}}) TO STDOUT WITH ({CSV_EXPORT_OPTIONS})").format(query).as_string(cur)
    new = io.BytesIO()
    cur.copy_expert(copy, new)
    old, unknown = read_current(services.s3(), target.bucket, target.key, cancel)
    if unknown:
        return TableChanges(target.table, target.key, existed=True, unknown=unknown)
    return diff_csv(target.table, target.key, old, new.getvalue().decode("utf-8"))


def preview_changes(services: Services, cancel: CancelToken | None = None) -> list[TableChanges]:
    """What an export now would change, table by table (the export preview shows it before `y`)."""
    cancel = cancel or CancelToken()
    with services.transaction("export preview", cancel) as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return [table_changes(services, cur, target, cancel) for target in export_targets(services.config)]


def export_table(ctx: StageContext, cur: Any, target: ExportTarget) -> tuple[int, int]:
    """Stream the table's CSV through the console into a multipart upload; (rows, bytes)."""
    query = export_query(cur, ctx.config.analytics_schema, target.table)
    copy = sql.SQL(f"COPY ({{}}) TO STDOUT WITH ({CSV_EXPORT_OPTIONS})").format(query).as_string(cur)
    writer = MultipartWriter(ctx.services.s3(), target.bucket, target.key, cancel=ctx.cancel)
    try:
        # psycopg2 writes once per row: a 1 MB buffer in front keeps that cost out of the hot path.
        buffered = io.BufferedWriter(_RawSink(writer, cur.connection.away), buffer_size=1024 * 1024)
        cur.copy_expert(copy, buffered)
        buffered.flush()
        writer.complete()
    except BaseException as exc:
        writer.abort()
        if ctx.cancel.cancelled:
            raise Cancelled("cancelled by the operator") from None
        if isinstance(exc, (ClientError, BotoCoreError)):
            raise _s3_write_error(exc, ctx.services.s3_label, target.uri, ctx.config.timeouts.s3_read_s) from None
        if isinstance(exc, SessionEnded):
            raise SessionEnded(
                f"{exc}; the upload was aborted, so no partial object is at the key and the analytics tables "
                "are unchanged"
            ) from None
        if isinstance(exc, psycopg2.Error) and (
            lost := _connection_lost(exc, cur, target, "the upload was aborted, so no partial object is at the key")
        ):
            raise lost from None
        raise
    return cur.rowcount, writer.bytes_written


def _connection_lost(exc: psycopg2.Error, cur: Any, target: ExportTarget, written: str) -> StageError | None:
    """The stage's error when `exc` means the warehouse connection is gone (a session ended keeps its own words)."""
    if isinstance(exc, SessionEnded) or not (cur.connection.closed or "no message from the libpq" in str(exc)):
        return None
    return StageError(
        f"the warehouse connection was lost while exporting {target.table} to {target.uri}; {written} and the "
        "analytics tables are unchanged; run the export stage again when the warehouse is back"
    )


class _RawSink(io.RawIOBase):
    """Adapts MultipartWriter to io.BufferedWriter; time spent on S3 is not the warehouse's (`away`)."""

    def __init__(self, writer: MultipartWriter, away: Callable[[], AbstractContextManager[Any]]):
        self._writer, self._away = writer, away

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with self._away():
            return self._writer.write(data)


def _s3_write_error(exc: Exception, endpoint_label: str, where: str, read_timeout_s: float) -> StageError:
    if full := s3_disk_full(exc, endpoint_label, where):
        return full
    if problem := connection_problem(exc, endpoint_label):
        return StageError(
            f"{problem} while writing {where}; no partial object was left at the key; the analytics tables "
            "are unchanged. Check S3, then resume"
        )
    if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
        return Stalled(
            f"no answer from S3 endpoint {endpoint_label} for {read_timeout_s:g}s while writing {where}; "
            "no partial object was left at the key; the analytics tables are unchanged. Check S3 and "
            "the network, then resume"
        )
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else exc.__class__.__name__
    hint = {
        "NoSuchBucket": "the export bucket does not exist; create it or set [export] bucket",
        "AccessDenied": "the credentials may not write there; check the bucket policy or [export] bucket",
    }.get(code, "check S3 and retry the export stage")
    return StageError(
        f"could not write {where} ({code}): {hint}. No partial object was left at the key; "
        "the analytics tables are unchanged"
    )
