"""The analytics stage: its time, EXPLAIN ANALYZE of the three queries, and both again with candidate indexes."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from bench.context import Bench, say
from bench.measure import run_worker
from bench.settings import CANDIDATE_INDEXES, STAGING_SCHEMA
from bench.workers.config import bench_config
from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.sql_files import render_sql, safe_identifier


def measure_analytics(bench: Bench) -> dict[str, Any]:
    out: dict[str, Any] = {"seconds": best_stage_time(bench), "plans": explain(bench)}
    # Candidate indexes, experimentally (the next staging load recreates the tables without them).
    with bench.services.cursor() as cur:
        for table, column in CANDIDATE_INDEXES:
            cur.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({})").format(
                    _index_name(table, column),
                    safe_identifier(STAGING_SCHEMA),
                    safe_identifier(table),
                    safe_identifier(column),
                )
            )
        for table, _column in CANDIDATE_INDEXES:
            cur.execute(sql.SQL("ANALYZE {}.{}").format(safe_identifier(STAGING_SCHEMA), safe_identifier(table)))
    out["seconds_indexed"] = best_stage_time(bench)
    out["plans_indexed"] = explain(bench)
    with bench.services.cursor() as cur:
        for table, column in CANDIDATE_INDEXES:
            cur.execute(
                sql.SQL("DROP INDEX IF EXISTS {}.{}").format(
                    safe_identifier(STAGING_SCHEMA), _index_name(table, column)
                )
            )
    say(f"  analytics {out['seconds']:.3f}s; with indexes {out['seconds_indexed']:.3f}s")
    return out


def best_stage_time(bench: Bench) -> float:
    # About a second each even at scale 100; the best of 3 tames the noise.
    times: list[float] = []
    for _ in range(bench.options.rounds(3)):
        _measured, result = run_worker("stage", bench.services.spec(stages=["analytics"]), bench.log)
        times.append(result["stages"]["analytics"]["seconds"])
    return min(times)


def explain(bench: Bench) -> dict[str, str]:
    """The plan of each table's query (a read-only SELECT of the day's row), as the stage runs it."""
    config = bench_config(bench.services.spec())
    pipeline = config.pipeline
    params = {
        "ingestion_date": pipeline.ingestion_date,
        "as_of_date": pipeline.as_of_date,
        "best_product_by": pipeline.best_product_by,
    }
    plans: dict[str, str] = {}
    conn = bench.services.connect()
    try:
        with conn.cursor() as cur:
            for table in ANALYTICS_TABLES:
                query = render_sql(f"analytics/{table}.sql", **config.sql_schemas).as_string(cur)
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query, params)
                plans[table] = "\n".join(row[0] for row in cur.fetchall())
        conn.rollback()
    finally:
        conn.close()
    return plans


def _index_name(table: str, column: str) -> sql.Identifier:
    return safe_identifier(f"bench_{table}_{column}")
