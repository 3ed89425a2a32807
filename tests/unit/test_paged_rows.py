"""Paged rows in memory: the window keeps the most recently used pages; captions say where you are
(tests/test_inspect_paging.py pages through a real result)."""

from __future__ import annotations

import pytest

from etl_core.inspect.paging import InMemoryRows, PagedRows, rows_caption


def test_the_window_evicts_the_least_recently_used_page():
    fetched = []

    class Counting(InMemoryRows):
        def fetch(self, start, count):
            fetched.append(start)
            return super().fetch(start, count)

    rows = PagedRows(Counting([(i,) for i in range(100)]), 100, page_size=10, window_pages=2)
    rows.page(0)
    rows.page(1)
    rows.page(0)  # 0 becomes the most recent: 1 is evicted next
    rows.page(2)
    assert rows.cached_pages == [0, 2]
    rows.page(1)
    assert fetched == [0, 10, 20, 10]
    with pytest.raises(ValueError, match="at most 20 rows at once"):
        rows.rows(0, 21)


@pytest.mark.parametrize(
    "start, stop, total, caption",
    [
        (0, 200, 1_000_000, "rows 1–200 of 1,000,000"),
        (200_000, 200_200, 1_000_000, "rows 200,001–200,200 of 1,000,000"),
        (0, 0, 0, "no rows"),
        (0, 200, None, "rows 1–200 (counting…)"),
    ],
)
def test_captions_say_where_you_are(start, stop, total, caption):
    assert rows_caption(start, stop, total) == caption
