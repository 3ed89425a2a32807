"""What changed since yesterday: row-count anomaly checks over dated runs, and what an export changes."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from etl_core.events import CheckOutcome, RunSummary
from etl_core.pipeline import run_pipeline
from etl_core.stages.export import preview_changes
from support import INGESTION_DATE, Env, put_dataset

FIRST = date(2022, 9, 1)


def set_date(env: Env, day: date) -> None:
    text = env.config_path.read_text()
    env.config_path.write_text(re.sub(r'ingestion_date = "[^"]*"', f'ingestion_date = "{day}"', text))


def put_orders(env: Env, count: int) -> None:
    put_dataset(
        env,
        orders=[(i, 1, "2022-06-01", 1, 10, 1) for i in range(1, count + 1)],
        reviews=[(5, 1)],
        shipments=[(1, 1, "2022-06-02", "2022-06-03")],
    )


def stage_on(env: Env, day: date, orders: int) -> RunSummary:
    set_date(env, day)
    put_orders(env, orders)
    with env.open() as services:
        return run_pipeline(services, stages=("prepare", "staging"))


def anomaly(summary: RunSummary, table: str = "orders") -> CheckOutcome:
    staging = next(s for s in summary.stages if s.stage == "staging")
    return next(c for c in staging.checks if c.name == f"{table}_row_count_anomaly")


def test_a_drop_in_orders_warns_once_there_is_history_and_the_day_before_passes(env: Env):
    counts = (100, 102, 100, 104)  # median 101; with the 98 of the fifth day, median 100
    outcomes = [anomaly(stage_on(env, FIRST + timedelta(days=n), count)) for n, count in enumerate(counts)]
    assert all(o.passed and o.severity == "WARN" for o in outcomes)
    assert outcomes[0].detail == "orders: not enough history (0 of 4 earlier dates)"
    assert outcomes[3].detail == "orders: not enough history (3 of 4 earlier dates)"

    day_before = stage_on(env, FIRST + timedelta(days=4), 98)
    assert day_before.status == "succeeded"
    judged = anomaly(day_before)
    assert judged.passed and "of the median 101 of 4 earlier dates (2022-09-01 to 2022-09-04)" in judged.detail

    dropped = stage_on(env, FIRST + timedelta(days=5), 33)  # a third of the usual orders
    drop = anomaly(dropped)
    assert not drop.passed and drop.severity == "WARN"
    assert drop.detail == (
        "orders: 33 rows, 33% of the median 100 of 5 earlier dates (2022-09-01 to 2022-09-05); expected 50 to 200"
    )
    assert dropped.status == "succeeded"  # a WARN reports; the day still loads
    assert env.query(f"SELECT count(*) FROM {env.user_id}_staging.orders") == [(33,)]
    assert anomaly(dropped, "reviews").passed  # one review every day: no change

    # A rerun of an earlier day is judged against the dates before it, and counts once in the baseline.
    rerun = stage_on(env, FIRST + timedelta(days=4), 98)
    assert anomaly(rerun).passed and "of 4 earlier dates" in anomaly(rerun).detail


def test_as_an_error_the_anomaly_blocks_the_publication(env: Env):
    env.config_path.write_text(env.config_path.read_text() + '\n[checks]\nrow_count_anomaly_severity = "ERROR"\n')
    for n in range(4):
        assert stage_on(env, FIRST + timedelta(days=n), 100).status == "succeeded"
    spike = stage_on(env, FIRST + timedelta(days=4), 250)
    assert spike.status == "failed"
    assert not anomaly(spike).passed and anomaly(spike).severity == "ERROR"
    assert env.query(f"SELECT count(*) FROM {env.user_id}_staging.orders") == [(100,)]  # nothing published


def changes_of(summary: RunSummary, table: str) -> dict[str, Any]:
    export = next(s for s in summary.stages if s.stage == "export")
    changes: dict[str, Any] = export.details[table]["changes"]
    return changes


def test_the_export_says_what_it_changes_at_each_key(env: Env):
    with env.open() as services:
        first = run_pipeline(services)
    assert first.status == "succeeded"
    day = INGESTION_DATE.isoformat()
    assert changes_of(first, "agg_shipments") == {
        "key": f"analytics_export/{env.user_id}/agg_shipments.csv",
        "existed": False,
        "added": [day],
        "removed": [],
        "changed": [],
        "unchanged": 0,
        "unknown": None,
    }

    # The same day again with shipment 3 delivered: one late shipment fewer.
    put_dataset(
        env,
        orders=[(1, 1, "2022-01-03", 1, 100, 2), (2, 2, "2022-05-02", 2, 50, 1), (3, 3, "2022-06-01", 1, 10, 3)],
        reviews=[(5, 1), (4, 1), (3, 2)],
        shipments=[(1, 1, "2022-01-05", "2022-01-07"), (2, 2, None, None), (3, 3, "2022-06-08", "2022-06-09")],
    )
    with env.open() as services:
        assert run_pipeline(services, stages=("prepare", "staging", "analytics")).status == "succeeded"
        previewed = {c.table: c for c in preview_changes(services)}
        second = run_pipeline(services, stages=("export",))
    expected = [{"ingestion_date": day, "columns": {"tt_late_shipments": {"old": "1", "new": "0"}}}]
    assert changes_of(second, "agg_shipments")["changed"] == expected
    assert changes_of(second, "agg_shipments")["existed"] is True
    assert changes_of(second, "agg_public_holiday")["changed"] == []
    assert changes_of(second, "agg_public_holiday")["unchanged"] == 1
    assert previewed["agg_shipments"].as_json() == changes_of(second, "agg_shipments")
    assert previewed["agg_shipments"].lines() == [
        "agg_shipments: 0 row(s) added, 0 removed, 1 changed, 0 unchanged",
        f"agg_shipments {day}: tt_late_shipments 1 → 0",
    ]
    log = Path(second.log_file or "").read_text()
    assert f"export changes agg_shipments {day}: tt_late_shipments 1 → 0" in log
    # Export again with nothing new: no change anywhere.
    with env.open() as services:
        assert all(not (c.added or c.removed or c.changed) for c in preview_changes(services))


def test_a_check_that_does_not_pass_keeps_up_to_50_keys_and_a_query_of_its_rows(env: Env):
    unknown = [(i, 1, "2022-06-01", 99 if i % 2 else 1, 10, 1) for i in range(1, 121)]  # 60 orders of product 99
    put_dataset(env, orders=unknown, reviews=[(5, 1), (1, 77)], shipments=[(1, 1, "2022-06-02", "2022-06-03")])
    with env.open() as services:
        summary = run_pipeline(services, stages=("prepare", "staging"))
    staging = next(s for s in summary.stages if s.stage == "staging")
    product = next(c for c in staging.checks if c.name == "orders_product_known")
    assert not product.passed
    assert product.sample_keys == tuple(str(i) for i in range(1, 101, 2))  # the first 50 order ids, in order
    assert product.sample_query is not None
    rows = env.query(product.sample_query)
    assert len(rows) == 50 and {row[3] for row in rows} == {99}  # the offending orders themselves
    reviews = next(c for c in staging.checks if c.name == "reviews_product_known")
    assert reviews.sample_keys == ("77",) and env.query(reviews.sample_query or "") == [(1, 77)]
    passed = next(c for c in staging.checks if c.name == "orders_customer_known")
    assert passed.passed and passed.sample_keys == () and passed.sample_query is None
    # Stored with the run, as the history screen and the checks view read them.
    [(stored,)] = env.query(
        f"SELECT checks FROM {env.user_id}_staging.console_stage_runs WHERE run_id = %s AND stage = 'staging'",
        (summary.run_id,),
    )
    kept = next(c for c in stored if c["name"] == "orders_product_known")
    assert kept["sample_keys"] == list(product.sample_keys) and kept["sample_query"] == product.sample_query
