"""Server-side transfer on RDS/Aurora PostgreSQL: the warehouse reads and writes S3 itself (`aws_s3`).

Headless and independent of how staging publishes its tables: `import_object` fills one table
from one object, `export_query` writes one query's result to one object, `preflight` says what
a DBA must run before either can work. They call only the documented API of the extension
(aws_commons.create_s3_uri, aws_s3.table_import_from_s3, aws_s3.query_export_to_s3), so the same
code runs on RDS and Aurora; the SQL is in sql/aws_s3/. Each call runs in the caller's
transaction on the caller's cursor; a cancel request to that backend stops it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from etl_core.copy_format import CSV_EXPORT_OPTIONS, CSV_IMPORT_OPTIONS_WITH_HEADER
from etl_core.errors import Cancelled, DataError, ServiceUnavailable, StageError
from etl_core.sql_files import load_sql, safe_identifier
from etl_core.warehouse import row_count

BOOTSTRAP_FILE = "sql/bootstrap/aws_s3_extension.sql"


@dataclass(frozen=True)
class ExportReport:
    """What aws_s3.query_export_to_s3 reports (its output parameters)."""

    rows: int
    files: int
    bytes: int

    def object_keys(self, key: str) -> list[str]:
        """The objects written: `key`, then `key_part2`, `key_part3`, ... for outputs beyond ~6 GB."""
        return [key] + [f"{key}_part{n}" for n in range(2, self.files + 1)]


class ImportDataError(DataError):
    """The warehouse's COPY refused a value of the object: where it is, and what was wrong."""

    def __init__(
        self,
        key: str,
        line: int | None,
        column: str | None,
        value: str | None,
        problem: str,
        constraint: str | None = None,
    ):
        self.key, self.line, self.column, self.value, self.problem = key, line, column, value, problem
        self.constraint = constraint  # the table's or domain's CHECK that refused the row, if one did
        where = key + (f": line {line}" if line else "") + (f", column {column}" if column else "")
        shown = "" if value is None else f"; value {_shorten(value)!r}"
        super().__init__(f"{where}: {problem}{shown}")


# --- preflight ------------------------------------------------------------------------------------


def preflight(cur: Any) -> list[str]:
    """Problems that stop the aws_s3 mode here, each a sentence naming what the DBA must run ([] = ok)."""
    cur.execute(load_sql("aws_s3/preflight.sql"))
    names = [column[0] for column in cur.description]
    needed = [dict(zip(names, row)) for row in cur.fetchall()]  # one row per function the console calls
    role, database, version = needed[0]["role_name"], needed[0]["database_name"], needed[0]["aws_s3_version"]
    grantee = sql.Identifier(role).as_string(cur)
    if version is None:
        return [
            (
                f"the aws_s3 extension is not installed in database {database!r}, so the warehouse cannot read "
                f"or write S3 itself: a DBA (on RDS the master user) must run CREATE EXTENSION aws_s3 CASCADE; "
                f"in that database, then the grants of {BOOTSTRAP_FILE} for role {grantee}. It exists only on "
                'Amazon RDS and Aurora PostgreSQL; elsewhere use [warehouse] transfer = "client"'
            )
        ]
    problems = [
        f"role {grantee} may not use the schema {schema}: a DBA must run GRANT USAGE ON SCHEMA {schema} TO {grantee};"
        for schema in dict.fromkeys(n["schema_name"] for n in needed if not n["schema_usage"])
    ]
    for n in needed:
        function = f"{n['schema_name']}.{n['function_name']}"
        if n["found_types"] is None:
            problems.append(
                f"the aws_s3 extension {version} in database {database!r} has no {function} of the "
                f"documented form (needed to {n['purpose']}): a DBA must run ALTER EXTENSION aws_s3 "
                "UPDATE; (exports need RDS for PostgreSQL 10.14, 11.9, 12.4, 13.1 or later)"
            )
        elif not n["executable"]:
            signature = f"{function}({', '.join(t.removeprefix('pg_catalog.') for t in n['found_types'])})"
            problems.append(
                f"role {grantee} may not execute {function} (needed to {n['purpose']}): "
                f"a DBA must run GRANT EXECUTE ON FUNCTION {signature} TO {grantee};"
            )
    return problems


