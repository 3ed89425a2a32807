"""The S3 preview flags exactly what staging refuses: every bad input of the README's failure table, run
through both (staging's reader and checks are the preview's: etl_core.stages.staging.file_check)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from test_every_bad_record import FOUR_BAD, orders_with
from test_hostile_files import CORPUS, GOOD, with_line

from etl_core.inspect.object_sample import read_sample
from etl_core.inspect.object_types import check_object_types
from helpers import assert_succeeded, run
from support import ORDERS_HEADER, Env, create_dims, put_dataset

STAGING = ("prepare", "staging")

CASES: dict[str, str | bytes] = {
    **{name: body for name, (body, _start) in CORPUS.items()},
    **{
        f"date {text!r}": orders_with({3: f"2,1,{text},1,10,1,10\n"})
        for text in ("today", "5 Sep 22", "20220905", "2022-9-5", "epoch", "J2459828", '"2022-01-01 "')
    },
    "a quote inside an unquoted field (Python's csv reads it, COPY does not)": with_line(
        5, '4,1,2022-01-04,1,ab"c,1,10\n'
    ),
    "missing column": ORDERS_HEADER.replace(",total_price", "") + "1,1,2022-01-01,1,10,1\n",
    "unknown column": ORDERS_HEADER.strip() + ",coupon\n1,1,2022-01-01,1,10,1,10,x\n",
    "wrong delimiter": ORDERS_HEADER.replace(",", ";") + "1;1;2022-01-01;1;10;1;10\n",
    "too few fields": ORDERS_HEADER + "1,1,2022-01-01,1,10,1\n",
    "an empty quoted integer": ORDERS_HEADER + '1,"",2022-01-01,1,10,1,10\n',
    "several kinds at once": FOUR_BAD,
    "three bad values in one record": ORDERS_HEADER + "1,1,2022-02-30,1,-3,0,10\n2,1,2022-01-01,1,10,1,10\n",
}


@pytest.fixture(scope="module")
def orders_env(make_module_env: Callable[..., Env]) -> Env:
    """One environment for every case (each case is its own test, so the cases spread over the workers)."""
    env = make_module_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env, STAGING))
    return env


@pytest.mark.parametrize("name", ["good", *CASES])
def test_the_preview_flags_exactly_what_staging_refuses(orders_env, name):
    env = orders_env
    env.put("orders.csv", GOOD if name == "good" else CASES[name])
    staging = run(env, STAGING).stages[1]
    if staging.status == "succeeded":
        refused: set[tuple[int, str]] = set()
    elif "rejected" in staging.details:
        refused = {(r["line"], r["column"] or "") for r in staging.details["rejected"][0]["records"]}
    else:  # refused whole, before any record: the header, or not CSV text at all
        refused = {(1, "")}
    with env.open() as services:
        types = check_object_types(services, read_sample(services, env.bucket, "orders_data/orders.csv"))
    flagged = {(b.line, b.column) for b in types.bad_values}
    assert types.bad_value_count == len(flagged)
    assert sorted(refused) == sorted(flagged), staging.error
    if name == "good":
        assert refused == set()
    else:
        assert refused, "a bad input was not refused"
    if name == "three bad values in one record":
        assert sorted(refused) == [(2, "order_date"), (2, "quantity"), (2, "unit_price")]
