"""Analytics: the three tables of PIPELINE.md section 5 from `sql/analytics/`, in one transaction."""

from __future__ import annotations

from typing import Any

import psycopg2.errors
from psycopg2 import sql

from etl_core.checks import ANALYTICS_CHECKS, ANALYTICS_TABLES, blocking_failures, run_checks
from etl_core.errors import Cancelled, StageError
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.context import StageContext, StageOutput
from etl_core.warehouse import transaction


def analytics_parameters(ctx: StageContext) -> dict:
    pipeline = ctx.config.pipeline
    return {"ingestion_date": pipeline.ingestion_date, "as_of_date": pipeline.as_of_date,
            "best_product_by": pipeline.best_product_by}


def run_analytics(ctx: StageContext) -> StageOutput:
    config = ctx.config
    identifiers = {"staging": config.staging_schema, "analytics": config.analytics_schema,
                   "dims": config.warehouse.dims_schema}
    output = StageOutput()
    conn = ctx.services.connect(purpose="analytics")
    remove_cancel = ctx.cancel.on_cancel(conn.cancel)
    try:
        with transaction(conn) as cur:
            for done, table in enumerate(ANALYTICS_TABLES):
                ctx.cancel.raise_if_cancelled()
                ctx.progress(done, len(ANALYTICS_TABLES), "tables", table, force=True)
                try:
                    cur.execute(render_sql(f"analytics/{table}.sql", **identifiers), analytics_parameters(ctx))
                except psycopg2.errors.QueryCanceled:
                    raise Cancelled("cancelled by the operator") from None
                except psycopg2.errors.UndefinedTable as exc:
                    raise StageError(f"{table}: {exc.diag.message_primary}; run the prepare and staging stages "
                                     f"first, and check that [warehouse] dims_schema has the dimension tables") from None
                except psycopg2.Error as exc:
                    raise StageError(f"{table}: {(exc.diag.message_primary or str(exc)).strip()}") from None
                output.rows += max(cur.rowcount, 0)
                ctx.log(f"{config.analytics_schema}.{table}: {max(cur.rowcount, 0)} row(s) for "
                        f"ingestion_date {config.pipeline.ingestion_date}")
            # Checked inside the transaction: a failed ERROR check rolls back, keeping the previous rows.
            output.checks = run_checks(cur, config, ANALYTICS_CHECKS)
            if blocking := blocking_failures(output.checks):
                raise StageError(f"analytics checks failed: {blocking}")
            ctx.progress(len(ANALYTICS_TABLES), len(ANALYTICS_TABLES), "tables", "done", force=True)
            output.details = {table: row for table, row in zip(ANALYTICS_TABLES, _current_rows(cur, ctx), strict=True)}
    finally:
        remove_cancel()
        conn.close()
    return output


def _current_rows(cur: Any, ctx: StageContext) -> list[dict]:
    """Each analytics table's row for this ingestion_date, as plain JSON-friendly values."""
    rows = []
    for table in ANALYTICS_TABLES:
        cur.execute(sql.SQL("SELECT * FROM {}.{} WHERE ingestion_date = %s").format(
            safe_identifier(ctx.config.analytics_schema), safe_identifier(table)),
            (ctx.config.pipeline.ingestion_date,))
        names = [d.name for d in cur.description]
        row = cur.fetchone()
        rows.append({n: (v.isoformat() if hasattr(v, "isoformat") else v) for n, v in zip(names, row, strict=True)} if row else {})
    return rows
