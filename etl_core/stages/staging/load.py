"""Loading one file: the S3 stream into `COPY ... FROM STDIN`, into a fresh table swapped in for the live one.

The transaction is left open for the caller to commit with the other files; a transient S3
error restarts the file's load with backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg2
import psycopg2.errors
from botocore.exceptions import BotoCoreError, ClientError
from psycopg2 import sql
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from etl_core.errors import Cancelled, StageError
from etl_core.events import CancelToken
from etl_core.sql_files import safe_identifier
from etl_core.stages.all_or_nothing import OpenTransaction, open_transaction
from etl_core.stages.context import StageContext
from etl_core.stages.staging.copy_errors import Locate, data_error, row_count_error
from etl_core.stages.staging.csv_stream import READ_SIZE, CsvStreamReader, check_header
from etl_core.stages.staging.date_guard import DateGuard
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.records import Record, find_record
from etl_core.stages.staging.sources import SourceFile
from etl_core.stages.staging.tables import add_key_or_report_duplicate, create_staging_table, replace_live_table

RETRY_DELAYS_S = (1.0, 2.0, 4.0)  # backoff between attempts of one file after a transient S3 error


@dataclass(frozen=True)
class LoadResult:
    table: str
    key: str
    rows: int
    file_rows: int
    bytes: int
    seconds: float


def load_with_retries(ctx: StageContext, source: SourceFile, key: str, size: int, progress: StagingProgress,
                      cancel: CancelToken) -> OpenTransaction[LoadResult]:
    """Load one file (see `load_staging_table`), restarting it after a transient S3 error."""
    ctx = replace(ctx, cancel=cancel)
    for attempt, delay in enumerate((*RETRY_DELAYS_S, None), start=1):
        try:
            return load_staging_table(ctx, source, key, size, progress)
        except (BotoCoreError, ClientError, Urllib3HTTPError, ConnectionError) as exc:
            if isinstance(exc, ClientError) and not _is_transient(exc):
                raise StageError(f"s3://{ctx.config.source.bucket}/{key} could not be read: {exc}") from None
            if delay is None:
                raise StageError(
                    f"s3://{ctx.config.source.bucket}/{key} could not be read after {attempt} attempts "
                    f"({exc.__class__.__name__}: {exc}); {source.table} and the other staging tables keep their "
                    "previous rows; check S3 and retry"
                ) from None
            ctx.warn(f"{key}: transient S3 error ({exc.__class__.__name__}: {exc}); "
                     f"nothing was loaded, retrying in {delay:g}s (attempt {attempt + 1} of {len(RETRY_DELAYS_S) + 1})")
            _sleep_unless_cancelled(ctx.cancel, delay)
    raise AssertionError("unreachable")


def _is_transient(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or exc.response.get("Error", {}).get("Code") in ("SlowDown", "RequestTimeout")


def _sleep_unless_cancelled(cancel: CancelToken, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cancel.raise_if_cancelled()
        time.sleep(min(0.1, deadline - time.monotonic()))
    cancel.raise_if_cancelled()


def load_staging_table(ctx: StageContext, source: SourceFile, key: str, size: int,
                       progress: StagingProgress) -> OpenTransaction[LoadResult]:
    """Load one object into a fresh table swapped in for `{staging}.{table}`, in a transaction left open.

    The caller commits it (or rolls it back); a bad value raises DataError naming line and column.
    """
    started = time.monotonic()
    schema = ctx.config.staging_schema
    loading = f"{source.table}__load"
    body = ctx.services.s3().get_object(Bucket=ctx.config.source.bucket, Key=key)["Body"]
    reader = CsvStreamReader(body, key, size, ctx.cancel,
                             on_progress=lambda done: progress.update(source.table, done))
    try:
        file_columns = check_header(reader.read_header(), source, key)
        reader.guard = DateGuard(key, source.table, file_columns, dict(source.dates))
        with open_transaction(ctx.services, "staging", ctx.cancel) as (conn, cur):
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(safe_identifier(schema), safe_identifier(loading)))
            create_staging_table(cur, schema, source, loading)
            # FREEZE (allowed: the table was created in this transaction) writes the rows already
            # visible to all, so the checks and analytics that read them next need not set hint
            # bits on every page (checks 0.47 s -> 0.37 s at scale 100).
            copy = sql.SQL("COPY {}.{} ({}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8', FREEZE)").format(
                safe_identifier(schema), safe_identifier(loading),
                sql.SQL(", ").join(safe_identifier(c) for c in file_columns))
            try:
                cur.copy_expert(copy.as_string(cur), reader, size=READ_SIZE)
            except psycopg2.Error as exc:
                if reader.error is not None:  # our read failed (S3, cancel): psycopg2 reports it as a COPY failure
                    raise reader.error from None
                if isinstance(exc, (psycopg2.DataError, psycopg2.IntegrityError)):
                    raise data_error(exc, key, source, file_columns, second_look(ctx, key, reader.data_start)
                                     ) from None
                if isinstance(exc, psycopg2.errors.QueryCanceled):
                    raise Cancelled("cancelled by the operator") from None
                raise
            rows = cur.rowcount
            if rows != reader.data_rows:
                raise row_count_error(key, source, rows, reader.data_rows, second_look(ctx, key, reader.data_start))
            add_key_or_report_duplicate(cur, schema, source, loading, key, file_columns)
            replace_live_table(cur, schema, source.table, loading)
    finally:
        body.close()
    progress.update(source.table, size, finished=True)
    return OpenTransaction(conn, LoadResult(source.table, key, rows, reader.data_rows, reader.bytes_read,
                                            time.monotonic() - started))


def second_look(ctx: StageContext, key: str, data_start: int) -> Locate:
    """Find a record by reading the object again (only when COPY rejected it); None if it cannot be read."""

    def locate(wanted: Callable[[Record, int], bool]) -> Record | None:
        try:
            body = ctx.services.s3().get_object(Bucket=ctx.config.source.bucket, Key=key)["Body"]
        except (BotoCoreError, ClientError):
            return None
        try:
            return find_record(_chunks(body, ctx.cancel), data_start, wanted)
        except (BotoCoreError, ClientError, Urllib3HTTPError, ConnectionError):
            return None
        finally:
            body.close()

    return locate


def _chunks(body: Any, cancel: CancelToken) -> Iterator[bytes]:
    while chunk := body.read(READ_SIZE):
        cancel.raise_if_cancelled()
        yield chunk
