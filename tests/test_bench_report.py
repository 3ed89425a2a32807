"""The benchmark's report: the same tables and BENCHMARKS.md layout as before its split into modules.

tests/data/bench-results.json is a real `--scales 1 10` run (EXPLAIN plans left out: the report
does not show them); tests/data/bench-report.md is what the one-file bench/run_bench.py wrote from
it. When a measurement is added on purpose, regenerate the expected file from the results with
`python bench/run_bench.py --report-from tests/data/bench-results.json` on a copy of BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.report.output import BEGIN, END, markdown_block, write_markdown
from bench.report.tables import report_tables
from bench.report.verdicts import report_verdicts
from tui.widgets.history.trends import plots_installed

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"


def _results() -> dict[str, Any]:
    results: dict[str, Any] = json.loads((DATA / "bench-results.json").read_text())
    return results


def test_benchmarks_md_block_is_unchanged_by_the_split(tmp_path):
    results = _results()
    target = tmp_path / "BENCHMARKS.md"
    target.write_text(f"# Benchmarks\n\nProse kept.\n\n{BEGIN}\nold\n{END}\n\nTail kept.\n")
    write_markdown(markdown_block(report_tables(results), report_verdicts(results), results), target)
    assert target.read_text() == (DATA / "bench-report.md").read_text()


def test_verdicts_judge_the_largest_scale():
    verdicts = {target: (measured, result) for target, measured, result in report_verdicts(_results())}
    assert verdicts["staging within 1.1x of psql \\copy (scale 10)"] == ("0.73x", "PASS")
    assert verdicts["analytics grows no faster than the data (1 → 10)"][1] == "PASS"
    assert verdicts["export of the 3 analytics tables (scale 10): fixed cost, not judged"][1] == "n/a"


def test_a_failed_target_reads_fail():
    results = _results()
    results["scales"]["10"]["staging"]["ours"]["seconds"] *= 10
    verdicts = {target: result for target, _measured, result in report_verdicts(results)}
    assert verdicts["staging within 1.1x of psql \\copy (scale 10)"] == "FAIL"


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    """bench/run_bench.py with `args`, its output captured (wide, so table titles stay whole)."""
    return subprocess.run(
        [sys.executable, "bench/run_bench.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_run_bench_script_rerenders_a_saved_run():
    result = run_bench("--report-from", str(DATA / "bench-results.json"), "--no-write")
    assert result.returncode == 0, result.stderr
    for title in (
        "Staging load (3 files)",
        "Export",
        "Analytics stage",
        "d2b-console --run-all (embedded default)",
        "TUI",
        "Targets (issue #5)",
    ):
        assert title in result.stdout


def test_the_refused_load_is_judged_against_the_clean_staging():
    results = _results()
    staging = results["scales"]["10"]["staging"]
    staging["refused"] = {"seconds": staging["ours"]["seconds"] * 2.5, "bad_records": 1_000, "samples": []}
    verdicts = {target: (measured, result) for target, measured, result in report_verdicts(results)}
    target = "every bad record of an orders.csv with 1% bad (1,000) named within 3x of the clean staging (scale 10)"
    assert verdicts[target][0].startswith("2.50x") and verdicts[target][1] == "PASS"
    staging["refused"]["seconds"] = staging["ours"]["seconds"] * 3.5
    verdicts = {target: (measured, result) for target, measured, result in report_verdicts(results)}
    assert verdicts[target][1] == "FAIL"


def test_the_trends_draw_runs_alone(tmp_path):
    """`--only trends` measures the history's trends without services (no timing asserted: the machine is busy)."""
    result = run_bench("--only", "trends", "--json", str(tmp_path / "r.json"))
    assert result.returncode == 0, result.stderr
    measured = json.loads((tmp_path / "r.json").read_text())["tui"]
    drawn = measured["trends_draw"]
    assert (drawn["dates"], drawn["series"], len(drawn["all_ms"]), drawn["plot"]) == (365, 13, drawn["rounds"], False)
    if plots_installed():  # the plots extra: the same draw with its line plot beside the sparklines
        assert measured["trends_plot_draw"]["plot"] is True
    assert 0 < drawn["best_ms"] <= drawn["median_ms"]
    assert "history trends: 365 dates drawn" in result.stdout and "load average" in result.stdout
