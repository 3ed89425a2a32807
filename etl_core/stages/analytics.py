"""Analytics: the three tables of docs/DATA.md from `sql/analytics/`, all or nothing.

The three rows are computed at once by read-only queries, each on its own connection; then one
short transaction replaces the run's row of every table and runs the ERROR checks, so a failure
keeps all the previous rows and readers are never blocked (a row replacement locks no reader).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.checks import ANALYTICS_CHECKS, blocking_failures, run_checks
from etl_core.dimension_provenance import dimensions_check
from etl_core.disk_full import warehouse_disk_full
from etl_core.errors import StageError
from etl_core.events import CancelToken, CheckOutcome
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.publication import publish
from etl_core.stages.together import job_connection, run_together
from etl_core.warehouse import column_names


@dataclass(frozen=True)
class TableRow:
    """One analytics table's row for the run (None when the query found nothing to report)."""

    table: str
    row: dict[str, Any] | None


def analytics_parameters(ctx: StageContext) -> dict[str, Any]:
    pipeline = ctx.config.pipeline
    return {
        "ingestion_date": pipeline.ingestion_date,
        "as_of_date": pipeline.as_of_date,
        "best_product_by": pipeline.best_product_by,
    }


def run_analytics(ctx: StageContext) -> StageOutput:
    if not (fit := dimensions_check(ctx.services, ctx.config)).passed:  # a blocking check: demo dimensions, other files
        return StageOutput(checks=[fit])
    ctx = ctx.for_threads()
    progress = TablesProgress(ctx)
    computed = run_together(
        [partial(compute_row, ctx, table, progress) for table in ANALYTICS_TABLES], ctx.cancel, "analytics"
    )
    checks: list[CheckOutcome] = []
    schema = ctx.config.analytics_schema
    publish(
        ctx.services,
        f"the analytics rows of {schema}",
        [f"{schema}.{t}" for t in ANALYTICS_TABLES],
        partial(_write_rows, ctx, computed, checks),
        ctx.cancel,
        ctx.warn,
    )
    ctx.progress(len(ANALYTICS_TABLES), len(ANALYTICS_TABLES), "tables", "done", force=True)
    output = StageOutput(checks=checks)
    for result in computed:  # logged here, in table order, whatever order the threads finished in
        rows = int(result.row is not None)
        ctx.log(f"{schema}.{result.table}: {rows} row(s) for ingestion_date {ctx.config.pipeline.ingestion_date}")
        output.rows += rows
        output.details[result.table] = _json_friendly(result.row or {})
    return output


class TablesProgress:
    """Tables finished out of three, reported from the threads computing them."""

    def __init__(self, ctx: StageContext):
        self._ctx, self._done, self._lock = ctx, 0, threading.Lock()

    def update(self, table: str, *, finished: bool) -> None:
        with self._lock:
            self._done += finished
            message = f"{table} done" if finished else f"computing {table}"
            self._ctx.progress(self._done, len(ANALYTICS_TABLES), "tables", message, force=True)


def compute_row(ctx: StageContext, table: str, progress: TablesProgress, cancel: CancelToken) -> TableRow:
    """The run's row of one analytics table, computed by a read-only query."""
    with job_connection(ctx.services, "analytics", cancel, f"computing {ctx.config.analytics_schema}.{table}") as (
        _conn,
        cur,
    ):
        progress.update(table, finished=False)
        try:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(render_sql(f"analytics/{table}.sql", **ctx.config.sql_schemas), analytics_parameters(ctx))
            found = cur.fetchone()
        except psycopg2.errors.UndefinedTable as exc:
            raise StageError(
                f"{table}: {exc.diag.message_primary}; run the prepare and staging stages "
                f"first, and check that [warehouse] dims_schema has the dimension tables"
            ) from None
        except psycopg2.Error as exc:
            raise warehouse_disk_full(exc, ctx.services) or StageError(
                f"{table}: {(exc.diag.message_primary or str(exc)).strip()}"
            ) from None
        row = dict(zip(column_names(cur), found, strict=True)) if found else None
    progress.update(table, finished=True)
    return TableRow(table, row)


def _write_rows(ctx: StageContext, computed: list[TableRow], checks: list[CheckOutcome], cur: Any) -> None:
    """Replace the run's row of every table, then check them: a failed ERROR check rolls all back."""
    schema = safe_identifier(ctx.config.analytics_schema)
    for result in computed:
        table = safe_identifier(result.table)
        cur.execute(
            sql.SQL("DELETE FROM {}.{} WHERE ingestion_date = %s").format(schema, table),
            (ctx.config.pipeline.ingestion_date,),
        )
        if result.row is not None:
            cur.execute(
                sql.SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
                    schema,
                    table,
                    sql.SQL(", ").join(safe_identifier(c) for c in result.row),
                    sql.SQL(", ").join(sql.Placeholder() for _ in result.row),
                ),
                list(result.row.values()),
            )
    checks[:] = run_checks(cur, ctx.config, ANALYTICS_CHECKS)
    if blocking := blocking_failures(checks):
        raise StageError(f"analytics checks failed: {blocking}")


def _json_friendly(row: dict[str, Any]) -> dict[str, Any]:
    return {name: (value.isoformat() if hasattr(value, "isoformat") else value) for name, value in row.items()}
