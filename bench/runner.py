"""One benchmark run: start the shared services, measure every scale in turn, then the console once."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.context import Bench, Options, say
from bench.measures.analytics import measure_analytics
from bench.measures.data import generate
from bench.measures.export import measure_export
from bench.measures.runall import measure_runall
from bench.measures.staging import measure_staging
from bench.measures.tui import measure_tui
from bench.services import BenchServices


def run(options: Options) -> dict[str, Any]:
    """The raw results: per scale, then the TUI; kept JSON-ready for --json and --report-from."""
    tmp = Path(tempfile.mkdtemp(prefix="d2b-bench-", dir="/tmp"))
    if not options.keep:
        # At exit, after pgserver's own exit hook (registered later, so run first) wrote its lock file here.
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    os.environ["XDG_RUNTIME_DIR"] = str(tmp / "run")  # pgserver's private runtime folder
    (tmp / "run").mkdir(mode=0o700)
    services = BenchServices(tmp)
    bench = Bench(services, tmp, tmp / "bench.log", options)
    results: dict[str, Any] = {"scales": {}, "tui": {}}
    try:
        services.start()
        results["postgres"] = list(services.postgres_settings)
        say(f"S3 (separate process) {services.s3_url}; Postgres {services.pg_url}")
        for scale in options.scales:
            results["scales"][f"{scale:g}"] = measure_scale(bench, scale)
        if not options.skip_tui:
            results["tui"] = measure_tui(bench, max(options.scales))
    finally:
        services.stop()
        if options.keep:
            say(f"kept {tmp}")
    return results


def measure_scale(bench: Bench, scale: float) -> dict[str, Any]:
    say(f"=== scale {scale:g}")
    data = generate(bench, scale)
    out: dict[str, Any] = {"data": data.summary()}
    out["staging"] = measure_staging(bench, scale, data)
    out["analytics"] = measure_analytics(bench)
    out["export"] = measure_export(bench, scale)
    if not bench.options.skip_runall:
        out["runall"] = measure_runall(bench, scale)
    shutil.rmtree(bench.tmp / f"data-{scale:g}", ignore_errors=True)
    return out