def require_ready(cur: Any, warehouse_label: str) -> None:
    """Raise ServiceUnavailable (exit 3) naming what the DBA must run when `preflight` finds problems."""
    if problems := preflight(cur):
        raise ServiceUnavailable(
            f'warehouse {warehouse_label} cannot do [warehouse] transfer = "aws_s3": ' + " ".join(problems)
        )


# --- import ---------------------------------------------------------------------------------------

# The documentation says only "the return value is text". RDS answers, for example,
#   '87701673 rows imported into relation "aozora_kaiseki" from file utf8_all.csv of 6539180310 bytes'
# so the row count is the leading number; anything else falls back to counting the table.
_IMPORT_REPORT = re.compile(r"^\s*(\d+) rows? imported into relation ")
# COPY's own context line comes first; the extension's functions add lines after it.
_COPY_CONTEXT = re.compile(r'^COPY \S+, line (\d+)(?:, column (\w+))?(?:: "(.*)")?\s*$', re.DOTALL)
_OUTER_CONTEXT = re.compile(r"\n(?:SQL statement |SQL function |PL/\w+ function )")


def import_object(
    cur: Any,
    schema: str,
    table: str,
    columns_in_file_order: Sequence[str],
    bucket: str,
    key: str,
    region: str,
    *,
    csv_options: str = CSV_IMPORT_OPTIONS_WITH_HEADER,
) -> int:
    """Append the object's rows to `schema.table` (filling the columns in the file's order); the row count.

    The count comes from the function's report, or, when that does not parse, from counting the
    table: call it on a table that was empty (the console loads into a fresh one). A refused
    value raises ImportDataError (file line, column, value), a cancel Cancelled, anything else
    StageError; the caller's transaction is then aborted and must be rolled back.
    """
    table_name = f"{_checked(schema)}.{_checked(table)}"
    params = {
        "table_name": table_name,
        "column_list": ",".join(_checked(c) for c in columns_in_file_order),
        "options": csv_options,
        "bucket": bucket,
        "key": key,
        "region": region,
    }
    try:
        cur.execute(load_sql("aws_s3/table_import_from_s3.sql"), params)
        report = cur.fetchone()[0]
        found = _IMPORT_REPORT.match(report or "")
        if found:
            return int(found.group(1))
        return row_count(cur, schema, table)
    except psycopg2.Error as exc:
        raise _import_error(exc, f"s3://{bucket}/{key}", key, table_name) from None


def _import_error(exc: psycopg2.Error, uri: str, key: str, table_name: str) -> Exception:
    if isinstance(exc, psycopg2.errors.QueryCanceled):
        return Cancelled("cancelled by the operator")
    diag = exc.diag
    copy = _COPY_CONTEXT.match(_OUTER_CONTEXT.split(diag.context or "", maxsplit=1)[0])
    problem = (diag.message_primary or str(exc)).strip()
    if copy and isinstance(exc, (psycopg2.DataError, psycopg2.IntegrityError)):
        return ImportDataError(
            key, int(copy.group(1)), copy.group(2) or diag.column_name, copy.group(3), problem, diag.constraint_name
        )
    return StageError(f"{uri} could not be imported into {table_name} by aws_s3.table_import_from_s3: {problem}")


def _checked(identifier: str) -> str:
    """A validated identifier as plain text: the functions take names, not quoted SQL."""
    safe_identifier(identifier)
    return identifier


def _shorten(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# --- export ---------------------------------------------------------------------------------------


def export_query(cur: Any, query_sql: str | sql.Composable, bucket: str, key: str, region: str) -> ExportReport:
    """Write the query's result to s3://bucket/key as client mode's CSV (header, FORMAT csv).

    A cancel raises Cancelled, any other failure StageError; the caller's transaction is then
    aborted and must be rolled back.
    """
    query = query_sql.as_string(cur) if isinstance(query_sql, sql.Composable) else query_sql
    params = {"query": query, "bucket": bucket, "key": key, "region": region, "options": CSV_EXPORT_OPTIONS}
    try:
        cur.execute(load_sql("aws_s3/query_export_to_s3.sql"), params)
        rows, files, size = cur.fetchone()
    except psycopg2.errors.QueryCanceled:
        raise Cancelled("cancelled by the operator") from None
    except psycopg2.Error as exc:
        problem = (exc.diag.message_primary or str(exc)).strip()
        raise StageError(f"s3://{bucket}/{key} could not be written by aws_s3.query_export_to_s3: {problem}") from None
    return ExportReport(int(rows), int(files), int(size))
