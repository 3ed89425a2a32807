"""Analytics: the three tables of PIPELINE.md section 5 from `sql/analytics/`, all or nothing.

The three queries run at once, each in its own transaction with its table's ERROR check; the
transactions commit together only when every table succeeded, so a failure keeps all the
previous rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg2.errors
from psycopg2 import sql

from etl_core.checks import ANALYTICS_CHECKS, ANALYTICS_TABLES, blocking_failures, run_checks
from etl_core.errors import Cancelled, StageError
from etl_core.events import CancelToken, CheckOutcome
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.all_or_nothing import OpenTransaction, open_transaction, run_all_or_nothing
from etl_core.stages.context import StageContext, StageOutput


@dataclass(frozen=True)
class TableResult:
    table: str
    rows: int
    checks: list[CheckOutcome]
    current_row: dict


def analytics_parameters(ctx: StageContext) -> dict:
    pipeline = ctx.config.pipeline
    return {"ingestion_date": pipeline.ingestion_date, "as_of_date": pipeline.as_of_date,
            "best_product_by": pipeline.best_product_by}


def run_analytics(ctx: StageContext) -> StageOutput:
    ctx = ctx.for_threads()
    progress = TablesProgress(ctx)
    results = run_all_or_nothing([partial(compute_table, ctx, table, progress) for table in ANALYTICS_TABLES],
                                 ctx.cancel, "analytics")
    ctx.progress(len(ANALYTICS_TABLES), len(ANALYTICS_TABLES), "tables", "done", force=True)
    output = StageOutput()
    for result in results:  # logged here, in table order, whatever order the threads finished in
        ctx.log(f"{ctx.config.analytics_schema}.{result.table}: {result.rows} row(s) for ingestion_date "
                f"{ctx.config.pipeline.ingestion_date}")
        output.rows += result.rows
        output.checks += result.checks
        output.details[result.table] = result.current_row
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


def compute_table(ctx: StageContext, table: str, progress: TablesProgress,
                  cancel: CancelToken) -> OpenTransaction[TableResult]:
    """Replace the run's row of one analytics table and check it, in a transaction left open."""
    config = ctx.config
    with open_transaction(ctx.services, "analytics", cancel) as (conn, cur):
        progress.update(table, finished=False)
        cancel.raise_if_cancelled()
        try:
            cur.execute(render_sql(f"analytics/{table}.sql", **config.sql_schemas), analytics_parameters(ctx))
        except psycopg2.errors.QueryCanceled:
            raise Cancelled("cancelled by the operator") from None
        except psycopg2.errors.UndefinedTable as exc:
            raise StageError(f"{table}: {exc.diag.message_primary}; run the prepare and staging stages "
                             f"first, and check that [warehouse] dims_schema has the dimension tables") from None
        except psycopg2.Error as exc:
            raise StageError(f"{table}: {(exc.diag.message_primary or str(exc)).strip()}") from None
        rows = max(cur.rowcount, 0)
        # Checked inside the transaction: a failed ERROR check rolls back, keeping the previous rows.
        checks = run_checks(cur, config, tuple(c for c in ANALYTICS_CHECKS if c.table == table))
        if blocking := blocking_failures(checks):
            raise StageError(f"analytics checks failed: {blocking}")
        current_row = _current_row(cur, ctx, table)
    progress.update(table, finished=True)
    return OpenTransaction(conn, TableResult(table, rows, checks, current_row))


def _current_row(cur: Any, ctx: StageContext, table: str) -> dict:
    """The table's row for this ingestion_date, as plain JSON-friendly values."""
    cur.execute(sql.SQL("SELECT * FROM {}.{} WHERE ingestion_date = %s").format(
        safe_identifier(ctx.config.analytics_schema), safe_identifier(table)),
        (ctx.config.pipeline.ingestion_date,))
    names = [d.name for d in cur.description]
    row = cur.fetchone()
    if row is None:
        return {}
    return {n: (v.isoformat() if hasattr(v, "isoformat") else v) for n, v in zip(names, row, strict=True)}
