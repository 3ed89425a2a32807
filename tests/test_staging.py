"""Staging accepts what real CSVs look like and rejects bad input with a clear error, losing nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from etl_core.events import Event, LogLine
from helpers import SharedLoad, assert_succeeded, run, staging_checksums
from support import ORDERS_HEADER, REVIEWS_HEADER, SHIPMENTS_HEADER, Env, create_dims, put_dataset

STAGING = ("prepare", "staging")


def staged(env: Env, table: str) -> list[tuple[Any, ...]]:
    return env.query(f'SELECT * FROM "{env.user_id}_staging".{table} ORDER BY 1, 2')


def test_accepts_crlf_bom_quotes_empty_dates_and_any_column_order(make_env):
    env = make_env()
    create_dims(env)
    crlf_orders = (ORDERS_HEADER + '1,2,"2022-01-05",3,"10",2,20\n').replace("\n", "\r\n")
    env.put("orders.csv", b"\xef\xbb\xbf" + crlf_orders.encode())
    env.put("reviews.csv", 'product_id,review\r\n"7",5\r\n8,"1"')  # reordered columns, no final newline
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "1,1,,\n2,1,2022-01-06,\n")
    summary = run(env, STAGING)
    assert_succeeded(summary)
    assert staged(env, "orders") == [(1, 2, date(2022, 1, 5), 3, 10, 2, 20)]
    assert staged(env, "reviews") == [(1, 8), (5, 7)]
    assert staged(env, "shipment_deliveries") == [(1, 1, None, None), (2, 1, date(2022, 1, 6), None)]
    assert summary.stages[1].rows == 5


def test_a_header_only_file_fails_a_blocking_check_unless_empty_files_are_allowed(make_env):
    env = make_env(allow_empty_files=False)  # the shipped default
    create_dims(env)
    env.put("orders.csv", ORDERS_HEADER)
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n")
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER)
    summary = run(env)
    assert [s.status for s in summary.stages] == ["succeeded", "failed", "skipped", "skipped"]
    checks = {c.name: c for c in summary.stages[1].checks}
    assert checks["orders_has_rows"].blocking and checks["shipment_deliveries_has_rows"].blocking
    assert checks["reviews_has_rows"].passed
    assert summary.stages[1].error == (
        "checks failed: orders: orders_data/orders.csv has no data rows (a header only), so analytics and export "
        "would report an empty day; upload the day's file, or set allow_empty_files = true in [source] if empty "
        "files are expected; shipment_deliveries: orders_data/shipment_deliveries.csv has no data rows (a header "
        "only), so analytics and export would report an empty day; upload the day's file, or set allow_empty_files "
        "= true in [source] if empty files are expected"
    )
    assert env.query(f'SELECT count(*) FROM "{env.user_id}_analytics".agg_shipments') == [(0,)]  # nothing exported

    env.config_path.write_text(
        env.config_path.read_text().replace("allow_empty_files = false", "allow_empty_files = true")
    )
    env.put("reviews.csv", REVIEWS_HEADER.strip())  # no newline after the header either
    summary = run(env, STAGING)
    assert_succeeded(summary)
    assert staged(env, "orders") == [] and staged(env, "reviews") == []
    assert {c.name: c.detail for c in summary.stages[1].checks}["orders_has_rows"] == (
        "orders: orders_data/orders.csv has no data rows, allowed by [source] allow_empty_files"
    )


def test_brief_spelling_of_the_shipments_file_is_accepted_and_the_real_name_wins(make_env):
    env = make_env()
    create_dims(env)
    env.put("orders.csv", ORDERS_HEADER + "1,1,2022-01-01,1,10,1,10\n")
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n")
    env.put("shipments_deliveries.csv", SHIPMENTS_HEADER + "7,1,,\n")
    summary = run(env, STAGING)
    assert_succeeded(summary)
    assert staged(env, "shipment_deliveries") == [(7, 1, None, None)]
    assert summary.stages[1].details["shipment_deliveries"]["key"] == "orders_data/shipments_deliveries.csv"
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "8,1,,\n")
    events: list[Event] = []
    assert_succeeded(run(env, STAGING, sink=events.append))
    assert staged(env, "shipment_deliveries") == [(8, 1, None, None)]
    warnings = [e.message for e in events if isinstance(e, LogLine) and e.level == "WARNING"]
    assert warnings == [
        (
            f"s3://{env.bucket}/orders_data/shipments_deliveries.csv is ignored: "
            "orders_data/shipment_deliveries.csv is loaded instead (when both spellings exist the first "
            "one wins); delete the one you do not mean"
        )
    ]


BAD_ORDERS = {
    "missing column": (
        ORDERS_HEADER.replace(",total_price", "") + "1,1,2022-01-01,1,10,1\n",
        ["line 1 (header)", "missing column(s): total_price"],
    ),
    "unknown column": (
        ORDERS_HEADER.strip() + ",coupon\n1,1,2022-01-01,1,10,1,10,x\n",
        ["line 1 (header)", "unknown column(s): 'coupon' (column 8)"],
    ),
    "bad date": (
        ORDERS_HEADER + "1,1,2022-01-01,1,10,1,10\n2,1,2022-02-30,1,10,1,10\n",
        ["line 3, column order_date (field 3)", "2022-02-30"],
    ),
    "non-integer": (ORDERS_HEADER + "1,1,2022-01-01,1,10.5,1,10\n", ["line 2, column unit_price (field 5)", "10.5"]),
    "duplicate order_id": (
        ORDERS_HEADER + "5,1,2022-01-01,1,10,1,10\n5,1,2022-01-02,1,10,1,10\n",
        ["line 3", "column order_id", "duplicate key", "'5'"],
    ),
    "empty object": ("", ["is empty (0 bytes"]),
    "wrong delimiter": (
        ORDERS_HEADER.replace(",", ";") + "1;1;2022-01-01;1;10;1;10\n",
        ["line 1 (header)", "does not look comma separated"],
    ),
    "too many fields": (
        ORDERS_HEADER + "1,1,2022-01-01,1,10,1,10,99\n",
        ["line 2", "extra data after last expected column"],
    ),
    "too few fields": (ORDERS_HEADER + "1,1,2022-01-01,1,10,1\n", ["line 2", "missing data for column"]),
    "unterminated quote": (ORDERS_HEADER + '1,1,"2022-01-01,1,10,1,10\n', ["unterminated CSV quoted field"]),
    "invalid utf-8": (
        ORDERS_HEADER.encode() + b"1,1,2022-01-01,1,10,1,10\n2,\xff\xfe,2022-01-01,1,10,1,10\n",
        ["line 3, column customer_id (field 2)", "invalid UTF-8 byte 0xff", "value '\\xff\\xfe'"],
    ),
    "negative quantity": (
        ORDERS_HEADER + "1,1,2022-01-01,1,10,-2,10\n",
        ["line 2, column quantity (field 6)", "quantity_positive"],
    ),
    "date out of range": (
        ORDERS_HEADER + "1,1,0900-01-01,1,10,1,10\n",
        ["line 2, column order_date (field 3)", "order_date_in_range"],
    ),
    "huge field": (
        ORDERS_HEADER + "1,1,2022-01-01,1," + "9" * 10_000_000 + ",1,10\n",
        ["line 2, column unit_price (field 5)", "..."],
    ),
}


@pytest.fixture(scope="module")
def good_load(make_module_env: Callable[..., Env]) -> SharedLoad:
    """One environment for the tests below: a good load, which each failed load must leave as it was."""
    env = make_module_env()
    create_dims(env)
    return SharedLoad(
        env, lambda e: put_dataset(e, [(1, 1, "2022-01-01", 1, 10, 1), (2, 1, "2022-01-02", 2, 20, 2)], [(5, 1)], [])
    )


@pytest.fixture
def loaded(good_load: SharedLoad) -> tuple[Env, dict[str, str]]:
    return good_load.fresh()


@pytest.mark.parametrize("case", sorted(BAD_ORDERS))
def test_bad_orders_file_is_rejected_clearly_and_previous_rows_stay(loaded, case):
    env, before = loaded
    body, expected = BAD_ORDERS[case]
    env.put("orders.csv", body)
    summary = run(env, STAGING)
    staging = summary.stages[1]
    assert (summary.status, staging.status) == ("failed", "failed")
    assert "orders_data/orders.csv" in (staging.error or "")
    for fragment in expected:
        assert fragment in (staging.error or ""), staging.error
    assert len(staging.error or "") < 1000  # a 10 MB value is never echoed in full
    assert staging_checksums(env) == before


def test_review_out_of_range_is_rejected_with_the_rule_and_line(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env, STAGING))
    env.put("reviews.csv", REVIEWS_HEADER + "4,1\n7,2\n")
    summary = run(env, STAGING)
    assert "orders_data/reviews.csv: line 3, column review (field 1): value breaks the rule review_between_1_and_5" in (
        summary.stages[1].error or ""
    )
    assert staged(env, "reviews") == [(5, 1)]


def test_missing_source_object_names_both_accepted_spellings(make_env):
    env = make_env()
    create_dims(env)
    env.put("orders.csv", ORDERS_HEADER)
    env.put("reviews.csv", REVIEWS_HEADER)
    summary = run(env, STAGING)
    error = summary.stages[1].error or ""
    assert "shipment_deliveries.csv or orders_data/shipments_deliveries.csv was not found" in error


def test_row_count_reconciliation_handles_fully_quoted_files(make_env):
    env = make_env()
    create_dims(env)
    env.put(
        "orders.csv", ORDERS_HEADER + '"1","1","2022-01-01","1","10","1","10"\n"2","1","2022-01-01","1","10","1","10"\n'
    )
    env.put("reviews.csv", REVIEWS_HEADER + '5,"1"\n')
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + '1,"1",,\n')
    summary = run(env, STAGING)
    assert_succeeded(summary)
    checks = {c.name: c for c in summary.stages[1].checks}
    assert checks["orders_rows_match_file"].detail == "orders: 2 rows loaded, 2 data rows in orders_data/orders.csv"
    assert checks["shipment_deliveries_rows_match_file"].passed


def test_key_checks_count_rows_when_no_primary_key_proves_them(env):
    from etl_core.checks import STAGING_CHECKS, run_checks

    assert_succeeded(run(env, STAGING))
    schema = f'"{env.user_id}_staging"'
    env.execute(
        f"ALTER TABLE {schema}.orders DROP CONSTRAINT orders_pkey; "
        f"INSERT INTO {schema}.orders VALUES (1, 1, '2022-01-03', 1, 100, 2, 200)"
    )
    conn = __import__("psycopg2").connect(env.pg_uri)
    try:
        with conn.cursor() as cur:
            outcomes = {c.name: c for c in run_checks(cur, env.config, STAGING_CHECKS)}
    finally:
        conn.close()
    assert outcomes["orders_key_unique"].blocking
    assert outcomes["orders_key_unique"].detail == "order_id is unique and not null: 1 violation(s)"
    assert outcomes["shipments_key_unique"].passed


def test_one_bad_file_leaves_every_staging_table_as_it_was(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-01", 1, 10, 1)], [(5, 1)], [(7, 1, None, None)])
    assert_succeeded(run(env, STAGING))
    before = {table: staged(env, table) for table in ("orders", "reviews", "shipment_deliveries")}
    # Two good files that load at the same time as the bad one, on their own connections.
    env.put("orders.csv", ORDERS_HEADER + "2,1,2022-01-02,1,10,1,10\n3,1,2022-01-03,1,10,1,10\n")
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "8,2,,\n")
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n6,1\n")
    summary = run(env, STAGING)
    assert summary.stages[1].status == "failed"
    assert (summary.stages[1].error or "").startswith("orders_data/reviews.csv: line 3, column review (field 1)")
    assert "reviews and the other staging tables keep their previous rows" in (summary.stages[1].error or "")
    assert {table: staged(env, table) for table in before} == before
    leftovers = env.query("SELECT tablename FROM pg_tables WHERE tablename LIKE %s", ("%\\_\\_load",))
    assert leftovers == []
