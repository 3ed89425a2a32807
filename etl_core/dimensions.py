"""Preflight of the dimension schema: its four tables, with every column the pipeline's SQL reads.

The columns are read from the SQL itself (every `{dims}.dim_x AS alias` and the `alias.column`
after it), so a query that starts reading a new column is preflighted without another list to keep.
A missing piece fails `--dry-run` and the start of a run with exit 3, before anything is changed.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

from etl_core.errors import ServiceUnavailable
from etl_core.sql_files import load_sql

DIMENSION_TABLES = ("dim_addresses", "dim_customers", "dim_dates", "dim_products")
READERS = ("analytics", "checks")  # the folders of sql/ whose queries read the dimensions
_DIMS_TABLE = re.compile(r"\{dims\}\.(\w+)\s+AS\s+(\w+)", re.IGNORECASE)


@cache
def columns_read() -> dict[str, tuple[str, ...]]:
    """Every dimension table and the columns the shipped SQL reads from it (sorted)."""
    read: dict[str, set[str]] = {table: set() for table in DIMENSION_TABLES}
    for folder in READERS:
        for path in resources.files("sql").joinpath(folder).iterdir():
            if path.name.endswith(".sql"):
                _add_columns(load_sql(f"{folder}/{path.name}"), read)
    return {table: tuple(sorted(columns)) for table, columns in read.items()}


def _add_columns(text: str, read: dict[str, set[str]]) -> None:
    for table, alias in _DIMS_TABLE.findall(text):
        read.setdefault(table, set()).update(re.findall(rf"\b{alias}\.(\w+)", text))


def missing_dimensions(cur: Any, schema: str) -> list[str]:
    """What a run needs in `schema` and does not find (or may not read): "schema x", "table x.t", "column x.t.c"."""
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    if cur.fetchone() is None:
        return [f"schema {schema}"]
    needed = columns_read()
    cur.execute(load_sql("preflight/dimension_columns.sql"), {"schema": schema, "tables": list(needed)})
    found: dict[str, dict[str, bool]] = {}
    for table, column, readable in cur.fetchall():
        found.setdefault(table, {})[column] = readable
    missing = []
    for table, columns in needed.items():
        if table not in found:
            missing.append(f"table {schema}.{table}")
            continue
        for column in columns:
            if column not in found[table]:
                missing.append(f"column {schema}.{table}.{column}")
            elif not found[table][column]:
                missing.append(f"column {schema}.{table}.{column} (no SELECT privilege for this user)")
    return missing


def require_dimensions(cur: Any, schema: str, warehouse_label: str) -> None:
    """Raise ServiceUnavailable (exit 3) naming every missing schema, table and column."""
    if missing := missing_dimensions(cur, schema):
        raise ServiceUnavailable(
            f"warehouse {warehouse_label} lacks what a run reads in the dimension schema "
            f"([warehouse] dims_schema = {schema!r}): {', '.join(missing)}; nothing was run. Check "
            "[warehouse] dims_schema, or ask a DBA for the dimension tables"
        )
