"""Loading one file: the S3 stream into `COPY ... FROM STDIN`, into the run's own load table, committed.

Nobody reads a load table, so the load blocks no reader; the publication swaps it in later. A
transient S3 error restarts the file's load with backoff; S3 going silent (a read timeout) ends
it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import psycopg2
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from psycopg2 import sql
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError

from etl_core.background import call_interruptibly
from etl_core.copy_format import CSV_IMPORT_OPTIONS
from etl_core.errors import Cancelled, DataError, StageError, Stalled
from etl_core.events import CancelToken
from etl_core.run_files import reject_report_path
from etl_core.s3 import connection_problem
from etl_core.sql_files import safe_identifier
from etl_core.stages.context import StageContext
from etl_core.stages.staging.copy_errors import Locate, data_error, row_count_error
from etl_core.stages.staging.csv_stream import READ_SIZE, CsvStreamReader, check_header
from etl_core.stages.staging.date_guard import DateGuard
from etl_core.stages.staging.file_check import FileCheck
from etl_core.stages.staging.file_scan import FileScan
from etl_core.stages.staging.inputs import read_version
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.records import Record, find_record
from etl_core.stages.staging.rejection import RejectedFile, write_reject_report
from etl_core.stages.staging.s3_body import ReadAheadBody
from etl_core.stages.staging.sources import SourceFile
from etl_core.stages.staging.tables import add_key_or_report_duplicate, create_load_table
from etl_core.stages.together import job_connection

RETRY_DELAYS_S = (1.0, 2.0, 4.0)  # backoff between attempts of one file after a transient S3 error
S3_TIMEOUTS = (ReadTimeoutError, ConnectTimeoutError, Urllib3TimeoutError)


@dataclass(frozen=True)
class LoadResult:
    table: str
    key: str
    loaded_into: str
    rows: int
    file_rows: int
    bytes: int
    seconds: float


def load_with_retries(
    ctx: StageContext,
    source: SourceFile,
    key: str,
    size: int,
    loading: str,
    progress: StagingProgress,
    cancel: CancelToken,
) -> LoadResult:
    """Load one file into `loading` (see `load_staging_table`), restarting it after a transient S3 error."""
    ctx = replace(ctx, cancel=cancel)
    uri = f"s3://{ctx.config.source.bucket}/{key}"
    for attempt, delay in enumerate((*RETRY_DELAYS_S, None), start=1):
        try:
            return load_staging_table(ctx, source, key, size, loading, progress)
        except (BotoCoreError, ClientError, Urllib3HTTPError, ConnectionError) as exc:
            if ctx.cancel.cancelled:  # a cancel may surface as a broken read: never retried
                raise Cancelled("cancelled by the operator") from None
            if isinstance(exc, S3_TIMEOUTS):
                raise Stalled(
                    f"no answer from S3 endpoint {ctx.services.s3_label} for "
                    f"{ctx.config.timeouts.s3_read_s:g}s while reading {uri} ({exc.__class__.__name__}); "
                    f"nothing was loaded: {source.table} and the other staging tables keep their previous rows; "
                    "check S3 and the network, then resume"
                ) from None
            if isinstance(exc, ClientError) and not _is_transient(exc):
                raise StageError(f"{uri} could not be read: {exc}") from None
            if delay is None and (problem := connection_problem(exc, ctx.services.s3_label)):
                raise StageError(
                    f"{problem} while reading {uri} ({attempt} attempts); nothing was loaded: {source.table} and "
                    "the other staging tables keep their previous rows; check S3, then resume"
                ) from None
            if delay is None:
                raise StageError(
                    f"{uri} could not be read after {attempt} attempts "
                    f"({exc.__class__.__name__}: {exc}); {source.table} and the other staging tables keep their "
                    "previous rows; check S3 and retry"
                ) from None
            ctx.warn(
                f"{key}: transient S3 error ({exc.__class__.__name__}: {exc}); "
                f"nothing was loaded, retrying in {delay:g}s (attempt {attempt + 1} of {len(RETRY_DELAYS_S) + 1})"
            )
            if ctx.cancel.wait(delay):
                raise Cancelled("cancelled by the operator") from None
    raise AssertionError("unreachable")


def _is_transient(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or exc.response.get("Error", {}).get("Code") in ("SlowDown", "RequestTimeout")


def load_staging_table(
    ctx: StageContext, source: SourceFile, key: str, size: int, loading: str, progress: StagingProgress
) -> LoadResult:
    """Load one object into a fresh table `loading`, keyed and analysed, and commit it.

    A bad value raises DataError naming line and column; on any failure nothing is committed.
    """
    started = time.monotonic()
    client, bucket = ctx.services.s3(), ctx.config.source.bucket
    response = call_interruptibly(
        ctx.cancel, lambda: client.get_object(Bucket=bucket, Key=key, **read_version(ctx, key)), "s3-get"
    )
    body = ReadAheadBody(response["Body"], ctx.cancel, READ_SIZE)
    reader = CsvStreamReader(body, key, size, ctx.cancel, on_progress=lambda done: progress.update(source.table, done))
    try:
        file_columns = check_header(reader.read_header(), source, key)
        reader.guard = DateGuard(key, source.table, file_columns, dict(source.dates))
        with job_connection(ctx.services, "staging", ctx.cancel, f"loading s3://{bucket}/{key}") as (conn, cur):
            body.waiting = conn.away  # time spent waiting for S3 is not the warehouse's
            refused = _copy_keyed_and_analysed(ctx, cur, source, key, loading, reader, file_columns)
            if refused is None:
                conn.commit()
    finally:
        body.close()
    if refused is not None:  # the connection is closed (rolled back): now find every bad record
        raise every_bad_record(ctx, source, key, file_columns, reader.data_start, refused)
    progress.update(source.table, size, finished=True)
    return LoadResult(
        source.table, key, loading, reader.rows, reader.data_rows, reader.bytes_read, time.monotonic() - started
    )


def _copy_keyed_and_analysed(
    ctx: StageContext,
    cur: Any,
    source: SourceFile,
    key: str,
    loading: str,
    reader: CsvStreamReader,
    file_columns: list[str],
) -> DataError | None:
    """COPY the object into a fresh `loading`, key and analyse it; the first refusal found (None: loaded)."""
    schema = ctx.config.staging_schema
    create_load_table(cur, schema, source, loading)
    # FREEZE (allowed: the table was created in this transaction) writes the rows already
    # visible to all, so the checks and analytics that read them next need not set hint
    # bits on every page (checks 0.47 s -> 0.37 s at scale 100).
    copy = sql.SQL(f"COPY {{}}.{{}} ({{}}) FROM STDIN WITH ({CSV_IMPORT_OPTIONS}, FREEZE)").format(
        safe_identifier(schema),
        safe_identifier(loading),
        sql.SQL(", ").join(safe_identifier(c) for c in file_columns),
    )
    try:
        cur.copy_expert(copy.as_string(cur), reader, size=READ_SIZE)
    except psycopg2.Error as exc:
        if isinstance(reader.error, DataError):  # the strict date check refused a record
            return reader.error
        if reader.error is not None:  # our read failed (S3, cancel): psycopg2 reports it as a COPY failure
            raise reader.error from None
        if isinstance(exc, (psycopg2.DataError, psycopg2.IntegrityError)):
            return data_error(exc, key, source, file_columns, second_look(ctx, key, reader.data_start))
        raise
    reader.rows = cur.rowcount
    if reader.rows != reader.data_rows:
        return row_count_error(key, source, reader.rows, reader.data_rows, second_look(ctx, key, reader.data_start))
    try:
        add_key_or_report_duplicate(cur, schema, source, loading, key, file_columns)
    except DataError as exc:
        return exc
    # Statistics belong to the table, so they survive the rename: gathered here, not while publishing.
    cur.execute(sql.SQL("ANALYZE {}.{}").format(safe_identifier(schema), safe_identifier(loading)))
    return None


def every_bad_record(
    ctx: StageContext, source: SourceFile, key: str, file_columns: list[str], data_start: int, refused: DataError
) -> DataError:
    """Read the refused object again to its end and name every bad record (with a reject report).

    When the object cannot be read again, or the checks find nothing (COPY refused something they
    do not know), COPY's own refusal is the answer.
    """
    scan = FileScan(FileCheck.for_source(source, file_columns), cancel=ctx.cancel)
    try:
        body = ctx.services.s3().get_object(Bucket=ctx.config.source.bucket, Key=key)["Body"]
    except (BotoCoreError, ClientError):
        return refused
    try:
        offset = 0
        for chunk in _chunks(body, ctx.cancel):
            skip = max(0, data_start - offset)
            offset += len(chunk)
            if skip < len(chunk):
                scan.feed(chunk[skip:])
    except (BotoCoreError, ClientError, Urllib3HTTPError, ConnectionError):
        return refused
    finally:
        body.close()
    result = scan.finish()
    if not result.bad_count:
        return refused
    report = reject_report_path(ctx.config, ctx.run_id, source.table)
    return RejectedFile(key, source.table, result, report, write_reject_report(report, key, result.bad))


def second_look(ctx: StageContext, key: str, data_start: int) -> Locate:
    """Find a record by reading the object again (only when COPY rejected it); None if it cannot be read."""

    def locate(wanted: Callable[[Record, int], bool]) -> Record | None:
        try:
            body = ctx.services.s3().get_object(Bucket=ctx.config.source.bucket, Key=key, **read_version(ctx, key))[
                "Body"
            ]
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
