"""Loading one file in the aws_s3 transfer mode: the warehouse reads the object from S3 itself.

The console still reads the first bytes (a ranged GET) to check the header exactly as client
mode does and to pass the columns in the file's order; then `aws_s3.table_import_from_s3` fills
the run's own load table, the row count is reconciled, and the publication swaps it in as in
client mode. Strict ISO dates are checked by the server: the load table's date columns hold the
domain `iso_date_text` while COPY runs (so COPY names line, column and value), then become date.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Any

import psycopg2
import psycopg2.errors
from botocore.exceptions import BotoCoreError, ClientError
from psycopg2 import sql

from etl_core.background import call_interruptibly
from etl_core.errors import DataError, StageError
from etl_core.events import CancelToken
from etl_core.sql_files import load_sql, render_sql, safe_identifier
from etl_core.stages.context import StageContext
from etl_core.stages.staging.copy_errors import shorten_quoted
from etl_core.stages.staging.csv_stream import MAX_HEADER_BYTES, UTF8_BOM, check_header
from etl_core.stages.staging.file_errors import file_error
from etl_core.stages.staging.file_kind import not_csv_text
from etl_core.stages.staging.load import LoadResult
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.sources import SourceFile
from etl_core.stages.staging.tables import add_key_or_report_duplicate, create_load_table
from etl_core.stages.together import job_connection
from etl_core.transfer_aws_s3 import ImportDataError, import_object
from etl_core.warehouse import fetch_value, row_count

ISO_DATE_DOMAIN = "iso_date_text"
# What the server's COPY says when a line ends differently from the first line it read (the header).
_LINE_ENDING_ERRORS = ("carriage return found in data", "newline found in data")


@dataclass(frozen=True)
class DateColumn:
    name: str
    not_null: bool
    constraints: tuple[tuple[str, str], ...]  # (name, definition) of the CHECKs on it


def ensure_iso_date_domain(cur: Any, schema: str) -> None:
    """Create the staging schema's `iso_date_text` domain once (runs of one user_id never overlap)."""
    cur.execute("SELECT to_regtype(format('%%I.%%I', %s::text, %s::text)) IS NOT NULL", (schema, ISO_DATE_DOMAIN))
    if not fetch_value(cur):
        cur.execute(render_sql("aws_s3/iso_date_domain.sql", schema=schema))


def load_on_server(
    ctx: StageContext,
    source: SourceFile,
    key: str,
    size: int,
    loading: str,
    progress: StagingProgress,
    cancel: CancelToken,
) -> LoadResult:
    """Check the object's header, have the warehouse import it into `loading`, keyed, analysed, committed."""
    ctx = replace(ctx, cancel=cancel)
    started = time.monotonic()
    schema, bucket, region = ctx.config.staging_schema, ctx.config.source.bucket, ctx.config.source.region
    progress.update(source.table, 0)
    file_columns = check_head(read_head(ctx, key) if size else b"", source, key)
    activity = f"importing s3://{bucket}/{key} on the server (aws_s3.table_import_from_s3)"
    with job_connection(ctx.services, "staging", ctx.cancel, activity) as (conn, cur):
        create_load_table(cur, schema, source, loading)
        dates = dates_as_iso_text(cur, schema, loading)
        try:
            reported = import_object(cur, schema, loading, file_columns, bucket, key, region)
        except ImportDataError as exc:
            raise _file_error(exc, source, file_columns, dates) from None
        dates_as_date(cur, schema, loading, dates, key, source, file_columns)
        rows = row_count(cur, schema, loading)
        if rows != reported:
            raise DataError(
                f"{key}: aws_s3.table_import_from_s3 reported {reported:,} rows but the table holds "
                f"{rows:,}; nothing was loaded: {source.table} and the other staging tables keep their "
                "previous rows"
            )
        add_key_or_report_duplicate(cur, schema, source, loading, key, file_columns)
        cur.execute(sql.SQL("ANALYZE {}.{}").format(safe_identifier(schema), safe_identifier(loading)))
        conn.commit()
    progress.update(source.table, size, finished=True)
    seconds = time.monotonic() - started
    ctx.log(f"{key}: the warehouse imported {rows:,} rows in {seconds:.2f}s")
    return LoadResult(source.table, key, loading, rows, reported, size, seconds)


