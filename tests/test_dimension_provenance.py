"""Dimensions with provenance: the embedded warehouse's demo dimensions go only with the demo dataset the
console generated; other source files stop the run before analytics (nothing exported) until real
dimensions are loaded with --load-dimensions, which checks them as strictly as staging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl_core.dimension_load import load_dimensions
from etl_core.dimension_provenance import LOAD_COMMAND, dimensions_fact, dimensions_in_use
from etl_core.errors import DataError
from etl_core.pipeline import run_pipeline
from etl_core.services import open_services
from support import put_small_dataset, write_dimension_files


def cli(env, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etl_core", *args, "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"},
    )


def test_load_dimensions_is_refused_on_a_warehouse_that_is_not_embedded(env, tmp_path):
    result = cli(env, tmp_path, "--load-dimensions", str(write_dimension_files(tmp_path / "dims")))
    assert result.returncode == 2, result.stderr
    assert "belongs to its owner" in result.stderr and "Traceback" not in result.stderr


def test_other_files_on_demo_dimensions_stop_before_analytics_until_real_ones_are_loaded(make_env, tmp_path):
    env = make_env()
    put_small_dataset(env)  # the tests' S3: not the demo data the console generated
    env.rewrite_config(url="embedded")
    with open_services(env.config) as services:
        summary = run_pipeline(services, ("prepare", "staging", "analytics", "export"))
        with services.transaction("test") as cur:
            assert dimensions_in_use(cur, env.config).kind == "demo"
    analytics = summary.stages[2]
    assert [s.status for s in summary.stages] == ["succeeded", "succeeded", "failed", "skipped"]
    assert analytics.rows == 0 and not analytics.details  # nothing computed, nothing exported
    (check,) = [c for c in analytics.checks if c.name == "dimensions_fit_sources"]
    assert not check.passed and check.severity == "ERROR"
    assert "generated demo dimensions" in check.detail and "d2b-console --load-dimensions DIR" in check.detail
    assert f"s3://{env.bucket}/orders_data/orders.csv" in check.detail

    # Bad dimension files: every bad value named by file, line, column and value; nothing replaced.
    bad = write_dimension_files(
        tmp_path / "bad",
        bad={"dim_dates": "maybe,2024-01-01,2024,1,1,1\nfalse,5 Sep 22,2022,9,5,1\n", "dim_products": "3,dup,x\n"},
    )
    with pytest.raises(DataError) as refused:
        load_dimensions(env.config, bad, lambda _m: None)
    message = str(refused.value)
    assert "dim_dates.csv: 2 bad value(s)" in message, message
    assert "line 1463, column working_day (field 1): invalid input syntax for type boolean; value 'maybe'" in message
    assert "line 1464, column calendar_dt (field 2): not an ISO date (YYYY-MM-DD); value '5 Sep 22'" in message
    with open_services(env.config, seed=False) as services, services.transaction("test") as cur:
        assert dimensions_in_use(cur, env.config).kind == "demo"

    dims = write_dimension_files(tmp_path / "dims")
    result = cli(env, tmp_path, "--load-dimensions", str(dims), "--json")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)["dimensions"]
    assert loaded["kind"] == "loaded" and loaded["folder"] == str(dims.resolve())
    assert loaded["rows"] == {"dim_addresses": 25, "dim_customers": 25, "dim_dates": 1461, "dim_products": 25}

    result = cli(env, tmp_path, "--run-all", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["dimensions"]["text"].startswith(f"dimensions loaded from {dims.resolve()} on ")
    assert "dim_dates 1,461" in summary["dimensions"]["text"]
    log = Path(summary["log_file"]).read_text()
    assert f"dimensions: dimensions loaded from {dims.resolve()}" in log
    plan = cli(env, tmp_path, "--dry-run")
    assert plan.returncode == 0 and f"dimensions: dimensions loaded from {dims.resolve()}" in plan.stdout


def test_the_consoles_title_names_demo_or_loaded_dimensions_and_not_the_owners():
    assert dimensions_fact({"kind": "demo", "folder": None}) == "DEMO dimensions"
    assert dimensions_fact({"kind": "loaded", "folder": "/data/if_common-2022"}) == "dimensions from if_common-2022"
    assert dimensions_fact({"kind": "owner", "folder": None}) == "" and dimensions_fact(None) == ""


def test_a_state_folder_older_than_the_demo_record_is_recognised_or_told_what_to_do(tmp_path):
    """Demo data generated before the console recorded it: the same bytes are recognised (regenerated in
    memory, ETags and sizes compared) and recorded; data that does not match gets the fix in the message."""
    from embedded_support import STATE, console, embedded_folder

    folder = embedded_folder(tmp_path / "op")
    first = console(folder, "--run-all", "--json")
    assert first.returncode == 0, first.stderr
    record = folder / STATE / "demo_dataset.json"
    recorded = json.loads(record.read_text())
    record.unlink()  # as in a state folder made before the record existed

    again = console(folder, "--run-all", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(record.read_text()) == recorded  # recognised, and recorded for the next runs

    record.unlink()
    config = folder / "config.toml"  # now the dataset generated at this scale is not what the bucket holds
    config.write_text(config.read_text().replace("demo_scale = 1 ", "demo_scale = 2 "))
    refused = console(folder, "--run-all", "--json")
    assert refused.returncode == 1, refused.stderr
    analytics = next(s for s in json.loads(refused.stdout)["stages"] if s["stage"] == "analytics")
    (check,) = [c for c in analytics["checks"] if c["name"] == "dimensions_fit_sources"]
    state = str((folder / STATE).resolve())
    assert "no record of the demo data the console generated" in check["detail"], check["detail"]
    assert f"delete the state folder {state}" in check["detail"] and LOAD_COMMAND in check["detail"]
    assert not record.exists()
