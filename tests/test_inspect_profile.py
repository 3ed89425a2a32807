"""Column profiles whose numbers the tests compute on their own: tables and results in SQL, S3 samples in pandas."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from etl_core.browse import PREVIEW_BYTES
from etl_core.inspect.catalog import Catalog
from etl_core.inspect.object_sample import read_sample
from etl_core.inspect.profile import profile_result, profile_sample, profile_table
from etl_core.inspect.session import ReadOnlySession
from etl_core.inspect.table_view import Equals, TableView

ROWS = 5_000


def generated_rows() -> list[tuple[Any, ...]]:
    chooser = random.Random(7)
    rows = []
    for i in range(1, ROWS + 1):
        product = chooser.choice([None, *range(1, 16)]) if i % 11 else None
        rows.append((i, product, chooser.random() < 0.3, date(2022, 1, 1) + timedelta(days=chooser.randrange(60))))
    return rows


def expected_profile(values: list[Any]) -> tuple[Any, ...]:
    counts = Counter(values)
    present = [v for v in values if v is not None]
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is not None, kv[0] if kv[0] is not None else 0))[:10]
    return (
        len(values),
        counts[None],
        len(set(present)),
        min(present),
        max(present),
        [(value, n, n / len(values)) for value, n in top],
    )


def as_tuple(profile) -> tuple[Any, ...]:
    return (
        profile.rows,
        profile.nulls,
        profile.distinct,
        profile.min_value,
        profile.max_value,
        [(t.value, t.count, t.share) for t in profile.top],
    )


@pytest.fixture
def table(make_env):
    env = make_env()
    schema = f"{env.user_id}_staging"
    rows = generated_rows()
    env.execute(f"""CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".orders (order_id int PRIMARY KEY, product_id int, paid boolean, order_date date)""")
    env.execute(
        f'INSERT INTO "{schema}".orders SELECT * FROM unnest(%s::int[], %s::int[], %s::bool[], %s::date[])',
        tuple(list(column) for column in zip(*rows, strict=True)),
    )
    with env.open() as services, ReadOnlySession(services) as session:
        catalog = Catalog(services)
        yield env, services, session, catalog, schema, rows
        catalog.close()


def test_a_table_column_profile_matches_an_independent_count(table):
    _env, _services, session, catalog, schema, rows = table
    profile = profile_table(session, catalog, TableView(schema, "orders"), "product_id")
    assert as_tuple(profile) == expected_profile([r[1] for r in rows])
    assert profile.top[0].value is None  # NULL is a value like any other in the frequency list
    assert profile.scope == f"all 5,000 rows of {schema}.orders" and profile.method == "SQL over the table"
    assert profile.type_name == "integer" and not profile.as_text
    dates = profile_table(session, catalog, TableView(schema, "orders"), "order_date")
    assert as_tuple(dates) == expected_profile([r[3] for r in rows])


def test_a_filtered_view_is_profiled_over_the_rows_it_keeps(table):
    _env, _services, session, catalog, schema, rows = table
    view = TableView(schema, "orders").where(Equals("product_id", 3))
    profile = profile_table(session, catalog, view, "order_date")
    assert as_tuple(profile) == expected_profile([r[3] for r in rows if r[1] == 3])
    assert profile.scope.endswith(f"rows of {schema}.orders where product_id = 3")


def test_a_type_without_min_or_max_is_profiled_as_text_and_says_so(table):
    _env, _services, session, catalog, schema, rows = table
    profile = profile_table(session, catalog, TableView(schema, "orders"), "paid")
    assert profile.as_text
    assert as_tuple(profile) == expected_profile(["true" if r[2] else "false" for r in rows])


def test_a_query_result_is_profiled_by_sql_around_the_query_even_with_duplicate_names(table):
    _env, _services, session, _catalog, schema, rows = table
    result = session.run(f"""-- the operator's text, several lines and comments
        SELECT a.order_id, b.product_id, a.product_id -- two columns named product_id
        FROM "{schema}".orders a
        JOIN "{schema}".orders b ON b.order_id = a.order_id + 1 -- the next order
        """)
    profile = profile_result(session, result, 1)
    by_id = {r[0]: r for r in rows}
    assert as_tuple(profile) == expected_profile([by_id[i + 1][1] for i in range(1, ROWS)])
    assert profile.scope == "all 4,999 rows of the query result" and "SQL around the query" in profile.method


def test_an_s3_sample_is_profiled_with_pandas_over_the_ranged_read_and_says_so(env):
    chooser = random.Random(3)
    lines = ["order_id,customer_id,order_date,product_id,unit_price,quantity,total_price"]
    for i in range(1, 12_001):
        quantity = "" if i % 13 == 0 else str(chooser.randint(1, 9))
        lines.append(f"{i},{i % 50},2022-01-{i % 28 + 1:02d},{i % 7},10,{quantity},20")
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > PREVIEW_BYTES
    env.put("orders.csv", body)
    # The sample, computed here: the first PREVIEW_BYTES, cut after the last complete line.
    head = body[:PREVIEW_BYTES]
    sampled = list(csv.reader(io.StringIO(head[: head.rfind(b"\n") + 1].decode())))[1:]
    quantities = [int(r[5]) if r[5] else None for r in sampled]
    with env.open() as services:
        sample = read_sample(services, env.bucket, "orders_data/orders.csv")
        profile = profile_sample(sample, "quantity")
    assert as_tuple(profile) == expected_profile(quantities)
    assert profile.type_name == "float64"  # pandas' view of an integer column with empty fields
    assert profile.scope == (
        f"the first {len(sampled):,} rows of s3://{env.bucket}/orders_data/orders.csv "
        f"(a sample: its first {len(sample.data) // 1024} KB of {len(body):,} bytes)"
    )
    assert profile.method == "pandas over the ranged sample"


def test_a_small_object_is_profiled_whole(env):
    with env.open() as services:
        sample = read_sample(services, env.bucket, "orders_data/reviews.csv")
        profile = profile_sample(sample, "review")
    assert (profile.rows, profile.distinct, profile.min_value, profile.max_value) == (3, 3, 3, 5)
    assert profile.scope == f"all 3 rows of s3://{env.bucket}/orders_data/reviews.csv"


def test_a_profile_over_no_rows_says_so(table):
    _env, _services, session, catalog, schema, _rows = table
    view = TableView(schema, "orders").where(Equals("product_id", 999))
    profile = profile_table(session, catalog, view, "order_date")
    assert as_tuple(profile) == (0, 0, 0, None, None, [])
    assert profile.scope == f"no rows of {schema}.orders where product_id = 999"
