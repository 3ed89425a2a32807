"""Paged results: random access to any page of 100,000 rows, a bounded window in memory, honest captions."""

from __future__ import annotations

import pytest

from etl_core.inspect.benchmark import measure_paging
from etl_core.inspect.session import ReadOnlySession

ROWS = 100_000


@pytest.fixture
def big_table(make_env):
    env = make_env()
    schema = f"{env.user_id}_staging"
    env.execute(f"""CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".big AS SELECT g AS id, g % 7 AS bucket, md5(g::text) AS label
        FROM generate_series(1, {ROWS}) AS g ORDER BY random();
        ALTER TABLE "{schema}".big ADD PRIMARY KEY (id);""")
    with env.open() as services:
        yield env, services, schema


def test_paging_through_100000_rows_with_random_access_and_a_bounded_window(big_table):
    env, services, schema = big_table
    first_pages = []
    with ReadOnlySession(services, page_size=200, window_pages=3) as session:
        result = session.run(
            f'SELECT id, label FROM "{schema}".big ORDER BY id',
            on_first_page=lambda columns, page: first_pages.append((columns, page)),
        )
        assert result.total_rows == ROWS and result.rows.page_count == 500
        columns, early = first_pages[0]
        assert [c.name for c in columns] == ["id", "label"] and early.total_rows is None  # shown before counting
        assert [r[0] for r in early.rows] == list(range(1, 201))

        page = result.rows.page(250)
        assert page.caption == "rows 50,001–50,200 of 100,000"
        assert [r[0] for r in page.rows] == list(range(50_001, 50_201))
        expected = dict(env.query(f'SELECT id, label FROM "{schema}".big WHERE id BETWEEN 50001 AND 50200'))
        assert dict(page.rows) == expected

        last = result.rows.page(499)
        assert last.caption == "rows 99,801–100,000 of 100,000" and last.rows[-1][0] == ROWS
        # Forwards, far back (from the top again), forwards, a little back (read backwards).
        for number in (10, 400, 3, 250, 77, 498, 497):
            assert [r[0] for r in result.rows.page(number).rows] == list(range(number * 200 + 1, number * 200 + 201))
        assert result.rows.cached_pages == [77, 498, 497]  # the window: three pages, most recent last
        assert [r[0] for r in result.rows.rows(199_90, 200_10)] == list(range(19_991, 20_011))  # across a page edge
        with pytest.raises(IndexError, match="page 501 does not exist: the result has 500 page"):
            result.rows.page(500)


def test_the_benchmark_hook_measures_paging_and_finds_nothing_held_between_fetches(big_table):
    _env, services, schema = big_table
    measured = measure_paging(services, f'SELECT * FROM "{schema}".big', sequential_pages=5, random_pages=5)
    assert measured.total_rows == ROWS
    assert len(measured.sequential_fetch_s) == 5 and len(measured.random_fetch_s) == 5
    assert measured.relation_locks_between_fetches == 0 and measured.snapshot_between_fetches is False
    assert 0 < measured.first_page_s <= measured.counted_s
    assert set(measured.summary()) == {
        "first_page_ms",
        "counted_ms",
        "sequential_median_ms",
        "random_median_ms",
        "worst_fetch_ms",
    }