def read_head(ctx: StageContext, key: str) -> bytes:
    """The first MAX_HEADER_BYTES of a non-empty object (a ranged GET): the header and the first records."""
    client, bucket = ctx.services.s3(), ctx.config.source.bucket
    try:
        response = call_interruptibly(
            ctx.cancel,
            lambda: client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_HEADER_BYTES - 1}"),
            "s3-get-head",
        )
        return bytes(call_interruptibly(ctx.cancel, response["Body"].read, "s3-read-head"))
    except (BotoCoreError, ClientError) as exc:
        raise StageError(f"s3://{bucket}/{key} could not be read ({exc}); check S3 and retry") from None


def check_head(head: bytes, source: SourceFile, key: str) -> list[str]:
    """The file's columns in file order (checked as client mode checks them); refuses mixed line endings."""
    if problem := not_csv_text(head):
        raise DataError(f"{key}: {problem}")
    head = head.removeprefix(UTF8_BOM)
    header, newline, rest = head.partition(b"\n")
    if not newline and len(head) >= MAX_HEADER_BYTES:
        raise DataError(f"{key}: line 1 (header) is longer than {MAX_HEADER_BYTES // 1024} KB; is this a CSV file?")
    columns = check_header(header, source, key)
    end = _first_record_end(rest)
    if newline and end is not None:
        header_crlf, data_crlf = header.endswith(b"\r"), rest[:end].endswith(b"\r")
        if header_crlf != data_crlf:
            raise _mixed_endings(key, 2, source, header_crlf)
    return columns


def _first_record_end(data: bytes) -> int | None:
    """The offset of the newline that ends the first record (outside double quotes), if in `data`."""
    in_quotes = False
    for match in re.finditer(rb'["\n]', data):
        if match.group() == b'"':
            in_quotes = not in_quotes
        elif not in_quotes:
            return match.start()
    return None


def _mixed_endings(key: str, line: int | None, source: SourceFile, header_crlf: bool | None) -> DataError:
    if header_crlf is None:
        differs = "its line ending differs from the header line's"
    else:
        differs = (
            "it ends with LF, the header line with CRLF"
            if header_crlf
            else "it ends with CRLF, the header line with LF"
        )
    return file_error(
        key,
        source.table,
        f'{differs}: with [warehouse] transfer = "aws_s3" the warehouse\'s own COPY '
        "reads the file and needs one line ending throughout (convert the file to one)",
        line=line,
    )


def dates_as_iso_text(cur: Any, schema: str, table: str) -> list[DateColumn]:
    """Give the (empty) table's date columns the strict text domain, without their date CHECKs for now."""
    cur.execute(
        load_sql("aws_s3/date_columns.sql"),
        {"table": sql.SQL("{}.{}").format(safe_identifier(schema), safe_identifier(table)).as_string(cur)},
    )
    dates = [
        DateColumn(name, not_null, tuple(zip(names, definitions, strict=True)))
        for name, not_null, names, definitions in cur.fetchall()
    ]
    if dates:
        constraints = dict(c for d in dates for c in d.constraints)
        cur.execute(
            sql.SQL("ALTER TABLE {}.{} ").format(safe_identifier(schema), safe_identifier(table))
            + sql.SQL(", ").join(
                [sql.SQL("DROP CONSTRAINT {}").format(sql.Identifier(name)) for name in constraints]
                + [
                    sql.SQL("ALTER COLUMN {} TYPE {}.{}").format(
                        safe_identifier(d.name), safe_identifier(schema), safe_identifier(ISO_DATE_DOMAIN)
                    )
                    for d in dates
                ]
            )
        )
    return dates


def dates_as_date(
    cur: Any, schema: str, table: str, dates: list[DateColumn], key: str, source: SourceFile, file_columns: list[str]
) -> None:
    """Turn the checked texts into dates (one rewrite) and add the date CHECKs back; a value that breaks
    one is named with its line, as COPY would have."""
    if not dates:
        return
    constraints = dict(c for d in dates for c in d.constraints)
    target = sql.SQL("{}.{}").format(safe_identifier(schema), safe_identifier(table))
    cur.execute("SAVEPOINT dates_as_date")
    try:
        # The definitions come from the catalog (our own DDL), so they are SQL, not data.
        cur.execute(
            sql.SQL("ALTER TABLE {} ").format(target)
            + sql.SQL(", ").join(
                [sql.SQL("ALTER COLUMN {0} TYPE date USING {0}::date").format(safe_identifier(d.name)) for d in dates]
                + [
                    sql.SQL("ADD CONSTRAINT {} ").format(sql.Identifier(name)) + sql.SQL(definition)
                    for name, definition in constraints.items()
                ]
            )
        )
    except psycopg2.errors.CheckViolation as exc:
        cur.execute("ROLLBACK TO SAVEPOINT dates_as_date")
        name = exc.diag.constraint_name or ""
        column = next(d for d in dates if any(c == name for c, _ in d.constraints))
        raise _breaks_rule(cur, target, dates, column, name, constraints[name], key, source, file_columns) from None
    except (psycopg2.errors.DatetimeFieldOverflow, psycopg2.errors.InvalidDatetimeFormat) as exc:
        cur.execute("ROLLBACK TO SAVEPOINT dates_as_date")  # ISO-shaped, but no such day: 2022-02-30
        problem = (exc.diag.message_primary or str(exc)).strip()
        raise _no_such_day(cur, target, dates, problem, key, source, file_columns) from None
    cur.execute("RELEASE SAVEPOINT dates_as_date")


