"""Our contenders: stages of the real pipeline, and the export code path on a large table."""

from __future__ import annotations

import io
import time
from typing import Any

from bench.settings import BUCKET
from bench.workers.config import bench_config
from bench.workers.protocol import emit
from etl_core.events import CancelToken
from etl_core.pipeline import run_pipeline
from etl_core.services import open_services
from etl_core.stages.context import StageContext
from etl_core.stages.export import export_query, export_table
from etl_core.stages.export_target import ExportTarget
from etl_core.warehouse import transaction


def stages(spec: dict[str, Any]) -> None:
    """run_pipeline for spec["stages"]; each stage's own duration, rows and details."""
    with open_services(bench_config(spec)) as services:
        started = time.perf_counter()
        summary = run_pipeline(services, tuple(spec["stages"]))
        total = time.perf_counter() - started
    results = {
        r.stage: {"status": r.status, "seconds": r.duration_s, "rows": r.rows, "details": r.details, "error": r.error}
        for r in summary.stages
    }
    for stage in results.values():
        if stage["status"] != "succeeded":
            raise SystemExit(f"stage failed: {stage}")
    emit({"total": total, "stages": results})


def refused_staging(spec: dict[str, Any]) -> None:
    """run_pipeline of prepare and staging on a file with bad records: the refused stage's duration and report."""
    with open_services(bench_config(spec)) as services:
        summary = run_pipeline(services, ("prepare", "staging"))
    staging = summary.stages[1]
    if staging.status != "failed" or "rejected" not in staging.details:
        raise SystemExit(f"staging was not refused with its bad records: {staging.status} {staging.error}")
    rejected = staging.details["rejected"]
    emit({"seconds": staging.duration_s, "bad_records": sum(r["bad_records"] for r in rejected)})


def export_big(spec: dict[str, Any]) -> None:
    """export_table of one large table to S3, then the same COPY into a sink that drops the bytes."""
    config = bench_config(spec)
    with open_services(config) as services:
        ctx = StageContext(config, services, run_id=0, stage="export", sink=lambda _event: None, cancel=CancelToken())
        conn = services.connect(purpose="export")
        try:
            started = time.perf_counter()
            with transaction(conn) as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                rows, size = export_table(ctx, cur, ExportTarget(spec["table"], BUCKET, spec["key"]))
            seconds = time.perf_counter() - started
            # Our side of the export without S3.
            with transaction(conn) as cur:
                query = export_query(cur, config.analytics_schema, spec["table"])
                copy = f"COPY ({query.as_string(cur)}) TO STDOUT WITH (FORMAT csv, HEADER true)"
                started = time.perf_counter()
                cur.copy_expert(copy, io.BufferedWriter(_NullSink(), buffer_size=1024 * 1024))
                copy_only = time.perf_counter() - started
        finally:
            conn.close()
    emit({"seconds": seconds, "rows": rows, "bytes": size, "copy_only_seconds": copy_only})


class _NullSink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return len(data)
