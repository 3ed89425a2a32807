"""`--dry-run` changes nothing anywhere: on a fresh embedded folder it starts nothing and says what the first
run would create; against real services it reads, and names what is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=clean
    )


def test_a_dry_run_on_a_fresh_embedded_folder_creates_nothing_and_says_what_would_be(tmp_path):
    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    result = cli(["--dry-run", "--json", "--demo-scale", "2"], tmp_path)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    state = tmp_path / ".d2b-state"
    assert plan["would_create"] == [
        f"the embedded Postgres in {state / 'pg'}",
        f"the embedded S3 store in {state / 's3'}",
        "the bucket(s) d2b-internal-assessment-bucket in the embedded S3",
        "the demo dataset at scale 2 under s3://d2b-internal-assessment-bucket/orders_data/",
        "the demo dimensions in if_common",
    ]
    assert [s["key"] for s in plan["sources"]] == [
        "orders_data/orders.csv",
        "orders_data/reviews.csv",
        "orders_data/shipment_deliveries.csv",
    ]
    assert not state.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]
    human = cli(["--dry-run"], tmp_path)
    assert human.returncode == 0 and f"would create the embedded Postgres in {state / 'pg'}" in human.stdout
    assert "(to be generated)" in human.stdout and not state.exists()


def test_a_dry_run_against_real_services_reads_and_names_what_is_missing(env, tmp_path):
    env.put("shipments_deliveries.csv", "shipment_id,order_id,shipment_date,delivery_date\n")
    result = cli(["--dry-run", "--json", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["would_create"] == [
        f"the schema {env.user_id}_staging and its tables (prepare stage)",
        f"the schema {env.user_id}_analytics and its tables (prepare stage)",
    ]
    shipments = plan["sources"][2]
    assert shipments["key"] == "orders_data/shipment_deliveries.csv"
    assert shipments["ignored"] == ["orders_data/shipments_deliveries.csv"]
    schemas = env.query(
        "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)",
        ([f"{env.user_id}_staging", f"{env.user_id}_analytics"],),
    )
    assert schemas == []  # nothing was created: no schema, so no history either
    assert not env.config.console.state_dir.exists() or not any(env.config.console.state_dir.iterdir())
