"""Every analytics decision (README "Decisions and why", docs/DATA.md) on hand-made data whose answers are
stated literally."""

from __future__ import annotations

from datetime import date

import pytest

from helpers import assert_succeeded, row, run
from support import create_dims, put_dataset


def test_public_holidays_per_month_in_the_rolling_year(make_env):
    # as_of 2022-09-06 (Tue): the window is 2021-09-06 < order_date <= 2022-09-06.
    env = make_env(as_of_date="2022-09-06")
    create_dims(
        env, holidays=("2021-09-06", "2021-09-07", "2021-12-25", "2022-01-03", "2022-05-02", "2022-09-06", "2022-09-07")
    )
    orders = [
        (1, 1, "2021-09-06", 1, 10, 1),  # holiday Monday on the window's open edge: excluded
        (2, 1, "2021-09-07", 1, 10, 1),  # holiday Tuesday just inside: sep
        (3, 1, "2022-01-03", 1, 10, 1),  # holiday Monday: jan
        (4, 2, "2022-01-03", 2, 10, 1),  # second order that day: jan
        (5, 1, "2022-05-02", 1, 10, 1),  # holiday Monday: may
        (6, 1, "2022-09-06", 1, 10, 1),  # holiday on as_of_date, the closed edge: sep
        (7, 1, "2022-09-07", 1, 10, 1),  # holiday after as_of_date: excluded
        (8, 1, "2021-12-25", 1, 10, 1),  # holiday on a Saturday: not a public holiday
        (9, 1, "2022-01-02", 1, 10, 1),  # Sunday, working_day false: not a public holiday
        (10, 1, "2022-03-01", 1, 10, 1),  # ordinary Tuesday
    ]
    put_dataset(env, orders, reviews=[(5, 1)], shipments=[])
    assert_succeeded(run(env, ("prepare", "staging", "analytics")))
    #                              jan feb mar apr may jun jul aug sep oct nov dec
    assert row(env, "agg_public_holiday") == (2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0)


def test_late_and_undelivered_shipments(make_env):
    env = make_env()  # as_of 2022-09-05
    create_dims(env)
    orders = [
        (i, 1, d, 1, 10, 1)
        for i, d in [
            (1, "2022-01-01"),
            (2, "2022-01-01"),
            (3, "2022-01-01"),
            (4, "2022-01-01"),
            (5, "2022-08-21"),
            (6, "2022-08-22"),
            (7, "2022-01-01"),
        ]
    ]
    shipments = [
        (101, 1, "2022-01-07", None),  # shipped exactly 6 days later, not delivered: late
        (102, 2, "2022-01-06", None),  # 5 days: not late
        (103, 3, "2022-01-08", "2022-01-09"),  # 7 days but delivered: not late
        (104, 4, "2022-01-08", None),  # 7 days, not delivered: late
        (105, 5, None, None),  # order + 15 days = as_of_date: undelivered
        (106, 6, None, None),  # order + 15 days = as_of_date + 1: not yet
        (107, 7, None, "2022-01-10"),  # delivered without a shipment date: neither
        (108, 999, None, None),  # no such order: matched on order_id, so not counted
    ]
    put_dataset(env, orders, reviews=[(5, 1)], shipments=shipments)
    summary = run(env, ("prepare", "staging", "analytics"))
    assert_succeeded(summary)
    assert row(env, "agg_shipments") == (2, 1)
    warnings = {c.name: c for c in summary.stages[1].checks}
    assert not warnings["shipments_order_known"].passed  # the orphan shipment is reported as a WARN
    assert warnings["shipments_order_known"].severity == "WARN"


def _best_product_dataset(env):
    create_dims(env, holidays=("2022-03-01",), products={1: "alpha", 2: "beta", 3: "gamma"})
    orders = [
        (1, 1, "2022-03-01", 1, 10, 1),
        (2, 1, "2022-03-01", 1, 10, 1),
        (3, 1, "2022-03-02", 1, 10, 1),
        (4, 1, "2022-03-02", 1, 10, 1),
        (5, 1, "2022-03-03", 1, 10, 1),
        (6, 1, "2022-03-04", 2, 10, 1),
    ]
    shipments = [
        (1, 1, "2022-03-03", "2022-03-04"),  # 2 days: early
        (2, 2, "2022-03-07", None),  # 6 days, not delivered: late
        (3, 3, "2022-03-10", "2022-03-11"),  # 8 days but delivered: neither
        (4, 4, None, None),  # not shipped: neither
        (5, 5, "2022-03-04", None),  # 1 day: early
        (6, 6, "2022-03-05", None),  # product 2
    ]
    # product 1: 4 reviews worth 5 points; product 2: 3 reviews worth 15 points.
    reviews = [(1, 1), (1, 1), (1, 1), (2, 1), (5, 2), (5, 2), (5, 2)]
    put_dataset(env, orders, reviews, shipments)


def test_best_product_by_review_count(make_env):
    env = make_env(best_product_by="review_count")
    _best_product_dataset(env)
    assert_succeeded(run(env, ("prepare", "staging", "analytics")))
    assert row(env, "best_performing_product") == (
        "alpha",
        date(2022, 3, 1),
        True,
        5,  # most ordered day: 03-01 and 03-02 tie at 2, the earliest wins
        75.0,
        25.0,
        0.0,
        0.0,
        0.0,
        66.67,
        33.33,
    )


