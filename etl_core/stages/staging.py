"""Staging: stream the three source objects from S3 into `COPY ... FROM STDIN` at once, all or nothing.

Each file loads into a fresh table that replaces the live one inside its own transaction; the
three transactions commit together once every file has loaded, so one bad file leaves every
staging table exactly as it was, and readers never block.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import psycopg2
import psycopg2.errors
from botocore.exceptions import BotoCoreError, ClientError
from psycopg2 import sql
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from etl_core.checks import STAGING_CHECKS, run_checks_concurrently
from etl_core.errors import Cancelled, DataError, StageError
from etl_core.events import CancelToken, CheckOutcome
from etl_core.s3 import object_info
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.all_or_nothing import OpenTransaction, open_transaction, run_all_or_nothing
from etl_core.stages.context import StageContext, StageOutput

READ_SIZE = 1024 * 1024  # bytes per COPY chunk: big enough for COPY speed, small enough for flat memory
MAX_HEADER_BYTES = 64 * 1024
RETRY_DELAYS_S = (1.0, 2.0, 4.0)  # backoff between attempts of one file after a transient S3 error
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SourceFile:
    table: str
    names: tuple[str, ...]  # accepted object names, preferred first
    columns: tuple[str, ...]
    key: str | None = None  # primary key, built after the COPY


SOURCE_FILES = (
    SourceFile("orders", ("orders.csv",),
               ("order_id", "customer_id", "order_date", "product_id", "unit_price", "quantity", "total_price"),
               key="order_id"),
    SourceFile("reviews", ("reviews.csv",), ("review", "product_id")),
    # The brief spells it "shipments_deliveries.csv"; the real object is "shipment_deliveries.csv" (it wins).
    SourceFile("shipment_deliveries", ("shipment_deliveries.csv", "shipments_deliveries.csv"),
               ("shipment_id", "order_id", "shipment_date", "delivery_date"), key="shipment_id"),
)


def create_staging_table(cur: Any, schema: str, source: SourceFile, table: str) -> None:
    """Create a staging table from its DDL, without its primary key (see `add_primary_key`)."""
    cur.execute(render_sql(f"ddl/staging/{source.table}.sql", schema=schema, table=table))


def add_primary_key(cur: Any, schema: str, source: SourceFile, table: str) -> None:
    if source.key:
        cur.execute(sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
            safe_identifier(schema), safe_identifier(table), safe_identifier(f"{table}_pkey"),
            safe_identifier(source.key)))


@dataclass(frozen=True)
class LoadResult:
    table: str
    key: str
    rows: int
    file_rows: int
    bytes: int
    seconds: float


def run_staging(ctx: StageContext) -> StageOutput:
    # Find every object first: a missing file fails the stage before anything is replaced,
    # and the progress bar covers the whole stage.
    located = [(source, *resolve_source_key(ctx, source)) for source in SOURCE_FILES]
    ctx = ctx.for_threads()
    for source, key, size in located:  # logged here, in file order: the threads start in any order
        ctx.log(f"loading s3://{ctx.config.source.bucket}/{key} ({size:,} bytes) into "
                f"{ctx.config.staging_schema}.{source.table}")
    progress = StagingProgress(ctx, sum(size for _source, _key, size in located))
    # Each file loads into its own open transaction; the three commit together, or none does.
    loaded = run_all_or_nothing(
        [partial(load_with_retries, ctx, source, key, size, progress) for source, key, size in located],
        ctx.cancel, "staging")
    output = StageOutput()
    for result in loaded:
        ctx.log(f"{ctx.config.staging_schema}.{result.table}: {result.rows:,} rows from {result.key} "
                f"in {result.seconds:.2f}s")
        output.rows += result.rows
        output.details[result.table] = {"key": result.key, "rows": result.rows, "bytes": result.bytes,
                                        "seconds": round(result.seconds, 3)}
        output.checks.append(CheckOutcome(
            f"{result.table}_rows_match_file", "ERROR", result.rows == result.file_rows,
            f"{result.table}: {result.rows:,} rows loaded, {result.file_rows:,} data rows in {result.key}"))
    output.checks += run_checks_concurrently(ctx.services, ctx.config, STAGING_CHECKS, ctx.cancel)
    return output


class StagingProgress:
    """Bytes read across the files loading at once, reported as one progress bar."""

    def __init__(self, ctx: StageContext, total: int):
        self._ctx, self.total = ctx, total
        self._read: dict[str, int] = {}
        self._loading: dict[str, None] = {}  # tables still reading, in start order
        self._lock = threading.Lock()

    def update(self, table: str, bytes_read: int, *, finished: bool = False) -> None:
        with self._lock:
            self._read[table] = bytes_read
            if finished:
                self._loading.pop(table, None)
            else:
                self._loading.setdefault(table)
            message = f"loading {', '.join(self._loading)}" if self._loading else "files loaded"
            self._ctx.progress(sum(self._read.values()), self.total, "bytes", message, force=finished)


def resolve_source_key(ctx: StageContext, source: SourceFile) -> tuple[str, int]:
    """The object key to load (first accepted name that exists) and its size."""
    client, bucket, prefix = ctx.services.s3(), ctx.config.source.bucket, ctx.config.source.prefix
    for name in source.names:
        try:
            info = object_info(client, bucket, prefix + name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            raise StageError(f"s3://{bucket}/{prefix}{name} could not be read ({code}); check the credentials, "
                             "[source] anonymous and the bucket policy") from None
        if info is not None:
            return prefix + name, int(info["ContentLength"])
    names = " or ".join(prefix + n for n in source.names)
    raise StageError(f"source object s3://{bucket}/{names} was not found; upload it, or check [source] bucket "
                     "and prefix")


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
                    raise _data_error(exc, key, source, file_columns) from None
                if isinstance(exc, psycopg2.errors.QueryCanceled):
                    raise Cancelled("cancelled by the operator") from None
                raise
            rows = cur.rowcount
            if rows != reader.data_rows:
                raise DataError(
                    f"{key}: COPY loaded {rows:,} rows but the file has {reader.data_rows:,} data rows; "
                    f"nothing was loaded: {source.table} and the other staging tables keep their previous rows")
            _add_key_or_report_duplicate(cur, schema, source, loading, key, file_columns)
            _replace_live_table(cur, schema, source.table, loading)
    finally:
        body.close()
    progress.update(source.table, size, finished=True)
    return OpenTransaction(conn, LoadResult(source.table, key, rows, reader.data_rows, reader.bytes_read,
                                            time.monotonic() - started))


def _add_key_or_report_duplicate(cur: Any, schema: str, source: SourceFile, table: str, key: str,
                                 file_columns: list[str]) -> None:
    """Build the primary key in bulk; on a duplicate, name the file line of its second occurrence."""
    if not source.key:
        return
    cur.execute("SAVEPOINT add_key")
    try:
        add_primary_key(cur, schema, source, table)
    except psycopg2.errors.UniqueViolation as exc:
        cur.execute("ROLLBACK TO SAVEPOINT add_key")
        found = re.match(r"Key \((\w+)\)=\((.*)\) is duplicated", exc.diag.message_detail or "")
        value = found.group(2) if found else "?"
        # A table filled by one COPY keeps file order in ctid order, so row numbers are data lines.
        cur.execute(sql.SQL(
            "SELECT n FROM (SELECT {key}, row_number() OVER (ORDER BY ctid) AS n FROM {schema}.{table}) AS rows "
            "WHERE {key}::text = %s ORDER BY n LIMIT 2").format(
                key=safe_identifier(source.key), schema=safe_identifier(schema), table=safe_identifier(table)),
            (value,))
        lines = [n + 1 for (n,) in cur.fetchall()]  # +1: the header line
        where = f"{key}: line {lines[-1]}" if lines else key
        column = f", column {source.key} (field {file_columns.index(source.key) + 1})"
        first = f", first seen on line {lines[0]}" if len(lines) > 1 else ""
        raise DataError(f"{where}{column}: duplicate key value{first}; value {value!r}. Nothing was loaded: "
                        f"{source.table} and the other staging tables keep their previous rows. Fix the object "
                        "and run the staging stage again") from None
    cur.execute("RELEASE SAVEPOINT add_key")


def _replace_live_table(cur: Any, schema: str, table: str, loading: str) -> None:
    """Swap the freshly loaded table in for the live one, keeping index names stable."""
    s, live, new = safe_identifier(schema), safe_identifier(table), safe_identifier(loading)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(s, live))
    cur.execute(sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(s, new, live))
    cur.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s AND indexname LIKE %s",
        (schema, table, loading.replace("_", r"\_") + "%"),
    )
    for (index_name,) in cur.fetchall():
        cur.execute(sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
            s, sql.Identifier(index_name), sql.Identifier(table + index_name[len(loading):])))
    cur.execute(sql.SQL("ANALYZE {}.{}").format(s, live))


def check_header(header: bytes, source: SourceFile, key: str) -> list[str]:
    """The file's columns in file order, after checking they are exactly the expected set (any order)."""
    if not header.strip():
        raise DataError(f"{key}: the object is empty (0 bytes or a blank first line); expected the header "
                        f"line {','.join(source.columns)}")
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{key}: line 1 (header): invalid UTF-8 byte at position {exc.start + 1}") from None
    names = [name.strip().lower() for name in next(csv.reader([text.rstrip("\r\n")]))]
    expected = set(source.columns)
    unknown = [n for n in names if n not in expected]
    missing = [c for c in source.columns if c not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if unknown:
        problems.append("unknown column(s): " + ", ".join(f"{n!r} (column {names.index(n) + 1})" for n in unknown))
    if duplicated:
        problems.append("duplicated column(s): " + ", ".join(duplicated))
    if problems:
        hint = ""
        if len(names) == 1 and any(d in text for d in ";\t|"):
            hint = "; the file does not look comma separated"
        raise DataError(f"{key}: line 1 (header): {'; '.join(problems)}{hint}. Expected the columns "
                        f"{','.join(source.columns)} in any order")
    return names


_COPY_CONTEXT = re.compile(r'COPY \S+, line (\d+)(?:, column (\w+))?(?:: "(.*)")?', re.DOTALL)


def _data_error(exc: psycopg2.Error, key: str, source: SourceFile, file_columns: list[str]) -> DataError:
    """Turn a COPY error into a message with the object key, file line, column and value."""
    diag = exc.diag
    match = _COPY_CONTEXT.search(diag.context or "")
    line = int(match.group(1)) + 1 if match else None  # +1: the header line is not sent to COPY
    column = (match.group(2) if match else None) or diag.column_name
    value = match.group(3) if match else None
    if column is None and diag.constraint_name:
        column = next((c for c in source.columns if diag.constraint_name.startswith(c)), None)
    if isinstance(exc, psycopg2.errors.UniqueViolation) and diag.message_detail:
        found = re.match(r"Key \((\w+)\)=\((.*)\) already exists", diag.message_detail)
        if found:
            column, value = found.group(1), found.group(2)
    where = f"{key}: line {line}" if line else key
    if column in file_columns:
        where += f", column {column} (field {file_columns.index(column) + 1})"
    problem = _shorten_quoted((diag.message_primary or str(exc)).strip())
    if isinstance(exc, psycopg2.errors.CheckViolation):
        problem = f"value breaks the rule {diag.constraint_name}"
    if value is not None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        problem += f"; value {shown!r}"
    return DataError(f"{where}: {problem}. Nothing was loaded: {source.table} and the other staging tables keep "
                     "their previous rows. "
                     "Fix the object and run the staging stage again")


def _shorten_quoted(text: str, limit: int = 80) -> str:
    """Cut long quoted values (Postgres echoes them whole) so a 10 MB field never floods a message."""
    return re.sub(f'"([^"]{{{limit + 1},}})"', lambda m: f'"{m.group(1)[:limit - 3]}..."', text)


class CsvStreamReader:
    """File-like view of an S3 body for COPY: splits off the header, counts records, reports progress.

    Records are counted as newlines outside double quotes, so quoted line breaks are not rows.
    Any exception here aborts the COPY; it is kept in `error` because psycopg2 re-raises its own.
    """

    def __init__(self, body: Any, key: str, size: int, cancel: CancelToken, on_progress: Callable[[int], None]):
        self._body, self.key, self.size = body, key, size
        self._cancel, self._on_progress = cancel, on_progress
        self._pending = b""
        self._in_quotes = False
        self._last_byte = b"\n"
        self._newlines = 0
        self.bytes_read = 0
        self.error: BaseException | None = None

    @property
    def data_rows(self) -> int:
        return self._newlines + (0 if self._last_byte == b"\n" else 1)

    def _next_chunk(self, size: int) -> bytes:
        chunk = self._body.read(size)
        self.bytes_read += len(chunk)
        return chunk

    def read_header(self) -> bytes:
        buffer = b""
        while b"\n" not in buffer and len(buffer) < MAX_HEADER_BYTES:
            chunk = self._next_chunk(READ_SIZE)
            if not chunk:
                break
            buffer += chunk
        buffer = buffer.removeprefix(UTF8_BOM)
        header, newline, rest = buffer.partition(b"\n")
        if not newline and len(buffer) >= MAX_HEADER_BYTES:
            raise DataError(f"{self.key}: line 1 (header) is longer than {MAX_HEADER_BYTES // 1024} KB; "
                            "is this a CSV file?")
        self._pending = rest
        return header

    def read(self, size: int = READ_SIZE) -> bytes:
        try:
            self._cancel.raise_if_cancelled()
            if self._pending:
                chunk, self._pending = self._pending, b""
            else:
                chunk = self._next_chunk(size)
            if chunk:
                self._count_records(chunk)
                self._on_progress(self.bytes_read)
            return chunk
        except BaseException as exc:  # keep it: psycopg2 replaces it with a generic COPY error
            self.error = exc
            raise

    def _count_records(self, chunk: bytes) -> None:
        if not self._in_quotes and b'"' not in chunk:
            self._newlines += chunk.count(b"\n")
        else:
            for i, segment in enumerate(chunk.split(b'"')):
                if i:
                    self._in_quotes = not self._in_quotes
                if not self._in_quotes:
                    self._newlines += segment.count(b"\n")
        self._last_byte = chunk[-1:]
