"""Strict ISO dates: any date text but YYYY-MM-DD (or empty, where NULL is allowed) fails the file.

PostgreSQL's own date input would store `today` as the run date, `5 Sep 22` as 2005-09-22, and so
on; the loader refuses them with key, line, column and value, and the staging tables keep every row.
The date guard's fast proof on its own is checked in tests/unit/test_date_guard.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from helpers import SharedLoad, assert_succeeded, run, staging_checksums
from support import ORDERS_HEADER, SHIPMENTS_HEADER, Env, create_dims, put_dataset

STAGING = ("prepare", "staging")
# Each is accepted by PostgreSQL's date input (DateStyle ISO, YMD) as some day.
NON_ISO = [
    "today",
    "5 Sep 22",
    "09-05-22",
    "epoch",
    "20220905",
    "2022.09.05",
    '"September 5, 2022"',
    "J2459828",
    "2022-9-5",
    "2022-09-5",
    " 2022-09-05",
    "2022-09-05 ",
    "yesterday",
    "allballs",
    '""',
]


@pytest.fixture(scope="module")
def good_load(make_module_env: Callable[..., Env]) -> SharedLoad:
    """One environment for the tests below: a good load, which each failed load must leave as it was."""
    env = make_module_env()
    create_dims(env)
    return SharedLoad(
        env,
        lambda e: put_dataset(
            e,
            [(1, 1, "2022-01-01", 1, 10, 1), (2, 1, "2022-01-02", 2, 20, 2)],
            [(5, 1)],
            [(1, 1, "2022-01-03", None), (2, 2, None, None)],
        ),
    )


@pytest.fixture
def loaded(good_load: SharedLoad) -> tuple[Env, dict[str, str]]:
    return good_load.fresh()


@pytest.mark.parametrize("text", NON_ISO)
def test_a_non_iso_date_fails_the_file_naming_line_column_and_value(loaded, text):
    env, before = loaded
    env.put("orders.csv", ORDERS_HEADER + "1,1,2022-01-01,1,10,1,10\n" + f"2,1,{text},1,10,1,10\n")
    summary = run(env, STAGING)
    error = summary.stages[1].error or ""
    assert error.startswith(
        f"orders_data/orders.csv: line 3, column order_date (field 3): not an ISO date (YYYY-MM-DD); value '{text}'. "
    ), error  # the field as written, quotes included
    assert "orders and the other staging tables keep their previous rows" in error
    assert staging_checksums(env) == before


@pytest.mark.parametrize(
    "column, row",
    [("shipment_date", "3,1,today,"), ("delivery_date", "3,1,2022-01-03,5 Sep 22"), ("delivery_date", "3,1,,20220905")],
)
def test_nullable_dates_are_strict_too(loaded, column, row):
    env, before = loaded
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "1,1,,\n2,1,2022-01-06,\n" + row + "\n")
    error = run(env, STAGING).stages[1].error or ""
    field = 3 if column == "shipment_date" else 4
    assert error.startswith(
        f"orders_data/shipment_deliveries.csv: line 4, column {column} (field {field}): not an "
        "ISO date (YYYY-MM-DD, or empty for none)"
    ), error
    assert staging_checksums(env) == before


def test_iso_dates_quoted_or_not_crlf_and_empty_still_load(loaded):
    env, _before = loaded
    env.put(
        "orders.csv", (ORDERS_HEADER + '1,1,"2022-01-05",3,10,2,20\n-2,1,2022-12-31,1,5,1,5\n').replace("\n", "\r\n")
    )
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + '1,1,,\n2,1,"2022-01-06",\n3,"1",2022-01-07,2022-01-08')
    assert_succeeded(run(env, STAGING))
    assert env.query(f'SELECT order_id, order_date FROM "{env.user_id}_staging".orders ORDER BY 1') == [
        (-2, date(2022, 12, 31)),
        (1, date(2022, 1, 5)),
    ]
    assert env.query(f'SELECT * FROM "{env.user_id}_staging".shipment_deliveries ORDER BY 1') == [
        (1, 1, None, None),
        (2, 1, date(2022, 1, 6), None),
        (3, 1, date(2022, 1, 7), date(2022, 1, 8)),
    ]


def test_a_bad_date_deep_in_a_big_file_is_found_at_its_line(loaded):
    env, before = loaded
    good = "".join(f"{i},1,2022-01-{1 + i % 28:02d},1,10,1,10\n" for i in range(1, 120_000))
    env.put("orders.csv", ORDERS_HEADER + good + "120000,1,2022-1-1,1,10,1,10\n")  # about 3 MB: several chunks
    error = run(env, STAGING).stages[1].error or ""
    assert error.startswith("orders_data/orders.csv: line 120001, column order_date (field 3): not an ISO date"), error
    assert staging_checksums(env) == before
