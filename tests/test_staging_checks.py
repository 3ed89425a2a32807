"""The staging checks' verdicts on hand-made files: counts, samples and keys of what does not pass, and a clean day."""

from __future__ import annotations

from helpers import assert_succeeded, run
from support import create_dims, put_dataset

ORDERS = [(i, 1, "2022-01-01", 1, 10, 1) for i in range(1, 6)]


def _checks(env):
    summary = run(env, ("prepare", "staging"))
    assert_succeeded(summary)
    return {c.name: c for c in summary.stages[1].checks}


def test_shipments_without_an_order_and_several_per_order_are_counted_and_named(make_env):
    env = make_env()
    create_dims(env)
    shipments = [
        (101, 1, None, None),
        (102, 1, None, None),
        (103, 1, None, None),  # order 1: three shipments, two extra
        (104, 2, None, None),
        (105, 2, None, None),  # order 2: one extra
        (106, 3, None, None),
        (107, 999, None, None),
        (108, 999, None, None),  # no order 999: two orphans, and one extra
        (109, 998, None, None),  # no order 998
    ]
    put_dataset(env, ORDERS, reviews=[(5, 1)], shipments=shipments)
    checks = _checks(env)
    orphans, extra = checks["shipments_order_known"], checks["shipments_one_per_order"]
    assert not orphans.passed and orphans.severity == "WARN"
    assert orphans.detail == "every shipment's order_id has an order: 3 violation(s) (e.g. {998,999})"
    assert orphans.sample_keys == ("998", "999")
    assert not extra.passed and extra.severity == "WARN"
    assert extra.detail == "at most one shipment per order: 4 violation(s) (e.g. {1,2,999})"
    assert extra.sample_keys == ("1", "2", "999")
    assert extra.sample_query is not None and "ANY" in extra.sample_query
    assert env.query(extra.sample_query)[0][:2] == (101, 1)  # the SQL pane's statement runs as it is


def test_an_order_whose_total_is_not_price_times_quantity_is_named(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, ORDERS, reviews=[(5, 1)], shipments=[(101, 1, None, None)])
    body = "".join(f"{o},{c},{d},{p},{u},{q},{u * q + (1 if o in (2, 4) else 0)}\n" for o, c, d, p, u, q in ORDERS)
    env.put("orders.csv", "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n" + body)
    price = _checks(env)["orders_total_price"]
    assert not price.passed
    assert price.detail == "total_price = unit_price * quantity: 2 violation(s) (e.g. {2,4})"
    assert price.sample_keys == ("2", "4")


def test_a_clean_day_passes_every_staging_check(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, ORDERS, reviews=[(5, 1)], shipments=[(100 + i, i, None, None) for i in range(1, 6)])
    checks = _checks(env)
    staging_checks = [
        "orders_key_unique",
        "shipments_key_unique",
        "orders_product_known",
        "orders_customer_known",
        "order_dates_known",
        "orders_total_price",
        "reviews_product_known",
        "shipments_order_known",
        "shipments_one_per_order",
    ]
    for name in staging_checks:
        assert checks[name].passed, checks[name].detail
        assert checks[name].detail.endswith(": ok") and checks[name].sample_keys == ()
