"""`d2b-console --load-dimensions DIR`: real dimensions into the embedded warehouse, replacing the demo ones.

The four files (`dim_dates.csv`, `dim_products.csv`, `dim_addresses.csv`, `dim_customers.csv`, header
in any order) are checked first with staging's strictness (`etl_core.stages.staging.file_check`:
PostgreSQL's CSV rules, strict ISO dates, the columns' types, unique keys), every bad value named by
file, line, column and value; only then are the four tables replaced in one transaction, with a record
of where they came from (`etl_core.dimension_provenance`). An external warehouse's dimension schema
belongs to its owner: refused (exit 2).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from psycopg2 import sql

from etl_core.config import Config
from etl_core.copy_format import CSV_IMPORT_OPTIONS_WITH_HEADER
from etl_core.dimension_provenance import PROVENANCE_TABLE, DimensionsInUse, dimensions_in_use
from etl_core.dimensions import DIMENSION_TABLES
from etl_core.errors import EXIT_CONFIG, D2BError, DataError
from etl_core.services import open_services
from etl_core.sql_files import load_sql, render_sql, safe_identifier
from etl_core.stages.staging.file_check import FileCheck
from etl_core.stages.staging.file_errors import placed
from etl_core.stages.staging.file_kind import not_csv_text
from etl_core.stages.staging.file_scan import FileScan
from etl_core.stages.staging.rejection import MAX_LISTED
from etl_core.stages.staging.table_columns import ExpectedColumn, parse_create_table

UTF8_BOM = b"\xef\xbb\xbf"


class NotOurs(D2BError):
    """The dimension schema is not the console's to replace (an external warehouse)."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class DimensionTable:
    name: str
    columns: tuple[ExpectedColumn, ...]
    key: str | None


@cache
def dimension_tables() -> dict[str, DimensionTable]:
    """The four tables as `sql/ddl/demo_dimensions.sql` declares them (the columns of the dimension schema)."""
    tables = {}
    for statement in load_sql("ddl/demo_dimensions.sql").split(";"):
        if found := re.search(r"CREATE TABLE \{dims\}\.(\w+)", statement):
            key = re.search(r"(\w+)\s+\w+\s+PRIMARY KEY", statement)
            tables[found.group(1)] = DimensionTable(
                found.group(1), parse_create_table(statement), key.group(1) if key else None
            )
    return tables


def load_dimensions(config: Config, folder: Path, log: Callable[[str], None]) -> DimensionsInUse:
    """Check the four files, then replace the embedded warehouse's dimension tables with them, all or none."""
    if not config.warehouse.embedded:
        raise NotOurs(
            f"--load-dimensions loads into the embedded warehouse only; {config.warehouse.label} has its own "
            f"dimension schema {config.warehouse.dims_schema}, which belongs to its owner (the console only reads it)"
        )
    if not folder.is_dir():
        raise NotOurs(f"--load-dimensions {folder}: not a folder")
    files = {table: _checked(folder / f"{table}.csv", dimension_tables()[table]) for table in DIMENSION_TABLES}
    schema = config.warehouse.dims_schema
    with open_services(config, log=log, seed=False) as services, services.transaction("load dimensions") as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(safe_identifier(schema)))
        for table in (*DIMENSION_TABLES, PROVENANCE_TABLE):
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(safe_identifier(schema), safe_identifier(table)))
        cur.execute(render_sql("ddl/demo_dimensions.sql", dims=schema))
        rows = {table: _copy(cur, schema, table, *files[table]) for table in DIMENSION_TABLES}
        cur.execute(
            sql.SQL(
                "CREATE TABLE {}.{} (folder text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(), "
                "row_counts jsonb NOT NULL)"
            ).format(safe_identifier(schema), safe_identifier(PROVENANCE_TABLE))
        )
        cur.execute(
            sql.SQL("INSERT INTO {}.{} (folder, row_counts) VALUES (%s, %s)").format(
                safe_identifier(schema), safe_identifier(PROVENANCE_TABLE)
            ),
            (str(folder.resolve()), json.dumps(rows)),
        )
        loaded = dimensions_in_use(cur, config)
    return loaded


def _checked(path: Path, table: DimensionTable) -> tuple[list[str], bytes]:
    """The file's columns (file order) and its bytes, after every check; DataError naming every bad value."""
    try:
        data = path.read_bytes().removeprefix(UTF8_BOM)
    except OSError as exc:
        raise DataError(
            f"{path}: cannot be read ({exc.strerror or exc}); --load-dimensions needs the four files "
            f"{', '.join(f'{t}.csv' for t in DIMENSION_TABLES)}"
        ) from None
    if problem := not_csv_text(data[: 64 * 1024]):
        raise DataError(f"{path}: {problem}")
    header, _newline, _rest = data.partition(b"\n")
    names = [n.strip().lower() for n in header.decode("utf-8", "replace").rstrip("\r").split(",")]
    expected = [c.name for c in table.columns]
    if sorted(names) != sorted(expected):
        raise DataError(
            f"{path}: line 1 (header): the columns are {','.join(names)}; expected {','.join(expected)} in any order"
        )
    scan = FileScan(FileCheck(table.columns, names, table.key)).feed_all([data[len(header) + 1 :]])
    if scan.bad_count:
        shown = [
            "  " + placed("", b.problem, line=b.line, column=b.column, field=b.field, value=b.value).removeprefix(": ")
            for b in scan.bad[:MAX_LISTED]
        ]
        more = [f"  and {scan.bad_count - MAX_LISTED:,} more"] if scan.bad_count > MAX_LISTED else []
        raise DataError(
            "\n".join(
                [f"{path}: {scan.bad_count:,} bad value(s); nothing was loaded, the dimensions are unchanged:"]
                + shown
                + more
            )
        )
    return names, data


def _copy(cur: Any, schema: str, table: str, columns: list[str], data: bytes) -> int:
    copy = sql.SQL(f"COPY {{}}.{{}} ({{}}) FROM STDIN WITH ({CSV_IMPORT_OPTIONS_WITH_HEADER})").format(
        safe_identifier(schema), safe_identifier(table), sql.SQL(", ").join(safe_identifier(c) for c in columns)
    )
    cur.copy_expert(copy.as_string(cur), io.BytesIO(data))
    return int(cur.rowcount)
