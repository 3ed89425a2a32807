"""The demo dataset of the embedded default: its shape, its determinism, and a run that needs no pandas."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from etl_core import demo_data
from etl_core.pipeline import run_pipeline
from etl_core.stages.staging.sources import SOURCE_FILES
from support import run_without_pandas

REPO = Path(__file__).resolve().parents[1]
SCALE = 0.2  # 2,000 orders, 1,440 reviews


def _read(env, name: str) -> list[dict[str, str]]:
    body = env.s3.get_object(Bucket=env.bucket, Key=f"orders_data/{name}")["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_dataset_has_the_source_files_shape(env):
    files = demo_data.upload_demo_dataset(env.s3, env.bucket, "orders_data/", SCALE)
    assert {f.key_name: f.rows for f in files} == {
        "orders.csv": 2000,
        "reviews.csv": 1440,
        "shipment_deliveries.csv": 2000,
    }
    tables = {source.names[0]: source for source in SOURCE_FILES}
    rows = {name: _read(env, name) for name in tables}
    for name, source in tables.items():
        assert list(rows[name][0]) == list(source.columns), name
        assert len(rows[name]) == {f.key_name: f.rows for f in files}[name]
    orders = {int(o["order_id"]): o for o in rows["orders.csv"]}
    assert sorted(orders) == list(range(1, 2001))
    for o in orders.values():
        assert demo_data.FIRST_ORDER_DATE <= date.fromisoformat(o["order_date"]) <= demo_data.LAST_ORDER_DATE
        assert int(o["total_price"]) == int(o["unit_price"]) * int(o["quantity"])
        assert 1 <= int(o["product_id"]) <= demo_data.PRODUCTS and 1 <= int(o["customer_id"]) <= demo_data.CUSTOMERS
    shipped = delivered = 0
    for s in rows["shipment_deliveries.csv"]:  # one shipment row per order, days after it
        order_date = date.fromisoformat(orders[int(s["order_id"])]["order_date"])
        assert s["shipment_id"] == s["order_id"]
        if s["shipment_date"]:
            shipped += 1
            shipment_date = date.fromisoformat(s["shipment_date"])
            assert timedelta(days=1) <= shipment_date - order_date <= timedelta(days=6)
            if s["delivery_date"]:
                delivered += 1
                assert timedelta(days=1) <= date.fromisoformat(s["delivery_date"]) - shipment_date <= timedelta(3)
        else:
            assert s["delivery_date"] == ""
    assert 0.25 < shipped / 2000 < 0.42 and 0.6 < delivered / shipped < 0.9  # a third ship, 3/4 of them arrive
    assert {r["review"] for r in rows["reviews.csv"]} == {"1", "2", "3", "4", "5"}


def test_dataset_is_the_same_every_time():
    first = list(demo_data.order_and_shipment_chunks(SCALE)) + list(demo_data.review_chunks(SCALE))
    again = list(demo_data.order_and_shipment_chunks(SCALE)) + list(demo_data.review_chunks(SCALE))
    assert first == again


def test_dataset_loads_through_staging(env):
    demo_data.upload_demo_dataset(env.s3, env.bucket, "orders_data/", SCALE)
    with env.open() as services:
        summary = run_pipeline(services, ("prepare", "staging"))
    assert summary.status == "succeeded", [s.error for s in summary.stages]
    assert summary.stages[-1].rows == 2000 + 1440 + 2000


@pytest.mark.slow
def test_run_all_on_the_embedded_default_needs_no_pandas_or_numpy(tmp_path):
    """The README's first command on a lean install: pandas is only in extras."""
    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    code = "from tui.launcher import main\nsys.exit(main(['--run-all', '--json', '--demo-scale', '0.2']))\n"
    result = run_without_pandas(code, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded"
    assert [s["rows"] for s in summary["stages"]][1] == 2000 + 1440 + 2000
