"""Staging tables: loaded into a run's own table (from the DDL, keyed in one bulk build), then swapped in
for the live ones; load tables of failed or killed runs are dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from etl_core.errors import DataError
from etl_core.sql_files import load_sql, render_sql, safe_identifier
from etl_core.stages.staging.sources import SourceFile


def create_staging_table(cur: Any, schema: str, source: SourceFile, table: str) -> None:
    """Create a staging table from its DDL, without its primary key (see `add_primary_key`)."""
    cur.execute(render_sql(f"ddl/staging/{source.table}.sql", schema=schema, table=table))


def add_primary_key(cur: Any, schema: str, source: SourceFile, table: str) -> None:
    if source.key:
        cur.execute(
            sql.SQL("ALTER TABLE {}.{} ADD CONSTRAINT {} PRIMARY KEY ({})").format(
                safe_identifier(schema),
                safe_identifier(table),
                safe_identifier(f"{table}_pkey"),
                safe_identifier(source.key),
            )
        )


def add_key_or_report_duplicate(
    cur: Any, schema: str, source: SourceFile, table: str, key: str, file_columns: list[str]
) -> None:
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
        cur.execute(
            sql.SQL(
                "SELECT n FROM (SELECT {key}, row_number() OVER (ORDER BY ctid) AS n FROM {schema}.{table}) AS rows "
                "WHERE {key}::text = %s ORDER BY n LIMIT 2"
            ).format(key=safe_identifier(source.key), schema=safe_identifier(schema), table=safe_identifier(table)),
            (value,),
        )
        lines = [n + 1 for (n,) in cur.fetchall()]  # +1: the header line
        where = f"{key}: line {lines[-1]}" if lines else key
        column = f", column {source.key} (field {file_columns.index(source.key) + 1})"
        first = f", first seen on line {lines[0]}" if len(lines) > 1 else ""
        raise DataError(
            f"{where}{column}: duplicate key value{first}; value {value!r}. Nothing was loaded: "
            f"{source.table} and the other staging tables keep their previous rows. Fix the object "
            "and run the staging stage again"
        ) from None
    cur.execute("RELEASE SAVEPOINT add_key")


def load_table_name(table: str, run_id: int) -> str:
    """The table a run loads `table` into: nobody reads it, and a killed run's leftover is recognisable."""
    return f"{table}__load_{run_id}"


def create_load_table(cur: Any, schema: str, source: SourceFile, loading: str) -> None:
    """A fresh load table; no autovacuum until it is published, so none can delay the publication's lock."""
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(safe_identifier(schema), safe_identifier(loading)))
    create_staging_table(cur, schema, source, loading)
    cur.execute(
        sql.SQL("ALTER TABLE {}.{} SET (autovacuum_enabled = false)").format(
            safe_identifier(schema), safe_identifier(loading)
        )
    )


def swap_in(cur: Any, schema: str, table: str, loading: str) -> None:
    """Replace the live table by the loaded one, keeping index names stable (inside the publication)."""
    s, live, new = safe_identifier(schema), safe_identifier(table), safe_identifier(loading)
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(s, live))
    cur.execute(sql.SQL("ALTER TABLE {}.{} RENAME TO {}").format(s, new, live))
    cur.execute(sql.SQL("ALTER TABLE {}.{} RESET (autovacuum_enabled)").format(s, live))
    cur.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s AND indexname LIKE %s",
        (schema, table, loading.replace("_", r"\_") + "%"),
    )
    for (index_name,) in cur.fetchall():
        cur.execute(
            sql.SQL("ALTER INDEX {}.{} RENAME TO {}").format(
                s, sql.Identifier(index_name), sql.Identifier(table + index_name[len(loading) :])
            )
        )


def leftover_load_tables(cur: Any, schema: str, sources: Sequence[SourceFile]) -> list[str]:
    """Load tables left by failed or killed runs (and by older versions' `{table}__load`)."""
    cur.execute(
        load_sql("staging/leftover_load_tables.sql"),
        {"schema": schema, "patterns": [source.table.replace("_", r"\_") + r"\_\_load%" for source in sources]},
    )
    return [name for (name,) in cur.fetchall()]


def drop_tables(cur: Any, schema: str, tables: Sequence[str]) -> None:
    for table in tables:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(safe_identifier(schema), safe_identifier(table)))
