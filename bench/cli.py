"""`python bench/run_bench.py`: run the benchmark, print the report, rewrite BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.context import Options
from bench.machine import describe_machine
from bench.measures.tui import measure_first_frame, measure_trends_draw
from bench.report.output import markdown_block, print_report, write_markdown
from bench.report.tables import report_tables, tui_table
from bench.report.verdicts import report_verdicts, tui_verdicts
from bench.runner import run


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="d2b-console benchmark: the pipeline measured against the physical limit and the usual approach."
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10, 100])
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="best of N for our stages and psql (default 3; 5 for the one-million-row export)",
    )
    parser.add_argument(
        "--pandas-multi-max-scale",
        type=float,
        default=10,
        help='pandas to_sql(method="multi") only up to this scale; above it "not measured"',
    )
    parser.add_argument("--skip-runall", action="store_true")
    parser.add_argument("--skip-tui", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    parser.add_argument("--json", help="write the raw results here")
    parser.add_argument("--report-from", help="only re-render the report from a --json file")
    parser.add_argument(
        "--only",
        choices=["trends", "first-frame"],
        help="run only this measurement; prints its table, never writes BENCHMARKS.md (first-frame: the console's "
        "own embedded services in a temp folder, one launch to create them, then --repeat launches, default 3)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.only:
        return only(args)
    if args.report_from:  # re-render the tables (and BENCHMARKS.md) from a saved --json file
        results = json.loads(Path(args.report_from).read_text())
    else:
        results = measure(args, "python bench/run_bench.py " + " ".join(argv))
    report(results, write=not args.no_write)
    return 0


def measure(args: argparse.Namespace, command: str) -> dict[str, Any]:
    started = time.perf_counter()
    results = run(
        Options(
            scales=args.scales,
            repeat=args.repeat,
            pandas_multi_max_scale=args.pandas_multi_max_scale,
            skip_runall=args.skip_runall,
            skip_tui=args.skip_tui,
            keep=args.keep,
        )
    )
    results["machine"] = describe_machine()
    results["command"] = command
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M %Z")
    results["total_s"] = time.perf_counter() - started
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print(f"total bench time {results['total_s']:.0f}s", file=sys.stderr)
    return results


def only(args: argparse.Namespace) -> int:
    """One measurement alone: the history's trends draw (no services), or the console's first frame (its own)."""
    load = "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())  # before: the measure adds its own
    with tempfile.TemporaryDirectory(prefix="d2b-bench-") as tmp:
        log = Path(tmp) / "bench.log"
        if args.only == "first-frame":
            (Path(tmp) / "run").mkdir(mode=0o700)  # pgserver's private runtime folder, as in a full run
            os.environ["XDG_RUNTIME_DIR"] = str(Path(tmp) / "run")
            (Path(tmp) / "state").mkdir()
            tui, wanted = measure_first_frame(Path(tmp) / "state", log, args.repeat or 3), "paint"
        else:
            tui, wanted = measure_trends_draw(log), "trends_draw"
        if wanted not in tui and log.exists():
            print(log.read_text(errors="replace"), file=sys.stderr)
    print_report([tui_table(tui)], tui_verdicts(tui))
    for paint in tui.get("paint_all", []):
        print(
            f"first frame {paint['first_paint_s']:.2f} s, connected {paint['services_s']:.2f} s, "
            f"load average (1 min) {paint['load']:.1f}"
        )
    print(f"on {describe_machine()}, {load}")
    if args.json:
        Path(args.json).write_text(json.dumps({"tui": tui, "load": load}, indent=1))
    return 0 if wanted in tui else 1


def report(results: dict[str, Any], *, write: bool) -> None:
    tables, verdicts = report_tables(results), report_verdicts(results)
    print_report(tables, verdicts)
    if write:
        results.setdefault("machine", describe_machine())
        results.setdefault("measured_at", time.strftime("%Y-%m-%d %H:%M %Z"))
        write_markdown(markdown_block(tables, verdicts, results))
