"""Staging load of the three files: ours against psql \\copy (interleaved), then pandas to_sql."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg2 import sql

from bench.context import Bench, say
from bench.measure import run_psql, run_worker
from bench.measures.data import Dataset
from bench.measures.reader import ReaderLoop, summarize
from bench.settings import BUCKET, PREFIX, STAGING_SCHEMA
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.staging.sources import SOURCE_FILES
from etl_core.stages.staging.tables import create_staging_table

PSQL_SCHEMA = "bench_psql"
PANDAS_CONTENDERS = ((None, "bench_pandas", "pandas"), ("multi", "bench_pandas_multi", "pandas_multi"))


def measure_staging(bench: Bench, scale: float, data: Dataset) -> dict[str, Any]:
    out = ours_and_psql(bench, data)
    out["refused"] = refused_load(bench, data)
    for method, schema, key in PANDAS_CONTENDERS:
        if method == "multi" and scale > bench.options.pandas_multi_max_scale:
            out[key] = None
            continue
        out[key] = pandas_load(bench, data, method, schema)
        say(f"  staging {key} {out[key]['seconds']:.2f}s rss {out[key]['rss_mb']:.0f} MB")
    return out


def ours_and_psql(bench: Bench, data: Dataset) -> dict[str, Any]:
    script = psql_load_script(bench, data)
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for _ in range(bench.options.rounds(3)):  # interleaved, so drift and background work hit both alike
        ours.append(_our_staging(bench))
        measured = run_psql(bench.services.pg_url, script, bench.log)
        theirs.append({"seconds": measured.wall, "rss_mb": measured.rss_mb, "rows": data.rows})
    out: dict[str, Any] = {
        "ours": min(ours, key=lambda c: c["seconds"]),
        "psql": min(theirs, key=lambda c: c["seconds"]),
        "samples": {"ours": [c["seconds"] for c in ours], "psql": [c["seconds"] for c in theirs]},
        "reader": reader_during_loads(bench),
    }
    best = out["ours"]
    say(f"  staging ours {best['seconds']:.2f}s (slowest file {best['load_seconds']:.2f}s) rss {best['rss_mb']:.0f} MB")
    best = out["psql"]
    say(f"  staging psql \\copy {best['seconds']:.2f}s rss {best['rss_mb']:.0f} MB")
    rd = out["reader"]
    say(
        f"  a reader of {STAGING_SCHEMA}.orders during our loads: {rd['reads']} reads, longest "
        f"{rd['max_s'] * 1000:.0f} ms, median {rd['median_s'] * 1000:.0f} ms"
    )
    return out


def _our_staging(bench: Bench) -> dict[str, Any]:
    measured, result = run_worker("stage", bench.services.spec(stages=["prepare", "staging"]), bench.log)
    stage = result["stages"]["staging"]
    # The files load at once: the slowest one bounds the loading, the staging checks follow.
    return {
        "seconds": stage["seconds"],
        "load_seconds": max(d["seconds"] for d in stage["details"].values()),
        "rss_mb": measured.rss_mb,
        "rows": stage["rows"],
    }


BAD_EVERY = 100  # one data line in 100 is bad: the "1% bad records" of the target
BAD_KINDS = (b"5 Sep 22", b"-1", b"x")  # a date that is not ISO, a broken rule, not an integer


def refused_load(bench: Bench, data: Dataset, rounds: int = 2) -> dict[str, Any]:
    """Staging on an orders.csv with 1% bad records: how long until every one is named (the stage fails).

    The same bytes as the clean file, every BAD_EVERY-th data line spoilt in one of three ways;
    the clean object is put back afterwards.
    """
    source = next(s for s in SOURCE_FILES if s.table == "orders")
    clean = Path(data.paths["orders"]).read_bytes()
    header, _newline, body = clean.partition(b"\n")
    lines = body.split(b"\n")
    for n in range(BAD_EVERY - 1, len(lines) - 1, BAD_EVERY):
        fields = lines[n].split(b",")
        kind = (n // BAD_EVERY) % len(BAD_KINDS)
        fields[(2, 4, 1)[kind]] = BAD_KINDS[kind]  # order_date, unit_price, customer_id
        lines[n] = b",".join(fields)
    key = PREFIX + source.names[0]
    s3 = bench.services.s3
    s3.put_object(Bucket=BUCKET, Key=key, Body=header + b"\n" + b"\n".join(lines))
    try:
        samples = [run_worker("refused_staging", bench.services.spec(), bench.log)[1] for _ in range(rounds)]
    finally:
        s3.put_object(Bucket=BUCKET, Key=key, Body=clean)
    best = min(samples, key=lambda sample: sample["seconds"])
    say(f"  staging refused with 1% bad orders: {best['seconds']:.2f}s, {best['bad_records']:,} bad records named")
    return {**best, "samples": [sample["seconds"] for sample in samples]}


def reader_during_loads(bench: Bench, rounds: int = 2) -> dict[str, Any]:
    """A reader of the live orders table during loads that replace its million rows.

    Rounds of their own, after the timed ones: the reader's scans take CPU from the load (psql
    runs without one), so they would skew the comparison.
    """
    reads: list[float] = []
    for _ in range(rounds):
        with ReaderLoop(bench.services.pg_url, STAGING_SCHEMA, "orders") as reader:
            _our_staging(bench)
        reads += reader.latencies
    return summarize(reads)


def psql_load_script(bench: Bench, data: Dataset) -> str:
    """The same tables as ours, the fastest way psql can produce them.

    Per file, in one transaction like our stage: the DDL, the rows, then the primary key in one
    bulk build and statistics, exactly as the loader does.
    """
    lines = []
    with bench.services.cursor() as cur:
        for source in SOURCE_FILES:
            table = sql.SQL("{}.{}").format(safe_identifier(PSQL_SCHEMA), safe_identifier(source.table))
            columns = sql.SQL(", ").join(safe_identifier(c) for c in source.columns)
            add_key = (
                [sql.SQL("ALTER TABLE {} ADD PRIMARY KEY ({});").format(table, safe_identifier(source.key))]
                if source.key
                else []
            )
            ddl = render_sql(f"ddl/staging/{source.table}.sql", schema=PSQL_SCHEMA, table=source.table)
            lines += [
                "BEGIN;",
                sql.SQL("DROP TABLE IF EXISTS {};").format(table).as_string(cur),
                ddl.as_string(cur),
                sql.SQL("\\copy {} ({}) FROM ").format(table, columns).as_string(cur)
                + f"'{data.paths[source.table]}' WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')",
                *(statement.as_string(cur) for statement in add_key),
                sql.SQL("ANALYZE {};").format(table).as_string(cur),
                "COMMIT;",
            ]
    return "\n".join(lines) + "\n"


def pandas_load(bench: Bench, data: Dataset, method: str | None, schema: str) -> dict[str, Any]:
    """pandas into empty tables made from our DDL, dropped afterwards."""
    with bench.services.cursor() as cur:
        for source in SOURCE_FILES:
            _drop_table(cur, schema, source.table)
            create_staging_table(cur, schema, source, source.table)
    measured, result = run_worker(
        "pandas_load", bench.services.spec(files=data.paths, schema=schema, method=method), bench.log
    )
    with bench.services.cursor() as cur:
        for source in SOURCE_FILES:
            _drop_table(cur, schema, source.table)
    return {"seconds": result["seconds"], "rss_mb": measured.rss_mb, "rows": result["rows"]}


def _drop_table(cur: Any, schema: str, table: str) -> None:
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(safe_identifier(schema), safe_identifier(table)))