def _no_such_day(
    cur: Any,
    target: sql.Composed,
    dates: list[DateColumn],
    problem: str,
    key: str,
    source: SourceFile,
    file_columns: list[str],
) -> DataError:
    """The first row (in file order) holding the value the conversion refused, in whichever date column."""
    quoted = re.search(r': "(.*)"$', problem, re.DOTALL)
    value = quoted.group(1) if quoted else ""
    found = []
    for date in dates:
        cur.execute(
            sql.SQL(
                "SELECT n FROM (SELECT row_number() OVER (ORDER BY ctid) AS n, {column} FROM {target}) "
                "AS rows WHERE {column} = %s ORDER BY n LIMIT 1"
            ).format(column=safe_identifier(date.name), target=target),
            (value,),
        )
        found += [(n, date.name) for (n,) in cur.fetchall()]
    line, column = (min(found)[0] + 1, min(found)[1]) if found else (None, None)  # +1: the header line
    return _at(
        key,
        source,
        problem.removesuffix(quoted.group(0)) if quoted else problem,
        line,
        column,
        file_columns,
        value if found else None,
    )


def _breaks_rule(
    cur: Any,
    target: sql.Composed,
    dates: list[DateColumn],
    column: DateColumn,
    name: str,
    definition: str,
    key: str,
    source: SourceFile,
    file_columns: list[str],
) -> DataError:
    """The first row (in file order: one COPY filled the table) whose date breaks the CHECK `name`."""
    cur.execute(
        sql.SQL(
            "SELECT n, {column}::text FROM (SELECT row_number() OVER (ORDER BY ctid) AS n, {dates} "
            "FROM {target}) AS rows WHERE NOT ({check}) ORDER BY n LIMIT 1"
        ).format(
            column=safe_identifier(column.name),
            target=target,
            dates=sql.SQL(", ").join(sql.SQL("{0}::date AS {0}").format(safe_identifier(d.name)) for d in dates),
            check=sql.SQL(definition.removeprefix("CHECK ").removesuffix(" NOT VALID")),
        )
    )
    found = cur.fetchone()
    line, value = (found[0] + 1, found[1]) if found else (None, None)  # +1: the header line
    return _at(key, source, f"value breaks the rule {name}", line, column.name, file_columns, value)


def _file_error(
    exc: ImportDataError, source: SourceFile, file_columns: list[str], dates: list[DateColumn]
) -> DataError:
    """The server's COPY error in client mode's words: key, file line, column (field), problem, value."""
    if any(text in exc.problem for text in _LINE_ENDING_ERRORS):
        return _mixed_endings(exc.key, exc.line, source, None)
    column, value, problem = exc.column, exc.value, shorten_quoted(exc.problem)
    date = next((d for d in dates if d.name == column), None)
    if exc.constraint == "iso_date" and date is not None:
        problem = "not an ISO date (YYYY-MM-DD" + (")" if date.not_null else ", or empty for none)")
    elif exc.constraint:  # a table CHECK: COPY names the row, the rule's name starts with its column
        problem = f"value breaks the rule {exc.constraint}"
        column = column or next((c for c in source.columns if exc.constraint.startswith(c)), None)
        value = None  # COPY quotes the whole line here, not the value
    elif problem.startswith("null value in column"):
        problem, value = "empty, but the column needs a value", None  # COPY quotes the whole line here
    else:
        problem = re.sub(r': ".*"$', "", problem, flags=re.DOTALL) if value is not None else problem
    return _at(exc.key, source, problem, exc.line, column, file_columns, value)


def _at(
    key: str,
    source: SourceFile,
    problem: str,
    line: int | None,
    column: str | None,
    file_columns: list[str],
    value: str | None,
) -> DataError:
    field = file_columns.index(column) + 1 if column in file_columns else None
    return file_error(key, source.table, problem, line=line, column=column if field else None, field=field, value=value)
