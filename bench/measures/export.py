"""Export: the three analytics tables, then the same code path on the one-million-row orders table.

The analytics tables hold one row per ingestion day, so their export is all fixed cost; the 1.3x
target is judged on the large table, against psql \\copy of the exact same SELECT to a local file,
psql plus the upload of that file, and the floor of any streaming export to this S3.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from psycopg2 import sql

from bench.context import Bench, say
from bench.measure import run_psql, run_worker
from bench.settings import ANALYTICS_SCHEMA, BIG_EXPORT_SCHEMA, BIG_EXPORT_USER_ID, BUCKET, STAGING_SCHEMA, USER_ID
from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.s3 import MultipartWriter
from etl_core.sql_files import safe_identifier
from etl_core.stages.export import export_query

BIG_TABLE = "orders"
BIG_KEY = f"analytics_export/{USER_ID}/bench_big_orders.csv"


def measure_export(bench: Bench, scale: float) -> dict[str, Any]:
    out_dir = bench.tmp / f"export-{scale:g}"
    out_dir.mkdir(exist_ok=True)
    out = analytics_tables(bench, out_dir)
    out["big"] = big_table(bench, out_dir)
    big = out["big"]
    say(
        f"  export (orders, {big['rows']:,} rows) ours {big['ours']['seconds']:.2f}s psql "
        f"{big['psql']['seconds']:.2f}s pandas {big['pandas']['seconds']:.2f}s"
    )
    return out


def analytics_tables(bench: Bench, out_dir: Path) -> dict[str, Any]:
    rounds = bench.options.rounds(3)
    ours = []
    for _ in range(rounds):
        measured, result = run_worker("stage", bench.services.spec(stages=["export"]), bench.log)
        stage = result["stages"]["export"]
        ours.append({"seconds": stage["seconds"], "rss_mb": measured.rss_mb, "rows": stage["rows"]})
    queries = {table: export_sql(bench, ANALYTICS_SCHEMA, table) for table in ANALYTICS_TABLES}
    script = "".join(psql_copy_to(query, out_dir / f"{table}.csv") for table, query in queries.items())
    theirs = []
    for _ in range(rounds):
        measured = run_psql(bench.services.pg_url, script, bench.log)
        theirs.append({"seconds": measured.wall, "rss_mb": measured.rss_mb})
    (out_dir / "pandas").mkdir(exist_ok=True)
    spec = bench.services.spec(queries=queries, out_dir=str(out_dir / "pandas"))
    measured, result = run_worker("pandas_export", spec, bench.log)
    out = {
        "ours": _fastest(ours),
        "psql": _fastest(theirs),
        "pandas": {"seconds": result["seconds"], "rss_mb": measured.rss_mb},
    }
    say(
        f"  export (analytics tables) ours {out['ours']['seconds']:.3f}s psql {out['psql']['seconds']:.3f}s "
        f"pandas {out['pandas']['seconds']:.3f}s"
    )
    return out


def big_table(bench: Bench, out_dir: Path) -> dict[str, Any]:
    table = sql.SQL("{}.{}").format(safe_identifier(BIG_EXPORT_SCHEMA), safe_identifier(BIG_TABLE))
    # Orders with an ingestion_date column, so the export query applies unchanged.
    bench.services.execute(
        sql.SQL(
            "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} AS "
            "SELECT order_date AS ingestion_date, o.*, (quantity > 5) AS bulk_order FROM {orders} o"
        ).format(
            table=table, orders=sql.SQL("{}.{}").format(safe_identifier(STAGING_SCHEMA), safe_identifier("orders"))
        )
    )
    # Vacuumed now, so neither contender pays the hint bits nor meets autovacuum mid-run.
    bench.services.vacuum_analyze(table)
    query = export_sql(bench, BIG_EXPORT_SCHEMA, BIG_TABLE)
    local_copy = out_dir / "big.csv"
    big = ours_and_psql(bench, query, local_copy)
    big["psql_upload"] = psql_then_upload(bench, big["psql"], local_copy)
    big["s3_tail"] = s3_tail(bench, local_copy, BIG_KEY + ".tail")
    measured, result = run_worker(
        "pandas_export", bench.services.spec(queries={"big": query}, out_dir=str(out_dir)), bench.log
    )
    big["pandas"] = {"seconds": result["seconds"], "rss_mb": measured.rss_mb}
    big["rows"] = big["ours"]["rows"]
    bench.services.s3.delete_object(Bucket=BUCKET, Key=BIG_KEY)
    bench.services.execute(sql.SQL("DROP TABLE {}").format(table))
    return big


def ours_and_psql(bench: Bench, query: str, local_copy: Path) -> dict[str, Any]:
    ours, theirs = [], []
    spec = bench.services.spec(user_id=BIG_EXPORT_USER_ID, table=BIG_TABLE, key=BIG_KEY)
    # Interleaved, so drift and background work hit both alike; five rounds, as a 0.6 s run on
    # 2 cores shared with the S3 server varies by +-0.1 s.
    for _ in range(bench.options.rounds(5)):
        measured, result = run_worker("export_big", spec, bench.log)
        ours.append(
            {
                "seconds": result["seconds"],
                "rss_mb": measured.rss_mb,
                "rows": result["rows"],
                "bytes": result["bytes"],
                "copy_only_seconds": result["copy_only_seconds"],
            }
        )
        measured = run_psql(bench.services.pg_url, psql_copy_to(query, local_copy), bench.log)
        theirs.append({"seconds": measured.wall, "rss_mb": measured.rss_mb})
    return {
        "ours": _fastest(ours),
        "psql": _fastest(theirs),
        "samples": {"ours": [c["seconds"] for c in ours], "psql": [c["seconds"] for c in theirs]},
    }


def psql_then_upload(bench: Bench, psql_best: dict[str, Any], local_copy: Path) -> dict[str, Any]:
    """The limit for an export that must land in S3: psql to a local file, then the upload of that file."""
    key = BIG_KEY + ".psql"
    upload = _timed(lambda: bench.services.s3.upload_file(str(local_copy), BUCKET, key))
    bench.services.s3.delete_object(Bucket=BUCKET, Key=key)
    return {"seconds": psql_best["seconds"] + upload, "rss_mb": psql_best["rss_mb"]}


def s3_tail(bench: Bench, path: Path, key: str) -> float:
    """What S3 still needs once the last byte exists: the last part's upload and the complete.

    The same bytes go through MultipartWriter (8 MB parts, as the export sends them); only
    `complete()` is timed. No export can finish faster than its COPY plus this.
    """
    s3 = bench.services.s3
    times = []
    for _ in range(bench.options.rounds(3)):
        writer = MultipartWriter(s3, BUCKET, key)
        with open(path, "rb") as source:
            while chunk := source.read(1024 * 1024):
                writer.write(chunk)
        times.append(_timed(writer.complete))
        s3.delete_object(Bucket=BUCKET, Key=key)
    return min(times)


def export_sql(bench: Bench, schema: str, table: str) -> str:
    """The SELECT our export runs for the table, as text for psql and pandas."""
    with bench.services.cursor() as cur:
        return export_query(cur, schema, table).as_string(cur)


def psql_copy_to(query: str, path: Path) -> str:
    return f"\\copy ({query}) TO '{path}' WITH (FORMAT csv, HEADER true)\n"


def _fastest(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    return min(candidates, key=lambda c: c["seconds"])


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