def test_best_product_by_review_points(make_env):
    env = make_env(best_product_by="review_points")
    _best_product_dataset(env)
    assert_succeeded(run(env, ("prepare", "staging", "analytics")))
    # beta: one order on 2022-03-04 (a Friday, working day); its only shipment is early.
    assert row(env, "best_performing_product") == (
        "beta",
        date(2022, 3, 4),
        False,
        15,
        0.0,
        0.0,
        0.0,
        0.0,
        100.0,
        100.0,
        0.0,
    )


@pytest.mark.parametrize(
    "best_by, reviews, expected_name",
    [
        # count tie (2 each): more points wins
        ("review_count", [(1, 1), (1, 1), (5, 2), (4, 2)], "beta"),
        # count and points tie (2 reviews, 6 points): lower product_id wins
        ("review_count", [(3, 3), (3, 3), (4, 2), (2, 2)], "beta"),
        # points tie (10 each): more reviews wins
        ("review_points", [(5, 1), (5, 1), (4, 2), (3, 2), (3, 2)], "beta"),
        # points and count tie: lower product_id wins
        ("review_points", [(5, 3), (5, 3), (5, 2), (5, 2)], "beta"),
    ],
)
def test_best_product_ties(make_env, best_by, reviews, expected_name):
    env = make_env(best_product_by=best_by)
    create_dims(env, products={1: "alpha", 2: "beta", 3: "gamma"})
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], reviews, [])
    assert_succeeded(run(env, ("prepare", "staging", "analytics")))
    assert row(env, "best_performing_product")[0] == expected_name


def test_best_product_without_early_or_late_shipments_and_on_a_sunday(make_env):
    env = make_env()
    create_dims(env, products={1: "alpha"})
    # 2022-01-02 is a Sunday (working_day false): most ordered day, but not a public holiday.
    orders = [(1, 1, "2022-01-02", 1, 10, 1), (2, 1, "2022-01-02", 1, 10, 1), (3, 1, "2022-01-04", 1, 10, 1)]
    shipments = [(1, 1, None, None), (2, 2, "2022-01-10", "2022-01-11")]  # neither early nor late
    put_dataset(env, orders, [(5, 1), (5, 1), (4, 1)], shipments)
    assert_succeeded(run(env, ("prepare", "staging", "analytics")))
    assert row(env, "best_performing_product") == (
        "alpha",
        date(2022, 1, 2),
        False,
        14,
        0.0,
        0.0,
        0.0,
        33.33,
        66.67,
        0.0,
        0.0,
    )


def test_rerun_same_day_replaces_the_row_and_new_day_adds_one(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [(1, 1, "2022-03-02", None)])
    assert_succeeded(run(env))
    tables = ("agg_public_holiday", "agg_shipments", "best_performing_product")
    first = {t: env.query(f'SELECT * FROM "{env.user_id}_analytics".{t} ORDER BY 1') for t in tables}
    assert_succeeded(run(env))
    second = {t: env.query(f'SELECT * FROM "{env.user_id}_analytics".{t} ORDER BY 1') for t in tables}
    assert first == second
    assert all(len(rows) == 1 for rows in second.values())
    env.rewrite_config(ingestion_date="2022-09-07")
    assert_succeeded(run(env))
    dates = env.query(f'SELECT ingestion_date FROM "{env.user_id}_analytics".agg_shipments ORDER BY 1')
    assert dates == [(date(2022, 9, 6),), (date(2022, 9, 7),)]


def test_one_failing_table_leaves_all_three_as_they_were(make_env):
    # The three queries run at once on their own connections; they commit together or not at all.
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [(1, 1, "2022-03-02", None)])
    assert_succeeded(run(env))
    tables = ("agg_public_holiday", "agg_shipments", "best_performing_product")
    before = {t: env.query(f'SELECT * FROM "{env.user_id}_analytics".{t} ORDER BY 1') for t in tables}
    put_dataset(
        env,
        [(1, 1, "2022-03-01", 1, 10, 1), (2, 1, "2022-01-03", 1, 10, 1)],
        [(5, 1)],
        [(1, 1, None, None), (2, 2, "2022-01-20", None)],
    )
    assert_succeeded(run(env, ("staging",)))
    # Only best_performing_product reads product_name: a view whose product_name fails when read (the
    # preflight sees every table and column in place) makes that one query fail.
    dims = f'"{env.dims_schema}"'
    env.execute(
        f"ALTER TABLE {dims}.dim_products RENAME TO dim_products_table; CREATE VIEW {dims}.dim_products AS "
        f"SELECT product_id, product_category, (product_name || 1 / (product_id - product_id))::varchar "
        f"AS product_name FROM {dims}.dim_products_table"
    )
    summary = run(env, ("analytics",))
    assert summary.stages[0].status == "failed"
    error = summary.stages[0].error or ""
    assert error.startswith("best_performing_product: division by zero"), error
    after = {t: env.query(f'SELECT * FROM "{env.user_id}_analytics".{t} ORDER BY 1') for t in tables}
    assert after == before
